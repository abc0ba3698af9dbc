//! `mesh-perf`: runs named benchmark scenarios against the Mesh runtime and,
//! with `--peers`, the same scenarios on other runtimes in the same
//! invocation, printing min/median/max over repetitions as a table or JSON.
//!
//! ```text
//! mesh-perf                          # every local scenario, table
//! mesh-perf send-local ring --reps 7 # chosen scenarios
//! mesh-perf --quick                  # small sizes, 3 repetitions (smoke run)
//! mesh-perf --peers erlang --json    # with Erlang/OTP beside us, JSON rows
//! mesh-perf remote-pingpong remote-send handshake remote-spawn global-register \
//!     --peers rustls-raw,erlang-dist   # the remote scenarios (see `remote`)
//! ```
//!
//! Speed is measured here, never asserted in tests.

mod alloc;
mod lang;
mod local;
mod peer;
mod remote;
mod report;
mod stats;

use std::process::ExitCode;

use clap::Parser;
use mesh_core::{Config, ConfigError, HandleError, StartError};

use crate::peer::{Erlang, PeerKind, PeerResults};
use crate::report::{Collector, PeerFigure};

#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

/// Everything that can stop a benchmark run.
#[derive(Debug, thiserror::Error)]
pub enum PerfError {
    #[error("unknown scenario `{0}` (run `mesh-perf --list` to see the names)")]
    UnknownScenario(String),
    #[error(
        "scenario `{scenario}` needs {need} schedulers, the runtime has {have} (set MESH_SCHEDULERS)"
    )]
    NeedsSchedulers {
        scenario: &'static str,
        need: usize,
        have: usize,
    },
    #[error("scenario `{0}` did not finish within its time limit")]
    Timeout(&'static str),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("runtime failed to start: {0}")]
    Start(#[from] StartError),
    #[error("runtime refused a request: {0}")]
    Handle(#[from] HandleError),
    #[error("reading CPU usage: {0}")]
    Rusage(nix::Error),
    #[error(
        "peer `{peer}` needs `{tool}` on PATH (install Erlang/OTP, e.g. `apt-get install erlang-nox`): {source}"
    )]
    PeerMissing {
        peer: &'static str,
        tool: &'static str,
        source: std::io::Error,
    },
    #[error("peer `{peer}` failed running {what}:\n{stderr}")]
    PeerFailed {
        peer: &'static str,
        what: String,
        stderr: String,
    },
    #[error("peer `{peer}` did not finish {what} within its time limit:\n{stderr}")]
    PeerTimeout {
        peer: &'static str,
        what: String,
        stderr: String,
    },
    #[error("unexpected peer output line: {0:?}")]
    PeerOutput(String),
    #[error(
        "scenario `{0}` has no Mesh side yet: name the runtimes to measure with --peers \
         (rustls-raw, erlang-dist, erlang-dist-tcp, erlang-dist-tls13, erlang-dist-tls12)"
    )]
    NoRemoteRuntime(String),
    #[error("peer `{peer}`: {what}: {source}")]
    Net {
        peer: &'static str,
        what: &'static str,
        source: std::io::Error,
    },
    #[error("pinning a thread to CPU 0: {0}")]
    Affinity(nix::Error),
    #[error("node: {0}")]
    Node(#[from] mesh_core::node::NodeError),
    #[error("connect: {0}")]
    Connect(#[from] mesh_core::node::ConnectError),
    #[error("global registry: {0}")]
    Global(#[from] mesh_core::dist::global::GlobalError),
    #[error("{0} remote spawns failed")]
    RemoteSpawns(u64),
    #[error("generating the throw-away certificates: {0}")]
    Cert(#[from] rcgen::Error),
    #[error("TLS: {0}")]
    Tls(#[from] rustls::Error),
    #[error("I/O: {0}")]
    Io(std::io::Error),
    #[error("writing JSON: {0}")]
    Json(#[from] serde_json::Error),
}

#[derive(Debug, Parser)]
#[command(
    name = "mesh-perf",
    version,
    about = "Mesh runtime benchmarks, with peers side by side"
)]
struct Args {
    /// Scenarios to run (default: every local scenario). See --list.
    scenarios: Vec<String>,
    /// Repetitions per scenario (min/median/max are over these).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..))]
    reps: u16,
    /// Small problem sizes and 3 repetitions: a smoke run in seconds.
    #[arg(long)]
    quick: bool,
    /// Also run these peers and show ours/peer ratios. `erlang` runs the
    /// single-node scenarios; the others the remote ones.
    #[arg(long, value_enum, value_delimiter = ',')]
    peers: Vec<PeerKind>,
    /// Message sizes in bytes of `remote-send` (one scenario per size).
    #[arg(long, value_delimiter = ',', default_values_t = [64, 65536],
          value_parser = clap::value_parser!(u32).range(1..=16 * 1024 * 1024))]
    size: Vec<u32>,
    /// Thread placements of the remote scenarios: `none` (free) and/or
    /// `same` (both ends on CPU 0).
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [remote::Placement::None, remote::Placement::Same])]
    placement: Vec<remote::Placement>,
    /// Print one JSON array of rows instead of the table.
    #[arg(long)]
    json: bool,
    /// List scenario names and exit.
    #[arg(long)]
    list: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mesh-perf: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), PerfError> {
    if args.list {
        for s in local::SCENARIOS
            .iter()
            .chain(remote::SCENARIOS)
            .chain(lang::SCENARIOS)
        {
            println!("{s}");
        }
        return Ok(());
    }
    let scenarios: Vec<String> = if args.scenarios.is_empty() {
        local::SCENARIOS.iter().map(|s| (*s).to_owned()).collect()
    } else {
        args.scenarios.clone()
    };
    for s in &scenarios {
        if !local::SCENARIOS.contains(&s.as_str())
            && !remote::SCENARIOS.contains(&s.as_str())
            && !lang::SCENARIOS.contains(&s.as_str())
        {
            return Err(PerfError::UnknownScenario(s.clone()));
        }
    }
    let (remote_names, local_names): (Vec<String>, Vec<String>) = scenarios
        .into_iter()
        .partition(|s| remote::SCENARIOS.contains(&s.as_str()));
    // `lang-remote-X` is `remote-X` written in Mesh, compared with the
    // Rust-API version and the peers in a table of its own.
    let (lang_remote, remote_names): (Vec<String>, Vec<String>) = remote_names
        .into_iter()
        .partition(|s| s.starts_with("lang-remote-"));
    let reps = if args.quick {
        3
    } else {
        usize::from(args.reps)
    };
    // Remote runtimes are prepared first so a missing tool fails fast.
    let remote_runtimes = if remote_names.is_empty() && lang_remote.is_empty() {
        Vec::new()
    } else {
        let rts = remote_runtimes(&args.peers)?;
        if rts.is_empty()
            && remote::mesh().is_none()
            && let Some(first) = remote_names.first()
        {
            return Err(PerfError::NoRemoteRuntime(first.clone()));
        }
        rts
    };
    let base = Config::from_env()?;
    let mut rows = if local_names.is_empty() {
        Vec::new()
    } else {
        run_local(args, &local_names, reps, &base)?
    };
    let mut failure = None;
    let remote_rows = if remote_names.is_empty() {
        Vec::new()
    } else {
        let scenarios = remote_scenarios(args, &remote_names);
        let measure = |rt: &dyn remote::RemoteRuntime| remote_measure(args, rt, &scenarios, reps);
        let mesh = remote::mesh().map(|rt| measure(rt.as_ref())).transpose()?;
        // A peer that fails does not cost the others' figures: they are
        // printed, then the first failure ends the run with its error.
        let mut peers = Vec::new();
        for rt in &remote_runtimes {
            match measure(rt.as_ref()) {
                Ok(m) => peers.push(m),
                Err(e) => {
                    failure.get_or_insert(e);
                }
            }
        }
        remote::rows(mesh.as_ref(), &peers, &scenarios, &args.placement)
    };
    let lang_rows = if lang_remote.is_empty() {
        Vec::new()
    } else {
        let names: Vec<String> = lang_remote
            .iter()
            .map(|s| s.trim_start_matches("lang-").to_owned())
            .collect();
        let scenarios = remote_scenarios(args, &names);
        let measure = |rt: &dyn remote::RemoteRuntime| remote_measure(args, rt, &scenarios, reps);
        let ours = measure(&remote::mesh_lang::MeshLangRemote)?;
        let mut others = Vec::new();
        for rt in remote::mesh().iter().chain(remote_runtimes.iter()) {
            match measure(rt.as_ref()) {
                Ok(m) => others.push(m),
                Err(e) => {
                    failure.get_or_insert(e);
                }
            }
        }
        let mut rows = remote::rows(Some(&ours), &others, &scenarios, &args.placement);
        for r in &mut rows {
            r.scenario = format!("lang-{}", r.scenario);
        }
        rows
    };
    if args.json {
        rows.extend(remote_rows);
        rows.extend(lang_rows);
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        if !rows.is_empty() {
            print!("{}", report::table(&rows));
            println!(
                "schedulers: {}; sizes: {}",
                base.schedulers,
                if args.quick { "quick" } else { "full" }
            );
        }
        if !remote_rows.is_empty() {
            if !rows.is_empty() {
                println!();
            }
            print!("{}", report::table(&remote_rows));
            println!(
                "placement after `/`: none = both ends free, same = both ends on CPU 0; sizes: {}",
                if args.quick { "quick" } else { "full" }
            );
        }
        if !lang_rows.is_empty() {
            println!();
            print!("{}", report::table(&lang_rows));
            println!(
                "mesh-lang = the scenario written in Mesh; mesh = the same on the Rust API; placement after `/`; sizes: {}",
                if args.quick { "quick" } else { "full" }
            );
        }
    }
    failure.map_or(Ok(()), Err)
}

/// The remote peers named by `--peers`, each once, in a fixed order.
/// The remote scenarios `names` stand for, at the `--size` values.
fn remote_scenarios(args: &Args, names: &[String]) -> Vec<remote::Scenario> {
    let sizes: Vec<usize> = args.size.iter().map(|&s| s as usize).collect();
    remote::Scenario::expand(names, &sizes)
}

/// Measures `scenarios` on one runtime, at the `--quick` or full sizes.
fn remote_measure(
    args: &Args,
    rt: &dyn remote::RemoteRuntime,
    scenarios: &[remote::Scenario],
    reps: usize,
) -> Result<remote::Measured, PerfError> {
    let sizes = if args.quick {
        remote::Sizes::QUICK
    } else {
        remote::Sizes::FULL
    };
    remote::measure(rt, scenarios, &args.placement, reps, &sizes, !args.json)
}

fn remote_runtimes(peers: &[PeerKind]) -> Result<Vec<Box<dyn remote::RemoteRuntime>>, PerfError> {
    use remote::erlang_dist::{Carrier, ErlangDist};
    let has = |k| peers.contains(&k);
    let mut out: Vec<Box<dyn remote::RemoteRuntime>> = Vec::new();
    if has(PeerKind::RustlsRaw) {
        out.push(Box::new(remote::rustls_raw::RustlsRaw::new()?));
    }
    for (kind, carrier) in [
        (PeerKind::ErlangDistTcp, Carrier::Tcp),
        (PeerKind::ErlangDistTls13, Carrier::Tls13),
        (PeerKind::ErlangDistTls12, Carrier::Tls12),
    ] {
        if has(kind) || has(PeerKind::ErlangDist) {
            out.push(Box::new(ErlangDist::prepare(carrier)?));
        }
    }
    Ok(out)
}

/// The single-node scenarios, with the Erlang peer if asked for.
fn run_local(
    args: &Args,
    scenarios: &[String],
    reps: usize,
    base: &Config,
) -> Result<Vec<report::Row>, PerfError> {
    let sizes = if args.quick {
        local::Sizes::QUICK
    } else {
        local::Sizes::FULL
    };
    let erlang = if args.peers.contains(&PeerKind::Erlang) {
        Some(Erlang::prepare()?)
    } else {
        None
    };
    let mut ours = Collector::default();
    let mut theirs = PeerResults::default();
    for scenario in scenarios {
        if !args.json {
            eprintln!("running {scenario} ({reps} repetitions)...");
        }
        if lang::SCENARIOS.contains(&scenario.as_str()) {
            // Runs its peers (Erlang, Lua) itself, as extra rows.
            for sample in lang::run(scenario, reps, args.quick, base)? {
                ours.add(scenario, &sample);
            }
            continue;
        }
        for _ in 0..reps {
            for sample in local::run(scenario, &sizes, base)? {
                ours.add(scenario, &sample);
            }
        }
        if let Some(erl) = &erlang {
            erl.run(scenario, reps, &sizes, &mut theirs)?;
        }
    }
    Ok(ours.rows(|scenario, metric| {
        erlang.as_ref()?;
        theirs.median(scenario, metric).map(|median| PeerFigure {
            peer: PeerKind::Erlang.name().to_owned(),
            median,
        })
    }))
}
