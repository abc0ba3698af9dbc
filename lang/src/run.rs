//! Running a compiled program on a fresh runtime.
//!
//! `main` runs as the first process. The program ends when every process
//! has finished (LANGUAGE.md's lifetime rule: `main` returned and every
//! process it started is done), or at once when `main` fails, with exit
//! status 1.

use std::io::Write;
use std::sync::Arc;

use mesh_core::{Config, ConfigError, Runtime, StartError};

use crate::compile::bytecode::Program;
use crate::vm::{Env, Image, VmProcess};

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
        }
    }
}

/// Runs `program` to completion and returns its exit status.
pub fn run(program: Program, opts: RunOptions) -> Result<i32, RunError> {
    let entry = program.entry.ok_or(RunError::NoMain)?;
    let mut env = Env::new(Image::load(program), opts.stdout, opts.stderr);
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
