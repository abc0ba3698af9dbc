//! Final pass over the HIR: substitute types, fill field indices and `?`
//! kinds, and warn about non-exhaustive `case` expressions.

use super::Checker;
use crate::diag::{Code, Diagnostic};
use crate::hir::{self, ExprKind as H, PatternKind as P};
use crate::types::{Type, TypeDefKind, TypeId};

impl Checker<'_> {
    pub(super) fn finalize_function(&mut self, f: &mut hir::Function) {
        for l in &mut f.locals {
            l.ty = self.u.zonk(&l.ty);
        }
        for c in &mut f.clauses {
            self.finalize_clause(c);
        }
        if let hir::FnKind::Actor { terminate: Some(t) } = &mut f.kind {
            self.finalize_expr(t);
        }
    }

    pub(super) fn finalize_closure(&mut self, c: &mut hir::Closure) {
        for l in &mut c.locals {
            l.ty = self.u.zonk(&l.ty);
        }
        for cl in &mut c.clauses {
            self.finalize_clause(cl);
        }
    }

    fn finalize_clause(&mut self, c: &mut hir::Clause) {
        for p in &mut c.params {
            self.finalize_pattern(p);
        }
        if let Some(g) = &mut c.guard {
            self.finalize_expr(g);
        }
        self.finalize_expr(&mut c.body);
    }

    fn finalize_pattern(&mut self, p: &mut hir::Pattern) {
        p.for_each_mut(&mut |q| q.ty = self.u.zonk(&q.ty));
    }

    /// Marks every type in `p` unknown (see `H::Receive` above).
    fn forget_pattern_types(&mut self, p: &mut hir::Pattern) {
        p.for_each_mut(&mut |q| q.ty = self.u.fresh());
    }

    fn finalize_expr(&mut self, e: &mut hir::Expr) {
        e.ty = self.u.zonk(&e.ty);
        match &mut e.kind {
            H::Lit(_)
            | H::Local(_)
            | H::Fn(_)
            | H::Builtin(_)
            | H::Supervisor(_)
            | H::Break
            | H::Continue => {}
            H::Interp(parts) => {
                for p in parts {
                    if let hir::InterpPart::Expr(e) = p {
                        self.finalize_expr(e);
                    }
                }
            }
            H::Tuple(es) | H::Struct { fields: es, .. } | H::Variant { args: es, .. } => {
                es.iter_mut().for_each(|e| self.finalize_expr(e));
            }
            H::List { elems, tail } => {
                elems.iter_mut().for_each(|e| self.finalize_expr(e));
                if let Some(t) = tail {
                    self.finalize_expr(t);
                }
            }
            H::Map(es) => es.iter_mut().for_each(|(k, v)| {
                self.finalize_expr(k);
                self.finalize_expr(v);
            }),
            H::Range(a, b)
            | H::Index { expr: a, index: b }
            | H::While { cond: a, body: b }
            | H::Binary { lhs: a, rhs: b, .. } => {
                self.finalize_expr(a);
                self.finalize_expr(b);
            }
            H::StructUpdate { base, updates, .. } => {
                self.finalize_expr(base);
                updates.iter_mut().for_each(|(_, e)| self.finalize_expr(e));
            }
            H::Field {
                expr,
                ty,
                index,
                name,
            } => {
                self.finalize_expr(expr);
                if let Type::Named(tid, _) = &expr.ty {
                    *ty = *tid;
                    if let Some(i) = self.types[tid.0 as usize]
                        .fields()
                        .iter()
                        .position(|(n, _)| n == name)
                    {
                        *index = super::id32(i);
                    }
                }
            }
            H::Call { callee, args } => {
                if let hir::Callee::Expr(f) = callee {
                    self.finalize_expr(f);
                }
                args.iter_mut().for_each(|e| self.finalize_expr(e));
            }
            H::Unary { expr, .. } | H::Return(expr) => self.finalize_expr(expr),
            H::Try { expr, kind } => {
                self.finalize_expr(expr);
                if let Type::Named(TypeId::OPTION, _) = &expr.ty {
                    *kind = hir::TryKind::Option;
                }
            }
            H::If { cond, then, else_ } => {
                self.finalize_expr(cond);
                self.finalize_expr(then);
                if let Some(e) = else_ {
                    self.finalize_expr(e);
                }
            }
            H::Case { scrutinee, arms } => {
                self.finalize_expr(scrutinee);
                arms.iter_mut().for_each(|a| self.finalize_arm(a));
                let warn = self.exhaustiveness(&scrutinee.ty, arms);
                if let Some(missing) = warn {
                    let span = crate::source::Span::new(
                        e.span.file,
                        e.span.start as usize,
                        e.span.start as usize + 4,
                    );
                    self.diags.push(Diagnostic::warning(
                        Code::NonExhaustive,
                        span,
                        format!("`case` does not handle {missing}"),
                    ));
                }
            }
            H::Receive { arms, after } => {
                arms.iter_mut().for_each(|a| self.finalize_arm(a));
                // A message can be any value whatever the patterns say, so
                // its shape is tested, never assumed from the pattern's type
                // (which lets the compiler drop a tuple's arity test).
                arms.iter_mut()
                    .for_each(|a| self.forget_pattern_types(&mut a.pat));
                if let Some((t, b)) = after {
                    self.finalize_expr(t);
                    self.finalize_expr(b);
                }
            }
            H::Block(stmts) => {
                for s in stmts {
                    match s {
                        hir::Stmt::Let { pat, value } => {
                            self.finalize_expr(value);
                            self.finalize_pattern(pat);
                        }
                        hir::Stmt::Expr(e) => self.finalize_expr(e),
                    }
                }
            }
            H::For {
                pat,
                iter,
                filter,
                body,
            } => {
                self.finalize_pattern(pat);
                self.finalize_expr(iter);
                if let Some(f) = filter {
                    self.finalize_expr(f);
                }
                self.finalize_expr(body);
            }
            H::Closure(c) => self.finalize_closure(c),
        }
    }

    fn finalize_arm(&mut self, a: &mut hir::Arm) {
        self.finalize_pattern(&mut a.pat);
        if let Some(g) = &mut a.guard {
            self.finalize_expr(g);
        }
        self.finalize_expr(&mut a.body);
    }

    /// Missing cases of a `case` over a sum type or `Bool`, described for a
    /// warning; `None` when exhaustive or not cheaply decidable.
    fn exhaustiveness(&self, ty: &Type, arms: &[hir::Arm]) -> Option<String> {
        let unguarded: Vec<&hir::Pattern> = arms
            .iter()
            .filter(|a| a.guard.is_none())
            .map(|a| &a.pat)
            .collect();
        if unguarded.iter().any(|p| irrefutable(p)) {
            return None;
        }
        match ty {
            Type::Named(tid, _) => {
                let def = &self.types[tid.0 as usize];
                let TypeDefKind::Sum { variants } = &def.kind else {
                    return None;
                };
                let mut covered = vec![false; variants.len()];
                for p in &unguarded {
                    cover(p, &mut covered);
                }
                let missing: Vec<String> = variants
                    .iter()
                    .zip(&covered)
                    .filter(|(_, c)| !**c)
                    .map(|(v, _)| {
                        if v.fields.is_empty() {
                            format!("`{}`", v.name)
                        } else {
                            let us = vec!["_"; v.fields.len()].join(", ");
                            format!("`{}({us})`", v.name)
                        }
                    })
                    .collect();
                (!missing.is_empty()).then(|| missing.join(", "))
            }
            Type::Bool => {
                let mut seen = [false, false];
                for p in &unguarded {
                    bools(p, &mut seen);
                }
                match seen {
                    [true, true] => None,
                    [false, true] => Some("`false`".into()),
                    [true, false] => Some("`true`".into()),
                    [false, false] => Some("`true`, `false`".into()),
                }
            }
            _ => None,
        }
    }
}

fn irrefutable(p: &hir::Pattern) -> bool {
    match &p.kind {
        P::Wildcard | P::Bind(_) => true,
        P::As(p, _) => irrefutable(p),
        P::Tuple(ps) => ps.iter().all(irrefutable),
        P::Struct { fields, .. } => fields.iter().all(|(_, p)| irrefutable(p)),
        P::Or(ps) => ps.iter().any(irrefutable),
        P::Lit(hir::Literal::Unit) => true,
        _ => false,
    }
}

fn cover(p: &hir::Pattern, covered: &mut [bool]) {
    match &p.kind {
        P::Variant { ctor, args, .. } if args.iter().all(irrefutable) => {
            if let Some(c) = covered.get_mut(*ctor as usize) {
                *c = true;
            }
        }
        P::Or(ps) => ps.iter().for_each(|p| cover(p, covered)),
        P::As(p, _) => cover(p, covered),
        _ => {}
    }
}

fn bools(p: &hir::Pattern, seen: &mut [bool; 2]) {
    match &p.kind {
        P::Lit(hir::Literal::Bool(b)) => seen[usize::from(!*b)] = true,
        P::Or(ps) => ps.iter().for_each(|p| bools(p, seen)),
        P::As(p, _) => bools(p, seen),
        _ => {}
    }
}
