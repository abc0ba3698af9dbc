//! Random kernels, native against a reference evaluator of the IR:
//! same value or same fault (kind and pc) for every program and input.

use std::sync::Arc;

use mesh_jit::{Arith, Cmp, FaultKind, KFunc, KOp, Kernels, Run};
use proptest::prelude::*;

const NREGS: u16 = 6;

/// What the reference says a kernel does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Value(i64),
    Fault { kind: FaultKind, func: u32, pc: u32 },
}

fn arith(op: Arith, x: i64, y: i64) -> Result<i64, FaultKind> {
    let ov = FaultKind::Overflow(op);
    match op {
        Arith::Add => x.checked_add(y).ok_or(ov),
        Arith::Sub => x.checked_sub(y).ok_or(ov),
        Arith::Mul => x.checked_mul(y).ok_or(ov),
        Arith::Div if y == 0 => Err(FaultKind::DivisionByZero),
        Arith::Rem if y == 0 => Err(FaultKind::DivisionByZero),
        Arith::Div => x.checked_div(y).ok_or(ov),
        Arith::Rem => x.checked_rem(y).ok_or(ov),
    }
}

fn cmp(c: Cmp, x: i64, y: i64) -> bool {
    match c {
        Cmp::Eq => x == y,
        Cmp::Ne => x != y,
        Cmp::Lt => x < y,
        Cmp::Le => x <= y,
        Cmp::Gt => x > y,
        Cmp::Ge => x >= y,
    }
}

/// Evaluates kernel `me` of `all` on `args` (bounded programs only).
fn eval(all: &[KFunc], me: u32, args: &[i64]) -> Outcome {
    let f = &all[me as usize];
    let mut r = vec![0i64; usize::from(f.nregs)];
    r[..args.len()].copy_from_slice(args);
    let mut pc = 0usize;
    let fault = |kind, pc: usize| Outcome::Fault {
        kind,
        func: me,
        pc: pc as u32,
    };
    loop {
        let at = |x: u16| usize::from(x);
        match f.code[pc] {
            KOp::Const { dst, v } => r[at(dst)] = v,
            KOp::Move { dst, src } => r[at(dst)] = r[at(src)],
            KOp::Arith { op, dst, a, b } => match arith(op, r[at(a)], r[at(b)]) {
                Ok(v) => r[at(dst)] = v,
                Err(k) => return fault(k, pc),
            },
            KOp::ArithImm { op, dst, a, imm } => match arith(op, r[at(a)], imm) {
                Ok(v) => r[at(dst)] = v,
                Err(k) => return fault(k, pc),
            },
            KOp::Neg { dst, a } => match 0i64.checked_sub(r[at(a)]) {
                Some(v) => r[at(dst)] = v,
                None => return fault(FaultKind::NegOverflow, pc),
            },
            KOp::Not { dst, a } => r[at(dst)] = r[at(a)] ^ 1,
            KOp::Cmp { cmp: c, dst, a, b } => r[at(dst)] = i64::from(cmp(c, r[at(a)], r[at(b)])),
            KOp::CmpImm {
                cmp: c,
                dst,
                a,
                imm,
            } => r[at(dst)] = i64::from(cmp(c, r[at(a)], imm)),
            KOp::Jump { to } => {
                pc = to as usize;
                continue;
            }
            KOp::JumpIf { r: x, when, to } => {
                if (r[at(x)] != 0) == when {
                    pc = to as usize;
                    continue;
                }
            }
            KOp::BranchNot { cmp: c, a, b, to } => {
                if !cmp(c, r[at(a)], r[at(b)]) {
                    pc = to as usize;
                    continue;
                }
            }
            KOp::BranchNotImm { cmp: c, a, imm, to } => {
                if !cmp(c, r[at(a)], imm) {
                    pc = to as usize;
                    continue;
                }
            }
            KOp::Call { dst, func, base, n } => {
                let a: Vec<i64> = (0..n).map(|i| r[at(base + i)]).collect();
                match eval(all, func, &a) {
                    Outcome::Value(v) => r[at(dst)] = v,
                    f => return f,
                }
            }
            KOp::TailCall { func, base, n } => {
                let a: Vec<i64> = (0..n).map(|i| r[at(base + i)]).collect();
                return eval(all, func, &a);
            }
            KOp::Return { r: x } => return Outcome::Value(r[at(x)]),
            KOp::Fail { .. } => return fault(FaultKind::Fail, pc),
        }
        pc += 1;
    }
}

fn reg() -> impl Strategy<Value = u16> {
    0..NREGS
}

fn arith_op() -> impl Strategy<Value = Arith> {
    prop_oneof![
        Just(Arith::Add),
        Just(Arith::Sub),
        Just(Arith::Mul),
        Just(Arith::Div),
        Just(Arith::Rem)
    ]
}

fn cmp_op() -> impl Strategy<Value = Cmp> {
    prop_oneof![
        Just(Cmp::Eq),
        Just(Cmp::Ne),
        Just(Cmp::Lt),
        Just(Cmp::Le),
        Just(Cmp::Gt),
        Just(Cmp::Ge)
    ]
}

/// Interesting integers: small ones, the edges, and anything.
fn int() -> impl Strategy<Value = i64> {
    prop_oneof![
        -4i64..5,
        Just(i64::MIN),
        Just(i64::MAX),
        Just(-1i64),
        any::<i64>(),
        (-1_000_000i64..1_000_000)
    ]
}

/// One instruction at `pc` of a body of `len`, jumping only forward.
/// `callee` is the helper kernel's index when there is one.
fn op(pc: u32, len: u32, callee: Option<u32>) -> BoxedStrategy<KOp> {
    let fwd = (pc + 1)..=len;
    let mut ops: Vec<BoxedStrategy<KOp>> = vec![
        (reg(), int())
            .prop_map(|(dst, v)| KOp::Const { dst, v })
            .boxed(),
        (reg(), reg())
            .prop_map(|(dst, src)| KOp::Move { dst, src })
            .boxed(),
        (arith_op(), reg(), reg(), reg())
            .prop_map(|(op, dst, a, b)| KOp::Arith { op, dst, a, b })
            .boxed(),
        (arith_op(), reg(), reg(), int())
            .prop_map(|(op, dst, a, imm)| KOp::ArithImm { op, dst, a, imm })
            .boxed(),
        (reg(), reg())
            .prop_map(|(dst, a)| KOp::Neg { dst, a })
            .boxed(),
        (reg(), reg())
            .prop_map(|(dst, a)| KOp::Not { dst, a })
            .boxed(),
        (cmp_op(), reg(), reg(), reg())
            .prop_map(|(cmp, dst, a, b)| KOp::Cmp { cmp, dst, a, b })
            .boxed(),
        (cmp_op(), reg(), reg(), int())
            .prop_map(|(cmp, dst, a, imm)| KOp::CmpImm { cmp, dst, a, imm })
            .boxed(),
        (reg(), any::<bool>(), fwd.clone())
            .prop_map(|(r, when, to)| KOp::JumpIf { r, when, to })
            .boxed(),
        (cmp_op(), reg(), reg(), fwd.clone())
            .prop_map(|(cmp, a, b, to)| KOp::BranchNot { cmp, a, b, to })
            .boxed(),
        (cmp_op(), reg(), int(), fwd.clone())
            .prop_map(|(cmp, a, imm, to)| KOp::BranchNotImm { cmp, a, imm, to })
            .boxed(),
        (reg(),).prop_map(|(r,)| KOp::Return { r }).boxed(),
    ];
    if let Some(func) = callee {
        ops.push(
            (reg(), 0..NREGS - 1)
                .prop_map(move |(dst, base)| KOp::Call {
                    dst,
                    func,
                    base,
                    n: 2,
                })
                .boxed(),
        );
    }
    proptest::strategy::Union::new(ops).boxed()
}

/// A body of `len` instructions and a final return.
fn body(len: u32, callee: Option<u32>) -> BoxedStrategy<Vec<KOp>> {
    let ops: Vec<BoxedStrategy<KOp>> = (0..len).map(|pc| op(pc, len, callee)).collect();
    (ops, reg())
        .prop_map(|(mut code, r)| {
            code.push(KOp::Return { r });
            code
        })
        .boxed()
}

fn kernels() -> impl Strategy<Value = Vec<KFunc>> {
    (1u32..24, 1u32..12).prop_flat_map(|(main_len, helper_len)| {
        (body(main_len, Some(1)), body(helper_len, None)).prop_map(|(main, helper)| {
            vec![
                KFunc {
                    arity: 2,
                    nregs: NREGS,
                    code: main,
                    unbounded: false,
                },
                KFunc {
                    arity: 2,
                    nregs: NREGS,
                    code: helper,
                    unbounded: false,
                },
            ]
        })
    })
}

fn native(k: &Arc<Kernels>, args: &[i64]) -> Outcome {
    match Run::start(k, 0, args, 0).expect("start").finish() {
        Ok(v) => Outcome::Value(v),
        Err(f) => Outcome::Fault {
            kind: f.kind,
            func: f.func,
            pc: f.pc,
        },
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn native_code_agrees_with_the_reference(
        funcs in kernels(),
        inputs in proptest::collection::vec((int(), int()), 1..6),
    ) {
        let k = Arc::new(Kernels::compile(&funcs, 1_000_000).expect("compiles"));
        for (a, b) in inputs {
            prop_assert_eq!(native(&k, &[a, b]), eval(&funcs, 0, &[a, b]), "inputs {} {}", a, b);
        }
    }
}
