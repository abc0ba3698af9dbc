//! Peers: the same scenarios on other runtimes, run in the same invocation.
//!
//! Erlang/OTP: `perf/peers/mesh_perf_local.erl` is compiled with `erlc`
//! into a temporary directory and run once per scenario with `erl
//! -noshell`. Scenarios that ours runs on one scheduler (`spawn`,
//! `send-local`, `pingpong-local`, `ring`) run Erlang with `+S 1` (one
//! scheduler), the cross-core ones with Erlang's default of one scheduler per
//! core. Erlang cannot pin a process to a scheduler, so its `*-cross` rows
//! are "two schedulers, placed by Erlang"; the table says so by scenario
//! name only, RESULTS.md says it in words.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::PerfError;
use crate::local::Sizes;
use crate::stats::Summary;

/// A peer that can run scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PeerKind {
    /// Erlang/OTP, single-node scenarios.
    #[value(name = "erlang")]
    Erlang,
    /// Raw rustls client/server on loopback, remote scenarios.
    #[value(name = "rustls-raw")]
    RustlsRaw,
    /// Erlang distribution over TCP, TLS 1.3 and TLS 1.2 (all three).
    #[value(name = "erlang-dist")]
    ErlangDist,
    /// Erlang distribution over plain TCP.
    #[value(name = "erlang-dist-tcp")]
    ErlangDistTcp,
    /// Erlang distribution over TLS 1.3 (`-proto_dist inet_tls`).
    #[value(name = "erlang-dist-tls13")]
    ErlangDistTls13,
    /// Erlang distribution over TLS 1.2 (`-proto_dist inet_tls`).
    #[value(name = "erlang-dist-tls12")]
    ErlangDistTls12,
}

impl PeerKind {
    pub fn name(self) -> &'static str {
        match self {
            PeerKind::Erlang => "erlang",
            PeerKind::RustlsRaw => "rustls-raw",
            PeerKind::ErlangDist => "erlang-dist",
            PeerKind::ErlangDistTcp => "erlang-dist-tcp",
            PeerKind::ErlangDistTls13 => "erlang-dist-tls13",
            PeerKind::ErlangDistTls12 => "erlang-dist-tls12",
        }
    }
}

/// Samples per (scenario, metric) from one peer.
#[derive(Debug, Default)]
pub struct PeerResults {
    samples: HashMap<(String, String), Vec<f64>>,
}

impl PeerResults {
    pub fn median(&self, scenario: &str, metric: &str) -> Option<f64> {
        let v = self
            .samples
            .get(&(scenario.to_owned(), metric.to_owned()))?;
        Summary::of(v).map(|s| s.median)
    }

    /// Parse `ROW scenario metric value` lines; anything else is ignored
    /// (Erlang may print warnings). A malformed ROW line is an error.
    pub fn parse(&mut self, output: &str) -> Result<(), PerfError> {
        for line in output.lines() {
            let mut it = line.split_whitespace();
            if it.next() != Some("ROW") {
                continue;
            }
            let (Some(sc), Some(m), Some(v), None) = (it.next(), it.next(), it.next(), it.next())
            else {
                return Err(PerfError::PeerOutput(line.to_owned()));
            };
            let v: f64 = v
                .parse()
                .map_err(|_| PerfError::PeerOutput(line.to_owned()))?;
            self.samples
                .entry((sc.to_owned(), m.to_owned()))
                .or_default()
                .push(v);
        }
        Ok(())
    }
}

/// Compiled Erlang peer programs, ready to run.
#[derive(Debug)]
pub struct Erlang {
    ebin: tempfile::TempDir,
}

/// Where the `.erl` sources live: next to this crate, or `MESH_PERF_PEERS`.
pub(crate) fn peers_dir() -> PathBuf {
    std::env::var_os("MESH_PERF_PEERS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("peers"))
}

/// Compile the peer module `file` (in [`peers_dir`]) into `out_dir`, for
/// peer `peer`. A missing `erlc` or a compile error is a clear error.
pub(crate) fn compile_erlang(
    peer: &'static str,
    file: &str,
    out_dir: &Path,
) -> Result<(), PerfError> {
    let src = peers_dir().join(file);
    let out = Command::new("erlc")
        .arg("-o")
        .arg(out_dir)
        .arg(&src)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|source| PerfError::PeerMissing {
            peer,
            tool: "erlc",
            source,
        })?;
    if !out.status.success() {
        return Err(PerfError::PeerFailed {
            peer,
            what: format!("erlc {}", src.display()),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned()
                + &String::from_utf8_lossy(&out.stdout),
        });
    }
    Ok(())
}

impl Erlang {
    /// Compile the peer modules. Fails with a clear error if `erlc`/`erl`
    /// are not installed.
    pub fn prepare() -> Result<Erlang, PerfError> {
        let ebin = tempfile::tempdir().map_err(PerfError::Io)?;
        compile_erlang("erlang", "mesh_perf_local.erl", ebin.path())?;
        Ok(Erlang { ebin })
    }

    /// Run `scenario` for `reps` repetitions, adding its rows to `into`.
    /// Returns false if Erlang has no peer for this scenario.
    pub fn run(
        &self,
        scenario: &str,
        reps: usize,
        sizes: &Sizes,
        into: &mut PeerResults,
    ) -> Result<bool, PerfError> {
        let (one_scheduler, args): (bool, Vec<String>) = match scenario {
            "spawn" => (true, vec![sizes.spawn.to_string()]),
            "send-local" => (true, vec![sizes.send.to_string()]),
            "send-cross" => (false, vec![sizes.send.to_string()]),
            "pingpong-local" => (true, vec![sizes.pingpong.to_string()]),
            "pingpong-cross" => (false, vec![sizes.pingpong.to_string()]),
            "ring" => (
                true,
                vec![sizes.ring_procs.to_string(), sizes.ring_laps.to_string()],
            ),
            _ => return Ok(false),
        };
        let quoted: Vec<String> = std::iter::once(scenario.to_owned())
            .chain(std::iter::once(reps.to_string()))
            .chain(args)
            .map(|a| format!("\"{a}\""))
            .collect();
        let mut cmd = Command::new("erl");
        // +P: the default limit (262,144 processes) is below `spawn`'s 1 M.
        cmd.args(["-noshell", "+P", "4194304"]);
        if one_scheduler {
            cmd.args(["+S", "1:1"]);
        }
        cmd.arg("-pa")
            .arg(self.ebin.path())
            .arg("-eval")
            .arg(format!("mesh_perf_local:main([{}])", quoted.join(",")));
        let out = cmd.output().map_err(|e| PerfError::PeerMissing {
            peer: "erlang",
            tool: "erl",
            source: e,
        })?;
        if !out.status.success() {
            return Err(PerfError::PeerFailed {
                peer: "erlang",
                what: format!("scenario {scenario}"),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            });
        }
        into.parse(&String::from_utf8_lossy(&out.stdout))?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rows_and_ignores_noise() {
        let mut r = PeerResults::default();
        r.parse(
            "warning: something\nROW spawn rate 10.0\nROW spawn rate 30.0\nROW spawn rate 20.0\n",
        )
        .expect("valid");
        assert_eq!(r.median("spawn", "rate"), Some(20.0));
        assert_eq!(r.median("spawn", "memory"), None);
    }

    #[test]
    fn malformed_row_is_an_error() {
        let mut r = PeerResults::default();
        assert!(matches!(
            r.parse("ROW spawn rate fast"),
            Err(PerfError::PeerOutput(_))
        ));
        assert!(matches!(
            r.parse("ROW spawn rate"),
            Err(PerfError::PeerOutput(_))
        ));
    }
}
