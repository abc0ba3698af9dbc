//! Which functions run as native code, and how a call of one runs.
//!
//! A *kernel* is a function that only computes on integers and booleans and
//! only calls kernels: no strings, lists, closures, messages or library
//! calls. [`select`] finds them when a program is loaded by following the
//! kind (integer or boolean) of every register through each function's
//! control flow (parameters are integers; an instruction reading the wrong
//! or an unknown kind, any other instruction, or a call of a non-kernel
//! rules a function out), lowers each one for one into `mesh-jit`'s IR (so
//! a kernel pc is the bytecode pc, and faults name the same line), and
//! compiles them. If compilation fails the program simply stays
//! interpreted.
//!
//! The interpreter enters a kernel only where it pays: at a call of an
//! *unbounded* kernel (one that loops or recurses), whose arguments are
//! integers. The call runs as a [`Run`] on its own stack, spending the
//! process's reduction budget like interpreted code; when the budget runs
//! out the process yields with the run pending in its machine and goes on
//! with it at its next slice. Kernels without loops or recursion are
//! compiled only for kernels to call; interpreted callers interpret them
//! (a switch to native code would cost more than it saves).
//!
//! `RunOptions::native` (from `MESH_JIT`: `0` or `off` turns it off)
//! decides whether a program gets native code; the language cases run
//! both ways.

use std::sync::Arc;

use mesh_core::Term;
use mesh_jit::{Arith, Cmp as KCmp, FaultKind, KFunc, KOp, Kernels, Poll, Run};

use super::Fault;
use super::interp::MAX_DEPTH;
use crate::compile::bytecode::{Bin, Cmp, FailKind, Func, Op, Program};

/// What a kernel's registers (and its value) hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Bool,
}

/// The compiled kernels of a program.
#[derive(Debug)]
pub(crate) struct KernelSet {
    kernels: Arc<Kernels>,
    /// Kernel index of each function the interpreter enters natively.
    entry: Vec<Option<u32>>,
    /// Function index of each kernel.
    func: Vec<u32>,
    /// Whether each kernel returns a boolean.
    returns_bool: Vec<bool>,
    /// Native calls started (tests check that the interpreter enters them).
    #[cfg(test)]
    started: std::sync::atomic::AtomicU64,
}

impl KernelSet {
    /// The kernel to run for a call of `func`, if the interpreter should
    /// enter native code there.
    pub(crate) fn entry(&self, func: u32) -> Option<u32> {
        self.entry.get(func as usize).copied().flatten()
    }

    /// How many kernels were compiled.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.func.len()
    }
}

/// Finds, lowers and compiles the kernels of `program`; `None` when there
/// are none worth entering (or native code is off or unavailable).
pub(crate) fn select(program: &Program, consts: &[Term]) -> Option<KernelSet> {
    let funcs = &program.funcs;
    let n = funcs.len();
    // Optimistic fixpoint: every plausible function is a kernel until its
    // registers fail to type given the others' return kinds.
    let mut cand: Vec<bool> = funcs.iter().map(plausible).collect();
    if !cand.iter().any(|c| *c) {
        return None;
    }
    let mut ret: Vec<Option<Kind>> = vec![None; n];
    for _round in 0..=2 * n + 2 {
        let mut changed = false;
        for f in 0..n {
            if !cand[f] {
                continue;
            }
            match infer(&funcs[f], funcs, consts, &cand, &ret, false) {
                Some(k) => {
                    if ret[f] != k {
                        ret[f] = k;
                        changed = true;
                    }
                }
                None => {
                    cand[f] = false;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    // A kernel's value must have a kind (a function that only ever tail
    // calls itself has none: it never returns; leave it interpreted).
    for f in 0..n {
        if cand[f] && ret[f].is_none() {
            cand[f] = false;
        }
    }
    // Removing some may invalidate callers; and now every callee's kind
    // must be known and each function must return the kind its callers
    // were typed with. Check again until stable.
    loop {
        let mut changed = false;
        for f in 0..n {
            if cand[f] && infer(&funcs[f], funcs, consts, &cand, &ret, true) != Some(ret[f]) {
                cand[f] = false;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let index: Vec<Option<u32>> = {
        let mut next = 0u32;
        cand.iter()
            .map(|&c| {
                c.then(|| {
                    next += 1;
                    next - 1
                })
            })
            .collect()
    };
    let unbounded = unbounded(funcs, &cand);
    if !unbounded.iter().zip(&cand).any(|(u, c)| *u && *c) {
        return None;
    }
    let mut kfuncs = Vec::new();
    let mut func_of = Vec::new();
    let mut returns_bool = Vec::new();
    for f in 0..n {
        if !cand[f] {
            continue;
        }
        kfuncs.push(lower(&funcs[f], consts, &index, unbounded[f])?);
        func_of.push(f as u32);
        returns_bool.push(ret[f] == Some(Kind::Bool));
    }
    let kernels = Kernels::compile(&kfuncs, u32::try_from(MAX_DEPTH).unwrap_or(u32::MAX)).ok()?;
    let entry = (0..n)
        .map(|f| if unbounded[f] { index[f] } else { None })
        .collect();
    Some(KernelSet {
        kernels: Arc::new(kernels),
        entry,
        func: func_of,
        returns_bool,
        #[cfg(test)]
        started: std::sync::atomic::AtomicU64::new(0),
    })
}

/// Cheap first filter: a plain function made only of kernel instructions.
fn plausible(f: &Func) -> bool {
    f.terminate.is_none()
        && f.captures.is_empty()
        && f.nregs <= mesh_jit::ir::MAX_REGS
        && matches!(
            f.code.last(),
            Some(Op::Jump { .. } | Op::TailCall { .. } | Op::Return { .. } | Op::Fail { .. })
        )
        && f.code.iter().all(|op| match op {
            Op::Bin { op, .. } | Op::BinImm { op, .. } => !matches!(op, Bin::Concat | Bin::Append),
            Op::Fail { kind, .. } => matches!(kind, FailKind::CaseClause | FailKind::LetMatch),
            Op::Move { .. }
            | Op::Take { .. }
            | Op::Const { .. }
            | Op::Int { .. }
            | Op::Bool { .. }
            | Op::AddImm { .. }
            | Op::Neg { .. }
            | Op::Not { .. }
            | Op::Jump { .. }
            | Op::JumpIf { .. }
            | Op::JumpIfNot { .. }
            | Op::BranchNot { .. }
            | Op::BranchNotImm { .. }
            | Op::TestInt { .. }
            | Op::Call { .. }
            | Op::TailCall { .. }
            | Op::Return { .. } => true,
            _ => false,
        })
}

fn const_kind(t: &Term) -> Option<(Kind, i64)> {
    match t {
        Term::Int(v) => Some((Kind::Int, *v)),
        Term::Bool(b) => Some((Kind::Bool, i64::from(*b))),
        _ => None,
    }
}

/// What a register holds at one point of a function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum K {
    /// Not written on some path here.
    Unset,
    Of(Kind),
    /// A call's value whose kind is not known yet (optimistic rounds).
    Any,
    /// Different kinds on different paths.
    Mixed,
}

fn merge(a: K, b: K) -> K {
    if a == b { a } else { K::Mixed }
}

/// Checks that `f` computes only on integers and booleans, with each
/// instruction reading the kind it needs, by a forward pass over its
/// control flow (registers are reused for different kinds on different
/// paths, so one kind per register would refuse ordinary code).
/// Parameters are integers. `ret` holds the return kinds known so far;
/// with `strict`, every callee's must be known. Returns `f`'s return
/// kind (`None` when it never returns), or `None` when `f` cannot be a
/// kernel.
fn infer(
    f: &Func,
    funcs: &[Func],
    consts: &[Term],
    cand: &[bool],
    ret: &[Option<Kind>],
    strict: bool,
) -> Option<Option<Kind>> {
    let nregs = usize::from(f.nregs);
    let len = f.code.len();
    let mut init = vec![K::Unset; nregs];
    for slot in init.iter_mut().take(usize::from(f.arity)) {
        *slot = K::Of(Kind::Int);
    }
    let mut state: Vec<Option<Vec<K>>> = vec![None; len];
    *state.get_mut(0)? = Some(init);
    let mut todo = vec![0usize];
    let mut out: Option<Kind> = None;
    let callee = |func: u32, n: u16| -> Option<K> {
        let g = funcs.get(func as usize)?;
        if !cand.get(func as usize).copied().unwrap_or(false) || g.arity != n {
            return None;
        }
        match ret.get(func as usize).copied().flatten() {
            Some(k) => Some(K::Of(k)),
            None if strict => None,
            None => Some(K::Any),
        }
    };
    // A bound on the passes: each register of each pc changes at most
    // twice (unset or a kind, then mixed).
    let mut budget = len.saturating_mul(nregs + 1).saturating_mul(3) + 16;
    while let Some(pc) = todo.pop() {
        budget = budget.checked_sub(1)?;
        let mut st = state.get(pc)?.clone()?;
        let get = |st: &[K], r: u16| st.get(usize::from(r)).copied();
        // Reads register `r` as `want`.
        let need = |st: &[K], r: u16, want: Kind| match get(st, r)? {
            K::Of(k) if k == want => Some(()),
            K::Any => Some(()),
            _ => None,
        };
        // Reads two registers of one kind (either).
        let same = |st: &[K], a: u16, b: u16| match (get(st, a)?, get(st, b)?) {
            (K::Of(x), K::Of(y)) if x == y => Some(()),
            (K::Of(_) | K::Any, K::Any) | (K::Any, K::Of(_)) => Some(()),
            _ => None,
        };
        let set = |st: &mut Vec<K>, r: u16, k: K| -> Option<()> {
            *st.get_mut(usize::from(r))? = k;
            Some(())
        };
        let int = K::Of(Kind::Int);
        let boolean = K::Of(Kind::Bool);
        let next = pc + 1;
        let succ: [Option<usize>; 2] = match *f.code.get(pc)? {
            Op::Move { dst, src } | Op::Take { dst, src } => {
                let k = get(&st, src)?;
                if matches!(k, K::Unset | K::Mixed) {
                    return None;
                }
                set(&mut st, dst, k)?;
                [Some(next), None]
            }
            Op::Const { dst, idx } => {
                let (kind, _) = const_kind(consts.get(idx as usize)?)?;
                set(&mut st, dst, K::Of(kind))?;
                [Some(next), None]
            }
            Op::Int { dst, .. } => {
                set(&mut st, dst, int)?;
                [Some(next), None]
            }
            Op::Bool { dst, .. } => {
                set(&mut st, dst, boolean)?;
                [Some(next), None]
            }
            Op::Bin { op, dst, a, b } => {
                if arith(op).is_some() {
                    need(&st, a, Kind::Int)?;
                    need(&st, b, Kind::Int)?;
                    set(&mut st, dst, int)?;
                } else {
                    bin_cmp(op)?;
                    same(&st, a, b)?;
                    set(&mut st, dst, boolean)?;
                }
                [Some(next), None]
            }
            Op::AddImm { dst, a, .. } => {
                need(&st, a, Kind::Int)?;
                set(&mut st, dst, int)?;
                [Some(next), None]
            }
            Op::BinImm { op, dst, a, .. } => {
                need(&st, a, Kind::Int)?;
                if arith(op).is_some() {
                    set(&mut st, dst, int)?;
                } else {
                    bin_cmp(op)?;
                    set(&mut st, dst, boolean)?;
                }
                [Some(next), None]
            }
            Op::Neg { dst, a } => {
                need(&st, a, Kind::Int)?;
                set(&mut st, dst, int)?;
                [Some(next), None]
            }
            Op::Not { dst, a } => {
                need(&st, a, Kind::Bool)?;
                set(&mut st, dst, boolean)?;
                [Some(next), None]
            }
            Op::Jump { to } => [Some(to as usize), None],
            Op::JumpIf { r, to } | Op::JumpIfNot { r, to } => {
                need(&st, r, Kind::Bool)?;
                [Some(next), Some(to as usize)]
            }
            Op::BranchNot { a, b, to, .. } => {
                same(&st, a, b)?;
                [Some(next), Some(to as usize)]
            }
            Op::BranchNotImm { a, to, .. } | Op::TestInt { r: a, fail: to, .. } => {
                need(&st, a, Kind::Int)?;
                [Some(next), Some(to as usize)]
            }
            Op::Call { dst, func, base, n } => {
                let k = callee(func, n)?;
                for i in 0..n {
                    need(&st, base.checked_add(i)?, Kind::Int)?;
                }
                set(&mut st, dst, k)?;
                [Some(next), None]
            }
            Op::TailCall { func, base, n } => {
                let k = callee(func, n)?;
                for i in 0..n {
                    need(&st, base.checked_add(i)?, Kind::Int)?;
                }
                if let K::Of(k) = k {
                    join(&mut out, k)?;
                }
                [None, None]
            }
            Op::Return { r } => {
                match get(&st, r)? {
                    K::Of(k) => join(&mut out, k)?,
                    K::Any => {}
                    K::Unset | K::Mixed => return None,
                }
                [None, None]
            }
            Op::Fail { r, .. } => {
                need(&st, r, Kind::Int)?;
                [None, None]
            }
            _ => return None,
        };
        for to in succ.into_iter().flatten() {
            let slot = state.get_mut(to)?;
            let changed = match slot {
                None => {
                    *slot = Some(st.clone());
                    true
                }
                Some(have) => {
                    let mut changed = false;
                    for (h, n) in have.iter_mut().zip(&st) {
                        let m = merge(*h, *n);
                        if m != *h {
                            *h = m;
                            changed = true;
                        }
                    }
                    changed
                }
            };
            if changed {
                todo.push(to);
            }
        }
    }
    Some(out)
}

fn join(out: &mut Option<Kind>, kind: Kind) -> Option<()> {
    match *out {
        Some(have) if have != kind => None,
        _ => {
            *out = Some(kind);
            Some(())
        }
    }
}

fn arith(op: Bin) -> Option<Arith> {
    Some(match op {
        Bin::Add => Arith::Add,
        Bin::Sub => Arith::Sub,
        Bin::Mul => Arith::Mul,
        Bin::Div => Arith::Div,
        Bin::Rem => Arith::Rem,
        _ => return None,
    })
}

fn bin_cmp(op: Bin) -> Option<KCmp> {
    Some(match op {
        Bin::Eq => KCmp::Eq,
        Bin::Ne => KCmp::Ne,
        Bin::Lt => KCmp::Lt,
        Bin::Le => KCmp::Le,
        Bin::Gt => KCmp::Gt,
        Bin::Ge => KCmp::Ge,
        _ => return None,
    })
}

fn cmp(c: Cmp) -> KCmp {
    match c {
        Cmp::Eq => KCmp::Eq,
        Cmp::Ne => KCmp::Ne,
        Cmp::Lt => KCmp::Lt,
        Cmp::Le => KCmp::Le,
        Cmp::Gt => KCmp::Gt,
        Cmp::Ge => KCmp::Ge,
    }
}

/// Which candidates may run for unbounded time: those with a backward
/// jump, those on a call cycle, and those that call such a function.
fn unbounded(funcs: &[Func], cand: &[bool]) -> Vec<bool> {
    let n = funcs.len();
    let callees = |f: usize| {
        funcs[f].code.iter().filter_map(|op| match *op {
            Op::Call { func, .. } | Op::TailCall { func, .. } => Some(func as usize),
            _ => None,
        })
    };
    let mut u: Vec<bool> = (0..n)
        .map(|f| {
            cand[f]
                && funcs[f].code.iter().enumerate().any(|(pc, op)| match *op {
                    Op::Jump { to }
                    | Op::JumpIf { to, .. }
                    | Op::JumpIfNot { to, .. }
                    | Op::BranchNot { to, .. }
                    | Op::BranchNotImm { to, .. }
                    | Op::TestInt { fail: to, .. } => (to as usize) <= pc,
                    _ => false,
                })
        })
        .collect();
    // On a cycle: `f` reaches itself through calls among candidates.
    for f in 0..n {
        if !cand[f] || u[f] {
            continue;
        }
        let mut seen = vec![false; n];
        let mut todo: Vec<usize> = callees(f).collect();
        while let Some(g) = todo.pop() {
            if g == f {
                u[f] = true;
                break;
            }
            if g < n && cand[g] && !seen[g] {
                seen[g] = true;
                todo.extend(callees(g));
            }
        }
    }
    // Callers of unbounded functions are unbounded.
    loop {
        let mut changed = false;
        for f in 0..n {
            if cand[f] && !u[f] && callees(f).any(|g| g < n && u[g]) {
                u[f] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    u
}

/// Lowers one candidate, instruction for instruction.
fn lower(f: &Func, consts: &[Term], index: &[Option<u32>], unbounded: bool) -> Option<KFunc> {
    let kernel = |func: u32| index.get(func as usize).copied().flatten();
    let code = f
        .code
        .iter()
        .map(|op| {
            Some(match *op {
                Op::Move { dst, src } | Op::Take { dst, src } => KOp::Move { dst, src },
                Op::Const { dst, idx } => KOp::Const {
                    dst,
                    v: const_kind(consts.get(idx as usize)?)?.1,
                },
                Op::Int { dst, v } => KOp::Const {
                    dst,
                    v: i64::from(v),
                },
                Op::Bool { dst, v } => KOp::Const {
                    dst,
                    v: i64::from(v),
                },
                Op::Bin { op, dst, a, b } => match arith(op) {
                    Some(op) => KOp::Arith { op, dst, a, b },
                    None => KOp::Cmp {
                        cmp: bin_cmp(op)?,
                        dst,
                        a,
                        b,
                    },
                },
                Op::AddImm { dst, a, imm } => KOp::ArithImm {
                    op: Arith::Add,
                    dst,
                    a,
                    imm: i64::from(imm),
                },
                Op::BinImm { op, dst, a, imm } => match arith(op) {
                    Some(op) => KOp::ArithImm {
                        op,
                        dst,
                        a,
                        imm: i64::from(imm),
                    },
                    None => KOp::CmpImm {
                        cmp: bin_cmp(op)?,
                        dst,
                        a,
                        imm: i64::from(imm),
                    },
                },
                Op::Neg { dst, a } => KOp::Neg { dst, a },
                Op::Not { dst, a } => KOp::Not { dst, a },
                Op::Jump { to } => KOp::Jump { to },
                Op::JumpIf { r, to } => KOp::JumpIf { r, when: true, to },
                Op::JumpIfNot { r, to } => KOp::JumpIf { r, when: false, to },
                Op::BranchNot { cmp: c, a, b, to } => KOp::BranchNot {
                    cmp: cmp(c),
                    a,
                    b,
                    to,
                },
                Op::BranchNotImm { cmp: c, a, imm, to } => KOp::BranchNotImm {
                    cmp: cmp(c),
                    a,
                    imm: i64::from(imm),
                    to,
                },
                Op::TestInt { r, v, fail } => KOp::BranchNotImm {
                    cmp: KCmp::Eq,
                    a: r,
                    imm: i64::from(v),
                    to: fail,
                },
                Op::Call { dst, func, base, n } => KOp::Call {
                    dst,
                    func: kernel(func)?,
                    base,
                    n,
                },
                Op::TailCall { func, base, n } => KOp::TailCall {
                    func: kernel(func)?,
                    base,
                    n,
                },
                Op::Return { r } => KOp::Return { r },
                Op::Fail { r, .. } => KOp::Fail { r },
                _ => return None,
            })
        })
        .collect::<Option<Vec<KOp>>>()?;
    Some(KFunc {
        arity: f.arity,
        nregs: f.nregs,
        code,
        unbounded,
    })
}

/// How a kernel call stands.
pub(super) enum KStep {
    /// It returned this value.
    Value(Term),
    /// The budget ran out; the run is pending.
    Yield,
    /// It stopped with a fault in function `func` at `pc`.
    Fault { fault: Fault, func: u32, pc: u32 },
}

/// A kernel call waiting for the process's next slice.
#[derive(Debug)]
pub(super) struct Pending {
    pub run: Run,
    pub kernel: u32,
    /// Absolute register that receives the value.
    pub dst: usize,
    /// Return that register from the frame right after (a tail call).
    pub ret: Option<u16>,
}

/// Starts a call of `func` as native code, when `func` is entered
/// natively, its arguments (`args`) are all integers and the caller's
/// `depth` (frames) leaves room for it; `None` means "interpret the call"
/// (which also reports a full stack). Returns the kernel, how the run
/// stands, and the run.
pub(super) fn start_call(
    set: Option<&KernelSet>,
    func: u32,
    args: Option<&[Term]>,
    depth: usize,
    budget: &mut i64,
) -> Option<(u32, KStep, Run)> {
    let set = set?;
    if depth >= MAX_DEPTH {
        return None;
    }
    let k = set.entry(func)?;
    let ints: Vec<i64> = args?
        .iter()
        .map(|t| match t {
            Term::Int(v) => Some(*v),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let (step, run) = set.start(k, &ints, u32::try_from(depth).ok()?, budget)?;
    Some((k, step, run))
}

impl KernelSet {
    /// Starts kernel `k` and runs it with `budget`.
    pub(super) fn start(
        &self,
        k: u32,
        args: &[i64],
        depth: u32,
        budget: &mut i64,
    ) -> Option<(KStep, Run)> {
        let mut run = Run::start(&self.kernels, k, args, depth).ok()?;
        #[cfg(test)]
        self.started
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let step = self.resume(&mut run, k, budget);
        Some((step, run))
    }

    /// Runs a started kernel `k` with `budget`.
    pub(super) fn resume(&self, run: &mut Run, k: u32, budget: &mut i64) -> KStep {
        match run.resume(*budget) {
            Poll::Done {
                value,
                budget: left,
            } => {
                *budget = left;
                let bool = self.returns_bool.get(k as usize).copied().unwrap_or(false);
                KStep::Value(if bool {
                    Term::Bool(value != 0)
                } else {
                    Term::Int(value)
                })
            }
            Poll::Yielded => {
                *budget = 0;
                KStep::Yield
            }
            Poll::Fault(f) => {
                let func = self.func.get(f.func as usize).copied().unwrap_or(0);
                let fault = match f.kind {
                    FaultKind::Overflow(op) => Fault::Overflow {
                        op: match op {
                            Arith::Add => "+",
                            Arith::Sub => "-",
                            Arith::Mul => "*",
                            Arith::Div => "/",
                            Arith::Rem => "%",
                        },
                    },
                    FaultKind::NegOverflow => Fault::Overflow { op: "-" },
                    FaultKind::DivisionByZero => Fault::DivisionByZero,
                    FaultKind::StackOverflow => Fault::StackOverflow { limit: MAX_DEPTH },
                    FaultKind::Fail => Fault::CaseClause {
                        value: f.value.to_string(),
                    },
                    FaultKind::Cancelled => Fault::Builtin {
                        message: "native code was cancelled".into(),
                    },
                };
                KStep::Fault {
                    fault,
                    func,
                    pc: f.pc,
                }
            }
        }
    }
}

/// The `let` failure at a kernel's `Fail`: the kernel only says "fail".
pub(super) fn refine_fail(program: &Program, func: u32, pc: u32, fault: Fault) -> Fault {
    match (
        fault,
        program
            .funcs
            .get(func as usize)
            .and_then(|f| f.code.get(pc as usize)),
    ) {
        (
            Fault::CaseClause { value },
            Some(Op::Fail {
                kind: FailKind::LetMatch,
                ..
            }),
        ) => Fault::LetMatch { value },
        (f, _) => f,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;

    use mesh_core::Term;

    use crate::compile::Options;
    use crate::vm::Outcome;

    /// Kernels the tests below share: recursion, and mutual tail calls
    /// returning a boolean.
    const FIB_EVEN_ODD: &str = "
fn fib(n :: Int) -> Int do
  if n < 2 do n else fib(n - 1) + fib(n - 2) end
end
fn even(n :: Int) -> Bool do
  if n == 0 do true else odd(n - 1) end
end
fn odd(n :: Int) -> Bool do
  if n == 0 do false else even(n - 1) end
end
";

    /// The names of the functions `src` enters natively, and how many
    /// kernels it compiled, for both optimisation levels.
    fn entries(src: &str) -> Vec<(Vec<String>, usize)> {
        [false, true]
            .into_iter()
            .map(|optimize| {
                let (p, _) =
                    crate::compile_project(&[("main.mpl", src)], Options { optimize }).unwrap();
                let image = crate::vm::Image::load(p, true);
                let Some(set) = image.kernels.as_ref() else {
                    return (Vec::new(), 0);
                };
                let names = (0..image.program.funcs.len() as u32)
                    .filter(|f| set.entry(*f).is_some())
                    .map(|f| image.program.funcs[f as usize].name.clone())
                    .collect();
                (names, set.len())
            })
            .collect()
    }

    #[test]
    fn recursive_and_looping_integer_functions_are_entered_natively() {
        let src = format!(
            "{FIB_EVEN_ODD}
fn sq(x :: Int) -> Int = x * x
fn sumsq(i :: Int, acc :: Int) -> Int do
  if i == 0 do acc else sumsq(i - 1, acc + sq(i)) end
end
fn main() do
  println(\"${{fib(10)}} ${{sumsq(3, 0)}} ${{even(4)}} ${{sq(2)}}\")
end
"
        );
        for (names, count) in entries(&src) {
            // `sq` is compiled (sumsq calls it) but entered interpreted.
            assert_eq!(names, ["Main.fib", "Main.even", "Main.odd", "Main.sumsq"]);
            assert_eq!(count, 5);
        }
    }

    /// Runs function `name` of `src` on the interpreter alone (no
    /// runtime: the function must not print or message), a slice of
    /// `budget` at a time. Returns its value, the slices that ended in a
    /// yield, and how many native calls started.
    fn run_sliced(src: &str, name: &str, native: bool, budget: i64) -> (Term, usize, u64) {
        use std::sync::atomic::Ordering;
        let (p, _) =
            crate::compile_project(&[("main.mpl", src)], Options { optimize: true }).unwrap();
        let func = p.funcs.iter().position(|f| f.name == name).unwrap() as u32;
        let nregs = usize::from(p.funcs[func as usize].nregs);
        let image = crate::vm::Image::load(p, native);
        let env = Arc::new(crate::vm::Env::new(
            image,
            Box::new(std::io::sink()),
            Box::new(std::io::sink()),
        ));
        let mut m = crate::vm::Machine::default();
        m.regs.resize(nregs, Term::Unit);
        m.frames.push(crate::vm::Frame::bottom(func));
        let mut yields = 0;
        let value = loop {
            assert!(yields < 100_000, "{name} does not finish");
            let mut b = budget;
            match crate::vm::interp::run(&env, &mut m, None, &mut b, &mut None) {
                Ok(Outcome::Done(v)) => break v,
                Ok(Outcome::Yield) => yields += 1,
                Ok(Outcome::Wait) => panic!("{name} waits for a message"),
                Err(e) => panic!("{name}: {e}"),
            }
        };
        let started = env
            .image
            .kernels
            .as_ref()
            .map_or(0, |k| k.started.load(Ordering::Relaxed));
        (value, yields, started)
    }

    #[test]
    fn the_interpreter_enters_native_code_and_resumes_it_across_slices() {
        let src = format!(
            "{FIB_EVEN_ODD}
fn call_fib() -> Int do
  let x = fib(20)
  x + 1
end
fn tail_even() -> Bool = even(10001)
fn main() do
  println(\"${{call_fib()}} ${{tail_even()}}\")
end
"
        );
        // fib(20) is 21,891 calls: at 1,000 a slice, one native call
        // that yields about 21 times and comes back with the value.
        let (v, yields, started) = run_sliced(&src, "Main.call_fib", true, 1_000);
        assert_eq!(v, Term::Int(6766));
        assert_eq!(started, 1);
        assert!(yields >= 20, "{yields} yields");
        // A tail call into native code, returning a boolean.
        let (v, yields, started) = run_sliced(&src, "Main.tail_even", true, 1_000);
        assert_eq!(v, Term::Bool(false));
        assert_eq!(started, 1);
        assert!(yields >= 10, "{yields} yields");
        // The same interpreted: same values, no native calls.
        assert_eq!(
            run_sliced(&src, "Main.call_fib", false, 1_000).0,
            Term::Int(6766)
        );
        assert_eq!(
            run_sliced(&src, "Main.tail_even", false, 1_000).0,
            Term::Bool(false)
        );
    }

    #[test]
    fn functions_touching_anything_but_integers_stay_interpreted() {
        let src = "
fn count(xs :: List<Int>, n :: Int) -> Int do
  case xs do
    [] -> n
    [_ | t] -> count(t, n + 1)
  end
end
fn shout(n :: Int) -> Int do
  if n == 0 do 0 else do
    println(\"${n}\")
    shout(n - 1)
  end end
end
fn flip(b :: Bool, n :: Int) -> Bool do
  if n == 0 do b else flip(not b, n - 1) end
end
fn fl(x :: Float, n :: Int) -> Float do
  if n == 0 do x else fl(x * 2.0, n - 1) end
end
fn calls_float(n :: Int) -> Int do
  if n == 0 do 0 else do
    let _ = fl(1.0, n)
    calls_float(n - 1)
  end end
end
fn main() do
  println(\"${count([1], 0)} ${shout(1)} ${flip(true, 3)} ${fl(1.0, 2)} ${calls_float(2)}\")
end
";
        for (names, _) in entries(src) {
            assert!(names.is_empty(), "{names:?}");
        }
    }
}
