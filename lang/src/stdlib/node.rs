//! `Node` and `Global`: the distribution rows of the standard library,
//! bound to `mesh_core::node`.
//!
//! The program does not choose its byte transport: the caller of
//! [`crate::run::run`] injects one ([`crate::run::TransportFactory`],
//! filled by `meshc` from `MESH_TRANSPORT`), and `Node.start` asks it for
//! a transport when the program becomes a node.
//!
//! Remote spawn names a function by its module-qualified runtime name
//! (`Main.worker`); both nodes run the same program, so when a program
//! becomes a node every function without captured values is registered
//! under that name with `register_spawn_fn`. Arguments travel as one list.
//!
//! Calls that wait (`Node.connect`, `Node.spawn`) never block a scheduler
//! thread: the first run of the instruction starts the work, writes a
//! private marker (a `Ref`, never a `String`, which the checker guarantees
//! the first argument to be) into its first argument register and answers
//! [`Ret::Wait`]; each later run of the same instruction looks for the
//! reply tagged with that ref.
//!
//! Conventions (LANGUAGE.md, *Distribution*): `Node.start`,
//! `Node.start_from_env`, `Node.connect` and `Global.register` return a
//! `Result` with a readable reason; `Node.spawn`/`Node.spawn_link` return
//! the pid or end the caller with a runtime error naming the line (an
//! unknown node, a closure with captured values, a refused spawn);
//! `Global.whereis` returns a pid to which sends are dropped when the name
//! is not registered, as `Process.whereis` does.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use mesh_core::node::{Node, NodeOptions};
use mesh_core::{Atom, NodeId, Pid, Received, Ref, Term};

use super::{Call, Impl, Ret, err, ok, val};
use crate::vm::{Env, Fault, VmProcess, to_string};

mod bootstrap;

/// Longest a remote spawn waits for the other node's answer.
const SPAWN_WAIT: Duration = Duration::from_secs(30);

/// Tags of the replies a waiting call looks for.
static SPAWN_REPLY: LazyLock<Atom> = LazyLock::new(|| Atom::new("spawn_reply"));
static CONNECT_REPLY: LazyLock<Atom> = LazyLock::new(|| Atom::new("$mesh_connect_reply"));

/// What `Node.self()` answers before the program is a node (as Erlang).
const NO_NODE: &str = "nonode@nohost";

const NOT_STARTED: &str = "this program is not a node: call Node.start(name, cookie) first";

/// The rows of this module.
pub(super) static IMPLS: &[(&str, Impl)] = &[
    ("Node.start", |c| {
        let name = c.str(0)?.to_owned();
        let cookie = c.str(1)?.to_owned();
        val(result(start(c.env, &name, &cookie).map(|_| Term::Unit)))
    }),
    ("Node.start_from_env", |c| {
        let env = Arc::clone(c.env);
        val(result(bootstrap::start_from_env(&env)))
    }),
    ("Node.connect", connect),
    ("Node.self", |c| {
        val(node_of(c.env).map_or_else(|| NO_NODE.to_owned(), |n| n.name().to_string()))
    }),
    ("Node.list", |c| {
        let peers = node_of(c.env).map(|n| n.list()).unwrap_or_default();
        val(peers
            .into_iter()
            .map(Term::from)
            .collect::<mesh_core::List>())
    }),
    ("Node.spawn", |c| spawn(c, false)),
    ("Node.spawn_link", |c| spawn(c, true)),
    ("Node.monitor", |c| {
        let target = c.str(0)?.to_owned();
        let node = node_of(c.env);
        let cx = c.cx()?;
        let me = cx.pid();
        match node {
            Some(n) => n.monitor_node(me, &target),
            // Not a node: nothing is connected, so the node is down now.
            None => cx.send(
                me,
                Term::tuple(vec![Term::Atom(Atom::NODEDOWN), Term::from(target)]),
            ),
        }
        val(())
    }),
    ("Global.register", |c| {
        let name = c.str(0)?.to_owned();
        let pid = c.pid(1)?;
        let r = match node_of(c.env) {
            Some(n) => n.global_register(&name, pid).map_err(|e| e.to_string()),
            None => Err(NOT_STARTED.to_owned()),
        };
        val(result(r.map(|()| Term::Unit)))
    }),
    ("Global.whereis", |c| {
        let name = c.str(0)?;
        let pid = node_of(c.env).and_then(|n| n.global_whereis(name));
        val(pid.unwrap_or_else(nobody))
    }),
    ("Global.unregister", |c| {
        let name = c.str(0)?;
        if let Some(n) = node_of(c.env) {
            // Unregistering a name this node does not hold changes nothing.
            let _ = n.global_unregister(name);
        }
        val(())
    }),
];

/// A pid no process ever has: sends to it are dropped.
fn nobody() -> Pid {
    Pid::from_parts(NodeId::LOCAL, u16::MAX, u32::MAX, 0)
}

fn result(r: Result<Term, String>) -> Term {
    match r {
        Ok(v) => ok(v),
        Err(e) => err(Term::from(e)),
    }
}

/// The node this program runs as, if it was started.
fn node_of(env: &Arc<Env>) -> Option<Node> {
    env.runtime.get().and_then(Node::of)
}

fn dist_fault(op: &'static str, reason: impl Into<String>) -> Fault {
    Fault::Dist {
        op,
        reason: reason.into(),
    }
}

/// Turns the program's runtime into node `name` and lets other nodes
/// spawn its functions.
pub(super) fn start(env: &Arc<Env>, name: &str, cookie: &str) -> Result<Node, String> {
    let rt = env
        .runtime
        .get()
        .ok_or_else(|| "the runtime is not running".to_owned())?;
    if let Some(n) = Node::of(rt) {
        return Err(format!(
            "this program is already the node {}: a program runs one node",
            n.name()
        ));
    }
    let make = env.transport.as_ref().ok_or_else(|| {
        "no network transport was given to this program (run it with meshc or as a built executable)"
            .to_owned()
    })?;
    let transport = make()?;
    let opts = NodeOptions::new(name, cookie).map_err(|e| e.to_string())?;
    let node = Node::start(rt, opts, transport).map_err(|e| e.to_string())?;
    register_spawn_fns(&node, env);
    Ok(node)
}

/// Registers every function that can be started by name from another node.
fn register_spawn_fns(node: &Node, env: &Arc<Env>) {
    let mut seen = HashSet::new();
    for (i, f) in env.image.program.funcs.iter().enumerate() {
        // A closure with captured values is not a name: it cannot be
        // started elsewhere (the values are not there).
        if !f.captures.is_empty() || !seen.insert(f.name.as_str()) {
            continue;
        }
        let Ok(func) = u32::try_from(i) else { continue };
        let weak = Arc::downgrade(env);
        node.register_spawn_fn(&f.name, move |args| {
            let env = weak
                .upgrade()
                .ok_or_else(|| "the program is stopping".to_owned())?;
            let args: Vec<Term> = match args {
                Term::List(l) => l.iter().cloned().collect(),
                other => {
                    return Err(format!(
                        "spawn arguments must be a list, got {}",
                        other.kind_name()
                    ));
                }
            };
            let f = &env.image.program.funcs[func as usize];
            if args.len() != usize::from(f.arity) {
                return Err(format!(
                    "{} takes {} argument(s), got {}",
                    f.name,
                    f.arity,
                    args.len()
                ));
            }
            Ok(Box::new(VmProcess::new(env, func, args)) as Box<dyn mesh_core::Process>)
        });
    }
}

/// Whether `m` is `(tag, mref, _)`.
fn is_reply(m: &Term, tag: Atom, mref: Ref) -> bool {
    matches!(m.as_tuple(), Some([Term::Atom(t), Term::Ref(r), _]) if *t == tag && *r == mref)
}

/// The payload of a reply `(tag, ref, payload)`.
fn payload(m: Term) -> Term {
    match m {
        Term::Tuple(items) => items.get(2).cloned().unwrap_or(Term::Unit),
        _ => Term::Unit,
    }
}

/// `Node.connect(name)`: dialled on a thread of its own (connecting
/// blocks), the answer comes back as a message.
fn connect(c: &mut Call<'_, '_>) -> Result<Ret, Fault> {
    if let Term::Ref(mref) = c.peek(0) {
        let mref = *mref;
        return match c.cx()?.receive(|m| is_reply(m, *CONNECT_REPLY, mref), None) {
            Received::Msg(m) => val(payload(m)),
            Received::Pending | Received::Timeout => Ok(Ret::Wait),
        };
    }
    let target = c.str(0)?.to_owned();
    let Some(node) = node_of(c.env) else {
        return val(err(Term::from(NOT_STARTED)));
    };
    let cx = c.cx()?;
    let me = cx.pid();
    let mref = cx.make_ref();
    let rt = cx.handle();
    let spawned = std::thread::Builder::new()
        .name("mesh-connect".into())
        .spawn(move || {
            let r = node.connect(&target).map_err(|e| e.to_string());
            let reply = Term::tuple(vec![
                Term::Atom(*CONNECT_REPLY),
                Term::Ref(mref),
                result(r.map(|()| Term::Unit)),
            ]);
            let _ = rt.send(me, reply);
        });
    if let Err(e) = spawned {
        return val(err(Term::from(format!("cannot start a thread: {e}"))));
    }
    if let Some(a) = c.args.first_mut() {
        *a = Term::Ref(mref);
    }
    Ok(Ret::Wait)
}

/// `Node.spawn(node, f, args...)` / `Node.spawn_link`.
fn spawn(c: &mut Call<'_, '_>, link: bool) -> Result<Ret, Fault> {
    let op = c.name;
    if let Some([Term::Ref(mref), Term::Str(target)]) = c.peek(0).as_tuple() {
        let (mref, target) = (*mref, Arc::clone(target));
        return await_spawn(c, mref, &target);
    }
    let target = c.str(0)?.to_owned();
    let closure = crate::vm::closure_of(c.peek(1))?;
    if !closure.captures.is_empty() {
        return Err(dist_fault(
            op,
            "a closure that captured values cannot be started on another node; \
             pass a named function or actor and give it the values as arguments",
        ));
    }
    let func = closure.func;
    let args: Vec<Term> = (2..c.args.len()).map(|i| c.arg(i)).collect();
    let env = Arc::clone(c.env);
    let node = node_of(&env).ok_or_else(|| dist_fault(op, NOT_STARTED))?;
    if target == node.name().to_string() {
        let p = VmProcess::new(env, func, args);
        let cx = c.cx()?;
        return val(if link { cx.spawn_link(p) } else { cx.spawn(p) });
    }
    let name = env.image.program.funcs[func as usize].name.clone();
    for a in &args {
        mesh_core::dist::term_codec::check_sendable(a)
            .map_err(|e| dist_fault(op, format!("an argument for {name}: {e}")))?;
    }
    let mref = node
        .spawn_request_from(c.cx()?, &target, &name, &Term::list(args), link)
        .map_err(|e| dist_fault(op, e.to_string()))?;
    if let Some(a) = c.args.first_mut() {
        *a = Term::tuple(vec![Term::Ref(mref), Term::from(target.as_str())]);
    }
    await_spawn(c, mref, &target)
}

fn await_spawn(c: &mut Call<'_, '_>, mref: Ref, target: &str) -> Result<Ret, Fault> {
    let op = c.name;
    let got = c
        .cx()?
        .receive(|m| is_reply(m, *SPAWN_REPLY, mref), Some(SPAWN_WAIT));
    match got {
        Received::Pending => Ok(Ret::Wait),
        Received::Timeout => Err(dist_fault(
            op,
            format!("{target} did not answer the spawn within {SPAWN_WAIT:?}"),
        )),
        Received::Msg(m) => match payload(m).as_tuple() {
            Some([Term::Atom(a), Term::Pid(p)]) if *a == Atom::OK => val(*p),
            Some([_, reason]) => Err(dist_fault(
                op,
                format!("{target} could not start it: {}", to_string(reason)),
            )),
            _ => Err(dist_fault(op, format!("{target} gave a malformed answer"))),
        },
    }
}
