//! The runtime: start, handle, wait, shut down.
//!
//! [`Runtime::start`] spawns one pinned scheduler thread per configured
//! core. A [`RuntimeHandle`] (cheap to clone, usable from any thread)
//! spawns processes and sends signals from outside. The runtime counts live
//! processes; [`Runtime::wait`] returns when the count reaches zero (all the
//! work is done) or someone calls [`RuntimeHandle::request_shutdown`].
//!
//! # Shutdown
//!
//! 1. `shutdown` sets the shared `shutdown` flag and unparks every
//!    scheduler.
//! 2. Each scheduler, at the top of its loop, sees the flag, terminates every
//!    process it owns (their state is dropped; no exit signals are sent,
//!    since every process is going), drops whatever is still in its inbound
//!    queue, and returns.
//! 3. `shutdown` joins every thread and clears the local registry.
//!
//! Dropping a `Runtime` shuts it down the same way.

use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::atom::Atom;
use crate::config::{Config, ConfigError};
use crate::inbound::Inbound;
use crate::pid::{NodeId, Pid, Ref};
use crate::process::{Placement, Process};
use crate::registry::{RegisterError, SharedRegistry};
use crate::scheduler::Scheduler;
use crate::signal::{Batch, Envelope, ExitKind, Signal, SpawnRequest};
use crate::sync::{
    Arc, AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Condvar, Mutex, Ordering, lock,
};
use crate::term::Term;

/// Spare slots each scheduler keeps for spawns from other cores.
pub(crate) const SPARE_TARGET: usize = 64;

/// What other threads can touch of one scheduler.
pub(crate) struct SchedShared {
    pub(crate) inbound: Inbound<Batch>,
    /// Free slots reserved for spawns from other cores: (slot, generation).
    pub(crate) spare: Mutex<Vec<(u32, u32)>>,
    /// Set by a reserver that found the spare pool low.
    pub(crate) spare_low: AtomicBool,
    /// Next never-used slot index.
    pub(crate) fresh: AtomicU32,
}

impl SchedShared {
    fn new() -> SchedShared {
        SchedShared {
            inbound: Inbound::new(),
            spare: Mutex::new(Vec::new()),
            spare_low: AtomicBool::new(true),
            fresh: AtomicU32::new(0),
        }
    }

    /// Reserve a slot on this scheduler for a spawn started elsewhere.
    pub(crate) fn reserve(&self) -> (u32, u32) {
        let mut spare = lock(&self.spare);
        if let Some(s) = spare.pop() {
            if spare.len() < SPARE_TARGET / 2 {
                self.spare_low.store(true, Ordering::Relaxed);
            }
            return s;
        }
        drop(spare);
        self.spare_low.store(true, Ordering::Relaxed);
        (self.fresh.fetch_add(1, Ordering::Relaxed), 0)
    }
}

/// State shared by all schedulers of one runtime.
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) scheds: Box<[SchedShared]>,
    pub(crate) registry: SharedRegistry,
    live: AtomicUsize,
    idle_lock: Mutex<()>,
    idle_cv: Condvar,
    pub(crate) shutdown: AtomicBool,
    shutdown_requested: AtomicBool,
    rr: AtomicUsize,
    ext_refs: AtomicU64,
    started: Instant,
    /// The node this runtime became (`node::Node::start`), if any.
    #[cfg(not(loom))]
    pub(crate) dist: std::sync::OnceLock<std::sync::Arc<crate::node::Dist>>,
}

impl Shared {
    pub(crate) fn schedulers(&self) -> usize {
        self.scheds.len()
    }

    pub(crate) fn next_round_robin(&self) -> usize {
        self.rr.fetch_add(1, Ordering::Relaxed) % self.scheds.len()
    }

    pub(crate) fn target(&self, placement: Placement, here: Option<usize>) -> usize {
        match (placement, here) {
            (Placement::Local, Some(h)) => h,
            (Placement::Local, None) | (Placement::RoundRobin, _) => self.next_round_robin(),
            (Placement::Core(c), _) => c % self.scheds.len(),
        }
    }

    pub(crate) fn process_started(&self) {
        self.live.fetch_add(1, Ordering::AcqRel);
    }

    pub(crate) fn process_exited(&self) {
        if self.live.fetch_sub(1, Ordering::AcqRel) == 1 {
            let _g = lock(&self.idle_lock);
            self.idle_cv.notify_all();
        }
    }

    pub(crate) fn live(&self) -> usize {
        self.live.load(Ordering::Acquire)
    }

    /// A reference made outside any scheduler.
    fn external_ref(&self) -> Ref {
        let n = self.ext_refs.fetch_add(1, Ordering::Relaxed);
        Ref::from_parts(NodeId::LOCAL, (n << 16) | 0xFFFF)
    }

    /// Deliver an envelope from a thread outside the schedulers.
    #[cfg(not(loom))]
    pub(crate) fn push_envelope(&self, env: Envelope) -> bool {
        self.push(env)
    }

    fn push(&self, env: Envelope) -> bool {
        let d = env.to.scheduler() as usize;
        match self.scheds.get(d) {
            Some(s) if env.to.is_local() => {
                s.inbound.push(Batch::One(env));
                true
            }
            _ => false,
        }
    }
}

/// Why a runtime did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("could not start scheduler thread {index}: {source}")]
    Thread {
        index: usize,
        #[source]
        source: std::io::Error,
    },
}

/// Why a call through a [`RuntimeHandle`] failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandleError {
    #[error("the runtime has shut down")]
    Stopped,
    #[error("{pid} is not a process of this node")]
    NotLocal { pid: Pid },
}

/// How [`Runtime::wait`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitOutcome {
    /// Every process has exited.
    Idle,
    /// [`RuntimeHandle::request_shutdown`] was called.
    ShutdownRequested,
    /// The timeout passed first.
    TimedOut,
}

/// Stack of a scheduler thread. Processes keep no frames on it, but
/// dropping, comparing or showing a deeply nested value (a user-defined
/// list of 100,000 cells is a chain of variants) recurses once per level;
/// the default 2 MiB ran out at about 10,000 levels. Only the pages used
/// are committed.
const SCHED_STACK: usize = 256 << 20;

/// A running runtime. Dropping it shuts it down.
#[derive(Debug)]
pub struct Runtime {
    handle: RuntimeHandle,
    threads: Vec<JoinHandle<()>>,
}

impl Runtime {
    /// Start the schedulers.
    pub fn start(config: Config) -> Result<Runtime, StartError> {
        config.validate()?;
        let n = config.schedulers;
        let shared = Arc::new(Shared {
            scheds: (0..n).map(|_| SchedShared::new()).collect(),
            registry: SharedRegistry::new(),
            live: AtomicUsize::new(0),
            idle_lock: Mutex::new(()),
            idle_cv: Condvar::new(),
            shutdown: AtomicBool::new(false),
            shutdown_requested: AtomicBool::new(false),
            rr: AtomicUsize::new(0),
            ext_refs: AtomicU64::new(0),
            started: Instant::now(),
            #[cfg(not(loom))]
            dist: std::sync::OnceLock::new(),
            config,
        });
        let cpus = if shared.config.pin {
            crate::affinity::allowed_cpus()
        } else {
            Vec::new()
        };
        let mut rt = Runtime {
            handle: RuntimeHandle {
                shared: Arc::clone(&shared),
            },
            threads: Vec::with_capacity(n),
        };
        for i in 0..n {
            let shared = Arc::clone(&shared);
            let cpu = (!cpus.is_empty()).then(|| cpus[i % cpus.len()]);
            let spawned = std::thread::Builder::new()
                .name(format!("mesh-sched-{i}"))
                .stack_size(SCHED_STACK)
                .spawn(move || {
                    if let Some(cpu) = cpu {
                        crate::affinity::pin_current(cpu);
                    }
                    Scheduler::new(i as u16, shared).run();
                });
            match spawned {
                Ok(t) => rt.threads.push(t),
                Err(source) => {
                    rt.stop();
                    return Err(StartError::Thread { index: i, source });
                }
            }
        }
        tracing::debug!(schedulers = n, pinned = !cpus.is_empty(), "runtime started");
        Ok(rt)
    }

    pub fn handle(&self) -> RuntimeHandle {
        self.handle.clone()
    }

    /// Block until every process has exited, a shutdown is requested, or
    /// `timeout` passes.
    pub fn wait(&self, timeout: Option<Duration>) -> WaitOutcome {
        let s = &self.handle.shared;
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut g = lock(&s.idle_lock);
        loop {
            if s.shutdown_requested.load(Ordering::Acquire) {
                return WaitOutcome::ShutdownRequested;
            }
            if s.live() == 0 {
                return WaitOutcome::Idle;
            }
            g = match deadline {
                None => match s.idle_cv.wait(g) {
                    Ok(g) => g,
                    Err(p) => p.into_inner(),
                },
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return WaitOutcome::TimedOut;
                    }
                    match s.idle_cv.wait_timeout(g, d - now) {
                        Ok((g, _)) => g,
                        Err(p) => p.into_inner().0,
                    }
                }
            };
        }
    }

    /// Terminate every process and join every scheduler thread.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let s = &self.handle.shared;
        s.shutdown.store(true, Ordering::SeqCst);
        for sched in s.scheds.iter() {
            sched.inbound.unpark();
        }
        for t in self.threads.drain(..) {
            if t.join().is_err() {
                tracing::error!("a scheduler thread panicked outside any process");
            }
        }
        s.registry.clear();
        let _g = lock(&s.idle_lock);
        s.idle_cv.notify_all();
    }

    /// Start a runtime, spawn `root`, wait until every process has exited
    /// (or a shutdown is requested), then shut down.
    pub fn run(config: Config, root: impl Process) -> Result<WaitOutcome, StartError> {
        let rt = Runtime::start(config)?;
        // The runtime was just started, so spawning cannot find it stopped.
        let spawned = rt.handle().spawn(root);
        let outcome = match spawned {
            Ok(_) => rt.wait(None),
            Err(_) => WaitOutcome::ShutdownRequested,
        };
        rt.shutdown();
        Ok(outcome)
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if !self.threads.is_empty() {
            self.stop();
        }
    }
}

/// Access to a runtime from any thread. Cheap to clone.
#[derive(Clone)]
pub struct RuntimeHandle {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for RuntimeHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeHandle")
            .field("schedulers", &self.shared.schedulers())
            .field("live", &self.shared.live())
            .finish()
    }
}

impl RuntimeHandle {
    fn check_running(&self) -> Result<(), HandleError> {
        if self.shared.shutdown.load(Ordering::Acquire) {
            Err(HandleError::Stopped)
        } else {
            Ok(())
        }
    }

    pub fn schedulers(&self) -> usize {
        self.shared.schedulers()
    }

    /// Processes currently alive (or spawned and about to start).
    pub fn live_processes(&self) -> usize {
        self.shared.live()
    }

    /// Time since the runtime started.
    pub fn uptime(&self) -> Duration {
        self.shared.started.elapsed()
    }

    /// Spawn on the next scheduler in round-robin order.
    pub fn spawn(&self, p: impl Process) -> Result<Pid, HandleError> {
        self.spawn_on(Placement::RoundRobin, Box::new(p))
    }

    /// Spawn with an explicit placement (`Local` means round-robin here).
    pub fn spawn_on(&self, placement: Placement, p: Box<dyn Process>) -> Result<Pid, HandleError> {
        self.check_running()?;
        let d = self.shared.target(placement, None);
        let (slot, generation) = self.shared.scheds[d].reserve();
        let pid = Pid::from_parts(NodeId::LOCAL, d as u16, slot, generation);
        self.shared.process_started();
        let req = SpawnRequest {
            process: p,
            link: None,
            monitor: None,
        };
        self.shared.push(Envelope {
            to: pid,
            sig: Signal::Spawn(Box::new(req)),
        });
        Ok(pid)
    }

    /// Send `msg` to `pid`. Sending to a dead process is a no-op.
    pub fn send(&self, pid: Pid, msg: impl Into<Term>) -> Result<(), HandleError> {
        self.check_running()?;
        if !self.shared.push(Envelope {
            to: pid,
            sig: Signal::Message(msg.into()),
        }) {
            return Err(HandleError::NotLocal { pid });
        }
        Ok(())
    }

    /// Send `pid` an exit signal with `reason`, as if from a process that
    /// is not linked to it (`normal` is ignored unless trapped).
    pub fn exit(&self, pid: Pid, reason: Term) -> Result<(), HandleError> {
        self.check_running()?;
        let from = Pid::from_parts(NodeId::LOCAL, u16::MAX, u32::MAX, 0);
        self.shared.push(Envelope {
            to: pid,
            sig: Signal::Exit {
                from,
                reason,
                kind: ExitKind::Explicit,
            },
        });
        Ok(())
    }

    /// Kill `pid`: it exits with reason `killed`, trapping or not.
    pub fn kill(&self, pid: Pid) -> Result<(), HandleError> {
        self.check_running()?;
        let from = Pid::from_parts(NodeId::LOCAL, u16::MAX, u32::MAX, 0);
        self.shared.push(Envelope {
            to: pid,
            sig: Signal::Exit {
                from,
                reason: Term::Atom(Atom::KILL),
                kind: ExitKind::Kill,
            },
        });
        Ok(())
    }

    pub fn whereis(&self, name: &str) -> Option<Pid> {
        self.shared.registry.whereis(name)
    }

    /// Register `name` for `pid`. See the `registry` module for how the
    /// name is released when the process exits.
    pub fn register(&self, name: &str, pid: Pid) -> Result<(), RegisterError> {
        let name = self.shared.registry.register(name, pid)?;
        self.shared.push(Envelope {
            to: pid,
            sig: Signal::NameAdded { name },
        });
        Ok(())
    }

    pub fn unregister(&self, name: &str) -> Option<Pid> {
        self.shared.registry.unregister(name)
    }

    /// Every registered (name, pid), sorted by name.
    pub fn registered(&self) -> Vec<(std::sync::Arc<str>, Pid)> {
        self.shared.registry.entries()
    }

    /// A fresh unique reference.
    pub fn make_ref(&self) -> Ref {
        self.shared.external_ref()
    }

    /// Ask the owner of the runtime to stop: [`Runtime::wait`] returns
    /// `ShutdownRequested`.
    pub fn request_shutdown(&self) {
        self.shared
            .shutdown_requested
            .store(true, Ordering::Release);
        let _g = lock(&self.shared.idle_lock);
        self.shared.idle_cv.notify_all();
    }
}
