//! One connection to another node: its TLS session, where it is in its
//! life (TLS handshake, cookie handshake, up), and the links and monitors
//! that cross it.
//!
//! Locks, always taken in this order: `rx` (the receiving side's state;
//! the transport's reader thread and the heartbeat ticker), then the node
//! state, then `tls` (the session both directions share; every sender
//! encrypts and queues under it, so records reach the socket in the order
//! they were sealed). `track` is a leaf lock. Nothing calls
//! `Connection::close` while holding any of them.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};

use super::lock;
use crate::dist::NodeName;
use crate::dist::frame::FrameDecoder;
use crate::dist::handshake::Handshake;
use crate::dist::heartbeat::FailureDetector;
use crate::dist::tls::TlsSession;
use crate::pid::{NodeId, Pid};
use crate::transport::Connection;

/// The established peer of a connection.
#[derive(Debug, Clone)]
pub(crate) struct PeerInfo {
    pub(crate) name: Arc<str>,
    pub(crate) id: NodeId,
    pub(crate) creation: u64,
}

/// Where a connection is.
pub(crate) enum Phase {
    /// TLS handshake in progress.
    Tls,
    /// Cookie handshake inside TLS.
    Cookie(Box<Handshake>),
    /// Authenticated: frames flow.
    Up {
        decoder: Box<FrameDecoder>,
        fd: FailureDetector,
    },
    /// Closed (or closing): bytes are ignored.
    Closed,
}

/// The receiving side's state.
pub(crate) struct Rx {
    pub(crate) phase: Phase,
    /// Scratch for decrypted bytes.
    pub(crate) plain: Vec<u8>,
}

/// The session and a scratch buffer for ciphertext.
pub(crate) struct Tls {
    pub(crate) session: TlsSession,
    pub(crate) out: Vec<u8>,
    /// No more sends (closed or failed).
    pub(crate) closed: bool,
}

impl Tls {
    /// Move queued ciphertext to the transport.
    pub(crate) fn flush(&mut self, conn: &dyn Connection) -> bool {
        self.session.take_ciphertext(&mut self.out);
        if self.out.is_empty() {
            return true;
        }
        let ok = conn.send(&[&self.out]).is_ok();
        self.out.clear();
        ok
    }

    /// Seal `plain` and queue it. False if the connection is unusable.
    pub(crate) fn send(&mut self, conn: &dyn Connection, plain: &[u8]) -> bool {
        if self.closed {
            return false;
        }
        if self.session.write_plaintext(plain).is_err() {
            self.closed = true;
            return false;
        }
        self.flush(conn)
    }
}

/// Links and monitors between processes of this node and the peer, so a
/// lost connection can fire `noconnection` for each.
#[derive(Debug, Default)]
pub(crate) struct Tracking {
    /// Set when the connection is down: nothing more is recorded, the
    /// caller falls back to "not connected".
    pub(crate) closed: bool,
    /// (local pid, remote pid).
    pub(crate) links: HashSet<(Pid, Pid)>,
    /// Monitors held by local processes on remote ones: ref id ->
    /// (watcher, target).
    pub(crate) monitors: HashMap<u64, (Pid, Pid)>,
}

/// One connection.
pub(crate) struct Link {
    /// Unique per node run; keys the node's connection table.
    pub(crate) serial: u64,
    pub(crate) conn: Arc<dyn Connection>,
    pub(crate) peer_addr: SocketAddr,
    /// When the connection opened (the TLS handshake deadline).
    pub(crate) created: std::time::Instant,
    /// The node dialled, for outbound connections.
    pub(crate) target: Option<NodeName>,
    pub(crate) rx: Mutex<Rx>,
    pub(crate) tls: Mutex<Tls>,
    pub(crate) track: Mutex<Tracking>,
    pub(crate) peer: OnceLock<PeerInfo>,
    /// Why this node closed it, for the log line of `on_closed`.
    pub(crate) close_reason: Mutex<Option<String>>,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("serial", &self.serial)
            .field("peer_addr", &self.peer_addr)
            .field("peer", &self.peer.get().map(|p| &p.name))
            .finish()
    }
}

impl Link {
    pub(crate) fn new(
        serial: u64,
        conn: Arc<dyn Connection>,
        session: TlsSession,
        target: Option<NodeName>,
    ) -> Link {
        let peer_addr = conn.peer_addr();
        Link {
            serial,
            conn,
            peer_addr,
            created: std::time::Instant::now(),
            target,
            rx: Mutex::new(Rx {
                phase: Phase::Tls,
                plain: Vec::new(),
            }),
            tls: Mutex::new(Tls {
                session,
                out: Vec::new(),
                closed: false,
            }),
            track: Mutex::new(Tracking::default()),
            peer: OnceLock::new(),
            close_reason: Mutex::new(None),
        }
    }

    /// Seal and queue plaintext (frames) for the peer.
    pub(crate) fn send(&self, plain: &[u8]) -> bool {
        lock(&self.tls).send(&*self.conn, plain)
    }

    /// Close with a reason that `on_closed` will log. The first reason wins.
    /// Close at once, dropping whatever is queued (a dead peer).
    pub(crate) fn abort(&self, why: String) {
        {
            let mut r = lock(&self.close_reason);
            if r.is_none() {
                *r = Some(why);
            }
        }
        lock(&self.tls).closed = true;
        self.conn.abort();
    }

    pub(crate) fn close(&self, why: String) {
        {
            let mut r = lock(&self.close_reason);
            if r.is_none() {
                *r = Some(why);
            }
        }
        {
            let mut tls = lock(&self.tls);
            if !tls.closed {
                tls.session.close();
                tls.flush(&*self.conn);
                tls.closed = true;
            }
        }
        self.conn.close();
    }
}
