//! The node driver: joins the sans-IO pieces of `dist` to the transport
//! and the schedulers.
//!
//! Threads: the transport's reader thread of each connection runs
//! [`LinkReceiver`] (TLS, handshake, frame decoding, delivery to the
//! schedulers' inbound queues, in one batch per scheduler per read); the
//! scheduler threads encode their remote signals into a per-run-slice
//! [`RemoteBatch`] and seal it once per link at the end of the slice; one
//! ticker thread per node sends heartbeats, enforces handshake deadlines,
//! declares silent peers down and redials known nodes; each outbound
//! connection attempt runs on a short-lived thread, so an unreachable
//! host never stalls anything else.

use std::collections::HashMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use rkyv::rancor::Error as RkyvError;

use super::link::{Link, PeerInfo, Phase, Tracking};
use super::table::NodeTable;
use super::{ConnectError, SpawnError, lock, read, write};
use crate::atom::Atom;
use crate::dist::config::DistConfig;
use crate::dist::frame::{
    self, DownBody, ExitBody, FrameDecoder, FramePid, FrameRef, Kind, LinkBody, MonitorBody,
    PeerListBody, SendBody, SendNamedBody, SpawnFailure, SpawnReplyBody, SpawnRequestBody,
};
use crate::dist::global::{GlobalEffect, GlobalError, GlobalRegistry, GlobalUpdate};
use crate::dist::global_view::GlobalView;
use crate::dist::handshake::{
    Admission, Existing, Handshake, HandshakeConfig, HandshakeError, Progress, admission,
};
use crate::dist::heartbeat::{Action, FailureDetector};
use crate::dist::term_codec;
use crate::dist::tls::{self, TlsConfig, TlsSession};
use crate::dist::{Host, NodeName};
use crate::pid::{NodeId, Pid, Ref};
use crate::process::{Process, reason};
use crate::runtime::Shared;
use crate::signal::{Batch, Envelope, ExitKind, Signal, SpawnRequest};
use crate::term::Term;
use crate::transport::{Acceptor, CloseReason, Connection, Listener, Receiver, Transport};

/// How often the ticker runs.
const TICK: Duration = Duration::from_millis(50);
/// First and longest wait between redials of a known node that is down.
const REDIAL_MIN: Duration = Duration::from_millis(250);
const REDIAL_MAX: Duration = Duration::from_secs(5);

/// A function other nodes may start here by name.
pub(crate) type SpawnFn = Arc<dyn Fn(Term) -> Result<Box<dyn Process>, String> + Send + Sync>;

/// Who waits for a remote spawn's answer.
pub(crate) enum SpawnWaiter {
    /// A process: gets `(:spawn_reply, ref, (:ok, pid) | (:error, reason))`.
    Process {
        pid: Pid,
        mref: Ref,
        link: bool,
        node: Arc<str>,
    },
    /// A thread blocked in `Node::spawn`.
    Channel {
        tx: mpsc::SyncSender<Result<Pid, SpawnError>>,
        node: Arc<str>,
    },
}

struct UpEntry {
    link: Arc<Link>,
}

struct Pending {
    link: Option<Arc<Link>>,
    /// The acceptor side won a tie-break: close this one when it appears.
    aborted: bool,
}

struct Redial {
    next: Instant,
    wait: Duration,
}

/// What only the control plane touches.
pub(crate) struct State {
    up: HashMap<Arc<str>, UpEntry>,
    pending_out: HashMap<Arc<str>, Pending>,
    conns: HashMap<u64, Arc<Link>>,
    /// Nodes to stay connected to (connected once, not disconnected).
    known: HashMap<Arc<str>, Redial>,
    waiters: HashMap<Arc<str>, Vec<mpsc::SyncSender<Result<(), ConnectError>>>>,
    node_watchers: HashMap<Arc<str>, Vec<Pid>>,
    pub(crate) global: GlobalRegistry,
    spawns: HashMap<u64, SpawnWaiter>,
    pub(crate) listener: Option<Box<dyn Listener>>,
}

/// Commands for the ticker thread.
pub(crate) enum Cmd {
    Stop,
}

/// Everything a node shares between its threads.
pub(crate) struct Dist {
    pub(crate) rt: Weak<Shared>,
    pub(crate) me: NodeName,
    pub(crate) me_s: Arc<str>,
    pub(crate) hs: HandshakeConfig,
    pub(crate) tls: TlsConfig,
    pub(crate) cfg: DistConfig,
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) table: NodeTable,
    /// Up links by `NodeId` (the hot path's lookup).
    links: RwLock<Vec<Option<Arc<Link>>>>,
    pub(crate) state: Mutex<State>,
    /// Readable copy of the global registry: `whereis` never waits for the
    /// control plane.
    global_view: GlobalView,
    /// Global names owned by local processes (process exits check it).
    local_globals: AtomicUsize,
    pub(crate) spawn_fns: RwLock<HashMap<String, SpawnFn>>,
    pub(crate) stopped: AtomicBool,
    serials: AtomicU64,
    reqs: AtomicU64,
    pub(crate) cmd: Mutex<Option<mpsc::Sender<Cmd>>>,
}

/// Signals decoded from one read, per destination scheduler.
struct Deliveries {
    per_sched: Vec<Vec<Envelope>>,
    /// Frames answering the peer (spawn replies), sealed once per read
    /// and sent before the deliveries are pushed.
    replies: Vec<u8>,
}

impl Deliveries {
    fn new(n: usize) -> Deliveries {
        Deliveries {
            per_sched: (0..n).map(|_| Vec::new()).collect(),
            replies: Vec::new(),
        }
    }

    fn push(&mut self, to: Pid, sig: Signal) {
        if !to.is_local() {
            return;
        }
        if let Some(v) = self.per_sched.get_mut(to.scheduler() as usize) {
            v.push(Envelope { to, sig });
        }
    }

    fn deliver(self, shared: &Shared) {
        for (d, envs) in self.per_sched.into_iter().enumerate() {
            if !envs.is_empty()
                && let Some(s) = shared.scheds.get(d)
            {
                s.inbound.push(Batch::Many(envs));
            }
        }
    }
}

/// Per-scheduler frames waiting for the end of the run slice.
#[derive(Default)]
pub(crate) struct RemoteBatch {
    out: Vec<(NodeId, Arc<Link>, Vec<u8>)>,
    scratch: Vec<u8>,
}

impl RemoteBatch {
    pub(crate) fn is_empty(&self) -> bool {
        self.out.is_empty()
    }
}

fn exit_kind_byte(k: ExitKind) -> u8 {
    match k {
        ExitKind::Link => 0,
        ExitKind::Explicit => 1,
        ExitKind::Kill => 2,
    }
}

fn exit_kind_of(b: u8) -> Option<ExitKind> {
    match b {
        0 => Some(ExitKind::Link),
        1 => Some(ExitKind::Explicit),
        2 => Some(ExitKind::Kill),
        _ => None,
    }
}

pub(crate) fn resolve_addr(name: &NodeName) -> Result<SocketAddr, String> {
    match name.host() {
        Host::Ip(ip) => Ok(SocketAddr::new(*ip, name.port())),
        Host::Dns(h) => (h.as_str(), name.port())
            .to_socket_addrs()
            .map_err(|e| e.to_string())?
            .next()
            .ok_or_else(|| format!("{h} has no address")),
    }
}

impl Dist {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        rt: Weak<Shared>,
        me: NodeName,
        hs: HandshakeConfig,
        tls: TlsConfig,
        cfg: DistConfig,
        transport: Arc<dyn Transport>,
    ) -> Dist {
        let me_s: Arc<str> = Arc::from(me.to_string());
        Dist {
            rt,
            table: NodeTable::new(&me_s),
            links: RwLock::new(vec![None]),
            state: Mutex::new(State {
                up: HashMap::new(),
                pending_out: HashMap::new(),
                conns: HashMap::new(),
                known: HashMap::new(),
                waiters: HashMap::new(),
                node_watchers: HashMap::new(),
                global: GlobalRegistry::new(&me_s),
                spawns: HashMap::new(),
                listener: None,
            }),
            global_view: GlobalView::new(),
            local_globals: AtomicUsize::new(0),
            spawn_fns: RwLock::new(HashMap::new()),
            stopped: AtomicBool::new(false),
            serials: AtomicU64::new(1),
            reqs: AtomicU64::new(1),
            cmd: Mutex::new(None),
            me,
            me_s,
            hs,
            tls,
            cfg,
            transport,
        }
    }

    fn shared(&self) -> Option<Arc<Shared>> {
        self.rt.upgrade()
    }

    // ----------------------------------------------------------------
    // Outbound: scheduler threads.
    // ----------------------------------------------------------------

    /// Encode a signal for a process of another node into `batch`.
    /// `Err(sig)` hands it back when that node is not connected (the
    /// scheduler then answers links and monitors with `noconnection`).
    pub(crate) fn route(
        &self,
        to: Pid,
        sig: Signal,
        batch: &mut RemoteBatch,
    ) -> Result<(), Signal> {
        if self.stopped.load(Ordering::Relaxed) {
            return Err(sig);
        }
        let id = to.node();
        let idx = match batch.out.iter().position(|(n, _, _)| *n == id) {
            Some(i) => i,
            None => {
                let link = read(&self.links).get(id.0 as usize).and_then(|l| l.clone());
                let Some(link) = link else {
                    return Err(sig);
                };
                batch.out.push((id, link, Vec::new()));
                batch.out.len() - 1
            }
        };
        let (_, link, buf) = &mut batch.out[idx];
        // Links and monitors are recorded before they leave, so a
        // connection lost from now on fires them.
        match &sig {
            Signal::Link { from } => {
                let mut t = lock(&link.track);
                if t.closed {
                    return Err(sig);
                }
                t.links.insert((*from, to));
            }
            Signal::Unlink { from } => {
                lock(&link.track).links.remove(&(*from, to));
            }
            Signal::Exit {
                from,
                kind: ExitKind::Link,
                ..
            } => {
                lock(&link.track).links.remove(&(*from, to));
            }
            Signal::Monitor { from, mref } => {
                let mut t = lock(&link.track);
                if t.closed {
                    return Err(sig);
                }
                t.monitors.insert(mref.id(), (*from, to));
            }
            Signal::Demonitor { mref, .. } => {
                lock(&link.track).monitors.remove(&mref.id());
            }
            _ => {}
        }
        let limit = self.cfg.max_frame;
        let codec = self.table.encoder(id);
        let fp = |p: Pid| FramePid::from_pid(p, &codec);
        let scratch = &mut batch.scratch;
        scratch.clear();
        let res: Result<(), String> = (|| {
            let to_fp = fp(to).ok_or("unknown node")?;
            match sig {
                Signal::Message(m) => {
                    term_codec::encode(&m, &codec, scratch).map_err(|e| e.to_string())?;
                    let body = SendBody {
                        to: to_fp,
                        msg: std::mem::take(scratch),
                    };
                    let r = frame::encode(Kind::Send, &body, limit, buf);
                    *scratch = body.msg;
                    r.map_err(|e| e.to_string())
                }
                Signal::Exit { from, reason, kind } => {
                    term_codec::encode(&reason, &codec, scratch).map_err(|e| e.to_string())?;
                    let body = ExitBody {
                        from: fp(from).ok_or("unknown node")?,
                        to: to_fp,
                        reason: std::mem::take(scratch),
                        kind: exit_kind_byte(kind),
                    };
                    let r = frame::encode(Kind::Exit, &body, limit, buf);
                    *scratch = body.reason;
                    r.map_err(|e| e.to_string())
                }
                Signal::Link { from } => {
                    let body = LinkBody {
                        from: fp(from).ok_or("unknown node")?,
                        to: to_fp,
                    };
                    frame::encode(Kind::Link, &body, limit, buf).map_err(|e| e.to_string())
                }
                Signal::Unlink { from } => {
                    let body = LinkBody {
                        from: fp(from).ok_or("unknown node")?,
                        to: to_fp,
                    };
                    frame::encode(Kind::Unlink, &body, limit, buf).map_err(|e| e.to_string())
                }
                Signal::Monitor { from, mref } => {
                    let body = MonitorBody {
                        from: fp(from).ok_or("unknown node")?,
                        to: to_fp,
                        mref: mref.id(),
                    };
                    frame::encode(Kind::Monitor, &body, limit, buf).map_err(|e| e.to_string())
                }
                Signal::Demonitor { from, mref } => {
                    let body = MonitorBody {
                        from: fp(from).ok_or("unknown node")?,
                        to: to_fp,
                        mref: mref.id(),
                    };
                    frame::encode(Kind::Demonitor, &body, limit, buf).map_err(|e| e.to_string())
                }
                Signal::Down { mref, from, reason } => {
                    term_codec::encode(&reason, &codec, scratch).map_err(|e| e.to_string())?;
                    let body = DownBody {
                        from: fp(from).ok_or("unknown node")?,
                        to: to_fp,
                        mref: mref.id(),
                        reason: std::mem::take(scratch),
                    };
                    let r = frame::encode(Kind::Down, &body, limit, buf);
                    *scratch = body.reason;
                    r.map_err(|e| e.to_string())
                }
                Signal::Spawn(_) | Signal::NameAdded { .. } => Ok(()),
            }
        })();
        if let Err(why) = res {
            tracing::warn!(to = %to, reason = %why, "signal to a remote process dropped");
        }
        Ok(())
    }

    /// Seal each link's frames of this run slice.
    pub(crate) fn flush(&self, batch: &mut RemoteBatch) {
        for (_, link, buf) in batch.out.drain(..) {
            if !buf.is_empty() {
                link.send(&buf);
            }
        }
    }

    /// A local process exited: release its global names.
    pub(crate) fn local_exit(&self, pid: Pid) {
        if self.local_globals.load(Ordering::Acquire) == 0 {
            return;
        }
        let mut st = lock(&self.state);
        let mut effects = Vec::new();
        st.global.on_process_exit(pid, &mut effects);
        if effects.is_empty() {
            return;
        }
        self.apply_global(&mut st, effects);
        self.rebuild_global_view(&st);
    }

    // ----------------------------------------------------------------
    // Global registry.
    // ----------------------------------------------------------------

    pub(crate) fn global_whereis(&self, name: &str) -> Option<Pid> {
        self.global_view.whereis(name)
    }

    pub(crate) fn global_names(&self) -> Vec<(Arc<str>, Pid)> {
        self.global_view.entries()
    }

    pub(crate) fn global_register(&self, name: &str, pid: Pid) -> Result<(), GlobalError> {
        let mut st = lock(&self.state);
        let mut effects = Vec::new();
        st.global.register(name, pid, &mut effects)?;
        self.local_globals.fetch_add(1, Ordering::AcqRel);
        self.apply_global(&mut st, effects);
        self.global_view.set(name, st.global.whereis(name));
        Ok(())
    }

    pub(crate) fn global_unregister(&self, name: &str) -> Result<(), GlobalError> {
        let mut st = lock(&self.state);
        let mut effects = Vec::new();
        st.global.unregister(name, &mut effects)?;
        self.local_globals.fetch_sub(1, Ordering::AcqRel);
        self.apply_global(&mut st, effects);
        self.global_view.set(name, st.global.whereis(name));
        Ok(())
    }

    fn rebuild_global_view(&self, st: &State) {
        let fresh: HashMap<Arc<str>, Pid> = st
            .global
            .iter()
            .map(|(n, e)| (Arc::clone(n), e.pid))
            .collect();
        let mine = st.global.iter().filter(|(_, e)| e.pid.is_local()).count();
        self.local_globals.store(mine, Ordering::Release);
        self.global_view.replace(fresh);
    }

    /// Carry out registry effects (state lock held).
    fn apply_global(&self, st: &mut State, effects: Vec<GlobalEffect>) {
        for e in effects {
            match e {
                GlobalEffect::Broadcast(u) => {
                    let mut wire = Vec::new();
                    if frame::encode(Kind::Global, &u, self.cfg.max_frame, &mut wire).is_ok() {
                        for up in st.up.values() {
                            up.link.send(&wire);
                        }
                    }
                }
                GlobalEffect::SendTo { peer, update } => {
                    let mut wire = Vec::new();
                    match frame::encode(Kind::Global, &update, self.cfg.max_frame, &mut wire) {
                        Ok(()) => {
                            if let Some(up) = st.up.get(&peer) {
                                up.link.send(&wire);
                            }
                        }
                        Err(e) => tracing::warn!(
                            peer = %peer,
                            error = %e,
                            "global registry snapshot not sent"
                        ),
                    }
                }
                GlobalEffect::Lost {
                    name,
                    pid,
                    winner,
                    winner_node,
                } => {
                    tracing::info!(
                        name = %name,
                        loser = %pid,
                        winner = %winner,
                        node = %winner_node,
                        "global name lost to a concurrent registration"
                    );
                    if let Some(shared) = self.shared() {
                        let msg = Term::tuple(vec![
                            Term::atom("global_name_lost"),
                            Term::Str(Arc::from(&*name)),
                            Term::Pid(winner),
                        ]);
                        shared.push_envelope(Envelope {
                            to: pid,
                            sig: Signal::Message(msg),
                        });
                    }
                }
            }
        }
    }

    // ----------------------------------------------------------------
    // Control plane.
    // ----------------------------------------------------------------

    pub(crate) fn next_serial(&self) -> u64 {
        self.serials.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn up_peers(&self) -> Vec<String> {
        let st = lock(&self.state);
        let mut v: Vec<String> = st.up.keys().map(|k| k.to_string()).collect();
        v.sort();
        v
    }

    pub(crate) fn is_up(&self, name: &str) -> bool {
        lock(&self.state).up.contains_key(name)
    }

    /// Start connecting to `target` unless a connection is up or pending.
    /// Returns a receiver for the outcome when `wait`.
    pub(crate) fn dial(
        self: &Arc<Self>,
        target: &NodeName,
        wait: bool,
    ) -> Option<mpsc::Receiver<Result<(), ConnectError>>> {
        let name: Arc<str> = Arc::from(target.to_string());
        let (tx, rx) = mpsc::sync_channel(1);
        let mut st = lock(&self.state);
        st.known.entry(Arc::clone(&name)).or_insert(Redial {
            next: Instant::now() + REDIAL_MIN,
            wait: REDIAL_MIN,
        });
        if st.up.contains_key(&name) {
            let _ = tx.send(Ok(()));
            return wait.then_some(rx);
        }
        if wait {
            st.waiters.entry(Arc::clone(&name)).or_default().push(tx);
        }
        if st.pending_out.contains_key(&name) {
            return wait.then_some(rx);
        }
        st.pending_out.insert(
            Arc::clone(&name),
            Pending {
                link: None,
                aborted: false,
            },
        );
        drop(st);
        let me = Arc::clone(self);
        let target = target.clone();
        let spawned = std::thread::Builder::new()
            .name("mesh-dial".into())
            .spawn(move || me.dial_thread(target));
        if let Err(e) = spawned {
            let err = ConnectError::Unreachable {
                node: name.to_string(),
                reason: format!("cannot start a thread: {e}"),
            };
            let mut st = lock(&self.state);
            st.pending_out.remove(&name);
            self.notify_waiters(&mut st, &name, Err(err));
        }
        wait.then_some(rx)
    }

    fn dial_thread(self: Arc<Self>, target: NodeName) {
        let name: Arc<str> = Arc::from(target.to_string());
        let fail = |me: &Dist, reason: String| {
            tracing::debug!(node = %name, %reason, "connect failed");
            let mut st = lock(&me.state);
            st.pending_out.remove(&name);
            me.notify_waiters(
                &mut st,
                &name,
                Err(ConnectError::Unreachable {
                    node: name.to_string(),
                    reason,
                }),
            );
        };
        let addr = match resolve_addr(&target) {
            Ok(a) => a,
            Err(e) => return fail(&self, format!("cannot resolve its host: {e}")),
        };
        let session = match TlsSession::client(&self.tls, &target) {
            Ok(s) => s,
            Err(e) => return fail(&self, e.to_string()),
        };
        let serial = self.next_serial();
        let slot: Arc<Mutex<Option<Arc<Link>>>> = Arc::new(Mutex::new(None));
        let slot2 = Arc::clone(&slot);
        let weak = Arc::downgrade(&self);
        let target2 = target.clone();
        let make: crate::transport::MakeReceiver = Box::new(move |conn: Arc<dyn Connection>| {
            let link = Arc::new(Link::new(serial, conn, session, Some(target2)));
            *lock(&slot2) = Some(Arc::clone(&link));
            Box::new(LinkReceiver { dist: weak, link }) as Box<dyn Receiver>
        });
        match self
            .transport
            .connect(addr, self.cfg.handshake_timeout, make)
        {
            Ok(_) => {}
            Err(e) => return fail(&self, format!("{addr}: {e}")),
        }
        let Some(link) = lock(&slot).take() else {
            return fail(&self, "the transport did not build a receiver".into());
        };
        let aborted = {
            let mut st = lock(&self.state);
            st.conns.insert(serial, Arc::clone(&link));
            match st.pending_out.get_mut(&name) {
                Some(p) => {
                    p.link = Some(Arc::clone(&link));
                    p.aborted
                }
                None => true,
            }
        };
        if aborted {
            link.close("superseded by the connection the peer opened".into());
            return;
        }
        // The ClientHello.
        let mut tls = lock(&link.tls);
        tls.flush(&*link.conn);
    }

    fn notify_waiters(&self, st: &mut State, name: &str, res: Result<(), ConnectError>) {
        if let Some(ws) = st.waiters.remove(name) {
            for w in ws {
                let _ = w.try_send(res.clone());
            }
        }
    }

    /// The listener's accept callback.
    fn accept(self: &Arc<Self>, conn: Arc<dyn Connection>) -> Option<Box<dyn Receiver>> {
        if self.stopped.load(Ordering::Relaxed) {
            return None;
        }
        let session = match TlsSession::server(&self.tls) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(peer = %conn.peer_addr(), error = %e, "cannot start TLS");
                return None;
            }
        };
        let serial = self.next_serial();
        let link = Arc::new(Link::new(serial, conn, session, None));
        lock(&self.state).conns.insert(serial, Arc::clone(&link));
        Some(Box::new(LinkReceiver {
            dist: Arc::downgrade(self),
            link,
        }))
    }

    // ----------------------------------------------------------------
    // Inbound: the transport's reader thread of each connection.
    // ----------------------------------------------------------------

    fn on_bytes(&self, link: &Arc<Link>, data: &[u8]) {
        let mut close: Option<String> = None;
        let mut dialled: Vec<String> = Vec::new();
        let shared = self.shared();
        let mut deliveries = Deliveries::new(shared.as_ref().map_or(0, |s| s.schedulers()));
        {
            let mut rx = lock(&link.rx);
            if matches!(rx.phase, Phase::Closed) {
                return;
            }
            let mut plain = std::mem::take(&mut rx.plain);
            plain.clear();
            let mut exporter = None;
            let mut peer_closed = false;
            {
                let mut tls = lock(&link.tls);
                match tls.session.feed(data, &mut plain) {
                    Ok(c) => peer_closed = c,
                    Err(e) => close = Some(format!("TLS: {e}")),
                }
                tls.flush(&*link.conn);
                if close.is_none()
                    && matches!(rx.phase, Phase::Tls)
                    && !tls.session.is_handshaking()
                {
                    match tls.session.exporter() {
                        Ok(x) => exporter = Some(x),
                        Err(e) => close = Some(format!("TLS: {e}")),
                    }
                }
            }
            if close.is_none()
                && let Some(x) = exporter
            {
                match self.start_cookie(link, x) {
                    Ok(hs) => rx.phase = Phase::Cookie(Box::new(hs)),
                    Err(e) => close = Some(e),
                }
            }
            if close.is_none() && !plain.is_empty() {
                close =
                    self.on_plaintext(link, &mut rx.phase, &plain, &mut deliveries, &mut dialled);
            }
            if close.is_none() && peer_closed {
                close = Some("the peer closed the TLS session".into());
            }
            if close.is_some() {
                // A close from here on is ours: bytes that still arrive are
                // ignored, and on_closed reports this reason.
                let prev = std::mem::replace(&mut rx.phase, Phase::Closed);
                rx.plain = plain;
                drop(rx);
                self.after_phase_end(link, prev, close.clone().unwrap_or_default());
            } else {
                rx.plain = plain;
            }
        }
        if !deliveries.replies.is_empty() {
            link.send(&deliveries.replies);
        }
        if let Some(shared) = &shared {
            deliveries.deliver(shared);
        }
        for n in dialled {
            if let Ok(name) = NodeName::parse(&n)
                && let Some(me) = self.self_arc()
            {
                me.dial(&name, false);
            }
        }
        if let Some(why) = close {
            link.close(why);
        }
    }

    fn self_arc(&self) -> Option<Arc<Dist>> {
        self.shared().and_then(|s| s.dist.get().cloned())
    }

    fn start_cookie(&self, link: &Arc<Link>, exporter: [u8; 32]) -> Result<Handshake, String> {
        let nonce = tls::random_bytes::<32>().map_err(|e| e.to_string())?;
        let now = Instant::now();
        let mut hs = match &link.target {
            Some(t) => Handshake::initiator(self.hs.clone(), t.clone(), exporter, nonce, now),
            None => Handshake::acceptor(self.hs.clone(), exporter, nonce, now),
        };
        let mut out = Vec::new();
        hs.take_output(&mut out);
        if !out.is_empty() {
            link.send(&out);
        }
        Ok(hs)
    }

    /// Decrypted bytes. Returns a reason to close the connection.
    fn on_plaintext(
        &self,
        link: &Arc<Link>,
        phase: &mut Phase,
        plain: &[u8],
        out: &mut Deliveries,
        dialled: &mut Vec<String>,
    ) -> Option<String> {
        let now = Instant::now();
        match phase {
            Phase::Tls | Phase::Closed => Some("data before the TLS handshake finished".into()),
            Phase::Cookie(hs) => {
                let res = match hs.push_bytes(plain, now) {
                    Ok(Progress::Authenticated {
                        peer,
                        peer_creation,
                    }) => {
                        let decision = self.admit(link, &peer, peer_creation);
                        hs.admit(decision)
                    }
                    other => other,
                };
                let mut o = Vec::new();
                hs.take_output(&mut o);
                // On success the last handshake message (the acceptor's
                // Welcome) goes out from `promote`, after this node has
                // the peer as up: by the time the initiator's `connect`
                // returns, both sides can use the link.
                if !o.is_empty() && !matches!(res, Ok(Progress::Done)) {
                    link.send(&o);
                }
                match res {
                    Ok(Progress::Continue) | Ok(Progress::Authenticated { .. }) => None,
                    Ok(Progress::Done) => {
                        let Phase::Cookie(hs) = std::mem::replace(phase, Phase::Closed) else {
                            return Some("internal: handshake state lost".into());
                        };
                        match hs.finish() {
                            Ok(est) => {
                                let mut decoder = Box::new(FrameDecoder::new(self.cfg.max_frame));
                                decoder.push_bytes(&est.leftover);
                                *phase = Phase::Up {
                                    decoder,
                                    fd: FailureDetector::new(self.cfg.heartbeat, now),
                                };
                                if let Err(why) =
                                    self.promote(link, &est.peer, est.peer_creation, &o)
                                {
                                    return Some(why);
                                }
                                self.drain_frames(link, phase, out, dialled)
                            }
                            Err(e) => Some(self.handshake_failed(link, e)),
                        }
                    }
                    Err(e) => Some(self.handshake_failed(link, e)),
                }
            }
            Phase::Up { decoder, fd } => {
                fd.on_received(now);
                decoder.push_bytes(plain);
                self.drain_frames(link, phase, out, dialled)
            }
        }
    }

    /// Log a failed handshake (a wrong cookie names the peer's address)
    /// and return the close reason.
    fn handshake_failed(&self, link: &Link, e: HandshakeError) -> String {
        match &e {
            HandshakeError::LostTieBreak { .. } | HandshakeError::AlreadyConnected { .. } => {
                tracing::debug!(peer = %link.peer_addr, error = %e, "redundant connection dropped");
            }
            // A dial under a name the node does not have (discovery by
            // address learns names this way): the dialler's caller gets the
            // error; neither side has anything to fix.
            HandshakeError::UnexpectedPeer { .. } | HandshakeError::NotExpected { .. } => {
                tracing::debug!(peer = %link.peer_addr, error = %e, "dialled under another name");
            }
            _ => {
                tracing::warn!(peer = %link.peer_addr, error = %e, "distribution handshake failed");
            }
        }
        if let Some(t) = &link.target {
            let name: Arc<str> = Arc::from(t.to_string());
            let mut st = lock(&self.state);
            if st
                .pending_out
                .get(&name)
                .is_some_and(|p| p.link.as_ref().is_some_and(|l| l.serial == link.serial))
            {
                st.pending_out.remove(&name);
            }
            let benign = matches!(
                e,
                HandshakeError::LostTieBreak { .. } | HandshakeError::AlreadyConnected { .. }
            );
            if !benign && !st.up.contains_key(&name) && !st.pending_out.contains_key(&name) {
                self.notify_waiters(
                    &mut st,
                    &name,
                    Err(ConnectError::Handshake {
                        node: name.to_string(),
                        error: e.clone(),
                    }),
                );
            }
        }
        format!("handshake: {e}")
    }

    /// The acceptor's admission decision for an authenticated peer.
    fn admit(&self, link: &Link, peer: &NodeName, creation: u64) -> Admission {
        let peer_s: Arc<str> = Arc::from(peer.to_string());
        let mut st = lock(&self.state);
        let existing = if let Some(up) = st.up.get(&peer_s) {
            Existing::Up {
                creation: up.link.peer.get().map_or(0, |p| p.creation),
            }
        } else if st.pending_out.contains_key(&peer_s) {
            Existing::PendingOutgoing
        } else {
            Existing::None
        };
        let decision = admission(&self.me_s, &peer_s, creation, existing);
        if let Admission::Accept {
            abort_outgoing: true,
        } = decision
            && let Some(p) = st.pending_out.get_mut(&peer_s)
        {
            p.aborted = true;
            if let Some(l) = p.link.take()
                && l.serial != link.serial
            {
                // Closed outside our locks: on a separate thread is
                // simplest (close never blocks long, but we hold rx).
                std::thread::spawn(move || {
                    l.close("lost the tie-break to the peer's connection".into())
                });
            }
        }
        decision
    }

    /// A connection finished its handshake. `last` is our final handshake
    /// message, sent once the peer is registered as up here and before
    /// anything else can be sent on the link.
    fn promote(
        &self,
        link: &Arc<Link>,
        peer: &NodeName,
        creation: u64,
        last: &[u8],
    ) -> Result<(), String> {
        let name: Arc<str> = Arc::from(peer.to_string());
        let id = self
            .table
            .for_link(&name, creation)
            .ok_or("the node table is full")?;
        let _ = link.peer.set(PeerInfo {
            name: Arc::clone(&name),
            id,
            creation,
        });
        let mut st = lock(&self.state);
        if st.up.contains_key(&name) {
            return Err(format!(
                "a second connection to {name} came up; keeping the first"
            ));
        }
        if st
            .pending_out
            .get(&name)
            .is_some_and(|p| p.link.as_ref().is_none_or(|l| l.serial == link.serial))
        {
            st.pending_out.remove(&name);
        }
        st.up.insert(
            Arc::clone(&name),
            UpEntry {
                link: Arc::clone(link),
            },
        );
        // Under the state lock and before the link is routable, so no
        // frame can overtake it.
        if !last.is_empty() {
            link.send(last);
        }
        {
            let mut links = write(&self.links);
            let i = id.0 as usize;
            if links.len() <= i {
                links.resize(i + 1, None);
            }
            links[i] = Some(Arc::clone(link));
        }
        st.known.insert(
            Arc::clone(&name),
            Redial {
                next: Instant::now() + REDIAL_MIN,
                wait: REDIAL_MIN,
            },
        );
        self.notify_waiters(&mut st, &name, Ok(()));
        tracing::info!(node = %name, addr = %link.peer_addr, "node up");
        if let Some(ws) = st.node_watchers.get(&name)
            && let Some(shared) = self.shared()
        {
            let msg = Term::tuple(vec![Term::Atom(Atom::NODEUP), Term::Str(Arc::clone(&name))]);
            for w in ws {
                shared.push_envelope(Envelope {
                    to: *w,
                    sig: Signal::Message(msg.clone()),
                });
            }
        }
        // Peers first (so the other node completes the mesh), then our
        // global names.
        let nodes: Vec<String> = st
            .up
            .keys()
            .filter(|k| **k != name)
            .map(|k| k.to_string())
            .collect();
        let mut wire = Vec::new();
        if frame::encode(
            Kind::PeerList,
            &PeerListBody { nodes },
            self.cfg.max_frame,
            &mut wire,
        )
        .is_ok()
        {
            link.send(&wire);
        }
        let mut effects = Vec::new();
        st.global.on_peer_up(&name, &mut effects);
        self.apply_global(&mut st, effects);
        Ok(())
    }

    fn drain_frames(
        &self,
        link: &Arc<Link>,
        phase: &mut Phase,
        out: &mut Deliveries,
        dialled: &mut Vec<String>,
    ) -> Option<String> {
        let Phase::Up { decoder, .. } = phase else {
            return None;
        };
        let peer = link.peer.get()?.clone();
        loop {
            let f = match decoder.next_frame() {
                Ok(None) => return None,
                Ok(Some(f)) => f,
                Err(e) => return Some(format!("bad frame from {}: {e}", peer.name)),
            };
            let fr = match f.decode() {
                Ok(fr) => fr,
                Err(e) => return Some(format!("bad frame from {}: {e}", peer.name)),
            };
            if let Err(why) = self.on_frame(link, &peer, fr, out, dialled) {
                return Some(format!("bad {:?} frame from {}: {why}", f.kind, peer.name));
            }
        }
    }

    fn on_frame(
        &self,
        link: &Arc<Link>,
        peer: &PeerInfo,
        fr: FrameRef<'_>,
        out: &mut Deliveries,
        dialled: &mut Vec<String>,
    ) -> Result<(), String> {
        let mut codec = self.table.decoder(peer.id);
        let unknown = || "a pid names a node that cannot be resolved".to_string();
        let local = |p: Pid| -> Result<Pid, String> {
            if p.is_local() {
                Ok(p)
            } else {
                Err("a pid that should be ours names another node".into())
            }
        };
        let term = |bytes: &[u8], codec: &mut super::table::DecodeCodec<'_>| {
            term_codec::decode(bytes, codec).map_err(|e| e.to_string())
        };
        match fr {
            FrameRef::Heartbeat | FrameRef::NodeStatus(_) => {}
            FrameRef::Send(b) => {
                let to = local(b.to.to_pid(&mut codec).ok_or_else(unknown)?)?;
                let msg = term(b.msg.as_slice(), &mut codec)?;
                out.push(to, Signal::Message(msg));
            }
            FrameRef::SendNamed(b) => {
                let msg = term(b.msg.as_slice(), &mut codec)?;
                if let Some(shared) = self.shared()
                    && let Some(to) = shared.registry.whereis(b.name.as_str())
                {
                    out.push(to, Signal::Message(msg));
                }
            }
            FrameRef::Link(b) | FrameRef::Unlink(b) => {
                let is_link = matches!(fr, FrameRef::Link(_));
                let from = b.from.to_pid(&mut codec).ok_or_else(unknown)?;
                let to = local(b.to.to_pid(&mut codec).ok_or_else(unknown)?)?;
                let mut t = lock(&link.track);
                if is_link {
                    t.links.insert((to, from));
                    drop(t);
                    out.push(to, Signal::Link { from });
                } else {
                    t.links.remove(&(to, from));
                    drop(t);
                    out.push(to, Signal::Unlink { from });
                }
            }
            FrameRef::Exit(b) => {
                let from = b.from.to_pid(&mut codec).ok_or_else(unknown)?;
                let to = local(b.to.to_pid(&mut codec).ok_or_else(unknown)?)?;
                let kind = exit_kind_of(b.kind).ok_or("unknown exit kind")?;
                let reason = term(b.reason.as_slice(), &mut codec)?;
                if kind == ExitKind::Link {
                    lock(&link.track).links.remove(&(to, from));
                }
                out.push(to, Signal::Exit { from, reason, kind });
            }
            FrameRef::Monitor(b) | FrameRef::Demonitor(b) => {
                let from = b.from.to_pid(&mut codec).ok_or_else(unknown)?;
                let to = local(b.to.to_pid(&mut codec).ok_or_else(unknown)?)?;
                let mref = Ref::from_parts(from.node(), b.mref.to_native());
                if matches!(fr, FrameRef::Monitor(_)) {
                    out.push(to, Signal::Monitor { from, mref });
                } else {
                    out.push(to, Signal::Demonitor { from, mref });
                }
            }
            FrameRef::Down(b) => {
                let from = b.from.to_pid(&mut codec).ok_or_else(unknown)?;
                let to = local(b.to.to_pid(&mut codec).ok_or_else(unknown)?)?;
                let id = b.mref.to_native();
                let reason = term(b.reason.as_slice(), &mut codec)?;
                lock(&link.track).monitors.remove(&id);
                out.push(
                    to,
                    Signal::Down {
                        mref: Ref::from_parts(NodeId::LOCAL, id),
                        from,
                        reason,
                    },
                );
            }
            FrameRef::SpawnRequest(b) => {
                let from = b.from.to_pid(&mut codec).ok_or_else(unknown)?;
                let args = term(b.args.as_slice(), &mut codec)?;
                let result =
                    self.spawn_for_peer(link, from, b.function.as_str(), args, b.link, out);
                let reply = SpawnReplyBody {
                    req: b.req.to_native(),
                    to: FramePid::from_pid(from, &self.table.encoder(peer.id))
                        .ok_or_else(unknown)?,
                    result: match result {
                        Ok(p) => Ok(FramePid::from_pid(p, &self.table.encoder(peer.id))
                            .ok_or_else(unknown)?),
                        Err(f) => Err(f),
                    },
                };
                frame::encode(
                    Kind::SpawnReply,
                    &reply,
                    self.cfg.max_frame,
                    &mut out.replies,
                )
                .map_err(|e| e.to_string())?;
                // Replies are sealed at the end of this read, before the
                // new processes are delivered, so anything they send back
                // comes after their reply.
            }
            FrameRef::SpawnReply(b) => {
                let req = b.req.to_native();
                let result: Result<Pid, SpawnError> = match &b.result {
                    rkyv::result::ArchivedResult::Ok(p) => {
                        Ok(p.to_pid(&mut codec).ok_or_else(unknown)?)
                    }
                    rkyv::result::ArchivedResult::Err(f) => {
                        let f: SpawnFailure = rkyv::deserialize::<SpawnFailure, RkyvError>(f)
                            .map_err(|e| e.to_string())?;
                        Err(SpawnError::Refused {
                            node: peer.name.to_string(),
                            failure: f,
                        })
                    }
                };
                let waiter = lock(&self.state).spawns.remove(&req);
                if let Some(w) = waiter {
                    self.answer_spawn(w, result, Some(link), out);
                }
            }
            FrameRef::Global(g) => {
                let u: GlobalUpdate =
                    rkyv::deserialize::<GlobalUpdate, RkyvError>(g).map_err(|e| e.to_string())?;
                let mut st = lock(&self.state);
                let mut effects = Vec::new();
                st.global
                    .on_update(&peer.name, peer.id, u, &mut effects)
                    .map_err(|e| e.to_string())?;
                self.apply_global(&mut st, effects);
                self.rebuild_global_view(&st);
            }
            FrameRef::PeerList(p) => {
                let st = lock(&self.state);
                for n in p.nodes.iter() {
                    let n = n.as_str();
                    if n != &*self.me_s && !st.up.contains_key(n) && !st.pending_out.contains_key(n)
                    {
                        dialled.push(n.to_owned());
                    }
                }
            }
        }
        Ok(())
    }

    /// Start a process a peer asked for.
    fn spawn_for_peer(
        &self,
        link: &Link,
        from: Pid,
        function: &str,
        args: Term,
        linked: bool,
        out: &mut Deliveries,
    ) -> Result<Pid, SpawnFailure> {
        let f = read(&self.spawn_fns).get(function).cloned();
        let Some(f) = f else {
            return Err(SpawnFailure::UnknownFunction(function.to_owned()));
        };
        let process = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(args))) {
            Ok(Ok(p)) => p,
            Ok(Err(why)) => return Err(SpawnFailure::BadArgs(why)),
            Err(_) => {
                return Err(SpawnFailure::NotStarted(
                    "the spawn function panicked".into(),
                ));
            }
        };
        let Some(shared) = self.shared() else {
            return Err(SpawnFailure::NotStarted("the node is stopping".into()));
        };
        if shared.shutdown.load(Ordering::Acquire) {
            return Err(SpawnFailure::NotStarted("the node is stopping".into()));
        }
        let d = shared.next_round_robin();
        let (slot, generation) = shared.scheds[d].reserve();
        let pid = Pid::from_parts(NodeId::LOCAL, d as u16, slot, generation);
        shared.process_started();
        if linked {
            lock(&link.track).links.insert((pid, from));
        }
        out.push(
            pid,
            Signal::Spawn(Box::new(SpawnRequest {
                process,
                link: linked.then_some(from),
                monitor: None,
            })),
        );
        Ok(pid)
    }

    fn answer_spawn(
        &self,
        w: SpawnWaiter,
        result: Result<Pid, SpawnError>,
        link: Option<&Arc<Link>>,
        out: &mut Deliveries,
    ) {
        match w {
            SpawnWaiter::Channel { tx, .. } => {
                let _ = tx.try_send(result);
            }
            SpawnWaiter::Process {
                pid,
                mref,
                link: linked,
                ..
            } => {
                let answer = match &result {
                    Ok(p) => {
                        if linked && let Some(l) = link {
                            lock(&l.track).links.insert((pid, *p));
                            out.push(pid, Signal::Link { from: *p });
                        }
                        Term::tuple(vec![Term::Atom(Atom::OK), Term::Pid(*p)])
                    }
                    Err(e) => Term::tuple(vec![Term::Atom(Atom::ERROR), e.reason_term()]),
                };
                out.push(
                    pid,
                    Signal::Message(Term::tuple(vec![
                        Term::atom("spawn_reply"),
                        Term::Ref(mref),
                        answer,
                    ])),
                );
            }
        }
    }

    /// Ask `node` to start `function(args)`.
    pub(crate) fn spawn_request(
        &self,
        node: &str,
        function: &str,
        args: &Term,
        from: Pid,
        waiter: SpawnWaiter,
        batch: Option<&mut RemoteBatch>,
    ) -> Result<(), SpawnError> {
        let link = {
            let st = lock(&self.state);
            st.up.get(node).map(|u| Arc::clone(&u.link))
        };
        let Some(link) = link else {
            return Err(SpawnError::NotConnected(node.to_owned()));
        };
        let Some(peer) = link.peer.get() else {
            return Err(SpawnError::NotConnected(node.to_owned()));
        };
        let req = self.reqs.fetch_add(1, Ordering::Relaxed);
        let mut wire = Vec::new();
        {
            let codec = self.table.encoder(peer.id);
            let mut a = Vec::new();
            term_codec::encode(args, &codec, &mut a)
                .map_err(|e| SpawnError::BadArgs(e.to_string()))?;
            let linked = matches!(waiter, SpawnWaiter::Process { link: true, .. });
            let body = SpawnRequestBody {
                req,
                from: FramePid::from_pid(from, &codec)
                    .ok_or_else(|| SpawnError::BadArgs("unknown requester".into()))?,
                function: function.to_owned(),
                args: a,
                link: linked,
                monitor: None,
            };
            frame::encode(Kind::SpawnRequest, &body, self.cfg.max_frame, &mut wire)
                .map_err(|e| SpawnError::BadArgs(e.to_string()))?;
        }
        lock(&self.state).spawns.insert(req, waiter);
        if let Some(batch) = batch {
            // From a process: sealed with the rest of its run slice.
            match batch.out.iter_mut().find(|(id, _, _)| *id == peer.id) {
                Some((_, _, buf)) => buf.extend_from_slice(&wire),
                None => batch.out.push((peer.id, Arc::clone(&link), wire)),
            }
            return Ok(());
        }
        if !link.send(&wire) {
            lock(&self.state).spawns.remove(&req);
            return Err(SpawnError::NotConnected(node.to_owned()));
        }
        Ok(())
    }

    pub(crate) fn send_named(&self, node: &str, name: &str, msg: &Term) -> Result<(), String> {
        let link = {
            let st = lock(&self.state);
            st.up.get(node).map(|u| Arc::clone(&u.link))
        };
        let Some(link) = link else {
            return Err(format!("not connected to {node}"));
        };
        let Some(peer) = link.peer.get() else {
            return Err(format!("not connected to {node}"));
        };
        let mut wire = Vec::new();
        {
            let codec = self.table.encoder(peer.id);
            let mut m = Vec::new();
            term_codec::encode(msg, &codec, &mut m).map_err(|e| e.to_string())?;
            let body = SendNamedBody {
                name: name.to_owned(),
                msg: m,
            };
            frame::encode(Kind::SendNamed, &body, self.cfg.max_frame, &mut wire)
                .map_err(|e| e.to_string())?;
        }
        link.send(&wire);
        Ok(())
    }

    pub(crate) fn monitor_node(&self, watcher: Pid, node: &str) {
        let name: Arc<str> = Arc::from(node);
        let mut st = lock(&self.state);
        let up = st.up.contains_key(&name);
        let ws = st.node_watchers.entry(Arc::clone(&name)).or_default();
        if !ws.contains(&watcher) {
            ws.push(watcher);
        }
        drop(st);
        if !up && let Some(shared) = self.shared() {
            shared.push_envelope(Envelope {
                to: watcher,
                sig: Signal::Message(Term::tuple(vec![
                    Term::Atom(Atom::NODEDOWN),
                    Term::Str(name),
                ])),
            });
        }
    }

    pub(crate) fn demonitor_node(&self, watcher: Pid, node: &str) -> bool {
        let mut st = lock(&self.state);
        match st.node_watchers.get_mut(node) {
            Some(ws) => {
                let before = ws.len();
                ws.retain(|w| *w != watcher);
                before != ws.len()
            }
            None => false,
        }
    }

    pub(crate) fn disconnect(&self, node: &str) -> bool {
        let link = {
            let mut st = lock(&self.state);
            st.known.remove(node);
            st.up.get(node).map(|u| Arc::clone(&u.link))
        };
        match link {
            Some(l) => {
                l.close("disconnected by this node".into());
                true
            }
            None => false,
        }
    }

    /// The end of a connection's handshake or life: clean up after it.
    fn after_phase_end(&self, link: &Arc<Link>, prev: Phase, why: String) {
        match prev {
            Phase::Up { .. } => self.link_down(link, &why),
            Phase::Tls | Phase::Cookie(_) => {
                let mut st = lock(&self.state);
                st.conns.remove(&link.serial);
                if let Some(t) = &link.target {
                    let name: Arc<str> = Arc::from(t.to_string());
                    let mine = st
                        .pending_out
                        .get(&name)
                        .is_some_and(|p| p.link.as_ref().is_some_and(|l| l.serial == link.serial));
                    if mine {
                        st.pending_out.remove(&name);
                        if !st.up.contains_key(&name) {
                            self.notify_waiters(
                                &mut st,
                                &name,
                                Err(ConnectError::Unreachable {
                                    node: name.to_string(),
                                    reason: why,
                                }),
                            );
                        }
                    }
                }
            }
            Phase::Closed => {}
        }
    }

    /// An established connection is gone: fire every link and monitor
    /// across it with `noconnection`, tell node watchers, drop the peer's
    /// global names.
    fn link_down(&self, link: &Arc<Link>, why: &str) {
        let Some(peer) = link.peer.get() else {
            return;
        };
        let shared = self.shared();
        let mut out = Deliveries::new(shared.as_ref().map_or(0, |s| s.schedulers()));
        let mut st = lock(&self.state);
        st.conns.remove(&link.serial);
        let was_current = st
            .up
            .get(&peer.name)
            .is_some_and(|u| u.link.serial == link.serial);
        if was_current {
            st.up.remove(&peer.name);
            let mut links = write(&self.links);
            if let Some(slot) = links.get_mut(peer.id.0 as usize) {
                *slot = None;
            }
        }
        tracing::warn!(node = %peer.name, reason = %why, "node down");
        let t = std::mem::take(&mut *lock(&link.track));
        lock(&link.track).closed = true;
        let Tracking {
            links, monitors, ..
        } = t;
        for (local, remote) in links {
            out.push(
                local,
                Signal::Exit {
                    from: remote,
                    reason: reason::noconnection(),
                    kind: ExitKind::Link,
                },
            );
        }
        for (id, (watcher, target)) in monitors {
            out.push(
                watcher,
                Signal::Down {
                    mref: Ref::from_parts(NodeId::LOCAL, id),
                    from: target,
                    reason: reason::noconnection(),
                },
            );
        }
        if was_current {
            st.global.on_peer_down(&peer.name);
            self.rebuild_global_view(&st);
            if let Some(ws) = st.node_watchers.get(&peer.name) {
                let msg = Term::tuple(vec![
                    Term::Atom(Atom::NODEDOWN),
                    Term::Str(Arc::clone(&peer.name)),
                ]);
                for w in ws {
                    out.push(*w, Signal::Message(msg.clone()));
                }
            }
            let failed: Vec<u64> = st
                .spawns
                .iter()
                .filter(|(_, w)| match w {
                    SpawnWaiter::Process { node, .. } | SpawnWaiter::Channel { node, .. } => {
                        *node == peer.name
                    }
                })
                .map(|(k, _)| *k)
                .collect();
            let waiters: Vec<SpawnWaiter> =
                failed.iter().filter_map(|k| st.spawns.remove(k)).collect();
            drop(st);
            for w in waiters {
                self.answer_spawn(
                    w,
                    Err(SpawnError::NotConnected(peer.name.to_string())),
                    None,
                    &mut out,
                );
            }
        } else {
            drop(st);
        }
        if let Some(shared) = shared {
            out.deliver(&shared);
        }
    }

    fn on_closed(&self, link: &Arc<Link>, reason: CloseReason) {
        let prev = {
            let mut rx = lock(&link.rx);
            std::mem::replace(&mut rx.phase, Phase::Closed)
        };
        lock(&link.tls).closed = true;
        let why = lock(&link.close_reason)
            .clone()
            .unwrap_or_else(|| match &reason {
                CloseReason::Eof => "the peer closed the connection".to_owned(),
                CloseReason::Local => "closed by this node".to_owned(),
                CloseReason::Io(e) => format!("I/O error: {e}"),
                CloseReason::Overflow { limit } => {
                    format!("the peer stopped reading ({limit} bytes queued)")
                }
            });
        if let Phase::Cookie(mut hs) = prev {
            let e = hs.on_closed();
            self.handshake_failed(link, e);
            self.after_phase_end(link, Phase::Tls, why);
        } else {
            self.after_phase_end(link, prev, why);
        }
        lock(&self.state).conns.remove(&link.serial);
    }

    // ----------------------------------------------------------------
    // Ticker.
    // ----------------------------------------------------------------

    pub(crate) fn ticker(self: Arc<Self>, cmds: mpsc::Receiver<Cmd>) {
        loop {
            match cmds.recv_timeout(TICK) {
                Ok(Cmd::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => return,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            if self.stopped.load(Ordering::Relaxed) {
                return;
            }
            self.tick(Instant::now());
        }
    }

    fn tick(self: &Arc<Self>, now: Instant) {
        let conns: Vec<Arc<Link>> = lock(&self.state).conns.values().cloned().collect();
        let hs_limit = self.cfg.handshake_timeout;
        for link in conns {
            let mut close = None;
            let mut abort = false;
            {
                let mut rx = lock(&link.rx);
                match &mut rx.phase {
                    Phase::Up { fd, .. } => match fd.poll(now) {
                        Action::Nothing => {}
                        Action::SendHeartbeat => {
                            let mut wire = Vec::new();
                            frame::encode_heartbeat(&mut wire);
                            fd.on_sent(now);
                            link.send(&wire);
                        }
                        Action::Down { silent_for } => {
                            abort = true;
                            close = Some(format!(
                                "no bytes for {silent_for:?} (heartbeat timeout; MESH_HEARTBEAT_MS)"
                            ));
                        }
                    },
                    Phase::Cookie(hs) => {
                        if let Err(e) = hs.check_deadline(now) {
                            close = Some(self.handshake_failed(&link, e));
                        }
                    }
                    Phase::Tls => {
                        if link.created.elapsed() > hs_limit {
                            tracing::warn!(
                                peer = %link.peer_addr,
                                "TLS handshake did not finish within {hs_limit:?}"
                            );
                            close =
                                Some(format!("TLS handshake did not finish within {hs_limit:?}"));
                        }
                    }
                    Phase::Closed => {}
                }
                if close.is_some() {
                    let prev = std::mem::replace(&mut rx.phase, Phase::Closed);
                    drop(rx);
                    if let Some(why) = &close {
                        self.after_phase_end(&link, prev, why.clone());
                    }
                }
            }
            match close {
                Some(why) if abort => link.abort(why),
                Some(why) => link.close(why),
                None => {}
            }
        }
        // Redial known nodes that are down.
        let due: Vec<Arc<str>> = {
            let mut st = lock(&self.state);
            let mut due = Vec::new();
            let State {
                known,
                up,
                pending_out,
                ..
            } = &mut *st;
            for (name, r) in known.iter_mut() {
                if up.contains_key(name) {
                    r.wait = REDIAL_MIN;
                    continue;
                }
                if pending_out.contains_key(name) || now < r.next {
                    continue;
                }
                r.next = now + r.wait;
                r.wait = (r.wait * 2).min(REDIAL_MAX);
                due.push(Arc::clone(name));
            }
            due
        };
        for n in due {
            if let Ok(name) = NodeName::parse(&n) {
                self.dial(&name, false);
            }
        }
    }

    /// Close every connection and stop accepting.
    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
        if let Some(tx) = lock(&self.cmd).take() {
            let _ = tx.send(Cmd::Stop);
        }
        let (listener, conns) = {
            let mut st = lock(&self.state);
            st.known.clear();
            (
                st.listener.take(),
                st.conns.values().cloned().collect::<Vec<_>>(),
            )
        };
        if let Some(l) = listener {
            l.close();
        }
        for c in conns {
            c.close("this node is stopping".into());
        }
    }
}

/// The transport's receiver for one connection.
pub(crate) struct LinkReceiver {
    dist: Weak<Dist>,
    link: Arc<Link>,
}

impl Receiver for LinkReceiver {
    fn on_bytes(&mut self, data: &[u8]) {
        if let Some(d) = self.dist.upgrade() {
            d.on_bytes(&self.link, data);
        }
    }

    fn on_closed(&mut self, reason: CloseReason) {
        if let Some(d) = self.dist.upgrade() {
            d.on_closed(&self.link, reason);
        }
    }
}

/// The listener's acceptor. The listener is bound before the node
/// exists (its port is part of the node's name), so the node is filled in
/// after; a connection accepted before that is refused.
pub(crate) struct LateAcceptor(pub(crate) Arc<Mutex<Option<Weak<Dist>>>>);

impl Acceptor for LateAcceptor {
    fn on_accept(&self, conn: Arc<dyn Connection>) -> Option<Box<dyn Receiver>> {
        let d = lock(&self.0).as_ref()?.upgrade()?;
        d.accept(conn)
    }
}
