//! Test harness: command-driven agent processes that report to the test.
//!
//! An *agent* is a process that runs closures sent to it (as opaque terms)
//! and forwards every other message it receives to the test thread, tagged
//! with its pid. A *watcher* agent monitors processes so their exit reasons
//! reach the test too. Every wait is bounded (`WAIT`), so a broken runtime
//! fails a test instead of hanging it.

use std::any::Any;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use mesh_core::{
    Config, Cx, Opaque, Pid, Placement, Process, Ref, Runtime, RuntimeHandle, Step, Term, reason,
};

pub const WAIT: Duration = Duration::from_secs(10);

type Job = Box<dyn FnOnce(&mut Cx<'_>) -> Option<Term> + Send>;

struct Cmd(Mutex<Option<Job>>);

impl std::fmt::Debug for Cmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cmd")
    }
}

impl Opaque for Cmd {
    fn kind(&self) -> &'static str {
        "test-command"
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn is_cmd(t: &Term) -> bool {
    matches!(t, Term::Opaque(o) if o.as_any().is::<Cmd>())
}

pub struct Agent {
    tx: Sender<(Pid, Term)>,
    /// Forward non-command messages to the test (true), or leave them in
    /// the mailbox for commands to receive (false).
    forward: bool,
}

impl Process for Agent {
    fn resume(&mut self, cx: &mut Cx<'_>) -> Step {
        loop {
            let msg = if self.forward {
                cx.receive_any()
            } else {
                match cx.receive(is_cmd, None) {
                    mesh_core::Received::Msg(m) => Some(m),
                    _ => None,
                }
            };
            let Some(msg) = msg else { break };
            if let Term::Opaque(o) = &msg
                && let Some(cmd) = o.as_any().downcast_ref::<Cmd>()
            {
                let job = cmd.0.lock().ok().and_then(|mut g| g.take());
                if let Some(job) = job
                    && let Some(reason) = job(cx)
                {
                    return Step::Exit(reason);
                }
                continue;
            }
            let _ = self.tx.send((cx.pid(), msg));
        }
        Step::Wait
    }
}

pub struct Harness {
    pub rt: Runtime,
    tx: Sender<(Pid, Term)>,
    rx: Receiver<(Pid, Term)>,
    pending: VecDeque<(Pid, Term)>,
}

impl Harness {
    pub fn new(schedulers: usize) -> Harness {
        let rt = Runtime::start(Config::default().with_schedulers(schedulers)).expect("runtime");
        let (tx, rx) = channel();
        Harness {
            rt,
            tx,
            rx,
            pending: VecDeque::new(),
        }
    }

    pub fn handle(&self) -> RuntimeHandle {
        self.rt.handle()
    }

    /// Spawn an agent on `core`.
    pub fn agent(&self, core: usize) -> Pid {
        self.spawn_agent(core, true)
    }

    /// Spawn an agent that leaves non-command messages in its mailbox.
    pub fn quiet_agent(&self, core: usize) -> Pid {
        self.spawn_agent(core, false)
    }

    /// An agent process, for a test to spawn from inside the runtime.
    pub fn agent_process(&self) -> Agent {
        Agent {
            tx: self.tx.clone(),
            forward: true,
        }
    }

    fn spawn_agent(&self, core: usize, forward: bool) -> Pid {
        let agent = Agent {
            tx: self.tx.clone(),
            forward,
        };
        self.handle()
            .spawn_on(Placement::Core(core), Box::new(agent))
            .expect("spawn agent")
    }

    /// Have `pid` run `f`. If `f` returns a reason, the agent exits with it.
    pub fn exec(&self, pid: Pid, f: impl FnOnce(&mut Cx<'_>) -> Option<Term> + Send + 'static) {
        let cmd = Cmd(Mutex::new(Some(Box::new(f))));
        self.handle()
            .send(pid, Term::opaque(cmd))
            .expect("send command");
    }

    /// Run `f` in `pid` and return what it computed. When this returns,
    /// every signal `f` sent has left `pid`'s core (a scheduler flushes its
    /// outbound batches at the end of a run slice, so a second round trip
    /// through `pid` is the barrier).
    pub fn call<T: Send + 'static>(
        &mut self,
        pid: Pid,
        f: impl FnOnce(&mut Cx<'_>) -> T + Send + 'static,
    ) -> T {
        let out = self.round_trip(pid, f);
        self.round_trip(pid, |_| ());
        out
    }

    fn round_trip<T: Send + 'static>(
        &mut self,
        pid: Pid,
        f: impl FnOnce(&mut Cx<'_>) -> T + Send + 'static,
    ) -> T {
        let (tx, rx) = channel();
        self.exec(pid, move |cx| {
            let _ = tx.send(f(cx));
            None
        });
        rx.recv_timeout(WAIT).expect("agent answered the call")
    }

    /// The next message forwarded by `from`, waiting at most `WAIT`.
    pub fn expect_from(&mut self, from: Pid) -> Term {
        self.try_expect_from(from, WAIT)
            .unwrap_or_else(|| panic!("no message from {from} within {WAIT:?}"))
    }

    pub fn try_expect_from(&mut self, from: Pid, wait: Duration) -> Option<Term> {
        if let Some(i) = self.pending.iter().position(|(p, _)| *p == from) {
            return self.pending.remove(i).map(|(_, t)| t);
        }
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok((p, t)) if p == from => return Some(t),
                Ok(other) => self.pending.push_back(other),
                Err(_) => return None,
            }
        }
    }

    /// Everything `from` forwarded so far that has already arrived.
    pub fn drain_from(&mut self, from: Pid) -> Vec<Term> {
        while let Ok(item) = self.rx.try_recv() {
            self.pending.push_back(item);
        }
        let mut out = Vec::new();
        self.pending.retain(|(p, t)| {
            if *p == from {
                out.push(t.clone());
                false
            } else {
                true
            }
        });
        out
    }

    /// Make `watcher` monitor `target`; returns the monitor ref.
    pub fn watch(&mut self, watcher: Pid, target: Pid) -> Ref {
        self.call(watcher, move |cx| cx.monitor(target))
    }

    /// Wait for the DOWN of `target` seen by `watcher`; returns its reason.
    pub fn exit_reason(&mut self, watcher: Pid, target: Pid) -> Term {
        let m = self.expect_from(watcher);
        let (_, pid, why) = reason::as_down_message(&m)
            .unwrap_or_else(|| panic!("expected DOWN of {target}, got {m:?}"));
        assert_eq!(pid, target, "DOWN for another process");
        why.clone()
    }

    /// Round trip through `pid`: when this returns, `pid` has handled every
    /// command sent to it before, and what they sent has left its core.
    pub fn sync(&mut self, pid: Pid) {
        self.round_trip(pid, |_| ());
    }
}

pub fn atom(s: &str) -> Term {
    Term::atom(s)
}
