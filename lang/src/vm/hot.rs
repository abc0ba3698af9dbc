//! The interpreter's hot instruction set: bytecode lowered when a program
//! is loaded.
//!
//! [`lower`] turns each function's [`Op`]s into [`Hot`]s *one for one*, so
//! a pc names the same instruction in both arrays and the hot loop can hand
//! any instruction over to the full interpreter (`interp::step`) by
//! stopping at its pc. Lowering specialises what the hot loop runs most:
//! one instruction per integer operator and per comparison (no second
//! dispatch on the operator), self tail calls resolved ahead of time, and
//! calls to functions without a `terminate` body marked as such. Every
//! other instruction becomes [`Hot::Slow`]. Nothing here is serialised:
//! the program image format is unchanged.
//!
//! Three passes then look at more than one instruction at a time, in this
//! order (`Image::load`): [`lower_messaging`] (`send` and the actor-loop
//! `receive`), [`keep_tail_args`] (self tail calls that leave unchanged
//! parameters in place) and [`take_tail_args`] (argument moves whose
//! source is dead). The pcs still correspond, with a weaker rule for the
//! registers in what they rewrite: the hot code may leave out a move into
//! a tail call's argument window or take where the bytecode copies, so at
//! a pc where the hot loop stops a register can differ from what the
//! bytecode would hold there, but only one that nothing reads before the
//! tail call, which puts the arguments where the bytecode's tail call
//! expects them whenever it stops itself.

use crate::builtins;
use crate::compile::bytecode::{Bin, Cmp, Func, Label, Op, Pat, Program, Reg};

/// One lowered instruction. The comparison branches (`Unless*`) jump when
/// the comparison does *not* hold, like [`Op::BranchNot`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Hot {
    /// Run by the full interpreter.
    Slow,
    Move {
        dst: Reg,
        src: Reg,
    },
    Take {
        dst: Reg,
        src: Reg,
    },
    Int {
        dst: Reg,
        v: i32,
    },
    Unit {
        dst: Reg,
    },
    Bool {
        dst: Reg,
        v: bool,
    },
    Add {
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    Sub {
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    Mul {
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    Div {
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    Rem {
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    /// A comparison of two integers into a Bool.
    Cmp {
        cmp: Cmp,
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    AddI {
        dst: Reg,
        a: Reg,
        imm: i32,
    },
    MulI {
        dst: Reg,
        a: Reg,
        imm: i32,
    },
    DivI {
        dst: Reg,
        a: Reg,
        imm: i32,
    },
    RemI {
        dst: Reg,
        a: Reg,
        imm: i32,
    },
    CmpI {
        cmp: Cmp,
        dst: Reg,
        a: Reg,
        imm: i32,
    },
    UnlessEqI {
        a: Reg,
        imm: i32,
        to: Label,
    },
    UnlessNeI {
        a: Reg,
        imm: i32,
        to: Label,
    },
    UnlessLtI {
        a: Reg,
        imm: i32,
        to: Label,
    },
    UnlessLeI {
        a: Reg,
        imm: i32,
        to: Label,
    },
    UnlessGtI {
        a: Reg,
        imm: i32,
        to: Label,
    },
    UnlessGeI {
        a: Reg,
        imm: i32,
        to: Label,
    },
    UnlessEq {
        a: Reg,
        b: Reg,
        to: Label,
    },
    UnlessNe {
        a: Reg,
        b: Reg,
        to: Label,
    },
    UnlessLt {
        a: Reg,
        b: Reg,
        to: Label,
    },
    UnlessLe {
        a: Reg,
        b: Reg,
        to: Label,
    },
    UnlessGt {
        a: Reg,
        b: Reg,
        to: Label,
    },
    UnlessGe {
        a: Reg,
        b: Reg,
        to: Label,
    },
    Jump {
        to: Label,
    },
    JumpIfNot {
        r: Reg,
        to: Label,
    },
    JumpIf {
        r: Reg,
        to: Label,
    },
    TestInt {
        r: Reg,
        v: i32,
        fail: Label,
    },
    /// A call of a function without a `terminate` body.
    Call {
        dst: Reg,
        func: u32,
        base: Reg,
    },
    /// A tail call of the running function (no `terminate` body).
    TailSelf {
        base: Reg,
        n: u16,
    },
    /// A tail call of another function without a `terminate` body.
    TailCall {
        func: u32,
        base: Reg,
        n: u16,
    },
    Return {
        r: Reg,
    },
    // Fused pairs (see `fuse`): the instruction at the next pc is the
    // second half, and stays there for jumps to it.
    /// `AddI`, then the `Call` that follows.
    AddICall {
        dst: Reg,
        a: Reg,
        imm: i32,
    },
    /// `Add`, then the `Return` that follows.
    AddRet {
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    /// `AddI`, then the `TailSelf` that follows.
    AddITail {
        dst: Reg,
        a: Reg,
        imm: i32,
    },
    /// `RemI`, then the `TailSelf` that follows.
    RemITail {
        dst: Reg,
        a: Reg,
        imm: i32,
    },
    /// `Add`, then the `TailSelf` that follows.
    AddTail {
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    /// `send(base, base + 1)` into `dst` (see [`lower_messaging`]).
    Send {
        dst: Reg,
        base: Reg,
    },
    /// A `receive` without a timeout whose first arm takes any message
    /// (see [`lower_messaging`]).
    ReceiveAny {
        dst: Reg,
    },
    /// Nothing (a `Move` that [`keep_tail_args`] made unnecessary).
    Nop,
    /// A self tail call that moves only the arguments in `moved` (bit `i`:
    /// argument `i`); the others are already in place (see
    /// [`keep_tail_args`]).
    TailSelfSome {
        base: Reg,
        n: u16,
        moved: u16,
    },
    /// Go on at `to`, over a run of [`Hot::Nop`]s (no reduction: forward
    /// only).
    Skip {
        to: Label,
    },
    /// `Move { dst: base, src: pid }`, `Move { dst: base + 1, src: msg }`
    /// and the `Send` of those two at the next two pcs, fused: the message
    /// is cloned once, straight from `msg` (see [`lower_messaging`]).
    SendFrom {
        dst: Reg,
        base: Reg,
        pid: Reg,
        msg: Reg,
    },
}

// Twelve bytes: three instructions fit in a 32-byte fetch of the loop.
const _: () = assert!(std::mem::size_of::<Hot>() == 12);

/// A function as the hot loop sees it.
#[derive(Debug)]
pub(crate) struct HotFunc {
    pub code: Box<[Hot]>,
    /// Registers a frame of this function needs.
    pub nregs: u32,
}

/// Lowers every function of a program. Calls of functions for which
/// `native` holds (run as native code, see `vm::kernel`) stay with the
/// full interpreter.
pub(crate) fn lower(funcs: &[Func], native: &dyn Fn(u32) -> bool) -> Box<[HotFunc]> {
    let plain = |f: u32| funcs.get(f as usize).is_some_and(|f| f.terminate.is_none()) && !native(f);
    funcs
        .iter()
        .enumerate()
        .map(|(me, f)| {
            let mut code: Vec<Hot> = f
                .code
                .iter()
                .map(|op| lower_op(op, me as u32, &plain))
                .collect();
            fuse(&mut code);
            HotFunc {
                code: code.into_boxed_slice(),
                nregs: u32::from(f.nregs),
            }
        })
        .collect()
}

/// Lowers the message instructions the hot loop runs without the full
/// interpreter: `send` (a builtin) and a `receive` that takes the oldest
/// message whatever it is (no timeout, first arm `_` or a name without a
/// guard). Both stop the loop, for `step` to run them in full, whenever
/// they could fail or wait. A pass of its own after [`lower`], since it
/// needs the program's matchers.
pub(crate) fn lower_messaging(hot: &mut [HotFunc], program: &Program) {
    let any = |matcher: u32| {
        program
            .matchers
            .get(matcher as usize)
            .and_then(|m| m.arms.first())
            .is_some_and(|a| a.guard.is_none() && matches!(a.pat, Pat::Any | Pat::Bind(_)))
    };
    for (h, f) in hot.iter_mut().zip(&program.funcs) {
        for (slot, op) in h.code.iter_mut().zip(&f.code) {
            if *slot != Hot::Slow {
                continue;
            }
            *slot = match *op {
                Op::Builtin { dst, id, base, n } if id == builtins::SEND.0 && n == 2 => {
                    Hot::Send { dst, base }
                }
                Op::Receive {
                    dst,
                    matcher,
                    timeout: None,
                    ..
                } if any(matcher) => Hot::ReceiveAny { dst },
                _ => continue,
            };
        }
        // `send(a, b)` of two registers: the argument moves and the send.
        for k in 2..h.code.len() {
            let Hot::Send { dst, base } = h.code[k] else {
                continue;
            };
            let (Hot::Move { dst: d0, src: pid }, Hot::Move { dst: d1, src: msg }) =
                (h.code[k - 2], h.code[k - 1])
            else {
                continue;
            };
            let window = |r: Reg| r == base || Some(r) == base.checked_add(1);
            if d0 == base && Some(d1) == base.checked_add(1) && !window(pid) && !window(msg) {
                h.code[k - 2] = Hot::SendFrom {
                    dst,
                    base,
                    pid,
                    msg,
                };
            }
        }
    }
}

/// Makes the first of two or more [`Hot::Nop`]s in a row skip the rest
/// (one dispatch instead of one per `Nop`). Nothing jumps into the run
/// (see [`keep_tail_args`]) and the hot loop never stops at a `Nop`, so
/// the others are never reached.
fn skip_nops(code: &mut [Hot]) {
    let mut k = 0;
    while k < code.len() {
        if !matches!(code[k], Hot::Nop | Hot::Skip { .. }) {
            k += 1;
            continue;
        }
        let mut end = k + 1;
        while end < code.len() && code[end] == Hot::Nop {
            end += 1;
        }
        if end - k >= 2 {
            code[k] = Hot::Skip { to: end as Label };
        }
        k = end;
    }
}

/// Turns a `Move` of an argument of a self tail call into a `Take` when
/// nothing reads its source between the two. The tail call moves the
/// argument back down (usually into the register it came from), so a
/// copy would only add a reference-count increment and a decrement (and
/// a clone for every term) per loop turn: `loop(c, payload, n - 1)`.
/// Conservative: only straight-line code of instructions whose reads are
/// known lies between, the source is not one of the tail call's argument
/// registers (the taken value would leave a unit there) nor a parameter
/// the tail call leaves in place, and the function captures nothing.
/// Runs after [`keep_tail_args`].
pub(crate) fn take_tail_args(hot: &mut [HotFunc], funcs: &[Func]) {
    for (h, f) in hot.iter_mut().zip(funcs) {
        // Everything but the parameters is written again from pc 0 before
        // it is read, except a closure's captured values: they are set
        // once, when the closure is entered, and must survive the loop.
        if !f.captures.is_empty() {
            continue;
        }
        for k in 0..f.code.len().min(h.code.len()) {
            let Op::Move { dst, src } = f.code[k] else {
                continue;
            };
            if h.code[k] != (Hot::Move { dst, src }) || dst == src {
                continue;
            }
            if src_dead_until_tail_self(&f.code[k + 1..], &h.code[k + 1..], dst, src) {
                h.code[k] = Hot::Take { dst, src };
            }
        }
    }
}

/// Whether `ops` run straight to a self tail call (`hot` is the lowered
/// code at the same pcs) that passes `dst` as an argument, without
/// reading `src` or writing `dst` on the way, with `src` outside the
/// argument registers.
fn src_dead_until_tail_self(ops: &[Op], hot: &[Hot], dst: Reg, src: Reg) -> bool {
    for (op, h) in ops.iter().zip(hot) {
        if let Op::TailCall { base, n, .. } = *op {
            // A parameter the tail call leaves in place (see
            // `keep_tail_args`) lives on into the next turn.
            let kept = match *h {
                Hot::TailSelf { .. } => false,
                Hot::TailSelfSome { moved, .. } => src < n && moved & (1 << src) == 0,
                _ => return false,
            };
            return !kept && base >= n && within(dst, base, n) && !within(src, base, n);
        }
        let Some((reads, writes)) = effects(op) else {
            return false;
        };
        if reads.contains(&src) || writes.contains(&dst) {
            return false;
        }
    }
    false
}

fn within(r: Reg, base: Reg, n: u16) -> bool {
    r >= base && u32::from(r) < u32::from(base) + u32::from(n)
}

/// The registers a straight-line instruction reads and writes, for the
/// few kinds the tail-call passes look through (`None`: any other).
fn effects(op: &Op) -> Option<(Vec<Reg>, Vec<Reg>)> {
    Some(match *op {
        // A `Take` leaves a unit in its source.
        Op::Take { dst, src } => (vec![src], vec![dst, src]),
        Op::Move { dst, src } => (vec![src], vec![dst]),
        Op::Int { dst, .. } | Op::Unit { dst } | Op::Bool { dst, .. } | Op::Const { dst, .. } => {
            (vec![], vec![dst])
        }
        Op::Bin { dst, a, b, .. } => (vec![a, b], vec![dst]),
        Op::BinImm { dst, a, .. } | Op::AddImm { dst, a, .. } => (vec![a], vec![dst]),
        // A builtin may take its arguments out of their registers.
        Op::Builtin { dst, base, n, .. } => {
            let args: Vec<Reg> = (0..n).filter_map(|i| base.checked_add(i)).collect();
            let mut writes = args.clone();
            writes.push(dst);
            (args, writes)
        }
        _ => return None,
    })
}

/// Where any instruction of `code` may jump to.
fn jump_targets(code: &[Op]) -> Vec<bool> {
    let mut t = vec![false; code.len() + 1];
    for op in code {
        let to = match *op {
            Op::Jump { to }
            | Op::JumpIfNot { to, .. }
            | Op::JumpIf { to, .. }
            | Op::BranchNot { to, .. }
            | Op::BranchNotImm { to, .. } => to,
            Op::TestShape { fail, .. }
            | Op::TestConst { fail, .. }
            | Op::TestInt { fail, .. }
            | Op::TestAtom { fail, .. }
            | Op::MapLookup { fail, .. } => fail,
            Op::LoopTest { done, .. } => done,
            Op::Receive { on_timeout, .. } => on_timeout,
            _ => continue,
        };
        if let Some(slot) = t.get_mut(to as usize) {
            *slot = true;
        }
    }
    t
}

/// Leaves a self tail call's unchanged arguments where they are:
/// `loop(c, payload, n - 1)` compiles to `Move`s of parameter `i` into
/// argument register `base + i` and a tail call that moves each back
/// down, two moves (and for a string a clone and a drop) per argument and
/// turn for nothing. Such a `Move` becomes a [`Hot::Nop`] and the tail
/// call a [`Hot::TailSelfSome`] that skips that argument, when the code
/// from the `Move` to the tail call is straight (no jump lands inside it)
/// and neither writes parameter `i` nor touches register `base + i`.
/// When the hot loop stops at that tail call (budget), it first moves the
/// kept arguments up, so the bytecode's tail call, which `step` then
/// runs, finds every argument where it expects it.
pub(crate) fn keep_tail_args(hot: &mut [HotFunc], funcs: &[Func]) {
    for (h, f) in hot.iter_mut().zip(funcs) {
        let code = &mut h.code;
        if code.len() != f.code.len() {
            continue;
        }
        let targets = jump_targets(&f.code);
        for j in 0..code.len() {
            let Hot::TailSelf { base, n } = code[j] else {
                continue;
            };
            // (An argument window that overlaps the parameters is left
            // alone: the compiler does not make one, and skipping a move
            // there would change what the others read.)
            if n > 16 || base < n {
                continue;
            }
            let all: u16 = if n == 16 { u16::MAX } else { (1 << n) - 1 };
            let mut moved = all;
            let (mut read, mut written): (Vec<Reg>, Vec<Reg>) = (Vec::new(), Vec::new());
            let mut nops = Vec::new();
            let mut p = j;
            while p > 0 && !targets[p] {
                let k = p - 1;
                p = k;
                let op = &f.code[k];
                if let Op::Move { dst, src } = *op
                    && code[k] == (Hot::Move { dst, src })
                    && src < n
                    && u32::from(dst) == u32::from(base) + u32::from(src)
                    && moved & (1 << src) != 0
                    && !written.contains(&src)
                    && !written.contains(&dst)
                    && !read.contains(&dst)
                {
                    moved &= !(1 << src);
                    nops.push(k);
                }
                let Some((r, w)) = effects(op) else {
                    break;
                };
                read.extend(r);
                written.extend(w);
            }
            if moved == all {
                continue;
            }
            for k in nops {
                code[k] = Hot::Nop;
            }
            code[j] = Hot::TailSelfSome { base, n, moved };
            skip_nops(code);
            // A fused pair's second half must be the plain tail call.
            if let Some(prev) = j.checked_sub(1) {
                code[prev] = match code[prev] {
                    Hot::AddITail { dst, a, imm } => Hot::AddI { dst, a, imm },
                    Hot::RemITail { dst, a, imm } => Hot::RemI { dst, a, imm },
                    Hot::AddTail { dst, a, b } => Hot::Add { dst, a, b },
                    other => other,
                };
            }
        }
    }
}

/// Replaces an instruction by a fused one that also runs the next
/// instruction, for common pairs. The next instruction stays in place, so
/// a jump to it (or a stop of the hot loop between the two) still runs it
/// alone; the pc correspondence with the bytecode is kept.
fn fuse(code: &mut [Hot]) {
    for k in 0..code.len().saturating_sub(1) {
        let fused = match (code[k], code[k + 1]) {
            (Hot::AddI { dst, a, imm }, Hot::Call { .. }) => Hot::AddICall { dst, a, imm },
            (Hot::AddI { dst, a, imm }, Hot::TailSelf { .. }) => Hot::AddITail { dst, a, imm },
            (Hot::RemI { dst, a, imm }, Hot::TailSelf { .. }) => Hot::RemITail { dst, a, imm },
            (Hot::Add { dst, a, b }, Hot::TailSelf { .. }) => Hot::AddTail { dst, a, b },
            (Hot::Add { dst, a, b }, Hot::Return { .. }) => Hot::AddRet { dst, a, b },
            _ => continue,
        };
        code[k] = fused;
    }
}

fn lower_op(op: &Op, me: u32, plain: &impl Fn(u32) -> bool) -> Hot {
    match *op {
        Op::Move { dst, src } => Hot::Move { dst, src },
        Op::Take { dst, src } => Hot::Take { dst, src },
        Op::Int { dst, v } => Hot::Int { dst, v },
        Op::Unit { dst } => Hot::Unit { dst },
        Op::Bool { dst, v } => Hot::Bool { dst, v },
        Op::Bin { op, dst, a, b } => match op {
            Bin::Add => Hot::Add { dst, a, b },
            Bin::Sub => Hot::Sub { dst, a, b },
            Bin::Mul => Hot::Mul { dst, a, b },
            Bin::Div => Hot::Div { dst, a, b },
            Bin::Rem => Hot::Rem { dst, a, b },
            Bin::Concat | Bin::Append => Hot::Slow,
            cmp => match cmp_of(cmp) {
                Some(cmp) => Hot::Cmp { cmp, dst, a, b },
                None => Hot::Slow,
            },
        },
        Op::AddImm { dst, a, imm } => Hot::AddI {
            dst,
            a,
            imm: i32::from(imm),
        },
        Op::BinImm { op, dst, a, imm } => match op {
            Bin::Add => Hot::AddI { dst, a, imm },
            Bin::Sub => match imm.checked_neg() {
                Some(imm) => Hot::AddI { dst, a, imm },
                None => Hot::Slow,
            },
            Bin::Mul => Hot::MulI { dst, a, imm },
            Bin::Div => Hot::DivI { dst, a, imm },
            Bin::Rem => Hot::RemI { dst, a, imm },
            Bin::Concat | Bin::Append => Hot::Slow,
            cmp => match cmp_of(cmp) {
                Some(cmp) => Hot::CmpI { cmp, dst, a, imm },
                None => Hot::Slow,
            },
        },
        Op::BranchNotImm { cmp, a, imm, to } => match cmp {
            Cmp::Eq => Hot::UnlessEqI { a, imm, to },
            Cmp::Ne => Hot::UnlessNeI { a, imm, to },
            Cmp::Lt => Hot::UnlessLtI { a, imm, to },
            Cmp::Le => Hot::UnlessLeI { a, imm, to },
            Cmp::Gt => Hot::UnlessGtI { a, imm, to },
            Cmp::Ge => Hot::UnlessGeI { a, imm, to },
        },
        Op::BranchNot { cmp, a, b, to } => match cmp {
            Cmp::Eq => Hot::UnlessEq { a, b, to },
            Cmp::Ne => Hot::UnlessNe { a, b, to },
            Cmp::Lt => Hot::UnlessLt { a, b, to },
            Cmp::Le => Hot::UnlessLe { a, b, to },
            Cmp::Gt => Hot::UnlessGt { a, b, to },
            Cmp::Ge => Hot::UnlessGe { a, b, to },
        },
        Op::Jump { to } => Hot::Jump { to },
        Op::JumpIfNot { r, to } => Hot::JumpIfNot { r, to },
        Op::JumpIf { r, to } => Hot::JumpIf { r, to },
        Op::TestInt { r, v, fail } => Hot::TestInt { r, v, fail },
        Op::Call {
            dst, func, base, ..
        } if plain(func) => Hot::Call { dst, func, base },
        Op::TailCall { func, base, n } if plain(func) => {
            if func == me {
                Hot::TailSelf { base, n }
            } else {
                Hot::TailCall { func, base, n }
            }
        }
        Op::Return { r } => Hot::Return { r },
        _ => Hot::Slow,
    }
}

fn cmp_of(op: Bin) -> Option<Cmp> {
    Some(match op {
        Bin::Eq => Cmp::Eq,
        Bin::Ne => Cmp::Ne,
        Bin::Lt => Cmp::Lt,
        Bin::Le => Cmp::Le,
        Bin::Gt => Cmp::Gt,
        Bin::Ge => Cmp::Ge,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn func(code: Vec<Op>, terminate: Option<u32>) -> Func {
        Func {
            name: "f".into(),
            arity: 1,
            nregs: 4,
            captures: Vec::new(),
            code,
            lines: Vec::new(),
            file: 0,
            terminate,
        }
    }

    #[test]
    fn lowering_is_one_for_one_and_specialises() {
        let code = vec![
            Op::BranchNotImm {
                cmp: Cmp::Lt,
                a: 0,
                imm: 2,
                to: 3,
            },
            Op::BinImm {
                op: Bin::Sub,
                dst: 1,
                a: 0,
                imm: 1,
            },
            Op::TailCall {
                func: 0,
                base: 1,
                n: 1,
            },
            Op::Call {
                dst: 2,
                func: 1,
                base: 3,
                n: 1,
            },
            Op::Interp {
                dst: 0,
                base: 0,
                n: 1,
            },
        ];
        let funcs = vec![func(code, None), func(vec![], Some(0))];
        let hot = lower(&funcs, &|_| false);
        assert_eq!(hot[0].code.len(), funcs[0].code.len());
        assert_eq!(
            &*hot[0].code,
            &[
                Hot::UnlessLtI {
                    a: 0,
                    imm: 2,
                    to: 3
                },
                // Fused with the tail call after it.
                Hot::AddITail {
                    dst: 1,
                    a: 0,
                    imm: -1
                },
                Hot::TailSelf { base: 1, n: 1 },
                // The callee has a terminate body: the full interpreter
                // records its arguments.
                Hot::Slow,
                Hot::Slow,
            ]
        );
        assert_eq!(hot[0].nregs, 4);
    }

    #[test]
    fn common_pairs_fuse_and_keep_their_second_half() {
        // fib: if n < 2 do n else fib(n - 1) + fib(n - 2) end
        let code = vec![
            Op::BranchNotImm {
                cmp: Cmp::Lt,
                a: 0,
                imm: 2,
                to: 2,
            },
            Op::Return { r: 0 },
            Op::AddImm {
                dst: 3,
                a: 0,
                imm: -1,
            },
            Op::Call {
                dst: 2,
                func: 0,
                base: 3,
                n: 1,
            },
            Op::Bin {
                op: Bin::Add,
                dst: 4,
                a: 2,
                b: 3,
            },
            Op::Return { r: 4 },
        ];
        let hot = lower(&[func(code, None)], &|_| false);
        assert_eq!(
            &*hot[0].code,
            &[
                // Not fused: in a loop the branch is the hot path.
                Hot::UnlessLtI {
                    a: 0,
                    imm: 2,
                    to: 2
                },
                Hot::Return { r: 0 },
                Hot::AddICall {
                    dst: 3,
                    a: 0,
                    imm: -1
                },
                Hot::Call {
                    dst: 2,
                    func: 0,
                    base: 3
                },
                Hot::AddRet { dst: 4, a: 2, b: 3 },
                Hot::Return { r: 4 },
            ]
        );
    }

    #[test]
    fn plain_sends_and_receives_are_lowered() {
        use crate::compile::bytecode::{MatchArm, Matcher};
        let recv = |matcher, timeout| Op::Receive {
            dst: 1,
            matcher,
            timeout,
            on_timeout: u32::MAX,
        };
        let code = vec![
            Op::Builtin {
                dst: 0,
                id: builtins::SEND.0,
                base: 2,
                n: 2,
            },
            recv(0, None),
            recv(1, None),
            recv(0, Some(3)),
            recv(2, None),
        ];
        let arm = |pat, guard| MatchArm { pat, guard };
        let program = Program {
            funcs: vec![func(code, None)],
            consts: Vec::new(),
            atoms: Vec::new(),
            files: Vec::new(),
            matchers: vec![
                Matcher {
                    arms: vec![arm(Pat::Bind(1), None)],
                },
                Matcher {
                    arms: vec![arm(Pat::Const(0), None), arm(Pat::Any, None)],
                },
                Matcher {
                    arms: vec![arm(Pat::Any, Some(0))],
                },
            ],
            entry: None,
        };
        let mut hot = lower(&program.funcs, &|_| false);
        lower_messaging(&mut hot, &program);
        assert_eq!(
            &*hot[0].code,
            &[
                // Its arguments are not moved just before: no fusion.
                Hot::Send { dst: 0, base: 2 },
                Hot::ReceiveAny { dst: 1 },
                // A first arm that tests, a timeout, a guard: `step`.
                Hot::Slow,
                Hot::Slow,
                Hot::Slow,
            ]
        );
    }

    #[test]
    fn a_send_fuses_with_the_moves_of_its_arguments() {
        let send = |base| Op::Builtin {
            dst: 6,
            id: builtins::SEND.0,
            base,
            n: 2,
        };
        let code = vec![
            Op::Move { dst: 7, src: 0 },
            Op::Move { dst: 8, src: 1 },
            send(7),
            // An argument read from the window itself: not fused.
            Op::Move { dst: 7, src: 0 },
            Op::Move { dst: 8, src: 7 },
            send(7),
        ];
        let program = Program {
            funcs: vec![func(code, None)],
            consts: Vec::new(),
            atoms: Vec::new(),
            files: Vec::new(),
            matchers: Vec::new(),
            entry: None,
        };
        let mut hot = lower(&program.funcs, &|_| false);
        lower_messaging(&mut hot, &program);
        assert_eq!(
            &*hot[0].code,
            &[
                Hot::SendFrom {
                    dst: 6,
                    base: 7,
                    pid: 0,
                    msg: 1
                },
                // Still there for a stop at the first `Move`.
                Hot::Move { dst: 8, src: 1 },
                Hot::Send { dst: 6, base: 7 },
                Hot::Move { dst: 7, src: 0 },
                Hot::Move { dst: 8, src: 7 },
                Hot::Send { dst: 6, base: 7 },
            ]
        );
    }

    #[test]
    fn tail_call_arguments_are_taken_when_their_source_is_dead() {
        // burst(c, payload, n): send(c, payload); burst(c, payload, n - 1)
        let code = vec![
            Op::Move { dst: 7, src: 0 },
            Op::Move { dst: 8, src: 1 },
            Op::Builtin {
                dst: 6,
                id: builtins::SEND.0,
                base: 7,
                n: 2,
            },
            Op::Move { dst: 6, src: 0 },
            Op::Move { dst: 7, src: 1 },
            Op::Move { dst: 9, src: 1 },
            Op::AddImm {
                dst: 8,
                a: 2,
                imm: -1,
            },
            Op::TailCall {
                func: 0,
                base: 6,
                n: 3,
            },
            // Not before a tail call.
            Op::Move { dst: 3, src: 0 },
            Op::Return { r: 3 },
        ];
        let self_call = |op: &Op| match *op {
            Op::TailCall { base, n, .. } => Op::TailCall { func: 1, base, n },
            other => other,
        };
        let mut closure = func(code.iter().map(self_call).collect(), None);
        closure.captures = vec![5];
        let funcs = vec![func(code, None), closure];
        let mut hot = lower(&funcs, &|_| false);
        take_tail_args(&mut hot, &funcs);
        // A closure's captured registers live across the loop: untouched.
        assert!(!hot[1].code.iter().any(|h| matches!(h, Hot::Take { .. })));
        let kinds: Vec<&str> = hot[0]
            .code
            .iter()
            .map(|h| match h {
                Hot::Move { .. } => "move",
                Hot::Take { .. } => "take",
                _ => "-",
            })
            .collect();
        assert_eq!(
            kinds,
            [
                // Read again before the tail call.
                "move", "move", "-",
                // `c` is dead after its move; `payload` is read once more
                // (`9 <- 1`), then dead, but register 9 is not an argument.
                "take", "move", "move", "-", "-", "move", "-",
            ]
        );
    }

    #[test]
    fn unchanged_tail_call_arguments_stay_in_place() {
        // count_loop(sender, count, half, g, next) after a test that jumps
        // to 2: the moves of parameters 0, 1 and 3 into the window are
        // dropped, not the one of 2 (written on the way) nor the one of 4
        // (another register), nor the first move (a jump lands after it).
        let code = vec![
            Op::BranchNotImm {
                cmp: Cmp::Eq,
                a: 0,
                imm: 0,
                to: 2,
            },
            Op::Move { dst: 10, src: 3 },
            Op::Move { dst: 7, src: 0 },
            Op::Move { dst: 8, src: 1 },
            Op::Move { dst: 9, src: 2 },
            Op::Move { dst: 11, src: 5 },
            Op::AddImm {
                dst: 2,
                a: 2,
                imm: 1,
            },
            Op::Move { dst: 10, src: 3 },
            Op::AddImm {
                dst: 6,
                a: 3,
                imm: 1,
            },
            Op::TailCall {
                func: 0,
                base: 7,
                n: 5,
            },
        ];
        let funcs = vec![func(code, None)];
        let mut hot = lower(&funcs, &|_| false);
        keep_tail_args(&mut hot, &funcs);
        assert_eq!(
            &hot[0].code[1..],
            &[
                Hot::Move { dst: 10, src: 3 },
                Hot::Skip { to: 4 },
                Hot::Nop,
                Hot::Move { dst: 9, src: 2 },
                Hot::Move { dst: 11, src: 5 },
                Hot::AddI {
                    dst: 2,
                    a: 2,
                    imm: 1
                },
                Hot::Nop,
                // Unfused from the tail call, which is no longer plain.
                Hot::AddI {
                    dst: 6,
                    a: 3,
                    imm: 1
                },
                Hot::TailSelfSome {
                    base: 7,
                    n: 5,
                    moved: 0b10100
                },
            ]
        );
    }

    #[test]
    fn a_parameter_left_in_place_is_not_taken() {
        // twice(s, t, n) = twice(s, s, n - 1): `s` stays in register 0
        // for the next turn, so its second move must stay a copy.
        let code = vec![
            Op::Move { dst: 6, src: 0 },
            Op::Move { dst: 7, src: 0 },
            Op::AddImm {
                dst: 8,
                a: 2,
                imm: -1,
            },
            Op::TailCall {
                func: 0,
                base: 6,
                n: 3,
            },
        ];
        let funcs = vec![func(code, None)];
        let mut hot = lower(&funcs, &|_| false);
        keep_tail_args(&mut hot, &funcs);
        take_tail_args(&mut hot, &funcs);
        assert_eq!(hot[0].code[0], Hot::Nop);
        assert_eq!(hot[0].code[1], Hot::Move { dst: 7, src: 0 });
        assert_eq!(
            hot[0].code[3],
            Hot::TailSelfSome {
                base: 6,
                n: 3,
                moved: 0b110
            }
        );
    }

    #[test]
    fn subtracting_the_smallest_immediate_stays_slow() {
        let funcs = vec![func(
            vec![Op::BinImm {
                op: Bin::Sub,
                dst: 0,
                a: 0,
                imm: i32::MIN,
            }],
            None,
        )];
        assert_eq!(&*lower(&funcs, &|_| false)[0].code, &[Hot::Slow]);
    }
}
