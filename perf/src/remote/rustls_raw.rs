//! `rustls-raw`: the physical baseline of the remote scenarios. A TLS 1.3
//! client and server in this process, one thread each, blocking std
//! sockets on loopback with `TCP_NODELAY`, rustls with the aws-lc-rs
//! provider (the workspace's, see `core/src/dist/tls.rs`), and a
//! throw-away CA-signed certificate that the client verifies. No runtime,
//! no serialisation, no authentication beyond TLS: what any distribution
//! layer over TLS on this machine can at best approach.
//!
//! How each scenario moves its bytes:
//!
//! * Reads: the socket is wrapped in a 64 KiB `BufReader` under rustls
//!   (rustls on its own reads at most 4 KiB per system call), so the
//!   receiver makes few system calls. Plaintext is read through an 8 KiB
//!   `BufReader`: small messages are parsed from memory, and a read of 8 KiB
//!   or more bypasses it and copies straight from rustls into the payload
//!   buffer (a 64 KiB buffer here cost a second copy of every large payload,
//!   which `perf` showed as the receiver's largest cost).
//! * `remote-pingpong`: the client writes 64 bytes (one TLS record, sent at
//!   once) and waits for the server's 64-byte echo; each round trip is
//!   timed.
//! * `remote-send`: the sender writes frames of a 4-byte little-endian
//!   length and the payload into a 64 KiB `BufWriter`. A runtime flushes
//!   when its send queue runs dry; here the queue never runs dry until the
//!   last message, so the buffer is written whenever it fills (64 KiB, four
//!   16 KiB TLS records per write; a frame larger than the buffer goes out
//!   in one write of its own) and flushed after the last message. The
//!   receiver checks every length, reads every payload, and acks the last
//!   with one byte; the clock runs from the first write to the ack.
//! * `handshake`: TCP connect, a full TLS 1.3 handshake (no resumption:
//!   the client never resumes, the server issues no tickets) and one byte
//!   the server writes once its side is done, so the connection is usable
//!   both ways. The server verifies no client certificate (Mesh's default
//!   ephemeral mode does not either; the cookie handshake authenticates).
//!
//! `remote-spawn` and `global-register` have no meaning without a runtime;
//! this peer has no rows for them.

use std::io::{self, BufRead, BufReader, BufWriter, IoSlice, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, ServerConfig, ServerConnection, StreamOwned};

use super::pki::Pki;
use super::{Placement, RemoteRuntime, RemoteSession, Scenario};
use crate::PerfError;
use crate::report::Sample;

const PEER: &str = "rustls-raw";
/// Any blocking socket call gives up after this long.
const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// Bound on one repetition.
const REP_TIMEOUT: Duration = Duration::from_secs(300);
/// Ciphertext read buffer and the sender's write buffer.
const BUF: usize = 64 * 1024;
/// The receiver's plaintext buffer (see the module docs).
const PLAIN_BUF: usize = 8 * 1024;
const PING_BYTES: usize = 64;

/// The client and server configurations, built once per run.
#[derive(Debug, Clone)]
pub struct RustlsRaw {
    server: Arc<ServerConfig>,
    client: Arc<ClientConfig>,
}

impl RustlsRaw {
    pub fn new() -> Result<RustlsRaw, PerfError> {
        let pki = Pki::loopback()?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut server = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .with_no_client_auth()
            .with_single_cert(vec![pki.cert_der.clone()], pki.key())?;
        server.send_tls13_tickets = 0;
        let mut roots = rustls::RootCertStore::empty();
        roots.add(pki.ca_der.clone())?;
        let mut client = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .with_root_certificates(roots)
            .with_no_client_auth();
        client.resumption = rustls::client::Resumption::disabled();
        Ok(RustlsRaw {
            server: Arc::new(server),
            client: Arc::new(client),
        })
    }
}

impl RemoteRuntime for RustlsRaw {
    fn name(&self) -> &'static str {
        PEER
    }

    fn open(&self, placement: Placement) -> Result<Box<dyn RemoteSession>, PerfError> {
        Ok(Box::new(Session {
            cfg: self.clone(),
            placement,
        }))
    }
}

#[derive(Debug)]
struct Session {
    cfg: RustlsRaw,
    placement: Placement,
}

impl RemoteSession for Session {
    fn pingpong(&mut self, n: usize, warmup: usize) -> Result<Option<Vec<Sample>>, PerfError> {
        let (server, client) = (Arc::clone(&self.cfg.server), Arc::clone(&self.cfg.client));
        let mut rtts = pair(
            self.placement,
            move |l| pong_server(&l, server),
            move |addr| ping_client(addr, client, n, warmup),
        )?;
        Ok(Some(Scenario::rtt_samples(&mut rtts)))
    }

    fn send(&mut self, size: usize, n: u64) -> Result<Option<Vec<Sample>>, PerfError> {
        let (server, client) = (Arc::clone(&self.cfg.server), Arc::clone(&self.cfg.client));
        let elapsed = pair(
            self.placement,
            move |l| receive_server(&l, server, size, n),
            move |addr| send_client(addr, client, size, n),
        )?;
        Ok(Some(Scenario::send_samples(size, n, elapsed)))
    }

    fn handshake(&mut self, n: usize) -> Result<Option<Vec<Sample>>, PerfError> {
        let (server, client) = (Arc::clone(&self.cfg.server), Arc::clone(&self.cfg.client));
        let mut times = pair(
            self.placement,
            move |l| accept_server(&l, server, n),
            move |addr| connect_client(addr, client, n),
        )?;
        Ok(Some(Scenario::handshake_samples(&mut times)))
    }

    fn close(self: Box<Self>) -> Result<(), PerfError> {
        Ok(())
    }
}

fn io_err(what: &'static str) -> impl FnOnce(io::Error) -> PerfError {
    move |source| PerfError::Net {
        peer: PEER,
        what,
        source,
    }
}

/// Run `server` on a listener and `client` against it, each on its own
/// thread placed as asked; returns the client's result. Every wait is
/// bounded: sockets time out after [`IO_TIMEOUT`], the repetition after
/// [`REP_TIMEOUT`]. A thread that has not reported by then is left to end
/// on its socket timeouts.
fn pair<T: Send + 'static>(
    placement: Placement,
    server: impl FnOnce(TcpListener) -> Result<(), PerfError> + Send + 'static,
    client: impl FnOnce(SocketAddr) -> Result<T, PerfError> + Send + 'static,
) -> Result<T, PerfError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(io_err("bind"))?;
    let addr = listener.local_addr().map_err(io_err("local address"))?;
    let (stx, srx) = mpsc::channel();
    let server_thread = thread::Builder::new()
        .name("rustls-raw-server".into())
        .spawn(move || {
            let r = placement
                .pin_current_thread()
                .and_then(|()| server(listener));
            let _ = stx.send(r);
        })
        .map_err(io_err("spawn server thread"))?;
    let (ctx, crx) = mpsc::channel();
    let client_thread = thread::Builder::new()
        .name("rustls-raw-client".into())
        .spawn(move || {
            let r = placement.pin_current_thread().and_then(|()| client(addr));
            let _ = ctx.send(r);
        });
    let client_result = match client_thread {
        Err(e) => Err(io_err("spawn client thread")(e)),
        Ok(t) => match crx.recv_timeout(REP_TIMEOUT) {
            Ok(r) => {
                let _ = t.join();
                r
            }
            Err(_) => Err(PerfError::Timeout("rustls-raw client")),
        },
    };
    if client_result.is_err() {
        // A server still blocked in accept: give it a connection that
        // fails at once, so its thread ends.
        let _ = TcpStream::connect_timeout(&addr, Duration::from_secs(1));
    }
    let server_result = match srx.recv_timeout(IO_TIMEOUT + Duration::from_secs(5)) {
        Ok(r) => {
            let _ = server_thread.join();
            r
        }
        Err(_) => Err(PerfError::Timeout("rustls-raw server")),
    };
    let value = client_result?;
    server_result?;
    Ok(value)
}

/// The socket under rustls: big reads through a `BufReader`, writes
/// (vectored, as rustls makes them) straight to the socket.
#[derive(Debug)]
struct Sock(BufReader<TcpStream>);

impl Sock {
    fn new(tcp: TcpStream) -> Result<Sock, PerfError> {
        tcp.set_nodelay(true).map_err(io_err("TCP_NODELAY"))?;
        tcp.set_read_timeout(Some(IO_TIMEOUT))
            .map_err(io_err("read timeout"))?;
        tcp.set_write_timeout(Some(IO_TIMEOUT))
            .map_err(io_err("write timeout"))?;
        Ok(Sock(BufReader::with_capacity(BUF, tcp)))
    }
}

impl Read for Sock {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for Sock {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.get_mut().write(buf)
    }
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.0.get_mut().write_vectored(bufs)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.get_mut().flush()
    }
}

type Client = StreamOwned<ClientConnection, Sock>;
type Server = StreamOwned<ServerConnection, Sock>;

fn connect(addr: SocketAddr, cfg: Arc<ClientConfig>) -> Result<Client, PerfError> {
    let tcp = TcpStream::connect_timeout(&addr, IO_TIMEOUT).map_err(io_err("connect"))?;
    let name = ServerName::IpAddress(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST).into());
    let conn = ClientConnection::new(cfg, name)?;
    Ok(StreamOwned::new(conn, Sock::new(tcp)?))
}

fn accept(listener: &TcpListener, cfg: Arc<ServerConfig>) -> Result<Server, PerfError> {
    let (tcp, _) = listener.accept().map_err(io_err("accept"))?;
    let conn = ServerConnection::new(cfg)?;
    Ok(StreamOwned::new(conn, Sock::new(tcp)?))
}

/// Drive the handshake to its end before anything is timed.
fn finish_handshake<C, D>(s: &mut StreamOwned<C, Sock>) -> Result<(), PerfError>
where
    C: std::ops::DerefMut<Target = rustls::ConnectionCommon<D>>,
    D: rustls::SideData,
{
    while s.conn.is_handshaking() {
        s.conn
            .complete_io(&mut s.sock)
            .map_err(io_err("TLS handshake"))?;
    }
    Ok(())
}

/// Send close_notify so the other side sees a clean end of stream.
fn close<C, D>(mut s: StreamOwned<C, Sock>) -> Result<(), PerfError>
where
    C: std::ops::DerefMut<Target = rustls::ConnectionCommon<D>>,
    D: rustls::SideData,
{
    s.conn.send_close_notify();
    s.flush().map_err(io_err("close_notify"))
}

/// Fill `buf`, or return false on a clean end of stream before its first
/// byte.
fn read_or_eof(r: &mut impl Read, buf: &mut [u8]) -> Result<bool, PerfError> {
    let first = r.read(buf).map_err(io_err("read"))?;
    if first == 0 {
        return Ok(false);
    }
    r.read_exact(&mut buf[first..]).map_err(io_err("read"))?;
    Ok(true)
}

fn pong_server(listener: &TcpListener, cfg: Arc<ServerConfig>) -> Result<(), PerfError> {
    let mut s = accept(listener, cfg)?;
    let mut buf = [0u8; PING_BYTES];
    while read_or_eof(&mut s, &mut buf)? {
        s.write_all(&buf).map_err(io_err("write"))?;
    }
    Ok(())
}

fn ping_client(
    addr: SocketAddr,
    cfg: Arc<ClientConfig>,
    n: usize,
    warmup: usize,
) -> Result<Vec<Duration>, PerfError> {
    let mut s = connect(addr, cfg)?;
    finish_handshake(&mut s)?;
    let msg = [7u8; PING_BYTES];
    let mut buf = [0u8; PING_BYTES];
    let mut rtts = Vec::with_capacity(n);
    for i in 0..warmup + n {
        let t0 = Instant::now();
        s.write_all(&msg).map_err(io_err("write"))?;
        s.read_exact(&mut buf).map_err(io_err("read"))?;
        if i >= warmup {
            rtts.push(t0.elapsed());
        }
    }
    close(s)?;
    Ok(rtts)
}

fn receive_server(
    listener: &TcpListener,
    cfg: Arc<ServerConfig>,
    size: usize,
    n: u64,
) -> Result<(), PerfError> {
    let mut r = BufReader::with_capacity(PLAIN_BUF, accept(listener, cfg)?);
    let mut len = [0u8; 4];
    let mut payload = vec![0u8; size];
    for _ in 0..n {
        r.read_exact(&mut len).map_err(io_err("read length"))?;
        let got = u32::from_le_bytes(len);
        if usize::try_from(got).ok() != Some(size) {
            return Err(PerfError::PeerOutput(format!(
                "rustls-raw receiver: frame length {got}, expected {size}"
            )));
        }
        r.read_exact(&mut payload).map_err(io_err("read payload"))?;
    }
    let s = r.get_mut();
    s.write_all(&[1]).map_err(io_err("write ack"))?;
    s.flush().map_err(io_err("write ack"))?;
    // Wait for the sender's close_notify (bounded by the read timeout).
    let _ = r.fill_buf();
    Ok(())
}

fn send_client(
    addr: SocketAddr,
    cfg: Arc<ClientConfig>,
    size: usize,
    n: u64,
) -> Result<Duration, PerfError> {
    let len = u32::try_from(size).map_err(|_| {
        PerfError::PeerOutput(format!("rustls-raw: message size {size} does not fit u32"))
    })?;
    let mut s = connect(addr, cfg)?;
    finish_handshake(&mut s)?;
    let mut frame = Vec::with_capacity(4 + size);
    frame.extend_from_slice(&len.to_le_bytes());
    frame.resize(4 + size, 7);
    let t0 = Instant::now();
    {
        let mut w = BufWriter::with_capacity(BUF, &mut s);
        for _ in 0..n {
            w.write_all(&frame).map_err(io_err("write"))?;
        }
        w.flush().map_err(io_err("flush"))?;
    }
    let mut ack = [0u8; 1];
    s.read_exact(&mut ack).map_err(io_err("read ack"))?;
    let elapsed = t0.elapsed();
    close(s)?;
    Ok(elapsed)
}

fn accept_server(
    listener: &TcpListener,
    cfg: Arc<ServerConfig>,
    n: usize,
) -> Result<(), PerfError> {
    for _ in 0..n {
        let mut s = accept(listener, Arc::clone(&cfg))?;
        // Writing completes the handshake first, then sends the byte.
        s.write_all(&[1]).map_err(io_err("TLS handshake"))?;
        s.flush().map_err(io_err("TLS handshake"))?;
    }
    Ok(())
}

fn connect_client(
    addr: SocketAddr,
    cfg: Arc<ClientConfig>,
    n: usize,
) -> Result<Vec<Duration>, PerfError> {
    let mut times = Vec::with_capacity(n);
    let mut byte = [0u8; 1];
    for _ in 0..n {
        let t0 = Instant::now();
        let mut s = connect(addr, Arc::clone(&cfg))?;
        s.read_exact(&mut byte).map_err(io_err("TLS handshake"))?;
        times.push(t0.elapsed());
    }
    Ok(times)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scenario_runs_and_gives_positive_figures() {
        let rt = RustlsRaw::new().expect("configs");
        let mut s = rt.open(Placement::None).expect("session");
        let pp = s.pingpong(50, 10).expect("pingpong").expect("rows");
        assert_eq!(pp.len(), 2);
        let send = s.send(64, 1000).expect("send").expect("rows");
        let big = s.send(70_000, 20).expect("send big").expect("rows");
        let hs = s.handshake(3).expect("handshake").expect("rows");
        for x in pp.iter().chain(&send).chain(&big).chain(&hs) {
            assert!(x.value > 0.0 && x.value.is_finite(), "{x:?}");
        }
        assert!(s.spawn(10, 10).expect("no error").is_none());
        s.close().expect("close");
    }
}
