//! How many times each local is read in a body, for moving a value out at
//! its only use (so lists and maps stay unshared and are updated in
//! place). Closure bodies have their own locals; a capture counts as a use
//! of the captured outer local.

use crate::hir::{Callee, Expr, ExprKind, InterpPart, Stmt};

/// Adds the uses of locals in `e` to `uses`.
pub(super) fn count(e: &Expr, uses: &mut [u32]) {
    let mut bump = |l: u32| {
        if let Some(n) = uses.get_mut(l as usize) {
            *n = n.saturating_add(1);
        }
    };
    match &e.kind {
        ExprKind::Local(l) => bump(l.0),
        ExprKind::Closure(c) => {
            for cap in &c.captures {
                bump(cap.outer.0);
            }
        }
        _ => {}
    }
    children(e, &mut |c| count(c, uses));
}

/// Calls `f` on each direct sub-expression of `e` (not closure bodies).
fn children(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    match &e.kind {
        ExprKind::Lit(_)
        | ExprKind::Local(_)
        | ExprKind::Fn(_)
        | ExprKind::Builtin(_)
        | ExprKind::Supervisor(_)
        | ExprKind::Break
        | ExprKind::Continue
        | ExprKind::Closure(_) => {}
        ExprKind::Interp(parts) => {
            for p in parts {
                if let InterpPart::Expr(x) = p {
                    f(x);
                }
            }
        }
        ExprKind::Tuple(xs) => xs.iter().for_each(&mut *f),
        ExprKind::List { elems, tail } => {
            elems.iter().for_each(&mut *f);
            if let Some(t) = tail {
                f(t);
            }
        }
        ExprKind::Map(pairs) => {
            for (k, v) in pairs {
                f(k);
                f(v);
            }
        }
        ExprKind::Range(a, b) => {
            f(a);
            f(b);
        }
        ExprKind::Struct { fields, .. } => fields.iter().for_each(&mut *f),
        ExprKind::StructUpdate { base, updates, .. } => {
            f(base);
            for (_, v) in updates {
                f(v);
            }
        }
        ExprKind::Variant { args, .. } => args.iter().for_each(&mut *f),
        ExprKind::Field { expr, .. } => f(expr),
        ExprKind::Index { expr, index } => {
            f(expr);
            f(index);
        }
        ExprKind::Call { callee, args } => {
            if let Callee::Expr(x) = callee {
                f(x);
            }
            args.iter().for_each(&mut *f);
        }
        ExprKind::Binary { lhs, rhs, .. } => {
            f(lhs);
            f(rhs);
        }
        ExprKind::Unary { expr, .. } => f(expr),
        ExprKind::If { cond, then, else_ } => {
            f(cond);
            f(then);
            if let Some(x) = else_ {
                f(x);
            }
        }
        ExprKind::Case { scrutinee, arms } => {
            f(scrutinee);
            for a in arms {
                if let Some(g) = &a.guard {
                    f(g);
                }
                f(&a.body);
            }
        }
        ExprKind::Receive { arms, after } => {
            for a in arms {
                if let Some(g) = &a.guard {
                    f(g);
                }
                f(&a.body);
            }
            if let Some((t, b)) = after {
                f(t);
                f(b);
            }
        }
        ExprKind::Block(stmts) => {
            for s in stmts {
                match s {
                    Stmt::Let { value, .. } => f(value),
                    Stmt::Expr(x) => f(x),
                }
            }
        }
        ExprKind::For {
            iter, filter, body, ..
        } => {
            f(iter);
            if let Some(x) = filter {
                f(x);
            }
            f(body);
        }
        ExprKind::While { cond, body } => {
            f(cond);
            f(body);
        }
        ExprKind::Return(x) | ExprKind::Try { expr: x, .. } => f(x),
    }
}
