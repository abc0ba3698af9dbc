//! One TCP connection: its reader and writer threads and the shared state
//! between them and senders.
//!
//! State machine of the connection (under one mutex): `open` until
//! `close()`, EOF, an I/O error or an overflow; then `closing` with a reason.
//! The first reason wins and is the one the receiver hears. The reader
//! thread owns the receiver and is the only caller of it, so `on_closed`
//! runs exactly once, after the last `on_bytes`.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use mesh_core::transport::{CloseReason, Connection, Receiver, TransportError};

const READ_BUF: usize = 64 * 1024;

#[derive(Debug, Default)]
struct Outbox {
    /// Bytes queued and not yet taken by the writer.
    queued: Vec<u8>,
    /// Bytes the writer has taken but not finished writing.
    in_flight: usize,
    closed: Option<CloseReason>,
    /// The writer has exited (nothing more will be written).
    writer_done: bool,
}

/// An open TCP connection (see the module docs).
#[derive(Debug)]
pub struct TcpConnection {
    stream: TcpStream,
    peer: SocketAddr,
    local: SocketAddr,
    limit: usize,
    out: Mutex<Outbox>,
    wake_writer: Condvar,
}

impl TcpConnection {
    /// Wrap a connected stream. Threads start with [`TcpConnection::start`].
    pub(crate) fn open(
        stream: TcpStream,
        limit: usize,
        write_stall: std::time::Duration,
    ) -> Result<Arc<TcpConnection>, TransportError> {
        stream.set_nodelay(true)?;
        // A write that makes no progress for this long fails, so a peer
        // that stopped reading cannot hold the writer (and a local close,
        // which flushes first) forever.
        stream.set_write_timeout(Some(write_stall))?;
        let peer = stream.peer_addr()?;
        let local = stream.local_addr()?;
        Ok(Arc::new(TcpConnection {
            stream,
            peer,
            local,
            limit,
            out: Mutex::new(Outbox::default()),
            wake_writer: Condvar::new(),
        }))
    }

    /// Start the reader (owning `receiver`) and writer threads.
    pub(crate) fn start(
        self: &Arc<Self>,
        receiver: Box<dyn Receiver>,
    ) -> Result<(), TransportError> {
        let reader_stream = self.stream.try_clone()?;
        let me = Arc::clone(self);
        std::thread::Builder::new()
            .name(format!("mesh-tcp-w {}", self.peer))
            .spawn(move || me.write_loop())?;
        let me = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name(format!("mesh-tcp-r {}", self.peer))
            .spawn(move || me.read_loop(reader_stream, receiver));
        if let Err(e) = spawned {
            self.shut(CloseReason::Io(e.to_string()));
            return Err(e.into());
        }
        Ok(())
    }

    /// Close an accepted connection nobody wants: no receiver, no threads.
    pub(crate) fn refuse(stream: &TcpStream) {
        let _ = stream.shutdown(Shutdown::Both);
    }

    pub(crate) fn stream_ref(&self) -> &TcpStream {
        &self.stream
    }

    /// One non-blocking write. `None` when the socket would block or
    /// failed (the writer thread then meets the error and reports it).
    fn try_write(&self, b: &[u8]) -> Option<usize> {
        use nix::sys::socket::{MsgFlags, send};
        use std::os::fd::AsRawFd;
        loop {
            match send(
                self.stream.as_raw_fd(),
                b,
                MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_NOSIGNAL,
            ) {
                Ok(0) => return None,
                Ok(n) => return Some(n),
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => return None,
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, Outbox> {
        self.out.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Record the first close reason and wake both threads.
    fn shut(&self, reason: CloseReason) {
        let mut out = self.lock();
        if out.closed.is_none() {
            out.closed = Some(reason.clone());
        }
        let flush_first = reason == CloseReason::Local && !out.writer_done;
        drop(out);
        self.wake_writer.notify_all();
        if !flush_first {
            // Unblock the reader (and the writer if it is stuck in write).
            let _ = self.stream.shutdown(Shutdown::Both);
        }
    }

    fn write_loop(self: Arc<Self>) {
        let mut stream = match self.stream.try_clone() {
            Ok(s) => s,
            Err(e) => {
                self.writer_finished();
                self.shut(CloseReason::Io(e.to_string()));
                return;
            }
        };
        let mut batch: Vec<u8> = Vec::new();
        loop {
            let mut out = self.lock();
            while out.queued.is_empty() && out.closed.is_none() {
                out = self
                    .wake_writer
                    .wait(out)
                    .unwrap_or_else(|p| p.into_inner());
            }
            if out.queued.is_empty() {
                // Closed and everything flushed.
                drop(out);
                break;
            }
            batch.clear();
            std::mem::swap(&mut batch, &mut out.queued);
            out.in_flight = batch.len();
            drop(out);
            let res = stream.write_all(&batch);
            self.lock().in_flight = 0;
            if let Err(e) = res {
                self.writer_finished();
                self.shut(CloseReason::Io(e.to_string()));
                return;
            }
            // Give big batches back to the allocator rather than keeping
            // the high-water mark forever.
            if batch.capacity() > 4 << 20 {
                batch = Vec::new();
            }
        }
        self.writer_finished();
        // A local close flushed what was queued; now end the stream.
        let _ = self.stream.shutdown(Shutdown::Both);
    }

    fn writer_finished(&self) {
        self.lock().writer_done = true;
    }

    fn read_loop(self: Arc<Self>, mut stream: TcpStream, mut receiver: Box<dyn Receiver>) {
        let mut buf = vec![0u8; READ_BUF];
        let reason = loop {
            match stream.read(&mut buf) {
                Ok(0) => break CloseReason::Eof,
                Ok(n) => {
                    if self.lock().closed.is_some() {
                        break CloseReason::Local;
                    }
                    receiver.on_bytes(&buf[..n]);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => break CloseReason::Io(e.to_string()),
            }
        };
        // Whoever closed first decides the reason the receiver hears.
        let first = {
            let mut out = self.lock();
            out.closed.get_or_insert(reason).clone()
        };
        self.wake_writer.notify_all();
        let _ = self.stream.shutdown(Shutdown::Both);
        receiver.on_closed(first);
    }
}

impl Connection for TcpConnection {
    fn send(&self, bufs: &[&[u8]]) -> Result<(), TransportError> {
        let len: usize = bufs.iter().map(|b| b.len()).sum();
        let mut out = self.lock();
        if out.closed.is_some() {
            return Err(TransportError::Closed);
        }
        if out.queued.len() + out.in_flight + len > self.limit {
            out.closed = Some(CloseReason::Overflow { limit: self.limit });
            drop(out);
            self.wake_writer.notify_all();
            let _ = self.stream.shutdown(Shutdown::Both);
            return Err(TransportError::Closed);
        }
        let was_empty = out.queued.is_empty();
        if was_empty && out.in_flight == 0 && !out.writer_done {
            // Nothing queued or being written: write from this thread
            // without blocking (saves a hand-off to the writer thread, the
            // largest cost of a small message's latency). Whatever the
            // socket does not take now is queued, under the same lock, so
            // the writer sends it next, in order.
            let mut rest: Option<(usize, usize)> = None;
            'bufs: for (i, b) in bufs.iter().enumerate() {
                let mut off = 0;
                while off < b.len() {
                    match self.try_write(&b[off..]) {
                        Some(n) => off += n,
                        None => {
                            rest = Some((i, off));
                            break 'bufs;
                        }
                    }
                }
            }
            let Some((i, off)) = rest else {
                return Ok(());
            };
            out.queued.extend_from_slice(&bufs[i][off..]);
            for b in &bufs[i + 1..] {
                out.queued.extend_from_slice(b);
            }
            drop(out);
            self.wake_writer.notify_one();
            return Ok(());
        }
        out.queued.reserve(len);
        for b in bufs {
            out.queued.extend_from_slice(b);
        }
        drop(out);
        if was_empty {
            self.wake_writer.notify_one();
        }
        Ok(())
    }

    fn close(&self) {
        self.shut(CloseReason::Local);
    }

    fn abort(&self) {
        let mut out = self.lock();
        if out.closed.is_none() {
            out.closed = Some(CloseReason::Local);
        }
        out.queued = Vec::new();
        drop(out);
        self.wake_writer.notify_all();
        // Unblocks a writer stuck in write() and the reader.
        let _ = self.stream.shutdown(Shutdown::Both);
    }

    fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    fn local_addr(&self) -> SocketAddr {
        self.local
    }
}
