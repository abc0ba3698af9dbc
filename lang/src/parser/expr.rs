//! Expressions and statements: the Pratt loop, postfix forms, primaries,
//! control flow, closures and string interpolation.

use super::{Fail, PResult, Parser};
use crate::ast::*;
use crate::diag::Code;
use crate::source::Span;
use crate::token::{StrPart, TokenKind};

/// The most binary operators (pipes included) one expression may chain.
pub const MAX_CHAIN: usize = 1000;

/// What an infix token does.
enum Infix {
    Bin(BinOp),
    /// Pipe into argument position (0-based).
    Pipe(u32),
}

/// Binding powers (left, right), lowest precedence first.
fn infix(k: &TokenKind) -> Option<(Infix, u8, u8)> {
    Some(match k {
        TokenKind::Pipe => (Infix::Pipe(0), 1, 2),
        TokenKind::PipeN(n) => (Infix::Pipe(n.saturating_sub(1)), 1, 2),
        TokenKind::OrOr | TokenKind::Or => (Infix::Bin(BinOp::Or), 3, 4),
        TokenKind::AndAnd | TokenKind::And => (Infix::Bin(BinOp::And), 5, 6),
        TokenKind::EqEq => (Infix::Bin(BinOp::Eq), 7, 8),
        TokenKind::NotEq => (Infix::Bin(BinOp::NotEq), 7, 8),
        TokenKind::Lt => (Infix::Bin(BinOp::Lt), 9, 10),
        TokenKind::Gt => (Infix::Bin(BinOp::Gt), 9, 10),
        TokenKind::Le => (Infix::Bin(BinOp::Le), 9, 10),
        TokenKind::Ge => (Infix::Bin(BinOp::Ge), 9, 10),
        TokenKind::DotDot => (Infix::Bin(BinOp::Range), 11, 12),
        TokenKind::Diamond => (Infix::Bin(BinOp::Concat), 13, 14),
        TokenKind::PlusPlus => (Infix::Bin(BinOp::Append), 13, 14),
        TokenKind::Plus => (Infix::Bin(BinOp::Add), 15, 16),
        TokenKind::Minus => (Infix::Bin(BinOp::Sub), 15, 16),
        TokenKind::Star => (Infix::Bin(BinOp::Mul), 17, 18),
        TokenKind::Slash => (Infix::Bin(BinOp::Div), 17, 18),
        TokenKind::Percent => (Infix::Bin(BinOp::Rem), 17, 18),
        _ => return None,
    })
}

fn mk(kind: ExprKind, span: Span) -> Expr {
    Expr { kind, span }
}

fn is_upper(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_uppercase())
}

impl Parser {
    /// A statement: `let` or an expression.
    pub(crate) fn stmt(&mut self) -> PResult<Stmt> {
        if self.at(&TokenKind::Let) {
            let start = self.bump().span;
            let pat = self.pattern_simple()?;
            let ty = if self.eat(&TokenKind::ColonColon) {
                Some(self.type_expr()?)
            } else {
                None
            };
            self.expect(&TokenKind::Eq)?;
            self.skip_newlines();
            let value = self.expr()?;
            let span = start.to(value.span);
            return Ok(Stmt::Let {
                pat,
                ty,
                value,
                span,
            });
        }
        Ok(Stmt::Expr(self.expr()?))
    }

    /// A full expression.
    pub(crate) fn expr(&mut self) -> PResult<Expr> {
        self.nested(|p| p.expr_bp(0))
    }

    fn expr_bp(&mut self, min_bp: u8) -> PResult<Expr> {
        let mut lhs = self.unary()?;
        let mut chain = 0usize;
        while let Some((op, lbp, rbp)) = infix(self.peek()) {
            if lbp < min_bp {
                break;
            }
            // A chain makes a tree as deep as it is long, and the checker
            // and compiler recurse over it: bound it, as nesting is.
            chain += 1;
            if chain > MAX_CHAIN {
                let span = self.span();
                self.error(
                    Code::TooDeep,
                    span,
                    format!(
                        "more than {MAX_CHAIN} operators in one expression; split it with `let`"
                    ),
                );
                return Err(Fail);
            }
            let op_span = self.bump().span;
            self.skip_newlines();
            let rhs = self.nested(|p| p.expr_bp(rbp))?;
            let span = lhs.span.to(rhs.span);
            lhs = match op {
                Infix::Bin(op) => mk(
                    ExprKind::Binary {
                        op,
                        lhs: Box::new(lhs),
                        rhs: Box::new(rhs),
                    },
                    span,
                ),
                Infix::Pipe(pos) => self.pipe(lhs, rhs, pos, op_span, span),
            };
        }
        Ok(lhs)
    }

    /// `lhs |N> rhs`: `rhs` must be a call (or a callable, for `|>`); `lhs`
    /// becomes argument `pos`.
    fn pipe(&mut self, lhs: Expr, rhs: Expr, pos: u32, op_span: Span, span: Span) -> Expr {
        let pos = pos as usize;
        match rhs.kind {
            // As upstream, `?` after a piped call applies to the call the
            // value goes into: `x |> f()?` is `(x |> f())?`.
            ExprKind::Try(inner) => {
                let piped = self.pipe(lhs, *inner, pos as u32, op_span, span);
                mk(ExprKind::Try(Box::new(piped)), span)
            }
            ExprKind::Call { callee, mut args } => {
                if pos > args.len() {
                    self.error(
                        Code::BadPipe,
                        op_span,
                        format!(
                            "cannot pipe into argument {} of a call with {} argument(s)",
                            pos + 1,
                            args.len()
                        ),
                    );
                    return mk(ExprKind::Error, span);
                }
                args.insert(pos, lhs);
                mk(ExprKind::Call { callee, args }, span)
            }
            ExprKind::Error => mk(ExprKind::Error, span),
            _ if pos == 0 => mk(
                ExprKind::Call {
                    callee: Box::new(rhs),
                    args: vec![lhs],
                },
                span,
            ),
            _ => {
                self.error(
                    Code::BadPipe,
                    op_span,
                    "the right side of a positional pipe must be a call",
                );
                mk(ExprKind::Error, span)
            }
        }
    }

    /// `9223372036854775808` without a prefix `-` (see the lexer).
    pub(crate) fn min_int_unnegated(&mut self, span: Span) {
        self.error(
            Code::BadNumber,
            span,
            "integer literal `9223372036854775808` does not fit in 64 bits",
        );
    }

    fn unary(&mut self) -> PResult<Expr> {
        let op = match self.peek() {
            TokenKind::Minus => UnOp::Neg,
            TokenKind::Bang | TokenKind::Not => UnOp::Not,
            _ => return self.postfix(),
        };
        let start = self.bump().span;
        // `-9223372036854775808`: the one literal that fits only negated.
        if op == UnOp::Neg
            && let TokenKind::Int(i64::MIN) = self.peek()
        {
            let span = start.to(self.bump().span);
            return Ok(mk(ExprKind::Int(i64::MIN), span));
        }
        let operand = self.nested(Parser::unary)?;
        let span = start.to(operand.span);
        Ok(match (op, &operand.kind) {
            (UnOp::Neg, ExprKind::Int(n)) => mk(ExprKind::Int(n.wrapping_neg()), span),
            (UnOp::Neg, ExprKind::Float(x)) => mk(ExprKind::Float(-x), span),
            _ => mk(
                ExprKind::Unary {
                    op,
                    expr: Box::new(operand),
                },
                span,
            ),
        })
    }

    /// After a call's `)`: a trailing closure `do |params| ... end` (or
    /// `do || ... end`), as upstream, becomes the call's last argument.
    /// Only with the `|`, so `if f(x) do` and `for x in f(y) do` still open
    /// their own bodies.
    fn trailing_closure(&mut self) -> PResult<Option<Expr>> {
        if !self.at(&TokenKind::Do) || !matches!(self.peek_at(1), TokenKind::Bar | TokenKind::OrOr)
        {
            return Ok(None);
        }
        let start = self.bump().span;
        let params = if self.eat(&TokenKind::OrOr) {
            Vec::new()
        } else {
            self.bump();
            self.comma_list(&TokenKind::Bar, Parser::param)?
        };
        let cstart = self.span();
        let body = self.block_until(&[TokenKind::End]);
        let end = self.expect(&TokenKind::End)?;
        Ok(Some(mk(
            ExprKind::Closure(vec![ClosureClause {
                params,
                guard: None,
                body,
                span: cstart.to(end),
            }]),
            start.to(end),
        )))
    }

    fn postfix(&mut self) -> PResult<Expr> {
        let mut e = self.primary()?;
        loop {
            match self.peek() {
                TokenKind::LParen => {
                    self.bump();
                    let mut args = self.comma_list(&TokenKind::RParen, Parser::expr)?;
                    if let Some(block) = self.trailing_closure()? {
                        args.push(block);
                    }
                    let span = e.span.to(self.prev_span());
                    e = mk(
                        ExprKind::Call {
                            callee: Box::new(e),
                            args,
                        },
                        span,
                    );
                }
                TokenKind::Dot => {
                    self.bump();
                    let name = self.name_or_keyword("a field or function name after `.`")?;
                    let span = e.span.to(name.span);
                    e = match e.kind {
                        ExprKind::Path(mut p) => {
                            p.segments.push(name);
                            p.span = span;
                            mk(ExprKind::Path(p), span)
                        }
                        kind => mk(
                            ExprKind::Field {
                                expr: Box::new(mk(kind, e.span)),
                                name,
                            },
                            span,
                        ),
                    };
                }
                TokenKind::LBracket => {
                    self.bump();
                    self.skip_newlines();
                    let index = self.expr()?;
                    self.skip_newlines();
                    self.expect(&TokenKind::RBracket)?;
                    let span = e.span.to(self.prev_span());
                    e = mk(
                        ExprKind::Index {
                            expr: Box::new(e),
                            index: Box::new(index),
                        },
                        span,
                    );
                }
                TokenKind::Question => {
                    let q = self.bump().span;
                    let span = e.span.to(q);
                    e = mk(ExprKind::Try(Box::new(e)), span);
                }
                TokenKind::LBrace => {
                    let ExprKind::Path(p) = &e.kind else { break };
                    if !p.segments.last().is_some_and(|s| is_upper(&s.name)) {
                        break;
                    }
                    let name = p.clone();
                    self.bump();
                    let fields = self.comma_list(&TokenKind::RBrace, Parser::field_init)?;
                    let span = e.span.to(self.prev_span());
                    e = mk(ExprKind::StructLit { name, fields }, span);
                }
                _ => break,
            }
        }
        Ok(e)
    }

    /// `name: expr` (a bare `name` is shorthand for `name: name`).
    fn field_init(&mut self) -> PResult<(Ident, Expr)> {
        let name = self.name_or_keyword("a field name")?;
        if self.eat(&TokenKind::Colon) {
            self.skip_newlines();
            let value = self.expr()?;
            Ok((name, value))
        } else {
            let value = mk(ExprKind::Var(name.clone()), name.span);
            Ok((name, value))
        }
    }

    fn primary(&mut self) -> PResult<Expr> {
        let span = self.span();
        let kind = match self.peek().clone() {
            TokenKind::Int(n) => {
                self.bump();
                if n == i64::MIN {
                    self.min_int_unnegated(span);
                }
                ExprKind::Int(n)
            }
            TokenKind::Float(x) => {
                self.bump();
                ExprKind::Float(x)
            }
            TokenKind::True => {
                self.bump();
                ExprKind::Bool(true)
            }
            TokenKind::False => {
                self.bump();
                ExprKind::Bool(false)
            }
            TokenKind::Nil => {
                self.bump();
                ExprKind::Nil
            }
            TokenKind::Atom(a) => {
                self.bump();
                ExprKind::Atom(a)
            }
            TokenKind::Str(parts) => {
                self.bump();
                ExprKind::Str(self.string_parts(parts)?)
            }
            TokenKind::Ident(name) => {
                if let Some(form) = self.test_form() {
                    return form;
                }
                self.bump();
                let id = Ident { name, span };
                if is_upper(&id.name) {
                    ExprKind::Path(Path {
                        segments: vec![id],
                        span,
                    })
                } else {
                    ExprKind::Var(id)
                }
            }
            // `from` only starts an item (`from M import f`); elsewhere it
            // is an ordinary name, as upstream (`fn copy(from, to)`).
            TokenKind::From => {
                self.bump();
                ExprKind::Var(Ident {
                    name: "from".into(),
                    span,
                })
            }
            TokenKind::SelfKw
            | TokenKind::Spawn
            | TokenKind::Send
            | TokenKind::Link
            | TokenKind::Monitor => {
                let id = self.name_or_keyword("a name")?;
                ExprKind::Builtin(id)
            }
            TokenKind::LParen => return self.paren(),
            TokenKind::LBracket => return self.list(),
            TokenKind::LBrace => {
                self.bump();
                let elems = self.comma_list(&TokenKind::RBrace, Parser::expr)?;
                ExprKind::Tuple(elems)
            }
            TokenKind::PercentBrace => return self.map_or_update(),
            TokenKind::Fn => return self.closure(),
            TokenKind::If => {
                self.bump();
                return self.if_rest(span);
            }
            TokenKind::Case | TokenKind::Match => {
                self.bump();
                let scrutinee = self.expr()?;
                self.expect(&TokenKind::Do)?;
                let (arms, after) = self.arms(false)?;
                debug_assert!(after.is_none());
                let end = self.expect(&TokenKind::End)?;
                return Ok(mk(
                    ExprKind::Case {
                        scrutinee: Box::new(scrutinee),
                        arms,
                    },
                    span.to(end),
                ));
            }
            TokenKind::Receive => {
                self.bump();
                self.expect(&TokenKind::Do)?;
                let (arms, after) = self.arms(true)?;
                let end = self.expect(&TokenKind::End)?;
                return Ok(mk(ExprKind::Receive { arms, after }, span.to(end)));
            }
            TokenKind::For => {
                self.bump();
                let pat = self.pattern_simple()?;
                self.expect(&TokenKind::In)?;
                let iter = self.expr()?;
                let filter = if self.eat(&TokenKind::When) {
                    Some(Box::new(self.expr()?))
                } else {
                    None
                };
                let body = self.do_block()?;
                return Ok(mk(
                    ExprKind::For {
                        pat,
                        iter: Box::new(iter),
                        filter,
                        body: Box::new(body),
                    },
                    span.to(self.prev_span()),
                ));
            }
            TokenKind::While => {
                self.bump();
                let cond = self.expr()?;
                let body = self.do_block()?;
                return Ok(mk(
                    ExprKind::While {
                        cond: Box::new(cond),
                        body: Box::new(body),
                    },
                    span.to(self.prev_span()),
                ));
            }
            TokenKind::Do => return self.do_block(),
            TokenKind::Break => {
                self.bump();
                ExprKind::Break
            }
            TokenKind::Continue => {
                self.bump();
                ExprKind::Continue
            }
            TokenKind::Return => {
                self.bump();
                let value = if matches!(
                    self.peek(),
                    TokenKind::Newline
                        | TokenKind::End
                        | TokenKind::Eof
                        | TokenKind::Else
                        | TokenKind::RParen
                        | TokenKind::Bar
                ) {
                    None
                } else {
                    Some(Box::new(self.expr()?))
                };
                return Ok(mk(ExprKind::Return(value), span.to(self.prev_span())));
            }
            _ => return Err(self.unexpected("an expression")),
        };
        Ok(mk(kind, span.to(self.prev_span())))
    }

    fn string_parts(&mut self, parts: Vec<StrPart>) -> PResult<Vec<StrPiece>> {
        let mut out = Vec::with_capacity(parts.len());
        for part in parts {
            match part {
                StrPart::Lit(s) => out.push(StrPiece::Lit(s)),
                StrPart::Interp(tokens, span) => {
                    let mut sub = Parser::new(self.file, tokens, self.depth);
                    sub.test_src.clone_from(&self.test_src);
                    sub.skip_newlines();
                    if sub.at(&TokenKind::Eof) {
                        self.error(Code::UnexpectedToken, span, "empty interpolation");
                        out.push(StrPiece::Expr(mk(ExprKind::Error, span)));
                        continue;
                    }
                    let e = sub.expr();
                    sub.skip_newlines();
                    if e.is_ok() && !sub.at(&TokenKind::Eof) {
                        sub.unexpected("`}` to end the interpolation");
                    }
                    let failed = !sub.diags.is_empty();
                    self.diags.append(&mut sub.diags);
                    match e {
                        Ok(e) if !failed => out.push(StrPiece::Expr(e)),
                        _ => out.push(StrPiece::Expr(mk(ExprKind::Error, span))),
                    }
                }
            }
        }
        Ok(out)
    }

    fn paren(&mut self) -> PResult<Expr> {
        let start = self.bump().span;
        self.skip_newlines();
        if self.eat(&TokenKind::RParen) {
            return Ok(mk(ExprKind::Unit, start.to(self.prev_span())));
        }
        let first = self.expr()?;
        self.skip_newlines();
        if self.eat(&TokenKind::RParen) {
            return Ok(first);
        }
        self.expect(&TokenKind::Comma)?;
        let mut elems = vec![first];
        elems.extend(self.comma_list(&TokenKind::RParen, Parser::expr)?);
        Ok(mk(ExprKind::Tuple(elems), start.to(self.prev_span())))
    }

    fn list(&mut self) -> PResult<Expr> {
        let start = self.bump().span;
        let mut elems = Vec::new();
        let mut tail = None;
        loop {
            self.skip_newlines();
            if self.at(&TokenKind::RBracket) {
                break;
            }
            elems.push(self.expr()?);
            self.skip_newlines();
            if self.eat(&TokenKind::Bar) {
                self.skip_newlines();
                tail = Some(Box::new(self.expr()?));
                self.skip_newlines();
                break;
            }
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        self.expect(&TokenKind::RBracket)?;
        Ok(mk(
            ExprKind::List { elems, tail },
            start.to(self.prev_span()),
        ))
    }

    fn map_or_update(&mut self) -> PResult<Expr> {
        let start = self.bump().span;
        self.skip_newlines();
        if self.eat(&TokenKind::RBrace) {
            return Ok(mk(ExprKind::Map(Vec::new()), start.to(self.prev_span())));
        }
        // `%{base | field: v, ...}`
        let atom_key =
            matches!(self.peek(), TokenKind::Ident(_)) && self.peek_at(1) == &TokenKind::Colon;
        if !atom_key {
            let first = self.expr()?;
            self.skip_newlines();
            if self.eat(&TokenKind::Bar) {
                let fields = self.comma_list(&TokenKind::RBrace, Parser::field_init)?;
                return Ok(mk(
                    ExprKind::StructUpdate {
                        base: Box::new(first),
                        fields,
                    },
                    start.to(self.prev_span()),
                ));
            }
            self.expect(&TokenKind::FatArrow)?;
            self.skip_newlines();
            let v = self.expr()?;
            let mut entries = vec![(first, v)];
            self.skip_newlines();
            if self.eat(&TokenKind::Comma) {
                entries.extend(self.comma_list(&TokenKind::RBrace, Parser::map_entry)?);
            } else {
                self.expect(&TokenKind::RBrace)?;
            }
            return Ok(mk(ExprKind::Map(entries), start.to(self.prev_span())));
        }
        let entries = self.comma_list(&TokenKind::RBrace, Parser::map_entry)?;
        Ok(mk(ExprKind::Map(entries), start.to(self.prev_span())))
    }

    fn map_entry(&mut self) -> PResult<(Expr, Expr)> {
        if let (TokenKind::Ident(name), TokenKind::Colon) = (self.peek().clone(), self.peek_at(1)) {
            let span = self.bump().span;
            self.bump();
            self.skip_newlines();
            let v = self.expr()?;
            return Ok((mk(ExprKind::Atom(name), span), v));
        }
        let k = self.expr()?;
        self.skip_newlines();
        self.expect(&TokenKind::FatArrow)?;
        self.skip_newlines();
        let v = self.expr()?;
        Ok((k, v))
    }

    fn closure(&mut self) -> PResult<Expr> {
        let start = self.bump().span;
        let mut clauses = Vec::new();
        loop {
            let cstart = self.span();
            let params = if self.at(&TokenKind::LParen) {
                self.params()?
            } else if self.at(&TokenKind::Arrow)
                || self.at(&TokenKind::When)
                || self.at(&TokenKind::Do)
            {
                Vec::new()
            } else {
                let mut ps = vec![self.param()?];
                while self.eat(&TokenKind::Comma) {
                    ps.push(self.param()?);
                }
                ps
            };
            let guard = if self.eat(&TokenKind::When) {
                Some(self.expr()?)
            } else {
                None
            };
            // `fn x do ... end` (as upstream): one clause, a block body.
            if clauses.is_empty() && self.eat(&TokenKind::Do) {
                let body = self.block_until(&[TokenKind::End]);
                clauses.push(ClosureClause {
                    params,
                    guard,
                    span: cstart.to(self.prev_span()),
                    body,
                });
                break;
            }
            self.expect(&TokenKind::Arrow)?;
            let body = self.block_until(&[TokenKind::End, TokenKind::Bar]);
            clauses.push(ClosureClause {
                params,
                guard,
                span: cstart.to(self.prev_span()),
                body,
            });
            if !self.eat(&TokenKind::Bar) {
                break;
            }
            self.skip_newlines();
        }
        let end = self.expect(&TokenKind::End)?;
        Ok(mk(ExprKind::Closure(clauses), start.to(end)))
    }

    /// After `if`: `cond do ... [else [if ...] ...] end`. An `else if` chain
    /// shares the final `end`.
    fn if_rest(&mut self, start: Span) -> PResult<Expr> {
        let cond = self.expr()?;
        self.expect(&TokenKind::Do)?;
        let then = self.block_until(&[TokenKind::Else, TokenKind::End]);
        let else_ = if self.eat(&TokenKind::Else) {
            if self.at(&TokenKind::If) {
                let s = self.bump().span;
                Some(Box::new(self.nested(|p| p.if_rest(s))?))
            } else {
                let e = self.block_until(&[TokenKind::End]);
                self.expect(&TokenKind::End)?;
                Some(Box::new(e))
            }
        } else {
            self.expect(&TokenKind::End)?;
            None
        };
        Ok(mk(
            ExprKind::If {
                cond: Box::new(cond),
                then: Box::new(then),
                else_,
            },
            start.to(self.prev_span()),
        ))
    }

    /// Arms of `case`/`receive` up to `end` (not consumed); with
    /// `allow_after`, a final `after ms -> body`.
    #[allow(clippy::type_complexity)]
    fn arms(&mut self, allow_after: bool) -> PResult<(Vec<Arm>, Option<(Box<Expr>, Box<Expr>)>)> {
        let mut arms = Vec::new();
        let mut after = None;
        loop {
            self.skip_newlines();
            match self.peek() {
                TokenKind::End | TokenKind::Eof => break,
                TokenKind::After if allow_after => {
                    self.bump();
                    let timeout = self.expr()?;
                    self.expect(&TokenKind::Arrow)?;
                    let body = self.arm_body()?;
                    after = Some((Box::new(timeout), Box::new(body)));
                    self.skip_newlines();
                    break;
                }
                _ => {}
            }
            let start = self.pos;
            match self.arm() {
                Ok(a) => {
                    arms.push(a);
                    if !(self.eat(&TokenKind::Newline) || self.at(&TokenKind::End)) {
                        self.unexpected("end of line after the arm");
                        self.recover_stmt_from(start);
                    }
                }
                Err(Fail) => self.recover_stmt_from(start),
            }
        }
        Ok((arms, after))
    }

    fn arm(&mut self) -> PResult<Arm> {
        let pat = self.pattern()?;
        let guard = if self.eat(&TokenKind::When) {
            Some(self.expr()?)
        } else {
            None
        };
        self.expect(&TokenKind::Arrow)?;
        let body = self.arm_body()?;
        Ok(Arm {
            span: pat.span.to(body.span),
            pat,
            guard,
            body,
        })
    }

    fn arm_body(&mut self) -> PResult<Expr> {
        if self.at(&TokenKind::Newline) {
            return self.nested(Parser::arm_lines);
        }
        if self.at(&TokenKind::Do) {
            self.do_block()
        } else {
            self.expr()
        }
    }

    /// After `->` at the end of a line: the body is the following lines up
    /// to the next arm, `after` or `end` (as upstream, which also accepts
    /// `pat ->` with the body indented below it). One line is one
    /// expression; several make a block.
    fn arm_lines(&mut self) -> PResult<Expr> {
        let start = self.span();
        let mut stmts = Vec::new();
        loop {
            let next = self.past_newlines();
            let k = &self.tokens[next].kind;
            if matches!(k, TokenKind::End | TokenKind::Eof | TokenKind::After)
                || (!stmts.is_empty() && self.line_starts_arm(next))
            {
                break;
            }
            self.skip_newlines();
            stmts.push(self.stmt()?);
            if !self.at(&TokenKind::Newline) && !self.at(&TokenKind::End) {
                return Err(self.unexpected("end of line"));
            }
        }
        if stmts.is_empty() {
            return Err(self.unexpected("the arm's body"));
        }
        if let [Stmt::Expr(_)] = stmts.as_slice()
            && let Some(Stmt::Expr(e)) = stmts.pop()
        {
            return Ok(e);
        }
        let span = start.to(self.prev_span());
        Ok(mk(ExprKind::Block(stmts), span))
    }

    /// The index of the first token at or after the cursor that is not a
    /// newline.
    fn past_newlines(&self) -> usize {
        let mut i = self.pos;
        while i + 1 < self.tokens.len() && self.tokens[i].kind == TokenKind::Newline {
            i += 1;
        }
        i
    }

    /// Does the line starting at token `i` hold `->` outside brackets and
    /// `fn ... end` / `do ... end` (so it starts another arm)?
    fn line_starts_arm(&self, i: usize) -> bool {
        let mut depth = 0usize;
        // `fn`s whose body form (`->` or `do`) is not seen yet: their `do`
        // opens nothing more (one `end` closes `fn x do ... end`).
        let mut open_fns = 0usize;
        for t in &self.tokens[i..] {
            match t.kind {
                TokenKind::Newline if depth == 0 => return false,
                TokenKind::Eof => return false,
                TokenKind::Fn => {
                    depth += 1;
                    open_fns += 1;
                }
                TokenKind::Do if open_fns > 0 => open_fns -= 1,
                TokenKind::Arrow if depth > 0 && open_fns > 0 => open_fns -= 1,
                TokenKind::LParen
                | TokenKind::LBracket
                | TokenKind::LBrace
                | TokenKind::PercentBrace
                | TokenKind::Do => depth += 1,
                TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace | TokenKind::End => {
                    if depth == 0 {
                        return false;
                    }
                    depth -= 1;
                }
                TokenKind::Arrow if depth == 0 => return true,
                _ => {}
            }
        }
        false
    }
}
