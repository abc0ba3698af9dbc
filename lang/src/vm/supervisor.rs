//! Supervisors: a native process that starts, watches and restarts the
//! children of a `supervisor` block, with Erlang/OTP's semantics.
//!
//! `spawn(Sup)` starts a [`SupervisorProcess`] from the supervisor's
//! [`Spec`] (a value the compiler builds from the block). The process:
//!
//! 1. traps exits, then starts the children in declaration order: it runs
//!    each child's `start` function (Mesh code, in this process, so a
//!    `spawn` there places the child on this core) and links to the pid it
//!    returns. A start function that fails or returns no pid stops the
//!    children already started and ends the supervisor with
//!    `(:error, "...")`.
//! 2. waits for `(:EXIT, pid, reason)` messages. For a child, the restart
//!    kind decides: `permanent` always restarts, `transient` only after an
//!    abnormal exit (not `normal` or `shutdown`), `temporary` never (and
//!    the child is forgotten). A restart is first counted: when it would
//!    make more than `max_restarts` restarts within `max_seconds`, the
//!    supervisor stops every child and exits with `shutdown` instead.
//!    Otherwise the strategy picks what restarts: `one_for_one` the child;
//!    `one_for_all` stops the others (last started first) and restarts all
//!    in order; `rest_for_one` does that for the child and the ones
//!    started after it.
//! 3. an exit signal from its parent (the process that started it with
//!    `spawn_link`), whatever the reason, or from any other process with a
//!    reason other than `normal` (`Process.exit(sup, :shutdown)`) stops
//!    every child, last started first, and exits with that reason.
//!    `Process.exit(sup, :kill)` kills it outright; its links then take
//!    the children down.
//!
//! Stopping a child follows its `shutdown`: a number of milliseconds sends
//! it an exit signal `shutdown` and waits that long for its `EXIT` before
//! killing it; `brutal_kill` kills it at once. Either way the supervisor
//! waits for the `EXIT`, so a restarted child never overlaps its old self.
//!
//! Every step that can wait (a start function that receives, a stop) is a
//! state of the process, never a blocked thread; other messages stay in the
//! mailbox until the step is done.

use std::collections::VecDeque;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use mesh_core::{Atom, Cx, Opaque, Pid, Process, Received, Step, Term, reason};

use super::{Env, Fault, Outcome, VmProcess, to_string};

/// Restart strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strategy {
    OneForOne,
    OneForAll,
    RestForOne,
}

/// When a child is restarted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Restart {
    Permanent,
    Transient,
    Temporary,
}

/// How a child is stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shutdown {
    /// Exit signal `shutdown`, then kill after this many milliseconds.
    Millis(u64),
    BrutalKill,
}

/// One child of a supervisor.
#[derive(Debug)]
pub(crate) struct ChildSpec {
    pub(crate) name: String,
    /// A function value of no arguments returning the child's pid.
    pub(crate) start: Term,
    pub(crate) restart: Restart,
    pub(crate) shutdown: Shutdown,
}

/// A supervisor as declared.
#[derive(Debug)]
pub(crate) struct Spec {
    /// Runtime name (`Main.Sup`), for messages.
    pub(crate) name: String,
    pub(crate) strategy: Strategy,
    pub(crate) max_restarts: u32,
    pub(crate) max_seconds: u32,
    pub(crate) children: Vec<ChildSpec>,
}

/// The value `Sup` evaluates to; `spawn` recognises it.
#[derive(Debug)]
struct SpecValue(Arc<Spec>);

impl Opaque for SpecValue {
    fn kind(&self) -> &'static str {
        "supervisor"
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// The supervisor a value names, if it is one.
pub(crate) fn spec_of(t: &Term) -> Option<Arc<Spec>> {
    match t {
        Term::Opaque(o) => o
            .as_any()
            .downcast_ref::<SpecValue>()
            .map(|s| Arc::clone(&s.0)),
        _ => None,
    }
}

/// Names of the atoms in the description the compiler emits.
pub(crate) mod words {
    pub(crate) const ONE_FOR_ONE: &str = "one_for_one";
    pub(crate) const ONE_FOR_ALL: &str = "one_for_all";
    pub(crate) const REST_FOR_ONE: &str = "rest_for_one";
    pub(crate) const PERMANENT: &str = "permanent";
    pub(crate) const TRANSIENT: &str = "transient";
    pub(crate) const TEMPORARY: &str = "temporary";
    /// A `shutdown` of this many milliseconds means `brutal_kill`.
    pub(crate) const BRUTAL_KILL: i64 = -1;
}

/// Reads the description `(name, strategy, max_restarts, max_seconds,
/// [(child, start, restart, shutdown_ms_or_-1), ...])` into a supervisor
/// value.
pub(crate) fn spec_value(t: &Term) -> Result<Term, Fault> {
    let bad = || Fault::Builtin {
        message: format!("malformed supervisor description {}", to_string(t)),
    };
    let Some(
        [
            Term::Str(name),
            Term::Atom(strategy),
            Term::Int(mr),
            Term::Int(ms),
            children,
        ],
    ) = t.as_tuple()
    else {
        return Err(bad());
    };
    let strategy = match strategy.as_str() {
        words::ONE_FOR_ONE => Strategy::OneForOne,
        words::ONE_FOR_ALL => Strategy::OneForAll,
        words::REST_FOR_ONE => Strategy::RestForOne,
        _ => return Err(bad()),
    };
    let Term::List(children) = children else {
        return Err(bad());
    };
    let mut out = Vec::with_capacity(children.len());
    for c in children.iter() {
        let Some(
            [
                Term::Str(cname),
                start,
                Term::Atom(restart),
                Term::Int(shutdown),
            ],
        ) = c.as_tuple()
        else {
            return Err(bad());
        };
        let restart = match restart.as_str() {
            words::PERMANENT => Restart::Permanent,
            words::TRANSIENT => Restart::Transient,
            words::TEMPORARY => Restart::Temporary,
            _ => return Err(bad()),
        };
        let shutdown = match u64::try_from(*shutdown) {
            Ok(ms) => Shutdown::Millis(ms),
            Err(_) => Shutdown::BrutalKill,
        };
        out.push(ChildSpec {
            name: cname.to_string(),
            start: start.clone(),
            restart,
            shutdown,
        });
    }
    let spec = Spec {
        name: name.to_string(),
        strategy,
        max_restarts: u32::try_from(*mr).map_err(|_| bad())?,
        max_seconds: u32::try_from(*ms).map_err(|_| bad())?,
        children: out,
    };
    Ok(Term::opaque(SpecValue(Arc::new(spec))))
}

/// One step of the supervisor's work.
#[derive(Debug)]
enum Action {
    Start(usize),
    Stop(usize),
    Exit(Term),
}

/// The step in progress.
#[derive(Debug)]
enum Current {
    /// Running child `child`'s start function.
    Starting { child: usize, run: Box<VmProcess> },
    /// Waiting for the `EXIT` of child `child` (killed once the shutdown
    /// time has passed).
    Stopping {
        child: usize,
        pid: Pid,
        killed: bool,
    },
}

/// A running supervisor.
#[derive(Debug)]
pub struct SupervisorProcess {
    env: Arc<Env>,
    spec: Arc<Spec>,
    /// The process that started it linked (`spawn_link(Sup)`).
    parent: Option<Pid>,
    /// The running pid of each child.
    pids: Vec<Option<Pid>>,
    /// Temporary children that ended: never started again.
    gone: Vec<bool>,
    /// When each restart within the intensity window happened.
    restarts: VecDeque<Instant>,
    plan: VecDeque<Action>,
    current: Option<Current>,
    started: bool,
}

static SHUTDOWN: LazyLock<Term> = LazyLock::new(reason::shutdown);

impl SupervisorProcess {
    pub(crate) fn new(env: Arc<Env>, spec: Arc<Spec>, parent: Option<Pid>) -> SupervisorProcess {
        let n = spec.children.len();
        SupervisorProcess {
            env,
            spec,
            parent,
            pids: vec![None; n],
            gone: vec![false; n],
            restarts: VecDeque::new(),
            plan: VecDeque::new(),
            current: None,
            started: false,
        }
    }

    fn report(&self, what: &str) {
        self.env
            .write_err(&format!("error: supervisor {}: {what}\n", self.spec.name));
    }

    /// Drives the step in progress. `Some` is what `resume` must return.
    fn drive(&mut self, cx: &mut Cx<'_>, cur: Current) -> Option<Step> {
        match cur {
            Current::Starting { child, mut run } => match run.run_slice(cx) {
                Ok(Outcome::Yield) => {
                    self.current = Some(Current::Starting { child, run });
                    Some(Step::Yield)
                }
                Ok(Outcome::Wait) => {
                    self.current = Some(Current::Starting { child, run });
                    Some(Step::Wait)
                }
                Ok(Outcome::Done(Term::Pid(pid))) => {
                    cx.link(pid);
                    self.pids[child] = Some(pid);
                    None
                }
                Ok(Outcome::Done(other)) => {
                    self.start_failed(
                        child,
                        &format!("start returned {}, not a pid", to_string(&other)),
                    );
                    None
                }
                Err(e) => {
                    self.start_failed(child, &e.to_string());
                    None
                }
            },
            Current::Stopping { child, pid, killed } => {
                let after = match (killed, self.spec.children[child].shutdown) {
                    (false, Shutdown::Millis(ms)) => Some(Duration::from_millis(ms)),
                    _ => None,
                };
                let is_exit =
                    |m: &Term| reason::as_exit_message(m).is_some_and(|(from, _)| from == pid);
                match cx.receive(is_exit, after) {
                    Received::Msg(_) => {
                        self.pids[child] = None;
                        if self.spec.children[child].restart == Restart::Temporary {
                            self.gone[child] = true;
                        }
                        None
                    }
                    Received::Timeout => {
                        cx.kill(pid);
                        self.current = Some(Current::Stopping {
                            child,
                            pid,
                            killed: true,
                        });
                        None
                    }
                    Received::Pending => {
                        self.current = Some(Current::Stopping { child, pid, killed });
                        Some(Step::Wait)
                    }
                }
            }
        }
    }

    /// Begins one planned action. `Some` is what `resume` must return.
    fn begin(&mut self, cx: &mut Cx<'_>, a: Action) -> Option<Step> {
        match a {
            Action::Start(i) => {
                if self.gone[i] || self.pids[i].is_some() {
                    return None;
                }
                let start = &self.spec.children[i].start;
                match VmProcess::from_value(Arc::clone(&self.env), start, Vec::new()) {
                    Ok(run) => {
                        self.current = Some(Current::Starting {
                            child: i,
                            run: Box::new(run),
                        });
                    }
                    Err(f) => self.start_failed(i, &f.to_string()),
                }
                None
            }
            Action::Stop(i) => {
                let pid = self.pids[i]?;
                let killed = match self.spec.children[i].shutdown {
                    Shutdown::BrutalKill => {
                        cx.kill(pid);
                        true
                    }
                    Shutdown::Millis(_) => {
                        cx.exit(pid, SHUTDOWN.clone());
                        false
                    }
                };
                self.current = Some(Current::Stopping {
                    child: i,
                    pid,
                    killed,
                });
                None
            }
            Action::Exit(r) => Some(Step::Exit(r)),
        }
    }

    /// A child could not be started: stop the others and exit.
    fn start_failed(&mut self, child: usize, why: &str) {
        let msg = format!(
            "{}: child `{}` failed to start: {why}",
            self.spec.name, self.spec.children[child].name
        );
        self.report(&format!(
            "child `{}` failed to start: {why}",
            self.spec.children[child].name
        ));
        self.stop_all(Term::tuple(vec![Term::Atom(Atom::ERROR), Term::str(&msg)]));
    }

    /// Plans stopping every running child, last started first, then exiting.
    fn stop_all(&mut self, why: Term) {
        self.plan.clear();
        for j in (0..self.pids.len()).rev() {
            self.plan.push_back(Action::Stop(j));
        }
        self.plan.push_back(Action::Exit(why));
    }

    fn on_message(&mut self, msg: &Term) {
        let Some((from, why)) = reason::as_exit_message(msg) else {
            return; // not for a supervisor: dropped
        };
        match self.pids.iter().position(|p| *p == Some(from)) {
            Some(i) => self.child_exited(i, why),
            None if why.is_atom(Atom::NORMAL) && self.parent != Some(from) => {}
            None => self.stop_all(why.clone()),
        }
    }

    fn child_exited(&mut self, i: usize, why: &Term) {
        self.pids[i] = None;
        let child = &self.spec.children[i];
        let restart = match child.restart {
            Restart::Permanent => true,
            Restart::Transient => !is_clean_exit(why),
            Restart::Temporary => false,
        };
        if !restart {
            if child.restart == Restart::Temporary {
                self.gone[i] = true;
            }
            return;
        }
        let now = Instant::now();
        let window = Duration::from_secs(u64::from(self.spec.max_seconds));
        while self
            .restarts
            .front()
            .is_some_and(|t| now.duration_since(*t) > window)
        {
            self.restarts.pop_front();
        }
        if self.restarts.len() >= self.spec.max_restarts as usize {
            let what = format!(
                "child `{}` exited ({}) after {} restart(s) within {} s: reached max restart intensity, shutting down",
                child.name,
                to_string(why),
                self.restarts.len(),
                self.spec.max_seconds
            );
            self.report(&what);
            self.stop_all(SHUTDOWN.clone());
            return;
        }
        self.restarts.push_back(now);
        let n = self.pids.len();
        let group = match self.spec.strategy {
            Strategy::OneForOne => i..i + 1,
            Strategy::OneForAll => 0..n,
            Strategy::RestForOne => i..n,
        };
        for j in group.clone().rev() {
            if j != i {
                self.plan.push_back(Action::Stop(j));
            }
        }
        for j in group {
            self.plan.push_back(Action::Start(j));
        }
    }
}

/// `normal`, `shutdown` and `(:shutdown, _)`: exits a `transient` child
/// is not restarted after.
fn is_clean_exit(why: &Term) -> bool {
    why.is_atom(Atom::NORMAL)
        || why.is_atom(Atom::SHUTDOWN)
        || matches!(why.as_tuple(), Some([tag, _]) if tag.is_atom(Atom::SHUTDOWN))
}

impl Process for SupervisorProcess {
    fn resume(&mut self, cx: &mut Cx<'_>) -> Step {
        if !self.started {
            self.started = true;
            cx.trap_exit(true);
            self.plan.extend((0..self.pids.len()).map(Action::Start));
        }
        loop {
            if let Some(cur) = self.current.take() {
                if let Some(step) = self.drive(cx, cur) {
                    return step;
                }
                continue;
            }
            if let Some(a) = self.plan.pop_front() {
                if let Some(step) = self.begin(cx, a) {
                    return step;
                }
                continue;
            }
            match cx.receive_any() {
                Some(m) => self.on_message(&m),
                None => return Step::Wait,
            }
            if !cx.consume(1) {
                return Step::Yield;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn child(restart: &str, shutdown: i64) -> Term {
        Term::tuple(vec![
            Term::str("w"),
            Term::Unit,
            Term::Atom(Atom::new(restart)),
            Term::Int(shutdown),
        ])
    }

    fn desc(strategy: &str, children: Vec<Term>) -> Term {
        Term::tuple(vec![
            Term::str("Main.Sup"),
            Term::Atom(Atom::new(strategy)),
            Term::Int(3),
            Term::Int(5),
            Term::list(children),
        ])
    }

    #[test]
    fn a_description_reads_into_a_supervisor_value() {
        let v = spec_value(&desc(
            words::REST_FOR_ONE,
            vec![
                child(words::TRANSIENT, 250),
                child(words::TEMPORARY, words::BRUTAL_KILL),
            ],
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        let spec = spec_of(&v).unwrap_or_else(|| panic!("not a supervisor value"));
        assert_eq!(spec.name, "Main.Sup");
        assert_eq!(spec.strategy, Strategy::RestForOne);
        assert_eq!((spec.max_restarts, spec.max_seconds), (3, 5));
        assert_eq!(spec.children[0].restart, Restart::Transient);
        assert_eq!(spec.children[0].shutdown, Shutdown::Millis(250));
        assert_eq!(spec.children[1].restart, Restart::Temporary);
        assert_eq!(spec.children[1].shutdown, Shutdown::BrutalKill);
        assert!(spec_of(&Term::Int(1)).is_none());
    }

    #[test]
    fn a_malformed_description_is_an_error_not_a_panic() {
        for bad in [
            Term::Int(1),
            desc("all_at_once", vec![]),
            desc(words::ONE_FOR_ONE, vec![child("sometimes", 0)]),
            desc(words::ONE_FOR_ONE, vec![Term::Int(0)]),
        ] {
            assert!(matches!(spec_value(&bad), Err(Fault::Builtin { .. })));
        }
    }

    #[test]
    fn clean_exits_are_normal_and_shutdown() {
        assert!(is_clean_exit(&reason::normal()));
        assert!(is_clean_exit(&reason::shutdown()));
        assert!(is_clean_exit(&Term::tuple(vec![
            reason::shutdown(),
            Term::str("why")
        ])));
        assert!(!is_clean_exit(&reason::killed()));
        assert!(!is_clean_exit(&Term::Atom(Atom::new("boom"))));
    }
}
