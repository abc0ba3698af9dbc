//! Process builtins that are more than one `Cx` call: spawning (plain,
//! linked, and supervisor values), `Process.is_alive`, and the client side
//! of services.
//!
//! # Services
//!
//! A service is a process running the loop `compile/service.rs` generates.
//! Its clients talk to it with these messages:
//!
//! - call: `($call, from, ref, handler, args...)`, answered with
//!   `($reply, ref, value)`. `$service_call` monitors the service with
//!   `ref` *before* sending, and `$service_await` waits for either the
//!   reply or the monitor's `DOWN`. So a call to a dead service, or to one
//!   that dies before it replies, ends the caller with
//!   [`Fault::ServiceCall`] naming the call, never a hang. After the reply
//!   the monitor is dropped (and a `DOWN` already queued with it).
//! - cast: `($cast, handler, args...)`; nothing comes back.
//!
//! # `Process.is_alive`
//!
//! Another core's process table cannot be read, so liveness is asked the
//! way ERTS asks a remote scheduler: by a signal round trip.
//! `$alive_probe(pid)` monitors `pid` and then a sentinel pid on the same
//! scheduler that never names a process. Signals between two processes
//! are ordered, so the scheduler owning `pid` answers the first monitor
//! before the second: a `DOWN` for `pid` arriving before the sentinel's
//! means it was dead; the sentinel's alone means it was alive when asked.
//! `$alive_await` waits for that answer and drops the other monitor.

use std::sync::{Arc, LazyLock};

use mesh_core::{Atom, Pid, Received, Term, reason};

use super::{Call, Impl, Ret, val};
use crate::vm::supervisor::{self, SupervisorProcess};
use crate::vm::{Fault, VmProcess, to_string};

/// Message tags of the service protocol.
struct Tags {
    call: Atom,
    cast: Atom,
    reply: Atom,
}

static TAGS: LazyLock<Tags> = LazyLock::new(|| Tags {
    call: Atom::new(CALL_TAG),
    cast: Atom::new(CAST_TAG),
    reply: Atom::new(REPLY_TAG),
});

/// The atom names the service loop matches on (for the compiler).
pub(crate) const CALL_TAG: &str = "$call";
pub(crate) const CAST_TAG: &str = "$cast";
pub(crate) const REPLY_TAG: &str = "$reply";

pub(super) static IMPLS: &[(&str, Impl)] = &[
    ("spawn", |c| spawn(c, false)),
    ("spawn_link", |c| spawn(c, true)),
    ("$service_call", service_call),
    ("$service_await", service_await),
    ("$service_cast", |c| {
        let pid = c.pid(0)?;
        let mut msg = vec![Term::Atom(TAGS.cast), Term::Int(c.int(1)?)];
        msg.extend((2..c.args.len()).map(|i| c.arg(i)));
        c.cx()?.send(pid, Term::tuple(msg));
        val(())
    }),
    ("$supervisor", |c| val(supervisor::spec_value(c.peek(0))?)),
    ("$alive_probe", alive_probe),
    ("$alive_await", alive_await),
];

/// `spawn(f, args...)` / `spawn_link(f, args...)`: `f` is a function
/// value or a supervisor.
fn spawn(c: &mut Call<'_, '_>, link: bool) -> Result<Ret, Fault> {
    let f = c.arg(0);
    let pid = if let Some(spec) = supervisor::spec_of(&f) {
        let env = Arc::clone(c.env);
        let cx = c.cx()?;
        let parent = link.then(|| cx.pid());
        let p = SupervisorProcess::new(env, spec, parent);
        if link { cx.spawn_link(p) } else { cx.spawn(p) }
    } else {
        let rest: Vec<Term> = (1..c.args.len()).map(|i| c.arg(i)).collect();
        let p = VmProcess::from_value(Arc::clone(c.env), &f, rest)?;
        let cx = c.cx()?;
        if link { cx.spawn_link(p) } else { cx.spawn(p) }
    };
    val(pid)
}

/// A local pid whose scheduler this runtime does not have names no process.
fn impossible(pid: Pid, schedulers: usize) -> bool {
    pid.is_local() && usize::from(pid.scheduler()) >= schedulers
}

/// `$service_call(pid, handler, "Service.op", args...)`: monitor, send,
/// return the ref.
fn service_call(c: &mut Call<'_, '_>) -> Result<Ret, Fault> {
    let pid = c.pid(0)?;
    let handler = c.int(1)?;
    let me = c.cx()?.pid();
    if pid == me {
        return Err(Fault::ServiceCall {
            op: c.str(2)?.to_string(),
            why: "a service cannot call itself (it would wait for its own reply for ever)".into(),
        });
    }
    let args: Vec<Term> = (3..c.args.len()).map(|i| c.arg(i)).collect();
    let cx = c.cx()?;
    let mref = cx.monitor(pid);
    let mut msg = Vec::with_capacity(4 + args.len());
    msg.extend([
        Term::Atom(TAGS.call),
        Term::Pid(me),
        Term::Ref(mref),
        Term::Int(handler),
    ]);
    msg.extend(args);
    cx.send(pid, Term::tuple(msg));
    val(Term::Ref(mref))
}

/// Is `m` the reply to call `r` or the `DOWN` of its monitor?
fn reply_or_down(m: &Term, r: mesh_core::Ref) -> bool {
    match m.as_tuple() {
        Some([tag, Term::Ref(x), _]) => *x == r && tag.is_atom(TAGS.reply),
        Some(_) => reason::as_down_message(m).is_some_and(|(x, _, _)| x == r),
        None => false,
    }
}

/// `$service_await(ref, "Service.op")`: the reply, or a fault when the
/// service is gone.
fn service_await(c: &mut Call<'_, '_>) -> Result<Ret, Fault> {
    let Term::Ref(r) = *c.peek(0) else {
        return Err(c.type_err(0));
    };
    let cx = c.cx()?;
    let msg = match cx.receive(|m| reply_or_down(m, r), None) {
        Received::Msg(m) => m,
        // No timeout was asked for; a stale one only means "not yet".
        Received::Pending | Received::Timeout => return Ok(Ret::Wait),
    };
    if let Some((_, _, why)) = reason::as_down_message(&msg) {
        let why = if why.is_atom(Atom::NOPROC) {
            "the service is not running (noproc)".to_string()
        } else if why.is_atom(Atom::NOCONNECTION) {
            "the service's node is unreachable (noconnection)".to_string()
        } else {
            format!(
                "the service exited before replying (reason: {})",
                to_string(why)
            )
        };
        let op = c.str(1)?.to_string();
        return Err(Fault::ServiceCall { op, why });
    }
    cx.demonitor(r);
    match msg.as_tuple() {
        Some([_, _, v]) => val(v.clone()),
        _ => val(()),
    }
}

/// `$alive_probe(pid)`: `true`/`false` when the answer is known at once,
/// else the two monitor refs `(pid's, sentinel's)`.
fn alive_probe(c: &mut Call<'_, '_>) -> Result<Ret, Fault> {
    let pid = c.pid(0)?;
    let cx = c.cx()?;
    if pid == cx.pid() {
        return val(true);
    }
    if impossible(pid, cx.schedulers()) {
        return val(false);
    }
    let target = cx.monitor(pid);
    let sentinel = Pid::from_parts(pid.node(), pid.scheduler(), u32::MAX, u32::MAX);
    let probe = cx.monitor(sentinel);
    val(Term::tuple(vec![Term::Ref(target), Term::Ref(probe)]))
}

/// `$alive_await(probe)`: waits for the first of the probe's two `DOWN`s.
fn alive_await(c: &mut Call<'_, '_>) -> Result<Ret, Fault> {
    let (target, probe) = match c.peek(0) {
        Term::Bool(b) => return val(*b),
        t => match t.as_tuple() {
            Some([Term::Ref(a), Term::Ref(b)]) => (*a, *b),
            _ => return Err(c.type_err(0)),
        },
    };
    let cx = c.cx()?;
    let first =
        |m: &Term| reason::as_down_message(m).is_some_and(|(r, _, _)| r == target || r == probe);
    match cx.receive(first, None) {
        Received::Msg(m) => {
            let dead = reason::as_down_message(&m).is_some_and(|(r, _, _)| r == target);
            cx.demonitor(if dead { probe } else { target });
            val(!dead)
        }
        Received::Pending | Received::Timeout => Ok(Ret::Wait),
    }
}
