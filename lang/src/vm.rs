//! The bytecode VM: each Mesh process is a `mesh_core` [`Process`].
//!
//! A [`VmProcess`] owns a [`Machine`]: a register file (`Vec<Term>`) and a
//! stack of [`Frame`]s, nothing on the OS stack. `resume` runs
//! instructions until the scheduler's reduction budget is spent (one
//! reduction per call and per jump, so a loop always pays), a `receive`
//! finds nothing (`Step::Wait`; the same instruction runs again on wake-up)
//! or the bottom frame returns. Tail calls reuse the frame; non-tail calls
//! are limited to [`MAX_DEPTH`] frames, past which the process fails with
//! a stack-overflow error rather than exhausting memory.
//!
//! Higher-order library functions (`List.map`, ...) are *native frames*:
//! small state machines on the same frame stack that call back into
//! bytecode one element at a time, so they are preemptible and may
//! themselves `receive`.
//!
//! A runtime error ends the process with reason `(:error, "file:line:
//! message")`; the message is also written to the program's stderr. When
//! `main` fails the whole program stops with exit status 1.

mod display;
mod hot;
pub(crate) mod interp;
pub(crate) mod kernel;
pub(crate) mod native;
pub(crate) mod supervisor;

use std::io::Write;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, LazyLock, Mutex, OnceLock};

use mesh_core::{Atom, Cx, Opaque, Process, RuntimeHandle, Step, Term};

use crate::compile::bytecode::{Const, Program};
pub use display::{display, to_string};
pub use interp::MAX_DEPTH;
use native::Native;

/// The struct tag of set values (`Set.new()`): a struct holding one map
/// whose keys are the elements.
pub static SET_TAG: LazyLock<Atom> = LazyLock::new(|| Atom::new("%Set"));

/// A program ready to run: bytecode plus its constants as terms.
#[derive(Debug)]
pub struct Image {
    pub program: Program,
    /// The functions lowered for the hot loop, by function index.
    hot: Box<[hot::HotFunc]>,
    /// Functions compiled to native code (see [`kernel`]).
    pub(crate) kernels: Option<kernel::KernelSet>,
    consts: Vec<Term>,
    atoms: Vec<Atom>,
    atom_some: Atom,
    atom_ok: Atom,
}

impl Image {
    /// Interns atoms and materialises constants; with `native`, compiles
    /// the program's pure integer functions to native code.
    pub fn load(program: Program, native: bool) -> Image {
        let atoms: Vec<Atom> = program.atoms.iter().map(|a| Atom::new(a)).collect();
        let consts: Vec<Term> = program
            .consts
            .iter()
            .map(|c| materialise(c, &atoms))
            .collect();
        let kernels = if native {
            kernel::select(&program, &consts)
        } else {
            None
        };
        let mut hot = hot::lower(&program.funcs, &|f| {
            kernels.as_ref().is_some_and(|k| k.entry(f).is_some())
        });
        hot::lower_messaging(&mut hot, &program);
        hot::keep_tail_args(&mut hot, &program.funcs);
        hot::take_tail_args(&mut hot, &program.funcs);
        Image {
            hot,
            kernels,
            program,
            consts,
            atoms,
            atom_some: Atom::new("Some"),
            atom_ok: Atom::new("Ok"),
        }
    }

    fn atom(&self, i: u32) -> Atom {
        self.atoms
            .get(i as usize)
            .copied()
            .unwrap_or(Atom::UNDEFINED)
    }

    fn konst(&self, i: u32) -> &Term {
        static UNIT: Term = Term::Unit;
        self.consts.get(i as usize).unwrap_or(&UNIT)
    }
}

fn materialise(c: &Const, atoms: &[Atom]) -> Term {
    let atom = |i: &u32| atoms.get(*i as usize).copied().unwrap_or(Atom::UNDEFINED);
    match c {
        Const::Unit => Term::Unit,
        Const::Bool(b) => Term::Bool(*b),
        Const::Int(i) => Term::Int(*i),
        Const::Float(f) => Term::Float(*f),
        Const::Str(s) => Term::str(s),
        Const::Atom(a) => Term::Atom(atom(a)),
        Const::Tuple(items) => Term::tuple(items.iter().map(|c| materialise(c, atoms)).collect()),
        Const::List(items) => Term::list(items.iter().map(|c| materialise(c, atoms)).collect()),
        Const::Variant {
            type_name,
            ctor,
            fields,
        } => Term::variant(
            atom(type_name),
            atom(ctor),
            fields.iter().map(|c| materialise(c, atoms)).collect(),
        ),
        Const::Fn(f) => Term::opaque(Closure {
            func: *f,
            captures: Box::new([]),
        }),
    }
}

/// A function value: a function index and the values it captured.
#[derive(Debug)]
pub struct Closure {
    pub func: u32,
    pub captures: Box<[Term]>,
}

impl Opaque for Closure {
    fn kind(&self) -> &'static str {
        "closure"
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// A byte sink shared by all processes of a program.
pub type Sink = Mutex<Box<dyn Write + Send>>;

/// Everything the processes of one running program share.
pub struct Env {
    pub image: Image,
    pub stdout: Sink,
    pub stderr: Sink,
    /// `Env.args()`.
    pub args: Vec<String>,
    /// Set when `main` fails: the program's exit status.
    pub exit_code: AtomicI32,
    /// The runtime, for stopping the program when `main` fails.
    pub runtime: OnceLock<RuntimeHandle>,
    /// Makes the byte transport of `Node.start` (none: the program
    /// cannot become a node).
    pub transport: Option<crate::run::TransportFactory>,
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env").field("args", &self.args).finish()
    }
}

impl Env {
    pub fn new(image: Image, stdout: Box<dyn Write + Send>, stderr: Box<dyn Write + Send>) -> Env {
        Env {
            image,
            stdout: Mutex::new(stdout),
            stderr: Mutex::new(stderr),
            args: Vec::new(),
            exit_code: AtomicI32::new(0),
            runtime: OnceLock::new(),
            transport: None,
        }
    }

    pub(crate) fn write_out(&self, s: &str) {
        let mut g = match self.stdout.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let _ = g.write_all(s.as_bytes());
    }

    pub(crate) fn write_err(&self, s: &str) {
        // Keep stdout and stderr in order for a reader of both.
        self.flush_out();
        let mut g = match self.stderr.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let _ = g.write_all(s.as_bytes());
        let _ = g.flush();
    }

    /// Flushes the program's stdout.
    pub fn flush_out(&self) {
        let mut g = match self.stdout.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let _ = g.flush();
    }
}

/// Why a process failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Fault {
    #[error("division by zero")]
    DivisionByZero,
    #[error("integer overflow in `{op}`")]
    Overflow { op: &'static str },
    #[error("index {index} out of range for a list of length {len}")]
    Index { index: i64, len: usize },
    #[error("key not found: {key}")]
    MissingKey { key: String },
    #[error("`.{field}` of a `{strukt}` read on {value}")]
    Field {
        field: &'static str,
        strukt: &'static str,
        value: String,
    },
    #[error("no case clause matched {value}")]
    CaseClause { value: String },
    #[error("no clause of {func} matched the arguments ({args})")]
    FunctionClause { func: String, args: String },
    #[error("pattern did not match {value}")]
    LetMatch { value: String },
    #[error("no receive clause matched {value}")]
    ReceiveClause { value: String },
    #[error("stack overflow: more than {limit} nested calls")]
    StackOverflow { limit: usize },
    #[error("`{func}` on an empty list")]
    EmptyList { func: &'static str },
    #[error("`{func}` on {value}")]
    Unwrap { func: &'static str, value: String },
    #[error("`{op}` cannot be applied to {got}")]
    Type { op: &'static str, got: &'static str },
    #[error("{value} is not a function")]
    NotCallable { value: String },
    #[error("`{name}` is not available in this VM yet")]
    Unsupported { name: &'static str },
    #[error("`{name}` cannot be used in a guard")]
    NotInGuard { name: &'static str },
    #[error("call to `{op}` failed: {why}")]
    ServiceCall { op: String, why: String },
    #[error("{message}")]
    Builtin { message: String },
    /// A distribution call failed (`send` of a closure to another node,
    /// `Node.spawn` of an unknown function, ...).
    #[error("`{op}` failed: {reason}")]
    Dist { op: &'static str, reason: String },
}

/// A fault with the place it happened.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}:{line}: {fault} (in {func})")]
pub struct RuntimeError {
    pub fault: Fault,
    pub file: String,
    pub line: u32,
    pub func: String,
}

/// One activation.
#[derive(Debug)]
struct Frame {
    func: u32,
    /// Next instruction (saved while another frame runs).
    pc: u32,
    base: u32,
    /// Absolute register that receives this frame's result.
    ret: u32,
    native: Option<Box<Native>>,
}

impl Frame {
    /// A bytecode frame of `func` at the bottom of a machine: registers
    /// from 0, its value into register 0.
    fn bottom(func: u32) -> Frame {
        Frame {
            func,
            pc: 0,
            base: 0,
            ret: 0,
            native: None,
        }
    }
}

/// A register file and a frame stack.
#[derive(Debug, Default)]
struct Machine {
    regs: Vec<Term>,
    frames: Vec<Frame>,
    /// A native call that ran out of budget, resumed first at the next slice.
    kernel: Option<kernel::Pending>,
}

/// What running a machine came to.
enum Outcome {
    Yield,
    Wait,
    Done(Term),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Body,
    Terminate,
}

/// A Mesh process.
#[derive(Debug)]
pub struct VmProcess {
    env: Arc<Env>,
    m: Machine,
    is_main: bool,
    phase: Phase,
    /// The actor with a `terminate` body this process runs, and its
    /// latest arguments.
    terminate: Option<(u32, Vec<Term>)>,
    failure: Option<Term>,
    /// Write a failure to the program's stderr (off for tests, whose
    /// runner reports the failure itself).
    report: bool,
}

impl VmProcess {
    /// Runs the interpreter for one reduction budget of `cx` and charges
    /// what it used (at least one reduction).
    fn run_slice(&mut self, cx: &mut Cx<'_>) -> Result<Outcome, RuntimeError> {
        let env = Arc::clone(&self.env);
        let mut budget = i64::from(cx.budget().max(1));
        let start = budget;
        let out = interp::run(
            &env,
            &mut self.m,
            Some(&mut *cx),
            &mut budget,
            &mut self.terminate,
        );
        cx.consume(u32::try_from((start - budget).max(1)).unwrap_or(u32::MAX));
        out
    }

    /// A process that calls function `func` with `args`.
    pub fn new(env: Arc<Env>, func: u32, args: Vec<Term>) -> VmProcess {
        let mut m = Machine::default();
        let f = &env.image.program.funcs[func as usize];
        let nregs = usize::from(f.nregs).max(args.len());
        let terminate = f.terminate.map(|t| (t, args.clone()));
        m.regs = args;
        m.regs.resize(nregs, Term::Unit);
        m.frames.push(Frame::bottom(func));
        VmProcess {
            env,
            m,
            is_main: false,
            phase: Phase::Body,
            terminate,
            failure: None,
            report: true,
        }
    }

    /// A process that applies the closure `f` to `args`.
    pub fn from_value(env: Arc<Env>, f: &Term, args: Vec<Term>) -> Result<VmProcess, Fault> {
        let c = closure_of(f)?;
        let func = c.func;
        let arity = env.image.program.funcs[func as usize].arity as usize;
        let mut p = VmProcess::new(env, func, args);
        let caps: Vec<u16> = p.env.image.program.funcs[func as usize].captures.clone();
        for (r, v) in caps.iter().zip(c.captures.iter()) {
            let i = usize::from(*r);
            if p.m.regs.len() <= i {
                p.m.regs.resize(i + 1, Term::Unit);
            }
            p.m.regs[i] = v.clone();
        }
        let _ = arity;
        Ok(p)
    }

    /// Marks this process as the program's `main`: its failure stops the
    /// program with exit status 1.
    pub fn main(mut self) -> VmProcess {
        self.is_main = true;
        self
    }

    /// Does not write its failure to stderr (the exit reason still
    /// carries it): for processes whose watcher reports it.
    pub fn quiet(mut self) -> VmProcess {
        self.report = false;
        self
    }

    fn fail(&mut self, e: RuntimeError) -> Step {
        let msg = e.to_string();
        if self.is_main {
            self.env.write_err(&format!("error: {msg}\n"));
            self.env.exit_code.store(1, Ordering::SeqCst);
            if let Some(h) = self.env.runtime.get() {
                h.request_shutdown();
            }
        } else if self.report {
            self.env
                .write_err(&format!("error: process crashed: {msg}\n"));
        }
        let reason = Term::tuple(vec![Term::Atom(Atom::ERROR), Term::str(&msg)]);
        if let Some((t, args)) = self.terminate.take()
            && self.phase == Phase::Body
            && !self.is_main
        {
            self.start_terminate(t, args);
            self.failure = Some(reason);
            return Step::Yield;
        }
        Step::Exit(reason)
    }

    fn start_terminate(&mut self, func: u32, args: Vec<Term>) {
        self.phase = Phase::Terminate;
        let fresh = VmProcess::new(Arc::clone(&self.env), func, args);
        self.m = fresh.m;
    }
}

impl Process for VmProcess {
    fn resume(&mut self, cx: &mut Cx<'_>) -> Step {
        match self.run_slice(cx) {
            Ok(Outcome::Yield) => Step::Yield,
            Ok(Outcome::Wait) => Step::Wait,
            Ok(Outcome::Done(_)) => {
                if self.phase == Phase::Body
                    && let Some((t, args)) = self.terminate.take()
                {
                    self.start_terminate(t, args);
                    return Step::Yield;
                }
                if self.is_main {
                    self.env.flush_out();
                }
                Step::Exit(self.failure.take().unwrap_or(Term::Atom(Atom::NORMAL)))
            }
            Err(e) => self.fail(e),
        }
    }
}

pub(crate) fn closure_of(f: &Term) -> Result<&Closure, Fault> {
    match f {
        Term::Opaque(o) => o
            .as_any()
            .downcast_ref::<Closure>()
            .ok_or_else(|| Fault::NotCallable {
                value: to_string(f),
            }),
        _ => Err(Fault::NotCallable {
            value: to_string(f),
        }),
    }
}
