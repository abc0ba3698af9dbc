//! A listening socket and its accept thread.
//!
//! Closing the listener shuts the listening socket down for reading, which
//! wakes the blocked `accept` with an error on Linux; the thread sees the
//! closed flag and exits. Accepted connections live on independently.

use std::net::{SocketAddr, TcpListener};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use mesh_core::transport::{Acceptor, Listener, TransportError};

use crate::conn::TcpConnection;

/// A bound listener (see the module docs).
#[derive(Debug)]
pub struct TcpListenerHandle {
    local: SocketAddr,
    inner: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    socket: TcpListener,
    closed: AtomicBool,
}

impl TcpListenerHandle {
    pub(crate) fn bind(
        addr: SocketAddr,
        acceptor: Arc<dyn Acceptor>,
        send_limit: usize,
        write_stall: std::time::Duration,
    ) -> Result<TcpListenerHandle, TransportError> {
        let socket =
            TcpListener::bind(addr).map_err(|source| TransportError::Listen { addr, source })?;
        let local = socket.local_addr()?;
        let inner = Arc::new(Shared {
            socket,
            closed: AtomicBool::new(false),
        });
        let shared = Arc::clone(&inner);
        std::thread::Builder::new()
            .name(format!("mesh-tcp-accept {local}"))
            .spawn(move || accept_loop(&shared, &*acceptor, send_limit, write_stall))?;
        Ok(TcpListenerHandle { local, inner })
    }
}

fn accept_loop(
    shared: &Shared,
    acceptor: &dyn Acceptor,
    send_limit: usize,
    write_stall: std::time::Duration,
) {
    loop {
        let accepted = shared.socket.accept();
        if shared.closed.load(Ordering::Acquire) {
            if let Ok((stream, _)) = accepted {
                TcpConnection::refuse(&stream);
            }
            return;
        }
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // EMFILE and friends: log, back off briefly, keep serving.
                tracing::warn!(listener = %shared.socket.local_addr().map(|a| a.to_string()).unwrap_or_default(), error = %e, "accept failed");
                std::thread::sleep(std::time::Duration::from_millis(10));
                continue;
            }
        };
        let conn = match TcpConnection::open(stream, send_limit, write_stall) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(%peer, error = %e, "could not set up an accepted connection");
                continue;
            }
        };
        let dyn_conn: Arc<dyn mesh_core::transport::Connection> = conn.clone();
        match acceptor.on_accept(dyn_conn) {
            Some(receiver) => {
                if let Err(e) = conn.start(receiver) {
                    tracing::warn!(%peer, error = %e, "could not start connection threads");
                }
            }
            None => TcpConnection::refuse(conn.stream_ref()),
        }
    }
}

impl Listener for TcpListenerHandle {
    fn local_addr(&self) -> SocketAddr {
        self.local
    }

    fn close(&self) {
        if !self.inner.closed.swap(true, Ordering::AcqRel) {
            let _ = nix::sys::socket::shutdown(
                self.inner.socket.as_raw_fd(),
                nix::sys::socket::Shutdown::Read,
            );
        }
    }
}

impl Drop for TcpListenerHandle {
    fn drop(&mut self) {
        self.close();
    }
}
