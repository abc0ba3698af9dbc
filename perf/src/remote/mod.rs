//! The remote (two-node) scenarios: `remote-pingpong`, `remote-send` (one
//! scenario per `--size`), `handshake`, `remote-spawn`, `global-register`.
//!
//! Every runtime that takes part — Mesh itself once its distribution side
//! is wired in, and the peers [`rustls_raw`] and [`erlang_dist`] — is a
//! [`RemoteRuntime`]. For each thread placement it opens a
//! [`RemoteSession`] (two nodes, or a client/server thread pair, placed as
//! asked) and runs one repetition per call of a scenario method, returning
//! [`Sample`]s whose metric names, units and directions come from
//! [`Scenario::metrics`], so every runtime's rows line up.
//!
//! Placement is part of the row's scenario label (`remote-pingpong/same`):
//! `none` leaves both ends free to run on any CPU, `same` pins both ends
//! to CPU 0 (see `shared/PERF-NOTES.md`: waking an idle vCPU costs tens of
//! microseconds, so the two placements differ several-fold in latency).
//!
//! Runtimes run one after the other, placements one after the other within
//! a runtime, and a session runs every requested scenario `reps` times.
//!
//! `lang-remote-pingpong` and `lang-remote-send` are `remote-pingpong` and
//! `remote-send` written in Mesh ([`mesh_lang`], runtime `mesh-lang`); their
//! rows compare it with the Rust-API `mesh` and the `--peers`.

pub mod erlang_dist;
pub mod mesh;
pub mod mesh_lang;
mod pki;
pub mod rustls_raw;

use std::time::Duration;

use crate::PerfError;
use crate::report::{Collector, Row, Sample};
use crate::stats::{Better, percentile};

/// Scenario names as given on the command line, in `--list` order.
/// `remote-send` expands to one scenario per `--size`.
pub const SCENARIOS: &[&str] = &[
    "remote-pingpong",
    "remote-send",
    "handshake",
    "remote-spawn",
    "global-register",
    "lang-remote-pingpong",
    "lang-remote-send",
];

/// One remote scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Round trips of a 64-byte message: RTT p50/p99 in µs.
    Pingpong,
    /// One-way messages of `size` bytes, then one ack: msgs/s and GB/s of
    /// payload.
    Send { size: usize },
    /// A fresh connection until it is usable both ways (TCP connect, TLS
    /// handshake, and the runtime's own authentication if it has one): p50
    /// and p99 in ms.
    Handshake,
    /// Spawning a process on the other node with a bounded window of
    /// requests in flight: spawns/s.
    Spawn,
    /// Registering names in the cluster-wide registry, then unregistering
    /// them: ops/s each.
    GlobalRegister,
}

/// Name, unit and direction of one metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metric {
    pub name: &'static str,
    pub unit: &'static str,
    pub better: Better,
}

const fn m(name: &'static str, unit: &'static str, better: Better) -> Metric {
    Metric { name, unit, better }
}

const PINGPONG: &[Metric] = &[
    m("rtt-p50", "us", Better::Lower),
    m("rtt-p99", "us", Better::Lower),
];
const SEND: &[Metric] = &[
    m("throughput", "msgs/s", Better::Higher),
    m("bandwidth", "GB/s", Better::Higher),
];
const HANDSHAKE: &[Metric] = &[
    m("setup-p50", "ms", Better::Lower),
    m("setup-p99", "ms", Better::Lower),
];
const SPAWN: &[Metric] = &[m("rate", "spawns/s", Better::Higher)];
const GLOBAL: &[Metric] = &[
    m("register", "ops/s", Better::Higher),
    m("unregister", "ops/s", Better::Higher),
];

impl Scenario {
    /// The scenarios for the command-line names in `names` (remote ones
    /// only; others are skipped), `remote-send` once per size.
    pub fn expand(names: &[String], sizes: &[usize]) -> Vec<Scenario> {
        let mut out = Vec::new();
        for n in names {
            match n.as_str() {
                "remote-pingpong" => out.push(Scenario::Pingpong),
                "remote-send" => out.extend(sizes.iter().map(|&size| Scenario::Send { size })),
                "handshake" => out.push(Scenario::Handshake),
                "remote-spawn" => out.push(Scenario::Spawn),
                "global-register" => out.push(Scenario::GlobalRegister),
                _ => {}
            }
        }
        out
    }

    /// The scenario part of a row label, without the placement.
    pub fn key(self) -> String {
        match self {
            Scenario::Pingpong => "remote-pingpong".into(),
            Scenario::Send { size } => format!("remote-send-{size}"),
            Scenario::Handshake => "handshake".into(),
            Scenario::Spawn => "remote-spawn".into(),
            Scenario::GlobalRegister => "global-register".into(),
        }
    }

    /// The row label: scenario and placement, e.g. `remote-send-64/same`.
    pub fn label(self, placement: Placement) -> String {
        format!("{}/{}", self.key(), placement.name())
    }

    pub fn metrics(self) -> &'static [Metric] {
        match self {
            Scenario::Pingpong => PINGPONG,
            Scenario::Send { .. } => SEND,
            Scenario::Handshake => HANDSHAKE,
            Scenario::Spawn => SPAWN,
            Scenario::GlobalRegister => GLOBAL,
        }
    }

    /// A sample of this scenario's metric `name`; `None` if it has no such
    /// metric.
    pub fn sample(self, name: &str, value: f64) -> Option<Sample> {
        let d = self.metrics().iter().find(|d| d.name == name)?;
        Some(Sample::new(d.name, d.unit, d.better, value))
    }

    /// Samples for `values`, which must be this scenario's metrics in order.
    fn samples(self, values: &[f64]) -> Vec<Sample> {
        self.metrics()
            .iter()
            .zip(values)
            .map(|(d, &v)| Sample::new(d.name, d.unit, d.better, v))
            .collect()
    }

    /// `remote-pingpong` samples from round-trip times.
    pub fn rtt_samples(rtts: &mut [Duration]) -> Vec<Sample> {
        let mut us: Vec<f64> = rtts.iter().map(|d| d.as_secs_f64() * 1e6).collect();
        let p50 = percentile(&mut us, 50.0).unwrap_or(f64::NAN);
        let p99 = percentile(&mut us, 99.0).unwrap_or(f64::NAN);
        Scenario::Pingpong.samples(&[p50, p99])
    }

    /// `remote-send-SIZE` samples from `n` messages taking `elapsed`.
    pub fn send_samples(size: usize, n: u64, elapsed: Duration) -> Vec<Sample> {
        let secs = elapsed.as_secs_f64();
        let msgs = n as f64 / secs;
        Scenario::Send { size }.samples(&[msgs, msgs * size as f64 / 1e9])
    }

    /// `handshake` samples from connection set-up times.
    pub fn handshake_samples(times: &mut [Duration]) -> Vec<Sample> {
        let mut ms: Vec<f64> = times.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        let p50 = percentile(&mut ms, 50.0).unwrap_or(f64::NAN);
        let p99 = percentile(&mut ms, 99.0).unwrap_or(f64::NAN);
        Scenario::Handshake.samples(&[p50, p99])
    }
}

/// Where the two ends' threads run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Placement {
    /// No affinity: the OS places both ends.
    None,
    /// Both ends pinned to CPU 0.
    Same,
}

impl Placement {
    pub fn name(self) -> &'static str {
        match self {
            Placement::None => "none",
            Placement::Same => "same",
        }
    }

    /// Apply this placement to the calling thread.
    pub fn pin_current_thread(self) -> Result<(), PerfError> {
        match self {
            Placement::None => Ok(()),
            Placement::Same => {
                let mut set = nix::sched::CpuSet::new();
                set.set(0).map_err(PerfError::Affinity)?;
                nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set)
                    .map_err(PerfError::Affinity)
            }
        }
    }
}

/// Problem sizes of the remote scenarios.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    /// Timed round trips (after [`Sizes::pingpong_warmup`] untimed ones).
    pub pingpong: usize,
    pub pingpong_warmup: usize,
    /// `remote-send` sends `min(send_max_msgs, send_max_bytes / size)`.
    pub send_max_msgs: u64,
    pub send_max_bytes: u64,
    /// Timed connection set-ups.
    pub handshake: usize,
    /// Remote spawns, and how many requests may be in flight.
    pub spawn: u64,
    pub spawn_window: usize,
    /// Names registered (then unregistered).
    pub global: usize,
}

impl Sizes {
    pub const FULL: Sizes = Sizes {
        pingpong: 20_000,
        pingpong_warmup: 500,
        send_max_msgs: 1_000_000,
        send_max_bytes: 1 << 30,
        handshake: 200,
        spawn: 200_000,
        spawn_window: 1_000,
        global: 1_000,
    };
    pub const QUICK: Sizes = Sizes {
        pingpong: 2_000,
        pingpong_warmup: 200,
        send_max_msgs: 100_000,
        send_max_bytes: 32 << 20,
        handshake: 20,
        spawn: 10_000,
        spawn_window: 1_000,
        global: 100,
    };

    /// Messages `remote-send` sends at `size` bytes each (at least one).
    pub fn send_count(&self, size: usize) -> u64 {
        let by_bytes = self.send_max_bytes / (size.max(1) as u64);
        self.send_max_msgs.min(by_bytes).max(1)
    }
}

/// A runtime that can run the remote scenarios: Mesh or a peer.
pub trait RemoteRuntime {
    /// The row's `runtime` value: `mesh`, `rustls-raw`, `erlang-dist-tcp`...
    fn name(&self) -> &'static str;
    /// Start both ends placed as asked. Whatever this starts (threads,
    /// processes) must be stopped when the session is dropped, on every
    /// path, and every wait inside must be bounded.
    fn open(&self, placement: Placement) -> Result<Box<dyn RemoteSession>, PerfError>;
}

/// Two ends, up and placed, running one repetition per call. Each method
/// returns `Ok(None)` if the runtime has no such scenario (the default).
pub trait RemoteSession {
    /// `n` timed round trips of 64 bytes after `warmup` untimed ones.
    fn pingpong(&mut self, n: usize, warmup: usize) -> Result<Option<Vec<Sample>>, PerfError> {
        let _ = (n, warmup);
        Ok(None)
    }
    /// `n` one-way messages of `size` bytes, timed until the receiver has
    /// all of them (it acks the last).
    fn send(&mut self, size: usize, n: u64) -> Result<Option<Vec<Sample>>, PerfError> {
        let _ = (size, n);
        Ok(None)
    }
    /// `n` timed connection set-ups.
    fn handshake(&mut self, n: usize) -> Result<Option<Vec<Sample>>, PerfError> {
        let _ = n;
        Ok(None)
    }
    /// `n` remote spawns with at most `window` in flight.
    fn spawn(&mut self, n: u64, window: usize) -> Result<Option<Vec<Sample>>, PerfError> {
        let _ = (n, window);
        Ok(None)
    }
    /// Register `n` global names, then unregister them.
    fn global_register(&mut self, n: usize) -> Result<Option<Vec<Sample>>, PerfError> {
        let _ = n;
        Ok(None)
    }
    /// Stop both ends cleanly (dropping the session must also stop them).
    fn close(self: Box<Self>) -> Result<(), PerfError>;
}

/// Mesh's own side of the remote scenarios ([`mesh::MeshRemote`]); its
/// rows carry ratios against every peer that ran (see [`rows`]).
pub fn mesh() -> Option<Box<dyn RemoteRuntime>> {
    Some(Box::new(mesh::MeshRemote))
}

/// One repetition of `scenario` on `session`.
pub fn run_one(
    session: &mut dyn RemoteSession,
    scenario: Scenario,
    sizes: &Sizes,
) -> Result<Option<Vec<Sample>>, PerfError> {
    match scenario {
        Scenario::Pingpong => session.pingpong(sizes.pingpong, sizes.pingpong_warmup),
        Scenario::Send { size } => session.send(size, sizes.send_count(size)),
        Scenario::Handshake => session.handshake(sizes.handshake),
        Scenario::Spawn => session.spawn(sizes.spawn, sizes.spawn_window),
        Scenario::GlobalRegister => session.global_register(sizes.global),
    }
}

/// Everything one runtime measured.
#[derive(Debug)]
pub struct Measured {
    pub runtime: &'static str,
    pub collector: Collector,
}

/// Run every scenario `reps` times on `runtime` in each placement.
pub fn measure(
    runtime: &dyn RemoteRuntime,
    scenarios: &[Scenario],
    placements: &[Placement],
    reps: usize,
    sizes: &Sizes,
    progress: bool,
) -> Result<Measured, PerfError> {
    let mut collector = Collector::default();
    for &placement in placements {
        if progress {
            eprintln!(
                "{}: starting, placement {}...",
                runtime.name(),
                placement.name()
            );
        }
        let mut session = runtime.open(placement)?;
        for &scenario in scenarios {
            if progress {
                eprintln!(
                    "{}: {} ({reps} repetitions)...",
                    runtime.name(),
                    scenario.label(placement)
                );
            }
            for _ in 0..reps {
                match run_one(session.as_mut(), scenario, sizes)? {
                    Some(samples) => {
                        for s in &samples {
                            collector.add(&scenario.label(placement), s);
                        }
                    }
                    None => break,
                }
            }
        }
        session.close()?;
    }
    Ok(Measured {
        runtime: runtime.name(),
        collector,
    })
}

/// Rows for the remote scenarios. `mesh`, when present, gives one row per
/// (label, metric) and peer that measured it too, with the ratio; every
/// peer's own figures follow as rows with `runtime` set to its name. Rows
/// are grouped by scenario and placement, in the order asked for.
pub fn rows(
    mesh: Option<&Measured>,
    peers: &[Measured],
    scenarios: &[Scenario],
    placements: &[Placement],
) -> Vec<Row> {
    let mut out = Vec::new();
    for &scenario in scenarios {
        for &placement in placements {
            let label = scenario.label(placement);
            for metric in scenario.metrics() {
                let only = |c: &Collector| {
                    c.rows(|_, _| None)
                        .into_iter()
                        .find(|r| r.scenario == label && r.metric == metric.name)
                };
                if let Some(mesh) = mesh
                    && let Some(base) = only(&mesh.collector)
                {
                    let mut compared = false;
                    for p in peers {
                        if let Some(pm) = p.collector.median(&label, metric.name) {
                            compared = true;
                            out.push(Row {
                                runtime: Some(mesh.runtime.to_owned()),
                                peer: Some(p.runtime.to_owned()),
                                peer_median: Some(pm),
                                ratio: (pm != 0.0).then(|| base.median / pm),
                                ..base.clone()
                            });
                        }
                    }
                    if !compared {
                        out.push(Row {
                            runtime: Some(mesh.runtime.to_owned()),
                            ..base
                        });
                    }
                }
                for p in peers {
                    if let Some(r) = only(&p.collector) {
                        out.push(Row {
                            runtime: Some(p.runtime.to_owned()),
                            ..r
                        });
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expand_and_labels() {
        let s = Scenario::expand(
            &["remote-send".into(), "spawn".into(), "handshake".into()],
            &[64, 65536],
        );
        assert_eq!(
            s,
            [
                Scenario::Send { size: 64 },
                Scenario::Send { size: 65536 },
                Scenario::Handshake
            ]
        );
        assert_eq!(s[1].label(Placement::Same), "remote-send-65536/same");
        assert!(Scenario::Spawn.sample("rate", 1.0).is_some());
        assert!(Scenario::Spawn.sample("rtt-p50", 1.0).is_none());
    }

    #[test]
    fn send_count_is_bounded_by_messages_and_bytes() {
        let s = Sizes::FULL;
        assert_eq!(s.send_count(64), 1_000_000);
        assert_eq!(s.send_count(65536), 16_384);
        assert_eq!(s.send_count(usize::MAX), 1);
    }

    fn measured(runtime: &'static str, v: f64) -> Measured {
        let mut collector = Collector::default();
        for s in Scenario::send_samples(64, 1000, Duration::from_secs_f64(1.0 / v)) {
            collector.add(&Scenario::Send { size: 64 }.label(Placement::None), &s);
        }
        Measured { runtime, collector }
    }

    #[test]
    fn rows_compare_mesh_with_each_peer_and_list_peers() {
        let sc = [Scenario::Send { size: 64 }];
        let pl = [Placement::None];
        let peers = [
            measured("rustls-raw", 4.0),
            measured("erlang-dist-tcp", 1.0),
        ];
        let only_peers = rows(None, &peers, &sc, &pl);
        assert_eq!(only_peers.len(), 4);
        assert_eq!(only_peers[0].runtime.as_deref(), Some("rustls-raw"));
        assert_eq!(only_peers[0].scenario, "remote-send-64/none");
        assert!(only_peers.iter().all(|r| r.ratio.is_none()));
        let mesh = measured("mesh", 2.0);
        let with_mesh = rows(Some(&mesh), &peers, &sc, &pl);
        // throughput: mesh vs 2 peers, then 2 peer rows; same for bandwidth.
        assert_eq!(with_mesh.len(), 8);
        assert_eq!(with_mesh[0].runtime.as_deref(), Some("mesh"));
        assert_eq!(with_mesh[0].peer.as_deref(), Some("rustls-raw"));
        let r = with_mesh[0].ratio.expect("ratio");
        assert!((r - 0.5).abs() < 1e-9, "{r}");
        assert_eq!(with_mesh[1].peer.as_deref(), Some("erlang-dist-tcp"));
        assert_eq!(with_mesh[2].runtime.as_deref(), Some("rustls-raw"));
    }
}
