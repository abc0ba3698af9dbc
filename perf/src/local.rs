//! The single-node scenarios, run on `mesh-core`'s Rust API: `spawn`,
//! `send-local`, `send-cross`, `pingpong-local`, `pingpong-cross`, `ring`.
//!
//! Placement is explicit in every scenario: "local" means both processes on
//! scheduler 0, "cross" means scheduler 0 and scheduler 1. Each repetition
//! starts a fresh runtime so one repetition's garbage cannot slow the next.
//! Results leave the runtime through a std channel; the driving thread waits
//! with a timeout, so a scenario that hangs is an error, not a stuck run.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use mesh_core::{Config, Cx, Pid, Placement, Process, Runtime, Step, Term, process_fn, reason};
use nix::sys::resource::{UsageWho, getrusage};

use crate::PerfError;
use crate::alloc;
use crate::report::Sample;
use crate::stats::{Better, percentile};

/// Problem sizes. `full` matches the definitions; `quick` is for the
/// README's smoke run.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub spawn: usize,
    pub send: u64,
    pub pingpong: usize,
    pub ring_procs: usize,
    pub ring_laps: u64,
    pub idle_window: Duration,
}

impl Sizes {
    pub const FULL: Sizes = Sizes {
        spawn: 1_000_000,
        send: 10_000_000,
        pingpong: 200_000,
        ring_procs: 10_000,
        ring_laps: 1_000,
        idle_window: Duration::from_secs(1),
    };
    pub const QUICK: Sizes = Sizes {
        spawn: 100_000,
        send: 1_000_000,
        pingpong: 20_000,
        ring_procs: 10_000,
        ring_laps: 100,
        idle_window: Duration::from_millis(300),
    };
}

/// The scenarios this module runs, in the order `mesh-perf` lists them.
pub const SCENARIOS: &[&str] = &[
    "spawn",
    "send-local",
    "send-cross",
    "pingpong-local",
    "pingpong-cross",
    "ring",
];

/// Generous bound on any one repetition; hitting it means a bug.
const REP_TIMEOUT: Duration = Duration::from_secs(120);

/// Run one repetition of `scenario`.
pub fn run(scenario: &str, sizes: &Sizes, base: &Config) -> Result<Vec<Sample>, PerfError> {
    match scenario {
        "spawn" => spawn(base, sizes.spawn),
        "send-local" => send(base, sizes.send, 0),
        "send-cross" => send(base, sizes.send, 1),
        "pingpong-local" => pingpong(base, sizes.pingpong, 0, None),
        "pingpong-cross" => pingpong(base, sizes.pingpong, 1, Some(sizes.idle_window)),
        "ring" => ring(base, sizes.ring_procs, sizes.ring_laps),
        other => Err(PerfError::UnknownScenario(other.to_owned())),
    }
}

fn start(base: &Config, need: usize, scenario: &'static str) -> Result<Runtime, PerfError> {
    if base.schedulers < need {
        return Err(PerfError::NeedsSchedulers {
            scenario,
            need,
            have: base.schedulers,
        });
    }
    Ok(Runtime::start(base.clone())?)
}

fn spawn_on(rt: &Runtime, core: usize, p: impl Process) -> Result<Pid, PerfError> {
    Ok(rt.handle().spawn_on(Placement::Core(core), Box::new(p))?)
}

fn wait<T>(rx: &mpsc::Receiver<T>, scenario: &'static str) -> Result<T, PerfError> {
    rx.recv_timeout(REP_TIMEOUT)
        .map_err(|_| PerfError::Timeout(scenario))
}

/// Spawn `n` idle processes (each waits for a message that never comes)
/// from one process on scheduler 0. The clock stops once every new
/// process has run once (the spawner yields behind them); memory is the
/// growth of live heap bytes over the same span, divided by `n`.
fn spawn(base: &Config, n: usize) -> Result<Vec<Sample>, PerfError> {
    let rt = start(base, 1, "spawn")?;
    let (tx, rx) = mpsc::channel();
    let mut spawned = 0usize;
    let mut t0: Option<Instant> = None;
    let mut before = 0isize;
    let mut done = false;
    let root = process_fn(move |cx: &mut Cx<'_>| {
        let t = *t0.get_or_insert_with(|| {
            alloc::start();
            before = alloc::live();
            Instant::now()
        });
        if !done {
            while spawned < n {
                cx.spawn(process_fn(|_: &mut Cx<'_>| Step::Wait));
                spawned += 1;
                if !cx.consume(1) {
                    return Step::Yield;
                }
            }
            done = true;
            return Step::Yield; // run the last chunk once
        }
        let _ = tx.send((t.elapsed(), alloc::live() - before));
        Step::Exit(reason::normal())
    });
    spawn_on(&rt, 0, root)?;
    let result = wait(&rx, "spawn");
    alloc::stop();
    rt.shutdown();
    let (elapsed, bytes) = result?;
    Ok(vec![
        Sample::new(
            "rate",
            "procs/s",
            Better::Higher,
            n as f64 / elapsed.as_secs_f64(),
        ),
        Sample::new(
            "memory",
            "bytes/proc",
            Better::Lower,
            bytes as f64 / n as f64,
        ),
    ])
}

/// One sender streams `n` integers to one receiver; the receiver is on
/// scheduler 0, the sender on `sender_core`. Throughput is `n` over the time
/// from the sender's first send to the receiver's last receive.
fn send(base: &Config, n: u64, sender_core: usize) -> Result<Vec<Sample>, PerfError> {
    let scenario = if sender_core == 0 {
        "send-local"
    } else {
        "send-cross"
    };
    let rt = start(base, sender_core + 1, scenario)?;
    let (tx, rx) = mpsc::channel();
    let mut got = 0u64;
    let receiver = process_fn(move |cx: &mut Cx<'_>| {
        loop {
            match cx.receive_any() {
                Some(_) => {
                    got += 1;
                    if got == n {
                        let _ = tx.send(Instant::now());
                        return Step::Exit(reason::normal());
                    }
                    if !cx.consume(1) {
                        return Step::Yield;
                    }
                }
                None => return Step::Wait,
            }
        }
    });
    let to = spawn_on(&rt, 0, receiver)?;
    let (t0_tx, t0_rx) = mpsc::channel();
    let mut sent = 0u64;
    let sender = process_fn(move |cx: &mut Cx<'_>| {
        if sent == 0 {
            let _ = t0_tx.send(Instant::now());
        }
        while sent < n {
            cx.send(to, Term::Int(sent as i64));
            sent += 1;
            if !cx.consume(1) {
                return Step::Yield;
            }
        }
        Step::Exit(reason::normal())
    });
    spawn_on(&rt, sender_core, sender)?;
    let result = wait(&t0_rx, scenario).and_then(|t0| Ok((t0, wait(&rx, scenario)?)));
    rt.shutdown();
    let (t0, t1) = result?;
    let secs = t1.saturating_duration_since(t0).as_secs_f64();
    Ok(vec![Sample::new(
        "throughput",
        "msgs/s",
        Better::Higher,
        n as f64 / secs,
    )])
}

/// A pinger on `pinger_core` and a ponger on scheduler 0 bounce an integer
/// `n` times (after 1,000 warm-up round trips); every round trip is timed.
/// With `idle`, the runtime is then left without work and the process's CPU
/// time over that window is reported as a percentage of one core.
fn pingpong(
    base: &Config,
    n: usize,
    pinger_core: usize,
    idle: Option<Duration>,
) -> Result<Vec<Sample>, PerfError> {
    const WARMUP: usize = 1_000;
    let scenario = if pinger_core == 0 {
        "pingpong-local"
    } else {
        "pingpong-cross"
    };
    let rt = start(base, pinger_core + 1, scenario)?;
    let mut peer: Option<Pid> = None;
    let ponger = process_fn(move |cx: &mut Cx<'_>| {
        loop {
            match cx.receive_any() {
                Some(Term::Pid(p)) => peer = Some(p),
                Some(m) => {
                    if let Some(p) = peer {
                        cx.send(p, m);
                    }
                }
                None => return Step::Wait,
            }
            if !cx.consume(1) {
                return Step::Yield;
            }
        }
    });
    let ponger = spawn_on(&rt, 0, ponger)?;
    let (tx, rx) = mpsc::channel();
    let mut rtts: Vec<f64> = Vec::with_capacity(n);
    let mut i = 0usize;
    let mut sent_at: Option<Instant> = None;
    let pinger = process_fn(move |cx: &mut Cx<'_>| {
        if sent_at.is_none() {
            cx.send(ponger, Term::Pid(cx.pid()));
        } else if cx.receive_any().is_some() {
            let now = Instant::now();
            if let Some(t) = sent_at
                && i >= WARMUP
            {
                rtts.push(now.duration_since(t).as_secs_f64() * 1e6);
            }
            i += 1;
            if i == n + WARMUP {
                let _ = tx.send(std::mem::take(&mut rtts));
                return Step::Exit(reason::normal());
            }
        } else {
            return Step::Wait;
        }
        cx.send(ponger, Term::Int(i as i64));
        sent_at = Some(Instant::now());
        Step::Wait
    });
    spawn_on(&rt, pinger_core, pinger)?;
    let result = wait(&rx, scenario);
    let idle_cpu = match (&result, idle) {
        (Ok(_), Some(window)) => Some(idle_cpu_percent(&rt, window)?),
        _ => None,
    };
    rt.shutdown();
    let mut rtts = result?;
    let p50 = percentile(&mut rtts, 50.0).unwrap_or(f64::NAN);
    let p99 = percentile(&mut rtts, 99.0).unwrap_or(f64::NAN);
    let mut out = vec![
        Sample::new("rtt-p50", "us", Better::Lower, p50),
        Sample::new("rtt-p99", "us", Better::Lower, p99),
    ];
    if let Some(cpu) = idle_cpu {
        out.push(Sample::new("idle-cpu", "%", Better::Lower, cpu));
    }
    Ok(out)
}

/// CPU time of this whole process (all scheduler threads) over `window`
/// while the runtime has no work, as a percentage of one core. The first
/// 100 ms are skipped so the schedulers' spin windows have ended.
fn idle_cpu_percent(rt: &Runtime, window: Duration) -> Result<f64, PerfError> {
    std::thread::sleep(Duration::from_millis(100));
    debug_assert_eq!(rt.handle().live_processes(), 0);
    let cpu = || -> Result<Duration, PerfError> {
        let u = getrusage(UsageWho::RUSAGE_SELF).map_err(PerfError::Rusage)?;
        let tv = |t: nix::sys::time::TimeVal| {
            Duration::from_secs(t.tv_sec().max(0) as u64)
                + Duration::from_micros(t.tv_usec().max(0) as u64)
        };
        Ok(tv(u.user_time()) + tv(u.system_time()))
    };
    let (c0, w0) = (cpu()?, Instant::now());
    std::thread::sleep(window);
    let (c1, w1) = (cpu()?, Instant::now());
    Ok((c1 - c0).as_secs_f64() / (w1 - w0).as_secs_f64() * 100.0)
}

/// `procs` processes on scheduler 0 in a ring pass one token `laps` times
/// around. The clock runs from the first pass to the last.
fn ring(base: &Config, procs: usize, laps: u64) -> Result<Vec<Sample>, PerfError> {
    let rt = start(base, 1, "ring")?;
    let hops = procs as u64 * laps;
    let (tx, rx) = mpsc::channel();
    // A ring member forwards `k - 1`; whoever receives 0 reports the time.
    fn member(next: Pid, tx: mpsc::Sender<Instant>) -> impl Process {
        process_fn(move |cx: &mut Cx<'_>| {
            loop {
                match cx.receive_any() {
                    Some(Term::Int(0)) => {
                        let _ = tx.send(Instant::now());
                        return Step::Exit(reason::normal());
                    }
                    Some(Term::Int(k)) => cx.send(next, Term::Int(k - 1)),
                    Some(_) => {}
                    None => return Step::Wait,
                }
                if !cx.consume(1) {
                    return Step::Yield;
                }
            }
        })
    }
    let (t0_tx, t0_rx) = mpsc::channel();
    let mut started = false;
    let mut first: Option<Pid> = None;
    let tx_root = tx.clone();
    let root = process_fn(move |cx: &mut Cx<'_>| {
        if !started {
            started = true;
            // Build the ring backwards: each new member points at the
            // previous one; the last built is the root's successor.
            let mut next = cx.pid();
            for _ in 1..procs {
                next = cx.spawn(member(next, tx.clone()));
            }
            first = Some(next);
            let _ = t0_tx.send(Instant::now());
            cx.send(next, Term::Int(hops as i64 - 1));
            return Step::Wait;
        }
        // The root is a ring member too.
        match cx.receive_any() {
            Some(Term::Int(0)) => {
                let _ = tx_root.send(Instant::now());
                Step::Exit(reason::normal())
            }
            Some(Term::Int(k)) => {
                if let Some(f) = first {
                    cx.send(f, Term::Int(k - 1));
                }
                Step::Wait
            }
            _ => Step::Wait,
        }
    });
    spawn_on(&rt, 0, root)?;
    let result = wait(&t0_rx, "ring").and_then(|t0| Ok((t0, wait(&rx, "ring")?)));
    rt.shutdown();
    let (t0, t1) = result?;
    let secs = t1.saturating_duration_since(t0).as_secs_f64();
    Ok(vec![Sample::new(
        "hops",
        "hops/s",
        Better::Higher,
        hops as f64 / secs,
    )])
}
