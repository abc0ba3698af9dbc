//! Two-node tests: Mesh programs built with `meshc build`, run as two OS
//! processes on loopback that talk over TLS with a cookie. Every process
//! is killed by a guard when the test ends (also when it fails), and
//! every wait is bounded.
//!
//! A serving node is started with port 0 and prints `node <full name>`
//! first; the test reads the real name from there and hands it to the
//! other node on its command line.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::{code, meshc, text};

/// Longest wait for any one line or exit.
const WAIT: Duration = Duration::from_secs(30);

/// A running node process; killed (SIGKILL) and reaped on drop.
pub struct NodeProc {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
    /// Every stdout line seen so far.
    pub seen: Vec<String>,
}

impl Drop for NodeProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl NodeProc {
    /// Starts `exe args...` with piped output.
    pub fn start(exe: &Path, args: &[&str], env: &[(&str, &str)]) -> NodeProc {
        let mut cmd = Command::new(exe);
        cmd.args(args)
            .env("MESH_SCHEDULERS", "2")
            .env_remove("MESH_TRANSPORT")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let out = child.stdout.take().unwrap();
        let mut err = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines() {
                let Ok(l) = l else { break };
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        let (etx, stderr) = mpsc::channel();
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            let _ = etx.send(s);
        });
        NodeProc {
            child,
            lines,
            stderr,
            seen: Vec::new(),
        }
    }

    /// The next stdout line (bounded wait).
    pub fn line(&mut self) -> String {
        match self.lines.recv_timeout(WAIT) {
            Ok(l) => {
                self.seen.push(l.clone());
                l
            }
            Err(_) => {
                let err = self.kill_and_stderr();
                panic!(
                    "no line within {WAIT:?}; seen so far: {:#?}\nstderr: {err}",
                    self.seen
                )
            }
        }
    }

    /// Reads lines until one starts with `prefix`; returns it.
    pub fn until(&mut self, prefix: &str) -> String {
        loop {
            let l = self.line();
            if l.starts_with(prefix) {
                return l;
            }
        }
    }

    /// The full name a serving node printed as `node NAME`.
    pub fn node_name(&mut self) -> String {
        let l = self.until("node ");
        l.trim_start_matches("node ").to_owned()
    }

    /// Waits for the process to exit (bounded); returns its status code,
    /// all remaining stdout lines and its stderr.
    pub fn finish(&mut self) -> (i32, Vec<String>, String) {
        let deadline = Instant::now() + WAIT;
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                let err = self.kill_and_stderr();
                panic!(
                    "process did not exit within {WAIT:?}; stdout so far: {:#?}\nstderr: {err}",
                    self.seen
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        while let Ok(l) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen.push(l);
        }
        let err = self.stderr.recv_timeout(WAIT).unwrap_or_default();
        (status.code().unwrap_or(-1), self.seen.clone(), err)
    }

    /// Kill -9 now.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Kill -9 now; everything it wrote to stderr.
    pub fn kill_and_stderr(&mut self) -> String {
        self.kill();
        self.stderr.recv_timeout(WAIT).unwrap_or_default()
    }
}

/// `meshc build DIR -o OUT/NAME`; returns the executable.
pub fn build(dir: &Path, out: &Path, name: &str) -> PathBuf {
    let exe = out.join(name);
    let o = meshc()
        .arg("build")
        .arg(dir)
        .arg("-o")
        .arg(&exe)
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "build {}: {}", dir.display(), text(&o.stderr));
    exe
}

fn case_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/dist")
        .join(name)
}

fn expected(name: &str, file: &str) -> Vec<String> {
    let t = std::fs::read_to_string(case_dir(name).join(file)).unwrap();
    t.lines().map(str::to_owned).collect()
}

#[test]
fn remote_spawn_and_send_carry_every_kind_and_a_closure_fails_the_sender() {
    let tmp = tempfile::tempdir().unwrap();
    let exe = build(&case_dir("kinds"), tmp.path(), "kinds");
    let mut b = NodeProc::start(&exe, &["serve", "b@127.0.0.1:0", "kinds-cookie"], &[]);
    let peer = b.node_name();
    let mut a = NodeProc::start(
        &exe,
        &["probe", "a@127.0.0.1:0", "kinds-cookie", &peer],
        &[("MESH_TRANSPORT", "tcp")],
    );
    let (status, out, err) = a.finish();
    assert_eq!(out, expected("kinds", "probe.out"), "stderr: {err}");
    assert_eq!(status, 1, "the closure send ends main: {err}");
    assert!(
        err.contains("main.mpl:95: `send` failed: to ")
            && err.contains("a closure cannot be sent to another node"),
        "{err}"
    );
    // The same through a timer, with the closure inside a list.
    let mut t = NodeProc::start(
        &exe,
        &["probe_timer", "t@127.0.0.1:0", "kinds-cookie", &peer],
        &[],
    );
    let (status, out, err) = t.finish();
    assert_eq!(out, expected("kinds", "probe.out"), "stderr: {err}");
    assert_eq!(status, 1, "{err}");
    assert!(
        err.contains("main.mpl:93: `Timer.send_after` failed: to ")
            && err.contains("a closure cannot be sent to another node"),
        "{err}"
    );
}

/// Replaces the real names of loopback nodes (`app@127.0.0.1:PORT`) with
/// the defaults the examples show (`app@localhost:4000`).
fn normalise(line: &str) -> String {
    let mut out = line.to_owned();
    for (prefix, shown) in [
        ("app@127.0.0.1:", "app@localhost:4000"),
        ("worker@127.0.0.1:", "worker@localhost:4001"),
    ] {
        while let Some(i) = out.find(prefix) {
            let rest = &out[i + prefix.len()..];
            let digits = rest.chars().take_while(char::is_ascii_digit).count();
            out = format!("{}{}{}", &out[..i], shown, &rest[digits..]);
        }
    }
    out
}

fn read_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Every two-node project under `examples/` (one with
/// `expected.app.out` and `expected.worker.out`) built with `meshc build`
/// and run as its README says: `NAME worker` first, then `NAME`; both
/// outputs must be as expected (the worker's first line, its node name,
/// aside).
#[test]
fn two_node_examples_print_their_expected_output() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let tmp = tempfile::tempdir().unwrap();
    let mut ran = 0;
    let mut projects: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("expected.app.out").exists())
        .collect();
    projects.sort();
    for project in projects {
        let name = project.file_name().unwrap().to_string_lossy().into_owned();
        let want_app = read_lines(&project.join("expected.app.out"));
        let want_worker = read_lines(&project.join("expected.worker.out"));
        let exe = build(&project, tmp.path(), &name);
        let mut worker = NodeProc::start(
            &exe,
            &["worker"],
            &[("MESH_WORKER_NODE", "worker@127.0.0.1:0")],
        );
        let worker_name = worker.node_name();
        let mut app = NodeProc::start(
            &exe,
            &[],
            &[
                ("MESH_APP_NODE", "app@127.0.0.1:0"),
                ("MESH_WORKER_NODE", &worker_name),
            ],
        );
        let (status, out, err) = app.finish();
        let out: Vec<String> = out.iter().map(|l| normalise(l)).collect();
        assert_eq!(out, want_app, "{name} (app): stderr {err}");
        assert_eq!(status, 0, "{name} (app): {err}");
        let got: Vec<String> = (0..want_worker.len())
            .map(|_| normalise(&worker.line()))
            .collect();
        assert_eq!(got, want_worker, "{name} (worker)");
        ran += 1;
    }
    assert!(ran >= 5, "two-node examples found: {ran}");
}

/// Builds case `name`, serves it on node b until b prints `ready`, runs
/// the probe on node a, kills b with SIGKILL when a asks for it, and checks
/// a's whole output against `probe.out` and its exit status.
fn probe_then_kill_the_peer(name: &str, cookie: &str, ready: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let exe = build(&case_dir(name), tmp.path(), name);
    let mut b = NodeProc::start(&exe, &["serve", "b@127.0.0.1:0", cookie], &[]);
    let peer = b.node_name();
    b.until(ready);
    let mut a = NodeProc::start(&exe, &["probe", "a@127.0.0.1:0", cookie, &peer], &[]);
    a.until("kill the peer now");
    b.kill();
    let (status, out, err) = a.finish();
    assert_eq!(out, expected(name, "probe.out"), "stderr: {err}");
    assert_eq!(status, 0, "{err}");
}

#[test]
fn global_names_replicate_and_go_with_their_process_or_node_and_nodedown_follows_kill_9() {
    probe_then_kill_the_peer("global", "global-cookie", "node_b ");
}

#[test]
fn a_service_is_called_across_nodes_and_a_call_after_its_node_died_fails_the_caller() {
    probe_then_kill_the_peer("services", "svc-cookie", "counter ");
}

#[test]
fn a_wrong_cookie_fails_node_connect_with_a_clear_result() {
    let tmp = tempfile::tempdir().unwrap();
    let exe = build(&case_dir("global"), tmp.path(), "global");
    let mut b = NodeProc::start(&exe, &["serve", "b@127.0.0.1:0", "right-cookie"], &[]);
    let peer = b.node_name();
    let mut a = NodeProc::start(
        &exe,
        &["connect", "a@127.0.0.1:0", "wrong-cookie", &peer],
        &[],
    );
    let (status, out, err) = a.finish();
    assert_eq!(status, 0, "{err}");
    assert_eq!(out.len(), 2, "{out:?}");
    assert!(
        out[0].starts_with("connect failed: ") && out[0].contains("cookie"),
        "{out:?}"
    );
    assert_eq!(out[1], "peers: []");
    // Both sides log the refusal.
    assert!(err.contains("cookie mismatch"), "{err}");
    let b_err = b.kill_and_stderr();
    assert!(
        b_err.contains("WARN") && b_err.contains("cookie mismatch"),
        "{b_err}"
    );
}

#[test]
fn an_unknown_or_unbuilt_transport_is_a_startup_error() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("t.mpl");
    std::fs::write(&f, "fn main() do\n  println(\"ran\")\nend\n").unwrap();
    let o = meshc()
        .arg("run")
        .arg(&f)
        .env("MESH_TRANSPORT", "quic")
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    assert!(o.stdout.is_empty());
    let err = text(&o.stderr);
    assert!(
        err.contains("MESH_TRANSPORT=\"quic\"") && err.contains("`tcp`"),
        "{err}"
    );
    let o = meshc()
        .arg("run")
        .arg(&f)
        .env("MESH_TRANSPORT", "uring")
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    let err = text(&o.stderr);
    assert!(err.contains("io_uring transport is not built yet"), "{err}");
    let o = meshc()
        .arg("run")
        .arg(&f)
        .env("MESH_TRANSPORT", "tcp")
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "ran\n");
}

/// A port free on both 127.0.0.1 and ::1 (bound, then released).
fn free_port_both() -> u16 {
    for _ in 0..50 {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        if std::net::TcpListener::bind(("::1", port)).is_ok() {
            return port;
        }
    }
    panic!("no port free on both loopbacks");
}

#[test]
fn start_from_env_standalone_and_inconsistent_environments() {
    let tmp = tempfile::tempdir().unwrap();
    let exe = build(&case_dir("clustered"), tmp.path(), "clustered");
    let run = |env: &[(&str, &str)]| {
        let mut cmd = Command::new(&exe);
        for k in [
            "MESH_CLUSTER_COOKIE",
            "MESH_NODE_NAME",
            "MESH_CLUSTER_PORT",
            "MESH_DISCOVERY_SEED",
        ] {
            cmd.env_remove(k);
        }
        let o = cmd.envs(env.iter().copied()).output().unwrap();
        assert_eq!(code(&o), 0, "{}", text(&o.stderr));
        text(&o.stdout)
    };
    assert_eq!(
        run(&[]),
        "[clustered] runtime bootstrap mode=standalone node=nonode@nohost cluster_port=4370 discovery_seed=\n"
    );
    assert_eq!(
        run(&[("MESH_NODE_NAME", "a@127.0.0.1")]),
        "[clustered] runtime bootstrap failed reason=MESH_NODE_NAME is set but MESH_CLUSTER_COOKIE is not: set the cookie to join a cluster, or unset MESH_NODE_NAME to run standalone\n"
    );
    let out = run(&[
        ("MESH_CLUSTER_COOKIE", "c"),
        ("MESH_NODE_NAME", "a@127.0.0.1:4000"),
    ]);
    assert!(
        out.contains("has port 4000 but MESH_CLUSTER_PORT is 4370"),
        "{out}"
    );
    let out = run(&[("MESH_CLUSTER_COOKIE", "c")]);
    assert!(out.contains("MESH_NODE_NAME is not"), "{out}");
    let out = run(&[("MESH_CLUSTER_PORT", "http")]);
    assert!(
        out.contains("MESH_CLUSTER_PORT=\"http\" is not a port"),
        "{out}"
    );
}

/// The clustered example's two nodes (`primary@127.0.0.1`,
/// `standby@[::1]`, one cluster port, seed `localhost`): the standby's
/// discovery finds the primary and both end up connected.
#[test]
fn start_from_env_nodes_find_each_other_through_the_discovery_seed() {
    let tmp = tempfile::tempdir().unwrap();
    let exe = build(&case_dir("clustered"), tmp.path(), "clustered");
    let port = free_port_both().to_string();
    let primary = format!("primary@127.0.0.1:{port}");
    let standby = format!("standby@[::1]:{port}");
    let env = |name: &str| {
        vec![
            ("MESH_CLUSTER_COOKIE", "dev-cookie".to_owned()),
            ("MESH_NODE_NAME", name.to_owned()),
            ("MESH_CLUSTER_PORT", port.clone()),
            ("MESH_DISCOVERY_SEED", "localhost".to_owned()),
        ]
    };
    let pe = env(&primary);
    let pe: Vec<(&str, &str)> = pe.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut a = NodeProc::start(&exe, &[], &pe);
    assert_eq!(
        a.line(),
        format!(
            "[clustered] runtime bootstrap mode=cluster node={primary} cluster_port={port} discovery_seed=localhost"
        )
    );
    let se = env(&standby);
    let se: Vec<(&str, &str)> = se.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut b = NodeProc::start(&exe, &[], &se);
    assert_eq!(
        b.line(),
        format!(
            "[clustered] runtime bootstrap mode=cluster node={standby} cluster_port={port} discovery_seed=localhost"
        )
    );
    assert_eq!(b.line(), format!("peers: [{primary}]"));
    assert_eq!(a.line(), format!("peers: [{standby}]"));
    // Learning a peer's name by address is not a failure to log.
    for err in [a.kill_and_stderr(), b.kill_and_stderr()] {
        assert!(!err.contains("handshake failed"), "{err}");
    }
}

#[test]
fn a_remote_spawn_of_an_unknown_function_fails_the_caller_not_the_node() {
    let tmp = tempfile::tempdir().unwrap();
    let kinds = build(&case_dir("kinds"), tmp.path(), "kinds");
    let global = build(&case_dir("global"), tmp.path(), "global");
    // The serving node runs another program: it has no `Main.holder`.
    let mut b = NodeProc::start(&kinds, &["serve", "b@127.0.0.1:0", "c"], &[]);
    let peer = b.node_name();
    let mut a = NodeProc::start(
        &global,
        &["spawn_missing", "a@127.0.0.1:0", "c", &peer],
        &[],
    );
    let (status, out, err) = a.finish();
    assert_eq!(out, ["connect Ok(())"], "{err}");
    assert_eq!(status, 1, "{err}");
    assert!(
        err.contains("`Node.spawn` failed: ")
            && err.contains("could not start it: (:unknown_function, Main.holder)"),
        "{err}"
    );
    // The other node is still up and serving.
    let mut c = NodeProc::start(&kinds, &["probe", "c@127.0.0.1:0", "c", &peer], &[]);
    assert_eq!(c.line(), "started true");
    assert_eq!(c.line(), "connected");
}

#[test]
fn node_monitor_sees_nodedown_then_nodeup_when_the_node_restarts() {
    let tmp = tempfile::tempdir().unwrap();
    let exe = build(&case_dir("global"), tmp.path(), "global");
    // A fixed port, so the restarted node has the same name.
    let port = free_port_both();
    let peer = format!("b@127.0.0.1:{port}");
    let mut b = NodeProc::start(&exe, &["serve", &peer, "c"], &[]);
    assert_eq!(b.node_name(), peer);
    let mut a = NodeProc::start(&exe, &["watch", "a@127.0.0.1:0", "c", &peer], &[]);
    a.until("watching");
    b.kill();
    a.until("nodedown for the peer");
    let mut b2 = NodeProc::start(&exe, &["serve", &peer, "c"], &[]);
    assert_eq!(b2.node_name(), peer);
    let (status, out, err) = a.finish();
    assert_eq!(status, 0, "{err}");
    assert_eq!(
        out,
        [
            "connect Ok(())",
            "watching",
            "nodedown for the peer: true",
            "nodeup for the peer: true",
            "peers again: true"
        ],
        "{err}"
    );
}
