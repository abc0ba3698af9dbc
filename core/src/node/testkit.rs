//! The node conformance suite: multi-node checks written once against the
//! [`Transport`] trait. A transport crate runs all of them with
//! `mesh_core::node_conformance!(|| Arc::new(MyTransport::new()) as Arc<dyn Transport>);`
//! in one of its test files. Every node listens on 127.0.0.1 with port 0,
//! every wait is bounded, and every node a check starts is stopped by it.
//!
//! The "rogue" peer used by the bad-input checks speaks the protocol by
//! hand over a blocking `std` socket (TLS and the cookie handshake from
//! `dist`, then frames it forges), so each malformed input reaches the
//! node exactly as written.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::atom::Atom;
use crate::config::Config;
use crate::dist::NodeName;
use crate::dist::config::DistConfig;
use crate::dist::frame::{self, FrameNode, FramePid, Kind, SendBody};
use crate::dist::handshake::{Cookie, Handshake, HandshakeConfig, Progress};
use crate::dist::heartbeat::HeartbeatConfig;
use crate::dist::tls::{self, TlsConfig, TlsSession};
use crate::pid::Pid;
use crate::process::{Flow, actor_fn};
use crate::runtime::Runtime;
use crate::term::Term;
use crate::transport::Transport;

use super::{ConnectError, Node, NodeOptions, SpawnError};

/// Upper bound of any wait in the suite.
pub const WAIT: Duration = Duration::from_secs(10);

/// Makes a fresh transport for each node.
pub type MakeTransport = dyn Fn() -> Arc<dyn Transport>;

/// Settings for test nodes: fast heartbeats and a short handshake limit,
/// so failure checks finish quickly.
pub fn test_dist() -> DistConfig {
    DistConfig {
        heartbeat: HeartbeatConfig {
            interval: Duration::from_millis(100),
            misses: 4,
        },
        handshake_timeout: Duration::from_millis(1500),
        ..DistConfig::default()
    }
}

/// A runtime that is a node, stopped on drop.
#[allow(missing_debug_implementations)]
pub struct TestNode {
    pub node: Node,
    rt: Option<Runtime>,
}

impl TestNode {
    pub fn start(make: &MakeTransport, name: &str, cookie: &str) -> TestNode {
        TestNode::start_as(make, &format!("{name}@127.0.0.1:0"), cookie)
    }

    /// A node with a full name (`name@host:port`).
    pub fn start_as(make: &MakeTransport, full: &str, cookie: &str) -> TestNode {
        TestNode::start_with(make, full, cookie, None)
    }

    /// A node with a full name and, optionally, its TLS configuration.
    pub fn start_with(
        make: &MakeTransport,
        full: &str,
        cookie: &str,
        tls: Option<TlsConfig>,
    ) -> TestNode {
        let rt = Runtime::start(Config::default().with_schedulers(2).with_pinning(false))
            .unwrap_or_else(|e| panic!("runtime: {e}"));
        let mut opts = NodeOptions::new(full, cookie)
            .unwrap_or_else(|e| panic!("options: {e}"))
            .with_dist(test_dist());
        if let Some(t) = tls {
            opts = opts.with_tls(t);
        }
        let node =
            Node::start(&rt.handle(), opts, make()).unwrap_or_else(|e| panic!("node start: {e}"));
        TestNode { node, rt: Some(rt) }
    }

    pub fn name(&self) -> String {
        self.node.name().to_string()
    }

    pub fn rt(&self) -> &Runtime {
        match &self.rt {
            Some(r) => r,
            None => panic!("runtime already stopped"),
        }
    }

    /// A process that forwards every message to the returned channel.
    pub fn probe(&self, trap_exit: bool) -> (Pid, mpsc::Receiver<Term>) {
        let (tx, rx) = mpsc::channel();
        let tx = Mutex::new(tx);
        let mut first = true;
        let pid = self
            .rt()
            .handle()
            .spawn(actor_fn(move |cx, msg| {
                if first {
                    first = false;
                    cx.trap_exit(trap_exit);
                }
                let _ = super::lock(&tx).send(msg);
                Flow::Continue
            }))
            .unwrap_or_else(|e| panic!("spawn: {e}"));
        // Turn trap_exit on before anything else reaches it.
        self.rt()
            .handle()
            .send(pid, Term::atom("__probe_start"))
            .unwrap_or_else(|e| panic!("send: {e}"));
        let _ = recv_match(&rx, |t| t.is_atom(Atom::new("__probe_start")));
        (pid, rx)
    }

    /// A process that sends `(:echo, msg)` back to `from` for every
    /// `(from, msg)` it gets.
    pub fn echo(&self) -> Pid {
        self.rt()
            .handle()
            .spawn(actor_fn(|cx, msg| {
                if let Some([Term::Pid(from), body]) = msg.as_tuple() {
                    cx.send(*from, Term::tuple(vec![Term::atom("echo"), body.clone()]));
                }
                Flow::Continue
            }))
            .unwrap_or_else(|e| panic!("spawn: {e}"))
    }

    /// A trapping process here that links to and monitors `remote` and
    /// forwards what it receives (EXIT, DOWN) to the returned mailbox;
    /// `node`, when given, is node-monitored by the same mailbox. With
    /// `traffic`, it also sends `remote` a message per turn, forever.
    /// Returns once the link and monitor had time to reach the other node.
    pub fn watch_remote(
        &self,
        remote: Pid,
        node: Option<&str>,
        traffic: bool,
    ) -> mpsc::Receiver<Term> {
        let (watcher, rx) = self.probe(false);
        if let Some(n) = node {
            self.node.monitor_node(watcher, n);
        }
        let linker = self
            .rt()
            .handle()
            .spawn(actor_fn(move |cx, msg| {
                if msg.is_atom(Atom::new("go")) {
                    cx.trap_exit(true);
                    cx.link(remote);
                    cx.monitor(remote);
                    cx.send(watcher, Term::atom("armed"));
                    if traffic {
                        cx.send(cx.pid(), Term::Int(0));
                    }
                } else if let (true, Some(i)) = (traffic, msg.as_int()) {
                    cx.send(remote, Term::Int(i));
                    cx.send(cx.pid(), Term::Int(i + 1));
                } else {
                    cx.send(watcher, msg);
                }
                Flow::Continue
            }))
            .unwrap_or_else(|e| panic!("spawn: {e}"));
        self.rt()
            .handle()
            .send(linker, Term::atom("go"))
            .unwrap_or_else(|e| panic!("send: {e}"));
        let _ = recv_match(&rx, |m| m.is_atom(Atom::new("armed")));
        // The link and monitor frames must arrive before the remote end
        // goes, or it answers `noproc` instead.
        std::thread::sleep(Duration::from_millis(200));
        rx
    }

    /// Stop the node and its runtime (as a clean shutdown would).
    pub fn stop(&mut self) {
        self.node.stop();
        if let Some(rt) = self.rt.take() {
            rt.shutdown();
        }
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The first message `pred` accepts within [`WAIT`] (others are dropped).
pub fn recv_match(rx: &mpsc::Receiver<Term>, pred: impl Fn(&Term) -> bool) -> Term {
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(t) if pred(&t) => return t,
            Ok(_) => {}
            Err(_) => panic!("no matching message within {WAIT:?}"),
        }
    }
}

/// Poll `cond` until it holds, for at most [`WAIT`].
pub fn eventually(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn is_tagged(t: &Term, tag: &str) -> bool {
    t.as_tuple()
        .and_then(|x| x.first())
        .is_some_and(|h| h.is_atom(Atom::new(tag)))
}

/// Every kind of term a message can hold.
pub fn sample_terms(me: Pid) -> Vec<Term> {
    let big: Vec<u8> = (0..(1 << 20)).map(|i| (i % 251) as u8).collect();
    vec![
        Term::Unit,
        Term::Bool(true),
        Term::Int(-42),
        Term::Int(i64::MAX),
        Term::Float(2.5),
        Term::atom("hello"),
        Term::str("héllo wörld"),
        Term::binary(&big),
        Term::tuple(vec![Term::Int(1), Term::str("two"), Term::atom("three")]),
        Term::list((0..100).map(Term::Int).collect()),
        Term::map([
            (Term::str("a"), Term::Int(1)),
            (Term::atom("b"), Term::list(vec![])),
        ]),
        Term::Pid(me),
        Term::structure(Atom::new("Pt"), vec![Term::Int(1), Term::Int(2)]),
        Term::variant(
            Atom::new("Shape"),
            Atom::new("Circle"),
            vec![Term::Float(1.0)],
        ),
        Term::tuple(vec![Term::list(vec![Term::tuple(vec![Term::Pid(me)])])]),
    ]
}

// ---------------------------------------------------------------------
// Checks.
// ---------------------------------------------------------------------

/// Two nodes connect; both list each other; `connect` again is a no-op.
pub fn connect_and_list(make: &MakeTransport) {
    let a = TestNode::start(make, "a", "secret");
    let b = TestNode::start(make, "b", "secret");
    assert_ne!(
        b.node.name().port(),
        0,
        "port 0 must be reported as the real port"
    );
    a.node
        .connect(&b.name())
        .unwrap_or_else(|e| panic!("connect: {e}"));
    assert_eq!(a.node.list(), vec![b.name()]);
    // When `connect` returns, the acceptor has the link up too.
    assert_eq!(b.node.list(), vec![a.name()]);
    a.node
        .connect(&b.name())
        .unwrap_or_else(|e| panic!("second connect: {e}"));
    assert_eq!(a.node.list().len(), 1);
}

/// Nodes on IPv6 loopback (skipped where `[::1]` cannot be bound).
pub fn ipv6_nodes_connect(make: &MakeTransport) {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        return;
    }
    let a = TestNode::start_as(make, "a@[::1]:0", "c");
    let b = TestNode::start_as(make, "b@[::1]:0", "c");
    assert!(b.name().starts_with("b@[::1]:"), "{}", b.name());
    a.node
        .connect(&b.name())
        .unwrap_or_else(|e| panic!("connect: {e}"));
    let (p, rx) = b.probe(false);
    b.rt().handle().register("p", p).ok();
    a.node
        .send_named(&b.name(), "p", &Term::Int(6))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(recv_match(&rx, |t| t.as_int().is_some()), Term::Int(6));
}

/// A throw-away CA and `n` node certificates for 127.0.0.1, as TLS configs.
pub fn ca_signed_configs(n: usize) -> Vec<TlsConfig> {
    let mut params =
        rcgen::CertificateParams::new(Vec::<String>::new()).unwrap_or_else(|e| panic!("{e}"));
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_key = rcgen::KeyPair::generate().unwrap_or_else(|e| panic!("{e}"));
    let ca = rcgen::CertifiedIssuer::self_signed(params, ca_key).unwrap_or_else(|e| panic!("{e}"));
    (0..n)
        .map(|_| {
            let key = rcgen::KeyPair::generate().unwrap_or_else(|e| panic!("{e}"));
            let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
                .unwrap_or_else(|e| panic!("{e}"))
                .signed_by(&key, &ca)
                .unwrap_or_else(|e| panic!("{e}"));
            let (cert, key, ca) = (cert.pem(), key.serialize_pem(), ca.pem());
            TlsConfig::from_pem(&tls::PemInputs {
                cert: cert.as_bytes(),
                cert_path: "node.pem",
                key: key.as_bytes(),
                key_path: "node.key",
                ca: ca.as_bytes(),
                ca_path: "ca.pem",
            })
            .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect()
}

/// Nodes with certificates from one CA connect (mutual TLS); a node with a
/// throw-away certificate cannot join them, even with the right cookie.
pub fn ca_verified_tls(make: &MakeTransport) {
    let mut cfgs = ca_signed_configs(2);
    let (cb, ca_cfg) = match (cfgs.pop(), cfgs.pop()) {
        (Some(b), Some(a)) => (b, a),
        _ => panic!("two configs"),
    };
    let a = TestNode::start_with(make, "a@127.0.0.1:0", "c", Some(ca_cfg));
    let b = TestNode::start_with(make, "b@127.0.0.1:0", "c", Some(cb));
    a.node
        .connect(&b.name())
        .unwrap_or_else(|e| panic!("CA-verified connect: {e}"));
    let stranger = TestNode::start(make, "s", "c");
    assert!(
        stranger.node.connect(&a.name()).is_err(),
        "a node outside the CA joined"
    );
    assert_eq!(a.node.list(), vec![b.name()]);
}

/// Every term kind crosses intact, both ways, pids re-qualified.
pub fn terms_cross_intact(make: &MakeTransport) {
    let a = TestNode::start(make, "a", "c");
    let b = TestNode::start(make, "b", "c");
    a.node
        .connect(&b.name())
        .unwrap_or_else(|e| panic!("connect: {e}"));
    let echo = b.echo();
    b.rt()
        .handle()
        .register("echo", echo)
        .unwrap_or_else(|e| panic!("{e}"));
    let (me, rx) = a.probe(false);
    for t in sample_terms(me) {
        a.node
            .send_named(
                &b.name(),
                "echo",
                &Term::tuple(vec![Term::Pid(me), t.clone()]),
            )
            .unwrap_or_else(|e| panic!("send_named: {e}"));
        let got = recv_match(&rx, |m| is_tagged(m, "echo"));
        let body = &got.as_tuple().unwrap_or_default()[1];
        assert_eq!(body, &t, "term changed crossing two links");
    }
    // The echo's pid, seen from a, names b.
    a.node
        .send_named(
            &b.name(),
            "echo",
            &Term::tuple(vec![Term::Pid(me), Term::Unit]),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let _ = recv_match(&rx, |m| is_tagged(m, "echo"));
}

/// Messages between two processes on two nodes arrive in order.
pub fn remote_send_is_ordered(make: &MakeTransport) {
    let a = TestNode::start(make, "a", "c");
    let b = TestNode::start(make, "b", "c");
    a.node
        .connect(&b.name())
        .unwrap_or_else(|e| panic!("connect: {e}"));
    let (target, rx) = b.probe(false);
    // `target` is b's pid; as a's runtime sees it, it needs a's node id:
    // learn it from a message b sends to a.
    let (a_probe, a_rx) = a.probe(false);
    let remote_target = remote_pid_of(&a, &b, target, a_probe, &a_rx);
    let n = 10_000;
    let sender = a
        .rt()
        .handle()
        .spawn(actor_fn(move |cx, _| {
            for i in 0..n {
                cx.send(remote_target, Term::Int(i));
            }
            Flow::stop_normal()
        }))
        .unwrap_or_else(|e| panic!("{e}"));
    a.rt()
        .handle()
        .send(sender, Term::Unit)
        .unwrap_or_else(|e| panic!("{e}"));
    for i in 0..n {
        let got = recv_match(&rx, |t| t.as_int().is_some());
        assert_eq!(got.as_int(), Some(i), "message {i} out of order");
    }
}

/// How node `a` names `pid` of node `b`: b sends it to a probe on a.
pub fn remote_pid_of(
    a: &TestNode,
    b: &TestNode,
    pid: Pid,
    a_probe: Pid,
    a_rx: &mpsc::Receiver<Term>,
) -> Pid {
    // Already registered by an earlier call: fine.
    let _ = a.rt().handle().register("pid_drop", a_probe);
    b.node
        .send_named(
            &a.name(),
            "pid_drop",
            &Term::tuple(vec![Term::atom("pid_is"), Term::Pid(pid)]),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let got = recv_match(a_rx, |m| is_tagged(m, "pid_is"));
    let _ = a.rt().handle().unregister("pid_drop");
    match got
        .as_tuple()
        .and_then(|t| t.get(1))
        .and_then(|p| p.as_pid())
    {
        Some(p) => {
            assert!(!p.is_local(), "a remote pid must not look local");
            p
        }
        None => panic!("no pid in {got}"),
    }
}

/// A wrong cookie fails on both sides and leaves no connection.
pub fn wrong_cookie_is_refused(make: &MakeTransport) {
    let a = TestNode::start(make, "a", "right");
    let b = TestNode::start(make, "b", "wrong");
    match a.node.connect(&b.name()) {
        Err(ConnectError::Handshake { error, .. }) => {
            assert!(
                error.to_string().contains("cookie mismatch"),
                "unexpected error: {error}"
            );
        }
        other => panic!("expected a cookie mismatch, got {other:?}"),
    }
    assert!(a.node.list().is_empty());
    assert!(b.node.list().is_empty());
    // Both keep working: a third node with the right cookie connects.
    let c = TestNode::start(make, "c", "right");
    a.node
        .connect(&c.name())
        .unwrap_or_else(|e| panic!("connect: {e}"));
}

/// Connecting to oneself is an error, by name or by address.
pub fn self_connect_is_refused(make: &MakeTransport) {
    let a = TestNode::start(make, "a", "c");
    assert!(matches!(
        a.node.connect(&a.name()),
        Err(ConnectError::SelfConnect(_))
    ));
    let alias = format!("other@127.0.0.1:{}", a.node.name().port());
    assert!(
        a.node.connect(&alias).is_err(),
        "a node reached itself under another name"
    );
    assert!(a.node.list().is_empty());
    assert!(matches!(
        a.node.connect("no-at-sign"),
        Err(ConnectError::BadName(_))
    ));
}

/// Links and monitors across nodes carry exit reasons.
pub fn remote_links_and_monitors(make: &MakeTransport) {
    let a = TestNode::start(make, "a", "c");
    let b = TestNode::start(make, "b", "c");
    a.node
        .connect(&b.name())
        .unwrap_or_else(|e| panic!("connect: {e}"));
    let (victim, _vrx) = b.probe(false);
    let (a_probe, a_rx) = a.probe(false);
    let remote = remote_pid_of(&a, &b, victim, a_probe, &a_rx);
    let rx = a.watch_remote(remote, None, false);
    b.rt()
        .handle()
        .exit(victim, Term::atom("boom"))
        .unwrap_or_else(|e| panic!("{e}"));
    let exit = recv_match(&rx, |m| {
        m.as_tuple()
            .is_some_and(|t| t.first().is_some_and(|h| h.is_atom(Atom::EXIT)))
    });
    assert_eq!(
        exit.as_tuple().and_then(|t| t.get(2)).cloned(),
        Some(Term::atom("boom"))
    );
    let down = recv_match(&rx, |m| {
        m.as_tuple()
            .is_some_and(|t| t.first().is_some_and(|h| h.is_atom(Atom::DOWN)))
    });
    assert_eq!(
        down.as_tuple().and_then(|t| t.get(4)).cloned(),
        Some(Term::atom("boom"))
    );
}

/// Losing a node fires links and monitors with `noconnection` and tells
/// node monitors; the node's return is reported with `nodeup`.
pub fn node_loss_fires_noconnection(make: &MakeTransport) {
    let a = TestNode::start(make, "a", "c");
    let mut b = TestNode::start(make, "b", "c");
    a.node
        .connect(&b.name())
        .unwrap_or_else(|e| panic!("connect: {e}"));
    let (victim, _vrx) = b.probe(false);
    let (a_probe, a_rx) = a.probe(false);
    let remote = remote_pid_of(&a, &b, victim, a_probe, &a_rx);
    let rx = a.watch_remote(remote, Some(&b.name()), false);
    let b_name = b.name();
    b.stop();
    expect_loss(&rx, &b_name);
    eventually("a forgets b", || a.node.list().is_empty());
}

/// Wait until a trapping watcher has an EXIT and a DOWN, both with reason
/// `noconnection`, and `(:nodedown, node)` (in any order; other messages
/// are skipped).
pub fn expect_loss(rx: &mpsc::Receiver<Term>, node: &str) {
    let (mut exit, mut down, mut nodedown) = (false, false, false);
    while !(exit && down && nodedown) {
        let m = recv_match(rx, |_| true);
        let t = m.as_tuple().unwrap_or_default();
        match t.first() {
            Some(h) if h.is_atom(Atom::EXIT) => {
                assert_eq!(t.get(2), Some(&Term::Atom(Atom::NOCONNECTION)), "{m}");
                exit = true;
            }
            Some(h) if h.is_atom(Atom::DOWN) => {
                assert_eq!(t.get(4), Some(&Term::Atom(Atom::NOCONNECTION)), "{m}");
                down = true;
            }
            Some(h) if h.is_atom(Atom::NODEDOWN) => {
                assert_eq!(t.get(1), Some(&Term::str(node)), "{m}");
                nodedown = true;
            }
            _ => {}
        }
    }
}

/// A node monitor hears `nodeup` when a node (re)connects.
pub fn node_monitor_sees_nodeup(make: &MakeTransport) {
    let a = TestNode::start(make, "a", "c");
    let b = TestNode::start(make, "b", "c");
    let (watcher, rx) = a.probe(false);
    a.node.monitor_node(watcher, &b.name());
    let first = recv_match(&rx, |_| true);
    assert!(is_tagged(&first, "nodedown"), "not connected yet: {first}");
    a.node
        .connect(&b.name())
        .unwrap_or_else(|e| panic!("connect: {e}"));
    let up = recv_match(&rx, |_| true);
    assert!(is_tagged(&up, "nodeup"), "got {up}");
    assert_eq!(
        up.as_tuple().and_then(|t| t.get(1)).cloned(),
        Some(Term::str(&b.name()))
    );
}

/// Remote spawn by registered name; an unknown name is an error reply
/// and the remote node carries on.
pub fn remote_spawn(make: &MakeTransport) {
    let a = TestNode::start(make, "a", "c");
    let b = TestNode::start(make, "b", "c");
    b.node.register_spawn_fn("adder", |args| {
        let base = args
            .as_list()
            .and_then(|l| l.get(0))
            .and_then(|t| t.as_int())
            .ok_or("adder takes [Int]")?;
        Ok(Box::new(actor_fn(move |cx, msg| {
            if let Some([Term::Pid(from), Term::Int(x)]) = msg.as_tuple() {
                cx.send(*from, Term::Int(base + x));
            }
            Flow::Continue
        })))
    });
    a.node
        .connect(&b.name())
        .unwrap_or_else(|e| panic!("connect: {e}"));
    let pid = a
        .node
        .spawn(&b.name(), "adder", &Term::list(vec![Term::Int(40)]), WAIT)
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    assert!(!pid.is_local());
    assert_eq!(a.node.node_of(pid).as_deref(), Some(b.name().as_str()));
    let (me, rx) = a.probe(false);
    // RuntimeHandle::send is for local pids; send from a process.
    let fwd = a
        .rt()
        .handle()
        .spawn(actor_fn(move |cx, _| {
            cx.send(pid, Term::tuple(vec![Term::Pid(me), Term::Int(2)]));
            Flow::stop_normal()
        }))
        .unwrap_or_else(|e| panic!("{e}"));
    a.rt().handle().send(fwd, Term::Unit).ok();
    assert_eq!(recv_match(&rx, |t| t.as_int().is_some()), Term::Int(42));
    match a
        .node
        .spawn(&b.name(), "no_such_fn", &Term::list(vec![]), WAIT)
    {
        Err(SpawnError::Refused { failure, .. }) => {
            assert!(matches!(failure, frame::SpawnFailure::UnknownFunction(_)))
        }
        other => panic!("expected unknown function, got {other:?}"),
    }
    match a
        .node
        .spawn(&b.name(), "adder", &Term::list(vec![Term::str("x")]), WAIT)
    {
        Err(SpawnError::Refused { failure, .. }) => {
            assert!(matches!(failure, frame::SpawnFailure::BadArgs(_)))
        }
        other => panic!("expected bad args, got {other:?}"),
    }
    // b is still fine.
    assert!(
        a.node
            .spawn(&b.name(), "adder", &Term::list(vec![Term::Int(1)]), WAIT)
            .is_ok()
    );
    // From inside a process: many requests leave in one run slice (one
    // write) and each gets its own reply, to that process.
    let (rep, rrx) = a.probe(false);
    let node = a.node.clone();
    let target = b.name();
    let mut asked = false;
    let asker = a
        .rt()
        .handle()
        .spawn(actor_fn(move |cx, msg| {
            if !asked {
                asked = true;
                for i in 0..50 {
                    let r = node.spawn_request_from(
                        cx,
                        &target,
                        "adder",
                        &Term::list(vec![Term::Int(i)]),
                        false,
                    );
                    cx.send(
                        rep,
                        Term::tuple(vec![Term::atom("asked"), Term::Bool(r.is_ok())]),
                    );
                }
            } else {
                cx.send(rep, msg);
            }
            Flow::Continue
        }))
        .unwrap_or_else(|e| panic!("{e}"));
    a.rt().handle().send(asker, Term::Unit).ok();
    let (mut asked_ok, mut replies) = (0, 0);
    while asked_ok < 50 || replies < 50 {
        let m = recv_match(&rrx, |_| true);
        if is_tagged(&m, "asked") {
            assert_eq!(
                m.as_tuple().and_then(|t| t.get(1)).cloned(),
                Some(Term::Bool(true))
            );
            asked_ok += 1;
        } else if is_tagged(&m, "spawn_reply") {
            let ok = m
                .as_tuple()
                .and_then(|t| t.get(2))
                .and_then(|r| r.as_tuple())
                .and_then(|r| r.first())
                .is_some_and(|h| h.is_atom(Atom::OK));
            assert!(ok, "{m}");
            replies += 1;
        }
    }
    assert!(matches!(
        a.node
            .spawn("z@127.0.0.1:1", "adder", &Term::list(vec![]), WAIT),
        Err(SpawnError::NotConnected(_))
    ));
}

/// `spawn_request` with link: the new remote process and the requester
/// are linked; its crash reaches the (trapping) requester.
pub fn remote_spawn_link(make: &MakeTransport) {
    let a = TestNode::start(make, "a", "c");
    let b = TestNode::start(make, "b", "c");
    b.node.register_spawn_fn("crasher", |_| {
        Ok(Box::new(actor_fn(|_, _| Flow::Stop(Term::atom("crashed")))))
    });
    a.node
        .connect(&b.name())
        .unwrap_or_else(|e| panic!("connect: {e}"));
    let (watcher, rx) = a.probe(true);
    let r = a
        .node
        .spawn_request(watcher, &b.name(), "crasher", &Term::list(vec![]), true)
        .unwrap_or_else(|e| panic!("{e}"));
    let reply = recv_match(&rx, |m| is_tagged(m, "spawn_reply"));
    let t = reply.as_tuple().unwrap_or_default();
    assert_eq!(t.get(1), Some(&Term::Ref(r)));
    let pid = match t.get(2).and_then(|x| x.as_tuple()) {
        Some([ok, Term::Pid(p)]) if ok.is_atom(Atom::OK) => *p,
        other => panic!("bad reply {other:?}"),
    };
    let poke = a
        .rt()
        .handle()
        .spawn(actor_fn(move |cx, _| {
            cx.send(pid, Term::atom("die"));
            Flow::stop_normal()
        }))
        .unwrap_or_else(|e| panic!("{e}"));
    a.rt().handle().send(poke, Term::Unit).ok();
    let exit = recv_match(&rx, |m| {
        m.as_tuple()
            .is_some_and(|t| t.first().is_some_and(|h| h.is_atom(Atom::EXIT)))
    });
    let t = exit.as_tuple().unwrap_or_default();
    assert_eq!(t.get(1), Some(&Term::Pid(pid)));
    assert_eq!(t.get(2), Some(&Term::atom("crashed")));
}

/// Global names: visible everywhere, removed on exit and on node loss.
pub fn global_registry(make: &MakeTransport) {
    let a = TestNode::start(make, "a", "c");
    let mut b = TestNode::start(make, "b", "c");
    a.node
        .connect(&b.name())
        .unwrap_or_else(|e| panic!("connect: {e}"));
    let (p, _rx) = b.probe(false);
    b.node
        .global_register("svc", p)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        b.node.global_register("svc", p).is_err(),
        "a taken name must be refused"
    );
    eventually("a sees svc", || a.node.global_whereis("svc").is_some());
    let seen = a
        .node
        .global_whereis("svc")
        .unwrap_or_else(|| panic!("gone"));
    assert_eq!(a.node.node_of(seen).as_deref(), Some(b.name().as_str()));
    assert!(
        a.node.global_unregister("svc").is_err(),
        "only the owner's node unregisters"
    );
    // Exit removes it everywhere.
    b.rt().handle().kill(p).ok();
    eventually("svc dropped on a", || {
        a.node.global_whereis("svc").is_none()
    });
    assert!(b.node.global_whereis("svc").is_none());
    // A name registered before connecting reaches a node that joins later.
    let (q, _qrx) = b.probe(false);
    b.node
        .global_register("late", q)
        .unwrap_or_else(|e| panic!("{e}"));
    let c = TestNode::start(make, "c", "c");
    c.node
        .connect(&a.name())
        .unwrap_or_else(|e| panic!("connect: {e}"));
    eventually("c learns of b and its names", || {
        c.node.global_whereis("late").is_some()
    });
    // Node loss removes b's names.
    b.stop();
    eventually("late dropped on a", || {
        a.node.global_whereis("late").is_none()
    });
    eventually("late dropped on c", || {
        c.node.global_whereis("late").is_none()
    });
}

/// Two nodes that registered one name apart converge on one owner when
/// they meet; the loser is told.
pub fn global_conflict_converges(make: &MakeTransport) {
    let a = TestNode::start(make, "a", "c");
    let b = TestNode::start(make, "b", "c");
    let (pa, rxa) = a.probe(false);
    let (pb, rxb) = b.probe(false);
    a.node
        .global_register("leader", pa)
        .unwrap_or_else(|e| panic!("{e}"));
    b.node
        .global_register("leader", pb)
        .unwrap_or_else(|e| panic!("{e}"));
    a.node
        .connect(&b.name())
        .unwrap_or_else(|e| panic!("connect: {e}"));
    eventually("one owner on both", || {
        let (x, y) = (
            a.node.global_whereis("leader"),
            b.node.global_whereis("leader"),
        );
        match (x, y) {
            (Some(x), Some(y)) => {
                a.node.node_of(x) == b.node.node_of(y)
                    && (x.is_local() != y.is_local())
                    && x.slot() == y.slot()
            }
            _ => false,
        }
    });
    let winner_on_a = a
        .node
        .global_whereis("leader")
        .is_some_and(|p| p.is_local());
    let loser_rx = if winner_on_a { &rxb } else { &rxa };
    let lost = recv_match(loser_rx, |m| is_tagged(m, "global_name_lost"));
    assert_eq!(
        lost.as_tuple().and_then(|t| t.get(1)).cloned(),
        Some(Term::str("leader"))
    );
}

/// Connecting to one node of a cluster connects to all of them.
pub fn full_mesh(make: &MakeTransport) {
    let a = TestNode::start(make, "a", "c");
    let b = TestNode::start(make, "b", "c");
    let c = TestNode::start(make, "c", "c");
    a.node
        .connect(&b.name())
        .unwrap_or_else(|e| panic!("connect: {e}"));
    c.node
        .connect(&b.name())
        .unwrap_or_else(|e| panic!("connect: {e}"));
    eventually("a and c meet", || {
        a.node.list().len() == 2 && c.node.list().len() == 2 && b.node.list().len() == 2
    });
}

/// Two nodes dialling each other at once end with one connection.
pub fn simultaneous_connect(make: &MakeTransport) {
    for _ in 0..5 {
        let a = TestNode::start(make, "a", "c");
        let b = TestNode::start(make, "b", "c");
        let (an, bn) = (a.name(), b.name());
        let (n1, n2) = (a.node.clone(), b.node.clone());
        let t1 = std::thread::spawn(move || n1.connect(&bn));
        let t2 = std::thread::spawn(move || n2.connect(&an));
        let r1 = t1.join().unwrap_or_else(|_| panic!("join"));
        let r2 = t2.join().unwrap_or_else(|_| panic!("join"));
        assert!(r1.is_ok() && r2.is_ok(), "{r1:?} {r2:?}");
        eventually("one link each", || {
            a.node.list().len() == 1 && b.node.list().len() == 1
        });
        // The surviving link carries traffic both ways.
        let (p, rx) = b.probe(false);
        b.rt().handle().register("p", p).ok();
        a.node
            .send_named(&b.name(), "p", &Term::Int(7))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(recv_match(&rx, |t| t.as_int().is_some()), Term::Int(7));
    }
}

/// A second start, a bad name and a taken port are errors.
pub fn start_errors(make: &MakeTransport) {
    let a = TestNode::start(make, "a", "c");
    let again = NodeOptions::new("x@127.0.0.1:0", "c").unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(
        Node::start(&a.rt().handle(), again, make()),
        Err(super::NodeError::AlreadyStarted(_))
    ));
    assert!(matches!(
        NodeOptions::new("bad name", "c"),
        Err(super::NodeError::Name(_))
    ));
    assert!(matches!(
        NodeOptions::new("a@127.0.0.1:0", ""),
        Err(super::NodeError::EmptyCookie)
    ));
    let rt = Runtime::start(Config::default().with_schedulers(1).with_pinning(false))
        .unwrap_or_else(|e| panic!("{e}"));
    let taken = NodeOptions::new(&format!("b@127.0.0.1:{}", a.node.name().port()), "c")
        .unwrap_or_else(|e| panic!("{e}"));
    let err = Node::start(&rt.handle(), taken, make());
    assert!(matches!(err, Err(super::NodeError::Bind { .. })), "{err:?}");
    rt.shutdown();
}

// ---------------------------------------------------------------------
// Bad input from a hand-driven peer.
// ---------------------------------------------------------------------

/// A peer driven by hand over a blocking socket.
#[allow(missing_debug_implementations)]
pub struct Rogue {
    pub sock: TcpStream,
    tls: TlsSession,
    pub plain: Vec<u8>,
}

impl Rogue {
    /// TCP connect only.
    pub fn raw(to: &NodeName) -> TcpStream {
        let sock = TcpStream::connect(("127.0.0.1", to.port())).unwrap_or_else(|e| panic!("{e}"));
        sock.set_read_timeout(Some(WAIT)).ok();
        sock
    }

    /// TCP + TLS.
    pub fn tls(to: &NodeName) -> Rogue {
        let me = NodeName::parse("rogue@127.0.0.1:9").unwrap_or_else(|e| panic!("{e}"));
        let cfg = TlsConfig::ephemeral(&me).unwrap_or_else(|e| panic!("{e}"));
        let tls = TlsSession::client(&cfg, to).unwrap_or_else(|e| panic!("{e}"));
        let mut r = Rogue {
            sock: Rogue::raw(to),
            tls,
            plain: Vec::new(),
        };
        r.flush();
        while r.tls.is_handshaking() {
            assert!(r.pump(), "TLS handshake with the node failed");
        }
        r
    }

    /// TLS + cookie handshake as node `name`.
    pub fn authenticated(to: &NodeName, name: &str, cookie: &str, creation: u64) -> Rogue {
        let mut r = Rogue::tls(to);
        let cfg = HandshakeConfig {
            me: NodeName::parse(name).unwrap_or_else(|e| panic!("{e}")),
            creation,
            cookie: Cookie::new(cookie.as_bytes()).unwrap_or_else(|e| panic!("{e}")),
            timeout: WAIT,
        };
        let exporter = r.tls.exporter().unwrap_or_else(|e| panic!("{e}"));
        let nonce = tls::random_bytes::<32>().unwrap_or_else(|e| panic!("{e}"));
        let mut hs = Handshake::initiator(cfg, to.clone(), exporter, nonce, Instant::now());
        loop {
            let mut out = Vec::new();
            hs.take_output(&mut out);
            if !out.is_empty() {
                r.write_plain(&out);
            }
            if hs.is_done() {
                break;
            }
            assert!(r.pump(), "connection closed during the cookie handshake");
            let plain = std::mem::take(&mut r.plain);
            match hs.push_bytes(&plain, Instant::now()) {
                Ok(Progress::Done) => {
                    let mut out = Vec::new();
                    hs.take_output(&mut out);
                    if !out.is_empty() {
                        r.write_plain(&out);
                    }
                    break;
                }
                Ok(_) => {}
                Err(e) => panic!("rogue handshake failed: {e}"),
            }
        }
        r
    }

    fn flush(&mut self) {
        let mut out = Vec::new();
        self.tls.take_ciphertext(&mut out);
        if !out.is_empty() {
            let _ = self.sock.write_all(&out);
        }
    }

    /// Read once; false on EOF or error.
    pub fn pump(&mut self) -> bool {
        let mut buf = [0u8; 65536];
        match self.sock.read(&mut buf) {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                let ok = self.tls.feed(&buf[..n], &mut self.plain).is_ok();
                self.flush();
                ok
            }
        }
    }

    pub fn write_plain(&mut self, b: &[u8]) {
        self.tls
            .write_plaintext(b)
            .unwrap_or_else(|e| panic!("{e}"));
        self.flush();
    }

    /// Reads until the node closes the connection (true) or [`WAIT`]
    /// passes (false).
    pub fn closed_by_peer(&mut self) -> bool {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if !self.pump() {
                return true;
            }
        }
        false
    }
}

/// Reads from a raw socket until EOF/reset (true) or [`WAIT`] (false).
pub fn raw_closed(sock: &mut TcpStream) -> bool {
    let deadline = Instant::now() + WAIT;
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        match sock.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return false,
            Err(_) => return true,
        }
    }
    false
}

/// After a bad peer, the node still accepts a good one and carries traffic.
fn still_serves(make: &MakeTransport, a: &TestNode) {
    let good = TestNode::start(make, "good", "c");
    good.node
        .connect(&a.name())
        .unwrap_or_else(|e| panic!("node stopped serving: {e}"));
    let (p, rx) = a.probe(false);
    a.rt().handle().register("alive", p).ok();
    good.node
        .send_named(&a.name(), "alive", &Term::Int(1))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(recv_match(&rx, |t| t.as_int().is_some()), Term::Int(1));
}

pub fn plain_bytes_instead_of_tls(make: &MakeTransport) {
    let a = TestNode::start(make, "a", "c");
    let mut s = Rogue::raw(a.node.name());
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").ok();
    assert!(raw_closed(&mut s), "plain bytes must close the connection");
    still_serves(make, &a);
}

pub fn silent_peer_times_out(make: &MakeTransport) {
    let a = TestNode::start(make, "a", "c");
    let mut s = Rogue::raw(a.node.name());
    let t0 = Instant::now();
    assert!(raw_closed(&mut s), "a silent peer must be dropped");
    assert!(t0.elapsed() < WAIT);
    // Silent after TLS (never starts the cookie handshake) too.
    let mut r = Rogue::tls(a.node.name());
    assert!(
        r.closed_by_peer(),
        "a peer silent after TLS must be dropped"
    );
    still_serves(make, &a);
}

pub fn garbage_after_tls(make: &MakeTransport) {
    let a = TestNode::start(make, "a", "c");
    let mut r = Rogue::tls(a.node.name());
    // A handshake message length over the cap.
    r.write_plain(&[0xff, 0xff, 1, 2, 3, 4, 5]);
    assert!(r.closed_by_peer());
    // Raw garbage where TLS records should be.
    let mut r = Rogue::tls(a.node.name());
    r.sock
        .write_all(&[
            0x17, 0x03, 0x03, 0x00, 0x10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
        ])
        .ok();
    assert!(r.closed_by_peer());
    still_serves(make, &a);
}

/// A frame header as the wire has it: body length, kind byte, version,
/// two zero bytes.
fn frame_header(len: u32, kind: u8) -> Vec<u8> {
    let mut h = len.to_le_bytes().to_vec();
    h.extend_from_slice(&[kind, frame::WIRE_VERSION, 0, 0]);
    h
}

fn bad_frame_closes(make: &MakeTransport, frame_bytes: &[u8], then_close: bool) {
    let a = TestNode::start(make, "a", "c");
    let mut r = Rogue::authenticated(a.node.name(), "rogue@127.0.0.1:9", "c", 1);
    eventually("rogue is up", || a.node.list().len() == 1);
    r.write_plain(frame_bytes);
    if then_close {
        let _ = r.sock.shutdown(std::net::Shutdown::Write);
    }
    assert!(
        r.closed_by_peer(),
        "the node must close a link that sent a bad frame"
    );
    eventually("rogue gone", || a.node.list().is_empty());
    still_serves(make, &a);
}

pub fn oversized_frame(make: &MakeTransport) {
    bad_frame_closes(make, &frame_header(u32::MAX - 7, Kind::Send as u8), false);
}

pub fn unknown_frame_kind(make: &MakeTransport) {
    bad_frame_closes(make, &frame_header(0, 200), false);
}

pub fn invalid_frame_body(make: &MakeTransport) {
    // A Send frame whose body is 64 bytes of 0xff: fails rkyv validation.
    let mut f = frame_header(64, Kind::Send as u8);
    f.extend_from_slice(&[0xff; 64]);
    bad_frame_closes(make, &f, false);
}

pub fn invalid_term_in_frame(make: &MakeTransport) {
    // A valid Send frame whose message bytes are not a term.
    let body = SendBody {
        to: FramePid {
            node: FrameNode::Receiver,
            sched: 0,
            slot: 0,
            generation: 0,
        },
        msg: vec![99, 1, 2, 3],
    };
    let mut f = Vec::new();
    frame::encode(Kind::Send, &body, frame::DEFAULT_MAX_FRAME, &mut f)
        .unwrap_or_else(|e| panic!("{e}"));
    bad_frame_closes(make, &f, false);
}

pub fn truncated_frame(make: &MakeTransport) {
    let mut f = frame_header(64, Kind::Send as u8);
    f.extend_from_slice(&[0; 10]);
    bad_frame_closes(make, &f, true);
}

/// A second node claiming a connected node's name is refused.
pub fn duplicate_name_is_refused(make: &MakeTransport) {
    let a = TestNode::start(make, "a", "c");
    let b = TestNode::start(make, "b", "c");
    a.node
        .connect(&b.name())
        .unwrap_or_else(|e| panic!("connect: {e}"));
    let mut r = Rogue::tls(a.node.name());
    let cfg = HandshakeConfig {
        me: b.node.name().clone(),
        creation: 12345,
        cookie: Cookie::new(b"c").unwrap_or_else(|e| panic!("{e}")),
        timeout: WAIT,
    };
    let exporter = r.tls.exporter().unwrap_or_else(|e| panic!("{e}"));
    let mut hs = Handshake::initiator(
        cfg,
        a.node.name().clone(),
        exporter,
        [7; 32],
        Instant::now(),
    );
    let mut failed = None;
    for _ in 0..10 {
        let mut out = Vec::new();
        hs.take_output(&mut out);
        if !out.is_empty() {
            r.write_plain(&out);
        }
        if !r.pump() {
            break;
        }
        let plain = std::mem::take(&mut r.plain);
        match hs.push_bytes(&plain, Instant::now()) {
            Ok(Progress::Done) => panic!("a duplicate name was admitted"),
            Ok(_) => {}
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    let e = failed.unwrap_or_else(|| panic!("no refusal"));
    assert!(e.to_string().contains("duplicate node name"), "{e}");
    // The real b stays connected.
    assert_eq!(a.node.list(), vec![b.name()]);
}

/// Generates one `#[test]` per check for a transport.
#[macro_export]
macro_rules! node_conformance {
    ($make:expr) => {
        $crate::node_conformance!(@tests $make;
            connect_and_list, ipv6_nodes_connect, ca_verified_tls, terms_cross_intact, remote_send_is_ordered,
            wrong_cookie_is_refused, self_connect_is_refused, remote_links_and_monitors,
            node_loss_fires_noconnection, node_monitor_sees_nodeup, remote_spawn,
            remote_spawn_link, global_registry, global_conflict_converges, full_mesh,
            simultaneous_connect, start_errors, plain_bytes_instead_of_tls,
            silent_peer_times_out, garbage_after_tls, oversized_frame, unknown_frame_kind,
            invalid_frame_body, invalid_term_in_frame, truncated_frame,
            duplicate_name_is_refused);
    };
    (@tests $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let make = $make;
                $crate::node::testkit::$name(&make);
            }
        )*
    };
}
