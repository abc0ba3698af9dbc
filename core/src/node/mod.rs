//! A node: a runtime joined to other runtimes over TLS.
//!
//! [`Node::start`] names the runtime `name@host:port`, listens there
//! through a [`Transport`], and from then on every pid of another node is
//! reachable from any process with the ordinary `send`, `link`, `monitor`
//! and `exit`. What each submodule owns:
//! * `driver`: the connections' life (TLS, cookie handshake, admission,
//!   frames in and out, heartbeats, redials), the replicated global
//!   registry, remote spawn and node monitors.
//! * `link`: one connection's state and locks.
//! * `table`: node ids per incarnation and pid re-qualification.
//!
//! Semantics, as Erlang's: messages between two processes arrive in the
//! order sent while a connection lasts; a message to a node that is not
//! connected is dropped; when a connection is lost, every link across it
//! fires with reason `noconnection` and every monitor across it delivers
//! DOWN `noconnection`; node monitors get `(:nodedown, name)` and, when
//! the node is back, `(:nodeup, name)`. Connecting to one node connects
//! to all of its peers (a full mesh), and the node keeps redialling nodes
//! it was connected to until [`Node::disconnect`] (250 ms doubling to 5 s).
//!
//! Global names: every node holds the whole table; `whereis` is a local
//! read. Two nodes registering one name at the same moment converge on
//! the claim with the lowest (Lamport clock, node name) stamp; the losing
//! process gets `(:global_name_lost, name, winner_pid)`. Names are dropped
//! when their process exits or their node is lost.

mod driver;
mod link;
mod table;
#[cfg(feature = "testkit")]
pub mod testkit;

use std::sync::mpsc;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use crate::dist::config::{DistConfig, DistConfigError};
use crate::dist::frame::SpawnFailure;
use crate::dist::global::GlobalError;
use crate::dist::handshake::{Cookie, HandshakeConfig, HandshakeError};
use crate::dist::tls::{self, TlsConfig, TlsError};
use crate::dist::{NameError, NodeName};
use crate::pid::{NodeId, Pid, Ref};
use crate::process::Process;
use crate::runtime::RuntimeHandle;
use crate::term::Term;
use crate::transport::{Transport, TransportError};

pub(crate) use driver::{Dist, RemoteBatch};

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn read<T>(m: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(m: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(|p| p.into_inner())
}

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    #[error(transparent)]
    Name(#[from] NameError),
    #[error("the distribution cookie must not be empty: give every node the same non-empty cookie")]
    EmptyCookie,
    #[error("this runtime is already the node {0}: a runtime runs one node")]
    AlreadyStarted(String),
    #[error("cannot resolve the host of {node}: {reason}")]
    Resolve { node: String, reason: String },
    #[error("cannot listen on {addr}: {source} (is the port in use?)")]
    Bind {
        addr: std::net::SocketAddr,
        source: TransportError,
    },
    #[error("TLS setup: {0}")]
    Tls(#[from] TlsError),
    #[error(transparent)]
    Config(#[from] DistConfigError),
    #[error("the runtime is shutting down")]
    Stopped,
    #[error("cannot start the distribution thread: {0}")]
    Thread(std::io::Error),
}

/// Why `connect` failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    #[error(transparent)]
    BadName(#[from] NameError),
    #[error("{0} is this node")]
    SelfConnect(String),
    #[error("cannot reach {node}: {reason}")]
    Unreachable { node: String, reason: String },
    #[error("{node} refused the connection: {error}")]
    Handshake { node: String, error: HandshakeError },
    #[error("{node} did not answer within {after:?}")]
    Timeout { node: String, after: Duration },
    #[error("this node is stopping")]
    Stopped,
}

/// Why a remote spawn failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SpawnError {
    #[error("not connected to {0}")]
    NotConnected(String),
    #[error("{node} could not start it: {failure:?}")]
    Refused { node: String, failure: SpawnFailure },
    #[error("the arguments cannot be sent: {0}")]
    BadArgs(String),
    #[error("{node} did not answer within {after:?}")]
    Timeout { node: String, after: Duration },
}

impl SpawnError {
    /// The reason as a term, for `(:spawn_reply, ref, (:error, reason))`:
    /// `:noconnection`, `(:unknown_function, name)`, `(:bad_args, text)`,
    /// `(:not_started, text)`, `:timeout`.
    pub fn reason_term(&self) -> Term {
        match self {
            SpawnError::NotConnected(_) => Term::atom("noconnection"),
            SpawnError::Refused { failure, .. } => match failure {
                SpawnFailure::UnknownFunction(n) => {
                    Term::tuple(vec![Term::atom("unknown_function"), Term::str(n)])
                }
                SpawnFailure::BadArgs(t) => Term::tuple(vec![Term::atom("bad_args"), Term::str(t)]),
                SpawnFailure::NotStarted(t) => {
                    Term::tuple(vec![Term::atom("not_started"), Term::str(t)])
                }
            },
            SpawnError::BadArgs(t) => Term::tuple(vec![Term::atom("bad_args"), Term::str(t)]),
            SpawnError::Timeout { .. } => Term::atom("timeout"),
        }
    }
}

/// How to start a node.
#[derive(Debug, Clone)]
pub struct NodeOptions {
    name: NodeName,
    cookie: Cookie,
    tls: Option<TlsConfig>,
    dist: DistConfig,
}

impl NodeOptions {
    /// `name` is `name@host:port` (port 0: the OS picks one). TLS comes
    /// from `MESH_TLS_*` (ephemeral when unset), limits from the
    /// environment (`dist::config`), unless set with the `with_` methods.
    pub fn new(name: &str, cookie: &str) -> Result<NodeOptions, NodeError> {
        let name = NodeName::parse(name)?;
        let cookie = Cookie::new(cookie.as_bytes()).map_err(|_| NodeError::EmptyCookie)?;
        Ok(NodeOptions {
            name,
            cookie,
            tls: None,
            dist: DistConfig::from_env()?,
        })
    }

    pub fn with_tls(mut self, tls: TlsConfig) -> NodeOptions {
        self.tls = Some(tls);
        self
    }

    pub fn with_dist(mut self, dist: DistConfig) -> NodeOptions {
        self.dist = dist;
        self
    }
}

/// A started node. Cheap to clone; usable from any thread and from
/// processes.
#[derive(Clone)]
pub struct Node {
    dist: Arc<Dist>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("name", &self.dist.me_s)
            .finish()
    }
}

/// Longest a blocking `connect` or `spawn` waits by default beyond the
/// handshake limit.
const CONNECT_SLACK: Duration = Duration::from_secs(1);

impl Node {
    /// Turn the runtime into node `opts.name`, listening with `transport`.
    pub fn start(
        rt: &RuntimeHandle,
        opts: NodeOptions,
        transport: Arc<dyn Transport>,
    ) -> Result<Node, NodeError> {
        if let Some(d) = rt.shared.dist.get() {
            return Err(NodeError::AlreadyStarted(d.me_s.to_string()));
        }
        if rt
            .shared
            .shutdown
            .load(std::sync::atomic::Ordering::Acquire)
        {
            return Err(NodeError::Stopped);
        }
        let addr = driver::resolve_addr(&opts.name).map_err(|reason| NodeError::Resolve {
            node: opts.name.to_string(),
            reason,
        })?;
        // Bind first: port 0 becomes the real port, which is part of the
        // node's name (and of its certificate).
        let slot: Arc<Mutex<Option<std::sync::Weak<Dist>>>> = Arc::new(Mutex::new(None));
        let acceptor = Arc::new(driver::LateAcceptor(Arc::clone(&slot)));
        let listener = transport
            .listen(addr, acceptor)
            .map_err(|source| NodeError::Bind { addr, source })?;
        let name = opts.name.with_port(listener.local_addr().port());
        let tls = match opts.tls {
            Some(t) => t,
            None => TlsConfig::from_env(&name)?,
        };
        let creation = u64::from_le_bytes(tls::random_bytes::<8>()?);
        let hs = HandshakeConfig {
            me: name.clone(),
            creation,
            cookie: opts.cookie,
            timeout: opts.dist.handshake_timeout,
        };
        let dist = Arc::new(Dist::new(
            Arc::downgrade(&rt.shared),
            name,
            hs,
            tls,
            opts.dist,
            transport,
        ));
        if rt.shared.dist.set(Arc::clone(&dist)).is_err() {
            listener.close();
            let other = rt.shared.dist.get().map(|d| d.me_s.to_string());
            return Err(NodeError::AlreadyStarted(other.unwrap_or_default()));
        }
        lock(&dist.state).listener = Some(listener);
        *lock(&slot) = Some(Arc::downgrade(&dist));
        let (tx, rx) = mpsc::channel();
        *lock(&dist.cmd) = Some(tx);
        let d2 = Arc::clone(&dist);
        std::thread::Builder::new()
            .name("mesh-dist".into())
            .spawn(move || d2.ticker(rx))
            .map_err(NodeError::Thread)?;
        tracing::info!(node = %dist.me_s, "node started");
        Ok(Node { dist })
    }

    /// The node a runtime runs, if it was started.
    pub fn of(rt: &RuntimeHandle) -> Option<Node> {
        rt.shared.dist.get().map(|d| Node {
            dist: Arc::clone(d),
        })
    }

    /// This node's full name (with the real port).
    pub fn name(&self) -> &NodeName {
        &self.dist.me
    }

    /// Connected nodes, sorted.
    pub fn list(&self) -> Vec<String> {
        self.dist.up_peers()
    }

    /// Connect to `node` (and, through it, to its peers), waiting until the
    /// connection is authenticated or has failed.
    pub fn connect(&self, node: &str) -> Result<(), ConnectError> {
        let target = NodeName::parse(node)?;
        if target == self.dist.me {
            return Err(ConnectError::SelfConnect(node.to_owned()));
        }
        if self.dist.stopped.load(std::sync::atomic::Ordering::Acquire) {
            return Err(ConnectError::Stopped);
        }
        let Some(rx) = self.dist.dial(&target, true) else {
            return Err(ConnectError::Stopped);
        };
        let after = self.dist.cfg.handshake_timeout * 2 + CONNECT_SLACK;
        match rx.recv_timeout(after) {
            Ok(r) => r,
            Err(_) => Err(ConnectError::Timeout {
                node: node.to_owned(),
                after,
            }),
        }
    }

    /// Close the connection to `node` and stop redialling it. False if it
    /// was not connected.
    pub fn disconnect(&self, node: &str) -> bool {
        self.dist.disconnect(node)
    }

    /// Whether `node` is connected.
    pub fn is_connected(&self, node: &str) -> bool {
        self.dist.is_up(node)
    }

    /// The name of the node `pid` lives on.
    pub fn node_of(&self, pid: Pid) -> Option<Arc<str>> {
        self.dist.table.name(pid.node())
    }

    /// `watcher` gets `(:nodedown, node)` when `node` goes (at once if it
    /// is not connected now) and `(:nodeup, node)` when it comes back,
    /// until [`Node::demonitor_node`].
    pub fn monitor_node(&self, watcher: Pid, node: &str) {
        self.dist.monitor_node(watcher, node);
    }

    pub fn demonitor_node(&self, watcher: Pid, node: &str) -> bool {
        self.dist.demonitor_node(watcher, node)
    }

    /// Let other nodes start `f(args)` here as `name`. Both nodes register
    /// the same stable name; the caller of a remote spawn names it.
    pub fn register_spawn_fn(
        &self,
        name: &str,
        f: impl Fn(Term) -> Result<Box<dyn Process>, String> + Send + Sync + 'static,
    ) {
        write(&self.dist.spawn_fns).insert(name.to_owned(), Arc::new(f));
    }

    /// Ask `node` to start `function(args)` for process `from`. The answer
    /// arrives as the message `(:spawn_reply, ref, (:ok, pid))` or
    /// `(:spawn_reply, ref, (:error, reason))` (see
    /// [`SpawnError::reason_term`]); with `link`, `from` and the new process
    /// are linked before it runs.
    pub fn spawn_request(
        &self,
        from: Pid,
        node: &str,
        function: &str,
        args: &Term,
        link: bool,
    ) -> Result<Ref, SpawnError> {
        let mref = self
            .dist
            .rt
            .upgrade()
            .map(|s| RuntimeHandle { shared: s }.make_ref())
            .ok_or_else(|| SpawnError::NotConnected(node.to_owned()))?;
        self.dist.spawn_request(
            node,
            function,
            args,
            from,
            driver::SpawnWaiter::Process {
                pid: from,
                mref,
                link,
                node: Arc::from(node),
            },
            None,
        )?;
        Ok(mref)
    }

    /// [`Node::spawn_request`] from inside a process, for `cx`'s process:
    /// the request leaves with the rest of the run slice's frames (one
    /// write for many requests).
    pub fn spawn_request_from(
        &self,
        cx: &mut crate::context::Cx<'_>,
        node: &str,
        function: &str,
        args: &Term,
        link: bool,
    ) -> Result<Ref, SpawnError> {
        let from = cx.pid();
        let mref = cx.make_ref();
        self.dist.spawn_request(
            node,
            function,
            args,
            from,
            driver::SpawnWaiter::Process {
                pid: from,
                mref,
                link,
                node: Arc::from(node),
            },
            Some(cx.remote_batch()),
        )?;
        Ok(mref)
    }

    /// Start `function(args)` on `node` and wait for its pid (for threads
    /// outside the runtime; processes use [`Node::spawn_request`]).
    pub fn spawn(
        &self,
        node: &str,
        function: &str,
        args: &Term,
        timeout: Duration,
    ) -> Result<Pid, SpawnError> {
        let (tx, rx) = mpsc::sync_channel(1);
        // Replies go to a pid that is never alive: there is no process.
        let nobody = Pid::from_parts(NodeId::LOCAL, u16::MAX, u32::MAX, 0);
        self.dist.spawn_request(
            node,
            function,
            args,
            nobody,
            driver::SpawnWaiter::Channel {
                tx,
                node: Arc::from(node),
            },
            None,
        )?;
        rx.recv_timeout(timeout).unwrap_or_else(|_| {
            Err(SpawnError::Timeout {
                node: node.to_owned(),
                after: timeout,
            })
        })
    }

    /// Send to the process registered locally as `name` on `node`.
    pub fn send_named(&self, node: &str, name: &str, msg: &Term) -> Result<(), SendError> {
        if node == &*self.dist.me_s {
            let rt = self.dist.rt.upgrade().ok_or(SendError::Stopped)?;
            let h = RuntimeHandle { shared: rt };
            if let Some(p) = h.whereis(name) {
                let _ = h.send(p, msg.clone());
            }
            return Ok(());
        }
        self.dist
            .send_named(node, name, msg)
            .map_err(SendError::Failed)
    }

    /// Register `name` cluster-wide for local process `pid`.
    pub fn global_register(&self, name: &str, pid: Pid) -> Result<(), GlobalError> {
        self.dist.global_register(name, pid)
    }

    /// The pid registered as `name` anywhere in the cluster (a local read).
    pub fn global_whereis(&self, name: &str) -> Option<Pid> {
        self.dist.global_whereis(name)
    }

    /// Remove this node's registration of `name`.
    pub fn global_unregister(&self, name: &str) -> Result<(), GlobalError> {
        self.dist.global_unregister(name)
    }

    /// Every global name, sorted.
    pub fn global_names(&self) -> Vec<(Arc<str>, Pid)> {
        self.dist.global_names()
    }

    /// Close every connection and the listener. The runtime stays a node
    /// with no connections (it cannot be started as another node).
    pub fn stop(&self) {
        self.dist.stop();
    }
}

/// Why `send_named` failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("{0}")]
    Failed(String),
    #[error("the runtime is stopped")]
    Stopped,
}
