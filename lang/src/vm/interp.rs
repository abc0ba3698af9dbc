//! The instruction loop.
//!
//! The current frame's code, base and pc live in locals; they are written
//! back to the frame only when another frame takes over or the loop
//! returns. Registers are addressed as `regs[base + r]`.

use std::sync::Arc;
use std::time::Duration;

use mesh_core::dist::term_codec::check_sendable;
use mesh_core::{Atom, Cx, List, Received, Term};

use super::hot::{Hot, HotFunc};
use super::kernel::{self, KStep, Pending};
use super::native::NativeStep;
use super::{Closure, Env, Fault, Frame, Machine, Outcome, RuntimeError, closure_of, display};
use crate::builtins;
use crate::compile::bytecode::{Bin, Cmp, FailKind, Op, Pat, Shape};
use crate::stdlib::{self, Ret};

/// Deepest non-tail recursion a process may reach.
pub const MAX_DEPTH: usize = 1_000_000;

/// Registers a native frame keeps for itself: the callback's result.
const NATIVE_REGS: u32 = 1;

/// `Some(v)`.
pub(super) fn some(v: Term) -> Term {
    Term::variant(Atom::new("Option"), Atom::new("Some"), vec![v])
}

/// `None`.
pub(super) fn none() -> Term {
    Term::variant(Atom::new("Option"), Atom::new("None"), vec![])
}

/// Takes a register's value. An integer or a boolean is read field by
/// field (not as one wide copy of the whole term, which stalls right after
/// the instruction that wrote it).
#[inline(always)]
fn take_scalar(slot: &mut Term) -> Term {
    match *slot {
        Term::Int(x) => Term::Int(x),
        Term::Bool(b) => Term::Bool(b),
        _ => take(slot),
    }
}

#[inline]
fn take(t: &mut Term) -> Term {
    std::mem::replace(t, Term::Unit)
}

/// Stores `v` in a register. Overwriting a value without heap parts needs
/// no destructor call, which matters in arithmetic loops (and for a pid,
/// in send loops).
#[inline(always)]
pub(super) fn put(slot: &mut Term, v: Term) {
    if matches!(
        slot,
        Term::Int(_) | Term::Float(_) | Term::Bool(_) | Term::Unit | Term::Atom(_) | Term::Pid(_)
    ) {
        std::mem::forget(std::mem::replace(slot, v));
    } else {
        *slot = v;
    }
}

/// Stores an integer in a register: in place when it already holds one
/// (no tag write, no temporary `Term` on the stack).
#[inline(always)]
fn set_int(slot: &mut Term, v: i64) {
    if let Term::Int(x) = slot {
        *x = v;
    } else {
        put(slot, Term::Int(v));
    }
}

/// Moves register `from` to `to`. An integer is copied (it owns nothing),
/// anything else is taken, leaving unit behind.
#[inline(always)]
fn move_reg(regs: &mut [Term], from: usize, to: usize) {
    if let Term::Int(x) = regs[from] {
        set_int(&mut regs[to], x);
    } else {
        let v = take(&mut regs[from]);
        put(&mut regs[to], v);
    }
}

/// Stores a boolean in a register, in place when it already holds one.
#[inline(always)]
fn set_bool(slot: &mut Term, v: bool) {
    if let Term::Bool(x) = slot {
        *x = v;
    } else {
        put(slot, Term::Bool(v));
    }
}

/// Integer arithmetic and comparison without the error paths, storing the
/// result in `slot`. `false` means "take the slow path" (overflow,
/// division by zero, or an operator that is not arithmetic); `slot` is
/// then untouched.
#[inline(always)]
fn int_fast(op: Bin, x: i64, y: i64, slot: &mut Term) -> bool {
    let v = match op {
        Bin::Add => x.checked_add(y),
        Bin::Sub => x.checked_sub(y),
        Bin::Mul => x.checked_mul(y),
        Bin::Div if y != 0 => x.checked_div(y),
        Bin::Rem if y != 0 => x.checked_rem(y),
        Bin::Eq => return bool_into(slot, x == y),
        Bin::Ne => return bool_into(slot, x != y),
        Bin::Lt => return bool_into(slot, x < y),
        Bin::Le => return bool_into(slot, x <= y),
        Bin::Gt => return bool_into(slot, x > y),
        Bin::Ge => return bool_into(slot, x >= y),
        _ => None,
    };
    match v {
        Some(v) => {
            set_int(slot, v);
            true
        }
        None => false,
    }
}

#[inline(always)]
fn bool_into(slot: &mut Term, v: bool) -> bool {
    set_bool(slot, v);
    true
}

#[inline(always)]
fn int_cmp(cmp: Cmp, x: i64, y: i64) -> bool {
    match cmp {
        Cmp::Eq => x == y,
        Cmp::Ne => x != y,
        Cmp::Lt => x < y,
        Cmp::Le => x <= y,
        Cmp::Gt => x > y,
        Cmp::Ge => x >= y,
    }
}

fn frame_end(env: &Arc<Env>, f: &Frame) -> usize {
    if f.native.is_some() {
        (f.base + NATIVE_REGS) as usize
    } else {
        f.base as usize + usize::from(env.image.program.funcs[f.func as usize].nregs)
    }
}

/// Pushes a bytecode frame for `func` at `base` (its arguments already
/// there) returning into absolute register `ret`.
#[inline]
fn enter(env: &Arc<Env>, m: &mut Machine, func: u32, base: usize, ret: usize) -> Result<(), Fault> {
    if m.frames.len() >= MAX_DEPTH {
        return Err(Fault::StackOverflow { limit: MAX_DEPTH });
    }
    let f = &env.image.program.funcs[func as usize];
    let need = base + usize::from(f.nregs);
    if m.regs.len() < need {
        m.regs.resize(need, Term::Unit);
    }
    m.frames.push(Frame {
        func,
        pc: 0,
        base: base as u32,
        ret: ret as u32,
        native: None,
    });
    Ok(())
}

/// Pushes a frame for the closure `fv`, copying its captures in.
fn enter_value(
    env: &Arc<Env>,
    m: &mut Machine,
    fv: &Term,
    base: usize,
    ret: usize,
) -> Result<(), Fault> {
    let c: &Closure = closure_of(fv)?;
    enter(env, m, c.func, base, ret)?;
    let caps = &env.image.program.funcs[c.func as usize].captures;
    for (r, v) in caps.iter().zip(c.captures.iter()) {
        m.regs[base + usize::from(*r)] = v.clone();
    }
    Ok(())
}

fn int_bin(op: Bin, x: i64, y: i64) -> Result<Term, Fault> {
    let ov = |op| Fault::Overflow { op };
    Ok(match op {
        Bin::Add => Term::Int(x.checked_add(y).ok_or(ov("+"))?),
        Bin::Sub => Term::Int(x.checked_sub(y).ok_or(ov("-"))?),
        Bin::Mul => Term::Int(x.checked_mul(y).ok_or(ov("*"))?),
        Bin::Div => {
            if y == 0 {
                return Err(Fault::DivisionByZero);
            }
            Term::Int(x.checked_div(y).ok_or(ov("/"))?)
        }
        Bin::Rem => {
            if y == 0 {
                return Err(Fault::DivisionByZero);
            }
            Term::Int(x.checked_rem(y).ok_or(ov("%"))?)
        }
        Bin::Eq => Term::Bool(x == y),
        Bin::Ne => Term::Bool(x != y),
        Bin::Lt => Term::Bool(x < y),
        Bin::Le => Term::Bool(x <= y),
        Bin::Gt => Term::Bool(x > y),
        Bin::Ge => Term::Bool(x >= y),
        Bin::Concat | Bin::Append => {
            return Err(Fault::Type {
                op: "<>",
                got: "int",
            });
        }
    })
}

fn slow_bin(op: Bin, a: &Term, b: &Term) -> Result<Term, Fault> {
    use std::cmp::Ordering::*;
    let cmp = || a.cmp(b);
    Ok(match op {
        Bin::Eq => Term::Bool(a == b),
        Bin::Ne => Term::Bool(a != b),
        Bin::Lt => Term::Bool(cmp() == Less),
        Bin::Le => Term::Bool(cmp() != Greater),
        Bin::Gt => Term::Bool(cmp() == Greater),
        Bin::Ge => Term::Bool(cmp() != Less),
        Bin::Concat => match (a, b) {
            (Term::Str(x), Term::Str(y)) => {
                let mut s = String::with_capacity(x.len() + y.len());
                s.push_str(x);
                s.push_str(y);
                Term::from(s)
            }
            _ => {
                return Err(Fault::Type {
                    op: "<>",
                    got: a.kind_name(),
                });
            }
        },
        Bin::Append => match (a, b) {
            (Term::List(x), Term::List(y)) => {
                let mut v = Vec::with_capacity(x.len() + y.len());
                v.extend(x.iter().cloned());
                v.extend(y.iter().cloned());
                Term::List(List::from_vec(v))
            }
            (Term::Str(_), Term::Str(_)) => return slow_bin(Bin::Concat, a, b),
            _ => {
                return Err(Fault::Type {
                    op: "++",
                    got: a.kind_name(),
                });
            }
        },
        _ => match (a, b) {
            (Term::Int(x), Term::Int(y)) => return int_bin(op, *x, *y),
            (Term::Float(x), Term::Float(y)) => Term::Float(match op {
                Bin::Add => x + y,
                Bin::Sub => x - y,
                Bin::Mul => x * y,
                Bin::Div => x / y,
                _ => x % y,
            }),
            _ => {
                return Err(Fault::Type {
                    op: "arithmetic",
                    got: a.kind_name(),
                });
            }
        },
    })
}

#[inline]
fn compare(cmp: Cmp, a: &Term, b: &Term) -> bool {
    use std::cmp::Ordering::*;
    if let (Term::Int(x), Term::Int(y)) = (a, b) {
        return match cmp {
            Cmp::Eq => x == y,
            Cmp::Ne => x != y,
            Cmp::Lt => x < y,
            Cmp::Le => x <= y,
            Cmp::Gt => x > y,
            Cmp::Ge => x >= y,
        };
    }
    match cmp {
        Cmp::Eq => a == b,
        Cmp::Ne => a != b,
        Cmp::Lt => a.cmp(b) == Less,
        Cmp::Le => a.cmp(b) != Greater,
        Cmp::Gt => a.cmp(b) == Greater,
        Cmp::Ge => a.cmp(b) != Less,
    }
}

fn shape_ok(env: &Arc<Env>, t: &Term, shape: Shape) -> bool {
    match (shape, t) {
        (Shape::Tuple(n), Term::Tuple(items)) => items.len() == usize::from(n),
        (Shape::Cons, Term::List(l)) => !l.is_empty(),
        (Shape::Nil, Term::List(l)) => l.is_empty(),
        (Shape::ListLen(n), Term::List(l)) => l.len() == usize::from(n),
        (Shape::ListMin(n), Term::List(l)) => l.len() >= usize::from(n),
        (Shape::Struct(a), Term::Struct(s)) => s.name == env.image.atom(a),
        (Shape::Variant(a), Term::Variant(v)) => v.ctor == env.image.atom(a),
        (Shape::Map, Term::Map(_)) => true,
        _ => false,
    }
}

fn elem(t: &Term, idx: u16) -> Term {
    let i = usize::from(idx);
    match t {
        Term::Tuple(items) => items.get(i).cloned(),
        Term::Struct(s) => s.fields.get(i).cloned(),
        Term::Variant(v) => v.fields.get(i).cloned(),
        _ => None,
    }
    .unwrap_or(Term::Unit)
}

pub(crate) fn index(t: &Term, i: &Term) -> Result<Term, Fault> {
    match (t, i) {
        (Term::List(l), Term::Int(n)) => {
            let idx = usize::try_from(*n).ok();
            idx.and_then(|k| l.get(k)).cloned().ok_or(Fault::Index {
                index: *n,
                len: l.len(),
            })
        }
        (Term::Map(m), k) => m.get(k).cloned().ok_or_else(|| Fault::MissingKey {
            key: display::to_string(k),
        }),
        _ => Err(Fault::Type {
            op: "[]",
            got: t.kind_name(),
        }),
    }
}

/// The collection as a list (`for` iterates over it).
pub(crate) fn to_list(t: &Term) -> Result<List, Fault> {
    match t {
        Term::List(l) => Ok(l.clone()),
        Term::Map(m) => Ok(m
            .iter()
            .map(|(k, v)| Term::tuple(vec![k.clone(), v.clone()]))
            .collect()),
        Term::Struct(s) if s.name == *super::SET_TAG => match s.fields.first() {
            Some(Term::Map(m)) => Ok(m.keys().cloned().collect()),
            _ => Ok(List::new()),
        },
        _ => Err(Fault::Type {
            op: "for",
            got: t.kind_name(),
        }),
    }
}

/// Matches a data pattern (receive); binds into `binds` when given.
fn match_pat(env: &Arc<Env>, p: &Pat, t: &Term, binds: &mut Option<&mut Vec<Term>>) -> bool {
    let bind = |binds: &mut Option<&mut Vec<Term>>, r: u16, t: &Term| {
        if let Some(b) = binds {
            let i = usize::from(r);
            if b.len() <= i {
                b.resize(i + 1, Term::Unit);
            }
            b[i] = t.clone();
        }
    };
    match p {
        Pat::Any => true,
        Pat::Bind(r) => {
            bind(binds, *r, t);
            true
        }
        Pat::Const(k) => env.image.konst(*k) == t,
        Pat::Tuple(ps) => match t {
            Term::Tuple(items) if items.len() == ps.len() => ps
                .iter()
                .zip(items.iter())
                .all(|(p, x)| match_pat(env, p, x, binds)),
            _ => false,
        },
        Pat::List { elems, tail } => match t {
            Term::List(l) => {
                let ok_len = match tail {
                    Some(_) => l.len() >= elems.len(),
                    None => l.len() == elems.len(),
                };
                ok_len
                    && elems
                        .iter()
                        .zip(l.iter())
                        .all(|(p, x)| match_pat(env, p, x, binds))
                    && tail.as_ref().is_none_or(|tp| {
                        let rest: List = l.iter().skip(elems.len()).cloned().collect();
                        match_pat(env, tp, &Term::List(rest), binds)
                    })
            }
            _ => false,
        },
        Pat::Variant { ctor, args } => match t {
            Term::Variant(v) if v.ctor == env.image.atom(*ctor) && v.fields.len() == args.len() => {
                args.iter()
                    .zip(v.fields.iter())
                    .all(|(p, x)| match_pat(env, p, x, binds))
            }
            _ => false,
        },
        Pat::Struct { name, fields } => match t {
            Term::Struct(s) if s.name == env.image.atom(*name) => fields.iter().all(|(i, p)| {
                s.fields
                    .get(usize::from(*i))
                    .is_some_and(|x| match_pat(env, p, x, binds))
            }),
            _ => false,
        },
        Pat::Map(entries) => match t {
            Term::Map(m) => entries.iter().all(|(k, p)| {
                m.get(env.image.konst(*k))
                    .is_some_and(|x| match_pat(env, p, x, binds))
            }),
            _ => false,
        },
        Pat::Or(ps) => ps.iter().any(|p| match_pat(env, p, t, binds)),
        Pat::As(p, r) => {
            bind(binds, *r, t);
            match_pat(env, p, t, binds)
        }
    }
}

/// Runs a guard function over a copy of a waiting frame's registers.
fn eval_guard(env: &Arc<Env>, func: u32, regs: Vec<Term>) -> bool {
    let mut m = Machine {
        regs,
        frames: Vec::new(),
        kernel: None,
    };
    let nregs = usize::from(env.image.program.funcs[func as usize].nregs);
    if m.regs.len() < nregs {
        m.regs.resize(nregs, Term::Unit);
    }
    m.frames.push(Frame::bottom(func));
    let mut budget = i64::MAX;
    let mut term = None;
    matches!(
        run(env, &mut m, None, &mut budget, &mut term),
        Ok(Outcome::Done(Term::Bool(true)))
    )
}

/// What a `receive`'s matcher needs to test a message.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Filter {
    /// Its first arm takes any message (`_` or a name, no guard): the
    /// oldest message is taken without running the matcher.
    Any,
    /// Patterns only.
    Patterns,
    /// Some arm has a guard, which runs over a copy of the waiting frame.
    Guarded,
}

fn receive_filter(env: &Arc<Env>, matcher: u32) -> Filter {
    let Some(m) = env.image.program.matchers.get(matcher as usize) else {
        return Filter::Patterns;
    };
    match m.arms.first() {
        Some(a) if a.guard.is_none() && matches!(a.pat, Pat::Any | Pat::Bind(_)) => Filter::Any,
        _ if m.arms.iter().any(|a| a.guard.is_some()) => Filter::Guarded,
        _ => Filter::Patterns,
    }
}

fn accepts(env: &Arc<Env>, matcher: u32, msg: &Term, frame: Option<&[Term]>) -> bool {
    let Some(m) = env.image.program.matchers.get(matcher as usize) else {
        return false;
    };
    m.arms.iter().any(|arm| match (arm.guard, frame) {
        (None, _) => match_pat(env, &arm.pat, msg, &mut None),
        (Some(g), Some(regs)) => {
            let mut scratch = regs.to_vec();
            match_pat(env, &arm.pat, msg, &mut Some(&mut scratch)) && eval_guard(env, g, scratch)
        }
        (Some(_), None) => false,
    })
}

fn error_at(env: &Arc<Env>, m: &Machine, pc: usize, fault: Fault) -> RuntimeError {
    let (func, line, file) = match m.frames.iter().rev().find(|f| f.native.is_none()) {
        Some(fr) => {
            let f = &env.image.program.funcs[fr.func as usize];
            let file = env
                .image
                .program
                .files
                .get(f.file as usize)
                .cloned()
                .unwrap_or_default();
            (f.name.clone(), f.line_at(pc), file)
        }
        None => (String::new(), 0, String::new()),
    };
    RuntimeError {
        fault,
        file,
        line,
        func,
    }
}

/// Runs `m` until it yields, waits, or its bottom frame returns.
pub(super) fn run(
    env: &Arc<Env>,
    m: &mut Machine,
    mut cx: Option<&mut Cx<'_>>,
    budget: &mut i64,
    terminate: &mut Option<(u32, Vec<Term>)>,
) -> Result<Outcome, RuntimeError> {
    let mut pc: usize = 0;
    match step(env, m, &mut cx, budget, terminate, &mut pc) {
        Ok(o) => Ok(o),
        Err(f) => Err(error_at(env, m, pc.saturating_sub(1), f)),
    }
}

/// Restarts native frames on top of the stack after a callback returned
/// (or the native was just pushed). Returns the outcome if the machine
/// finished.
fn settle(env: &Arc<Env>, m: &mut Machine, last: Option<Term>) -> Result<Option<Term>, Fault> {
    settle_parts(env, &mut m.regs, &mut m.frames, last)
}

/// [`settle`] on a machine's parts (for the hot loop, which holds them
/// apart).
fn settle_parts(
    env: &Arc<Env>,
    regs: &mut Vec<Term>,
    frames: &mut Vec<Frame>,
    mut last: Option<Term>,
) -> Result<Option<Term>, Fault> {
    loop {
        let Some(top) = frames.last_mut() else {
            return Ok(last);
        };
        let Some(native) = top.native.as_mut() else {
            return Ok(None);
        };
        let argb = top.base as usize + NATIVE_REGS as usize;
        if regs.len() < argb + 2 {
            regs.resize(argb + 2, Term::Unit);
        }
        let step = native.step(last.take(), &mut regs[argb..argb + 2])?;
        match after_native_step(env, regs, frames, step)? {
            Flow::Run => return Ok(None),
            Flow::Finished(v) => return Ok(Some(v)),
            Flow::Again(v) => last = Some(v),
        }
    }
}

/// Where a native frame's step leaves the machine.
enum Flow {
    /// A bytecode frame is on top.
    Run,
    /// The bottom frame finished with this value.
    Finished(Term),
    /// The native frame finished into another native frame, which now
    /// steps with this value.
    Again(Term),
}

/// Carries out what the native frame on top of `frames` asked for: push
/// the frame of its next callback, or finish and hand its value down.
fn after_native_step(
    env: &Arc<Env>,
    regs: &mut Vec<Term>,
    frames: &mut Vec<Frame>,
    step: NativeStep,
) -> Result<Flow, Fault> {
    let Some(top) = frames.last() else {
        return Ok(Flow::Run);
    };
    let nb = top.base as usize;
    let argb = nb + NATIVE_REGS as usize;
    match step {
        NativeStep::Call => {
            let Some(native) = top.native.as_ref() else {
                return Ok(Flow::Run);
            };
            // The closure is borrowed from the native frame, not cloned.
            let c = closure_of(native.callee())?;
            let func = c.func;
            let f = &env.image.program.funcs[func as usize];
            let need = argb + usize::from(f.nregs);
            if regs.len() < need {
                regs.resize(need, Term::Unit);
            }
            for (r, v) in f.captures.iter().zip(c.captures.iter()) {
                put(&mut regs[argb + usize::from(*r)], v.clone());
            }
            if frames.len() >= MAX_DEPTH {
                return Err(Fault::StackOverflow { limit: MAX_DEPTH });
            }
            frames.push(Frame {
                func,
                pc: 0,
                base: argb as u32,
                ret: nb as u32,
                native: None,
            });
            Ok(Flow::Run)
        }
        NativeStep::Done(v) => {
            let fr = frames.pop();
            let ret = fr.map_or(0, |f| f.ret as usize);
            match frames.last() {
                None => Ok(Flow::Finished(v)),
                Some(caller) => {
                    let end = frame_end(env, caller);
                    regs.resize(end.max(ret + 1), Term::Unit);
                    regs[ret] = v;
                    if caller.native.is_none() {
                        return Ok(Flow::Run);
                    }
                    Ok(Flow::Again(take(&mut regs[ret])))
                }
            }
        }
    }
}

/// Where the running bytecode frame is: what [`fast`] and [`step`] share.
struct Pos {
    func: u32,
    base: usize,
    pc: usize,
}

/// Why [`fast`] stopped.
enum Stop {
    /// At the instruction `Pos` names: [`step`] runs it.
    Step,
    /// A callback's return finished the machine with this value.
    Done(Term),
    /// A native frame failed after a callback returned.
    Fault(Fault),
}

/// Grows the register file to `need` registers (rare: only the first
/// time a call reaches a new depth), out of the hot loop's way.
#[cold]
#[inline(never)]
fn grow(regv: &mut Vec<Term>, need: usize) {
    regv.resize(need, Term::Unit);
}

/// What a callback's return into a native frame came to, off the hot
/// loop's fast path.
enum NativeReturn {
    /// Run the callback's frame again from the start (same function, its
    /// arguments written).
    Restart,
    /// Continue with the bytecode frame now on top.
    Resume,
    Stop(Stop),
}

/// A callback (running `func`) returned the value in absolute register
/// `at` into the native frame below it: step the native frame and carry
/// out what it asks. Kept out of the hot loop; the common case (the next
/// element of a `map`/`filter`/`fold` with a closure that captures
/// nothing) restarts the callback's frame without touching the frame
/// stack.
#[inline(never)]
fn native_return(
    env: &Arc<Env>,
    regv: &mut Vec<Term>,
    frames: &mut Vec<Frame>,
    at: usize,
    func: u32,
) -> NativeReturn {
    let depth = frames.len();
    let Some(callee_base) = frames.last().map(|f| f.base as usize) else {
        return NativeReturn::Stop(Stop::Done(Term::Unit));
    };
    if regv.len() < (callee_base + 2).max(at + 1) {
        regv.resize((callee_base + 2).max(at + 1), Term::Unit);
    }
    let v = take_scalar(&mut regv[at]);
    let Some(native) = depth
        .checked_sub(2)
        .and_then(|i| frames.get_mut(i))
        .and_then(|f| f.native.as_mut())
    else {
        return NativeReturn::Stop(Stop::Done(v));
    };
    let args = &mut regv[callee_base..callee_base + 2];
    let v = if native.plain_callee() == Some(func) {
        match native.next_fast(v, args) {
            // The same function again, capturing nothing: restart the
            // frame in place.
            Ok(()) => return NativeReturn::Restart,
            Err(v) => v,
        }
    } else {
        v
    };
    // The callback's frame starts at the native frame's argument
    // registers, which `step` fills.
    let step = match native.step(Some(v), args) {
        Ok(s) => s,
        Err(f) => {
            frames.pop();
            return NativeReturn::Stop(Stop::Fault(f));
        }
    };
    if matches!(step, NativeStep::Call) && native.plain_callee() == Some(func) {
        return NativeReturn::Restart;
    }
    frames.pop();
    let flow = match after_native_step(env, regv, frames, step) {
        Ok(Flow::Again(v)) => settle_parts(env, regv, frames, Some(v)),
        Ok(Flow::Run) => Ok(None),
        Ok(Flow::Finished(v)) => Ok(Some(v)),
        Err(f) => Err(f),
    };
    match flow {
        Ok(None) => NativeReturn::Resume,
        Ok(Some(v)) => NativeReturn::Stop(Stop::Done(v)),
        Err(f) => NativeReturn::Stop(Stop::Fault(f)),
    }
}

/// The hot loop: runs the lowered instructions ([`Hot`]: integer
/// arithmetic and branches, moves, calls and returns between bytecode
/// frames, and `send` and the plain `receive` of an actor loop) with few
/// live values, so they stay in machine registers; the
/// register file is a local slice, re-taken only when a call grows it. It
/// stops, with `pc` at the instruction, at [`Hot::Slow`] and at any case
/// that might fail, yield, or need the process's state (a native caller,
/// the depth limit, the last unit of budget); [`step`] then runs that
/// instruction in full. Nothing here has side effects before it decides
/// to stop, so running the instruction again is exact.
#[allow(clippy::too_many_lines)]
#[inline(never)]
fn fast(
    env: &Arc<Env>,
    m: &mut Machine,
    pos: &mut Pos,
    budget: &mut i64,
    cx: &mut Option<&mut Cx<'_>>,
) -> Stop {
    let hot: &[HotFunc] = &env.image.hot;
    let Machine {
        regs: regv, frames, ..
    } = m;
    let mut stop = Stop::Step;
    let mut func = pos.func;
    let Some(start) = hot.get(func as usize) else {
        return stop;
    };
    let mut code: &[Hot] = &start.code;
    let mut base = pos.base;
    let mut pc = pos.pc;
    let mut bud = *budget;
    // The running frame's registers: `fr[r]` is register `r`.
    let Some(mut fr) = regv.get_mut(base..) else {
        return stop;
    };
    macro_rules! r {
        ($x:expr) => {
            fr[usize::from($x)]
        };
    }
    // `dst = f(a, b)` on two integers; anything else stops the loop.
    macro_rules! int2 {
        ($dst:expr, $a:expr, $b:expr, |$x:ident, $y:ident| $e:expr) => {{
            let (Term::Int($x), Term::Int($y)) = (&r!($a), &r!($b)) else {
                break;
            };
            let ($x, $y) = (*$x, *$y);
            let Some(v) = $e else {
                break;
            };
            set_int(&mut r!($dst), v);
        }};
    }
    // `dst = f(a, imm)` on an integer.
    macro_rules! int1 {
        ($dst:expr, $a:expr, $imm:expr, |$x:ident, $y:ident| $e:expr) => {{
            let Term::Int($x) = r!($a) else {
                break;
            };
            let $y = i64::from($imm);
            let Some(v) = $e else {
                break;
            };
            set_int(&mut r!($dst), v);
        }};
    }
    // Jump to `to` unless `a cmp imm` holds on an integer.
    macro_rules! unless_imm {
        ($a:expr, $imm:expr, $to:expr, $op:tt) => {{
            let Term::Int(x) = r!($a) else {
                break;
            };
            if !(x $op i64::from($imm)) {
                pc = $to as usize;
                continue;
            }
        }};
    }
    // Jump to `to` unless `a cmp b` holds (any terms: comparing cannot fail).
    macro_rules! unless {
        ($a:expr, $b:expr, $to:expr, $cmp:expr) => {{
            if !compare($cmp, &r!($a), &r!($b)) {
                pc = $to as usize;
                continue;
            }
        }};
    }
    // A call of a bytecode function at `pc`.
    macro_rules! call {
        ($dst:expr, $callee:expr, $b:expr) => {{
            let callee = $callee;
            if bud <= 1 || frames.len() >= MAX_DEPTH {
                break;
            }
            let Some(f) = hot.get(callee as usize) else {
                break;
            };
            bud -= 1;
            let nb = base + usize::from($b);
            let need = nb + f.nregs as usize;
            if regv.len() < need {
                grow(regv, need);
            }
            fr = &mut regv[nb..];
            if let Some(top) = frames.last_mut() {
                top.pc = (pc + 1) as u32;
            }
            frames.push(Frame {
                func: callee,
                pc: 0,
                base: nb as u32,
                ret: (base + usize::from($dst)) as u32,
                native: None,
            });
            func = callee;
            code = &f.code;
            base = nb;
            pc = 0;
            continue;
        }};
    }
    // A self tail call with its `n` arguments at `b`.
    macro_rules! tail_self {
        ($b:expr, $n:expr) => {{
            if bud <= 1 {
                break;
            }
            bud -= 1;
            let src = usize::from($b);
            if src != 0 {
                for i in 0..usize::from($n) {
                    move_reg(fr, src + i, i);
                }
            }
            pc = 0;
            continue;
        }};
    }
    // A return of register `r`.
    macro_rules! ret {
        ($r:expr) => {{
            let r = $r;
            let depth = frames.len();
            if depth < 2 {
                break;
            }
            if frames[depth - 2].native.is_some() {
                // A callback of `List.map` and friends: hand the value to
                // the native frame, which calls the next one or finishes.
                // One reduction per callback.
                if bud <= 1 {
                    break;
                }
                bud -= 1;
                match native_return(env, regv, frames, base + usize::from(r), func) {
                    NativeReturn::Restart => {
                        pc = 0;
                        fr = &mut regv[base..];
                    }
                    NativeReturn::Resume => {
                        // A bytecode frame is on top.
                        let Some(top) = frames.last() else {
                            stop = Stop::Done(Term::Unit);
                            break;
                        };
                        let Some(f) = hot.get(top.func as usize) else {
                            stop = Stop::Fault(Fault::Builtin {
                                message: "a frame of an unknown function".into(),
                            });
                            break;
                        };
                        func = top.func;
                        code = &f.code;
                        base = top.base as usize;
                        pc = top.pc as usize;
                        fr = &mut regv[base..];
                    }
                    NativeReturn::Stop(s) => {
                        stop = s;
                        break;
                    }
                }
                continue;
            }
            let (ret, caller) = match &frames[depth - 2..] {
                [caller, top] if caller.native.is_none() => {
                    (top.ret as usize, (caller.func, caller.base, caller.pc))
                }
                _ => break,
            };
            let Some(f) = hot.get(caller.0 as usize) else {
                break;
            };
            frames.pop();
            move_reg(regv, base + usize::from(r), ret);
            func = caller.0;
            code = &f.code;
            base = caller.1 as usize;
            pc = caller.2 as usize;
            fr = &mut regv[base..];
            continue;
        }};
    }
    while let Some(op) = code.get(pc) {
        // Through the reference: each arm loads only its own fields (a
        // copy of the instruction had every field decoded up front, on
        // every dispatch, tying up registers the loop then spilled).
        match *op {
            Hot::Slow => break,
            Hot::Move { dst, src } => {
                let v = r!(src).clone();
                put(&mut r!(dst), v);
            }
            Hot::Take { dst, src } => {
                move_reg(fr, usize::from(src), usize::from(dst));
            }
            Hot::Int { dst, v } => set_int(&mut r!(dst), i64::from(v)),
            Hot::Unit { dst } => put(&mut r!(dst), Term::Unit),
            Hot::Bool { dst, v } => set_bool(&mut r!(dst), v),
            Hot::Add { dst, a, b } => int2!(dst, a, b, |x, y| x.checked_add(y)),
            Hot::Sub { dst, a, b } => int2!(dst, a, b, |x, y| x.checked_sub(y)),
            Hot::Mul { dst, a, b } => int2!(dst, a, b, |x, y| x.checked_mul(y)),
            Hot::Div { dst, a, b } => {
                int2!(dst, a, b, |x, y| x.checked_div(y));
            }
            Hot::Rem { dst, a, b } => {
                int2!(dst, a, b, |x, y| x.checked_rem(y));
            }
            Hot::Cmp { cmp, dst, a, b } => {
                let (Term::Int(x), Term::Int(y)) = (&r!(a), &r!(b)) else {
                    break;
                };
                let v = int_cmp(cmp, *x, *y);
                set_bool(&mut r!(dst), v);
            }
            Hot::AddI { dst, a, imm } => int1!(dst, a, imm, |x, y| x.checked_add(y)),
            Hot::MulI { dst, a, imm } => int1!(dst, a, imm, |x, y| x.checked_mul(y)),
            Hot::DivI { dst, a, imm } => {
                int1!(dst, a, imm, |x, y| x.checked_div(y));
            }
            Hot::RemI { dst, a, imm } => {
                int1!(dst, a, imm, |x, y| x.checked_rem(y));
            }
            Hot::CmpI { cmp, dst, a, imm } => {
                let Term::Int(x) = r!(a) else {
                    break;
                };
                set_bool(&mut r!(dst), int_cmp(cmp, x, i64::from(imm)));
            }
            Hot::UnlessEqI { a, imm, to } => unless_imm!(a, imm, to, ==),
            Hot::UnlessNeI { a, imm, to } => unless_imm!(a, imm, to, !=),
            Hot::UnlessLtI { a, imm, to } => unless_imm!(a, imm, to, <),
            Hot::UnlessLeI { a, imm, to } => unless_imm!(a, imm, to, <=),
            Hot::UnlessGtI { a, imm, to } => unless_imm!(a, imm, to, >),
            Hot::UnlessGeI { a, imm, to } => unless_imm!(a, imm, to, >=),
            Hot::UnlessEq { a, b, to } => unless!(a, b, to, Cmp::Eq),
            Hot::UnlessNe { a, b, to } => unless!(a, b, to, Cmp::Ne),
            Hot::UnlessLt { a, b, to } => unless!(a, b, to, Cmp::Lt),
            Hot::UnlessLe { a, b, to } => unless!(a, b, to, Cmp::Le),
            Hot::UnlessGt { a, b, to } => unless!(a, b, to, Cmp::Gt),
            Hot::UnlessGe { a, b, to } => unless!(a, b, to, Cmp::Ge),
            Hot::JumpIfNot { r, to } => {
                if !matches!(r!(r), Term::Bool(true)) {
                    pc = to as usize;
                    continue;
                }
            }
            Hot::JumpIf { r, to } => {
                if matches!(r!(r), Term::Bool(true)) {
                    pc = to as usize;
                    continue;
                }
            }
            Hot::TestInt { r, v, fail } => {
                if !matches!(r!(r), Term::Int(x) if x == i64::from(v)) {
                    pc = fail as usize;
                    continue;
                }
            }
            Hot::Jump { to } => {
                if bud <= 1 {
                    break;
                }
                bud -= 1;
                pc = to as usize;
                continue;
            }
            Hot::Call {
                dst,
                func: callee,
                base: b,
            } => call!(dst, callee, b),
            Hot::TailSelf { base: b, n } => tail_self!(b, n),
            Hot::TailCall {
                func: callee,
                base: b,
                n,
            } => {
                if bud <= 1 {
                    break;
                }
                let Some(f) = hot.get(callee as usize) else {
                    break;
                };
                bud -= 1;
                let src = usize::from(b);
                if src != 0 {
                    for i in 0..usize::from(n) {
                        move_reg(fr, src + i, i);
                    }
                }
                let need = base + f.nregs as usize;
                if regv.len() < need {
                    grow(regv, need);
                }
                fr = &mut regv[base..];
                if let Some(top) = frames.last_mut() {
                    top.func = callee;
                }
                func = callee;
                code = &f.code;
                pc = 0;
                continue;
            }
            Hot::Return { r } => ret!(r),
            Hot::Send { dst, base: b } => {
                // Stops where `send` fails (outside a process, not a pid,
                // a message that cannot cross to another node): `step`
                // reports it. Otherwise as `stdlib::call_send`.
                let Some(c) = cx.as_deref_mut() else {
                    break;
                };
                let Term::Pid(to) = r!(b) else {
                    break;
                };
                let at = usize::from(b) + 1;
                if !to.is_local() && check_sendable(&fr[at]).is_err() {
                    break;
                }
                let msg = take(&mut fr[at]);
                c.send(to, msg);
                put(&mut r!(dst), Term::Unit);
            }
            Hot::ReceiveAny { dst } => {
                // An empty mailbox stops here and `step` waits. (Looking
                // twice changes nothing: the first look only disarms an
                // abandoned timed receive, which the second finds done.)
                let Some(c) = cx.as_deref_mut() else {
                    break;
                };
                let Some(msg) = c.receive_any() else {
                    break;
                };
                r!(dst) = msg;
            }
            Hot::Nop => {}
            Hot::TailSelfSome { base: b, n, moved } => {
                let b = usize::from(b);
                if bud <= 1 {
                    // `step` runs the bytecode's tail call, which moves
                    // every argument: put the kept ones where it takes them.
                    let mut kept = !moved;
                    while kept != 0 && (kept.trailing_zeros() as u16) < n {
                        let i = kept.trailing_zeros() as usize;
                        kept &= kept - 1;
                        move_reg(fr, i, b + i);
                    }
                    break;
                }
                bud -= 1;
                let mut m = moved;
                while m != 0 {
                    let i = m.trailing_zeros() as usize;
                    m &= m - 1;
                    move_reg(fr, b + i, i);
                }
                pc = 0;
                continue;
            }
            Hot::Skip { to } => {
                pc = to as usize;
                continue;
            }
            Hot::SendFrom {
                dst,
                base: b,
                pid,
                msg,
            } => {
                // As the two moves and `Hot::Send`; stops (at the first
                // move, nothing done) wherever that send would.
                let Some(c) = cx.as_deref_mut() else {
                    break;
                };
                let Term::Pid(to) = r!(pid) else {
                    break;
                };
                if !to.is_local() && check_sendable(&r!(msg)).is_err() {
                    break;
                }
                let m = r!(msg).clone();
                put(&mut r!(b), Term::Pid(to));
                // The send takes the message out of the window.
                put(&mut fr[usize::from(b) + 1], Term::Unit);
                c.send(to, m);
                put(&mut r!(dst), Term::Unit);
                pc += 3;
                continue;
            }
            // Fused pairs: the first half stops at its own pc, the second
            // (the next instruction, read from there) at the next pc.
            Hot::AddICall { dst, a, imm } => {
                int1!(dst, a, imm, |x, y| x.checked_add(y));
                pc += 1;
                let Some(&Hot::Call {
                    dst,
                    func: callee,
                    base: b,
                }) = code.get(pc)
                else {
                    break;
                };
                call!(dst, callee, b)
            }
            Hot::AddRet { dst, a, b } => {
                int2!(dst, a, b, |x, y| x.checked_add(y));
                pc += 1;
                let Some(&Hot::Return { r }) = code.get(pc) else {
                    break;
                };
                ret!(r)
            }
            Hot::AddITail { dst, a, imm } => {
                int1!(dst, a, imm, |x, y| x.checked_add(y));
                pc += 1;
                let Some(&Hot::TailSelf { base: b, n }) = code.get(pc) else {
                    break;
                };
                tail_self!(b, n)
            }
            Hot::RemITail { dst, a, imm } => {
                int1!(dst, a, imm, |x, y| x.checked_rem(y));
                pc += 1;
                let Some(&Hot::TailSelf { base: b, n }) = code.get(pc) else {
                    break;
                };
                tail_self!(b, n)
            }
            Hot::AddTail { dst, a, b } => {
                int2!(dst, a, b, |x, y| x.checked_add(y));
                pc += 1;
                let Some(&Hot::TailSelf { base: b, n }) = code.get(pc) else {
                    break;
                };
                tail_self!(b, n)
            }
        }
        pc += 1;
    }
    pos.func = func;
    pos.base = base;
    pos.pc = pc;
    *budget = bud;
    stop
}

#[allow(clippy::too_many_lines)]
fn step(
    env: &Arc<Env>,
    m: &mut Machine,
    cx: &mut Option<&mut Cx<'_>>,
    budget: &mut i64,
    terminate: &mut Option<(u32, Vec<Term>)>,
    pc_out: &mut usize,
) -> Result<Outcome, Fault> {
    let funcs = &env.image.program.funcs;
    // A native frame may be on top after a yield inside its callback's return.
    if let Some(v) = settle(env, m, None)? {
        return Ok(Outcome::Done(v));
    }
    let Some(top) = m.frames.last() else {
        return Ok(Outcome::Done(Term::Unit));
    };
    let mut cur_func = top.func;
    let mut code: &[Op] = &funcs[top.func as usize].code;
    let mut base = top.base as usize;
    let mut pc = top.pc as usize;
    // A return of this register to run before the next instruction.
    let mut ret_next: Option<u16> = None;

    macro_rules! reload {
        () => {{
            let Some(top) = m.frames.last() else {
                return Ok(Outcome::Done(Term::Unit));
            };
            cur_func = top.func;
            code = &funcs[top.func as usize].code;
            base = top.base as usize;
            pc = top.pc as usize;
        }};
    }
    macro_rules! save {
        () => {
            if let Some(top) = m.frames.last_mut() {
                top.pc = pc as u32;
            }
        };
    }
    macro_rules! r {
        ($x:expr) => {
            m.regs[base + usize::from($x)]
        };
    }
    macro_rules! fault {
        ($e:expr) => {{
            *pc_out = pc;
            return Err($e);
        }};
    }
    macro_rules! tri {
        ($e:expr) => {
            match $e {
                Ok(v) => v,
                Err(e) => fault!(e),
            }
        };
    }
    macro_rules! check_budget {
        () => {
            if *budget <= 0 {
                save!();
                return Ok(Outcome::Yield);
            }
        };
    }
    // What a native call came to: its value into absolute register
    // `dst` (then a return of `ret`), a yield with the call pending, or
    // the fault, blamed on the kernel's own line.
    macro_rules! native_step {
        ($step:expr, $run:expr, $k:expr, $dst:expr, $ret:expr) => {
            match $step {
                KStep::Value(v) => {
                    put(&mut m.regs[$dst], v);
                    ret_next = $ret;
                }
                KStep::Yield => {
                    save!();
                    m.kernel = Some(Pending {
                        run: $run,
                        kernel: $k,
                        dst: $dst,
                        ret: $ret,
                    });
                    return Ok(Outcome::Yield);
                }
                KStep::Fault {
                    fault,
                    func,
                    pc: kpc,
                } => {
                    let fault = kernel::refine_fail(&env.image.program, func, kpc, fault);
                    // Its frame, so that the error names its line.
                    m.frames.push(Frame::bottom(func));
                    *pc_out = kpc as usize + 1;
                    return Err(fault);
                }
            }
        };
    }
    if let Some(Pending {
        mut run,
        kernel: k,
        dst,
        ret,
    }) = m.kernel.take()
    {
        let Some(set) = env.image.kernels.as_ref() else {
            fault!(Fault::Builtin {
                message: "a native call without native code".into()
            });
        };
        let step = set.resume(&mut run, k, budget);
        native_step!(step, run, k, dst, ret);
    }

    loop {
        // The end of a tail call that ran as native code: its `Return`.
        let injected = ret_next.take().map(|r| Op::Return { r });
        if injected.is_none() {
            let mut pos = Pos {
                func: cur_func,
                base,
                pc,
            };
            match fast(env, m, &mut pos, budget, cx) {
                Stop::Step => {}
                Stop::Done(v) => return Ok(Outcome::Done(v)),
                Stop::Fault(f) => {
                    // Blame the call that started the native frame.
                    pc = m
                        .frames
                        .iter()
                        .rev()
                        .find(|f| f.native.is_none())
                        .map_or(0, |f| f.pc as usize);
                    fault!(f);
                }
            }
            if pos.func != cur_func {
                cur_func = pos.func;
                code = &funcs[cur_func as usize].code;
            }
            base = pos.base;
            pc = pos.pc;
        }
        let op = match injected {
            Some(op) => op,
            None => {
                let Some(&op) = code.get(pc) else {
                    fault!(Fault::Builtin {
                        message: "fell off the end of a function".into()
                    });
                };
                pc += 1;
                op
            }
        };
        match op {
            Op::Move { dst, src } => {
                let v = r!(src).clone();
                put(&mut r!(dst), v);
            }
            Op::Take { dst, src } => {
                move_reg(
                    &mut m.regs,
                    base + usize::from(src),
                    base + usize::from(dst),
                );
            }
            Op::Const { dst, idx } => put(&mut r!(dst), env.image.konst(idx).clone()),
            Op::Int { dst, v } => set_int(&mut r!(dst), i64::from(v)),
            Op::Unit { dst } => put(&mut r!(dst), Term::Unit),
            Op::Bool { dst, v } => put(&mut r!(dst), Term::Bool(v)),
            Op::Bin { op, dst, a, b } => {
                let v = match (&r!(a), &r!(b)) {
                    (Term::Int(x), Term::Int(y)) => {
                        let (x, y) = (*x, *y);
                        if int_fast(op, x, y, &mut r!(dst)) {
                            continue;
                        }
                        tri!(int_bin(op, x, y))
                    }
                    (x, y) => tri!(slow_bin(op, x, y)),
                };
                put(&mut r!(dst), v);
            }
            Op::BinImm { op, dst, a, imm } => {
                let y = i64::from(imm);
                let v = match &r!(a) {
                    Term::Int(x) => {
                        let x = *x;
                        if int_fast(op, x, y, &mut r!(dst)) {
                            continue;
                        }
                        tri!(int_bin(op, x, y))
                    }
                    x => tri!(slow_bin(op, x, &Term::Int(y))),
                };
                put(&mut r!(dst), v);
            }
            Op::BranchNotImm { cmp, a, imm, to } => {
                let holds = match &r!(a) {
                    Term::Int(x) => int_cmp(cmp, *x, i64::from(imm)),
                    x => compare(cmp, x, &Term::Int(i64::from(imm))),
                };
                if !holds {
                    pc = to as usize;
                }
            }
            Op::AddImm { dst, a, imm } => {
                let v = match &r!(a) {
                    Term::Int(x) => match x.checked_add(i64::from(imm)) {
                        Some(v) => v,
                        None => fault!(Fault::Overflow { op: "+" }),
                    },
                    other => fault!(Fault::Type {
                        op: "+",
                        got: other.kind_name()
                    }),
                };
                set_int(&mut r!(dst), v);
            }
            Op::Neg { dst, a } => {
                let v = match &r!(a) {
                    Term::Int(x) => match x.checked_neg() {
                        Some(v) => Term::Int(v),
                        None => fault!(Fault::Overflow { op: "-" }),
                    },
                    Term::Float(x) => Term::Float(-x),
                    other => fault!(Fault::Type {
                        op: "-",
                        got: other.kind_name()
                    }),
                };
                r!(dst) = v;
            }
            Op::Not { dst, a } => {
                let v = !matches!(r!(a), Term::Bool(true));
                r!(dst) = Term::Bool(v);
            }
            Op::Jump { to } => {
                pc = to as usize;
                *budget -= 1;
                check_budget!();
            }
            Op::JumpIfNot { r, to } => {
                if !matches!(r!(r), Term::Bool(true)) {
                    pc = to as usize;
                }
            }
            Op::JumpIf { r, to } => {
                if matches!(r!(r), Term::Bool(true)) {
                    pc = to as usize;
                }
            }
            Op::BranchNot { cmp, a, b, to } => {
                if !compare(cmp, &r!(a), &r!(b)) {
                    pc = to as usize;
                }
            }
            Op::LoopTest { i, hi, done } => {
                let stop = match (&r!(i), &r!(hi)) {
                    (Term::Int(x), Term::Int(y)) => x >= y,
                    _ => true,
                };
                if stop {
                    pc = done as usize;
                }
            }
            Op::Call {
                dst,
                func,
                base: b,
                n,
            } => {
                *budget -= 1;
                save!();
                let nb = base + usize::from(b);
                let n = usize::from(n);
                if let Some((k, step, run)) = kernel::start_call(
                    env.image.kernels.as_ref(),
                    func,
                    m.regs.get(nb..nb + n),
                    m.frames.len(),
                    budget,
                ) {
                    let dst = base + usize::from(dst);
                    native_step!(step, run, k, dst, None);
                    check_budget!();
                    continue;
                }
                if let Some(t) = funcs[func as usize].terminate {
                    *terminate = Some((t, m.regs[nb..nb + n].to_vec()));
                }
                tri!(enter(env, m, func, nb, base + usize::from(dst)));
                cur_func = func;
                code = &funcs[func as usize].code;
                base = nb;
                pc = 0;
                check_budget!();
            }
            Op::TailCall { func, base: b, n } => {
                *budget -= 1;
                let lo = base + usize::from(b);
                if let Some((k, step, run)) = kernel::start_call(
                    env.image.kernels.as_ref(),
                    func,
                    m.regs.get(lo..lo + usize::from(n)),
                    // A tail call replaces this frame.
                    m.frames.len().saturating_sub(1),
                    budget,
                ) {
                    native_step!(step, run, k, lo, Some(b));
                    continue;
                }
                let n = usize::from(n);
                let src = base + usize::from(b);
                if src != base {
                    for i in 0..n {
                        move_reg(&mut m.regs, src + i, base + i);
                    }
                }
                let f = &funcs[func as usize];
                if func == cur_func && f.terminate.is_none() {
                    // A self tail call: same frame size, same code.
                    pc = 0;
                    check_budget!();
                    continue;
                }
                if let Some(t) = f.terminate {
                    *terminate = Some((t, m.regs[base..base + n].to_vec()));
                }
                let need = base + usize::from(f.nregs);
                if m.regs.len() < need {
                    m.regs.resize(need, Term::Unit);
                }
                if let Some(top) = m.frames.last_mut() {
                    top.func = func;
                }
                cur_func = func;
                code = &f.code;
                pc = 0;
                check_budget!();
            }
            Op::CallValue {
                dst,
                f,
                base: b,
                n: _,
            } => {
                *budget -= 1;
                save!();
                let nb = base + usize::from(b);
                let fv = r!(f).clone();
                tri!(enter_value(env, m, &fv, nb, base + usize::from(dst)));
                reload!();
                check_budget!();
            }
            Op::TailCallValue { f, base: b, n } => {
                *budget -= 1;
                let fv = r!(f).clone();
                let c = tri!(closure_of(&fv));
                let n = usize::from(n);
                let src = base + usize::from(b);
                if src != base {
                    for i in 0..n {
                        let v = take(&mut m.regs[src + i]);
                        m.regs[base + i] = v;
                    }
                }
                let func = &funcs[c.func as usize];
                let need = base + usize::from(func.nregs);
                if m.regs.len() < need {
                    m.regs.resize(need, Term::Unit);
                }
                for (r, v) in func.captures.iter().zip(c.captures.iter()) {
                    m.regs[base + usize::from(*r)] = v.clone();
                }
                if let Some(top) = m.frames.last_mut() {
                    top.func = c.func;
                }
                cur_func = c.func;
                code = &func.code;
                pc = 0;
                check_budget!();
            }
            Op::Builtin {
                dst,
                id,
                base: b,
                n,
            } => {
                let lo = base + usize::from(b);
                let hi = lo + usize::from(n);
                if id == builtins::SEND.0 {
                    tri!(stdlib::call_send(
                        &mut m.regs[lo..hi],
                        env,
                        cx.as_deref_mut()
                    ));
                    put(&mut r!(dst), Term::Unit);
                    continue;
                }
                let ret = {
                    let args = &mut m.regs[lo..hi];
                    tri!(stdlib::call(id, args, env, cx.as_deref_mut()))
                };
                match ret {
                    Ret::Value(v) => r!(dst) = v,
                    Ret::Wait => {
                        pc -= 1;
                        save!();
                        return Ok(Outcome::Wait);
                    }
                    Ret::Native(native) => {
                        *budget -= 1;
                        save!();
                        if m.frames.len() >= MAX_DEPTH {
                            fault!(Fault::StackOverflow { limit: MAX_DEPTH });
                        }
                        m.frames.push(Frame {
                            func: 0,
                            pc: 0,
                            base: lo as u32,
                            ret: (base + usize::from(dst)) as u32,
                            native: Some(Box::new(native)),
                        });
                        if let Some(v) = tri!(settle(env, m, None)) {
                            return Ok(Outcome::Done(v));
                        }
                        reload!();
                        check_budget!();
                    }
                }
            }
            Op::Return { r } => {
                let Some(fr) = m.frames.pop() else {
                    return Ok(Outcome::Done(take(&mut r!(r))));
                };
                let Some(caller) = m.frames.last() else {
                    return Ok(Outcome::Done(take(&mut r!(r))));
                };
                let ret = fr.ret as usize;
                // Registers above the caller's frame are left as they are
                // (overwritten by the next call) rather than cleared.
                if caller.native.is_none() {
                    // Straight back into bytecode: no second frame lookup.
                    move_reg(&mut m.regs, base + usize::from(r), ret);
                    cur_func = caller.func;
                    code = &funcs[cur_func as usize].code;
                    base = caller.base as usize;
                    pc = caller.pc as usize;
                } else {
                    *budget -= 1;
                    let v = take(&mut r!(r));
                    if let Some(v) = tri!(settle(env, m, Some(v))) {
                        return Ok(Outcome::Done(v));
                    }
                    reload!();
                }
                check_budget!();
            }
            Op::Tuple { dst, base: b, n } => {
                let lo = base + usize::from(b);
                let items: Vec<Term> = m.regs[lo..lo + usize::from(n)].to_vec();
                r!(dst) = Term::tuple(items);
            }
            Op::List { dst, base: b, n } => {
                let lo = base + usize::from(b);
                let items: Vec<Term> = m.regs[lo..lo + usize::from(n)].to_vec();
                r!(dst) = Term::List(List::from_vec(items));
            }
            Op::ListCons {
                dst,
                base: b,
                n,
                tail,
            } => {
                let lo = base + usize::from(b);
                let mut t = match take(&mut r!(tail)) {
                    Term::List(l) => l,
                    other => fault!(Fault::Type {
                        op: "list cons",
                        got: other.kind_name()
                    }),
                };
                for i in (0..usize::from(n)).rev() {
                    t.prepend(take(&mut m.regs[lo + i]));
                }
                r!(dst) = Term::List(t);
            }
            Op::Map { dst, base: b, n } => {
                let lo = base + usize::from(b);
                let pairs = m.regs[lo..lo + 2 * usize::from(n)]
                    .chunks(2)
                    .map(|kv| (kv[0].clone(), kv[1].clone()));
                r!(dst) = Term::map(pairs);
            }
            Op::Struct {
                dst,
                name,
                base: b,
                n,
            } => {
                let lo = base + usize::from(b);
                let items: Vec<Term> = m.regs[lo..lo + usize::from(n)].to_vec();
                r!(dst) = Term::structure(env.image.atom(name), items);
            }
            Op::Variant {
                dst,
                type_name,
                ctor,
                base: b,
                n,
            } => {
                let lo = base + usize::from(b);
                let items: Vec<Term> = m.regs[lo..lo + usize::from(n)].to_vec();
                r!(dst) = Term::variant(env.image.atom(type_name), env.image.atom(ctor), items);
            }
            Op::SetField { dst, src, idx, val } => {
                let v = r!(val).clone();
                let mut s = r!(src).clone();
                if let Term::Struct(st) = &mut s
                    && let Some(slot) = Arc::make_mut(st).fields.get_mut(usize::from(idx))
                {
                    *slot = v;
                }
                r!(dst) = s;
            }
            Op::Elem { dst, src, idx } => {
                let v = elem(&r!(src), idx);
                r!(dst) = v;
            }
            Op::Field {
                dst,
                src,
                idx,
                name,
                field,
            } => {
                let v = match &r!(src) {
                    Term::Struct(st) if st.name == env.image.atom(name) => {
                        st.fields.get(usize::from(idx)).cloned()
                    }
                    _ => None,
                };
                let v = tri!(v.ok_or_else(|| Fault::Field {
                    field: env.image.atom(field).as_str(),
                    strukt: env.image.atom(name).as_str(),
                    value: display::to_string(&r!(src)),
                }));
                r!(dst) = v;
            }
            Op::Index { dst, src, idx } => {
                let v = tri!(index(&r!(src), &r!(idx)));
                r!(dst) = v;
            }
            Op::Range { dst, lo, hi } => {
                let (a, b) = match (&r!(lo), &r!(hi)) {
                    (Term::Int(a), Term::Int(b)) => (*a, *b),
                    _ => (0, 0),
                };
                r!(dst) = Term::List((a..b.max(a)).map(Term::Int).collect());
            }
            Op::Interp { dst, base: b, n } => {
                let lo = base + usize::from(b);
                let mut s = String::new();
                for t in &m.regs[lo..lo + usize::from(n)] {
                    display::display(t, &mut s);
                }
                r!(dst) = Term::from(s);
            }
            Op::Closure {
                dst,
                func,
                base: b,
                n,
            } => {
                let lo = base + usize::from(b);
                let caps: Box<[Term]> = m.regs[lo..lo + usize::from(n)].to_vec().into();
                r!(dst) = Term::opaque(Closure {
                    func,
                    captures: caps,
                });
            }
            Op::TestShape { r, shape, fail } => {
                if !shape_ok(env, &r!(r), shape) {
                    pc = fail as usize;
                }
            }
            Op::TestConst { r, idx, fail } => {
                if r!(r) != *env.image.konst(idx) {
                    pc = fail as usize;
                }
            }
            Op::TestInt { r, v, fail } => {
                if !matches!(r!(r), Term::Int(x) if x == i64::from(v)) {
                    pc = fail as usize;
                }
            }
            Op::TestAtom { r, atom, fail } => {
                if !matches!(r!(r), Term::Atom(a) if a == env.image.atom(atom)) {
                    pc = fail as usize;
                }
            }
            Op::Head { dst, src } => {
                let v = match &r!(src) {
                    Term::List(l) => l.head().cloned().unwrap_or(Term::Unit),
                    _ => Term::Unit,
                };
                r!(dst) = v;
            }
            Op::Tail { dst, src } => {
                let v = match &r!(src) {
                    Term::List(l) => Term::List(l.tail().unwrap_or_default()),
                    _ => Term::Unit,
                };
                r!(dst) = v;
            }
            Op::ListElem { dst, src, idx } => {
                let v = match &r!(src) {
                    Term::List(l) => l.get(usize::from(idx)).cloned().unwrap_or(Term::Unit),
                    _ => Term::Unit,
                };
                r!(dst) = v;
            }
            Op::ListDrop { dst, src, n } => {
                let v = match &r!(src) {
                    Term::List(l) => l.iter().skip(usize::from(n)).cloned().collect(),
                    _ => List::new(),
                };
                r!(dst) = Term::List(v);
            }
            Op::MapLookup {
                dst,
                map,
                key,
                fail,
            } => {
                let v = match &r!(map) {
                    Term::Map(mp) => mp.get(&r!(key)).cloned(),
                    _ => None,
                };
                match v {
                    Some(v) => r!(dst) = v,
                    None => pc = fail as usize,
                }
            }
            Op::ToList { dst, src } => {
                let l = tri!(to_list(&r!(src)));
                r!(dst) = Term::List(l);
            }
            Op::Len { dst, src } => {
                let n = match &r!(src) {
                    Term::List(l) => l.len() as i64,
                    _ => 0,
                };
                r!(dst) = Term::Int(n);
            }
            Op::Push { list, val } => {
                let v = take(&mut r!(val));
                if let Term::List(l) = &mut r!(list) {
                    l.push(v);
                }
            }
            Op::Fail { kind, r } => {
                let value = display_debug(&r!(r));
                let f = match kind {
                    FailKind::CaseClause => Fault::CaseClause { value },
                    FailKind::LetMatch => Fault::LetMatch { value },
                    FailKind::ReceiveClause => Fault::ReceiveClause { value },
                    FailKind::FunctionClause => {
                        let fr = m.frames.last().map_or(0, |f| f.func);
                        let func = &funcs[fr as usize];
                        let n = usize::from(func.arity);
                        let args: Vec<String> =
                            m.regs[base..base + n].iter().map(display_debug).collect();
                        Fault::FunctionClause {
                            func: func.name.clone(),
                            args: args.join(", "),
                        }
                    }
                };
                fault!(f);
            }
            Op::Receive {
                dst,
                matcher,
                timeout,
                on_timeout,
            } => {
                let Some(c) = cx.as_deref_mut() else {
                    fault!(Fault::NotInGuard { name: "receive" });
                };
                let after = timeout.map(|t| match &r!(t) {
                    Term::Int(ms) => Duration::from_millis(u64::try_from(*ms).unwrap_or(0)),
                    _ => Duration::ZERO,
                });
                let filter = receive_filter(env, matcher);
                let frame: Option<Vec<Term>> = (filter == Filter::Guarded).then(|| {
                    let end = frame_end(
                        env,
                        m.frames.last().unwrap_or(&Frame {
                            func: 0,
                            pc: 0,
                            base: 0,
                            ret: 0,
                            native: None,
                        }),
                    );
                    m.regs[base..end.min(m.regs.len())].to_vec()
                });
                let got = if filter == Filter::Any {
                    // The actor-loop receive: a plain pop of the mailbox.
                    match after {
                        None => c.receive_any().map_or(Received::Pending, Received::Msg),
                        Some(_) => c.receive(|_| true, after),
                    }
                } else {
                    c.receive(|msg| accepts(env, matcher, msg, frame.as_deref()), after)
                };
                match got {
                    Received::Msg(msg) => r!(dst) = msg,
                    Received::Pending => {
                        pc -= 1;
                        save!();
                        return Ok(Outcome::Wait);
                    }
                    Received::Timeout => pc = on_timeout as usize,
                }
            }
            Op::TryReturn { r, dst } => {
                let v = r!(r).clone();
                let unwrap = match &v {
                    Term::Variant(var)
                        if var.ctor == env.image.atom_some || var.ctor == env.image.atom_ok =>
                    {
                        Some(var.fields.first().cloned().unwrap_or(Term::Unit))
                    }
                    _ => None,
                };
                match unwrap {
                    Some(x) => r!(dst) = x,
                    None => {
                        // Return `v` from this function.
                        let Some(fr) = m.frames.pop() else {
                            return Ok(Outcome::Done(v));
                        };
                        let Some(caller) = m.frames.last() else {
                            return Ok(Outcome::Done(v));
                        };
                        let ret = fr.ret as usize;
                        let end = frame_end(env, caller);
                        m.regs.resize(end.max(ret + 1), Term::Unit);
                        if caller.native.is_some() {
                            if let Some(v) = tri!(settle(env, m, Some(v))) {
                                return Ok(Outcome::Done(v));
                            }
                        } else {
                            m.regs[ret] = v;
                        }
                        reload!();
                    }
                }
            }
        }
    }
}

fn display_debug(t: &Term) -> String {
    match t {
        Term::Str(s) => format!("{:?}", &**s),
        other => display::to_string(other),
    }
}
