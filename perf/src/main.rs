//! `mesh-perf`: runs named benchmark scenarios against the Mesh runtime and,
//! with `--peers`, the same scenarios on other runtimes in the same
//! invocation, printing min/median/max over repetitions as a table or JSON.
//!
//! ```text
//! mesh-perf                          # every local scenario, table
//! mesh-perf send-local ring --reps 7 # chosen scenarios
//! mesh-perf --quick                  # small sizes, 3 repetitions (smoke run)
//! mesh-perf --peers erlang --json    # with Erlang/OTP beside us, JSON rows
//! ```
//!
//! Speed is measured here, never asserted in tests.

mod alloc;
mod lang;
mod local;
mod peer;
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
    #[error("unexpected peer output line: {0:?}")]
    PeerOutput(String),
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
    /// Also run these peers and show ours/peer ratios.
    #[arg(long, value_enum, value_delimiter = ',')]
    peers: Vec<PeerKind>,
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
        for s in local::SCENARIOS.iter().chain(lang::SCENARIOS) {
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
        if !local::SCENARIOS.contains(&s.as_str()) && !lang::SCENARIOS.contains(&s.as_str()) {
            return Err(PerfError::UnknownScenario(s.clone()));
        }
    }
    let (sizes, reps) = if args.quick {
        (local::Sizes::QUICK, 3)
    } else {
        (local::Sizes::FULL, usize::from(args.reps))
    };
    let base = Config::from_env()?;
    let erlang = if args.peers.contains(&PeerKind::Erlang) {
        Some(Erlang::prepare()?)
    } else {
        None
    };
    let mut ours = Collector::default();
    let mut theirs = PeerResults::default();
    for scenario in &scenarios {
        if !args.json {
            eprintln!("running {scenario} ({reps} repetitions)...");
        }
        if lang::SCENARIOS.contains(&scenario.as_str()) {
            // Runs its peers (Erlang, Lua) itself, as extra rows.
            for sample in lang::run(scenario, reps, args.quick, &base)? {
                ours.add(scenario, &sample);
            }
            continue;
        }
        for _ in 0..reps {
            for sample in local::run(scenario, &sizes, &base)? {
                ours.add(scenario, &sample);
            }
        }
        if let Some(erl) = &erlang {
            erl.run(scenario, reps, &sizes, &mut theirs)?;
        }
    }
    let rows = ours.rows(|scenario, metric| {
        erlang.as_ref()?;
        theirs.median(scenario, metric).map(|median| PeerFigure {
            peer: PeerKind::Erlang.name().to_owned(),
            median,
        })
    });
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print!("{}", report::table(&rows));
        println!(
            "schedulers: {}; sizes: {}",
            base.schedulers,
            if args.quick { "quick" } else { "full" }
        );
    }
    Ok(())
}
