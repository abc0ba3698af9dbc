//! The parser: tokens to an [`ast::SourceFile`].
//!
//! Recursive descent for items, statements, patterns and types, and a Pratt
//! loop for binary operators (precedence table of `shared/LANGUAGE.md`,
//! lowest first: pipes, `or`, `and`, equality, comparison, `..`, `<>`/`++`,
//! `+ -`, `* / %`, prefix, postfix).
//!
//! Error recovery: a failed statement skips to the next statement end at
//! its own nesting level (or the `end` closing its block); a failed item
//! skips to the next line that starts an item. One file therefore reports
//! several errors. Nesting is bounded by [`MAX_DEPTH`]: deeper input gets a
//! diagnostic, never a stack overflow. The parser never panics.

mod expr;
mod item;
mod pattern;
mod test_file;

pub use test_file::{ASSERT_MODULE, parse_test_file};

use crate::ast::{self, Expr, ExprKind, Ident, SourceFile};
use crate::diag::{Code, Diagnostic};
use crate::lexer;
use crate::source::{FileId, Span};
use crate::token::{Token, TokenKind};

/// Maximum nesting of expressions, patterns, types and blocks.
pub const MAX_DEPTH: u32 = 64;

/// Lexes and parses one file. Diagnostics from both phases are returned.
pub fn parse(file: FileId, src: &str) -> (SourceFile, Vec<Diagnostic>) {
    let (tokens, mut diags) = lexer::lex(file, src);
    let mut p = Parser::new(file, tokens, 0);
    let sf = p.source_file();
    diags.append(&mut p.diags);
    (sf, diags)
}

/// Parses a single expression (for tools and tests).
pub fn parse_expr(file: FileId, src: &str) -> (Option<Expr>, Vec<Diagnostic>) {
    let (tokens, mut diags) = lexer::lex(file, src);
    let mut p = Parser::new(file, tokens, 0);
    p.skip_newlines();
    let e = p.expr().ok();
    p.skip_newlines();
    if e.is_some() && !p.at(&TokenKind::Eof) {
        p.unexpected("end of input");
    }
    diags.append(&mut p.diags);
    (e, diags)
}

/// Marker: a diagnostic has been recorded; the caller should recover.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fail;

pub(crate) type PResult<T> = Result<T, Fail>;

pub(crate) struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    file: FileId,
    pub(crate) diags: Vec<Diagnostic>,
    depth: u32,
    too_deep_reported: bool,
    /// The source text while parsing a `*.test.mpl` file (its assertion
    /// forms quote source text); `None` for ordinary modules.
    test_src: Option<std::sync::Arc<str>>,
}

impl Parser {
    pub(crate) fn new(file: FileId, mut tokens: Vec<Token>, depth: u32) -> Parser {
        if !tokens.last().is_some_and(|t| t.kind == TokenKind::Eof) {
            let end = tokens.last().map_or(0, |t| t.span.end as usize);
            tokens.push(Token {
                kind: TokenKind::Eof,
                span: Span::new(file, end, end),
            });
        }
        Parser {
            tokens,
            pos: 0,
            file,
            diags: Vec::new(),
            depth,
            too_deep_reported: false,
            test_src: None,
        }
    }

    fn source_file(&mut self) -> SourceFile {
        let start = self.span();
        let items = self.items_until(&[]);
        let end = self.span();
        SourceFile {
            items: item::merge_clauses(items),
            span: start.to(end),
        }
    }

    // ---- token access -------------------------------------------------

    pub(crate) fn peek(&self) -> &TokenKind {
        self.peek_at(0)
    }

    pub(crate) fn peek_at(&self, n: usize) -> &TokenKind {
        let i = (self.pos + n).min(self.tokens.len() - 1);
        &self.tokens[i].kind
    }

    pub(crate) fn at(&self, k: &TokenKind) -> bool {
        self.peek() == k
    }

    pub(crate) fn span(&self) -> Span {
        let i = self.pos.min(self.tokens.len() - 1);
        self.tokens[i].span
    }

    /// Span of the previously consumed token.
    pub(crate) fn prev_span(&self) -> Span {
        if self.pos == 0 {
            return self.span();
        }
        self.tokens[(self.pos - 1).min(self.tokens.len() - 1)].span
    }

    pub(crate) fn bump(&mut self) -> Token {
        let i = self.pos.min(self.tokens.len() - 1);
        let t = self.tokens[i].clone();
        if self.pos < self.tokens.len() - 1 {
            self.pos += 1;
        }
        t
    }

    pub(crate) fn eat(&mut self, k: &TokenKind) -> bool {
        if self.at(k) {
            self.bump();
            true
        } else {
            false
        }
    }

    pub(crate) fn expect(&mut self, k: &TokenKind) -> PResult<Span> {
        if self.at(k) {
            Ok(self.bump().span)
        } else {
            Err(self.unexpected(&k.to_string()))
        }
    }

    pub(crate) fn skip_newlines(&mut self) {
        while self.at(&TokenKind::Newline) {
            self.bump();
        }
    }

    /// Reports "expected `what`, found <token>" at the current token.
    pub(crate) fn unexpected(&mut self, what: &str) -> Fail {
        let found = self.peek().to_string();
        let span = self.span();
        self.error(
            Code::UnexpectedToken,
            span,
            format!("expected {what}, found {found}"),
        );
        Fail
    }

    pub(crate) fn error(&mut self, code: Code, span: Span, msg: impl Into<String>) {
        self.diags.push(Diagnostic::error(code, span, msg));
    }

    /// An identifier (keywords are not accepted).
    pub(crate) fn ident(&mut self, what: &str) -> PResult<Ident> {
        match self.peek() {
            TokenKind::Ident(name) => {
                let name = name.clone();
                let span = self.bump().span;
                Ok(Ident { name, span })
            }
            // `from` is a keyword only where an item starts.
            TokenKind::From => {
                let span = self.bump().span;
                Ok(Ident {
                    name: "from".into(),
                    span,
                })
            }
            _ => Err(self.unexpected(what)),
        }
    }

    /// An identifier or a keyword used as a name (after `.`, as a field).
    pub(crate) fn name_or_keyword(&mut self, what: &str) -> PResult<Ident> {
        let name = match self.peek() {
            TokenKind::Ident(n) => n.clone(),
            k => match k.keyword_text() {
                Some(t) => t.to_string(),
                None => return Err(self.unexpected(what)),
            },
        };
        let span = self.bump().span;
        Ok(Ident { name, span })
    }

    /// Runs `f` one nesting level deeper, failing with a diagnostic past
    /// [`MAX_DEPTH`].
    pub(crate) fn nested<T>(&mut self, f: impl FnOnce(&mut Parser) -> PResult<T>) -> PResult<T> {
        if self.depth >= MAX_DEPTH {
            if !self.too_deep_reported {
                self.too_deep_reported = true;
                let span = self.span();
                self.error(
                    Code::TooDeep,
                    span,
                    format!("nesting is too deep (the limit is {MAX_DEPTH} levels)"),
                );
            }
            return Err(Fail);
        }
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    // ---- recovery -----------------------------------------------------

    /// Skips to the end of the current statement: past a newline at this
    /// nesting level, or up to (not past) an `end`/`else` closing the
    /// enclosing block, or to end of file.
    pub(crate) fn recover_stmt(&mut self) {
        let mut depth = 0usize;
        loop {
            match self.peek() {
                TokenKind::Eof => return,
                TokenKind::Newline if depth == 0 => {
                    self.bump();
                    return;
                }
                TokenKind::End | TokenKind::Else | TokenKind::After | TokenKind::Bar
                    if depth == 0 =>
                {
                    return;
                }
                TokenKind::End | TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => {
                    depth = depth.saturating_sub(1);
                }
                TokenKind::Else if self.peek_at(1) == &TokenKind::If => {
                    // `else if ... do` shares the `end` of the first `if`.
                    depth = depth.saturating_sub(1);
                }
                TokenKind::Fn
                | TokenKind::Do
                | TokenKind::LParen
                | TokenKind::LBracket
                | TokenKind::LBrace
                | TokenKind::PercentBrace => depth += 1,
                _ => {}
            }
            self.bump();
        }
    }

    /// [`Parser::recover_stmt`], but always consumes at least one token
    /// when the failed construct began at `start`, so loops make progress.
    pub(crate) fn recover_stmt_from(&mut self, start: usize) {
        self.recover_stmt();
        if self.pos == start {
            self.bump();
        }
    }

    /// Skips to the next line that starts an item.
    pub(crate) fn recover_item(&mut self) {
        loop {
            match self.peek() {
                TokenKind::Eof => return,
                TokenKind::Newline | TokenKind::End => {
                    // After `end` too: an unclosed bracket hides newlines.
                    self.bump();
                    if item::starts_item(self.peek()) {
                        return;
                    }
                }
                _ => {
                    self.bump();
                }
            }
        }
    }

    // ---- blocks -------------------------------------------------------

    /// Statements up to (not including) one of `terminators` or end of file.
    pub(crate) fn block_until(&mut self, terminators: &[TokenKind]) -> Expr {
        let start = self.span();
        let r = self.nested(|p| Ok(p.stmts_until(terminators)));
        let stmts = r.unwrap_or_else(|_| {
            self.recover_stmt();
            Vec::new()
        });
        let end = self.prev_span();
        let span = if stmts.is_empty() {
            start
        } else {
            start.to(end)
        };
        Expr {
            kind: ExprKind::Block(stmts),
            span,
        }
    }

    fn stmts_until(&mut self, terminators: &[TokenKind]) -> Vec<ast::Stmt> {
        let mut stmts = Vec::new();
        loop {
            self.skip_newlines();
            if self.at(&TokenKind::Eof) || terminators.contains(self.peek()) {
                return stmts;
            }
            let start = self.pos;
            let stmt = match self.assert_receive_stmt(terminators) {
                Some(s) => s,
                None => self.stmt(),
            };
            match stmt {
                Ok(s) => {
                    stmts.push(s);
                    if !(self.eat(&TokenKind::Newline)
                        || self.at(&TokenKind::Eof)
                        || terminators.contains(self.peek()))
                    {
                        self.unexpected("end of line");
                        self.recover_stmt_from(start);
                    }
                }
                Err(Fail) => self.recover_stmt_from(start),
            }
        }
    }

    /// `do <stmts> end`.
    pub(crate) fn do_block(&mut self) -> PResult<Expr> {
        let start = self.expect(&TokenKind::Do)?;
        let mut body = self.block_until(&[TokenKind::End]);
        let end = self.expect(&TokenKind::End)?;
        body.span = start.to(end);
        Ok(body)
    }
}

/// Parses a type expression (used for builtin signatures and tools).
pub fn parse_type(file: FileId, src: &str) -> (Option<ast::TypeExpr>, Vec<Diagnostic>) {
    let (tokens, mut diags) = lexer::lex(file, src);
    let mut p = Parser::new(file, tokens, 0);
    let t = p.type_expr().ok();
    if t.is_some() && !p.at(&TokenKind::Eof) {
        p.unexpected("end of input");
    }
    diags.append(&mut p.diags);
    (t, diags)
}

#[cfg(test)]
mod tests;
