//! Patterns and type expressions.

use super::{PResult, Parser};
use crate::ast::*;
use crate::token::TokenKind;

fn pat(kind: PatternKind, span: crate::source::Span) -> Pattern {
    Pattern { kind, span }
}

impl Parser {
    /// A full pattern: or-patterns `a | b`, cons `h :: t`, `p as name`
    /// (case and receive arms).
    pub(crate) fn pattern(&mut self) -> PResult<Pattern> {
        self.nested(|p| p.pattern_with(true, true))
    }

    /// A pattern without top-level `|` or `::` (parameters, `let`, `for`),
    /// where those tokens mean something else. Parenthesise to use them.
    pub(crate) fn pattern_simple(&mut self) -> PResult<Pattern> {
        self.nested(|p| p.pattern_with(false, false))
    }

    fn pattern_with(&mut self, allow_or: bool, allow_cons: bool) -> PResult<Pattern> {
        let first = self.pattern_as(allow_cons)?;
        if !allow_or || !self.at(&TokenKind::Bar) {
            return Ok(first);
        }
        let mut alts = vec![first];
        while self.eat(&TokenKind::Bar) {
            alts.push(self.pattern_as(allow_cons)?);
        }
        let span = alts[0].span.to(alts[alts.len() - 1].span);
        Ok(pat(PatternKind::Or(alts), span))
    }

    fn pattern_as(&mut self, allow_cons: bool) -> PResult<Pattern> {
        let mut p = self.pattern_cons(allow_cons)?;
        while matches!(self.peek(), TokenKind::Ident(n) if n == "as") {
            self.bump();
            let name = self.ident("a name after `as`")?;
            let span = p.span.to(name.span);
            p = pat(PatternKind::As(Box::new(p), name), span);
        }
        Ok(p)
    }

    fn pattern_cons(&mut self, allow_cons: bool) -> PResult<Pattern> {
        let head = self.pattern_primary()?;
        if allow_cons && self.eat(&TokenKind::ColonColon) {
            let tail = self.nested(|p| p.pattern_cons(true))?;
            let span = head.span.to(tail.span);
            return Ok(pat(PatternKind::Cons(Box::new(head), Box::new(tail)), span));
        }
        Ok(head)
    }

    fn pattern_primary(&mut self) -> PResult<Pattern> {
        let span = self.span();
        let kind = match self.peek().clone() {
            TokenKind::Ident(n) if n == "_" => {
                self.bump();
                PatternKind::Wildcard
            }
            TokenKind::Ident(n) if n.starts_with(|c: char| c.is_ascii_uppercase()) => {
                let path = self.path("a constructor")?;
                if self.eat(&TokenKind::LParen) {
                    let args = self.comma_list(&TokenKind::RParen, Parser::pattern)?;
                    PatternKind::Ctor { path, args }
                } else if self.eat(&TokenKind::LBrace) {
                    let fields = self.comma_list(&TokenKind::RBrace, |p| {
                        let name = p.name_or_keyword("a field name")?;
                        if p.eat(&TokenKind::Colon) {
                            Ok((name, p.pattern()?))
                        } else {
                            let bind = Pattern {
                                kind: PatternKind::Var(name.clone()),
                                span: name.span,
                            };
                            Ok((name, bind))
                        }
                    })?;
                    PatternKind::Struct { path, fields }
                } else {
                    PatternKind::Ctor {
                        path,
                        args: Vec::new(),
                    }
                }
            }
            TokenKind::Ident(name) => {
                self.bump();
                PatternKind::Var(Ident { name, span })
            }
            TokenKind::From => {
                self.bump();
                PatternKind::Var(Ident {
                    name: "from".into(),
                    span,
                })
            }
            TokenKind::SelfKw => {
                self.bump();
                PatternKind::Var(Ident {
                    name: "self".into(),
                    span,
                })
            }
            TokenKind::Int(n) => {
                self.bump();
                if n == i64::MIN {
                    self.min_int_unnegated(span);
                }
                PatternKind::Int(n)
            }
            TokenKind::Float(x) => {
                self.bump();
                PatternKind::Float(x)
            }
            TokenKind::Minus => {
                self.bump();
                match self.peek().clone() {
                    TokenKind::Int(n) => {
                        self.bump();
                        PatternKind::Int(n.wrapping_neg())
                    }
                    TokenKind::Float(x) => {
                        self.bump();
                        PatternKind::Float(-x)
                    }
                    _ => return Err(self.unexpected("a number after `-` in a pattern")),
                }
            }
            TokenKind::Str(parts) => {
                self.bump();
                match parts.as_slice() {
                    [crate::token::StrPart::Lit(s)] => PatternKind::Str(s.clone()),
                    _ => {
                        self.error(
                            crate::diag::Code::UnexpectedToken,
                            span,
                            "string patterns cannot contain interpolation",
                        );
                        PatternKind::Error
                    }
                }
            }
            TokenKind::True => {
                self.bump();
                PatternKind::Bool(true)
            }
            TokenKind::False => {
                self.bump();
                PatternKind::Bool(false)
            }
            TokenKind::Nil => {
                self.bump();
                PatternKind::Nil
            }
            TokenKind::Atom(a) => {
                self.bump();
                PatternKind::Atom(a)
            }
            TokenKind::LParen => {
                self.bump();
                self.skip_newlines();
                if self.eat(&TokenKind::RParen) {
                    PatternKind::Unit
                } else {
                    let first = self.pattern()?;
                    self.skip_newlines();
                    if self.eat(&TokenKind::RParen) {
                        return Ok(Pattern {
                            kind: first.kind,
                            span: span.to(self.prev_span()),
                        });
                    }
                    self.expect(&TokenKind::Comma)?;
                    let mut elems = vec![first];
                    elems.extend(self.comma_list(&TokenKind::RParen, Parser::pattern)?);
                    PatternKind::Tuple(elems)
                }
            }
            TokenKind::LBrace => {
                self.bump();
                PatternKind::Tuple(self.comma_list(&TokenKind::RBrace, Parser::pattern)?)
            }
            TokenKind::LBracket => {
                self.bump();
                let mut elems = Vec::new();
                let mut tail = None;
                loop {
                    self.skip_newlines();
                    if self.at(&TokenKind::RBracket) {
                        break;
                    }
                    elems.push(self.nested(|p| p.pattern_with(false, true))?);
                    self.skip_newlines();
                    if self.eat(&TokenKind::Bar) {
                        tail = Some(Box::new(self.pattern()?));
                        self.skip_newlines();
                        break;
                    }
                    if !self.eat(&TokenKind::Comma) {
                        break;
                    }
                }
                self.expect(&TokenKind::RBracket)?;
                PatternKind::List { elems, tail }
            }
            TokenKind::PercentBrace => {
                self.bump();
                let entries = self.comma_list(&TokenKind::RBrace, |p| {
                    let k = p.pattern()?;
                    p.expect(&TokenKind::FatArrow)?;
                    Ok((k, p.pattern()?))
                })?;
                PatternKind::Map(entries)
            }
            _ => return Err(self.unexpected("a pattern")),
        };
        Ok(pat(kind, span.to(self.prev_span())))
    }

    /// A type: `Int`, `List<T>`, `(A, B)`, `Fun(A) -> B`, `T?`, `T!E`, `Mod.Type`.
    pub(crate) fn type_expr(&mut self) -> PResult<TypeExpr> {
        self.nested(|p| {
            let mut t = p.type_base()?;
            loop {
                if p.at(&TokenKind::Question) {
                    let end = p.bump().span;
                    let span = t.span.to(end);
                    t = TypeExpr {
                        kind: TypeExprKind::Option(Box::new(t)),
                        span,
                    };
                } else if p.at(&TokenKind::Bang) {
                    p.bump();
                    let err = p.nested(Parser::type_base)?;
                    let span = t.span.to(err.span);
                    t = TypeExpr {
                        kind: TypeExprKind::Result(Box::new(t), Box::new(err)),
                        span,
                    };
                } else {
                    return Ok(t);
                }
            }
        })
    }

    fn type_base(&mut self) -> PResult<TypeExpr> {
        let start = self.span();
        let kind = match self.peek() {
            TokenKind::LParen => {
                self.bump();
                let elems = self.comma_list(&TokenKind::RParen, Parser::type_expr)?;
                if elems.len() == 1
                    && self.tokens[self.pos.saturating_sub(2)].kind != TokenKind::Comma
                {
                    let mut elems = elems;
                    let mut only = elems.remove(0);
                    only.span = start.to(self.prev_span());
                    return Ok(only);
                }
                TypeExprKind::Tuple(elems)
            }
            TokenKind::Ident(n) if n == "Fun" && self.peek_at(1) == &TokenKind::LParen => {
                self.bump();
                self.bump();
                let params = self.comma_list(&TokenKind::RParen, Parser::type_expr)?;
                self.expect(&TokenKind::Arrow)?;
                let ret = self.type_expr()?;
                TypeExprKind::Fun {
                    params,
                    ret: Box::new(ret),
                }
            }
            TokenKind::Ident(_) => {
                let path = self.path("a type name")?;
                let args = if self.eat(&TokenKind::Lt) {
                    let mut args = Vec::new();
                    loop {
                        args.push(self.type_expr()?);
                        if !self.eat(&TokenKind::Comma) {
                            break;
                        }
                    }
                    self.expect(&TokenKind::Gt)?;
                    args
                } else {
                    Vec::new()
                };
                TypeExprKind::Named { path, args }
            }
            _ => return Err(self.unexpected("a type")),
        };
        Ok(TypeExpr {
            kind,
            span: start.to(self.prev_span()),
        })
    }
}
