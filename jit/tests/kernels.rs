//! Kernels compiled and run: values, faults with their pc, preemption by
//! budget, cancellation, and IR the code generator refuses.

use std::sync::Arc;

use mesh_jit::{Arith, Cmp, FaultKind, IrError, JitError, KFunc, KOp, Kernels, Poll, Run};

fn fib() -> KFunc {
    KFunc {
        arity: 1,
        nregs: 4,
        unbounded: true,
        code: vec![
            KOp::BranchNotImm {
                cmp: Cmp::Lt,
                a: 0,
                imm: 2,
                to: 2,
            },
            KOp::Return { r: 0 },
            KOp::ArithImm {
                op: Arith::Add,
                dst: 2,
                a: 0,
                imm: -1,
            },
            KOp::Call {
                dst: 1,
                func: 0,
                base: 2,
                n: 1,
            },
            KOp::ArithImm {
                op: Arith::Add,
                dst: 3,
                a: 0,
                imm: -2,
            },
            KOp::Call {
                dst: 2,
                func: 0,
                base: 3,
                n: 1,
            },
            KOp::Arith {
                op: Arith::Add,
                dst: 1,
                a: 1,
                b: 2,
            },
            KOp::Return { r: 1 },
        ],
    }
}

/// `loop(i, acc)`: `if i == 0 do acc else loop(i - 1, (acc + i * 3) % 1000003) end`.
fn counting_loop() -> KFunc {
    KFunc {
        arity: 2,
        nregs: 8,
        unbounded: true,
        code: vec![
            KOp::BranchNotImm {
                cmp: Cmp::Eq,
                a: 0,
                imm: 0,
                to: 2,
            },
            KOp::Return { r: 1 },
            KOp::ArithImm {
                op: Arith::Add,
                dst: 4,
                a: 0,
                imm: -1,
            },
            KOp::ArithImm {
                op: Arith::Mul,
                dst: 7,
                a: 0,
                imm: 3,
            },
            KOp::Arith {
                op: Arith::Add,
                dst: 6,
                a: 1,
                b: 7,
            },
            KOp::ArithImm {
                op: Arith::Rem,
                dst: 5,
                a: 6,
                imm: 1_000_003,
            },
            KOp::TailCall {
                func: 1,
                base: 4,
                n: 2,
            },
        ],
    }
}

/// `a op b` as a bounded kernel.
fn binop(op: Arith) -> KFunc {
    KFunc {
        arity: 2,
        nregs: 3,
        unbounded: false,
        code: vec![
            KOp::Arith {
                op,
                dst: 2,
                a: 0,
                b: 1,
            },
            KOp::Return { r: 2 },
        ],
    }
}

fn compile(funcs: &[KFunc]) -> Arc<Kernels> {
    Arc::new(Kernels::compile(funcs, 1_000_000).expect("kernels compile"))
}

fn run(k: &Arc<Kernels>, func: u32, args: &[i64]) -> Result<i64, mesh_jit::Fault> {
    Run::start(k, func, args, 0).expect("start").finish()
}

fn fib_ref(n: i64) -> i64 {
    if n < 2 {
        n
    } else {
        fib_ref(n - 1) + fib_ref(n - 2)
    }
}

#[test]
fn recursion_and_loops_compute_what_the_interpreter_would() {
    let k = compile(&[fib(), counting_loop()]);
    for n in [0, 1, 2, 10, 20, 25] {
        assert_eq!(run(&k, 0, &[n]), Ok(fib_ref(n)), "fib({n})");
    }
    let mut acc = 0i64;
    for i in (1..=100_000i64).rev() {
        acc = (acc + i * 3) % 1_000_003;
    }
    assert_eq!(run(&k, 1, &[100_000, 0]), Ok(acc));
}

#[test]
fn a_spent_budget_suspends_the_run_and_more_budget_finishes_it() {
    let k = compile(&[fib(), counting_loop()]);
    let mut r = Run::start(&k, 1, &[1_000_000, 0], 0).expect("start");
    let mut slices = 0;
    let value = loop {
        slices += 1;
        assert!(slices < 1_000, "a million iterations at 2,000 a slice ends");
        match r.resume(2_000) {
            Poll::Yielded => {}
            Poll::Done { value, budget } => {
                assert!((0..2_000).contains(&budget));
                break value;
            }
            Poll::Fault(f) => panic!("fault {f:?}"),
        }
    };
    // One unit per iteration plus the entry: 500 full slices, then the end.
    assert_eq!(slices, 501);
    let mut acc = 0i64;
    for i in (1..=1_000_000i64).rev() {
        acc = (acc + i * 3) % 1_000_003;
    }
    assert_eq!(value, acc);

    // Recursion yields too, deep inside, and resumes where it was.
    let mut r = Run::start(&k, 0, &[22], 0).expect("start");
    let mut yields = 0;
    let v = loop {
        match r.resume(1_000) {
            Poll::Yielded => yields += 1,
            Poll::Done { value, .. } => break value,
            Poll::Fault(f) => panic!("fault {f:?}"),
        }
    };
    assert_eq!(v, fib_ref(22));
    assert!(
        yields > 50,
        "{yields} yields for 57,313 calls at 1,000 a slice"
    );
}

#[test]
fn a_run_dropped_while_suspended_is_cancelled_and_its_stack_reused() {
    let k = compile(&[fib(), counting_loop()]);
    for _ in 0..20 {
        let mut r = Run::start(&k, 0, &[40], 0).expect("start");
        assert_eq!(r.resume(500), Poll::Yielded);
        drop(r);
    }
    // A run dropped before it ever ran.
    drop(Run::start(&k, 0, &[40], 0).expect("start"));
    // Runs after cancelled ones still compute.
    assert_eq!(run(&k, 0, &[15]), Ok(fib_ref(15)));
}

#[test]
fn arithmetic_faults_name_the_kernel_and_pc() {
    let k = compile(&[
        binop(Arith::Add),
        binop(Arith::Sub),
        binop(Arith::Mul),
        binop(Arith::Div),
        binop(Arith::Rem),
    ]);
    let fault =
        |func: u32, a: i64, b: i64| run(&k, func, &[a, b]).map_err(|f| (f.kind, f.func, f.pc));
    assert_eq!(
        fault(0, i64::MAX, 1),
        Err((FaultKind::Overflow(Arith::Add), 0, 0))
    );
    assert_eq!(
        fault(1, i64::MIN, 1),
        Err((FaultKind::Overflow(Arith::Sub), 1, 0))
    );
    assert_eq!(
        fault(2, i64::MAX, 2),
        Err((FaultKind::Overflow(Arith::Mul), 2, 0))
    );
    assert_eq!(fault(3, 7, 0), Err((FaultKind::DivisionByZero, 3, 0)));
    assert_eq!(fault(4, 7, 0), Err((FaultKind::DivisionByZero, 4, 0)));
    assert_eq!(
        fault(3, i64::MIN, -1),
        Err((FaultKind::Overflow(Arith::Div), 3, 0))
    );
    assert_eq!(
        fault(4, i64::MIN, -1),
        Err((FaultKind::Overflow(Arith::Rem), 4, 0))
    );
    assert_eq!(fault(3, -7, 2), Ok(-3));
    assert_eq!(fault(4, -7, 2), Ok(-1));
    assert_eq!(fault(0, 40, 2), Ok(42));
}

#[test]
fn a_fault_deep_in_recursion_reaches_the_caller() {
    // f(n) = if n == 0 do 1 / 0 else f(n - 1) + 1
    let f = KFunc {
        arity: 1,
        nregs: 4,
        unbounded: true,
        code: vec![
            KOp::BranchNotImm {
                cmp: Cmp::Eq,
                a: 0,
                imm: 0,
                to: 4,
            },
            KOp::Const { dst: 1, v: 1 },
            KOp::ArithImm {
                op: Arith::Div,
                dst: 1,
                a: 1,
                imm: 0,
            },
            KOp::Return { r: 1 },
            KOp::ArithImm {
                op: Arith::Add,
                dst: 2,
                a: 0,
                imm: -1,
            },
            KOp::Call {
                dst: 3,
                func: 0,
                base: 2,
                n: 1,
            },
            KOp::ArithImm {
                op: Arith::Add,
                dst: 3,
                a: 3,
                imm: 1,
            },
            KOp::Return { r: 3 },
        ],
    };
    let k = compile(&[f]);
    let err = run(&k, 0, &[10_000]).expect_err("divides by zero");
    assert_eq!(
        (err.kind, err.func, err.pc),
        (FaultKind::DivisionByZero, 0, 2)
    );
}

#[test]
fn runaway_recursion_is_a_stack_overflow_fault_not_a_crash() {
    // Without a depth limit, the stack floor stops depth(-1).
    let k = Arc::new(Kernels::compile(&[depth()], u32::MAX).expect("compiles"));
    let err = run(&k, 0, &[-1]).expect_err("overflows");
    assert_eq!(err.kind, FaultKind::StackOverflow);
    // The run's stack is usable again afterwards.
    let k2 = compile(&[fib()]);
    assert_eq!(run(&k2, 0, &[20]), Ok(fib_ref(20)));
}

#[test]
fn fail_carries_the_value_and_booleans_branch() {
    // g(x) = case x do 1 -> 10; 2 -> 20 end (else fail with x), via
    // Cmp + JumpIf and Not.
    let g = KFunc {
        arity: 1,
        nregs: 3,
        unbounded: false,
        code: vec![
            KOp::CmpImm {
                cmp: Cmp::Eq,
                dst: 1,
                a: 0,
                imm: 1,
            },
            KOp::JumpIf {
                r: 1,
                when: false,
                to: 4,
            },
            KOp::Const { dst: 2, v: 10 },
            KOp::Return { r: 2 },
            KOp::CmpImm {
                cmp: Cmp::Ne,
                dst: 1,
                a: 0,
                imm: 2,
            },
            KOp::Not { dst: 1, a: 1 },
            KOp::JumpIf {
                r: 1,
                when: false,
                to: 9,
            },
            KOp::Const { dst: 2, v: 20 },
            KOp::Return { r: 2 },
            KOp::Fail { r: 0 },
        ],
    };
    let k = compile(&[g]);
    assert_eq!(run(&k, 0, &[1]), Ok(10));
    assert_eq!(run(&k, 0, &[2]), Ok(20));
    let f = run(&k, 0, &[7]).expect_err("no clause");
    assert_eq!((f.kind, f.pc, f.value), (FaultKind::Fail, 9, 7));
}

#[test]
fn mutual_tail_calls_run_in_constant_stack() {
    // even(n) = if n == 0 do 1 else odd(n - 1); odd(n) = if n == 0 do 0 else even(n - 1)
    let parity = |other: u32, base_value: i64| KFunc {
        arity: 1,
        nregs: 3,
        unbounded: true,
        code: vec![
            KOp::BranchNotImm {
                cmp: Cmp::Eq,
                a: 0,
                imm: 0,
                to: 3,
            },
            KOp::Const {
                dst: 1,
                v: base_value,
            },
            KOp::Return { r: 1 },
            KOp::ArithImm {
                op: Arith::Sub,
                dst: 2,
                a: 0,
                imm: 1,
            },
            KOp::TailCall {
                func: other,
                base: 2,
                n: 1,
            },
        ],
    };
    let k = compile(&[parity(1, 1), parity(0, 0)]);
    assert_eq!(run(&k, 0, &[10_000_001]), Ok(0));
    assert_eq!(run(&k, 0, &[10_000_000]), Ok(1));
}

#[test]
fn malformed_ir_is_refused_with_a_reason() {
    // fib with one edit, compiled: the reason it is refused.
    let refusal = |edit: &dyn Fn(&mut KFunc)| {
        let mut bad = fib();
        edit(&mut bad);
        match Kernels::compile(&[bad], 1_000_000) {
            Err(JitError::Ir(e)) => e,
            other => panic!("compiled or failed otherwise: {other:?}"),
        }
    };
    assert_eq!(
        refusal(&|f| {
            f.code[6] = KOp::Arith {
                op: Arith::Add,
                dst: 9,
                a: 1,
                b: 2,
            }
        }),
        IrError::Register {
            func: 0,
            pc: 6,
            reg: 9
        }
    );
    assert_eq!(
        refusal(&|f| {
            f.code[0] = KOp::BranchNotImm {
                cmp: Cmp::Lt,
                a: 0,
                imm: 2,
                to: 99,
            }
        }),
        IrError::Target {
            func: 0,
            pc: 0,
            to: 99
        }
    );
    assert!(matches!(
        refusal(&|f| {
            f.code[3] = KOp::Call {
                dst: 1,
                func: 5,
                base: 2,
                n: 1,
            }
        }),
        IrError::Callee {
            func: 0,
            pc: 3,
            callee: 5,
            ..
        }
    ));
    assert_eq!(
        refusal(&|f| {
            f.code.pop();
        }),
        IrError::FallsOff { func: 0 }
    );
    assert_eq!(
        refusal(&|f| f.nregs = mesh_jit::ir::MAX_REGS + 1),
        IrError::TooManyRegisters {
            func: 0,
            nregs: mesh_jit::ir::MAX_REGS + 1
        }
    );
    // Bounded code may not recurse: it counts no budget.
    assert_eq!(refusal(&|f| f.unbounded = false), IrError::Loop { func: 0 });
    let k = compile(&[fib()]);
    assert!(matches!(
        Run::start(&k, 0, &[1, 2], 0),
        Err(JitError::Arity { .. })
    ));
    assert!(matches!(
        Run::start(&k, 3, &[1], 0),
        Err(JitError::NoKernel { func: 3 })
    ));
}

#[test]
fn runs_move_between_threads_while_suspended() {
    let k = compile(&[fib()]);
    let mut r = Run::start(&k, 0, &[24], 0).expect("start");
    assert_eq!(r.resume(100), Poll::Yielded);
    let v = std::thread::spawn(move || r.finish())
        .join()
        .expect("thread");
    assert_eq!(v, Ok(fib_ref(24)));
}

/// depth(n) = if n == 0 do 0 else depth(n - 1) + 1
fn depth() -> KFunc {
    KFunc {
        arity: 1,
        nregs: 3,
        unbounded: true,
        code: vec![
            KOp::BranchNotImm {
                cmp: Cmp::Eq,
                a: 0,
                imm: 0,
                to: 2,
            },
            KOp::Return { r: 0 },
            KOp::ArithImm {
                op: Arith::Sub,
                dst: 1,
                a: 0,
                imm: 1,
            },
            KOp::Call {
                dst: 2,
                func: 0,
                base: 1,
                n: 1,
            },
            KOp::ArithImm {
                op: Arith::Add,
                dst: 2,
                a: 2,
                imm: 1,
            },
            KOp::Return { r: 2 },
        ],
    }
}

#[test]
fn calls_nest_exactly_as_deep_as_the_limit_counting_the_frames_below() {
    let k = Arc::new(Kernels::compile(&[depth()], 100).expect("compiles"));
    let at = |n: i64, below: u32| {
        Run::start(&k, 0, &[n], below)
            .expect("start")
            .finish()
            .map_err(|f| (f.kind, f.pc))
    };
    // From depth 0: the run's first frame is 1, so 99 more calls fit.
    assert_eq!(at(99, 0), Ok(99));
    assert_eq!(at(100, 0), Err((FaultKind::StackOverflow, 3)));
    // Called from 50 frames deep: 50 fewer.
    assert_eq!(at(49, 50), Ok(49));
    assert_eq!(at(50, 50), Err((FaultKind::StackOverflow, 3)));
}

#[test]
fn a_deep_run_gives_its_stack_back_to_the_system_not_the_pool() {
    let k = compile(&[depth()]);
    // A thread of its own: the pool is per thread.
    std::thread::spawn(move || {
        assert_eq!(mesh_jit::run::pooled_stacks(), 0);
        assert_eq!(run(&k, 0, &[100]), Ok(100));
        assert_eq!(
            mesh_jit::run::pooled_stacks(),
            1,
            "a shallow run keeps its stack"
        );
        assert_eq!(run(&k, 0, &[200_000]), Ok(200_000));
        assert_eq!(mesh_jit::run::pooled_stacks(), 0, "a deep run does not");
        assert_eq!(run(&k, 0, &[10]), Ok(10));
        assert_eq!(mesh_jit::run::pooled_stacks(), 1);
    })
    .join()
    .expect("thread");
}
