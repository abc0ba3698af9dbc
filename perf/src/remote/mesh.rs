//! Mesh's own side of the remote scenarios, on `mesh-core`'s Rust API:
//! two nodes (two runtimes in this process, one scheduler each) joined
//! over TLS 1.3 with the cookie handshake, on loopback, by the TCP
//! transport (`--transport tcp`, the only one so far).
//!
//! Placement `same` confines the opening thread to CPU 0 before anything
//! starts, so every thread of both nodes (schedulers, transport readers
//! and writers, the dist ticker) inherits it; `close` restores the mask.
//!
//! * pingpong: a process on A sends 64 bytes to an echo process on B and
//!   waits for the answer.
//! * send: a process on A streams binaries to a counter on B, which acks
//!   every half window; the sender keeps at most one window (4 MiB, at
//!   least 8 messages) unacknowledged, since nothing else bounds what a
//!   node queues for a peer. Timed from the first send to the last
//!   message's arrival.
//! * handshake: `Node::connect` from A to B after both disconnected: TCP
//!   connect, TLS 1.3, cookie handshake, admission, both sides up.
//! * spawn: a process on A keeps `window` `spawn_request_from`s in flight
//!   to B, each starting a process that exits at once.
//! * global_register: `n` names registered by a process of A, then
//!   unregistered, each broadcast to B; timed until B has seen the last.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use mesh_core::node::{Node, NodeOptions};
use mesh_core::transport::Transport;
use mesh_core::{Atom, Config, Flow, Pid, Runtime, Step, Term, actor_fn, process_fn, reason};
use mesh_transport_tcp::TcpTransport;

use super::{Placement, RemoteRuntime, RemoteSession, Scenario};
use crate::PerfError;
use crate::report::Sample;

const REP_TIMEOUT: Duration = Duration::from_secs(120);
const COOKIE: &str = "mesh-perf";

/// The `mesh` runtime of the remote scenarios.
#[derive(Debug)]
pub struct MeshRemote;

impl RemoteRuntime for MeshRemote {
    fn name(&self) -> &'static str {
        "mesh"
    }

    fn open(&self, placement: Placement) -> Result<Box<dyn RemoteSession>, PerfError> {
        let before = confine(placement)?;
        match TwoNodes::start() {
            Ok(nodes) => Ok(Box::new(MeshSession {
                nodes: Some(nodes),
                before,
            })),
            Err(e) => {
                restore(before);
                Err(e)
            }
        }
    }
}

pub(super) fn confine(p: Placement) -> Result<Option<nix::sched::CpuSet>, PerfError> {
    use nix::sched::sched_getaffinity;
    use nix::unistd::Pid as OsPid;
    if p == Placement::None {
        return Ok(None);
    }
    let before = sched_getaffinity(OsPid::from_raw(0)).map_err(PerfError::Affinity)?;
    p.pin_current_thread()?;
    Ok(Some(before))
}

pub(super) fn restore(before: Option<nix::sched::CpuSet>) {
    if let Some(set) = before {
        let _ = nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set);
    }
}

struct TwoNodes {
    a: (Runtime, Node),
    b: (Runtime, Node),
    seq: u64,
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
        Ok(TwoNodes { a, b, seq: 0 })
    }

    fn stop(self) {
        self.a.1.stop();
        self.b.1.stop();
        self.a.0.shutdown();
        self.b.0.shutdown();
    }

    /// `pid` of B as A names it, through the global registry.
    fn publish(&mut self, pid: Pid) -> Result<Pid, PerfError> {
        self.seq += 1;
        let name = format!("perf_target_{}", self.seq);
        self.b.1.global_register(&name, pid)?;
        let deadline = Instant::now() + REP_TIMEOUT;
        loop {
            if let Some(p) = self.a.1.global_whereis(&name) {
                return Ok(p);
            }
            if Instant::now() > deadline {
                return Err(PerfError::Timeout("global name propagation"));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

struct MeshSession {
    nodes: Option<TwoNodes>,
    before: Option<nix::sched::CpuSet>,
}

impl Drop for MeshSession {
    fn drop(&mut self) {
        if let Some(n) = self.nodes.take() {
            n.stop();
        }
        restore(self.before.take());
    }
}

impl MeshSession {
    fn nodes(&mut self) -> Result<&mut TwoNodes, PerfError> {
        self.nodes
            .as_mut()
            .ok_or(PerfError::Timeout("session closed"))
    }
}

fn wait<T>(rx: &mpsc::Receiver<T>, what: &'static str) -> Result<T, PerfError> {
    rx.recv_timeout(REP_TIMEOUT)
        .map_err(|_| PerfError::Timeout(what))
}

impl RemoteSession for MeshSession {
    fn pingpong(&mut self, n: usize, warmup: usize) -> Result<Option<Vec<Sample>>, PerfError> {
        let nodes = self.nodes()?;
        let echo_b = nodes.b.0.handle().spawn(actor_fn(|cx, msg| {
            if let Some([Term::Pid(from), body]) = msg.as_tuple() {
                cx.send(*from, body.clone());
            }
            Flow::Continue
        }))?;
        let echo = nodes.publish(echo_b)?;
        let (tx, rx) = mpsc::channel();
        let total = n + warmup;
        let mut rtts: Vec<Duration> = Vec::with_capacity(total);
        let mut sent_at = Instant::now();
        let mut started = false;
        let payload = Term::binary(&[7u8; 64]);
        nodes.a.0.handle().spawn(process_fn(move |cx| {
            let me = cx.pid();
            if !started {
                started = true;
                sent_at = Instant::now();
                cx.send(echo, Term::tuple(vec![Term::Pid(me), payload.clone()]));
            }
            while let Some(_reply) = cx.receive_any() {
                rtts.push(sent_at.elapsed());
                if rtts.len() == total {
                    let _ = tx.send(rtts.split_off(warmup));
                    return Step::Exit(reason::normal());
                }
                sent_at = Instant::now();
                cx.send(echo, Term::tuple(vec![Term::Pid(me), payload.clone()]));
            }
            Step::Wait
        }))?;
        let mut rtts = wait(&rx, "remote-pingpong")?;
        nodes.b.0.handle().kill(echo_b)?;
        Ok(Some(Scenario::rtt_samples(&mut rtts)))
    }

    fn send(&mut self, size: usize, count: u64) -> Result<Option<Vec<Sample>>, PerfError> {
        let nodes = self.nodes()?;
        let window = ((4u64 << 20) / size.max(1) as u64).clamp(8, 4096);
        let half = (window / 2).max(1);
        let (done_tx, done_rx) = mpsc::channel();
        let mut got: u64 = 0;
        let mut sender: Option<Pid> = None;
        let counter = nodes.b.0.handle().spawn(process_fn(move |cx| {
            while let Some(m) = cx.receive_any() {
                match m {
                    Term::Binary(_) => {
                        got += 1;
                        if (got.is_multiple_of(half) || got == count)
                            && let Some(s) = sender
                        {
                            cx.send(s, Term::Int(got as i64));
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
        let counter = nodes.publish(counter)?;
        let (start_tx, start_rx) = mpsc::channel();
        let payload = Term::binary(&vec![0xabu8; size]);
        let mut sent: u64 = 0;
        let mut acked: u64 = 0;
        let mut started = false;
        nodes.a.0.handle().spawn(process_fn(move |cx| {
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
        Ok(Some(Scenario::send_samples(
            size,
            count,
            t1.duration_since(t0),
        )))
    }

    fn handshake(&mut self, n: usize) -> Result<Option<Vec<Sample>>, PerfError> {
        let nodes = self.nodes()?;
        let (a, b) = (&nodes.a.1, &nodes.b.1);
        let (an, bn) = (a.name().to_string(), b.name().to_string());
        let mut times = Vec::with_capacity(n);
        for _ in 0..n {
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
            times.push(t0.elapsed());
        }
        Ok(Some(Scenario::handshake_samples(&mut times)))
    }

    fn spawn(&mut self, count: u64, window: usize) -> Result<Option<Vec<Sample>>, PerfError> {
        let nodes = self.nodes()?;
        nodes.b.1.register_spawn_fn("perf_noop", |_| {
            Ok(Box::new(process_fn(|_| Step::Exit(reason::normal()))))
        });
        let node = nodes.a.1.clone();
        let target = nodes.b.1.name().to_string();
        let window = window as u64;
        let (tx, rx) = mpsc::channel();
        let (mut requested, mut answered, mut failed) = (0u64, 0u64, 0u64);
        let mut t0 = None;
        let args = Term::list(vec![]);
        let reply_tag = Atom::new("spawn_reply");
        nodes.a.0.handle().spawn(process_fn(move |cx| {
            if t0.is_none() {
                t0 = Some(Instant::now());
            }
            while let Some(m) = cx.receive_any() {
                let t = m.as_tuple().unwrap_or_default();
                if t.first().is_some_and(|h| h.is_atom(reply_tag)) {
                    answered += 1;
                    let ok = t
                        .get(2)
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
        Ok(Scenario::Spawn
            .sample("rate", count as f64 / secs)
            .map(|s| vec![s]))
    }

    fn global_register(&mut self, n: usize) -> Result<Option<Vec<Sample>>, PerfError> {
        let nodes = self.nodes()?;
        let owner = nodes.a.0.handle().spawn(actor_fn(|_, _| Flow::Continue))?;
        let a = &nodes.a.1;
        let b = &nodes.b.1;
        let names: Vec<String> = (0..n).map(|i| format!("perf_name_{i}")).collect();
        let settle = |want: bool| -> Result<(), PerfError> {
            let deadline = Instant::now() + REP_TIMEOUT;
            let last = names.last().map(String::as_str).unwrap_or("");
            while b.global_whereis(last).is_some() != want {
                if Instant::now() > deadline {
                    return Err(PerfError::Timeout("global-register propagation"));
                }
                std::thread::sleep(Duration::from_micros(50));
            }
            Ok(())
        };
        let t0 = Instant::now();
        for name in &names {
            a.global_register(name, owner)?;
        }
        settle(true)?;
        let reg = t0.elapsed().as_secs_f64();
        let t1 = Instant::now();
        for name in &names {
            a.global_unregister(name)?;
        }
        settle(false)?;
        let unreg = t1.elapsed().as_secs_f64();
        nodes.a.0.handle().kill(owner)?;
        Ok(Some(
            [
                Scenario::GlobalRegister.sample("register", n as f64 / reg),
                Scenario::GlobalRegister.sample("unregister", n as f64 / unreg),
            ]
            .into_iter()
            .flatten()
            .collect(),
        ))
    }

    fn close(mut self: Box<Self>) -> Result<(), PerfError> {
        if let Some(n) = self.nodes.take() {
            n.stop();
        }
        restore(self.before.take());
        Ok(())
    }
}
