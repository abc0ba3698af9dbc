//! Native code for Mesh's pure integer functions.
//!
//! `mesh-lang` interprets bytecode. Functions that only compute on
//! integers and booleans and only call such functions (think `fib`, a
//! counting loop, a gcd) are what an interpreter is slowest at next to
//! native code, and they are easy to compile: this crate takes them in a
//! small register-machine IR ([`ir`]), compiles them with Cranelift
//! ([`codegen`]) and runs a call of one on its own stack ([`run`]) so that
//! it stays preemptible: it spends the caller's reduction budget and
//! suspends when the budget is gone, exactly like interpreted code, and it
//! faults (overflow, division by zero, stack exhaustion) with the pc of
//! the instruction, which the caller turns into its usual runtime error.
//!
//! This is the only crate of the workspace with `unsafe` code outside the
//! core runtime's I/O: calling generated code and switching stacks. Each
//! block says why it holds.

mod codegen;
pub mod ir;
pub mod run;

use std::fmt;

pub use ir::{Arith, Cmp, Fault, FaultKind, IrError, KFunc, KOp, Reg};
pub use run::{Poll, Run};

/// Why kernels could not be compiled or started. The caller falls back to
/// interpreting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JitError {
    #[error("this machine is not supported by the code generator: {0}")]
    Setup(String),
    #[error("invalid kernel: {0}")]
    Ir(#[from] IrError),
    #[error("code generation failed: {0}")]
    Codegen(String),
    #[error("no kernel {func}")]
    NoKernel { func: u32 },
    #[error("kernel {func} takes {expected} arguments, got {got}")]
    Arity {
        func: u32,
        expected: u16,
        got: usize,
    },
    #[error("could not allocate a kernel stack: {0}")]
    Stack(String),
}

/// A set of compiled kernels, callable by index.
pub struct Kernels {
    module: Option<cranelift_jit::JITModule>,
    entries: Vec<usize>,
    arity: Vec<u16>,
}

impl fmt::Debug for Kernels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Kernels")
            .field("count", &self.entries.len())
            .finish_non_exhaustive()
    }
}

// SAFETY: after `finalize_definitions` the module's code and data are
// immutable and only read (executed); the module is kept solely to free
// that memory on drop, which happens once, when no `Run` (each holds an
// `Arc<Kernels>`) can be executing it.
unsafe impl Send for Kernels {}
// SAFETY: as for `Send`: nothing is mutated through a shared reference.
unsafe impl Sync for Kernels {}

impl Kernels {
    /// Validates and compiles `funcs`; kernel `i` is `funcs[i]`. A call
    /// chain may be `max_depth` frames deep (counting the frames below the
    /// run, see [`Run::start`]); a call past that faults with
    /// [`FaultKind::StackOverflow`].
    pub fn compile(funcs: &[KFunc], max_depth: u32) -> Result<Kernels, JitError> {
        for (i, f) in funcs.iter().enumerate() {
            f.validate(i as u32, funcs)?;
        }
        ir::check_bounded(funcs)?;
        let compiled = codegen::compile(funcs, max_depth)?;
        Ok(Kernels {
            entries: compiled.entries.iter().map(|p| *p as usize).collect(),
            module: Some(compiled.module),
            arity: funcs.iter().map(|f| f.arity).collect(),
        })
    }

    /// How many kernels there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry address and arity of kernel `func`.
    pub(crate) fn entry(&self, func: u32) -> Result<(usize, u16), JitError> {
        match (
            self.entries.get(func as usize),
            self.arity.get(func as usize),
        ) {
            (Some(e), Some(a)) => Ok((*e, *a)),
            _ => Err(JitError::NoKernel { func }),
        }
    }
}

impl Drop for Kernels {
    fn drop(&mut self) {
        if let Some(m) = self.module.take() {
            // SAFETY: no code of this module can be running or be called
            // again: every `Run` keeps the `Kernels` alive through an
            // `Arc`, and the entries are private.
            unsafe { m.free_memory() };
        }
    }
}
