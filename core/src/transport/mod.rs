//! The byte-transport boundary between core and the transport crates.
//!
//! A transport moves bytes and nothing else: it listens, accepts, connects,
//! sends ordered byte batches and reports received bytes and closes. TLS,
//! the cookie handshake, framing and heartbeats stay in core (sans-IO) and
//! sit on top of this trait, so `transport-tcp` (portable, std threads) and
//! `transport-uring` (io_uring) plug in without touching them.
//!
//! Threading contract, which every implementation must keep (the
//! conformance suite in [`testkit`] checks it):
//! * [`Receiver::on_bytes`] is called for one connection by one thread at a
//!   time, in stream order, and never after [`Receiver::on_closed`];
//!   `on_closed` is called exactly once per connection, whoever closed it.
//! * [`Connection::send`] may be called from any thread; bytes from one call
//!   are sent contiguously, calls are sent in the order they were made,
//!   and it never blocks on the network (the transport buffers).
//! * A connection whose unsent buffer passes the transport's limit is
//!   closed with [`CloseReason::Overflow`] rather than buffering without
//!   bound: a peer that stops reading must not take the node's memory.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

#[cfg(any(test, feature = "testkit"))]
pub mod testkit;

/// Why a connection ended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CloseReason {
    #[error("closed by the peer")]
    Eof,
    #[error("closed locally")]
    Local,
    #[error("connection error: {0}")]
    Io(String),
    #[error("send buffer passed {limit} bytes: the peer is not reading")]
    Overflow { limit: usize },
}

/// Errors a transport reports to its caller.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the connection is closed")]
    Closed,
    #[error("transport I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// One open byte stream.
pub trait Connection: Send + Sync + std::fmt::Debug + 'static {
    /// Queue `bufs` (in order, contiguously) for sending. Never blocks on
    /// the network. `Err(Closed)` once the connection is closed.
    fn send(&self, bufs: &[&[u8]]) -> Result<(), TransportError>;
    /// Close the connection: queued bytes are flushed first when possible,
    /// then the receiver gets `on_closed(Local)` (unless it already got
    /// another reason). Idempotent.
    fn close(&self);
    /// Close at once, discarding queued bytes (a peer declared dead gets
    /// nothing more, and a backlog it stopped reading must not keep the
    /// connection open). The receiver gets `on_closed(Local)` unless it
    /// already got another reason. Idempotent.
    fn abort(&self);
    fn peer_addr(&self) -> SocketAddr;
    fn local_addr(&self) -> SocketAddr;
}

/// Where the transport delivers what happens on one connection.
pub trait Receiver: Send + 'static {
    /// Bytes arrived, in stream order.
    fn on_bytes(&mut self, data: &[u8]);
    /// The connection ended. Called exactly once; nothing follows.
    fn on_closed(&mut self, reason: CloseReason);
}

/// Decides what to do with inbound connections of one listener.
pub trait Acceptor: Send + Sync + 'static {
    /// A peer connected. Return the receiver for its bytes, or `None` to
    /// refuse it (the transport closes it without calling any receiver).
    fn on_accept(&self, conn: Arc<dyn Connection>) -> Option<Box<dyn Receiver>>;
}

/// A listening socket. Dropping it (or calling `close`) stops accepting;
/// connections already accepted are not affected.
pub trait Listener: Send + Sync + std::fmt::Debug {
    /// The bound address (the real port when asked for port 0).
    fn local_addr(&self) -> SocketAddr;
    fn close(&self);
}

/// Builds the receiver of an outbound connection once it is open.
pub type MakeReceiver = Box<dyn FnOnce(Arc<dyn Connection>) -> Box<dyn Receiver> + Send>;

/// A byte transport.
pub trait Transport: Send + Sync + std::fmt::Debug + 'static {
    /// Short name, as `MESH_TRANSPORT` spells it (`tcp`, `uring`).
    fn name(&self) -> &'static str;

    /// Bind `addr` and hand every accepted connection to `acceptor`.
    fn listen(
        &self,
        addr: SocketAddr,
        acceptor: Arc<dyn Acceptor>,
    ) -> Result<Box<dyn Listener>, TransportError>;

    /// Connect to `addr`, waiting at most `timeout`. Blocks the calling
    /// thread (core calls it from its distribution thread, never from a
    /// scheduler). `make` builds the receiver before any byte is read.
    fn connect(
        &self,
        addr: SocketAddr,
        timeout: Duration,
        make: MakeReceiver,
    ) -> Result<Arc<dyn Connection>, TransportError>;
}

/// The transports a binary can choose between with `MESH_TRANSPORT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    Tcp,
    Uring,
}

/// `MESH_TRANSPORT` holds something that is not a transport name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "MESH_TRANSPORT={value:?} is not a transport; use `tcp` (portable) or `uring` (Linux io_uring)"
)]
pub struct UnknownTransport {
    pub value: String,
}

impl TransportKind {
    /// Parse a `MESH_TRANSPORT` value. Never falls back silently.
    pub fn parse(value: &str) -> Result<TransportKind, UnknownTransport> {
        match value.trim() {
            "tcp" => Ok(TransportKind::Tcp),
            "uring" => Ok(TransportKind::Uring),
            other => Err(UnknownTransport {
                value: other.to_owned(),
            }),
        }
    }

    /// `MESH_TRANSPORT`, defaulting to `tcp` when unset or empty.
    pub fn from_env() -> Result<TransportKind, UnknownTransport> {
        match std::env::var("MESH_TRANSPORT") {
            Ok(v) if !v.trim().is_empty() => TransportKind::parse(&v),
            Ok(_) | Err(std::env::VarError::NotPresent) => Ok(TransportKind::Tcp),
            Err(std::env::VarError::NotUnicode(v)) => Err(UnknownTransport {
                value: v.to_string_lossy().into_owned(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_names_parse_and_unknown_ones_are_errors() {
        assert_eq!(TransportKind::parse("tcp"), Ok(TransportKind::Tcp));
        assert_eq!(TransportKind::parse(" uring\n"), Ok(TransportKind::Uring));
        let err = TransportKind::parse("quic").expect_err("not a transport");
        assert_eq!(err.value, "quic");
        let msg = err.to_string();
        assert!(msg.contains("MESH_TRANSPORT=\"quic\""), "{msg}");
        assert!(msg.contains("`tcp`") && msg.contains("`uring`"), "{msg}");
        assert!(TransportKind::parse("TCP").is_err(), "names are exact");
    }

    #[test]
    fn close_reasons_read_well() {
        assert_eq!(
            CloseReason::Overflow { limit: 10 }.to_string(),
            "send buffer passed 10 bytes: the peer is not reading"
        );
    }
}
