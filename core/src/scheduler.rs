//! One scheduler: a thread pinned to a core that owns its processes.
//!
//! A scheduler owns a process table, a run queue, a timer wheel, and one
//! outbound batch per other scheduler. Nothing on its hot path takes a lock:
//! a same-core send pushes straight into the receiver's mailbox, a run is a
//! call to `Process::resume`. Other threads reach it only through its
//! inbound queue (`SchedShared::inbound`).
//!
//! # The loop
//!
//! 1. Drain the inbound queue (one atomic swap for everything queued) and
//!    handle each envelope.
//! 2. Fire due timers (only if any are armed).
//! 3. Run the process at the front of the run queue for one budget.
//!    Afterwards, handle the local signals it produced (exits, links...),
//!    then flush each outbound batch as ONE node onto its destination's
//!    inbound queue, so cross-core traffic costs one atomic push per
//!    destination per run slice, not per message.
//! 4. With nothing runnable: idle (below).
//!
//! # Idle policy: spin, then park
//!
//! On these machines (2 vCPUs under KVM) waking a parked thread costs about
//! 65 µs for a cross-core round trip, and a spinning hand-off about 5 µs.
//! So an idle scheduler first spins for `Config::spin` (50 µs by default),
//! polling its inbound queue and timers; traffic that arrives within the
//! window (a ping-pong partner answering, the next batch of a stream) is
//! picked up at spinning latency. After the window it parks on the inbound
//! queue's condition variable until a push, a shutdown, or its next timer
//! deadline. An idle runtime therefore sleeps in the kernel and uses no
//! CPU; the price of the window is at most 50 µs of spinning per wake-up,
//! i.e. a node receiving one message per millisecond spends about 5 % of a
//! core spinning. `mesh-perf` measures both sides (see perf/RESULTS.md).
//!
//! # Ordering
//!
//! Signals between two processes arrive in the order sent (see `signal`).
//! On one scheduler, non-message signals go through `local_signals`, and a
//! message takes the direct path into the mailbox only when that queue is
//! empty, so a message never overtakes an earlier signal.

mod table;

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use crate::atom::Atom;
use crate::context::Cx;
use crate::pid::{NodeId, Pid, Ref};
use crate::process::{Step, reason};
use crate::runtime::{SPARE_TARGET, Shared};
use crate::signal::{Batch, Envelope, ExitKind, Signal, SpawnRequest};
use crate::sync::{Arc, Ordering, lock};
use crate::term::Term;
use crate::timer::TimerWheel;

pub(crate) use table::{HAS_NAME, Pcb, QUEUED, TIMED_OUT, TRAP_EXIT, Table, WAITING};

/// What a timer carries.
pub(crate) enum TimerEvent {
    /// The receive timeout of the process in (slot, generation).
    Receive { slot: u32, generation: u32 },
    /// `send_after`.
    Send { to: Pid, msg: Term },
}

pub(crate) struct Scheduler {
    pub(crate) id: u16,
    pub(crate) shared: Arc<Shared>,
    pub(crate) table: Table,
    run_queue: VecDeque<(u32, u32)>,
    pub(crate) timers: TimerWheel<TimerEvent>,
    outbound: Vec<Vec<Envelope>>,
    dirty: Vec<usize>,
    local_signals: VecDeque<Envelope>,
    drained: Vec<Batch>,
    fired: Vec<TimerEvent>,
    next_ref: u64,
    /// Frames for other nodes, sealed once per link at the end of a slice.
    #[cfg(not(loom))]
    pub(crate) remote: crate::node::RemoteBatch,
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

/// Drop a value whose destructor might panic (user code), containing it.
fn drop_contained<T>(value: T) {
    if catch_unwind(AssertUnwindSafe(move || drop(value))).is_err() {
        tracing::warn!("a process's state panicked while being dropped");
    }
}

impl Scheduler {
    pub(crate) fn new(id: u16, shared: Arc<Shared>) -> Scheduler {
        let n = shared.schedulers();
        Scheduler {
            id,
            table: Table::new(),
            run_queue: VecDeque::new(),
            timers: TimerWheel::new(Instant::now()),
            outbound: (0..n).map(|_| Vec::new()).collect(),
            dirty: Vec::new(),
            local_signals: VecDeque::new(),
            drained: Vec::new(),
            fired: Vec::new(),
            next_ref: 0,
            #[cfg(not(loom))]
            remote: crate::node::RemoteBatch::default(),
            shared,
        }
    }

    fn me(&self) -> &crate::runtime::SchedShared {
        &self.shared.scheds[self.id as usize]
    }

    pub(crate) fn pid_of(&self, slot: u32, generation: u32) -> Pid {
        Pid::from_parts(NodeId::LOCAL, self.id, slot, generation)
    }

    /// The live process `pid`, if it is on this scheduler.
    #[inline]
    pub(crate) fn pcb_mut(&mut self, pid: Pid) -> Option<&mut Pcb> {
        if pid.scheduler() != self.id || !pid.is_local() {
            return None;
        }
        self.table.get_mut(pid.slot(), pid.generation())
    }

    pub(crate) fn make_ref(&mut self) -> Ref {
        self.next_ref += 1;
        Ref::from_parts(NodeId::LOCAL, (self.next_ref << 16) | u64::from(self.id))
    }

    /// The scheduler loop. Returns after shutdown.
    pub(crate) fn run(mut self) {
        loop {
            self.drain_inbound();
            if !self.timers.is_empty() {
                self.fire_timers(Instant::now());
            }
            if let Some((slot, generation)) = self.run_queue.pop_front() {
                self.run_one(slot, generation);
                self.handle_local_signals();
                self.flush();
                // Shutdown must not wait for busy processes to go idle.
                if self.shared.shutdown.load(Ordering::Relaxed) {
                    break;
                }
                continue;
            }
            self.flush();
            if self.shared.shutdown.load(Ordering::Acquire) {
                break;
            }
            if self.me().spare_low.load(Ordering::Relaxed) {
                self.refill_spare();
            }
            self.idle();
        }
        self.terminate_all();
    }

    fn drain_inbound(&mut self) {
        let shared = Arc::clone(&self.shared);
        if shared.scheds[self.id as usize]
            .inbound
            .drain(&mut self.drained)
            == 0
        {
            return;
        }
        let mut drained = std::mem::take(&mut self.drained);
        for batch in drained.drain(..) {
            match batch {
                Batch::One(env) => self.handle(env),
                Batch::Many(envs) => {
                    for env in envs {
                        self.handle(env);
                    }
                }
            }
        }
        self.drained = drained;
        self.handle_local_signals();
    }

    fn fire_timers(&mut self, now: Instant) {
        self.timers.poll(now, &mut self.fired);
        if self.fired.is_empty() {
            return;
        }
        let mut fired = std::mem::take(&mut self.fired);
        for ev in fired.drain(..) {
            match ev {
                TimerEvent::Receive { slot, generation } => {
                    if let Some(pcb) = self.table.get_mut(slot, generation)
                        && pcb.recv_timer.take().is_some()
                    {
                        pcb.flags |= TIMED_OUT;
                        self.wake(slot, generation);
                    }
                }
                TimerEvent::Send { to, msg } => self.signal(to, Signal::Message(msg)),
            }
        }
        self.fired = fired;
        self.handle_local_signals();
    }

    fn idle(&mut self) {
        let shared = Arc::clone(&self.shared);
        let me = &shared.scheds[self.id as usize];
        let spin_until = Instant::now() + shared.config.spin;
        let mut i: u32 = 0;
        loop {
            if !me.inbound.is_empty() || shared.shutdown.load(Ordering::Relaxed) {
                return;
            }
            i = i.wrapping_add(1);
            if i.is_multiple_of(64) {
                // Let threads that share this CPU run (a node's transport
                // threads, another runtime's scheduler): spinning must not
                // delay the very work it waits for. With nothing else
                // runnable this returns at once. Measured: remote RTT
                // 150 -> 35 us, local cross-core ping-pong unchanged.
                std::thread::yield_now();
                let now = Instant::now();
                if self.timers.next_deadline().is_some_and(|d| d <= now) {
                    return;
                }
                if now >= spin_until {
                    break;
                }
            }
            std::hint::spin_loop();
        }
        let deadline = self.timers.next_deadline();
        me.inbound
            .park(deadline, || shared.shutdown.load(Ordering::SeqCst));
    }

    fn refill_spare(&mut self) {
        let shared = Arc::clone(&self.shared);
        let me = &shared.scheds[self.id as usize];
        me.spare_low.store(false, Ordering::Relaxed);
        let mut spare = lock(&me.spare);
        let want = SPARE_TARGET.saturating_sub(spare.len());
        self.table.reserve_spare(want, &mut spare);
    }

    #[inline]
    fn enqueue(&mut self, slot: u32, generation: u32) {
        if let Some(pcb) = self.table.get_mut(slot, generation)
            && !pcb.has_flag(QUEUED)
        {
            pcb.flags |= QUEUED;
            self.run_queue.push_back((slot, generation));
        }
    }

    /// Make a waiting process runnable.
    #[inline]
    fn wake(&mut self, slot: u32, generation: u32) {
        if let Some(pcb) = self.table.get_mut(slot, generation)
            && pcb.has_flag(WAITING)
        {
            pcb.flags &= !WAITING;
            self.enqueue(slot, generation);
        }
    }

    fn run_one(&mut self, slot: u32, generation: u32) {
        let Some(pcb) = self.table.get_mut(slot, generation) else {
            return;
        };
        pcb.flags &= !QUEUED;
        let Some(mut behaviour) = pcb.behaviour.take() else {
            return;
        };
        let pid = self.pid_of(slot, generation);
        let budget = self.shared.config.budget;
        let result = {
            let mut cx = Cx::new(self, slot, generation, pid, budget);
            catch_unwind(AssertUnwindSafe(|| behaviour.resume(&mut cx)))
        };
        match result {
            Ok(Step::Exit(reason)) => {
                drop_contained(behaviour);
                self.exit_process(pid, reason);
            }
            Ok(step) => {
                let Some(pcb) = self.table.get_mut(slot, generation) else {
                    // A process cannot be removed while it runs; nothing to
                    // put back if that invariant were ever broken.
                    drop_contained(behaviour);
                    return;
                };
                pcb.behaviour = Some(behaviour);
                let rerun = match step {
                    Step::Yield => true,
                    _ => pcb.mailbox.has_unscanned() || pcb.has_flag(TIMED_OUT),
                };
                if rerun {
                    self.enqueue(slot, generation);
                } else {
                    pcb.flags |= WAITING;
                }
            }
            Err(payload) => {
                let msg = panic_message(&*payload);
                drop_contained(payload);
                drop_contained(behaviour);
                tracing::warn!(%pid, panic = %msg, "process panicked");
                self.exit_process(pid, reason::panic(&msg));
            }
        }
    }

    /// Terminate the local process `pid` with `reason`: release its slot,
    /// then tell its links, watchers and monitored processes.
    pub(crate) fn exit_process(&mut self, pid: Pid, reason: Term) {
        let Some(pcb) = self.table.release(pid.slot(), pid.generation()) else {
            return;
        };
        if let Some(k) = pcb.recv_timer {
            self.timers.cancel(k);
        }
        self.shared
            .registry
            .process_exited(pid, pcb.has_flag(HAS_NAME));
        #[cfg(not(loom))]
        if let Some(d) = self.shared.dist.get() {
            d.local_exit(pid);
        }
        let Pcb {
            mailbox,
            behaviour,
            extra,
            ..
        } = pcb;
        if let Some(rel) = extra {
            for l in rel.links {
                self.signal(
                    l,
                    Signal::Exit {
                        from: pid,
                        reason: reason.clone(),
                        kind: ExitKind::Link,
                    },
                );
            }
            for (mref, w) in rel.watchers {
                self.signal(
                    w,
                    Signal::Down {
                        mref,
                        from: pid,
                        reason: reason.clone(),
                    },
                );
            }
            for (mref, t) in rel.monitors {
                self.signal(t, Signal::Demonitor { from: pid, mref });
            }
        }
        drop_contained(mailbox);
        if let Some(b) = behaviour {
            drop_contained(b);
        }
        self.shared.process_exited();
    }

    /// Send a message: the hot path of `Cx::send`. A same-core message with
    /// no other signal pending goes straight into the mailbox without being
    /// wrapped in a `Signal` (moving a `Term` through fewer layers measurably
    /// helps same-core throughput).
    #[inline]
    pub(crate) fn send_message(&mut self, to: Pid, msg: Term) {
        if to.is_local() && to.scheduler() == self.id && self.local_signals.is_empty() {
            self.deliver(to, msg);
        } else {
            self.signal(to, Signal::Message(msg));
        }
    }

    /// Route a signal. Same-core signals go through `local_signals` (or
    /// straight into the mailbox for a message when nothing is pending);
    /// other cores' go into this run slice's outbound batch.
    pub(crate) fn signal(&mut self, to: Pid, sig: Signal) {
        if !to.is_local() {
            self.route_remote(to, sig);
            return;
        }
        let d = to.scheduler() as usize;
        if d == self.id as usize {
            match sig {
                Signal::Message(m) if self.local_signals.is_empty() => self.deliver(to, m),
                sig => self.local_signals.push_back(Envelope { to, sig }),
            }
        } else if let Some(out) = self.outbound.get_mut(d) {
            if out.is_empty() {
                self.dirty.push(d);
            }
            out.push(Envelope { to, sig });
        } else {
            // A scheduler index this runtime does not have: no such
            // process, so links and monitors fire at once with `noproc`.
            self.no_such_process(to, sig);
        }
    }

    /// A link or monitor aimed at a pid that cannot name a process here
    /// (an unknown scheduler index) fails as for a dead process.
    #[cold]
    fn no_such_process(&mut self, to: Pid, sig: Signal) {
        self.fail_at_once(to, sig, reason::noproc());
    }

    /// A link or monitor on `to` that can never be set up fires at once
    /// with `reason` (`noproc`, `noconnection`); other signals are dropped.
    fn fail_at_once(&mut self, to: Pid, sig: Signal, reason: Term) {
        match sig {
            Signal::Link { from } => self.signal(
                from,
                Signal::Exit {
                    from: to,
                    reason,
                    kind: ExitKind::Link,
                },
            ),
            Signal::Monitor { from, mref } => self.signal(
                from,
                Signal::Down {
                    mref,
                    from: to,
                    reason,
                },
            ),
            _ => {}
        }
    }

    /// Signals to processes on nodes this runtime is not connected to.
    /// Without a connection, messages are dropped (as Erlang does) and
    /// links and monitors fire at once with `noconnection`.
    fn route_remote(&mut self, to: Pid, sig: Signal) {
        #[cfg(not(loom))]
        let sig = match self.shared.dist.get() {
            Some(d) => match d.route(to, sig, &mut self.remote) {
                Ok(()) => return,
                Err(sig) => sig,
            },
            None => sig,
        };
        self.fail_at_once(to, sig, reason::noconnection());
    }

    #[inline]
    fn deliver(&mut self, to: Pid, msg: Term) {
        if let Some(pcb) = self.table.get_mut(to.slot(), to.generation()) {
            pcb.mailbox.push(msg);
            if pcb.has_flag(WAITING) {
                pcb.flags &= !WAITING;
                self.enqueue(to.slot(), to.generation());
            }
        }
    }

    fn handle_local_signals(&mut self) {
        while let Some(env) = self.local_signals.pop_front() {
            self.handle(env);
        }
    }

    fn flush(&mut self) {
        #[cfg(not(loom))]
        if !self.remote.is_empty()
            && let Some(d) = self.shared.dist.get()
        {
            d.flush(&mut self.remote);
        }
        if self.dirty.is_empty() {
            return;
        }
        let shared = Arc::clone(&self.shared);
        for d in self.dirty.drain(..) {
            let batch = std::mem::take(&mut self.outbound[d]);
            shared.scheds[d].inbound.push(Batch::Many(batch));
        }
    }

    /// Apply one envelope addressed to a process of this scheduler.
    fn handle(&mut self, env: Envelope) {
        let Envelope { to, sig } = env;
        if to.scheduler() != self.id || !to.is_local() {
            return;
        }
        match sig {
            Signal::Message(m) => self.deliver(to, m),
            Signal::Exit { from, reason, kind } => self.exit_signal(to, from, reason, kind),
            Signal::Link { from } => match self.pcb_mut(to) {
                Some(pcb) => pcb.add_link(from),
                None => self.signal(
                    from,
                    Signal::Exit {
                        from: to,
                        reason: reason::noproc(),
                        kind: ExitKind::Link,
                    },
                ),
            },
            Signal::Unlink { from } => {
                if let Some(pcb) = self.pcb_mut(to) {
                    pcb.remove_link(from);
                }
            }
            Signal::Monitor { from, mref } => match self.pcb_mut(to) {
                Some(pcb) => pcb.relations().watchers.push((mref, from)),
                None => self.signal(
                    from,
                    Signal::Down {
                        mref,
                        from: to,
                        reason: reason::noproc(),
                    },
                ),
            },
            Signal::Demonitor { from, mref } => {
                if let Some(pcb) = self.pcb_mut(to)
                    && let Some(rel) = &mut pcb.extra
                {
                    rel.watchers.retain(|&(r, w)| !(r == mref && w == from));
                }
            }
            Signal::Down { mref, from, reason } => {
                let Some(pcb) = self.pcb_mut(to) else { return };
                let Some(rel) = &mut pcb.extra else { return };
                let Some(i) = rel.monitors.iter().position(|&(r, _)| r == mref) else {
                    return; // demonitored meanwhile
                };
                rel.monitors.swap_remove(i);
                self.deliver(to, reason::down_message(mref, from, reason));
            }
            Signal::Spawn(req) => self.start_spawned(to, *req),
            Signal::NameAdded { name } => {
                let shared = Arc::clone(&self.shared);
                match self.pcb_mut(to) {
                    Some(pcb) => {
                        let mut mark = pcb.has_flag(HAS_NAME);
                        shared.registry.name_added(&name, to, Some(&mut mark));
                        if mark {
                            pcb.flags |= HAS_NAME;
                        }
                    }
                    None => shared.registry.name_added(&name, to, None),
                }
            }
        }
    }

    /// Erlang's exit-signal rules (see the semantics table in the tests).
    fn exit_signal(&mut self, to: Pid, from: Pid, reason: Term, kind: ExitKind) {
        let Some(pcb) = self.pcb_mut(to) else { return };
        let trapping = pcb.has_flag(TRAP_EXIT);
        match kind {
            ExitKind::Kill => self.exit_process(to, reason::killed()),
            ExitKind::Link => {
                if !pcb.remove_link(from) {
                    return; // unlinked while the signal was in flight
                }
                if trapping {
                    self.deliver(to, reason::exit_message(from, reason));
                } else if !reason.is_atom(Atom::NORMAL) {
                    self.exit_process(to, reason);
                }
            }
            ExitKind::Explicit => {
                if reason.is_atom(Atom::KILL) {
                    self.exit_process(to, reason::killed());
                } else if trapping {
                    self.deliver(to, reason::exit_message(from, reason));
                } else if !reason.is_atom(Atom::NORMAL) || from == to {
                    self.exit_process(to, reason);
                }
            }
        }
    }

    fn start_spawned(&mut self, pid: Pid, req: SpawnRequest) {
        let SpawnRequest {
            process,
            link,
            monitor,
        } = req;
        let mut pcb = Pcb::new(process);
        if let Some(l) = link {
            pcb.add_link(l);
        }
        if let Some(m) = monitor {
            pcb.relations().watchers.push((m.1, m.0));
        }
        match self.table.fill(pid.slot(), pid.generation(), pcb) {
            Ok(()) => self.enqueue(pid.slot(), pid.generation()),
            Err(pcb) => {
                tracing::error!(%pid, "spawn into a slot that was not reserved; dropped");
                drop_contained(pcb.behaviour);
                self.shared.process_exited();
            }
        }
    }

    /// Spawn on this scheduler, now. Called by `Cx`.
    pub(crate) fn spawn_here(&mut self, pcb: Pcb) -> Pid {
        self.shared.process_started();
        let shared = Arc::clone(&self.shared);
        let fresh = || {
            shared.scheds[self.id as usize]
                .fresh
                .fetch_add(1, Ordering::Relaxed)
        };
        let (slot, generation) = self.table.alloc(fresh, pcb);
        self.enqueue(slot, generation);
        self.pid_of(slot, generation)
    }

    /// Spawn on scheduler `d` (another core): reserve a slot there, queue
    /// the request in this slice's outbound batch. Called by `Cx`.
    pub(crate) fn spawn_remote_core(&mut self, d: usize, req: SpawnRequest) -> Pid {
        self.shared.process_started();
        let (slot, generation) = self.shared.scheds[d].reserve();
        let pid = Pid::from_parts(NodeId::LOCAL, d as u16, slot, generation);
        self.signal(pid, Signal::Spawn(Box::new(req)));
        pid
    }

    /// Shutdown: end every process without exit signals, drop what is queued.
    fn terminate_all(&mut self) {
        for (slot, generation) in self.table.live_slots() {
            if let Some(pcb) = self.table.release(slot, generation) {
                drop_contained(pcb);
                self.shared.process_exited();
            }
        }
        self.run_queue.clear();
        self.local_signals.clear();
        for out in &mut self.outbound {
            for env in out.drain(..) {
                if let Signal::Spawn(_) = env.sig {
                    self.shared.process_exited();
                }
            }
        }
        let shared = Arc::clone(&self.shared);
        let mut drained = Vec::new();
        shared.scheds[self.id as usize].inbound.drain(&mut drained);
        for batch in drained {
            let envs = match batch {
                Batch::One(e) => vec![e],
                Batch::Many(v) => v,
            };
            for env in envs {
                if let Signal::Spawn(req) = env.sig {
                    drop_contained(req);
                    self.shared.process_exited();
                }
            }
        }
        let spare = std::mem::take(&mut *lock(&shared.scheds[self.id as usize].spare));
        for (slot, generation) in spare {
            self.table.unreserve(slot, generation);
        }
    }
}
