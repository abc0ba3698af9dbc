//! `*.test.mpl` files: test items and assertion forms, lowered as parsed.
//!
//! A test file holds ordinary items (imports, helper functions, structs)
//! and, at top level or inside `describe`:
//!
//! - `test("name") do ... end`: one test (the parentheses are optional,
//!   as for `describe`);
//! - `describe("group") do ... end`: a group (groups nest); its name
//!   prefixes the names of the tests inside (`group > name`);
//! - `setup do ... end`: statements run at the start of every test of the
//!   file or group, in the test's own process; the `let`s of a setup are in
//!   scope in those tests; an outer setup runs before an inner one;
//! - `teardown do ... end`: run after every test of the file or group,
//!   whatever the test's outcome, in a fresh process of its own (it cannot
//!   see the setup's bindings); an inner teardown runs before an outer one.
//!
//! At most one `setup` and one `teardown` per file and per group.
//!
//! The parser lowers all of this to ordinary items, so the checker and the
//! compiler need nothing new: each test becomes a private function
//! `test#N` (no user name can contain `#`) whose body is the setups'
//! statements followed by the test body, each teardown a function
//! `teardown#N`, and a [`TestDecl`] records what to run. Inside a test
//! file these forms are expressions:
//!
//! - `assert expr` is `MeshTest.assert(expr, "expr")` (the source text,
//!   for the failure message);
//! - `assert_eq(a, b)`, `assert_ne(a, b)` and `flunk(message)` call
//!   `MeshTest.assert_eq`, `MeshTest.assert_ne` and `MeshTest.fail`
//!   (the names are reserved in test files);
//! - `assert_raises do ... end` runs the block in a new process, monitored,
//!   and fails unless that process fails;
//! - `assert_receive pattern [when guard][, ms]` waits up to `ms`
//!   milliseconds (default [`DEFAULT_RECEIVE_MS`]) for a matching message
//!   and fails if none comes. As a statement, the names the pattern binds
//!   are in scope in the rest of the block (the rest of the block becomes
//!   the body of the matching arm).

use std::collections::HashSet;
use std::sync::Arc;

use super::{Fail, PResult, Parser};
use crate::ast::*;
use crate::diag::{Code, Diagnostic};
use crate::lexer;
use crate::source::{FileId, Span};
use crate::token::{StrPart, TokenKind};

/// The built-in module of the assertion functions.
pub const ASSERT_MODULE: &str = "MeshTest";

/// `assert_receive`'s timeout when none is written, in milliseconds.
pub const DEFAULT_RECEIVE_MS: i64 = 1000;

/// Lexes and parses a `*.test.mpl` file: its items (the tests and
/// teardowns lowered to functions, see the module docs) and its tests in
/// source order.
pub fn parse_test_file(file: FileId, src: &str) -> (SourceFile, Vec<TestDecl>, Vec<Diagnostic>) {
    let (tokens, mut diags) = lexer::lex(file, src);
    let mut p = Parser::new(file, tokens, 0);
    p.test_src = Some(Arc::from(src));
    let start = p.span();
    let mut scope = Scope::default();
    p.test_entries(&mut scope, true);
    let end = p.span();
    let mut lower = Lower::default();
    lower.scope(&mut p, scope, &[], &[], &[]);
    let sf = SourceFile {
        items: super::item::merge_clauses(lower.items),
        span: start.to(end),
    };
    diags.append(&mut p.diags);
    (sf, lower.tests, diags)
}

/// True for the words that start a test item.
pub(crate) fn is_test_item_word(name: &str) -> bool {
    matches!(name, "test" | "describe" | "setup" | "teardown")
}

/// The tests, groups, setup and teardown of a file or of one `describe`.
#[derive(Default)]
struct Scope {
    items: Vec<Item>,
    setup: Option<(Expr, Span)>,
    teardown: Option<(Expr, Span)>,
    entries: Vec<Entry>,
}

enum Entry {
    Test {
        name: String,
        body: Expr,
        span: Span,
    },
    Describe {
        name: String,
        scope: Scope,
    },
}

/// Turns parsed scopes into functions and [`TestDecl`]s.
#[derive(Default)]
struct Lower {
    items: Vec<Item>,
    tests: Vec<TestDecl>,
    names: HashSet<String>,
    teardowns: usize,
}

fn mk(kind: ExprKind, span: Span) -> Expr {
    Expr { kind, span }
}

fn ident(name: &str, span: Span) -> Ident {
    Ident {
        name: name.to_string(),
        span,
    }
}

fn var(name: &str, span: Span) -> Expr {
    mk(ExprKind::Var(ident(name, span)), span)
}

fn assert_fn(name: &str, span: Span) -> Expr {
    mk(
        ExprKind::Path(Path {
            segments: vec![ident(ASSERT_MODULE, span), ident(name, span)],
            span,
        }),
        span,
    )
}

fn call(callee: Expr, args: Vec<Expr>, span: Span) -> Expr {
    mk(
        ExprKind::Call {
            callee: Box::new(callee),
            args,
        },
        span,
    )
}

fn str_lit(s: String, span: Span) -> Expr {
    mk(ExprKind::Str(vec![StrPiece::Lit(s)]), span)
}

fn pat(kind: PatternKind, span: Span) -> Pattern {
    Pattern { kind, span }
}

fn private_fn(name: String, body: Expr, span: Span) -> Item {
    Item {
        kind: ItemKind::Fn(FnDecl {
            name: Ident { name, span },
            generics: Vec::new(),
            clauses: vec![FnClause {
                params: Vec::new(),
                ret: None,
                guard: None,
                body,
                span,
            }],
        }),
        attrs: Vec::new(),
        public: false,
        span,
    }
}

/// The statements of a `do ... end` block.
fn stmts_of(e: &Expr) -> Vec<Stmt> {
    match &e.kind {
        ExprKind::Block(stmts) => stmts.clone(),
        _ => vec![Stmt::Expr(e.clone())],
    }
}

impl Lower {
    fn scope(
        &mut self,
        p: &mut Parser,
        scope: Scope,
        prefix: &[String],
        setups: &[Stmt],
        teardowns: &[String],
    ) {
        self.items.extend(scope.items);
        let mut setups = setups.to_vec();
        if let Some((body, _)) = &scope.setup {
            setups.extend(stmts_of(body));
        }
        let mut teardowns = teardowns.to_vec();
        if let Some((body, span)) = scope.teardown {
            self.teardowns += 1;
            let name = format!("teardown#{}", self.teardowns);
            self.items.push(private_fn(name.clone(), body, span));
            // Inner teardowns run first.
            teardowns.insert(0, name);
        }
        for entry in scope.entries {
            match entry {
                Entry::Test { name, body, span } => {
                    let mut path = prefix.to_vec();
                    path.push(name);
                    let full = path.join(" > ");
                    if !self.names.insert(full.clone()) {
                        p.error(Code::BadTest, span, format!("two tests are named `{full}`"));
                        continue;
                    }
                    let func = format!("test#{}", self.tests.len() + 1);
                    let mut stmts = setups.clone();
                    let body_span = body.span;
                    stmts.push(Stmt::Expr(body));
                    let body = mk(ExprKind::Block(stmts), body_span);
                    self.items.push(private_fn(func.clone(), body, span));
                    self.tests.push(TestDecl {
                        name: full,
                        func,
                        teardowns: teardowns.clone(),
                        span,
                    });
                }
                Entry::Describe { name, scope } => {
                    let mut path = prefix.to_vec();
                    path.push(name);
                    self.scope(p, scope, &path, &setups, &teardowns);
                }
            }
        }
    }
}

impl Parser {
    /// True when the next token is the identifier `word`.
    pub(crate) fn at_word(&self, word: &str) -> bool {
        matches!(self.peek(), TokenKind::Ident(n) if n == word)
    }

    /// Items and test entries up to `end` (of a `describe`) or end of file.
    fn test_entries(&mut self, scope: &mut Scope, top: bool) {
        loop {
            self.skip_newlines();
            if self.at(&TokenKind::Eof) || (!top && self.at(&TokenKind::End)) {
                return;
            }
            let start = self.pos;
            let word = match self.peek() {
                TokenKind::Ident(n) if is_test_item_word(n) => Some(n.clone()),
                _ => None,
            };
            let r =
                match word {
                    Some(w) => self.test_entry(&w, scope),
                    None if top => self.item().map(|i| scope.items.push(i)),
                    None => Err(self
                        .unexpected("`test`, `describe`, `setup` or `teardown` inside `describe`")),
                };
            match r {
                Ok(()) => {
                    if !(self.eat(&TokenKind::Newline)
                        || self.at(&TokenKind::Eof)
                        || (!top && self.at(&TokenKind::End)))
                    {
                        self.unexpected("end of line after the item");
                        self.recover_test_entry(top);
                    }
                }
                Err(Fail) => {
                    self.recover_test_entry(top);
                    if self.pos == start {
                        self.bump();
                    }
                }
            }
        }
    }

    /// Skips to the next line that starts an item or a test entry (or,
    /// inside a `describe`, that is its `end`).
    fn recover_test_entry(&mut self, top: bool) {
        loop {
            match self.peek() {
                TokenKind::Eof => return,
                TokenKind::Newline | TokenKind::End => {
                    self.bump();
                    if !top && self.at(&TokenKind::End) {
                        return;
                    }
                    let word = matches!(self.peek(), TokenKind::Ident(n) if is_test_item_word(n))
                        && matches!(
                            self.peek_at(1),
                            TokenKind::LParen | TokenKind::Do | TokenKind::Str(_)
                        );
                    if word || super::item::starts_item(self.peek()) {
                        return;
                    }
                }
                _ => {
                    self.bump();
                }
            }
        }
    }

    /// `test(...) do ... end`, `describe(...) do ... end`, `setup do ... end`
    /// or `teardown do ... end`; the word is the next token.
    fn test_entry(&mut self, word: &str, scope: &mut Scope) -> PResult<()> {
        let start = self.bump().span;
        match word {
            "test" => {
                let name = self.test_name("test")?;
                let body = self.do_block()?;
                let span = start.to(self.prev_span());
                scope.entries.push(Entry::Test { name, body, span });
            }
            "describe" => {
                let name = self.test_name("describe")?;
                self.expect(&TokenKind::Do)?;
                let mut inner = Scope::default();
                self.nested(|p| {
                    p.test_entries(&mut inner, false);
                    Ok(())
                })?;
                self.expect(&TokenKind::End)?;
                scope.entries.push(Entry::Describe { name, scope: inner });
            }
            _ => {
                if self.at(&TokenKind::LParen) {
                    let span = self.span();
                    self.error(
                        Code::BadTest,
                        span,
                        format!("`{word}` takes no arguments: write `{word} do ... end`"),
                    );
                    return Err(Fail);
                }
                let body = self.do_block()?;
                let span = start.to(self.prev_span());
                let slot = if word == "setup" {
                    &mut scope.setup
                } else {
                    &mut scope.teardown
                };
                if slot.is_some() {
                    self.error(
                        Code::BadTest,
                        start,
                        format!("a second `{word}` here: a file or `describe` has at most one"),
                    );
                } else {
                    *slot = Some((body, span));
                }
            }
        }
        Ok(())
    }

    /// `("name")` or `"name"`: a plain string literal.
    fn test_name(&mut self, what: &str) -> PResult<String> {
        let paren = self.eat(&TokenKind::LParen);
        let span = self.span();
        let name = match self.peek() {
            TokenKind::Str(parts) => match parts.as_slice() {
                [] => Some(String::new()),
                [StrPart::Lit(s)] => Some(s.clone()),
                _ => None,
            },
            _ => None,
        };
        let Some(name) = name else {
            self.error(
                Code::BadTest,
                span,
                format!("a `{what}` name must be a string literal without interpolation"),
            );
            return Err(Fail);
        };
        self.bump();
        if name.trim().is_empty() {
            self.error(
                Code::BadTest,
                span,
                format!("a `{what}` name must not be empty"),
            );
        }
        if paren {
            self.expect(&TokenKind::RParen)?;
        }
        Ok(name)
    }

    /// The assertion forms of test files, at the start of a primary
    /// expression (`None`: not one of them, parse as usual).
    pub(crate) fn test_form(&mut self) -> Option<PResult<Expr>> {
        if self.test_src.is_none() {
            return self.misplaced_assertion().map(Err);
        }
        let TokenKind::Ident(word) = self.peek() else {
            return None;
        };
        let word = word.clone();
        let span = self.span();
        match word.as_str() {
            "assert" => {
                self.bump();
                Some(self.assert_expr(span))
            }
            "assert_eq" | "assert_ne" | "flunk" => {
                let name = if word == "flunk" {
                    "fail".to_string()
                } else {
                    word.clone()
                };
                self.bump();
                if !self.at(&TokenKind::LParen) {
                    let found = self.peek().to_string();
                    self.error(
                        Code::BadTest,
                        span,
                        format!("`{word}` takes its arguments in parentheses, found {found}"),
                    );
                    return Some(Err(Fail));
                }
                Some(Ok(assert_fn(&name, span)))
            }
            "assert_raises" => {
                self.bump();
                Some(self.assert_raises(span))
            }
            "assert_receive" => {
                self.bump();
                Some(self.assert_receive(span))
            }
            _ => None,
        }
    }

    /// `assert expr` (after `assert`).
    fn assert_expr(&mut self, start: Span) -> PResult<Expr> {
        if matches!(
            self.peek(),
            TokenKind::Newline | TokenKind::Eof | TokenKind::End
        ) {
            return Err(self.unexpected("an expression to assert"));
        }
        let cond = self.expr()?;
        let text = self
            .test_src
            .as_ref()
            .and_then(|s| s.get(cond.span.start as usize..cond.span.end as usize))
            .unwrap_or("")
            .to_string();
        let span = start.to(cond.span);
        let text = str_lit(text, cond.span);
        Ok(call(assert_fn("assert", start), vec![cond, text], span))
    }

    /// `assert_raises do ... end` (after `assert_raises`):
    ///
    /// ```text
    /// let pid = spawn(fn -> receive do :go -> BODY end end)
    /// let ref = Process.monitor(pid)
    /// send(pid, :go)      # monitored before it runs: no race with its exit
    /// receive do
    ///   (:DOWN, r, _, _, :normal) when r == ref -> MeshTest.fail("...")
    ///   (:DOWN, r, _, _, _) when r == ref -> ()
    /// end
    /// ```
    fn assert_raises(&mut self, start: Span) -> PResult<Expr> {
        if !self.at(&TokenKind::Do) {
            return Err(self.unexpected("`do` (`assert_raises do ... end`)"));
        }
        let body = self.do_block()?;
        let s = start;
        let span = start.to(body.span);
        let go = || mk(ExprKind::Atom("go".into()), s);
        let worker = mk(
            ExprKind::Closure(vec![ClosureClause {
                params: Vec::new(),
                guard: None,
                body: mk(
                    ExprKind::Receive {
                        arms: vec![Arm {
                            pat: pat(PatternKind::Atom("go".into()), s),
                            guard: None,
                            span: body.span,
                            body,
                        }],
                        after: None,
                    },
                    span,
                ),
                span,
            }]),
            span,
        );
        let builtin = |name: &str| mk(ExprKind::Builtin(ident(name, s)), s);
        let monitor = mk(
            ExprKind::Path(Path {
                segments: vec![ident("Process", s), ident("monitor", s)],
                span: s,
            }),
            s,
        );
        let down_arm = |reason: PatternKind, body: Expr| Arm {
            pat: pat(
                PatternKind::Tuple(vec![
                    pat(PatternKind::Atom("DOWN".into()), s),
                    pat(PatternKind::Var(ident("__raises_r", s)), s),
                    pat(PatternKind::Wildcard, s),
                    pat(PatternKind::Wildcard, s),
                    pat(reason, s),
                ]),
                s,
            ),
            guard: Some(mk(
                ExprKind::Binary {
                    op: BinOp::Eq,
                    lhs: Box::new(var("__raises_r", s)),
                    rhs: Box::new(var("__raises_ref", s)),
                },
                s,
            )),
            body,
            span: s,
        };
        let failed = call(
            assert_fn("fail", s),
            vec![str_lit(
                "assert_raises: the block finished without failing".into(),
                s,
            )],
            s,
        );
        let stmts = vec![
            Stmt::Let {
                pat: pat(PatternKind::Var(ident("__raises_pid", s)), s),
                ty: None,
                value: call(builtin("spawn"), vec![worker], span),
                span,
            },
            Stmt::Let {
                pat: pat(PatternKind::Var(ident("__raises_ref", s)), s),
                ty: None,
                value: call(monitor, vec![var("__raises_pid", s)], s),
                span: s,
            },
            Stmt::Expr(call(builtin("send"), vec![var("__raises_pid", s), go()], s)),
            Stmt::Expr(mk(
                ExprKind::Receive {
                    arms: vec![
                        down_arm(PatternKind::Atom("normal".into()), failed),
                        down_arm(PatternKind::Wildcard, mk(ExprKind::Unit, s)),
                    ],
                    after: None,
                },
                s,
            )),
        ];
        Ok(mk(ExprKind::Block(stmts), span))
    }

    /// `assert_receive pattern [when guard][, ms]` (after `assert_receive`)
    /// inside an expression: the matching arm's value is `()`.
    fn assert_receive(&mut self, start: Span) -> PResult<Expr> {
        let (pattern, guard, timeout) = self.assert_receive_head()?;
        Ok(self.receive_for(start, pattern, guard, timeout, None))
    }

    #[allow(clippy::type_complexity)]
    fn assert_receive_head(&mut self) -> PResult<(Pattern, Option<Expr>, Expr)> {
        let pattern = self.pattern()?;
        let guard = if self.eat(&TokenKind::When) {
            Some(self.expr()?)
        } else {
            None
        };
        let timeout = if self.eat(&TokenKind::Comma) {
            self.skip_newlines();
            self.expr()?
        } else {
            mk(ExprKind::Int(DEFAULT_RECEIVE_MS), self.prev_span())
        };
        Ok((pattern, guard, timeout))
    }

    fn receive_for(
        &mut self,
        start: Span,
        pattern: Pattern,
        guard: Option<Expr>,
        timeout: Expr,
        rest: Option<Expr>,
    ) -> Expr {
        let head = start.to(timeout.span.to(pattern.span));
        let text = self
            .test_src
            .as_ref()
            .and_then(|s| s.get(pattern.span.start as usize..pattern.span.end as usize))
            .unwrap_or("")
            .to_string();
        let ms = match &timeout.kind {
            ExprKind::Int(n) => format!("{n} ms"),
            _ => "the timeout".to_string(),
        };
        let message = format!("assert_receive: no message matching `{text}` within {ms}");
        let failed = call(
            assert_fn("fail", start),
            vec![str_lit(message, start)],
            start,
        );
        let body = rest.unwrap_or_else(|| mk(ExprKind::Unit, head));
        let span = head.to(body.span);
        mk(
            ExprKind::Receive {
                arms: vec![Arm {
                    span: pattern.span.to(body.span),
                    pat: pattern,
                    guard,
                    body,
                }],
                after: Some((Box::new(timeout), Box::new(failed))),
            },
            span,
        )
    }

    /// At a statement start in a test file: `assert_receive ...` whose
    /// arm takes the rest of the block (up to `terminators`). `None`: not
    /// at `assert_receive`.
    pub(crate) fn assert_receive_stmt(
        &mut self,
        terminators: &[TokenKind],
    ) -> Option<PResult<Stmt>> {
        self.test_src.as_ref()?;
        if !self.at_word("assert_receive") {
            return None;
        }
        let start = self.bump().span;
        Some(self.nested(|p| {
            let (pattern, guard, timeout) = p.assert_receive_head()?;
            if !(p.eat(&TokenKind::Newline)
                || p.at(&TokenKind::Eof)
                || terminators.contains(p.peek()))
            {
                return Err(p.unexpected("end of line after `assert_receive`"));
            }
            let rest = p.block_until(terminators);
            let rest = match &rest.kind {
                ExprKind::Block(s) if s.is_empty() => None,
                _ => Some(rest),
            };
            Ok(Stmt::Expr(
                p.receive_for(start, pattern, guard, timeout, rest),
            ))
        }))
    }

    /// Outside test files: a clear error for `assert x`, `assert_raises do`
    /// and `assert_receive pat` (a call such as `assert(x)` of a function
    /// of that name stays a call).
    fn misplaced_assertion(&mut self) -> Option<Fail> {
        let TokenKind::Ident(word) = self.peek() else {
            return None;
        };
        if !matches!(word.as_str(), "assert" | "assert_raises" | "assert_receive") {
            return None;
        }
        let starts_operand = matches!(
            self.peek_at(1),
            TokenKind::Ident(_)
                | TokenKind::Int(_)
                | TokenKind::Float(_)
                | TokenKind::Str(_)
                | TokenKind::Atom(_)
                | TokenKind::True
                | TokenKind::False
                | TokenKind::Nil
                | TokenKind::Not
                | TokenKind::Bang
                | TokenKind::LBracket
                | TokenKind::LBrace
                | TokenKind::Do
        );
        if !starts_operand {
            return None;
        }
        let msg = format!(
            "`{word}` is only available in `*.test.mpl` files (run them with `meshc test`)"
        );
        let span = self.span();
        self.error(Code::BadTest, span, msg);
        Some(Fail)
    }

    /// Outside test files: a clear error for a test item.
    pub(crate) fn misplaced_test_item(&mut self) -> Option<Fail> {
        let TokenKind::Ident(word) = self.peek() else {
            return None;
        };
        if !is_test_item_word(word)
            || !matches!(
                self.peek_at(1),
                TokenKind::LParen | TokenKind::Do | TokenKind::Str(_)
            )
        {
            return None;
        }
        let msg =
            format!("`{word}` blocks belong in a `*.test.mpl` file (run them with `meshc test`)");
        let span = self.span();
        self.error(Code::BadTest, span, msg);
        Some(Fail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(src: &str) -> (SourceFile, Vec<TestDecl>) {
        let (sf, tests, diags) = parse_test_file(FileId(0), src);
        assert!(diags.is_empty(), "{diags:#?}");
        (sf, tests)
    }

    fn body_of<'a>(sf: &'a SourceFile, name: &str) -> &'a [Stmt] {
        let f = sf
            .items
            .iter()
            .find_map(|i| match &i.kind {
                ItemKind::Fn(f) if f.name.name == name => Some(f),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no function {name}"));
        match &f.clauses[0].body.kind {
            ExprKind::Block(stmts) => stmts,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn setups_are_copied_before_the_body_of_each_test() {
        let src = "import Work\n\nsetup do\n  let a = 1\nend\n\ndescribe(\"g\") do\n  setup do\n    let b = 2\n  end\n  test(\"t\") do\n    assert a < b\n  end\nend\n";
        let (sf, tests) = parse_ok(src);
        assert!(matches!(sf.items[0].kind, ItemKind::Import(_)));
        assert_eq!(tests.len(), 1);
        assert_eq!(tests[0].name, "g > t");
        assert!(tests[0].teardowns.is_empty());
        let stmts = body_of(&sf, &tests[0].func);
        assert_eq!(stmts.len(), 3);
        assert!(
            matches!(&stmts[0], Stmt::Let { pat, .. } if pat.kind == PatternKind::Var(ident("a", pat.span)))
        );
        assert!(
            matches!(&stmts[1], Stmt::Let { pat, .. } if pat.kind == PatternKind::Var(ident("b", pat.span)))
        );
        // `assert a < b` calls `MeshTest.assert(a < b, "a < b")`.
        let Stmt::Expr(Expr {
            kind: ExprKind::Block(body),
            ..
        }) = &stmts[2]
        else {
            panic!("{:?}", stmts[2])
        };
        let Stmt::Expr(Expr {
            kind: ExprKind::Call { callee, args },
            ..
        }) = &body[0]
        else {
            panic!("{:?}", body[0])
        };
        assert!(matches!(&callee.kind, ExprKind::Path(p) if p.dotted() == "MeshTest.assert"));
        assert_eq!(
            args[1].kind,
            ExprKind::Str(vec![StrPiece::Lit("a < b".into())])
        );
    }

    #[test]
    fn assert_receive_takes_the_rest_of_the_block_as_its_arm() {
        let src = "test(\"t\") do\n  assert_receive (:ok, v) when v > 1, 250\n  let w = v + 1\n  assert_eq(w, 3)\nend\n";
        let (sf, tests) = parse_ok(src);
        let stmts = body_of(&sf, &tests[0].func);
        let Stmt::Expr(Expr {
            kind: ExprKind::Block(body),
            ..
        }) = &stmts[0]
        else {
            panic!("{:?}", stmts[0])
        };
        assert_eq!(body.len(), 1);
        let Stmt::Expr(Expr {
            kind: ExprKind::Receive { arms, after },
            ..
        }) = &body[0]
        else {
            panic!("{:?}", body[0])
        };
        assert_eq!(arms.len(), 1);
        assert!(arms[0].guard.is_some());
        assert!(matches!(&arms[0].body.kind, ExprKind::Block(rest) if rest.len() == 2));
        let (ms, _) = after.as_ref().unwrap_or_else(|| panic!("no after"));
        assert_eq!(ms.kind, ExprKind::Int(250));
    }

    #[test]
    fn tests_and_teardowns_become_private_functions() {
        let src = "teardown do\n  println(\"bye\")\nend\ntest \"a\" do\n  flunk(\"no\")\nend\n";
        let (sf, tests) = parse_ok(src);
        assert_eq!(tests[0].func, "test#1");
        assert_eq!(tests[0].teardowns, vec!["teardown#1".to_string()]);
        assert!(sf.items.iter().all(|i| !i.public));
    }
}
