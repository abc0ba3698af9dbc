//! What a process is: a resumable state machine.
//!
//! A process is not a thread and has no stack of its own. The scheduler
//! calls [`Process::resume`] with a [`Cx`] that carries a reduction budget;
//! the process does some work and returns a [`Step`]: `Yield` (budget spent,
//! run me again later), `Wait` (nothing to do until a message or a timeout
//! arrives) or `Exit(reason)`. That is all a scheduler needs to run
//! millions of processes fairly on one core, and it is the shape the VM in
//! `mesh-lang` implements for Mesh code.
//!
//! Most Rust users want the simpler [`Actor`]: a handler called once per
//! message. [`actor_fn`] turns a closure into one. [`process_fn`] turns a
//! closure into a raw `Process`, for state machines that do selective
//! receive with [`Cx::receive`].

use std::time::Duration;

use crate::atom::Atom;
use crate::context::{Cx, Received};
use crate::term::Term;

/// What a process tells the scheduler when it gives the core back.
#[derive(Debug)]
pub enum Step {
    /// The budget ran out (or the process chose to be polite): run it again
    /// after the other runnable processes.
    Yield,
    /// Sleep until a new message arrives or the armed receive timeout
    /// fires. Returning `Wait` after a [`Received::Pending`] is the only way
    /// to block.
    Wait,
    /// Terminate with `reason` (`normal` for a clean exit).
    Exit(Term),
}

/// A process: a resumable state machine run by a scheduler.
pub trait Process: Send + 'static {
    /// Run until the budget in `cx` is spent, there is nothing to do, or the
    /// process is done. Called for the first time right after spawn.
    fn resume(&mut self, cx: &mut Cx<'_>) -> Step;
}

impl<P: Process + ?Sized> Process for Box<P> {
    fn resume(&mut self, cx: &mut Cx<'_>) -> Step {
        (**self).resume(cx)
    }
}

/// What an [`Actor`] handler says after a message.
#[derive(Debug)]
pub enum Flow {
    /// Keep serving.
    Continue,
    /// Exit with this reason.
    Stop(Term),
}

impl Flow {
    /// Exit with reason `normal`.
    pub fn stop_normal() -> Flow {
        Flow::Stop(reason::normal())
    }
}

/// A message-at-a-time actor.
pub trait Actor: Send + 'static {
    /// Called once, before the first message.
    fn started(&mut self, _cx: &mut Cx<'_>) -> Flow {
        Flow::Continue
    }

    /// Called once per message, in arrival order.
    fn handle(&mut self, cx: &mut Cx<'_>, msg: Term) -> Flow;
}

/// Runs an [`Actor`] as a [`Process`]: one reduction per message.
#[derive(Debug)]
pub struct ActorProcess<A> {
    actor: A,
    started: bool,
}

impl<A: Actor> ActorProcess<A> {
    pub fn new(actor: A) -> ActorProcess<A> {
        ActorProcess {
            actor,
            started: false,
        }
    }
}

impl<A: Actor> Process for ActorProcess<A> {
    fn resume(&mut self, cx: &mut Cx<'_>) -> Step {
        if !self.started {
            self.started = true;
            if let Flow::Stop(r) = self.actor.started(cx) {
                return Step::Exit(r);
            }
        }
        loop {
            match cx.receive_any() {
                Some(msg) => {
                    if let Flow::Stop(r) = self.actor.handle(cx, msg) {
                        return Step::Exit(r);
                    }
                    if !cx.consume(1) {
                        return Step::Yield;
                    }
                }
                None => return Step::Wait,
            }
        }
    }
}

/// An [`Actor`] made from a closure.
pub struct FnActor<F>(F);

impl<F> std::fmt::Debug for FnActor<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FnActor")
    }
}

impl<F> Actor for FnActor<F>
where
    F: FnMut(&mut Cx<'_>, Term) -> Flow + Send + 'static,
{
    fn handle(&mut self, cx: &mut Cx<'_>, msg: Term) -> Flow {
        (self.0)(cx, msg)
    }
}

/// A process that calls `f` for every message it receives.
pub fn actor_fn<F>(f: F) -> ActorProcess<FnActor<F>>
where
    F: FnMut(&mut Cx<'_>, Term) -> Flow + Send + 'static,
{
    ActorProcess::new(FnActor(f))
}

/// A [`Process`] made from a closure that is resumed directly.
pub struct FnProcess<F>(F);

impl<F> std::fmt::Debug for FnProcess<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FnProcess")
    }
}

impl<F> Process for FnProcess<F>
where
    F: FnMut(&mut Cx<'_>) -> Step + Send + 'static,
{
    fn resume(&mut self, cx: &mut Cx<'_>) -> Step {
        (self.0)(cx)
    }
}

/// A process whose `resume` is `f`.
pub fn process_fn<F>(f: F) -> FnProcess<F>
where
    F: FnMut(&mut Cx<'_>) -> Step + Send + 'static,
{
    FnProcess(f)
}

/// A process that waits for one message matching `pred` (or the timeout)
/// and hands the outcome to `then`, which decides how the process ends.
/// A building block for tests and small helpers.
pub fn receive_once<P, T>(pred: P, after: Option<Duration>, then: T) -> impl Process
where
    P: FnMut(&Term) -> bool + Send + 'static,
    T: FnOnce(&mut Cx<'_>, Option<Term>) -> Term + Send + 'static,
{
    let mut pred = pred;
    let mut then = Some(then);
    process_fn(move |cx| match cx.receive(&mut pred, after) {
        Received::Msg(m) => match then.take() {
            Some(f) => Step::Exit(f(cx, Some(m))),
            None => Step::Exit(reason::normal()),
        },
        Received::Timeout => match then.take() {
            Some(f) => Step::Exit(f(cx, None)),
            None => Step::Exit(reason::normal()),
        },
        Received::Pending => Step::Wait,
    })
}

/// Where a new process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Placement {
    /// On the spawning process's core (from outside the runtime: round-robin).
    #[default]
    Local,
    /// On this scheduler (modulo the number of schedulers).
    Core(usize),
    /// On the next scheduler in round-robin order.
    RoundRobin,
}

/// Options for [`Cx::spawn_with`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SpawnOpts {
    pub placement: Placement,
    /// Link the new process to the spawner, atomically with the spawn.
    pub link: bool,
    /// Monitor the new process from the spawner; the ref is returned.
    pub monitor: bool,
}

/// Well-known exit reasons and the messages the runtime delivers.
pub mod reason {
    use super::*;
    use crate::pid::{Pid, Ref};

    pub fn normal() -> Term {
        Term::Atom(Atom::NORMAL)
    }
    pub fn kill() -> Term {
        Term::Atom(Atom::KILL)
    }
    pub fn killed() -> Term {
        Term::Atom(Atom::KILLED)
    }
    pub fn noproc() -> Term {
        Term::Atom(Atom::NOPROC)
    }
    pub fn noconnection() -> Term {
        Term::Atom(Atom::NOCONNECTION)
    }
    pub fn shutdown() -> Term {
        Term::Atom(Atom::SHUTDOWN)
    }

    /// `(:panic, "message")`: the reason of a process whose code panicked.
    pub fn panic(message: &str) -> Term {
        Term::tuple(vec![Term::Atom(Atom::PANIC), Term::str(message)])
    }

    /// `(:EXIT, from, reason)`: an exit signal delivered to a process that
    /// traps exits.
    pub fn exit_message(from: Pid, reason: Term) -> Term {
        Term::tuple(vec![Term::Atom(Atom::EXIT), Term::Pid(from), reason])
    }

    /// `(:DOWN, ref, :process, pid, reason)`: a monitor firing.
    pub fn down_message(mref: Ref, pid: Pid, reason: Term) -> Term {
        Term::tuple(vec![
            Term::Atom(Atom::DOWN),
            Term::Ref(mref),
            Term::Atom(Atom::PROCESS),
            Term::Pid(pid),
            reason,
        ])
    }

    /// Parse `(:EXIT, from, reason)`.
    pub fn as_exit_message(t: &Term) -> Option<(Pid, &Term)> {
        match t.as_tuple()? {
            [tag, Term::Pid(from), reason] if tag.is_atom(Atom::EXIT) => Some((*from, reason)),
            _ => None,
        }
    }

    /// Parse `(:DOWN, ref, :process, pid, reason)`.
    pub fn as_down_message(t: &Term) -> Option<(Ref, Pid, &Term)> {
        match t.as_tuple()? {
            [tag, Term::Ref(r), kind, Term::Pid(p), reason]
                if tag.is_atom(Atom::DOWN) && kind.is_atom(Atom::PROCESS) =>
            {
                Some((*r, *p, reason))
            }
            _ => None,
        }
    }
}
