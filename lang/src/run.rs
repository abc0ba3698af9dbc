//! Running a compiled program on a fresh runtime.
//!
//! `main` runs as the first process. The program ends when every process
//! has finished (LANGUAGE.md's lifetime rule: `main` returned and every
//! process it started is done), or at once when `main` fails, with exit
//! status 1.

use std::io::Write;
use std::sync::{Arc, Mutex};

use mesh_core::{Config, ConfigError, Runtime, StartError};

use crate::compile::bytecode::Program;
use crate::vm::{Env, Image, VmProcess};

/// A `Write` that keeps what it is given, for running a program with its
/// output captured (tests, benchmarks, `meshc test`): clones share one
/// buffer, so one can go into [`RunOptions`] and the other be read after.
#[derive(Debug, Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // A writer that panicked mid-write left whole bytes behind: keep
        // appending rather than lose the output.
        match self.0.lock() {
            Ok(mut g) => g.extend_from_slice(buf),
            Err(p) => p.into_inner().extend_from_slice(buf),
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    /// What was written so far (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        match self.0.lock() {
            Ok(g) => String::from_utf8_lossy(&g).into_owned(),
            Err(p) => String::from_utf8_lossy(&p.into_inner()).into_owned(),
        }
    }
}

/// Why a program could not be run (its own failures are exit statuses).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    #[error("the program has no `main` (add `fn main()` to main.mpl)")]
    NoMain,
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("the runtime did not start: {0}")]
    Start(#[from] StartError),
    #[error(
        "MESH_JIT={value:?}: use 1 or on (native code for pure integer functions, the default) or 0 or off (interpret everything)"
    )]
    BadNative { value: String },
}

/// Makes the byte transport a program's node listens and dials with.
/// `lang` does not depend on any transport crate: the binary that runs the
/// program chooses one (`meshc` reads `MESH_TRANSPORT`). `Err` is a
/// readable reason, returned to the program by `Node.start`.
pub type TransportFactory =
    Arc<dyn Fn() -> Result<Arc<dyn mesh_core::transport::Transport>, String> + Send + Sync>;

/// How to run a program.
pub struct RunOptions {
    pub stdout: Box<dyn Write + Send>,
    pub stderr: Box<dyn Write + Send>,
    /// `Env.args()`.
    pub args: Vec<String>,
    /// Runtime configuration (`Config::from_env()` by default).
    pub config: Option<Config>,
    /// The transport of `Node.start` (none: `Node.start` returns an error).
    pub transport: Option<TransportFactory>,
    /// Run pure integer functions as native code (see `vm::kernel`);
    /// [`RunOptions::stdio`] takes it from `MESH_JIT` ([`native_from_env`]).
    pub native: bool,
}

/// Whether a `MESH_JIT` value allows native code: unset, empty, `1`,
/// `on`, `true`, `yes` do; `0`, `off`, `false`, `no` do not; anything
/// else is an error (binaries refuse to start on it).
pub fn native_setting(value: Option<&str>) -> Result<bool, RunError> {
    match value.map(str::trim) {
        None | Some("" | "1" | "on" | "true" | "yes") => Ok(true),
        Some("0" | "off" | "false" | "no") => Ok(false),
        Some(other) => Err(RunError::BadNative {
            value: other.to_string(),
        }),
    }
}

/// [`native_setting`] of the environment's `MESH_JIT`, native code on
/// when the value is not understood (binaries check it first with
/// [`native_setting`] and stop with its error).
pub fn native_from_env() -> bool {
    native_setting(std::env::var("MESH_JIT").ok().as_deref()).unwrap_or(true)
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("args", &self.args)
            .finish()
    }
}

impl RunOptions {
    /// The process's stdout and stderr.
    pub fn stdio(args: Vec<String>) -> RunOptions {
        RunOptions {
            // Line-buffered (std's stdout): output of a long-running
            // program shows up as it is printed.
            stdout: Box::new(std::io::stdout()),
            stderr: Box::new(std::io::stderr()),
            args,
            config: None,
            transport: None,
            native: native_from_env(),
        }
    }
}

/// Runs `program` to completion and returns its exit status.
pub fn run(program: Program, opts: RunOptions) -> Result<i32, RunError> {
    let entry = program.entry.ok_or(RunError::NoMain)?;
    let mut env = Env::new(Image::load(program, opts.native), opts.stdout, opts.stderr);
    env.args = opts.args;
    env.transport = opts.transport;
    let env = Arc::new(env);
    let config = match opts.config {
        Some(c) => c,
        None => Config::from_env()?,
    };
    let rt = Runtime::start(config)?;
    let _ = env.runtime.set(rt.handle());
    let main = VmProcess::new(Arc::clone(&env), entry, Vec::new()).main();
    if rt.handle().spawn(main).is_err() {
        rt.shutdown();
        return Ok(1);
    }
    rt.wait(None);
    rt.shutdown();
    env.flush_out();
    Ok(env.exit_code.load(std::sync::atomic::Ordering::SeqCst))
}
