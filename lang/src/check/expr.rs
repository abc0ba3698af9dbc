//! Expression inference and name resolution inside bodies.

use super::{Checker, Deferred, FnCx, Frame, Res, TypeDecl, ValueDef};
use crate::ast::{self, BinOp, UnOp};
use crate::builtins::{self, BUILTIN_MODULES, Special};
use crate::diag::Code;
use crate::hir::{self, Callee, ExprKind as H, Literal, LocalId};
use crate::source::Span;
use crate::types::{Scheme, TyVar, Type, TypeDefKind, TypeId};
use std::collections::HashMap;

fn mk(kind: H, ty: Type, span: Span) -> hir::Expr {
    hir::Expr { kind, ty, span }
}

impl Checker<'_> {
    fn error_expr(&mut self, span: Span) -> hir::Expr {
        let t = self.u.fresh();
        mk(H::Lit(Literal::Unit), t, span)
    }

    /// Infers `e` and unifies it with `expected` (closures use `expected`
    /// to type their parameters first).
    pub(super) fn check_expr(
        &mut self,
        cx: &mut FnCx,
        e: &ast::Expr,
        expected: &Type,
    ) -> hir::Expr {
        let he = match &e.kind {
            ast::ExprKind::Closure(cs) => self.infer_closure(cx, cs, e.span, Some(expected)),
            _ => self.infer_expr(cx, e),
        };
        self.unify_at(expected, &he.ty, e.span);
        he
    }

    /// Finds a local by name, threading captures through enclosing closures.
    fn lookup_local(&mut self, cx: &mut FnCx, name: &str) -> Option<LocalId> {
        let n = cx.frames.len();
        let mut found = None;
        for fi in (0..n).rev() {
            let f = &cx.frames[fi];
            let hit = f
                .scopes
                .iter()
                .rev()
                .find_map(|s| s.iter().rev().find(|(k, _)| k == name).map(|(_, id)| *id));
            if let Some(id) = hit {
                found = Some((fi, id));
                break;
            }
        }
        let (mut fi, mut id) = found?;
        while fi + 1 < n {
            let scheme = cx.frames[fi].locals[id.0 as usize].1.clone();
            let inner_frame = &mut cx.frames[fi + 1];
            let inner = inner_frame.add_local(name, scheme);
            inner_frame.captures.push(hir::Capture { outer: id, inner });
            inner_frame.scopes[0].push((name.to_string(), inner));
            fi += 1;
            id = inner;
        }
        Some(id)
    }

    fn local_expr(&mut self, cx: &mut FnCx, id: LocalId, span: Span) -> hir::Expr {
        let scheme = cx.frame().locals[id.0 as usize].1.clone();
        let t = self.u.instantiate(&scheme);
        mk(H::Local(id), t, span)
    }

    fn resolve_var(&mut self, cx: &FnCx, name: &str) -> Option<Res> {
        if let Some(s) = cx.service
            && let Some(&f) = self.svcs[s.0 as usize].helpers.get(name)
        {
            return Some(Res::Fn(f));
        }
        match self.lookup_value(cx.module, name) {
            Some(ValueDef::Fn(f)) => return Some(Res::Fn(f)),
            Some(ValueDef::Service(_)) => return Some(Res::Service),
            Some(ValueDef::Supervisor(s)) => return Some(Res::Supervisor(s)),
            None => {}
        }
        builtins::lookup(name).map(Res::Builtin)
    }

    fn svc_op(&self, s: crate::hir::ServiceId, name: &str) -> Option<Res> {
        if name == "start" {
            return Some(Res::ServiceStart(s));
        }
        self.svcs[s.0 as usize]
            .handlers
            .iter()
            .position(|h| h.op == name)
            .map(|i| Res::ServiceOp(s, super::id32(i)))
    }

    fn ctor_in_type(&self, tid: TypeId, name: &str) -> Option<u32> {
        self.types[tid.0 as usize]
            .variants()
            .iter()
            .position(|v| v.name == name)
            .map(super::id32)
    }

    /// Resolves a capitalised path (`Circle`, `Shape.Circle`, `Work.add`,
    /// `Counter.get`, `List.map`, `Api.Users.find`). Reports failures.
    pub(super) fn resolve_path(&mut self, cx: &FnCx, path: &ast::Path) -> Option<Res> {
        let m = cx.module;
        let segs = &path.segments;
        let dotted = path.dotted();
        if let [only] = segs.as_slice() {
            let n = only.name.as_str();
            if let Some((t, c)) = self.lookup_ctor(m, n) {
                return Some(Res::Ctor(t, c));
            }
            match self.lookup_value(m, n) {
                Some(ValueDef::Service(_)) => return Some(Res::Service),
                Some(ValueDef::Supervisor(s)) => return Some(Res::Supervisor(s)),
                Some(ValueDef::Fn(f)) => return Some(Res::Fn(f)),
                None => {}
            }
            if let Some(TypeDecl::Def(_)) = self.lookup_type(m, n) {
                return Some(Res::Struct);
            }
            self.err(Code::UnknownName, path.span, format!("unknown name `{n}`"));
            return None;
        }
        if let [h, t] = segs.as_slice() {
            if let Some(ValueDef::Service(s)) = self.lookup_value(m, &h.name) {
                if let Some(r) = self.svc_op(s, &t.name) {
                    return Some(r);
                }
                let msg = format!("service `{}` has no operation `{}`", h.name, t.name);
                self.err(Code::UnknownName, t.span, msg);
                return None;
            }
            if let Some(TypeDecl::Def(tid)) = self.lookup_type(m, &h.name)
                && let Some(c) = self.ctor_in_type(tid, &t.name)
            {
                return Some(Res::Ctor(tid, c));
            }
        }
        for k in (1..segs.len()).rev() {
            let prefix: Vec<&str> = segs[..k].iter().map(|s| s.name.as_str()).collect();
            let prefix = prefix.join(".");
            let rest = &segs[k..];
            if let Some(t) = self.module_named(m, &prefix) {
                return self.resolve_in_module(m, t, &prefix, rest, path.span);
            }
            if k == 1 && BUILTIN_MODULES.contains(&prefix.as_str()) && rest.len() == 1 {
                let q = format!("{prefix}.{}", rest[0].name);
                if let Some(b) = builtins::lookup(&q) {
                    return Some(Res::Builtin(b));
                }
                self.err(
                    Code::UnknownName,
                    path.span,
                    format!("module `{prefix}` has no function `{}`", rest[0].name),
                );
                return None;
            }
            if self.mods.iter().any(|md| md.name == prefix) {
                self.err(
                    Code::UnknownModule,
                    path.span,
                    format!("module `{prefix}` is not imported; add `import {prefix}`"),
                );
                return None;
            }
        }
        self.err(
            Code::UnknownName,
            path.span,
            format!("unknown name `{dotted}`"),
        );
        None
    }

    fn resolve_in_module(
        &mut self,
        from: crate::hir::ModId,
        t: crate::hir::ModId,
        module: &str,
        rest: &[ast::Ident],
        span: Span,
    ) -> Option<Res> {
        match rest {
            [name] => {
                if let Some(&(tid, c)) = self.scopes[t.0 as usize].ctors.get(&name.name) {
                    return Some(Res::Ctor(tid, c));
                }
                match self.value_in(from, t, name) {
                    Some(ValueDef::Fn(f)) => return Some(Res::Fn(f)),
                    Some(ValueDef::Service(_)) => return Some(Res::Service),
                    Some(ValueDef::Supervisor(s)) => return Some(Res::Supervisor(s)),
                    None => {}
                }
                if let Some(TypeDecl::Def(_)) = self.type_in(from, t, name) {
                    return Some(Res::Struct);
                }
            }
            [a, b] => {
                if let Some(ValueDef::Service(s)) = self.value_in(from, t, a)
                    && let Some(r) = self.svc_op(s, &b.name)
                {
                    return Some(r);
                }
                if let Some(TypeDecl::Def(tid)) = self.type_in(from, t, a)
                    && let Some(c) = self.ctor_in_type(tid, &b.name)
                {
                    return Some(Res::Ctor(tid, c));
                }
            }
            _ => {}
        }
        let names: Vec<&str> = rest.iter().map(|s| s.name.as_str()).collect();
        self.err(
            Code::UnknownName,
            span,
            format!("module `{module}` has no `{}`", names.join(".")),
        );
        None
    }

    /// A resolved name used as a value (not called).
    fn value_of(&mut self, res: Res, name: &str, span: Span) -> hir::Expr {
        match res {
            Res::Fn(id) => {
                let t = self.fn_type(id);
                mk(H::Fn(id), t, span)
            }
            Res::Builtin(b) => {
                if b.get().special.is_some() {
                    self.err(
                        Code::NotCallable,
                        span,
                        format!("`{name}` must be called directly"),
                    );
                    return self.error_expr(span);
                }
                let s = self.builtin_scheme(b);
                let t = self.u.instantiate(&s);
                mk(H::Builtin(b), t, span)
            }
            Res::Ctor(tid, c) => {
                let n = self.types[tid.0 as usize].variants()[c as usize]
                    .fields
                    .len();
                if n > 0 {
                    self.err(
                        Code::Arity,
                        span,
                        format!("constructor `{name}` takes {n} argument(s)"),
                    );
                    return self.error_expr(span);
                }
                let (t, _) = self.instantiate_def(tid);
                mk(
                    H::Variant {
                        ty: tid,
                        ctor: c,
                        args: vec![],
                    },
                    t,
                    span,
                )
            }
            Res::Supervisor(s) => mk(
                H::Supervisor(s),
                Type::Fun(vec![], Box::new(Type::Pid)),
                span,
            ),
            Res::Struct => {
                self.err(
                    Code::NotCallable,
                    span,
                    format!(
                        "struct `{name}` is a type; build a value with `{name} {{ field: value }}`"
                    ),
                );
                self.error_expr(span)
            }
            Res::Service | Res::ServiceStart(_) | Res::ServiceOp(..) => {
                self.err(
                    Code::NotCallable,
                    span,
                    format!(
                        "`{name}` is a service; call `{name}.start(...)` or one of its operations"
                    ),
                );
                self.error_expr(span)
            }
        }
    }

    pub(super) fn infer_expr(&mut self, cx: &mut FnCx, e: &ast::Expr) -> hir::Expr {
        use ast::ExprKind as E;
        let span = e.span;
        match &e.kind {
            E::Int(n) => mk(H::Lit(Literal::Int(*n)), Type::Int, span),
            E::Float(x) => mk(H::Lit(Literal::Float(*x)), Type::Float, span),
            E::Bool(b) => mk(H::Lit(Literal::Bool(*b)), Type::Bool, span),
            E::Nil | E::Unit => mk(H::Lit(Literal::Unit), Type::unit(), span),
            E::Atom(a) => mk(H::Lit(Literal::Atom(a.clone())), Type::Atom, span),
            E::Str(parts) => {
                if let [ast::StrPiece::Lit(s)] = parts.as_slice() {
                    return mk(H::Lit(Literal::Str(s.clone())), Type::String, span);
                }
                let parts = parts
                    .iter()
                    .map(|p| match p {
                        ast::StrPiece::Lit(s) => hir::InterpPart::Lit(s.clone()),
                        ast::StrPiece::Expr(e) => hir::InterpPart::Expr(self.infer_expr(cx, e)),
                    })
                    .collect();
                mk(H::Interp(parts), Type::String, span)
            }
            E::Var(id) => {
                if let Some(l) = self.lookup_local(cx, &id.name) {
                    return self.local_expr(cx, l, span);
                }
                match self.resolve_var(cx, &id.name) {
                    Some(r) => self.value_of(r, &id.name, span),
                    None => {
                        self.err(
                            Code::UnknownName,
                            span,
                            format!("unknown name `{}`", id.name),
                        );
                        self.error_expr(span)
                    }
                }
            }
            E::Builtin(id) => match builtins::lookup(&id.name) {
                Some(b) => self.value_of(Res::Builtin(b), &id.name, span),
                None => {
                    self.err(
                        Code::UnknownName,
                        span,
                        format!(
                            "`{}` is not a function here (use `Process.{}`)",
                            id.name, id.name
                        ),
                    );
                    self.error_expr(span)
                }
            },
            E::Path(p) => match self.resolve_path(cx, p) {
                Some(r) => self.value_of(r, &p.dotted(), span),
                None => self.error_expr(span),
            },
            E::List { elems, tail } => {
                let el = self.u.fresh();
                let elems = elems.iter().map(|e| self.check_expr(cx, e, &el)).collect();
                let lt = Type::list(el);
                let tail = tail.as_ref().map(|t| Box::new(self.check_expr(cx, t, &lt)));
                mk(H::List { elems, tail }, lt, span)
            }
            E::Tuple(es) => {
                let es: Vec<hir::Expr> = es.iter().map(|e| self.infer_expr(cx, e)).collect();
                let t = Type::Tuple(es.iter().map(|e| e.ty.clone()).collect());
                mk(H::Tuple(es), t, span)
            }
            E::Map(entries) => {
                let (k, v) = (self.u.fresh(), self.u.fresh());
                let entries = entries
                    .iter()
                    .map(|(ke, ve)| (self.check_expr(cx, ke, &k), self.check_expr(cx, ve, &v)))
                    .collect();
                mk(H::Map(entries), Type::Map(Box::new(k), Box::new(v)), span)
            }
            E::StructLit { name, fields } => self.struct_lit(cx, name, fields, span),
            E::StructUpdate { base, fields } => self.struct_update(cx, base, fields, span),
            E::Closure(cs) => self.infer_closure(cx, cs, span, None),
            E::Call { callee, args } => self.infer_call(cx, callee, args, span),
            E::Field { expr, name } => {
                let obj = self.infer_expr(cx, expr);
                let result = self.u.fresh();
                if !self.field_constraint(&obj.ty, &name.name, &result, name.span) {
                    self.deferred.push(Deferred::Field {
                        obj: obj.ty.clone(),
                        name: name.name.clone(),
                        result: result.clone(),
                        span: name.span,
                    });
                }
                mk(
                    H::Field {
                        expr: Box::new(obj),
                        ty: TypeId(u32::MAX),
                        index: u32::MAX,
                        name: name.name.clone(),
                    },
                    result,
                    span,
                )
            }
            E::Index { expr, index } => {
                let coll = self.infer_expr(cx, expr);
                let idx = self.infer_expr(cx, index);
                let result = self.u.fresh();
                let d = Deferred::Index {
                    coll: coll.ty.clone(),
                    index: idx.ty.clone(),
                    result: result.clone(),
                    span,
                };
                if let Some(d) = self.try_solve(d, false) {
                    self.deferred.push(d);
                }
                mk(
                    H::Index {
                        expr: Box::new(coll),
                        index: Box::new(idx),
                    },
                    result,
                    span,
                )
            }
            E::Try(inner) => {
                let inner = self.infer_expr(cx, inner);
                let result = self.u.fresh();
                let ret = cx.frame().ret.clone();
                if !self.try_constraint(&inner.ty, &result, &ret, span) {
                    self.deferred.push(Deferred::Try {
                        inner: inner.ty.clone(),
                        result: result.clone(),
                        ret,
                        span,
                    });
                }
                mk(
                    H::Try {
                        expr: Box::new(inner),
                        kind: hir::TryKind::Result,
                    },
                    result,
                    span,
                )
            }
            E::Binary { op, lhs, rhs } => self.binary(cx, *op, lhs, rhs, span),
            E::Unary { op, expr } => match op {
                UnOp::Not => {
                    let x = self.check_expr(cx, expr, &Type::Bool);
                    mk(
                        H::Unary {
                            op: *op,
                            expr: Box::new(x),
                        },
                        Type::Bool,
                        span,
                    )
                }
                UnOp::Neg => {
                    let x = self.infer_expr(cx, expr);
                    let t = x.ty.clone();
                    self.numeric(&t, "-", span);
                    mk(
                        H::Unary {
                            op: *op,
                            expr: Box::new(x),
                        },
                        t,
                        span,
                    )
                }
            },
            E::If { cond, then, else_ } => {
                let c = self.check_expr(cx, cond, &Type::Bool);
                let th = self.infer_expr(cx, then);
                match else_ {
                    Some(el) => {
                        let t = th.ty.clone();
                        let el = self.check_expr(cx, el, &t);
                        mk(
                            H::If {
                                cond: Box::new(c),
                                then: Box::new(th),
                                else_: Some(Box::new(el)),
                            },
                            t,
                            span,
                        )
                    }
                    None => mk(
                        H::If {
                            cond: Box::new(c),
                            then: Box::new(th),
                            else_: None,
                        },
                        Type::unit(),
                        span,
                    ),
                }
            }
            E::Case { scrutinee, arms } => {
                let s = self.infer_expr(cx, scrutinee);
                let result = self.u.fresh();
                let st = s.ty.clone();
                let arms = arms.iter().map(|a| self.arm(cx, a, &st, &result)).collect();
                mk(
                    H::Case {
                        scrutinee: Box::new(s),
                        arms,
                    },
                    result,
                    span,
                )
            }
            E::Receive { arms, after } => {
                let result = self.u.fresh();
                let arms = arms
                    .iter()
                    .map(|a| {
                        // Messages are dynamically typed: each arm matches its own shape.
                        let msg = self.u.fresh();
                        self.arm(cx, a, &msg, &result)
                    })
                    .collect();
                let after = after.as_ref().map(|(t, b)| {
                    let t = self.check_expr(cx, t, &Type::Int);
                    let b = self.check_expr(cx, b, &result);
                    (Box::new(t), Box::new(b))
                });
                mk(H::Receive { arms, after }, result, span)
            }
            E::Block(stmts) => self.block(cx, stmts, span),
            E::For {
                pat,
                iter,
                filter,
                body,
            } => {
                let mut it = self.infer_expr(cx, iter);
                let elem = match self.u.shallow(&it.ty) {
                    // A single name over a map takes its keys, as upstream
                    // (`for k in m`); a pattern takes `(key, value)` pairs.
                    Type::Map(k, _)
                        if matches!(
                            pat.kind,
                            ast::PatternKind::Var(_) | ast::PatternKind::Wildcard
                        ) =>
                    {
                        let keys = builtins::lookup("Map.keys");
                        if let Some(b) = keys {
                            let span = it.span;
                            it = mk(
                                H::Call {
                                    callee: Callee::Builtin(b),
                                    args: vec![it],
                                },
                                Type::list((*k).clone()),
                                span,
                            );
                        }
                        *k
                    }
                    Type::Map(k, v) => Type::Tuple(vec![*k, *v]),
                    Type::Set(a) | Type::List(a) => *a,
                    Type::Var(_) => {
                        let a = self.u.fresh();
                        self.unify_at(&Type::list(a.clone()), &it.ty, iter.span);
                        a
                    }
                    _ => {
                        let t = self.show(&it.ty);
                        self.err(
                            Code::TypeMismatch,
                            iter.span,
                            format!("cannot iterate over a value of type {t}"),
                        );
                        self.u.fresh()
                    }
                };
                cx.push_scope();
                let mut binds = Vec::new();
                let p = self.check_pattern(cx, pat, &elem, &mut binds, None);
                for (n, id) in &binds {
                    cx.bind(n, *id);
                }
                let filter = filter
                    .as_ref()
                    .map(|f| Box::new(self.check_expr(cx, f, &Type::Bool)));
                cx.frame().loops += 1;
                let b = self.infer_expr(cx, body);
                cx.frame().loops -= 1;
                cx.pop_scope();
                let t = Type::list(b.ty.clone());
                mk(
                    H::For {
                        pat: p,
                        iter: Box::new(it),
                        filter,
                        body: Box::new(b),
                    },
                    t,
                    span,
                )
            }
            E::While { cond, body } => {
                let c = self.check_expr(cx, cond, &Type::Bool);
                cx.frame().loops += 1;
                let b = self.infer_expr(cx, body);
                cx.frame().loops -= 1;
                mk(
                    H::While {
                        cond: Box::new(c),
                        body: Box::new(b),
                    },
                    Type::unit(),
                    span,
                )
            }
            E::Break | E::Continue => {
                let word = if matches!(e.kind, E::Break) {
                    "break"
                } else {
                    "continue"
                };
                if cx.frame().loops == 0 {
                    self.err(
                        Code::BadLoopControl,
                        span,
                        format!("`{word}` outside of a `for` or `while` loop"),
                    );
                }
                let t = self.u.fresh();
                let k = if word == "break" {
                    H::Break
                } else {
                    H::Continue
                };
                mk(k, t, span)
            }
            E::Return(v) => {
                let ret = cx.frame().ret.clone();
                let v = match v {
                    Some(v) => self.check_expr(cx, v, &ret),
                    None => {
                        self.unify_at(&ret, &Type::unit(), span);
                        mk(H::Lit(Literal::Unit), Type::unit(), span)
                    }
                };
                let t = self.u.fresh();
                mk(H::Return(Box::new(v)), t, span)
            }
            E::Error => self.error_expr(span),
        }
    }

    fn numeric(&mut self, t: &Type, op: &'static str, span: Span) {
        let d = Deferred::Numeric {
            ty: t.clone(),
            op,
            span,
        };
        if let Some(d) = self.try_solve(d, false) {
            self.deferred.push(d);
        }
    }

    fn binary(
        &mut self,
        cx: &mut FnCx,
        op: BinOp,
        lhs: &ast::Expr,
        rhs: &ast::Expr,
        span: Span,
    ) -> hir::Expr {
        let bin = |l: hir::Expr, r: hir::Expr, t: Type| {
            mk(
                H::Binary {
                    op,
                    lhs: Box::new(l),
                    rhs: Box::new(r),
                },
                t,
                span,
            )
        };
        match op {
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem => {
                let l = self.infer_expr(cx, lhs);
                let t = l.ty.clone();
                let r = self.check_expr(cx, rhs, &t);
                self.numeric(&t, op.as_str(), span);
                bin(l, r, t)
            }
            BinOp::Eq | BinOp::NotEq | BinOp::Lt | BinOp::Gt | BinOp::Le | BinOp::Ge => {
                let l = self.infer_expr(cx, lhs);
                let t = l.ty.clone();
                let r = self.check_expr(cx, rhs, &t);
                bin(l, r, Type::Bool)
            }
            BinOp::And | BinOp::Or => {
                let l = self.check_expr(cx, lhs, &Type::Bool);
                let r = self.check_expr(cx, rhs, &Type::Bool);
                bin(l, r, Type::Bool)
            }
            BinOp::Range => {
                let l = self.check_expr(cx, lhs, &Type::Int);
                let r = self.check_expr(cx, rhs, &Type::Int);
                mk(
                    H::Range(Box::new(l), Box::new(r)),
                    Type::list(Type::Int),
                    span,
                )
            }
            BinOp::Concat => {
                let l = self.check_expr(cx, lhs, &Type::String);
                let r = self.check_expr(cx, rhs, &Type::String);
                bin(l, r, Type::String)
            }
            BinOp::Append => {
                let l = self.infer_expr(cx, lhs);
                let t = l.ty.clone();
                let r = self.check_expr(cx, rhs, &t);
                let d = Deferred::Append {
                    ty: t.clone(),
                    span,
                };
                if let Some(d) = self.try_solve(d, false) {
                    self.deferred.push(d);
                }
                bin(l, r, t)
            }
        }
    }

    fn arm(&mut self, cx: &mut FnCx, a: &ast::Arm, scrutinee: &Type, result: &Type) -> hir::Arm {
        cx.push_scope();
        let mut binds = Vec::new();
        let pat = self.check_pattern(cx, &a.pat, scrutinee, &mut binds, None);
        for (n, id) in &binds {
            cx.bind(n, *id);
        }
        let guard = a
            .guard
            .as_ref()
            .map(|g| self.check_expr(cx, g, &Type::Bool));
        let body = self.check_expr(cx, &a.body, result);
        cx.pop_scope();
        hir::Arm { pat, guard, body }
    }

    fn block(&mut self, cx: &mut FnCx, stmts: &[ast::Stmt], span: Span) -> hir::Expr {
        cx.push_scope();
        let mut out = Vec::new();
        let mut ty = Type::unit();
        for s in stmts {
            match s {
                ast::Stmt::Let {
                    pat,
                    ty: ann,
                    value,
                    ..
                } => {
                    let v = match ann {
                        Some(te) => {
                            let t = self.resolve_type(cx.module, te, &mut cx.tvars, true);
                            self.check_expr(cx, value, &t)
                        }
                        None => self.infer_expr(cx, value),
                    };
                    let mut binds = Vec::new();
                    let p = match (&pat.kind, &value.kind) {
                        (ast::PatternKind::Var(name), ast::ExprKind::Closure(_)) => {
                            let scheme = self.generalize_local(cx, &v.ty);
                            let id = cx.frame().add_local(&name.name, scheme);
                            binds.push((name.name.clone(), id));
                            hir::Pattern {
                                kind: hir::PatternKind::Bind(id),
                                ty: v.ty.clone(),
                                span: pat.span,
                            }
                        }
                        _ => {
                            let vt = v.ty.clone();
                            self.check_pattern(cx, pat, &vt, &mut binds, None)
                        }
                    };
                    for (n, id) in &binds {
                        cx.bind(n, *id);
                    }
                    out.push(hir::Stmt::Let { pat: p, value: v });
                    ty = Type::unit();
                }
                ast::Stmt::Expr(e) => {
                    let he = self.infer_expr(cx, e);
                    ty = he.ty.clone();
                    out.push(hir::Stmt::Expr(he));
                }
            }
        }
        cx.pop_scope();
        mk(H::Block(out), ty, span)
    }

    /// Let-polymorphism for `let f = fn ... end`: quantifies variables not
    /// free in the environment nor in pending constraints.
    fn generalize_local(&mut self, cx: &FnCx, t: &Type) -> Scheme {
        let mut env: Vec<TyVar> = Vec::new();
        for f in &cx.frames {
            for (_, s) in &f.locals {
                let mut vs = Vec::new();
                self.u.zonk(&s.ty).vars(&mut vs);
                vs.retain(|v| !s.vars.contains(v));
                env.extend(vs);
            }
            self.u.zonk(&f.ret).vars(&mut env);
        }
        for f in &self.fns {
            if f.scheme.is_none()
                && let Some(m) = &f.mono
            {
                self.u.zonk(m).vars(&mut env);
            }
        }
        for s in &self.svcs {
            self.u.zonk(&s.state).vars(&mut env);
        }
        for d in &self.deferred {
            let ts: Vec<&Type> = match d {
                Deferred::Field { obj, result, .. } => vec![obj, result],
                Deferred::Numeric { ty, .. } | Deferred::Append { ty, .. } => vec![ty],
                Deferred::Index {
                    coll,
                    index,
                    result,
                    ..
                } => vec![coll, index, result],
                Deferred::Try {
                    inner, result, ret, ..
                } => vec![inner, result, ret],
            };
            for t in ts {
                self.u.zonk(t).vars(&mut env);
            }
        }
        let t = self.u.zonk(t);
        let mut vars = Vec::new();
        t.vars(&mut vars);
        vars.retain(|v| !env.contains(v));
        Scheme { vars, ty: t }
    }

    pub(super) fn infer_closure(
        &mut self,
        cx: &mut FnCx,
        clauses: &[ast::ClosureClause],
        span: Span,
        expected: Option<&Type>,
    ) -> hir::Expr {
        let arity = clauses.first().map_or(0, |c| c.params.len());
        let (ptys, ret) = match expected.map(|t| self.u.shallow(t)) {
            Some(Type::Fun(ps, r)) if ps.len() == arity => (ps, *r),
            _ => ((0..arity).map(|_| self.u.fresh()).collect(), self.u.fresh()),
        };
        cx.frames.push(Frame::new(ret.clone()));
        let mut out = Vec::new();
        for c in clauses {
            if c.params.len() != arity {
                self.err(
                    Code::Arity,
                    c.span,
                    format!(
                        "all clauses of a closure must take {arity} argument(s); this one takes {}",
                        c.params.len()
                    ),
                );
                continue;
            }
            cx.push_scope();
            let mut binds = Vec::new();
            let params = self.params(cx, &c.params, &ptys, &mut binds);
            let guard = c
                .guard
                .as_ref()
                .map(|g| self.check_expr(cx, g, &Type::Bool));
            let body = self.check_expr(cx, &c.body, &ret);
            cx.pop_scope();
            out.push(hir::Clause {
                params,
                guard,
                body,
            });
        }
        let frame = cx.frames.pop().unwrap_or_else(|| Frame::new(Type::unit()));
        let closure = hir::Closure {
            arity,
            clauses: out,
            captures: frame.captures,
            locals: frame
                .locals
                .into_iter()
                .map(|(name, s)| hir::LocalInfo { name, ty: s.ty })
                .collect(),
        };
        mk(
            H::Closure(Box::new(closure)),
            Type::Fun(ptys, Box::new(ret)),
            span,
        )
    }

    fn infer_call(
        &mut self,
        cx: &mut FnCx,
        callee: &ast::Expr,
        args: &[ast::Expr],
        span: Span,
    ) -> hir::Expr {
        use ast::ExprKind as E;
        let res = match &callee.kind {
            E::Var(id) => {
                if let Some(l) = self.lookup_local(cx, &id.name) {
                    let f = self.local_expr(cx, l, callee.span);
                    return self.apply(cx, f, args, &id.name, span);
                }
                match self.resolve_var(cx, &id.name) {
                    Some(r) => Some((r, id.name.clone())),
                    None => {
                        self.err(
                            Code::UnknownName,
                            callee.span,
                            format!("unknown function `{}`", id.name),
                        );
                        None
                    }
                }
            }
            E::Builtin(id) => match builtins::lookup(&id.name) {
                Some(b) => Some((Res::Builtin(b), id.name.clone())),
                None => {
                    self.err(
                        Code::UnknownName,
                        callee.span,
                        format!(
                            "`{}` is not a function here (use `Process.{}`)",
                            id.name, id.name
                        ),
                    );
                    None
                }
            },
            E::Path(p) => self.resolve_path(cx, p).map(|r| (r, p.dotted())),
            E::Field { name, .. } => {
                self.err(
                    Code::Unsupported,
                    name.span,
                    format!(
                        "method call syntax `.{}()` is not supported yet; call `{}(value, ...)`",
                        name.name, name.name
                    ),
                );
                None
            }
            _ => {
                let f = self.infer_expr(cx, callee);
                return self.apply(cx, f, args, "this expression", span);
            }
        };
        let Some((res, name)) = res else {
            for a in args {
                self.infer_expr(cx, a);
            }
            return self.error_expr(span);
        };
        match res {
            Res::Fn(id) => {
                let t = self.fn_type(id);
                let (args, ret) = self.call_args(cx, &t, args, &name, span);
                mk(
                    H::Call {
                        callee: Callee::Fn(id),
                        args,
                    },
                    ret,
                    span,
                )
            }
            Res::Builtin(b) => {
                // `List.sort(xs, cmp)`, upstream's comparator form.
                let b = match builtins::lookup("List.sort_with") {
                    Some(with) if b.get().name == "List.sort" && args.len() == 2 => with,
                    _ => b,
                };
                if let Some(Special::Spawn { fun_index }) = b.get().special {
                    return self.spawn_call(cx, b, fun_index, args, &name, span);
                }
                let s = self.builtin_scheme(b);
                let t = self.u.instantiate(&s);
                let (args, ret) = self.call_args(cx, &t, args, &name, span);
                if let op @ ("Math.abs" | "Math.min" | "Math.max") = b.get().name {
                    self.numeric(&ret, op, span);
                }
                mk(
                    H::Call {
                        callee: Callee::Builtin(b),
                        args,
                    },
                    ret,
                    span,
                )
            }
            Res::Ctor(tid, c) => {
                let (t, map) = self.instantiate_def(tid);
                let fields: Vec<Type> = self.types[tid.0 as usize].variants()[c as usize]
                    .fields
                    .iter()
                    .map(|f| f.substitute(&map))
                    .collect();
                let ft = Type::Fun(fields, Box::new(t));
                let (args, ret) = self.call_args(cx, &ft, args, &name, span);
                mk(
                    H::Variant {
                        ty: tid,
                        ctor: c,
                        args,
                    },
                    ret,
                    span,
                )
            }
            Res::ServiceStart(s) => {
                let Some(init) = self.svcs[s.0 as usize].init else {
                    return self.error_expr(span);
                };
                let it = self.fn_type(init);
                let params = match self.u.shallow(&it) {
                    Type::Fun(ps, _) => ps,
                    _ => vec![],
                };
                let ft = Type::Fun(params, Box::new(Type::Pid));
                let (args, ret) = self.call_args(cx, &ft, args, &name, span);
                mk(
                    H::Call {
                        callee: Callee::ServiceStart(s),
                        args,
                    },
                    ret,
                    span,
                )
            }
            Res::ServiceOp(s, idx) => {
                let h = &self.svcs[s.0 as usize].handlers[idx as usize];
                let (f, reply) = (h.function, h.reply.clone());
                let ft0 = self.fn_type(f);
                let mut params = match self.u.shallow(&ft0) {
                    Type::Fun(ps, _) => ps,
                    _ => vec![],
                };
                params.pop();
                params.insert(0, Type::Pid);
                let ft = Type::Fun(params, Box::new(reply.unwrap_or_else(Type::unit)));
                let (args, ret) = self.call_args(cx, &ft, args, &name, span);
                mk(
                    H::Call {
                        callee: Callee::ServiceOp {
                            service: s,
                            handler: idx,
                        },
                        args,
                    },
                    ret,
                    span,
                )
            }
            Res::Struct | Res::Service | Res::Supervisor(_) => {
                let f = self.value_of(res, &name, callee.span);
                self.apply(cx, f, args, &name, span)
            }
        }
    }

    /// Calls a function-valued expression.
    fn apply(
        &mut self,
        cx: &mut FnCx,
        f: hir::Expr,
        args: &[ast::Expr],
        name: &str,
        span: Span,
    ) -> hir::Expr {
        let t = f.ty.clone();
        let (args, ret) = self.call_args(cx, &t, args, name, span);
        mk(
            H::Call {
                callee: Callee::Expr(Box::new(f)),
                args,
            },
            ret,
            span,
        )
    }

    /// Checks `args` against function type `t`; returns them and the result type.
    fn call_args(
        &mut self,
        cx: &mut FnCx,
        t: &Type,
        args: &[ast::Expr],
        name: &str,
        span: Span,
    ) -> (Vec<hir::Expr>, Type) {
        let t = match self.u.shallow(t) {
            Type::Var(_) => {
                let ps: Vec<Type> = args.iter().map(|_| self.u.fresh()).collect();
                let r = self.u.fresh();
                let ft = Type::Fun(ps, Box::new(r));
                self.unify_at(t, &ft, span);
                ft
            }
            other => other,
        };
        let Type::Fun(ps, ret) = t else {
            let shown = self.show(&t);
            self.err(
                Code::NotCallable,
                span,
                format!("`{name}` is not a function (its type is {shown})"),
            );
            let args = args.iter().map(|a| self.infer_expr(cx, a)).collect();
            return (args, self.u.fresh());
        };
        if ps.len() != args.len() {
            self.err(
                Code::Arity,
                span,
                format!(
                    "`{name}` takes {} argument(s) but {} were given",
                    ps.len(),
                    args.len()
                ),
            );
            let args = args.iter().map(|a| self.infer_expr(cx, a)).collect();
            return (args, *ret);
        }
        let args = args
            .iter()
            .zip(&ps)
            .map(|(a, p)| self.check_expr(cx, a, p))
            .collect();
        (args, *ret)
    }

    fn spawn_call(
        &mut self,
        cx: &mut FnCx,
        b: builtins::BuiltinId,
        fun_index: usize,
        args: &[ast::Expr],
        name: &str,
        span: Span,
    ) -> hir::Expr {
        if args.len() <= fun_index {
            self.err(
                Code::Arity,
                span,
                format!(
                    "`{name}` needs a function or actor to run as argument {}",
                    fun_index + 1
                ),
            );
            for a in args {
                self.infer_expr(cx, a);
            }
            return self.error_expr(span);
        }
        let s = self.builtin_scheme(b);
        let fixed = match self.u.instantiate(&s) {
            Type::Fun(ps, _) => ps,
            _ => vec![],
        };
        let mut out = Vec::new();
        for (a, p) in args[..fun_index].iter().zip(&fixed) {
            out.push(self.check_expr(cx, a, p));
        }
        let target = self.infer_expr(cx, &args[fun_index]);
        let extra: Vec<hir::Expr> = args[fun_index + 1..]
            .iter()
            .map(|a| self.infer_expr(cx, a))
            .collect();
        let want = Type::Fun(
            extra.iter().map(|e| e.ty.clone()).collect(),
            Box::new(self.u.fresh()),
        );
        match self.u.shallow(&target.ty) {
            Type::Fun(ps, _) if ps.len() != extra.len() => {
                self.err(
                    Code::Arity,
                    target.span,
                    format!(
                        "this process function takes {} argument(s) but `{name}` passes {}",
                        ps.len(),
                        extra.len()
                    ),
                );
            }
            _ => {
                self.unify_at(&want, &target.ty, target.span);
            }
        }
        out.push(target);
        out.extend(extra);
        mk(
            H::Call {
                callee: Callee::Builtin(b),
                args: out,
            },
            Type::Pid,
            span,
        )
    }

    /// Resolves the struct named by `path`.
    pub(super) fn struct_type(&mut self, cx: &FnCx, path: &ast::Path) -> Option<TypeId> {
        let decl = if let [only] = path.segments.as_slice() {
            self.lookup_type(cx.module, &only.name)
        } else {
            let (last, prefix) = path.segments.split_last()?;
            let pre: Vec<&str> = prefix.iter().map(|s| s.name.as_str()).collect();
            let pre = pre.join(".");
            match self.module_named(cx.module, &pre) {
                Some(t) => self.type_in(cx.module, t, last),
                None => None,
            }
        };
        match decl {
            Some(TypeDecl::Def(tid))
                if matches!(self.types[tid.0 as usize].kind, TypeDefKind::Struct { .. }) =>
            {
                Some(tid)
            }
            _ => {
                let name = path.dotted();
                self.err(
                    Code::UnknownType,
                    path.span,
                    format!("unknown struct `{name}`"),
                );
                None
            }
        }
    }

    fn struct_lit(
        &mut self,
        cx: &mut FnCx,
        path: &ast::Path,
        fields: &[(ast::Ident, ast::Expr)],
        span: Span,
    ) -> hir::Expr {
        let Some(tid) = self.struct_type(cx, path) else {
            for (_, e) in fields {
                self.infer_expr(cx, e);
            }
            return self.error_expr(span);
        };
        let (t, map) = self.instantiate_def(tid);
        let decl: Vec<(String, Type)> = self.types[tid.0 as usize]
            .fields()
            .iter()
            .map(|(n, ft)| (n.clone(), ft.substitute(&map)))
            .collect();
        let sname = self.types[tid.0 as usize].name.clone();
        let mut slots: Vec<Option<hir::Expr>> = vec![None; decl.len()];
        for (fname, fe) in fields {
            match decl.iter().position(|(n, _)| *n == fname.name) {
                Some(i) => {
                    let v = self.check_expr(cx, fe, &decl[i].1);
                    if slots[i].is_some() {
                        self.err(
                            Code::DuplicateDefinition,
                            fname.span,
                            format!("field `{}` is given twice", fname.name),
                        );
                    }
                    slots[i] = Some(v);
                }
                None => {
                    self.err(
                        Code::UnknownField,
                        fname.span,
                        format!("struct `{sname}` has no field `{}`", fname.name),
                    );
                    self.infer_expr(cx, fe);
                }
            }
        }
        let mut out = Vec::new();
        for (i, s) in slots.into_iter().enumerate() {
            match s {
                Some(e) => out.push(e),
                None => {
                    self.err(
                        Code::MissingField,
                        span,
                        format!("missing field `{}` in `{sname}`", decl[i].0),
                    );
                    out.push(self.error_expr(span));
                }
            }
        }
        mk(
            H::Struct {
                ty: tid,
                fields: out,
            },
            t,
            span,
        )
    }

    fn struct_update(
        &mut self,
        cx: &mut FnCx,
        base: &ast::Expr,
        fields: &[(ast::Ident, ast::Expr)],
        span: Span,
    ) -> hir::Expr {
        let b = self.infer_expr(cx, base);
        let tid = match self.u.shallow(&b.ty) {
            Type::Named(tid, _)
                if matches!(self.types[tid.0 as usize].kind, TypeDefKind::Struct { .. }) =>
            {
                Some(tid)
            }
            Type::Var(_) => {
                let cands: Vec<TypeId> = self
                    .types
                    .iter()
                    .filter(|d| {
                        matches!(d.kind, TypeDefKind::Struct { .. })
                            && fields
                                .iter()
                                .all(|(f, _)| d.fields().iter().any(|(n, _)| *n == f.name))
                    })
                    .map(|d| d.id)
                    .collect();
                if let [tid] = cands.as_slice() {
                    let (t, _) = self.instantiate_def(*tid);
                    self.unify_at(&t, &b.ty, base.span);
                    Some(*tid)
                } else {
                    self.err(
                        Code::CannotInfer,
                        base.span,
                        "cannot infer the struct type being updated; add a type annotation",
                    );
                    None
                }
            }
            _ => {
                let t = self.show(&b.ty);
                self.err(
                    Code::TypeMismatch,
                    base.span,
                    format!("`%{{x | ...}}` needs a struct, found {t}"),
                );
                None
            }
        };
        let Some(tid) = tid else {
            return self.error_expr(span);
        };
        let args = match self.u.shallow(&b.ty) {
            Type::Named(_, a) => a,
            _ => vec![],
        };
        let def = &self.types[tid.0 as usize];
        let map: HashMap<TyVar, Type> = def.params.iter().copied().zip(args).collect();
        let decl: Vec<(String, Type)> = def
            .fields()
            .iter()
            .map(|(n, t)| (n.clone(), t.substitute(&map)))
            .collect();
        let sname = def.name.clone();
        let mut updates = Vec::new();
        for (fname, fe) in fields {
            match decl.iter().position(|(n, _)| *n == fname.name) {
                Some(i) => {
                    let v = self.check_expr(cx, fe, &decl[i].1);
                    updates.push((super::id32(i), v));
                }
                None => {
                    self.err(
                        Code::UnknownField,
                        fname.span,
                        format!("struct `{sname}` has no field `{}`", fname.name),
                    );
                    self.infer_expr(cx, fe);
                }
            }
        }
        let t = b.ty.clone();
        mk(
            H::StructUpdate {
                ty: tid,
                base: Box::new(b),
                updates,
            },
            t,
            span,
        )
    }
}
