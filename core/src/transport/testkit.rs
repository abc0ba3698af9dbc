//! The transport conformance suite: checks, written once against the
//! [`Transport`] trait, that every transport crate runs from its tests
//! (`mesh_core::transport::testkit::run_all(&transport)`). Every wait is
//! bounded; a failed check panics with what was expected.
//!
//! The node-level suite (several runtimes, handshake, remote processes) is
//! built on top of this once distribution is wired in.

use std::io::Read as _;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::{Acceptor, CloseReason, Connection, Receiver, Transport, TransportError};

/// Upper bound on any wait in the suite.
pub const WAIT: Duration = Duration::from_secs(20);

#[derive(Debug, Default)]
struct Seen {
    bytes: Vec<u8>,
    closed: Vec<CloseReason>,
    after_close: usize,
}

/// A receiver that records what it is given, for tests to wait on.
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    inner: Arc<(Mutex<Seen>, Condvar)>,
}

impl Recorder {
    pub fn new() -> Recorder {
        Recorder::default()
    }

    /// A receiver feeding this recorder.
    pub fn receiver(&self) -> Box<dyn Receiver> {
        Box::new(RecorderReceiver(self.clone()))
    }

    /// Wait until `pred` holds for (bytes, close reasons) or `WAIT` passes;
    /// returns whether it held.
    pub fn wait_for(&self, mut pred: impl FnMut(&[u8], &[CloseReason]) -> bool) -> bool {
        let (m, cv) = &*self.inner;
        let deadline = Instant::now() + WAIT;
        let mut seen = m.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if pred(&seen.bytes, &seen.closed) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            seen = match cv.wait_timeout(seen, deadline - now) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
    }

    pub fn bytes(&self) -> Vec<u8> {
        self.lock().bytes.clone()
    }

    pub fn closed(&self) -> Vec<CloseReason> {
        self.lock().closed.clone()
    }

    /// Calls made after `on_closed` (must stay 0).
    pub fn calls_after_close(&self) -> usize {
        self.lock().after_close
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.inner.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

struct RecorderReceiver(Recorder);

impl Receiver for RecorderReceiver {
    fn on_bytes(&mut self, data: &[u8]) {
        let mut s = self.0.lock();
        if !s.closed.is_empty() {
            s.after_close += 1;
        }
        s.bytes.extend_from_slice(data);
        drop(s);
        self.0.inner.1.notify_all();
    }

    fn on_closed(&mut self, reason: CloseReason) {
        let mut s = self.0.lock();
        if !s.closed.is_empty() {
            s.after_close += 1;
        }
        s.closed.push(reason);
        drop(s);
        self.0.inner.1.notify_all();
    }
}

/// An accepted connection and the recorder of its bytes.
type Accepted = (Arc<dyn Connection>, Recorder);

/// An acceptor that records each accepted connection's bytes and can echo
/// them back or refuse connections.
#[derive(Debug, Clone)]
pub struct TestAcceptor {
    echo: bool,
    refuse: bool,
    accepted: Arc<Mutex<Vec<Accepted>>>,
}

impl TestAcceptor {
    pub fn recording() -> TestAcceptor {
        TestAcceptor {
            echo: false,
            refuse: false,
            accepted: Arc::default(),
        }
    }

    pub fn echoing() -> TestAcceptor {
        TestAcceptor {
            echo: true,
            ..TestAcceptor::recording()
        }
    }

    pub fn refusing() -> TestAcceptor {
        TestAcceptor {
            refuse: true,
            ..TestAcceptor::recording()
        }
    }

    /// Wait for the `i`-th accepted connection.
    pub fn accepted(&self, i: usize) -> (Arc<dyn Connection>, Recorder) {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(c) = self
                .accepted
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(i)
            {
                return c.clone();
            }
            assert!(
                Instant::now() < deadline,
                "connection {i} was never accepted"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

struct Echo {
    conn: Arc<dyn Connection>,
    rec: Box<dyn Receiver>,
}

impl Receiver for Echo {
    fn on_bytes(&mut self, data: &[u8]) {
        let _ = self.conn.send(&[data]);
        self.rec.on_bytes(data);
    }
    fn on_closed(&mut self, reason: CloseReason) {
        self.rec.on_closed(reason);
    }
}

impl Acceptor for TestAcceptor {
    fn on_accept(&self, conn: Arc<dyn Connection>) -> Option<Box<dyn Receiver>> {
        if self.refuse {
            return None;
        }
        let rec = Recorder::new();
        self.accepted
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((Arc::clone(&conn), rec.clone()));
        if self.echo {
            Some(Box::new(Echo {
                conn,
                rec: rec.receiver(),
            }))
        } else {
            Some(rec.receiver())
        }
    }
}

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

fn connect(t: &dyn Transport, addr: SocketAddr) -> (Arc<dyn Connection>, Recorder) {
    let rec = Recorder::new();
    let r = rec.clone();
    let conn = t
        .connect(addr, WAIT, Box::new(move |_| r.receiver()))
        .expect("connect to a listening loopback address");
    (conn, rec)
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Bytes of every size (up to a quarter of the send limit, at most 4 MiB)
/// come back intact and in order; the listener reports its real port.
pub fn echo_round_trip(t: &dyn Transport, ip: std::net::IpAddr, send_limit: usize) {
    let acc = TestAcceptor::echoing();
    let listener = t
        .listen(SocketAddr::new(ip, 0), Arc::new(acc.clone()))
        .expect("listen on loopback");
    let addr = listener.local_addr();
    assert_ne!(addr.port(), 0, "port 0 must report the bound port");
    let (conn, rec) = connect(t, addr);
    assert_eq!(conn.peer_addr(), addr);
    let mut expected = Vec::new();
    let big = (4 << 20).min(send_limit / 4).max(1);
    for (i, len) in [1usize, 64, 1500, 65_536, big].into_iter().enumerate() {
        let chunk = pattern(len, i as u8);
        let (a, b) = chunk.split_at(len / 2);
        conn.send(&[a, b]).expect("send");
        expected.extend_from_slice(&chunk);
    }
    let want = expected.len();
    assert!(
        rec.wait_for(|b, _| b.len() >= want),
        "echo incomplete: {} of {want} bytes",
        rec.bytes().len()
    );
    assert!(rec.bytes() == expected, "echoed bytes differ");
    conn.close();
    listener.close();
}

/// Concurrent `send` calls from several threads: each call's bytes stay
/// contiguous and each thread's calls stay in order.
pub fn concurrent_sends_stay_whole(t: &dyn Transport) {
    const THREADS: u8 = 4;
    const RECORDS: u32 = 500;
    let acc = TestAcceptor::recording();
    let listener = t.listen(loopback(), Arc::new(acc.clone())).expect("listen");
    let (conn, _rec) = connect(t, listener.local_addr());
    let senders: Vec<_> = (0..THREADS)
        .map(|th| {
            let conn = Arc::clone(&conn);
            std::thread::spawn(move || {
                for seq in 0..RECORDS {
                    // record: thread, seq (4), len (2), payload
                    let len = 1 + (seq as usize * 37 % 700);
                    let mut head = vec![th];
                    head.extend_from_slice(&seq.to_le_bytes());
                    head.extend_from_slice(&(len as u16).to_le_bytes());
                    let body = vec![th ^ (seq as u8); len];
                    conn.send(&[&head, &body]).expect("send");
                }
            })
        })
        .collect();
    for s in senders {
        s.join().expect("sender thread");
    }
    let (_, server) = acc.accepted(0);
    let total: usize = (0..RECORDS)
        .map(|seq| 7 + 1 + (seq as usize * 37 % 700))
        .sum::<usize>()
        * usize::from(THREADS);
    assert!(
        server.wait_for(|b, _| b.len() >= total),
        "received {} of {total} bytes",
        server.bytes().len()
    );
    let bytes = server.bytes();
    let mut next = [0u32; THREADS as usize];
    let mut i = 0;
    while i < bytes.len() {
        let th = bytes[i];
        let seq = u32::from_le_bytes(bytes[i + 1..i + 5].try_into().expect("4 bytes"));
        let len = usize::from(u16::from_le_bytes(
            bytes[i + 5..i + 7].try_into().expect("2 bytes"),
        ));
        assert!(th < THREADS, "record header corrupted at byte {i}");
        assert_eq!(seq, next[usize::from(th)], "thread {th} out of order");
        next[usize::from(th)] += 1;
        let body = &bytes[i + 7..i + 7 + len];
        assert!(
            body.iter().all(|&b| b == th ^ (seq as u8)),
            "record {th}/{seq} interleaved with another send"
        );
        i += 7 + len;
    }
    assert_eq!(next, [RECORDS; THREADS as usize]);
    conn.close();
    listener.close();
}

/// Closing one side: the closer's receiver hears `Local`, the peer's hears
/// `Eof`, each exactly once; sending after close is `Closed`.
pub fn close_is_reported_once(t: &dyn Transport) {
    let acc = TestAcceptor::recording();
    let listener = t.listen(loopback(), Arc::new(acc.clone())).expect("listen");
    let (conn, client) = connect(t, listener.local_addr());
    conn.send(&[b"last words"]).expect("send");
    let (_, server) = acc.accepted(0);
    assert!(server.wait_for(|b, _| b == b"last words"));
    conn.close();
    conn.close(); // idempotent
    assert!(client.wait_for(|_, c| !c.is_empty()), "closer not told");
    assert!(server.wait_for(|_, c| !c.is_empty()), "peer not told");
    assert_eq!(client.closed(), vec![CloseReason::Local]);
    assert_eq!(server.closed(), vec![CloseReason::Eof]);
    assert!(matches!(conn.send(&[b"x"]), Err(TransportError::Closed)));
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(client.closed().len(), 1, "on_closed called twice");
    assert_eq!(client.calls_after_close() + server.calls_after_close(), 0);
    listener.close();
}

/// The accepting side closing is seen by the connecting side.
pub fn peer_close_is_seen(t: &dyn Transport) {
    let acc = TestAcceptor::recording();
    let listener = t.listen(loopback(), Arc::new(acc.clone())).expect("listen");
    let (_conn, client) = connect(t, listener.local_addr());
    let (server_conn, server) = acc.accepted(0);
    server_conn.close();
    assert!(client.wait_for(|_, c| !c.is_empty()), "EOF not reported");
    assert_eq!(client.closed(), vec![CloseReason::Eof]);
    assert!(server.wait_for(|_, c| c == [CloseReason::Local]));
    listener.close();
}

/// An acceptor that refuses a connection makes the transport close it.
pub fn refused_connections_are_closed(t: &dyn Transport) {
    let listener = t
        .listen(loopback(), Arc::new(TestAcceptor::refusing()))
        .expect("listen");
    let (_conn, client) = connect(t, listener.local_addr());
    assert!(
        client.wait_for(|_, c| !c.is_empty()),
        "refused conn left open"
    );
    assert_eq!(client.closed(), vec![CloseReason::Eof]);
    listener.close();
}

/// Connecting where nobody listens is an error, and a closed listener stops
/// accepting.
pub fn connect_errors_and_listener_close(t: &dyn Transport) {
    let acc = TestAcceptor::recording();
    let listener = t.listen(loopback(), Arc::new(acc.clone())).expect("listen");
    let addr = listener.local_addr();
    listener.close();
    let deadline = Instant::now() + WAIT;
    loop {
        let r = t.connect(
            addr,
            Duration::from_secs(2),
            Box::new(|_| Recorder::new().receiver()),
        );
        match r {
            Err(TransportError::Connect { addr: a, .. }) => {
                assert_eq!(a, addr);
                break;
            }
            Err(e) => panic!("unexpected error kind: {e}"),
            Ok(c) => {
                c.close();
                assert!(Instant::now() < deadline, "closed listener still accepts");
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
    // A port that is taken cannot be listened on twice.
    let first = t.listen(loopback(), Arc::new(acc.clone())).expect("listen");
    match t.listen(first.local_addr(), Arc::new(acc)) {
        Err(TransportError::Listen { addr: a, .. }) => assert_eq!(a, first.local_addr()),
        other => panic!("second bind of one port must fail, got {other:?}"),
    }
    first.close();
}

/// A peer that never reads: the sender's buffer is bounded and the
/// connection closes with `Overflow` (the transport was built with a
/// send-buffer limit of `limit` bytes).
pub fn a_peer_that_never_reads_overflows(t: &dyn Transport, limit: usize) {
    let sink = StdListener::bind(loopback()).expect("bind raw listener");
    let addr = sink.local_addr().expect("addr");
    let (conn, rec) = connect(t, addr);
    let (mut held, _) = sink.accept().expect("accept");
    let chunk = vec![7u8; 64 * 1024];
    let deadline = Instant::now() + WAIT;
    let mut sent = 0usize;
    while conn.send(&[&chunk]).is_ok() {
        sent += chunk.len();
        assert!(
            Instant::now() < deadline,
            "never overflowed after {sent} bytes"
        );
        if sent > 64 * limit + (64 << 20) {
            panic!("buffered {sent} bytes with a limit of {limit}");
        }
    }
    assert!(rec.wait_for(|_, c| !c.is_empty()));
    assert_eq!(rec.closed(), vec![CloseReason::Overflow { limit }]);
    // The peer sees the stream end once it reads.
    held.set_read_timeout(Some(WAIT)).expect("timeout");
    let mut buf = vec![0u8; 1 << 16];
    let t0 = Instant::now();
    while let Ok(n) = held.read(&mut buf) {
        if n == 0 || t0.elapsed() > WAIT {
            break;
        }
    }
}

/// Every check above. `overflow_limit` is the send-buffer limit the
/// transport under test was built with.
pub fn run_all(t: &dyn Transport, overflow_limit: usize) {
    echo_round_trip(t, std::net::IpAddr::from([127, 0, 0, 1]), overflow_limit);
    if StdListener::bind("[::1]:0").is_ok() {
        echo_round_trip(
            t,
            std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
            overflow_limit,
        );
    }
    concurrent_sends_stay_whole(t);
    close_is_reported_once(t);
    peer_close_is_seen(t);
    refused_connections_are_closed(t);
    connect_errors_and_listener_close(t);
    a_peer_that_never_reads_overflows(t, overflow_limit);
    abort_discards_queued_bytes(t);
}

/// `abort` closes without flushing: a peer that stopped reading gets only
/// what was already in flight, and the close is reported as `Local`.
pub fn abort_discards_queued_bytes(t: &dyn Transport) {
    let sink = StdListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    // A small receive window, so most of what is queued stays queued.
    nix::sys::socket::setsockopt(&sink, nix::sys::socket::sockopt::RcvBuf, &4096)
        .unwrap_or_else(|e| panic!("SO_RCVBUF: {e}"));
    let addr = sink.local_addr().unwrap_or_else(|e| panic!("addr: {e}"));
    let rec = Recorder::new();
    let r = rec.clone();
    let conn = t
        .connect(addr, WAIT, Box::new(move |_| r.receiver()))
        .unwrap_or_else(|e| panic!("connect: {e}"));
    let (mut held, _) = sink.accept().unwrap_or_else(|e| panic!("accept: {e}"));
    let chunk = vec![1u8; 1 << 20];
    let queued = 8usize << 20;
    for _ in 0..8 {
        conn.send(&[&chunk]).unwrap_or_else(|e| panic!("send: {e}"));
    }
    // Let the writer fill the socket buffers, then abort.
    std::thread::sleep(Duration::from_millis(50));
    conn.abort();
    // Read to the end at once: a graceful close would now flush it all.
    held.set_read_timeout(Some(WAIT)).ok();
    let mut got = 0usize;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match held.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    assert!(
        rec.wait_for(|_, closed| !closed.is_empty()),
        "abort never completed"
    );
    assert_eq!(rec.closed(), vec![CloseReason::Local]);
    assert!(got < queued, "abort flushed all {queued} queued bytes");
    assert!(conn.send(&[b"x"]).is_err(), "send after abort must fail");
}
