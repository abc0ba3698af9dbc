//! Nodes in separate OS processes: this test binary re-executes itself as
//! a child node (the `child_node` test, which does nothing unless
//! `MESH_TEST_CHILD_OF` is set), then the parent kills it with SIGKILL or
//! freezes it with SIGSTOP and checks what the survivors see. Every child
//! is killed and reaped by the test that started it, and a child exits by
//! itself after a minute if its parent is gone.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use mesh_core::node::testkit::{TestNode, WAIT, eventually, expect_loss, recv_match};
use mesh_core::node::{Node, NodeOptions};
use mesh_core::transport::Transport;
use mesh_core::{Atom, Config, Flow, Runtime, Term, actor_fn};
use mesh_transport_tcp::TcpTransport;

const COOKIE: &str = "multi-process-cookie";

fn tcp() -> Arc<dyn Transport> {
    Arc::new(TcpTransport::new())
}

/// The child's side. Not a real test unless started by a parent.
#[test]
fn child_node() {
    let Ok(parent) = std::env::var("MESH_TEST_CHILD_OF") else {
        return;
    };
    let rt = Runtime::start(Config::default().with_schedulers(2).with_pinning(false))
        .unwrap_or_else(|e| panic!("child runtime: {e}"));
    let opts = NodeOptions::new("child@127.0.0.1:0", COOKIE).unwrap_or_else(|e| panic!("{e}"));
    let node = Node::start(&rt.handle(), opts, tcp()).unwrap_or_else(|e| panic!("{e}"));
    let worker = rt
        .handle()
        .spawn(actor_fn(|_, _| Flow::Continue))
        .unwrap_or_else(|e| panic!("{e}"));
    node.global_register("child_worker", worker)
        .unwrap_or_else(|e| panic!("{e}"));
    node.connect(&parent)
        .unwrap_or_else(|e| panic!("child connect: {e}"));
    println!("READY {}", node.name());
    // Stay up until killed (bounded, in case the parent died first).
    std::thread::sleep(Duration::from_secs(60));
    rt.shutdown();
}

struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_child(parent: &str) -> (ChildGuard, String) {
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("{e}"));
    let mut child = Command::new(exe)
        .args([
            "--exact",
            "child_node",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("MESH_TEST_CHILD_OF", parent)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start the child node: {e}"));
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    let guard = ChildGuard(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // libtest may print "test child_node ... " on the same line.
            if let Some(at) = line.find("READY ") {
                let _ = tx.send(line[at + 6..].trim().to_owned());
            }
        }
    });
    let name = rx
        .recv_timeout(WAIT)
        .unwrap_or_else(|_| panic!("the child node did not start"));
    (guard, name)
}

/// Link, monitor and node-monitor the child's worker from `a`, with a
/// stream of messages flowing to it. Returns the watcher's mailbox.
fn watch_child(a: &TestNode, child: &str) -> mpsc::Receiver<Term> {
    eventually("child's global name", || {
        a.node.global_whereis("child_worker").is_some()
    });
    let remote = a
        .node
        .global_whereis("child_worker")
        .unwrap_or_else(|| panic!("no worker"));
    a.watch_remote(remote, Some(child), true)
}

fn tag(t: &Term) -> Option<Atom> {
    t.as_tuple()
        .and_then(|x| x.first())
        .and_then(|h| h.as_atom())
}

#[test]
fn killed_child_node_is_cleaned_up_on_the_survivors() {
    let a = TestNode::start(&tcp, "a", COOKIE);
    let b = TestNode::start(&tcp, "b", COOKIE);
    a.node.connect(&b.name()).unwrap_or_else(|e| panic!("{e}"));
    let (mut child, child_name) = start_child(&a.name());
    eventually("full mesh with the child", || {
        a.node.list().len() == 2 && b.node.list().len() == 2
    });
    let rx = watch_child(&a, &child_name);
    eventually("b sees the child's name", || {
        b.node.global_whereis("child_worker").is_some()
    });
    let t0 = Instant::now();
    child.0.kill().unwrap_or_else(|e| panic!("kill -9: {e}"));
    expect_loss(&rx, &child_name);
    // A killed process's socket is closed by its kernel: detected at once,
    // well inside the heartbeat bound.
    let took = t0.elapsed();
    assert!(took < Duration::from_secs(3), "nodedown took {took:?}");
    eventually("a drops the child's global name", || {
        a.node.global_whereis("child_worker").is_none()
    });
    eventually("b drops the child's global name", || {
        b.node.global_whereis("child_worker").is_none()
    });
    eventually("b drops the child", || b.node.list() == vec![a.name()]);
    assert_eq!(a.node.list(), vec![b.name()]);
}

/// A frozen child (SIGSTOP: no bytes, no FIN, like a partition) is
/// declared down by the heartbeat; after SIGCONT it reconnects and node
/// monitors hear `nodeup`.
#[test]
fn frozen_child_is_declared_down_then_comes_back() {
    let a = TestNode::start(&tcp, "a", COOKIE);
    let (child, child_name) = start_child(&a.name());
    eventually("connected", || a.node.list().len() == 1);
    let rx = watch_child(&a, &child_name);
    let pid = nix::unistd::Pid::from_raw(child.0.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGSTOP)
        .unwrap_or_else(|e| panic!("SIGSTOP: {e}"));
    expect_loss(&rx, &child_name);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGCONT)
        .unwrap_or_else(|e| panic!("SIGCONT: {e}"));
    let up = recv_match(&rx, |m| tag(m) == Some(Atom::NODEUP));
    assert_eq!(
        up.as_tuple().and_then(|t| t.get(1)).cloned(),
        Some(Term::str(&child_name))
    );
    eventually("the child is listed again", || {
        a.node.list() == vec![child_name.clone()]
    });
    // On the child's side the link to our linker fired `noconnection` too,
    // so its worker died and its global name did not come back.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(a.node.global_whereis("child_worker"), None);
    drop(child);
}
