//! Constant folding (release builds): an expression built only from
//! literals and pure operators becomes the literal it evaluates to.
//! Anything that would fail at run time (overflow, division by zero) is
//! left alone so the error still happens, at its line.

use crate::ast::{BinOp, UnOp};
use crate::hir::{Expr, ExprKind, Literal};

/// The value of `e` when it is a constant expression.
pub(super) fn fold(e: &Expr) -> Option<Literal> {
    match &e.kind {
        ExprKind::Lit(_) => None,
        _ => eval(e, 0),
    }
}

fn eval(e: &Expr, depth: u32) -> Option<Literal> {
    if depth > 64 {
        return None;
    }
    match &e.kind {
        ExprKind::Lit(l) => Some(l.clone()),
        ExprKind::Unary { op, expr } => match (op, eval(expr, depth + 1)?) {
            (UnOp::Neg, Literal::Int(v)) => v.checked_neg().map(Literal::Int),
            (UnOp::Neg, Literal::Float(v)) => Some(Literal::Float(-v)),
            (UnOp::Not, Literal::Bool(b)) => Some(Literal::Bool(!b)),
            _ => None,
        },
        ExprKind::Binary { op, lhs, rhs } => {
            let a = eval(lhs, depth + 1)?;
            let b = eval(rhs, depth + 1)?;
            binary(*op, a, b)
        }
        _ => None,
    }
}

fn binary(op: BinOp, a: Literal, b: Literal) -> Option<Literal> {
    use Literal::{Bool, Float, Int, Str};
    Some(match (op, a, b) {
        (BinOp::Add, Int(x), Int(y)) => Int(x.checked_add(y)?),
        (BinOp::Sub, Int(x), Int(y)) => Int(x.checked_sub(y)?),
        (BinOp::Mul, Int(x), Int(y)) => Int(x.checked_mul(y)?),
        (BinOp::Div, Int(x), Int(y)) => Int(x.checked_div(y)?),
        (BinOp::Rem, Int(x), Int(y)) => Int(x.checked_rem(y)?),
        (BinOp::Add, Float(x), Float(y)) => Float(x + y),
        (BinOp::Sub, Float(x), Float(y)) => Float(x - y),
        (BinOp::Mul, Float(x), Float(y)) => Float(x * y),
        (BinOp::Div, Float(x), Float(y)) if y != 0.0 => Float(x / y),
        (BinOp::Concat, Str(x), Str(y)) => Str(x + &y),
        (BinOp::And, Bool(x), Bool(y)) => Bool(x && y),
        (BinOp::Or, Bool(x), Bool(y)) => Bool(x || y),
        (BinOp::Eq, Int(x), Int(y)) => Bool(x == y),
        (BinOp::NotEq, Int(x), Int(y)) => Bool(x != y),
        (BinOp::Lt, Int(x), Int(y)) => Bool(x < y),
        (BinOp::Le, Int(x), Int(y)) => Bool(x <= y),
        (BinOp::Gt, Int(x), Int(y)) => Bool(x > y),
        (BinOp::Ge, Int(x), Int(y)) => Bool(x >= y),
        (BinOp::Eq, Str(x), Str(y)) => Bool(x == y),
        (BinOp::NotEq, Str(x), Str(y)) => Bool(x != y),
        (BinOp::Eq, Bool(x), Bool(y)) => Bool(x == y),
        (BinOp::NotEq, Bool(x), Bool(y)) => Bool(x != y),
        _ => return None,
    })
}
