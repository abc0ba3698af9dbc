//! `erlang-dist-tcp`, `erlang-dist-tls13`, `erlang-dist-tls12`: Erlang/OTP
//! distribution between two nodes on loopback, over plain TCP or over TLS
//! (`-proto_dist inet_tls`) limited to one TLS version.
//!
//! A session (one per placement) starts a private `epmd -port P -address
//! 127.0.0.1`, node `b@127.0.0.1` (it only hosts what `a` spawns there) and
//! node `a@127.0.0.1`, which runs `perf/peers/mesh_perf_dist.erl`'s command
//! loop: mesh-perf writes one command per repetition on its stdin and reads
//! `ROW` lines back (the module's header documents the protocol and what
//! each scenario does). With placement `same` both nodes run under
//! `taskset -c 0`; with `none` they are free.
//!
//! TLS carriers use a throw-away CA and one node certificate for
//! `127.0.0.1` (IP and DNS subject alternative names), written with the
//! option file into the run's temporary directory; both sides verify the
//! peer (`verify_peer`, `fail_if_no_peer_cert`). OTP 25 speaks TLS 1.2 for
//! distribution unless told otherwise; each carrier pins its version.
//!
//! Every process started here (epmd, both nodes) is stopped by its pid when
//! the session ends, on every path (the session's `Drop`), and every wait
//! is bounded. As a last resort node `b` halts itself after
//! [`NODE_LIFETIME`] even if mesh-perf was killed.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use super::pki::Pki;
use super::{Placement, RemoteRuntime, RemoteSession, Scenario};
use crate::PerfError;
use crate::peer::compile_erlang;
use crate::report::Sample;

/// Node `b` halts itself after this long whatever happens.
const NODE_LIFETIME: Duration = Duration::from_secs(3600);
/// Bound on epmd coming up.
const EPMD_START: Duration = Duration::from_secs(10);
/// Bound on both nodes starting and connecting (TLS nodes load `ssl`).
const NODES_START: Duration = Duration::from_secs(60);
/// Bound on one command (one repetition).
const COMMAND: Duration = Duration::from_secs(300);
/// Bound on a node halting after `stop`.
const HALT: Duration = Duration::from_secs(10);
/// OTP's TLS distribution moves bulk data at tens of MB/s (PERF-NOTES), so
/// TLS carriers send this many times fewer messages of at least
/// [`BULK_SIZE`] bytes, to keep a repetition to seconds. Rates are per
/// second either way.
const TLS_BULK_DIVISOR: u64 = 20;
const BULK_SIZE: usize = 16 * 1024;

/// The carrier under the distribution protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    Tcp,
    Tls13,
    Tls12,
}

impl Carrier {
    pub fn peer_name(self) -> &'static str {
        match self {
            Carrier::Tcp => "erlang-dist-tcp",
            Carrier::Tls13 => "erlang-dist-tls13",
            Carrier::Tls12 => "erlang-dist-tls12",
        }
    }

    fn tls_version(self) -> Option<&'static str> {
        match self {
            Carrier::Tcp => None,
            Carrier::Tls13 => Some("tlsv1.3"),
            Carrier::Tls12 => Some("tlsv1.2"),
        }
    }
}

/// The compiled module and, for TLS, the certificates and option file.
#[derive(Debug)]
pub struct ErlangDist {
    carrier: Carrier,
    dir: tempfile::TempDir,
    optfile: Option<PathBuf>,
}

impl ErlangDist {
    /// Compile `mesh_perf_dist.erl` and write the TLS files. Fails clearly
    /// if Erlang/OTP is not installed.
    pub fn prepare(carrier: Carrier) -> Result<ErlangDist, PerfError> {
        let peer = carrier.peer_name();
        let dir = tempfile::tempdir().map_err(PerfError::Io)?;
        compile_erlang(peer, "mesh_perf_dist.erl", dir.path())?;
        let optfile = match carrier.tls_version() {
            None => None,
            Some(version) => Some(write_tls_files(dir.path(), version)?),
        };
        Ok(ErlangDist {
            carrier,
            dir,
            optfile,
        })
    }
}

/// Write CA, node certificate, key and the `-ssl_dist_optfile` file.
fn write_tls_files(dir: &Path, version: &str) -> Result<PathBuf, PerfError> {
    let pki = Pki::loopback()?;
    let write = |name: &str, text: &str| -> Result<PathBuf, PerfError> {
        let p = dir.join(name);
        std::fs::write(&p, text).map_err(PerfError::Io)?;
        Ok(p)
    };
    let ca = write("ca.pem", &pki.ca_pem)?;
    let cert = write("node.pem", &pki.cert_pem)?;
    let key = write("node.key", &pki.key_pem)?;
    let files = format!(
        "{{certfile, {}}}, {{keyfile, {}}}, {{cacertfile, {}}}, {{verify, verify_peer}}, \
         {{versions, ['{version}']}}",
        erl_string(&cert),
        erl_string(&key),
        erl_string(&ca),
    );
    let opts = format!(
        "[{{server, [{files}, {{fail_if_no_peer_cert, true}}]}},\n {{client, [{files}]}}].\n"
    );
    write("ssl_dist.conf", &opts)
}

/// A path as an Erlang string literal.
fn erl_string(p: &Path) -> String {
    let mut s = String::from("\"");
    for c in p.to_string_lossy().chars() {
        if c == '"' || c == '\\' {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('"');
    s
}

impl RemoteRuntime for ErlangDist {
    fn name(&self) -> &'static str {
        self.carrier.peer_name()
    }

    fn open(&self, placement: Placement) -> Result<Box<dyn RemoteSession>, PerfError> {
        Ok(Box::new(Session::start(self, placement)?))
    }
}

/// The last lines a process wrote to stderr, for error messages.
#[derive(Debug, Clone, Default)]
struct Tail(Arc<Mutex<String>>);

impl Tail {
    const KEEP: usize = 8 * 1024;

    fn follow(&self, who: &'static str, r: impl Read + Send + 'static) {
        let tail = self.clone();
        let _ = thread::Builder::new()
            .name(format!("{who}-stderr"))
            .spawn(move || {
                for line in BufReader::new(r).lines() {
                    let Ok(line) = line else { break };
                    tail.push(who, &line);
                }
            });
    }

    fn push(&self, who: &str, line: &str) {
        let Ok(mut t) = self.0.lock() else { return };
        let _ = writeln!(t, "{who}: {line}");
        if t.len() > 2 * Tail::KEEP {
            let cut = t.len() - Tail::KEEP;
            let cut = (cut..t.len()).find(|&i| t.is_char_boundary(i)).unwrap_or(0);
            t.drain(..cut);
        }
    }

    fn text(&self) -> String {
        self.0.lock().map(|t| t.clone()).unwrap_or_default()
    }
}

/// epmd and two nodes, placed as asked.
#[derive(Debug)]
struct Session {
    peer: &'static str,
    carrier: Carrier,
    epmd: Option<Child>,
    b: Option<Child>,
    a: Option<Child>,
    a_stdin: Option<ChildStdin>,
    a_lines: mpsc::Receiver<String>,
    stderr: Tail,
}

fn spawn_err(peer: &'static str, tool: &'static str) -> impl FnOnce(std::io::Error) -> PerfError {
    move |source| PerfError::PeerMissing { peer, tool, source }
}

/// Wait for `child` to exit, at most `limit`.
fn wait_for(child: &mut Child, limit: Duration) -> std::io::Result<Option<ExitStatus>> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(st) = child.try_wait()? {
            return Ok(Some(st));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Stop a child by its pid (SIGKILL) and reap it, if it is still running.
fn kill(child: &mut Option<Child>) {
    if let Some(mut c) = child.take() {
        if let Ok(None) = c.try_wait() {
            let _ = c.kill();
        }
        let _ = c.wait();
    }
}

impl Session {
    fn start(rt: &ErlangDist, placement: Placement) -> Result<Session, PerfError> {
        let peer = rt.carrier.peer_name();
        let stderr = Tail::default();
        // A free port for epmd: the OS picks one, we release it and epmd
        // binds it a moment later (epmd exiting at once means we lost it).
        let port = {
            let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(PerfError::Io)?;
            l.local_addr().map_err(PerfError::Io)?.port()
        };
        let mut epmd = Command::new("epmd")
            .args(["-port", &port.to_string(), "-address", "127.0.0.1"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(spawn_err(peer, "epmd"))?;
        if let Some(e) = epmd.stderr.take() {
            stderr.follow("epmd", e);
        }
        let mut s = Session {
            peer,
            carrier: rt.carrier,
            epmd: Some(epmd),
            b: None,
            a: None,
            a_stdin: None,
            a_lines: mpsc::channel().1,
            stderr,
        };
        s.wait_epmd(port)?;
        // Loopback only and thrown away with the nodes; unguessable enough.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let cookie = format!("mesh_perf_{}_{nanos}", std::process::id());
        let node = |name: &str, eval: String| -> Command {
            let mut cmd = match placement {
                Placement::None => Command::new("erl"),
                Placement::Same => {
                    let mut c = Command::new("taskset");
                    c.args(["-c", "0", "erl"]);
                    c
                }
            };
            cmd.env("ERL_EPMD_PORT", port.to_string())
                .args(["-noshell", "-name", name, "-setcookie", &cookie])
                .args(["-start_epmd", "false"])
                .args(["-kernel", "inet_dist_use_interface", "{127,0,0,1}"])
                // `handshake` disconnects and reconnects; without this, b's
                // `global` reconnects on its own between the two and the
                // timed connect finds a connection already up.
                .args(["-kernel", "dist_auto_connect", "never"]);
            if let Some(opt) = &rt.optfile {
                cmd.args(["-proto_dist", "inet_tls", "-ssl_dist_optfile"])
                    .arg(opt);
            }
            cmd.arg("-pa").arg(rt.dir.path()).arg("-eval").arg(eval);
            cmd
        };
        let launcher = match placement {
            Placement::None => "erl",
            Placement::Same => "taskset",
        };
        let mut b = node(
            "b@127.0.0.1",
            format!("mesh_perf_dist:serve([\"{}\"])", NODE_LIFETIME.as_secs()),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(spawn_err(peer, launcher))?;
        if let Some(e) = b.stderr.take() {
            s.stderr.follow("node b", e);
        }
        s.b = Some(b);
        let mut a = node(
            "a@127.0.0.1",
            format!(
                "mesh_perf_dist:control([\"b@127.0.0.1\", \"{}\"])",
                NODES_START.as_millis()
            ),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(spawn_err(peer, launcher))?;
        if let Some(e) = a.stderr.take() {
            s.stderr.follow("node a", e);
        }
        s.a_stdin = a.stdin.take();
        if let Some(out) = a.stdout.take() {
            let (tx, rx) = mpsc::channel();
            let _ = thread::Builder::new()
                .name("erlang-a-stdout".into())
                .spawn(move || {
                    for line in BufReader::new(out).lines() {
                        let Ok(line) = line else { break };
                        if tx.send(line).is_err() {
                            break;
                        }
                    }
                });
            s.a_lines = rx;
        }
        s.a = Some(a);
        // Bounded by NODES_START on the Erlang side too; a little slack
        // for the VM to boot.
        let deadline = Instant::now() + NODES_START + Duration::from_secs(10);
        loop {
            let line = s.next_line(deadline, "starting nodes")?;
            if line == "READY" {
                break;
            }
            if let Some(err) = line.strip_prefix("ERR ") {
                return Err(s.failed("starting nodes", err));
            }
        }
        Ok(s)
    }

    fn wait_epmd(&mut self, port: u16) -> Result<(), PerfError> {
        let deadline = Instant::now() + EPMD_START;
        let addr = (Ipv4Addr::LOCALHOST, port).into();
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if let Some(e) = self.epmd.as_mut()
                && let Ok(Some(st)) = e.try_wait()
            {
                return Err(self.failed("starting epmd", &format!("epmd exited: {st}")));
            }
            if Instant::now() >= deadline {
                return Err(self.timeout("starting epmd"));
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    fn failed(&self, what: &str, detail: &str) -> PerfError {
        PerfError::PeerFailed {
            peer: self.peer,
            what: what.to_owned(),
            stderr: format!("{detail}\n{}", self.stderr.text()),
        }
    }

    fn timeout(&self, what: &str) -> PerfError {
        PerfError::PeerTimeout {
            peer: self.peer,
            what: what.to_owned(),
            stderr: self.stderr.text(),
        }
    }

    fn next_line(&self, deadline: Instant, what: &str) -> Result<String, PerfError> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.a_lines.recv_timeout(left) {
            Ok(line) => Ok(line),
            Err(mpsc::RecvTimeoutError::Timeout) => Err(self.timeout(what)),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                // Give the stderr threads a moment to collect the reason.
                thread::sleep(Duration::from_millis(100));
                Err(self.failed(what, "node a exited"))
            }
        }
    }

    /// Send one command to node `a` and collect its rows for `scenario`.
    fn command(&mut self, scenario: Scenario, line: &str) -> Result<Vec<Sample>, PerfError> {
        let what = format!("{} ({line})", scenario.key());
        match self.a_stdin.as_mut() {
            Some(w) => writeln!(w, "{line}")
                .and_then(|()| w.flush())
                .map_err(|e| self.failed(&what, &format!("writing to node a: {e}")))?,
            None => return Err(self.failed(&what, "node a has no stdin")),
        }
        let deadline = Instant::now() + COMMAND;
        let key = scenario.key();
        let mut samples = Vec::new();
        let mut error = None;
        loop {
            let line = self.next_line(deadline, &what)?;
            if line == "END" {
                break;
            }
            if let Some(err) = line.strip_prefix("ERR ") {
                error = Some(err.to_owned());
                continue;
            }
            let mut it = line.split_whitespace();
            if it.next() != Some("ROW") {
                // OTP's own reports (its logger writes to stdout): keep
                // them for the error message if this command fails.
                self.stderr.push("node a", &line);
                continue;
            }
            let (Some(sc), Some(metric), Some(v), None) =
                (it.next(), it.next(), it.next(), it.next())
            else {
                return Err(PerfError::PeerOutput(line));
            };
            let value: f64 = v.parse().map_err(|_| PerfError::PeerOutput(line.clone()))?;
            match scenario.sample(metric, value) {
                Some(s) if sc == key => samples.push(s),
                _ => return Err(PerfError::PeerOutput(line)),
            }
        }
        if let Some(err) = error {
            return Err(self.failed(&what, &err));
        }
        if samples.len() != scenario.metrics().len() {
            return Err(self.failed(&what, "missing rows"));
        }
        Ok(samples)
    }
}

impl RemoteSession for Session {
    fn pingpong(&mut self, n: usize, warmup: usize) -> Result<Option<Vec<Sample>>, PerfError> {
        self.command(Scenario::Pingpong, &format!("remote-pingpong {n} {warmup}"))
            .map(Some)
    }

    fn send(&mut self, size: usize, n: u64) -> Result<Option<Vec<Sample>>, PerfError> {
        let n = if self.carrier != Carrier::Tcp && size >= BULK_SIZE {
            (n / TLS_BULK_DIVISOR).max(10)
        } else {
            n
        };
        self.command(Scenario::Send { size }, &format!("remote-send {size} {n}"))
            .map(Some)
    }

    fn handshake(&mut self, n: usize) -> Result<Option<Vec<Sample>>, PerfError> {
        self.command(Scenario::Handshake, &format!("handshake {n}"))
            .map(Some)
    }

    fn spawn(&mut self, n: u64, window: usize) -> Result<Option<Vec<Sample>>, PerfError> {
        self.command(Scenario::Spawn, &format!("remote-spawn {n} {window}"))
            .map(Some)
    }

    fn global_register(&mut self, n: usize) -> Result<Option<Vec<Sample>>, PerfError> {
        self.command(Scenario::GlobalRegister, &format!("global-register {n}"))
            .map(Some)
    }

    /// `stop` halts `b` then `a`; both must exit within [`HALT`]. Whatever
    /// is left (and epmd) is then killed by `Drop`.
    fn close(mut self: Box<Self>) -> Result<(), PerfError> {
        if let Some(mut w) = self.a_stdin.take() {
            let _ = writeln!(w, "stop").and_then(|()| w.flush());
        }
        let mut result = Ok(());
        for (who, child) in [("node a", &mut self.a), ("node b", &mut self.b)] {
            if let Some(c) = child.as_mut() {
                match wait_for(c, HALT) {
                    Ok(Some(st)) if st.success() => {}
                    Ok(Some(st)) => {
                        result = result.and(Err(format!("{who} exited with {st}")));
                    }
                    Ok(None) => result = result.and(Err(format!("{who} did not halt"))),
                    Err(e) => result = result.and(Err(format!("{who}: {e}"))),
                }
            }
        }
        result.map_err(|e| self.failed("stopping nodes", &e))
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.a_stdin = None;
        kill(&mut self.a);
        kill(&mut self.b);
        kill(&mut self.epmd);
    }
}
