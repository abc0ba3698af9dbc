//! The distributed scenarios on `mesh-core`'s Rust API: two nodes (two
//! runtimes in this process, one scheduler each) joined over TLS on
//! loopback by the TCP transport (`--transport tcp`).
//!
//! Placement, stated in every row's scenario name: `none` leaves every
//! thread free to run on any CPU; `same` confines the whole process (both
//! nodes' schedulers and their transport threads) to CPU 0, as the peers
//! run with `taskset -c 0`.
//!
//! * `remote-pingpong`: a process on A sends to an echo process on B and
//!   waits for the answer; RTT p50 / p99 in µs.
//! * `remote-send-64` / `remote-send-64k`: a process on A streams 64-byte
//!   (64 KiB) binaries to a counter on B, which acks every half window;
//!   the sender keeps at most one window in flight, as a real sender must
//!   (there is no other back-pressure between nodes). msgs/s and GB/s.
//! * `handshake`: `Node::connect` from A to B (TCP connect, TLS 1.3, cookie
//!   handshake, admission), then both sides disconnect; ms per connect.
//! * `remote-spawn`: a process on A keeps 1,000 `spawn_request`s in flight
//!   to B, each starting a process that exits at once; spawns/s.
//! * `global-register`: register + unregister of a global name on A while
//!   B is connected (each change is broadcast to B); ops/s.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use mesh_core::node::{Node, NodeOptions};
use mesh_core::transport::Transport;
use mesh_core::{Atom, Config, Flow, Pid, Runtime, Step, Term, actor_fn, process_fn, reason};
use mesh_transport_tcp::TcpTransport;

use crate::PerfError;
use crate::report::Sample;
use crate::stats::{Better, percentile};

/// The distributed scenarios, in listing order.
pub const SCENARIOS: &[&str] = &[
    "remote-pingpong",
    "remote-send-64",
    "remote-send-64k",
    "handshake",
    "remote-spawn",
    "global-register",
];

/// Thread placement of a distributed scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    None,
    Same,
}

impl Placement {
    pub const ALL: [Placement; 2] = [Placement::None, Placement::Same];

    pub fn name(self) -> &'static str {
        match self {
            Placement::None => "none",
            Placement::Same => "same",
        }
    }
}

/// Problem sizes.
#[derive(Debug, Clone, Copy)]
pub struct RemoteSizes {
    pub pingpong: usize,
    pub send64: u64,
    pub send64k: u64,
    pub handshakes: usize,
    pub spawns: u64,
    pub registers: usize,
}

impl RemoteSizes {
    pub const FULL: RemoteSizes = RemoteSizes {
        pingpong: 20_000,
        send64: 2_000_000,
        send64k: 20_000,
        handshakes: 50,
        spawns: 100_000,
        registers: 20_000,
    };
    pub const QUICK: RemoteSizes = RemoteSizes {
        pingpong: 2_000,
        send64: 100_000,
        send64k: 1_000,
        handshakes: 5,
        spawns: 5_000,
        registers: 1_000,
    };
}

const REP_TIMEOUT: Duration = Duration::from_secs(120);
const COOKIE: &str = "mesh-perf";

struct TwoNodes {
    a: (Runtime, Node),
    b: (Runtime, Node),
}

impl TwoNodes {
    fn start() -> Result<TwoNodes, PerfError> {
        let start = |name: &str| -> Result<(Runtime, Node), PerfError> {
            let rt = Runtime::start(Config::default().with_schedulers(1).with_pinning(false))?;
            let t: Arc<dyn Transport> = Arc::new(TcpTransport::new());
            let opts = NodeOptions::new(&format!("{name}@127.0.0.1:0"), COOKIE)?;
            let node = Node::start(&rt.handle(), opts, t)?;
            Ok((rt, node))
        };
        let a = start("perf_a")?;
        let b = start("perf_b")?;
        a.1.connect(&b.1.name().to_string())?;
        Ok(TwoNodes { a, b })
    }

    fn stop(self) {
        self.a.1.stop();
        self.b.1.stop();
        self.a.0.shutdown();
        self.b.0.shutdown();
    }

    /// `pid` of B as A names it, through the global registry.
    fn publish(&self, name: &str, pid: Pid) -> Result<Pid, PerfError> {
        self.b.1.global_register(name, pid)?;
        let deadline = Instant::now() + REP_TIMEOUT;
        loop {
            if let Some(p) = self.a.1.global_whereis(name) {
                return Ok(p);
            }
            if Instant::now() > deadline {
                return Err(PerfError::Timeout("global name propagation"));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// Confine this thread (and every thread it starts) to CPU 0, or undo it.
fn confine(p: Placement) -> Result<Option<nix::sched::CpuSet>, PerfError> {
    use nix::sched::{CpuSet, sched_getaffinity, sched_setaffinity};
    use nix::unistd::Pid as OsPid;
    if p == Placement::None {
        return Ok(None);
    }
    let before = sched_getaffinity(OsPid::from_raw(0)).map_err(PerfError::Affinity)?;
    let mut only0 = CpuSet::new();
    only0.set(0).map_err(PerfError::Affinity)?;
    sched_setaffinity(OsPid::from_raw(0), &only0).map_err(PerfError::Affinity)?;
    Ok(Some(before))
}

fn restore(before: Option<nix::sched::CpuSet>) {
    if let Some(set) = before {
        let _ = nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set);
    }
}

/// Run one repetition of `scenario` with `placement`.
pub fn run(
    scenario: &str,
    placement: Placement,
    sizes: &RemoteSizes,
) -> Result<Vec<Sample>, PerfError> {
    let before = confine(placement)?;
    let res = (|| {
        let nodes = TwoNodes::start()?;
        let r = match scenario {
            "remote-pingpong" => pingpong(&nodes, sizes.pingpong),
            "remote-send-64" => stream(&nodes, sizes.send64, 64, 4096),
            "remote-send-64k" => stream(&nodes, sizes.send64k, 65536, 64),
            "handshake" => handshake(&nodes, sizes.handshakes),
            "remote-spawn" => spawn(&nodes, sizes.spawns),
            "global-register" => register(&nodes, sizes.registers),
            other => Err(PerfError::UnknownScenario(other.to_owned())),
        };
        nodes.stop();
        r
    })();
    restore(before);
    res
}

fn wait<T>(rx: &mpsc::Receiver<T>, what: &'static str) -> Result<T, PerfError> {
    rx.recv_timeout(REP_TIMEOUT)
        .map_err(|_| PerfError::Timeout(what))
}

fn pingpong(n: &TwoNodes, rounds: usize) -> Result<Vec<Sample>, PerfError> {
    let echo = n.b.0.handle().spawn(actor_fn(|cx, msg| {
        if let Some([Term::Pid(from), body]) = msg.as_tuple() {
            cx.send(*from, body.clone());
        }
        Flow::Continue
    }))?;
    let echo = n.publish("perf_echo", echo)?;
    let (tx, rx) = mpsc::channel();
    let mut rtts: Vec<f64> = Vec::with_capacity(rounds);
    let mut sent_at = Instant::now();
    let mut started = false;
    let payload = Term::binary(&[7u8; 64]);
    n.a.0.handle().spawn(process_fn(move |cx| {
        let me = cx.pid();
        if !started {
            started = true;
            sent_at = Instant::now();
            cx.send(echo, Term::tuple(vec![Term::Pid(me), payload.clone()]));
        }
        while let Some(_reply) = cx.receive_any() {
            rtts.push(sent_at.elapsed().as_secs_f64() * 1e6);
            if rtts.len() == rounds {
                let _ = tx.send(std::mem::take(&mut rtts));
                return Step::Exit(reason::normal());
            }
            sent_at = Instant::now();
            cx.send(echo, Term::tuple(vec![Term::Pid(me), payload.clone()]));
        }
        Step::Wait
    }))?;
    let mut rtts = wait(&rx, "remote-pingpong")?;
    let p50 = percentile(&mut rtts, 50.0).unwrap_or(f64::NAN);
    let p99 = percentile(&mut rtts, 99.0).unwrap_or(f64::NAN);
    Ok(vec![
        Sample::new("rtt p50", "µs", Better::Lower, p50),
        Sample::new("rtt p99", "µs", Better::Lower, p99),
    ])
}

/// Stream `count` binaries of `size` bytes with at most `window` unacked.
fn stream(n: &TwoNodes, count: u64, size: usize, window: u64) -> Result<Vec<Sample>, PerfError> {
    let half = (window / 2).max(1);
    let (done_tx, done_rx) = mpsc::channel();
    let mut got: u64 = 0;
    let mut sender: Option<Pid> = None;
    let counter = n.b.0.handle().spawn(process_fn(move |cx| {
        while let Some(m) = cx.receive_any() {
            match m {
                Term::Binary(_) => {
                    got += 1;
                    if got.is_multiple_of(half) || got == count {
                        // The sender's pid came first.
                        if let Some(s) = sender {
                            cx.send(s, Term::Int(got as i64));
                        }
                    }
                    if got == count {
                        let _ = done_tx.send(Instant::now());
                        return Step::Exit(reason::normal());
                    }
                }
                Term::Pid(p) => sender = Some(p),
                _ => {}
            }
            if !cx.consume(1) {
                return Step::Yield;
            }
        }
        Step::Wait
    }))?;
    let counter = n.publish("perf_counter", counter)?;
    let (start_tx, start_rx) = mpsc::channel();
    let payload = Term::binary(&vec![0xabu8; size]);
    let mut sent: u64 = 0;
    let mut acked: u64 = 0;
    let mut started = false;
    n.a.0.handle().spawn(process_fn(move |cx| {
        if !started {
            started = true;
            cx.send(counter, Term::Pid(cx.pid()));
            let _ = start_tx.send(Instant::now());
        }
        while let Some(m) = cx.receive_any() {
            if let Some(a) = m.as_int() {
                acked = acked.max(a as u64);
            }
        }
        while sent < count && sent - acked < window {
            cx.send(counter, payload.clone());
            sent += 1;
            if !cx.consume(1) {
                return Step::Yield;
            }
        }
        if sent == count && acked == count {
            return Step::Exit(reason::normal());
        }
        Step::Wait
    }))?;
    let t0 = wait(&start_rx, "remote-send start")?;
    let t1 = wait(&done_rx, "remote-send")?;
    let secs = t1.duration_since(t0).as_secs_f64();
    let rate = count as f64 / secs;
    Ok(if size >= 65536 {
        vec![
            Sample::new(
                "throughput",
                "GB/s",
                Better::Higher,
                rate * size as f64 / 1e9,
            ),
            Sample::new("rate", "msgs/s", Better::Higher, rate),
        ]
    } else {
        vec![Sample::new("rate", "msgs/s", Better::Higher, rate)]
    })
}

fn handshake(n: &TwoNodes, rounds: usize) -> Result<Vec<Sample>, PerfError> {
    let a = &n.a.1;
    let b = &n.b.1;
    let (an, bn) = (a.name().to_string(), b.name().to_string());
    let mut ms = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        a.disconnect(&bn);
        b.disconnect(&an);
        let deadline = Instant::now() + REP_TIMEOUT;
        while !a.list().is_empty() || !b.list().is_empty() {
            if Instant::now() > deadline {
                return Err(PerfError::Timeout("handshake: disconnect"));
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        let t0 = Instant::now();
        a.connect(&bn)?;
        ms.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    let med = percentile(&mut ms, 50.0).unwrap_or(f64::NAN);
    Ok(vec![Sample::new("connect", "ms", Better::Lower, med)])
}

fn spawn(n: &TwoNodes, count: u64) -> Result<Vec<Sample>, PerfError> {
    n.b.1.register_spawn_fn("perf_noop", |_| {
        Ok(Box::new(process_fn(|_| Step::Exit(reason::normal()))))
    });
    let node = n.a.1.clone();
    let target = n.b.1.name().to_string();
    let window: u64 = 1000;
    let (tx, rx) = mpsc::channel();
    let mut requested: u64 = 0;
    let mut answered: u64 = 0;
    let mut failed: u64 = 0;
    let mut t0 = None;
    let args = Term::list(vec![]);
    let reply_tag = Atom::new("spawn_reply");
    n.a.0.handle().spawn(process_fn(move |cx| {
        if t0.is_none() {
            t0 = Some(Instant::now());
        }
        while let Some(m) = cx.receive_any() {
            if m.as_tuple()
                .and_then(|t| t.first())
                .is_some_and(|h| h.is_atom(reply_tag))
            {
                answered += 1;
                let ok = m
                    .as_tuple()
                    .and_then(|t| t.get(2))
                    .and_then(|r| r.as_tuple())
                    .and_then(|r| r.first())
                    .is_some_and(|h| h.is_atom(Atom::OK));
                if !ok {
                    failed += 1;
                }
            }
        }
        while requested < count && requested - answered < window {
            if node
                .spawn_request_from(cx, &target, "perf_noop", &args, false)
                .is_err()
            {
                failed += 1;
                answered += 1;
            }
            requested += 1;
            if !cx.consume(1) {
                return Step::Yield;
            }
        }
        if answered == count {
            let secs = t0.map_or(f64::NAN, |t| t.elapsed().as_secs_f64());
            let _ = tx.send((secs, failed));
            return Step::Exit(reason::normal());
        }
        Step::Wait
    }))?;
    let (secs, failed) = wait(&rx, "remote-spawn")?;
    if failed > 0 {
        return Err(PerfError::RemoteSpawns(failed));
    }
    Ok(vec![Sample::new(
        "rate",
        "spawns/s",
        Better::Higher,
        count as f64 / secs,
    )])
}

fn register(n: &TwoNodes, ops: usize) -> Result<Vec<Sample>, PerfError> {
    let owner = n.a.0.handle().spawn(actor_fn(|_, _| Flow::Continue))?;
    let a = &n.a.1;
    let t0 = Instant::now();
    for i in 0..ops {
        let name = format!("perf_name_{}", i % 64);
        a.global_register(&name, owner)?;
        a.global_unregister(&name)?;
    }
    let secs = t0.elapsed().as_secs_f64();
    // The last change reached B before we count the run as done.
    let deadline = Instant::now() + REP_TIMEOUT;
    a.global_register("perf_last", owner)?;
    while n.b.1.global_whereis("perf_last").is_none() {
        if Instant::now() > deadline {
            return Err(PerfError::Timeout("global-register propagation"));
        }
        std::thread::sleep(Duration::from_micros(100));
    }
    Ok(vec![Sample::new(
        "register+unregister",
        "ops/s",
        Better::Higher,
        (2 * ops) as f64 / secs,
    )])
}
