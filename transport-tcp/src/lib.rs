//! `mesh-transport-tcp`: the portable byte transport. Plain TCP sockets
//! driven by std threads: one accept thread per listener, and per
//! connection one reader thread (blocking reads into a 64 KiB buffer,
//! handed to core's receiver) and one writer thread (drains everything
//! queued since its last write in one `writev`-sized batch, so many small
//! frames from many processes become few syscalls).
//!
//! Node connections are few (one per peer node) and long-lived, so two
//! threads each cost little and keep the code free of an event loop; the
//! io_uring transport is the one that drives sockets from the scheduler
//! threads. Sockets get `TCP_NODELAY` (frames are already batched above).
//!
//! A socket write that makes no progress for 10 s
//! ([`TcpTransport::with_write_stall`]) closes the connection, which also
//! bounds how long a local close spends flushing. The unsent buffer of a connection is bounded (default 256 MiB,
//! [`TcpTransport::with_send_limit`]); passing it closes the connection with
//! `CloseReason::Overflow`, because a peer that stops reading must not take
//! this node's memory.

mod conn;
mod listener;

use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use mesh_core::transport::{
    Acceptor, Connection, Listener, MakeReceiver, Transport, TransportError,
};

pub use conn::TcpConnection;
pub use listener::TcpListenerHandle;

/// Default bound on one connection's unsent bytes.
pub const DEFAULT_SEND_LIMIT: usize = 256 << 20;

/// Default time a socket write may make no progress before the connection
/// is closed as broken.
pub const DEFAULT_WRITE_STALL: Duration = Duration::from_secs(10);

/// The TCP transport. Cheap to clone; holds only configuration.
#[derive(Debug, Clone)]
pub struct TcpTransport {
    send_limit: usize,
    write_stall: Duration,
}

impl Default for TcpTransport {
    fn default() -> Self {
        TcpTransport {
            send_limit: DEFAULT_SEND_LIMIT,
            write_stall: DEFAULT_WRITE_STALL,
        }
    }
}

impl TcpTransport {
    pub fn new() -> TcpTransport {
        TcpTransport::default()
    }

    /// Close a connection whose socket write makes no progress for `d`
    /// (a peer that stopped reading). Also bounds how long a local close
    /// waits to flush. At least 1 ms.
    pub fn with_write_stall(mut self, d: Duration) -> TcpTransport {
        self.write_stall = d.max(Duration::from_millis(1));
        self
    }

    /// Bound each connection's unsent bytes at `limit` (at least 1).
    pub fn with_send_limit(mut self, limit: usize) -> TcpTransport {
        self.send_limit = limit.max(1);
        self
    }
}

impl Transport for TcpTransport {
    fn name(&self) -> &'static str {
        "tcp"
    }

    fn listen(
        &self,
        addr: SocketAddr,
        acceptor: Arc<dyn Acceptor>,
    ) -> Result<Box<dyn Listener>, TransportError> {
        let l =
            listener::TcpListenerHandle::bind(addr, acceptor, self.send_limit, self.write_stall)?;
        Ok(Box::new(l))
    }

    fn connect(
        &self,
        addr: SocketAddr,
        timeout: Duration,
        make: MakeReceiver,
    ) -> Result<Arc<dyn Connection>, TransportError> {
        let stream = TcpStream::connect_timeout(&addr, timeout)
            .map_err(|source| TransportError::Connect { addr, source })?;
        let conn = conn::TcpConnection::open(stream, self.send_limit, self.write_stall)?;
        let dyn_conn: Arc<dyn Connection> = conn.clone();
        let receiver = make(Arc::clone(&dyn_conn));
        conn.start(receiver)?;
        Ok(dyn_conn)
    }
}
