//! `meshc`: create, build and run Mesh programs.
//!
//! ```text
//! meshc init [--clustered] NAME                # NAME/mesh.toml + NAME/main.mpl
//! meshc run FILE|DIR [-- ARGS...]              # compile and run
//! meshc build [DIR] [--release] [-o PATH] [--json]
//! meshc test [PATH] [--timeout SECS]           # run *.test.mpl files
//! ```
//!
//! Exit status: 0 success, 1 compile error (or, for `run`, a program whose
//! `main` failed), 2 usage error (bad arguments, missing files, invalid
//! `mesh.toml`). An executable written by `build` is this binary with the
//! program appended (see [`embed`]); it runs that program and nothing else.
#![forbid(unsafe_code)]

pub mod embed;
pub mod project;
pub mod test;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use mesh_lang::compile::{self, Options, bytecode::Program};
use mesh_lang::diag::{self, Diagnostic};
use mesh_lang::source::SourceMap;

/// Exit status of a compile error.
pub const EXIT_COMPILE: u8 = 1;
/// Exit status of a usage error.
pub const EXIT_USAGE: u8 = 2;

#[derive(Debug, Parser)]
#[command(name = "meshc", version, about = "Build and run Mesh programs")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a new project directory with mesh.toml and main.mpl.
    Init {
        /// Package name (also the directory created).
        name: String,
        /// The clustered scaffold: `main.mpl` boots from the `MESH_*`
        /// environment, `work.mpl` declares `@cluster` work, a README.
        #[arg(long)]
        clustered: bool,
    },
    /// Compile and run a program (a `.mpl` file or a project directory).
    Run {
        path: PathBuf,
        /// Optimise (as `build --release`).
        #[arg(long)]
        release: bool,
        /// Print the compiled bytecode to stderr before running.
        #[arg(long, hide = true)]
        dump: bool,
        /// Arguments for the program (`Env.args()`).
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Compile a project into one self-contained executable.
    Build {
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Run the optimising passes.
        #[arg(long)]
        release: bool,
        /// Where to write the executable (default: DIR/<package name>).
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
        /// Print diagnostics as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Run the tests of the `*.test.mpl` files under PATH (or one test file).
    Test {
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Seconds one test (with its teardowns) may run before it fails.
        #[arg(long, default_value_t = 60)]
        timeout: u64,
    },
}

/// Everything `meshc` reports as an error of its own.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Project(#[from] project::ProjectError),
    #[error("{path} already exists")]
    Exists { path: String },
    #[error(
        "`{name}` is not a valid package name (use letters, digits and `_`, starting with a letter)"
    )]
    BadName { name: String },
    #[error("writing {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot find the meshc executable to build from: {0}")]
    SelfExe(std::io::Error),
    #[error(transparent)]
    Embed(#[from] embed::EmbedError),
    #[error("the embedded program is unreadable: {0}")]
    Decode(#[from] compile::bytecode::DecodeError),
    #[error(transparent)]
    Run(#[from] mesh_lang::run::RunError),
    #[error(transparent)]
    Test(#[from] test::TestError),
    #[error(transparent)]
    Transport(#[from] mesh_core::transport::UnknownTransport),
    #[error(
        "MESH_TRANSPORT=uring: the io_uring transport is not built yet; use MESH_TRANSPORT=tcp (the default)"
    )]
    UringNotBuilt,
}

/// The transport `MESH_TRANSPORT` names (`tcp` when unset), as the factory
/// a program's `Node.start` calls. An unknown value or a transport this
/// binary lacks is an error before the program starts, never a fallback.
pub fn transport_from_env() -> Result<mesh_lang::run::TransportFactory, CliError> {
    use mesh_core::transport::{Transport, TransportKind};
    match TransportKind::from_env()? {
        TransportKind::Tcp => Ok(Arc::new(|| {
            Ok(Arc::new(mesh_transport_tcp::TcpTransport::new()) as Arc<dyn Transport>)
        })),
        TransportKind::Uring => Err(CliError::UringNotBuilt),
    }
}

/// Runtime log lines (a refused cookie, a lost connection, a crashed
/// process) go to stderr, `warn` and above unless `MESH_LOG` says
/// otherwise (`MESH_LOG=info`, `MESH_LOG=mesh_core=debug`, ...).
fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("MESH_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}

/// The entry point of the `meshc` binary.
pub fn main() -> ExitCode {
    init_logging();
    // A built program: run what is embedded, whatever the arguments.
    if let Ok(exe) = std::env::current_exe() {
        match embed::read_embedded(&exe) {
            Ok(Some(image)) => return run_embedded(&image),
            Ok(None) => {}
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(EXIT_USAGE);
            }
        }
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { 0 });
        }
    };
    // Checking and compiling walk the syntax tree recursively, and a long
    // operator chain is a deep tree: the command runs on a thread with a
    // generous stack (only the pages it touches are committed).
    let command = cli.command;
    let done = std::thread::Builder::new()
        .name("meshc".into())
        .stack_size(COMMAND_STACK)
        .spawn(move || dispatch(command))
        .map(|t| t.join());
    match done {
        Ok(Ok(Ok(code))) => code,
        Ok(Ok(Err(e))) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_USAGE)
        }
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(e) => {
            eprintln!("error: cannot start the command's thread: {e}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// Stack size of the thread a command runs on (see [`main`]).
const COMMAND_STACK: usize = 1 << 30;

fn run_embedded(image: &[u8]) -> ExitCode {
    let program = match Program::decode(image) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {}", CliError::Decode(e));
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    exec(program, args)
}

fn exec(program: Program, args: Vec<String>) -> ExitCode {
    let transport = match transport_from_env() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let native = match mesh_lang::run::native_setting(std::env::var("MESH_JIT").ok().as_deref()) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let mut opts = mesh_lang::run::RunOptions::stdio(args);
    opts.transport = Some(transport);
    opts.native = native;
    match mesh_lang::run::run(program, opts) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn dispatch(cmd: Command) -> Result<ExitCode, CliError> {
    match cmd {
        Command::Init { name, clustered } => {
            let files = if clustered {
                init_clustered(&name, Path::new("."))?;
                "mesh.toml, main.mpl, work.mpl, README.md"
            } else {
                init(&name, Path::new("."))?;
                "mesh.toml, main.mpl"
            };
            println!("created {name}/ ({files}); run it with `meshc run {name}`");
            Ok(ExitCode::SUCCESS)
        }
        Command::Run {
            path,
            release,
            dump,
            args,
        } => {
            let p = project::load(&path)?;
            match compile_project(&p, Options { optimize: release }) {
                Ok((program, warnings)) => {
                    eprint!("{}", diag::render_all(&source_map(&p), &warnings));
                    if dump {
                        for (i, f) in program.funcs.iter().enumerate() {
                            eprintln!("fn #{i} {} arity {} regs {}", f.name, f.arity, f.nregs);
                            for (pc, op) in f.code.iter().enumerate() {
                                eprintln!("  {pc:4} {op:?}");
                            }
                        }
                    }
                    Ok(exec(program, args))
                }
                Err(diags) => {
                    eprint!("{}", diag::render_all(&source_map(&p), &diags));
                    Ok(ExitCode::from(EXIT_COMPILE))
                }
            }
        }
        Command::Build {
            dir,
            release,
            output,
            json,
        } => build(&dir, release, output, json),
        Command::Test { path, timeout } => {
            test::run(&path, std::time::Duration::from_secs(timeout))
        }
    }
}

/// The source map used for messages: real paths, in the checker's file order.
fn source_map(p: &project::Project) -> SourceMap {
    let pairs: Vec<(&str, &str)> = p
        .display
        .iter()
        .zip(p.files.iter())
        .map(|(d, (_, s))| (d.as_str(), s.as_str()))
        .collect();
    SourceMap::from_pairs(&pairs)
}

/// Checks and compiles a loaded project.
pub fn compile_project(
    p: &project::Project,
    opts: Options,
) -> Result<(Program, Vec<Diagnostic>), Vec<Diagnostic>> {
    let hir = mesh_lang::check_project(&p.files)?;
    let map = source_map(p);
    let program = compile::compile(&hir, &map, opts)?;
    Ok((program, hir.warnings))
}

fn build(
    dir: &Path,
    release: bool,
    output: Option<PathBuf>,
    json: bool,
) -> Result<ExitCode, CliError> {
    if dir.is_file() {
        return Err(project::ProjectError::BuildFile {
            path: dir.display().to_string(),
        }
        .into());
    }
    let p = project::load(dir)?;
    let map = source_map(&p);
    let (program, warnings) = match compile_project(&p, Options { optimize: release }) {
        Ok(x) => x,
        Err(diags) => {
            if json {
                println!("{}", diag::render_json(&map, &diags));
            } else {
                eprint!("{}", diag::render_all(&map, &diags));
            }
            return Ok(ExitCode::from(EXIT_COMPILE));
        }
    };
    if json {
        println!("{}", diag::render_json(&map, &warnings));
    } else {
        eprint!("{}", diag::render_all(&map, &warnings));
    }
    let out = output.unwrap_or_else(|| p.root.join(&p.name));
    let exe_path = std::env::current_exe().map_err(CliError::SelfExe)?;
    let exe = std::fs::read(&exe_path).map_err(CliError::SelfExe)?;
    let bytes = embed::append(embed::strip(&exe), &program.encode());
    write_executable(&out, &bytes)?;
    if !json {
        eprintln!("built {}", out.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn write_executable(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let err = |source| CliError::Write {
        path: path.display().to_string(),
        source,
    };
    // Write beside and rename, so a running copy of the old file is untouched.
    let tmp = path.with_extension("meshc-tmp");
    std::fs::write(&tmp, bytes).map_err(err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)).map_err(err)?;
    }
    std::fs::rename(&tmp, path).map_err(err)
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// `meshc init NAME` in `parent`.
pub fn init(name: &str, parent: &Path) -> Result<PathBuf, CliError> {
    scaffold(
        name,
        parent,
        &[(
            "main.mpl",
            "fn main() do\n  println(\"Hello, world!\")\nend\n",
        )],
    )
}

/// `meshc init --clustered NAME` in `parent`: the package-only manifest
/// (clustered work is declared in source, never in `mesh.toml`), a
/// `main.mpl` whose one bootstrap path is `Node.start_from_env()`, a
/// `work.mpl` declaring `@cluster pub fn add()` (runtime name `Work.add`)
/// and a README with the environment contract.
pub fn init_clustered(name: &str, parent: &Path) -> Result<PathBuf, CliError> {
    let main = CLUSTERED_MAIN.replace("{name}", name);
    let readme = CLUSTERED_README.replace("{name}", name);
    scaffold(
        name,
        parent,
        &[
            ("main.mpl", &main),
            ("work.mpl", CLUSTERED_WORK),
            ("README.md", &readme),
        ],
    )
}

const CLUSTERED_MAIN: &str = r#"fn log_bootstrap(status :: BootstrapStatus) do
  println(
    "[{name}] runtime bootstrap mode=#{status.mode} node=#{status.node_name} cluster_port=#{status.cluster_port} discovery_seed=#{status.discovery_seed}"
  )
end

fn log_bootstrap_failure(reason :: String) do
  println("[{name}] runtime bootstrap failed reason=#{reason}")
end

fn main() do
  case Node.start_from_env() do
    Ok(status) -> log_bootstrap(status)
    Err(reason) -> log_bootstrap_failure(reason)
  end
end
"#;

const CLUSTERED_WORK: &str = "@cluster pub fn add() -> Int do
  1 + 1
end
";

const CLUSTERED_README: &str = r#"# {name}

A clustered Mesh application. `mesh.toml` is package-only: clustered work
is declared in source (`@cluster pub fn add()` in `work.mpl`, runtime name
`Work.add`), and `main.mpl` boots the node from the environment with
`Node.start_from_env()`.

Build: `meshc build .` (writes `./{name}`). Run alone: `./{name}` (no
cookie set: standalone mode).

## Environment

| variable | meaning |
|---|---|
| `MESH_CLUSTER_COOKIE` | shared secret; unset means standalone |
| `MESH_NODE_NAME` | `name@host:port` of this node |
| `MESH_CLUSTER_PORT` | listening port (default 4370) |
| `MESH_DISCOVERY_SEED` | DNS name resolved periodically; every address found is dialled |

## Two local nodes

```sh
MESH_CLUSTER_COOKIE=dev-cookie MESH_NODE_NAME=primary@127.0.0.1:4370 MESH_DISCOVERY_SEED=localhost MESH_CLUSTER_PORT=4370 ./{name}
MESH_CLUSTER_COOKIE=dev-cookie MESH_NODE_NAME=standby@127.0.0.1:4371 MESH_DISCOVERY_SEED=localhost MESH_CLUSTER_PORT=4371 ./{name}
```
"#;

/// Creates `parent/name` with a package-only `mesh.toml` and `files`.
fn scaffold(name: &str, parent: &Path, files: &[(&str, &str)]) -> Result<PathBuf, CliError> {
    if !valid_name(name) {
        return Err(CliError::BadName {
            name: name.to_string(),
        });
    }
    let dir = parent.join(name);
    if dir.exists() {
        return Err(CliError::Exists {
            path: dir.display().to_string(),
        });
    }
    let w = |path: &Path, text: &str| {
        std::fs::write(path, text).map_err(|source| CliError::Write {
            path: path.display().to_string(),
            source,
        })
    };
    std::fs::create_dir_all(&dir).map_err(|source| CliError::Write {
        path: dir.display().to_string(),
        source,
    })?;
    w(
        &dir.join("mesh.toml"),
        &format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\n\n[dependencies]\n"),
    )?;
    for (file, text) in files {
        w(&dir.join(file), text)?;
    }
    Ok(dir)
}
