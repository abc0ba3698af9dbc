//! Running a kernel: a [`Run`] executes one kernel call on a stack of its
//! own, so it can stop when the caller's budget runs out and go on later
//! from where it was, like any Mesh process.
//!
//! Native code counts budget in the [`Ctx`]; when it reaches zero it calls
//! [`yield_hook`], which suspends the coroutine the run lives on.
//! [`Run::resume`] hands it a new budget. Dropping a suspended run resumes
//! it once with a cancel, which makes the native code return at once (every
//! frame propagates the early stop), so no stack is ever unwound through
//! native frames.
//!
//! Stacks are large ([`STACK_SIZE`], reserved, touched only as deep as the
//! recursion goes) and reused per thread, except one a run used deeper than
//! [`KEEP_DEPTH`], which is unmapped so its pages do not stay resident.

use std::cell::RefCell;
use std::sync::Arc;

use corosensei::stack::{DefaultStack, Stack};
use corosensei::{Coroutine, CoroutineResult, Yielder};

use crate::ir::{Fault, FaultKind};
use crate::{JitError, Kernels};

/// Address space reserved for one run's stack. Native frames of small
/// kernels take well under 100 bytes, so this holds recursion deeper than
/// the interpreter's limit of a million calls.
pub const STACK_SIZE: usize = 256 << 20;

/// Stack left below the floor for the yield hook and the coroutine switch.
const STACK_MARGIN: usize = 64 << 10;

/// Stacks kept per thread for the next runs.
const POOL: usize = 4;

/// How much of a stack a run may use and still have it kept for the next
/// runs. A deeper run's stack is unmapped instead, so that one deep
/// recursion does not leave its pages resident for the thread's life.
const KEEP_DEPTH: usize = 1 << 20;

thread_local! {
    static STACKS: RefCell<Vec<DefaultStack>> = const { RefCell::new(Vec::new()) };
}

/// How many stacks this thread keeps for the next runs (for tests).
pub fn pooled_stacks() -> usize {
    STACKS.with(|s| s.borrow().len())
}

/// The state native code reads and writes; field offsets are
/// `codegen::off`.
#[repr(C)]
#[derive(Debug)]
pub(crate) struct Ctx {
    pub budget: i64,
    pub stack_floor: u64,
    pub status: i64,
    pub fault_kind: i64,
    pub fault_func: i64,
    pub fault_pc: i64,
    pub fault_value: i64,
    /// Below this stack address the run counts as deep.
    pub deep_floor: u64,
    /// Set by native code once the stack went below `deep_floor`.
    pub deep: i64,
    /// Frames below the kernel's own (its caller's depth).
    pub depth: i64,
    /// The running coroutine's yielder, while it runs.
    pub yielder: *const Yielder<Resume, ()>,
    /// The kernel's value, once it returned (read by Rust only).
    pub value: i64,
}

const _: () = {
    use crate::codegen::off;
    assert!(std::mem::offset_of!(Ctx, budget) == off::BUDGET as usize);
    assert!(std::mem::offset_of!(Ctx, stack_floor) == off::STACK_FLOOR as usize);
    assert!(std::mem::offset_of!(Ctx, status) == off::STATUS as usize);
    assert!(std::mem::offset_of!(Ctx, fault_kind) == off::FAULT_KIND as usize);
    assert!(std::mem::offset_of!(Ctx, fault_func) == off::FAULT_FUNC as usize);
    assert!(std::mem::offset_of!(Ctx, fault_pc) == off::FAULT_PC as usize);
    assert!(std::mem::offset_of!(Ctx, fault_value) == off::FAULT_VALUE as usize);
    assert!(std::mem::offset_of!(Ctx, deep_floor) == off::DEEP_FLOOR as usize);
    assert!(std::mem::offset_of!(Ctx, deep) == off::DEEP as usize);
    assert!(std::mem::offset_of!(Ctx, depth) == off::DEPTH as usize);
};

/// What a suspended run is resumed with.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Resume {
    Budget(i64),
    Cancel,
}

/// Called by native code when the budget is spent: suspends the run until
/// it is resumed. Returns 1 when the run is being cancelled.
pub(crate) extern "C" fn yield_hook(ctx: *mut Ctx) -> i64 {
    // SAFETY: native code passes the context of the run it belongs to,
    // which the `Run` keeps alive (boxed, never moved) while its
    // coroutine exists; `yielder` was set by the coroutine body before
    // the native code started and points into this coroutine's stack.
    let ctx = unsafe { &mut *ctx };
    // SAFETY: see above; the yielder lives as long as the coroutine body.
    let yielder = unsafe { &*ctx.yielder };
    match yielder.suspend(()) {
        Resume::Budget(b) => {
            ctx.budget = b;
            0
        }
        Resume::Cancel => 1,
    }
}

/// How a run stands after [`Run::resume`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Poll {
    /// The kernel returned `value`, leaving `budget` of what it was given.
    Done { value: i64, budget: i64 },
    /// The budget ran out; resume with more.
    Yielded,
    /// The kernel stopped early.
    Fault(Fault),
}

type Co = Coroutine<Resume, (), (), DefaultStack>;

/// One kernel call in flight.
pub struct Run {
    // Declared first: dropped before the context it points to.
    co: Option<Co>,
    ctx: Box<Ctx>,
    /// Keeps the code the coroutine runs alive.
    _kernels: Arc<Kernels>,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Run")
            .field("ctx", &self.ctx)
            .finish_non_exhaustive()
    }
}

// SAFETY: a suspended run's stack holds only native kernel frames (plain
// integers), the yield hook's frame (pointers to this run's boxed context
// and to the yielder on the same stack) and the coroutine body's frame
// (the entry's address and pointers into this run's own heap data). None
// of it is tied to a thread: no thread-locals are read across a
// suspension and nothing is reference-counted non-atomically. Resuming
// it on another thread is what corosensei documents as sound when the
// stack's contents are `Send`.
unsafe impl Send for Run {}

impl Run {
    /// Starts kernel `func` with `args`, called from `depth` frames deep
    /// (nothing runs until [`Run::resume`]).
    pub fn start(
        kernels: &Arc<Kernels>,
        func: u32,
        args: &[i64],
        depth: u32,
    ) -> Result<Run, JitError> {
        let (entry, arity) = kernels.entry(func)?;
        if args.len() != usize::from(arity) {
            return Err(JitError::Arity {
                func,
                expected: arity,
                got: args.len(),
            });
        }
        let stack = match STACKS.with(|s| s.borrow_mut().pop()) {
            Some(s) => s,
            None => DefaultStack::new(STACK_SIZE).map_err(|e| JitError::Stack(e.to_string()))?,
        };
        let floor = stack.limit().get() + STACK_MARGIN;
        let deep_floor = stack.base().get().saturating_sub(KEEP_DEPTH).max(floor);
        let mut ctx = Box::new(Ctx {
            budget: 0,
            stack_floor: floor as u64,
            status: 0,
            fault_kind: 0,
            fault_func: 0,
            fault_pc: 0,
            fault_value: 0,
            deep_floor: deep_floor as u64,
            deep: 0,
            depth: i64::from(depth),
            yielder: std::ptr::null(),
            value: 0,
        });
        let ctx_addr = std::ptr::from_mut::<Ctx>(&mut ctx) as usize;
        let args: Box<[i64]> = args.into();
        let co = Co::with_stack(
            stack,
            move |yielder: &Yielder<Resume, ()>, first: Resume| {
                let ctx = ctx_addr as *mut Ctx;
                let Resume::Budget(b) = first else {
                    return;
                };
                // SAFETY: the context outlives the coroutine (field order of
                // `Run`) and nothing else touches it while the body runs.
                unsafe {
                    (*ctx).budget = b;
                    (*ctx).yielder = std::ptr::from_ref(yielder);
                }
                // SAFETY: `entry` is the finalized entry of a kernel of the
                // arity checked above, kept alive by `kernels` in the `Run`;
                // `args` holds that many integers; the context is valid and
                // its stack floor lies inside this coroutine's stack.
                let value = unsafe {
                    let f: extern "C" fn(*mut Ctx, *const i64) -> i64 = std::mem::transmute(entry);
                    f(ctx, args.as_ptr())
                };
                // SAFETY: as above.
                unsafe {
                    (*ctx).value = value;
                }
            },
        );
        Ok(Run {
            co: Some(co),
            ctx,
            _kernels: Arc::clone(kernels),
        })
    }

    /// Runs the kernel with `budget` units (one per call, loop iteration
    /// or self tail call).
    pub fn resume(&mut self, budget: i64) -> Poll {
        let Some(co) = self.co.as_mut() else {
            return Poll::Fault(self.fault(FaultKind::Cancelled));
        };
        match co.resume(Resume::Budget(budget.max(1))) {
            CoroutineResult::Yield(()) => Poll::Yielded,
            CoroutineResult::Return(()) => {
                self.recycle();
                if self.ctx.status == 0 {
                    Poll::Done {
                        value: self.ctx.value,
                        budget: self.ctx.budget,
                    }
                } else {
                    Poll::Fault(self.fault(FaultKind::from_code(self.ctx.fault_kind)))
                }
            }
        }
    }

    /// Runs the kernel to its end whatever it takes (tests and tools).
    pub fn finish(&mut self) -> Result<i64, Fault> {
        loop {
            match self.resume(i64::MAX / 2) {
                Poll::Done { value, .. } => return Ok(value),
                Poll::Fault(f) => return Err(f),
                Poll::Yielded => {}
            }
        }
    }

    fn fault(&self, kind: FaultKind) -> Fault {
        Fault {
            kind,
            func: u32::try_from(self.ctx.fault_func).unwrap_or(u32::MAX),
            pc: u32::try_from(self.ctx.fault_pc).unwrap_or(u32::MAX),
            value: self.ctx.fault_value,
        }
    }

    /// Gives a finished run's stack back to this thread's pool, unless
    /// the run went deep (then dropping it unmaps it).
    fn recycle(&mut self) {
        if let Some(co) = self.co.take() {
            let stack = co.into_stack();
            if self.ctx.deep != 0 {
                return;
            }
            STACKS.with(|s| {
                let mut s = s.borrow_mut();
                if s.len() < POOL {
                    s.push(stack);
                }
            });
        }
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        if let Some(co) = self.co.as_mut() {
            // A suspended run: each resume with a cancel makes the hook
            // return "cancelled", so every native frame returns at once
            // and the body ends (one resume does it; the bound is a
            // guard, not a loop that is expected to turn).
            for _ in 0..16 {
                if !co.started() || co.done() {
                    break;
                }
                let _ = co.resume(Resume::Cancel);
            }
        }
        // Only a finished coroutine gives its stack back; one that never
        // started is dropped with its stack.
        if self.co.as_ref().is_some_and(Coroutine::done) {
            self.recycle();
        }
    }
}
