//! Items: functions, actors, services, supervisors, structs, sum types,
//! aliases, interfaces, impls, imports and modules.

use super::{Fail, PResult, Parser};
use crate::ast::*;
use crate::diag::Code;
use crate::token::TokenKind;

/// True for tokens that can begin an item (used by recovery).
pub(crate) fn starts_item(k: &TokenKind) -> bool {
    matches!(
        k,
        TokenKind::Fn
            | TokenKind::Def
            | TokenKind::Pub
            | TokenKind::Actor
            | TokenKind::Service
            | TokenKind::Supervisor
            | TokenKind::Struct
            | TokenKind::Type
            | TokenKind::Interface
            | TokenKind::Trait
            | TokenKind::Impl
            | TokenKind::Import
            | TokenKind::From
            | TokenKind::Module
            | TokenKind::At
    )
}

/// Merges consecutive single-clause functions of one name into one
/// multi-clause [`FnDecl`].
pub(crate) fn merge_clauses(items: Vec<Item>) -> Vec<Item> {
    let mut out: Vec<Item> = Vec::with_capacity(items.len());
    for item in items {
        if let (Some(prev), ItemKind::Fn(f)) = (out.last_mut(), &item.kind)
            && let ItemKind::Fn(pf) = &mut prev.kind
            && pf.name.name == f.name.name
            && item.attrs.is_empty()
        {
            pf.clauses.extend(f.clauses.iter().cloned());
            prev.span = prev.span.to(item.span);
            continue;
        }
        out.push(item);
    }
    out
}

fn merge_fn_decls(fns: Vec<FnDecl>) -> Vec<FnDecl> {
    let mut out: Vec<FnDecl> = Vec::with_capacity(fns.len());
    for f in fns {
        match out.last_mut() {
            Some(prev) if prev.name.name == f.name.name => prev.clauses.extend(f.clauses),
            _ => out.push(f),
        }
    }
    out
}

impl Parser {
    /// Items until one of `terminators` (not consumed) or end of file.
    pub(crate) fn items_until(&mut self, terminators: &[TokenKind]) -> Vec<Item> {
        let mut items = Vec::new();
        loop {
            self.skip_newlines();
            if self.at(&TokenKind::Eof) || terminators.contains(self.peek()) {
                return items;
            }
            match self.item() {
                Ok(item) => {
                    items.push(item);
                    if !(self.eat(&TokenKind::Newline)
                        || self.at(&TokenKind::Eof)
                        || starts_item(self.peek())
                        || terminators.contains(self.peek()))
                    {
                        self.unexpected("end of line after the item");
                        self.recover_item();
                    }
                }
                Err(Fail) => self.recover_item(),
            }
        }
    }

    pub(crate) fn item(&mut self) -> PResult<Item> {
        let start = self.span();
        let mut attrs = Vec::new();
        while self.at(&TokenKind::At) {
            let at = self.bump().span;
            let name = self.name_or_keyword("an attribute name")?;
            let mut args = Vec::new();
            if self.eat(&TokenKind::LParen) {
                args = self.comma_list(&TokenKind::RParen, Parser::expr)?;
            }
            attrs.push(Attribute {
                span: at.to(self.prev_span()),
                name,
                args,
            });
            self.skip_newlines();
        }
        let public = self.eat(&TokenKind::Pub);
        let kind = match self.peek() {
            TokenKind::Fn | TokenKind::Def => ItemKind::Fn(self.fn_decl()?),
            TokenKind::Actor => ItemKind::Actor(self.actor()?),
            TokenKind::Service => ItemKind::Service(self.service()?),
            TokenKind::Supervisor => ItemKind::Supervisor(self.supervisor()?),
            TokenKind::Struct => ItemKind::Struct(self.struct_decl()?),
            TokenKind::Type => self.type_decl()?,
            TokenKind::Interface | TokenKind::Trait => ItemKind::Interface(self.interface()?),
            TokenKind::Impl => ItemKind::Impl(self.impl_decl()?),
            TokenKind::Import => {
                self.bump();
                ItemKind::Import(ImportDecl {
                    path: self.path("a module name")?,
                })
            }
            TokenKind::From => ItemKind::FromImport(self.parse_from_import()?),
            TokenKind::Module => {
                self.bump();
                let name = self.path("a module name")?;
                self.expect(&TokenKind::Do)?;
                let items = self.nested(|p| Ok(p.items_until(&[TokenKind::End])))?;
                self.expect(&TokenKind::End)?;
                ItemKind::Module(ModuleDecl {
                    name,
                    items: merge_clauses(items),
                })
            }
            _ => {
                if let Some(fail) = self.misplaced_test_item() {
                    return Err(fail);
                }
                return Err(self.unexpected("an item (`fn`, `actor`, `struct`, `import`, ...)"));
            }
        };
        Ok(Item {
            kind,
            attrs,
            public,
            span: start.to(self.prev_span()),
        })
    }

    /// `A.B.c`
    pub(crate) fn path(&mut self, what: &str) -> PResult<Path> {
        let first = self.ident(what)?;
        let mut segments = vec![first];
        while self.at(&TokenKind::Dot) {
            self.bump();
            segments.push(self.name_or_keyword("a name after `.`")?);
        }
        let span = segments[0].span.to(segments[segments.len() - 1].span);
        Ok(Path { segments, span })
    }

    /// Elements separated by commas up to `close` (consumed); trailing comma allowed.
    pub(crate) fn comma_list<T>(
        &mut self,
        close: &TokenKind,
        mut f: impl FnMut(&mut Parser) -> PResult<T>,
    ) -> PResult<Vec<T>> {
        let mut out = Vec::new();
        loop {
            self.skip_newlines();
            if self.eat(close) {
                return Ok(out);
            }
            out.push(f(self)?);
            self.skip_newlines();
            if !self.eat(&TokenKind::Comma) {
                self.skip_newlines();
                self.expect(close)?;
                return Ok(out);
            }
        }
    }

    fn generics(&mut self) -> PResult<Vec<Ident>> {
        if self.eat(&TokenKind::Lt) {
            let mut out = Vec::new();
            loop {
                out.push(self.ident("a type parameter")?);
                if !self.eat(&TokenKind::Comma) {
                    break;
                }
            }
            self.expect(&TokenKind::Gt)?;
            Ok(out)
        } else {
            Ok(Vec::new())
        }
    }

    pub(crate) fn params(&mut self) -> PResult<Vec<Param>> {
        self.expect(&TokenKind::LParen)?;
        self.comma_list(&TokenKind::RParen, Parser::param)
    }

    pub(crate) fn param(&mut self) -> PResult<Param> {
        let mut pat = self.pattern_simple()?;
        // As upstream: `::` then a lowercase name, `_` or a list pattern
        // makes a cons pattern (`fn len(_ :: rest)`); otherwise `::` starts
        // the parameter's type.
        if self.at(&TokenKind::ColonColon) && self.cons_tail_follows() {
            pat = self.param_cons_tail(pat)?;
        }
        let ty = if self.eat(&TokenKind::ColonColon) {
            Some(self.type_expr()?)
        } else {
            None
        };
        let span = pat.span.to(self.prev_span());
        Ok(Param { pat, ty, span })
    }

    /// After a parameter pattern, at `::`: does a cons tail follow rather
    /// than a type?
    fn cons_tail_follows(&self) -> bool {
        match self.peek_at(1) {
            TokenKind::Ident(n) => n.starts_with(|c: char| c == '_' || c.is_lowercase()),
            TokenKind::From | TokenKind::LBracket => true,
            _ => false,
        }
    }

    /// The rest of `head :: tail ...` in a parameter, at the `::`
    /// (right-associative, as in `case`).
    fn param_cons_tail(&mut self, head: Pattern) -> PResult<Pattern> {
        self.bump();
        let mut tail = self.pattern_simple()?;
        if self.at(&TokenKind::ColonColon) && self.cons_tail_follows() {
            tail = self.param_cons_tail(tail)?;
        }
        let span = head.span.to(tail.span);
        Ok(Pattern {
            kind: PatternKind::Cons(Box::new(head), Box::new(tail)),
            span,
        })
    }

    fn fn_decl(&mut self) -> PResult<FnDecl> {
        let start = self.bump().span;
        let name = self.ident("a function name")?;
        let generics = self.generics()?;
        let params = if self.at(&TokenKind::LParen) {
            self.params()?
        } else {
            Vec::new()
        };
        let ret = if self.eat(&TokenKind::Arrow) {
            Some(self.type_expr()?)
        } else {
            None
        };
        let guard = if self.eat(&TokenKind::When) {
            Some(self.expr()?)
        } else {
            None
        };
        let body = if self.eat(&TokenKind::Eq) {
            self.skip_newlines();
            self.expr()?
        } else if self.at(&TokenKind::Do) {
            self.do_block()?
        } else {
            return Err(self.unexpected("`do` or `=` to start the function body"));
        };
        let span = start.to(self.prev_span());
        Ok(FnDecl {
            name,
            generics,
            clauses: vec![FnClause {
                params,
                ret,
                guard,
                body,
                span,
            }],
        })
    }

    fn actor(&mut self) -> PResult<ActorDecl> {
        self.bump();
        let name = self.ident("an actor name")?;
        let params = if self.at(&TokenKind::LParen) {
            self.params()?
        } else {
            Vec::new()
        };
        let start = self.expect(&TokenKind::Do)?;
        let mut stmts = Vec::new();
        let mut terminate = None;
        loop {
            let part = self.block_until(&[TokenKind::End, TokenKind::Ident("terminate".into())]);
            if let ExprKind::Block(s) = part.kind {
                stmts.extend(s);
            }
            if self.at(&TokenKind::Ident("terminate".into())) {
                self.bump();
                terminate = Some(self.do_block()?);
                continue;
            }
            break;
        }
        let end = self.expect(&TokenKind::End)?;
        Ok(ActorDecl {
            name,
            params,
            body: Expr {
                kind: ExprKind::Block(stmts),
                span: start.to(end),
            },
            terminate,
        })
    }

    fn service(&mut self) -> PResult<ServiceDecl> {
        self.bump();
        let name = self.ident("a service name")?;
        self.expect(&TokenKind::Do)?;
        let mut fns = Vec::new();
        let mut handlers = Vec::new();
        loop {
            self.skip_newlines();
            let start = self.pos;
            match self.peek() {
                TokenKind::End | TokenKind::Eof => break,
                TokenKind::Fn | TokenKind::Def => match self.fn_decl() {
                    Ok(f) => fns.push(f),
                    Err(Fail) => self.recover_stmt_from(start),
                },
                TokenKind::Pub if matches!(self.peek_at(1), TokenKind::Fn | TokenKind::Def) => {
                    self.bump();
                    match self.fn_decl() {
                        Ok(f) => fns.push(f),
                        Err(Fail) => self.recover_stmt_from(start),
                    }
                }
                TokenKind::Call | TokenKind::Cast => match self.handler() {
                    Ok(h) => handlers.push(h),
                    Err(Fail) => self.recover_stmt_from(start),
                },
                _ => {
                    self.unexpected("`fn`, `call` or `cast` in a service");
                    self.recover_stmt_from(start);
                }
            }
        }
        self.expect(&TokenKind::End)?;
        Ok(ServiceDecl {
            name,
            fns: merge_fn_decls(fns),
            handlers,
        })
    }

    fn handler(&mut self) -> PResult<Handler> {
        let kw = self.bump();
        let kind = if kw.kind == TokenKind::Call {
            HandlerKind::Call
        } else {
            HandlerKind::Cast
        };
        let name = self.ident("a handler name")?;
        let params = if self.at(&TokenKind::LParen) {
            self.params()?
        } else {
            Vec::new()
        };
        let reply = if self.eat(&TokenKind::ColonColon) {
            Some(self.type_expr()?)
        } else {
            None
        };
        let start = self.expect(&TokenKind::Do)?;
        let state = if self.eat(&TokenKind::Bar) {
            let p = self.pattern_simple()?;
            self.expect(&TokenKind::Bar)?;
            p
        } else {
            Pattern {
                kind: PatternKind::Wildcard,
                span: start,
            }
        };
        let mut body = self.block_until(&[TokenKind::End]);
        let end = self.expect(&TokenKind::End)?;
        body.span = start.to(end);
        Ok(Handler {
            kind,
            name,
            params,
            reply,
            state,
            body,
            span: kw.span.to(end),
        })
    }

    fn supervisor(&mut self) -> PResult<SupervisorDecl> {
        self.bump();
        let name = self.ident("a supervisor name")?;
        self.expect(&TokenKind::Do)?;
        let mut settings = Vec::new();
        let mut children = Vec::new();
        loop {
            self.skip_newlines();
            let start = self.pos;
            match self.peek() {
                TokenKind::End | TokenKind::Eof => break,
                TokenKind::Ident(n)
                    if n == "child" && matches!(self.peek_at(1), TokenKind::Ident(_)) =>
                {
                    let cstart = self.bump().span;
                    let r = (|| {
                        let id = self.ident("a child name")?;
                        self.expect(&TokenKind::Do)?;
                        let s = self.settings()?;
                        self.expect(&TokenKind::End)?;
                        Ok(ChildSpec {
                            id,
                            settings: s,
                            span: cstart.to(self.prev_span()),
                        })
                    })();
                    match r {
                        Ok(c) => children.push(c),
                        Err(Fail) => self.recover_stmt_from(start),
                    }
                }
                _ => match self.setting() {
                    Ok(s) => settings.push(s),
                    Err(Fail) => self.recover_stmt_from(start),
                },
            }
        }
        self.expect(&TokenKind::End)?;
        Ok(SupervisorDecl {
            name,
            settings,
            children,
        })
    }

    fn settings(&mut self) -> PResult<Vec<Setting>> {
        let mut out = Vec::new();
        loop {
            self.skip_newlines();
            if matches!(self.peek(), TokenKind::End | TokenKind::Eof) {
                return Ok(out);
            }
            out.push(self.setting()?);
        }
    }

    fn setting(&mut self) -> PResult<Setting> {
        let key = self.ident("a setting name such as `strategy:`")?;
        self.expect(&TokenKind::Colon)?;
        let value = self.expr()?;
        Ok(Setting { key, value })
    }

    fn deriving(&mut self) -> PResult<Vec<Ident>> {
        if self.eat(&TokenKind::Deriving) {
            self.expect(&TokenKind::LParen)?;
            self.comma_list(&TokenKind::RParen, |p| p.ident("a trait name"))
        } else {
            Ok(Vec::new())
        }
    }

    fn struct_decl(&mut self) -> PResult<StructDecl> {
        self.bump();
        let name = self.ident("a struct name")?;
        let generics = self.generics()?;
        self.expect(&TokenKind::Do)?;
        let mut fields = Vec::new();
        loop {
            self.skip_newlines();
            self.eat(&TokenKind::Comma);
            self.skip_newlines();
            if matches!(self.peek(), TokenKind::End | TokenKind::Eof) {
                break;
            }
            let field = self.name_or_keyword("a field name")?;
            self.expect(&TokenKind::ColonColon)?;
            let ty = self.type_expr()?;
            fields.push((field, ty));
        }
        self.expect(&TokenKind::End)?;
        let deriving = self.deriving()?;
        Ok(StructDecl {
            name,
            generics,
            fields,
            deriving,
        })
    }

    fn type_decl(&mut self) -> PResult<ItemKind> {
        self.bump();
        let name = self.ident("a type name")?;
        let generics = self.generics()?;
        if self.eat(&TokenKind::Eq) {
            let ty = self.type_expr()?;
            return Ok(ItemKind::TypeAlias(TypeAliasDecl { name, generics, ty }));
        }
        self.expect(&TokenKind::Do)?;
        let mut variants = Vec::new();
        loop {
            self.skip_newlines();
            while self.eat(&TokenKind::Bar) || self.eat(&TokenKind::Comma) {
                self.skip_newlines();
            }
            if matches!(self.peek(), TokenKind::End | TokenKind::Eof) {
                break;
            }
            let vname = self.ident("a constructor name")?;
            let fields = if self.eat(&TokenKind::LParen) {
                self.comma_list(&TokenKind::RParen, Parser::type_expr)?
            } else {
                Vec::new()
            };
            variants.push(Variant {
                span: vname.span.to(self.prev_span()),
                name: vname,
                fields,
            });
        }
        self.expect(&TokenKind::End)?;
        let deriving = self.deriving()?;
        Ok(ItemKind::SumType(SumTypeDecl {
            name,
            generics,
            variants,
            deriving,
        }))
    }

    fn interface(&mut self) -> PResult<InterfaceDecl> {
        self.bump();
        let name = self.ident("an interface name")?;
        self.generics()?;
        self.expect(&TokenKind::Do)?;
        let mut methods = Vec::new();
        loop {
            self.skip_newlines();
            if matches!(self.peek(), TokenKind::End | TokenKind::Eof) {
                break;
            }
            let start = self.span();
            if !(self.eat(&TokenKind::Fn) || self.eat(&TokenKind::Def)) {
                return Err(self.unexpected("`fn` in an interface"));
            }
            let mname = self.ident("a method name")?;
            let params = if self.at(&TokenKind::LParen) {
                self.params()?
            } else {
                Vec::new()
            };
            let ret = if self.eat(&TokenKind::Arrow) {
                Some(self.type_expr()?)
            } else {
                None
            };
            if self.at(&TokenKind::Do) {
                // A default body: parsed, not kept (interfaces are P2).
                self.do_block()?;
            }
            methods.push(FnSig {
                name: mname,
                params,
                ret,
                span: start.to(self.prev_span()),
            });
        }
        self.expect(&TokenKind::End)?;
        Ok(InterfaceDecl { name, methods })
    }

    fn impl_decl(&mut self) -> PResult<ImplDecl> {
        self.bump();
        let interface = self.path("an interface name")?;
        self.expect(&TokenKind::For)?;
        let for_type = self.type_expr()?;
        self.expect(&TokenKind::Do)?;
        let mut fns = Vec::new();
        loop {
            self.skip_newlines();
            match self.peek() {
                TokenKind::End | TokenKind::Eof => break,
                TokenKind::Fn | TokenKind::Def => fns.push(self.fn_decl()?),
                _ => return Err(self.unexpected("`fn` in an impl")),
            }
        }
        self.expect(&TokenKind::End)?;
        Ok(ImplDecl {
            interface,
            for_type,
            fns: merge_fn_decls(fns),
        })
    }

    fn parse_from_import(&mut self) -> PResult<FromImportDecl> {
        self.bump();
        let path = self.path("a module name")?;
        self.expect(&TokenKind::Import)?;
        let names = if self.eat(&TokenKind::LParen) {
            self.comma_list(&TokenKind::RParen, |p| p.ident("a name to import"))?
        } else {
            let mut names = vec![self.ident("a name to import")?];
            while self.eat(&TokenKind::Comma) {
                names.push(self.ident("a name to import")?);
            }
            names
        };
        if names.is_empty() {
            let span = self.prev_span();
            self.error(
                Code::UnexpectedToken,
                span,
                "`from ... import` needs at least one name",
            );
        }
        Ok(FromImportDecl { path, names })
    }
}
