//! `lang-remote-pingpong` and `lang-remote-send`: the remote scenarios
//! written in Mesh (`peers/lang/remote.mpl`), run as the runtime
//! `mesh-lang` beside the Rust-API version ([`super::mesh`], runtime
//! `mesh`) and the peers, with the same sizes and metrics, so the table's
//! ratio column is the cost of the language over the Rust API.
//!
//! Each repetition runs the program twice in this process, as two nodes
//! (two runtimes of one scheduler each, TLS 1.3 and the cookie handshake
//! over the TCP transport on loopback, as the Rust-API version): `serve`,
//! then the client, each on its own thread. Mesh has no clock, so the
//! harness timestamps every line the programs print (each `println` is one
//! write): a pingpong client prints one line per round trip, and the gap
//! between consecutive lines is that round trip (the print, into a buffer
//! that wakes nobody, costs well under a microsecond); a send is timed from the client's `start` line to the
//! counter's `done` line. Placement is applied as in [`super::mesh`]: the
//! opening thread is confined first, and the nodes' threads inherit it.

use std::io::Write;
use std::sync::mpsc;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

use mesh_core::Config;
use mesh_core::transport::Transport;
use mesh_lang::compile::Options;
use mesh_lang::compile::bytecode::Program;
use mesh_transport_tcp::TcpTransport;

use super::{Placement, RemoteRuntime, RemoteSession, Scenario};
use crate::PerfError;
use crate::report::Sample;

const REP_TIMEOUT: Duration = Duration::from_secs(120);
const COOKIE: &str = "mesh-perf";
const SOURCE: &str = include_str!("../../peers/lang/remote.mpl");

static PROGRAM: LazyLock<Result<Program, String>> = LazyLock::new(|| {
    mesh_lang::compile_project(&[("main.mpl", SOURCE)], Options { optimize: true })
        .map(|(p, _)| p)
        .map_err(|d| {
            d.iter()
                .map(|d| d.message.clone())
                .collect::<Vec<_>>()
                .join("\n")
        })
});

/// The `mesh-lang` runtime of the remote scenarios.
#[derive(Debug)]
pub struct MeshLangRemote;

impl RemoteRuntime for MeshLangRemote {
    fn name(&self) -> &'static str {
        "mesh-lang"
    }

    fn open(&self, placement: Placement) -> Result<Box<dyn RemoteSession>, PerfError> {
        let program = PROGRAM.as_ref().map_err(|e| PerfError::PeerFailed {
            peer: "mesh-lang",
            what: "compiling peers/lang/remote.mpl".into(),
            stderr: e.clone(),
        })?;
        let before = super::mesh::confine(placement)?;
        Ok(Box::new(LangSession {
            program: program.clone(),
            before,
        }))
    }
}

struct LangSession {
    program: Program,
    before: Option<nix::sched::CpuSet>,
}

impl Drop for LangSession {
    fn drop(&mut self) {
        super::mesh::restore(self.before.take());
    }
}

/// Lines a program printed, with when each was written.
type Lines = Arc<Mutex<Vec<(Instant, String)>>>;

/// A program's stdout or stderr: every line is stamped and kept. Writing
/// wakes nobody (a channel would wake the harness once per round trip and
/// put its cost into the measurement); the harness reads after the fact.
#[derive(Clone, Default)]
struct Stamped(Lines);

impl Write for Stamped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let at = Instant::now();
        let mut g = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        for line in String::from_utf8_lossy(buf).lines() {
            g.push((at, line.to_owned()));
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Stamped {
    fn snapshot(&self) -> Vec<(Instant, String)> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// One node: the program running on its own thread.
struct Run {
    out: Stamped,
    err: Stamped,
    done: mpsc::Receiver<Result<i32, String>>,
}

impl Run {
    fn start(program: &Program, args: Vec<String>) -> Result<Run, PerfError> {
        let (out, err) = (Stamped::default(), Stamped::default());
        let (dtx, done) = mpsc::channel();
        let transport: mesh_lang::run::TransportFactory =
            Arc::new(|| Ok(Arc::new(TcpTransport::new()) as Arc<dyn Transport>));
        let opts = mesh_lang::run::RunOptions {
            stdout: Box::new(out.clone()),
            stderr: Box::new(err.clone()),
            args,
            config: Some(Config::default().with_schedulers(1).with_pinning(false)),
            transport: Some(transport),
            native: mesh_lang::run::native_from_env(),
        };
        let program = program.clone();
        std::thread::Builder::new()
            .name("mesh-lang-node".into())
            .spawn(move || {
                let r = mesh_lang::run::run(program, opts).map_err(|e| e.to_string());
                let _ = dtx.send(r);
            })
            .map_err(PerfError::Io)?;
        Ok(Run { out, err, done })
    }

    fn fail(&self, what: &str) -> PerfError {
        let stderr: Vec<String> = self.err.snapshot().into_iter().map(|(_, l)| l).collect();
        PerfError::PeerFailed {
            peer: "mesh-lang",
            what: what.to_owned(),
            stderr: stderr.join("\n"),
        }
    }

    /// The first line, waiting for it (bounded; polled, before any timing).
    fn first_line(&self, what: &'static str) -> Result<String, PerfError> {
        let deadline = Instant::now() + REP_TIMEOUT;
        loop {
            if let Some((_, l)) = self.out.snapshot().into_iter().next() {
                return Ok(l);
            }
            if let Ok(r) = self.done.try_recv() {
                return Err(self.fail(&format!("{what}: the program ended ({r:?})")));
            }
            if Instant::now() > deadline {
                return Err(PerfError::Timeout(what));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Waits (bounded) for the program to end with status 0; its lines.
    fn finish(&self, what: &'static str) -> Result<Vec<(Instant, String)>, PerfError> {
        match self.done.recv_timeout(REP_TIMEOUT) {
            Ok(Ok(0)) => Ok(self.out.snapshot()),
            Ok(r) => Err(self.fail(&format!("{what}: {r:?}"))),
            Err(_) => Err(PerfError::Timeout(what)),
        }
    }
}

impl LangSession {
    /// Starts the serving node; returns it and its full name.
    fn serve(&self, count: u64, half: u64) -> Result<(Run, String), PerfError> {
        let b = Run::start(
            &self.program,
            vec![
                "serve".into(),
                "perf_b@127.0.0.1:0".into(),
                COOKIE.into(),
                count.to_string(),
                half.to_string(),
            ],
        )?;
        let line = b.first_line("lang-remote: serving node start")?;
        let name = line
            .strip_prefix("node ")
            .ok_or_else(|| PerfError::PeerOutput(line.clone()))?
            .to_owned();
        Ok((b, name))
    }

    fn client(&self, mode: &str, peer: &str, rest: &[u64]) -> Result<Run, PerfError> {
        let mut args = vec![
            mode.to_owned(),
            "perf_a@127.0.0.1:0".to_owned(),
            COOKIE.to_owned(),
            peer.to_owned(),
        ];
        args.extend(rest.iter().map(u64::to_string));
        Run::start(&self.program, args)
    }
}

impl RemoteSession for LangSession {
    fn pingpong(&mut self, n: usize, warmup: usize) -> Result<Option<Vec<Sample>>, PerfError> {
        let (b, peer) = self.serve(1, 1)?;
        let a = self.client("pingpong", &peer, &[n as u64, warmup as u64])?;
        let lines = a.finish("lang-remote-pingpong: client")?;
        b.finish("lang-remote-pingpong: server")?;
        let start = lines
            .iter()
            .position(|(_, l)| l == "start")
            .ok_or_else(|| PerfError::PeerOutput(format!("{} lines, no start", lines.len())))?;
        let stamps: Vec<Instant> = lines[start..].iter().map(|(at, _)| *at).collect();
        if stamps.len() != n + 1 {
            return Err(PerfError::PeerOutput(format!(
                "{} round trips printed, {n} expected",
                stamps.len() - 1
            )));
        }
        let mut rtts: Vec<Duration> = stamps.windows(2).map(|w| w[1] - w[0]).collect();
        Ok(Some(Scenario::rtt_samples(&mut rtts)))
    }

    fn send(&mut self, size: usize, count: u64) -> Result<Option<Vec<Sample>>, PerfError> {
        // The same window as the Rust-API version.
        let window = ((4u64 << 20) / size.max(1) as u64).clamp(8, 4096);
        let half = (window / 2).max(1);
        let (b, peer) = self.serve(count, half)?;
        let a = self.client("send", &peer, &[count, window, size as u64])?;
        let sent = a.finish("lang-remote-send: client")?;
        let got = b.finish("lang-remote-send: server")?;
        let stamp = |lines: &[(Instant, String)], what: &str| {
            lines
                .iter()
                .find(|(_, l)| l == what)
                .map(|(at, _)| *at)
                .ok_or_else(|| PerfError::PeerOutput(format!("no {what} line")))
        };
        let (t0, t1) = (stamp(&sent, "start")?, stamp(&got, "done")?);
        Ok(Some(Scenario::send_samples(
            size,
            count,
            t1.duration_since(t0),
        )))
    }

    fn close(mut self: Box<Self>) -> Result<(), PerfError> {
        super::mesh::restore(self.before.take());
        Ok(())
    }
}
