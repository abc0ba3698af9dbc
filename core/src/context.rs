//! `Cx`: what a running process can do.
//!
//! A `Cx` is handed to [`Process::resume`](crate::Process::resume) and
//! borrows the scheduler for the duration of the run. Everything a process
//! does to the world goes through it: send, receive, spawn, link, monitor,
//! trap exits, exit signals, timers, the local registry, budget accounting.
//! None of these block; `receive` reports `Pending` and the process returns
//! `Step::Wait`.

use std::time::{Duration, Instant};

use crate::atom::Atom;
use crate::pid::{Pid, Ref};
use crate::process::{Placement, Process, SpawnOpts, reason};
use crate::registry::RegisterError;
use crate::runtime::RuntimeHandle;
use crate::scheduler::{HAS_NAME, Pcb, Scheduler, TIMED_OUT, TRAP_EXIT, TimerEvent};
use crate::signal::{ExitKind, Signal, SpawnRequest};
use crate::sync::Arc;
use crate::term::Term;
use crate::timer::TimerKey;

/// The outcome of [`Cx::receive`].
#[derive(Debug, PartialEq)]
pub enum Received {
    /// The first message (in arrival order) that the pattern accepted.
    Msg(Term),
    /// Nothing matches yet: return `Step::Wait`; the process is resumed
    /// when a message arrives or the timeout fires, and should call
    /// `receive` again with the same pattern.
    Pending,
    /// The `after` timeout passed with no matching message.
    Timeout,
}

/// A timer started with [`Cx::send_after`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerRef {
    sched: u16,
    key: TimerKey,
}

/// The context of a running process.
pub struct Cx<'a> {
    sched: &'a mut Scheduler,
    slot: u32,
    generation: u32,
    pid: Pid,
    budget: u32,
}

impl std::fmt::Debug for Cx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cx")
            .field("pid", &self.pid)
            .field("budget", &self.budget)
            .finish()
    }
}

impl<'a> Cx<'a> {
    pub(crate) fn new(
        sched: &'a mut Scheduler,
        slot: u32,
        generation: u32,
        pid: Pid,
        budget: u32,
    ) -> Cx<'a> {
        Cx {
            sched,
            slot,
            generation,
            pid,
            budget,
        }
    }

    #[inline]
    fn pcb(&mut self) -> &mut Pcb {
        match self.sched.table.get_mut(self.slot, self.generation) {
            Some(p) => p,
            // The scheduler never removes the process it is running: exits
            // of the running process are queued until `resume` returns.
            None => unreachable!("running process {} has no control block", self.pid),
        }
    }

    /// This process's pid (`self()`).
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// The index of the scheduler (core) running this process.
    pub fn scheduler_id(&self) -> usize {
        self.sched.id as usize
    }

    /// Number of schedulers in this runtime.
    pub fn schedulers(&self) -> usize {
        self.sched.shared.schedulers()
    }

    /// This scheduler's frames for other nodes (sealed at the end of the
    /// run slice).
    #[cfg(not(loom))]
    pub(crate) fn remote_batch(&mut self) -> &mut crate::node::RemoteBatch {
        &mut self.sched.remote
    }

    /// A handle to the runtime, usable from other threads.
    pub fn handle(&self) -> RuntimeHandle {
        RuntimeHandle {
            shared: Arc::clone(&self.sched.shared),
        }
    }

    /// Reductions left in this run slice.
    pub fn budget(&self) -> u32 {
        self.budget
    }

    /// Spend `n` reductions. Returns false when the budget is exhausted:
    /// the process should return `Step::Yield` soon.
    #[inline]
    pub fn consume(&mut self, n: u32) -> bool {
        self.budget = self.budget.saturating_sub(n);
        self.budget > 0
    }

    /// Send `msg` to `to`. Never blocks; a dead or unknown pid makes it a
    /// silent no-op, as in Erlang.
    #[inline]
    pub fn send(&mut self, to: Pid, msg: impl Into<Term>) {
        self.sched.send_message(to, msg.into());
    }

    /// [`Cx::send`], except that a message for another node's process
    /// that cannot cross (it holds a closure or another opaque value, or
    /// nests too deep) is refused with the reason instead of being dropped
    /// on the way. Nothing is sent then. To a local pid it never fails.
    pub fn try_send(
        &mut self,
        to: Pid,
        msg: impl Into<Term>,
    ) -> Result<(), crate::dist::term_codec::EncodeError> {
        let msg = msg.into();
        if !to.is_local() {
            crate::dist::term_codec::check_sendable(&msg)?;
        }
        self.sched.send_message(to, msg);
        Ok(())
    }

    /// Selective receive: take the first message `pred` accepts.
    ///
    /// `after` is the timeout, measured from the first call that found
    /// nothing (the deadline is fixed then; later calls of the same receive
    /// do not extend it). `Some(Duration::ZERO)` polls. Messages the pattern
    /// rejects stay in the mailbox in order; a repeated call only tests
    /// messages that arrived since the last one.
    pub fn receive(
        &mut self,
        pred: impl FnMut(&Term) -> bool,
        after: Option<Duration>,
    ) -> Received {
        let pcb = self.pcb();
        if let Some(m) = pcb.mailbox.take_matching(pred) {
            pcb.flags &= !TIMED_OUT;
            if let Some(k) = pcb.recv_timer.take() {
                self.sched.timers.cancel(k);
            }
            return Received::Msg(m);
        }
        if pcb.has_flag(TIMED_OUT) {
            pcb.flags &= !TIMED_OUT;
            pcb.mailbox.end_receive();
            return Received::Timeout;
        }
        match after {
            None => Received::Pending,
            Some(d) if d.is_zero() => {
                pcb.mailbox.end_receive();
                Received::Timeout
            }
            Some(d) => {
                if pcb.recv_timer.is_none() {
                    let ev = TimerEvent::Receive {
                        slot: self.slot,
                        generation: self.generation,
                    };
                    let key = self.sched.timers.insert(Instant::now() + d, ev);
                    self.pcb().recv_timer = Some(key);
                }
                Received::Pending
            }
        }
    }

    /// Take the oldest message, if any (no timeout).
    #[inline]
    pub fn receive_any(&mut self) -> Option<Term> {
        let pcb = self.pcb();
        let m = pcb.mailbox.take_oldest();
        if pcb.flags & TIMED_OUT != 0 || pcb.recv_timer.is_some() {
            self.abandon_timed_receive(m.is_none());
        }
        m
    }

    /// A timed receive was abandoned for an untimed one (or its timeout
    /// fired while we looked elsewhere): disarm it, or the scheduler would
    /// keep waking us for a timeout nobody waits for.
    #[cold]
    fn abandon_timed_receive(&mut self, nothing_taken: bool) {
        let pcb = self.pcb();
        pcb.flags &= !TIMED_OUT;
        if nothing_taken {
            pcb.mailbox.end_receive();
        }
        if let Some(k) = pcb.recv_timer.take() {
            self.sched.timers.cancel(k);
        }
    }

    /// Messages waiting in the mailbox.
    pub fn mailbox_len(&mut self) -> usize {
        self.pcb().mailbox.len()
    }

    /// Spawn on this core.
    pub fn spawn(&mut self, p: impl Process) -> Pid {
        self.spawn_with(Box::new(p), SpawnOpts::default()).0
    }

    /// Spawn on this core, linked to the caller.
    pub fn spawn_link(&mut self, p: impl Process) -> Pid {
        let opts = SpawnOpts {
            link: true,
            ..SpawnOpts::default()
        };
        self.spawn_with(Box::new(p), opts).0
    }

    /// Spawn on this core and monitor it.
    pub fn spawn_monitor(&mut self, p: impl Process) -> (Pid, Ref) {
        let opts = SpawnOpts {
            monitor: true,
            ..SpawnOpts::default()
        };
        let (pid, r) = self.spawn_with(Box::new(p), opts);
        match r {
            Some(r) => (pid, r),
            None => unreachable!("spawn_with returns a ref when asked to monitor"),
        }
    }

    /// Spawn with options: placement, link and/or monitor, each atomic with
    /// the spawn (the new process cannot exit unobserved in between).
    pub fn spawn_with(&mut self, p: Box<dyn Process>, opts: SpawnOpts) -> (Pid, Option<Ref>) {
        let me = self.pid;
        let mref = opts.monitor.then(|| self.sched.make_ref());
        let here = self.sched.id as usize;
        let target = self.sched.shared.target(opts.placement, Some(here));
        let pid = if target == here {
            let mut pcb = Pcb::new(p);
            if opts.link {
                pcb.add_link(me);
            }
            if let Some(r) = mref {
                pcb.relations().watchers.push((r, me));
            }
            self.sched.spawn_here(pcb)
        } else {
            let req = SpawnRequest {
                process: p,
                link: opts.link.then_some(me),
                monitor: mref.map(|r| (me, r)),
            };
            self.sched.spawn_remote_core(target, req)
        };
        if opts.link {
            self.pcb().add_link(pid);
        }
        if let Some(r) = mref {
            self.pcb().relations().monitors.push((r, pid));
        }
        (pid, mref)
    }

    /// Spawn on the given core.
    pub fn spawn_on(&mut self, core: usize, p: impl Process) -> Pid {
        let opts = SpawnOpts {
            placement: Placement::Core(core),
            ..SpawnOpts::default()
        };
        self.spawn_with(Box::new(p), opts).0
    }

    /// Link to `pid` (bidirectional). Linking to a dead process delivers an
    /// exit signal with reason `noproc` to the caller.
    pub fn link(&mut self, pid: Pid) {
        if pid == self.pid {
            return;
        }
        self.pcb().add_link(pid);
        let me = self.pid;
        self.sched.signal(pid, Signal::Link { from: me });
    }

    /// Remove a link. An exit signal already in flight over it is ignored.
    pub fn unlink(&mut self, pid: Pid) {
        if self.pcb().remove_link(pid) {
            let me = self.pid;
            self.sched.signal(pid, Signal::Unlink { from: me });
        }
    }

    /// Monitor `pid`: one `(:DOWN, ref, :process, pid, reason)` message when
    /// it exits, with reason `noproc` if it is already dead.
    pub fn monitor(&mut self, pid: Pid) -> Ref {
        let mref = self.sched.make_ref();
        self.pcb().relations().monitors.push((mref, pid));
        let me = self.pid;
        self.sched.signal(pid, Signal::Monitor { from: me, mref });
        mref
    }

    /// Stop a monitor. Returns false if it was not active (already fired or
    /// unknown). A DOWN message for it that is already in the mailbox is
    /// removed too, so after `demonitor` none will ever be received.
    pub fn demonitor(&mut self, mref: Ref) -> bool {
        let pcb = self.pcb();
        let target = pcb.extra.as_mut().and_then(|rel| {
            let i = rel.monitors.iter().position(|&(r, _)| r == mref)?;
            Some(rel.monitors.swap_remove(i).1)
        });
        let Some(target) = target else {
            pcb.mailbox
                .remove_first(|m| reason::as_down_message(m).is_some_and(|(r, _, _)| r == mref));
            return false;
        };
        let me = self.pid;
        self.sched
            .signal(target, Signal::Demonitor { from: me, mref });
        true
    }

    /// Turn exit signals into `(:EXIT, from, reason)` messages (true) or
    /// back into exits (false). Returns the previous setting. `kill` is
    /// never trapped.
    pub fn trap_exit(&mut self, on: bool) -> bool {
        let pcb = self.pcb();
        let was = pcb.has_flag(TRAP_EXIT);
        if on {
            pcb.flags |= TRAP_EXIT;
        } else {
            pcb.flags &= !TRAP_EXIT;
        }
        was
    }

    /// Send `pid` an exit signal (Erlang's `exit/2`). `kill` cannot be
    /// trapped; `normal` is ignored by a non-trapping target unless it is
    /// the caller itself. Takes effect after the current run slice.
    pub fn exit(&mut self, pid: Pid, reason: Term) {
        let me = self.pid;
        self.sched.signal(
            pid,
            Signal::Exit {
                from: me,
                reason,
                kind: ExitKind::Explicit,
            },
        );
    }

    /// Kill `pid`: it exits with reason `killed`.
    pub fn kill(&mut self, pid: Pid) {
        let me = self.pid;
        self.sched.signal(
            pid,
            Signal::Exit {
                from: me,
                reason: Term::Atom(Atom::KILL),
                kind: ExitKind::Kill,
            },
        );
    }

    /// Deliver `msg` to `to` after `delay`. The timer lives on this core;
    /// cancel it from this process with [`Cx::cancel_timer`].
    pub fn send_after(&mut self, to: Pid, delay: Duration, msg: impl Into<Term>) -> TimerRef {
        let key = self.sched.timers.insert(
            Instant::now() + delay,
            TimerEvent::Send {
                to,
                msg: msg.into(),
            },
        );
        TimerRef {
            sched: self.sched.id,
            key,
        }
    }

    /// Cancel a `send_after` timer. True if it had not fired yet (so the
    /// message will never be delivered). A timer started on another core
    /// cannot be cancelled here and returns false.
    pub fn cancel_timer(&mut self, t: TimerRef) -> bool {
        t.sched == self.sched.id && self.sched.timers.cancel(t.key).is_some()
    }

    /// A fresh unique reference.
    pub fn make_ref(&mut self) -> Ref {
        self.sched.make_ref()
    }

    /// Register `name` for `pid` in the node-local registry.
    pub fn register(&mut self, name: &str, pid: Pid) -> Result<(), RegisterError> {
        if !pid.is_local() {
            return Err(RegisterError::NotLocal { pid });
        }
        let same_core = pid.scheduler() == self.sched.id;
        if same_core && self.sched.pcb_mut(pid).is_none() {
            return Err(RegisterError::NotAlive { pid });
        }
        let name = self.sched.shared.registry.register(name, pid)?;
        if same_core {
            if let Some(pcb) = self.sched.pcb_mut(pid) {
                pcb.flags |= HAS_NAME;
            }
        } else {
            self.sched.signal(pid, Signal::NameAdded { name });
        }
        Ok(())
    }

    /// Look up a local name.
    pub fn whereis(&self, name: &str) -> Option<Pid> {
        self.sched.shared.registry.whereis(name)
    }

    /// Remove a local name; returns the pid it named.
    pub fn unregister(&mut self, name: &str) -> Option<Pid> {
        self.sched.shared.registry.unregister(name)
    }
}
