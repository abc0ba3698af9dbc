//! TLS 1.3 for node links: building the rustls configurations of a node,
//! and [`TlsSession`], a sans-IO wrapper that turns ciphertext from the
//! transport into plaintext for the handshake and frame decoder and back.
//!
//! # Crypto provider
//!
//! The whole workspace uses rustls's **aws-lc-rs** provider (and rcgen's).
//! On these machines it is ~15-20 % faster than ring at bulk encryption
//! (4.0-4.2 vs 3.5 GB/s, `shared/PERF-NOTES.md`), which is what a
//! distribution link spends its TLS time on; it built here from a clean
//! target in under two minutes with no cmake (aws-lc-sys's `cc` build), so
//! ring's faster build was not worth the throughput.
//!
//! # Two ways to set up a node
//!
//! * **Ephemeral** (default, [`TlsConfig::ephemeral`]): at start the node
//!   makes a self-signed certificate with rcgen for its host name. Links are
//!   encrypted, but certificates authenticate nothing: a node accepts any
//!   peer certificate (the handshake signature is still checked against it,
//!   so the session is bound to the key the peer presented). Authentication
//!   is the cookie handshake, whose proofs are bound to this TLS session by
//!   its exporter value ([`TlsSession::exporter`]), so a man in the middle
//!   that terminates TLS on both sides cannot pass the cookie check.
//! * **CA-verified mutual TLS** ([`TlsConfig::from_env`] with
//!   `MESH_TLS_CERT`, `MESH_TLS_KEY`, `MESH_TLS_CA`, PEM files): each node
//!   presents its certificate chain and requires the peer's to chain to the
//!   CA. The connecting side also checks that the acceptor's certificate is
//!   valid for the host part of the node name it dialled (a DNS name or an
//!   IP address in the subject alternative names). The cookie handshake
//!   runs on top, unchanged.
//!
//! Only TLS 1.3 is offered.

use std::io::BufRead;
use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};

use super::handshake::{EXPORTER_LABEL, NONCE_LEN};
use super::name::{Host, NodeName};

/// The environment variables of CA-verified mode.
pub const ENV_CERT: &str = "MESH_TLS_CERT";
pub const ENV_KEY: &str = "MESH_TLS_KEY";
pub const ENV_CA: &str = "MESH_TLS_CA";

/// Why TLS could not be set up, or why a session failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    #[error("could not generate this node's TLS certificate: {0}")]
    CertGen(String),
    #[error(
        "{set} is set but {missing} is not: set all of {ENV_CERT}, {ENV_KEY} and {ENV_CA} \
         for CA-verified TLS, or none for ephemeral certificates"
    )]
    PartialEnv {
        set: &'static str,
        missing: &'static str,
    },
    #[error("{var}: cannot read {path}: {reason}")]
    ReadFile {
        var: &'static str,
        path: String,
        reason: String,
    },
    #[error("{var}: {path} holds no PEM {what}")]
    NoPem {
        var: &'static str,
        path: String,
        what: &'static str,
    },
    #[error("{var}: {path} is not valid PEM: {reason}")]
    BadPem {
        var: &'static str,
        path: String,
        reason: String,
    },
    #[error("TLS configuration refused ({context}): {error}")]
    Config {
        context: &'static str,
        error: rustls::Error,
    },
    #[error("{0:?} cannot be used as a TLS server name")]
    BadServerName(String),
    #[error("TLS error: {0}")]
    Protocol(rustls::Error),
    #[error("TLS error: {0}")]
    Io(String),
    #[error("the TLS handshake has not finished")]
    NotEstablished,
    #[error("no secure random numbers available: {0}")]
    Random(String),
}

/// The one crypto provider of the workspace.
pub fn provider() -> Arc<CryptoProvider> {
    static P: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    Arc::clone(P.get_or_init(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider())))
}

/// `N` bytes from the provider's secure random generator: handshake
/// nonces and a node's creation number.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], TlsError> {
    let mut b = [0u8; N];
    provider()
        .secure_random
        .fill(&mut b)
        .map_err(|e| TlsError::Random(format!("{e:?}")))?;
    Ok(b)
}

/// Which kind of certificates a node uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    Ephemeral,
    CaVerified,
}

/// A node's client and server TLS configurations.
#[derive(Debug, Clone)]
pub struct TlsConfig {
    pub mode: TlsMode,
    pub server: Arc<ServerConfig>,
    pub client: Arc<ClientConfig>,
}

/// Certificates, key and CA in PEM, with where they came from (for errors).
#[derive(Debug, Clone)]
pub struct PemInputs<'a> {
    pub cert: &'a [u8],
    pub cert_path: &'a str,
    pub key: &'a [u8],
    pub key_path: &'a str,
    pub ca: &'a [u8],
    pub ca_path: &'a str,
}

impl TlsConfig {
    /// A fresh self-signed certificate for `node`'s host (see module docs).
    pub fn ephemeral(node: &NodeName) -> Result<TlsConfig, TlsError> {
        let host = match node.host() {
            Host::Ip(ip) => ip.to_string(),
            Host::Dns(d) => d.clone(),
        };
        let ck = rcgen::generate_simple_self_signed(vec![host])
            .map_err(|e| TlsError::CertGen(e.to_string()))?;
        let cert = ck.cert.der().clone();
        let key = PrivateKeyDer::Pkcs8(ck.signing_key.serialize_der().into());
        let p = provider();
        let server = ServerConfig::builder_with_provider(Arc::clone(&p))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|error| TlsError::Config {
                context: "server protocol versions",
                error,
            })?
            .with_no_client_auth()
            .with_single_cert(vec![cert.clone()], key.clone_key())
            .map_err(|error| TlsError::Config {
                context: "server certificate",
                error,
            })?;
        let verifier = Arc::new(AnyServerCert {
            provider: Arc::clone(&p),
        });
        let client = ClientConfig::builder_with_provider(p)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|error| TlsError::Config {
                context: "client protocol versions",
                error,
            })?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(TlsConfig {
            mode: TlsMode::Ephemeral,
            server: Arc::new(server),
            client: Arc::new(client),
        })
    }

    /// CA-verified mutual TLS from PEM text.
    pub fn from_pem(p: &PemInputs<'_>) -> Result<TlsConfig, TlsError> {
        let certs = parse_certs(ENV_CERT, p.cert_path, p.cert)?;
        let key = PrivateKeyDer::from_pem_slice(p.key).map_err(|e| match e {
            rustls::pki_types::pem::Error::NoItemsFound => TlsError::NoPem {
                var: ENV_KEY,
                path: p.key_path.to_owned(),
                what: "private key",
            },
            e => TlsError::BadPem {
                var: ENV_KEY,
                path: p.key_path.to_owned(),
                reason: format!("{e:?}"),
            },
        })?;
        let mut roots = RootCertStore::empty();
        for c in parse_certs(ENV_CA, p.ca_path, p.ca)? {
            roots.add(c).map_err(|e| TlsError::BadPem {
                var: ENV_CA,
                path: p.ca_path.to_owned(),
                reason: e.to_string(),
            })?;
        }
        let roots = Arc::new(roots);
        let prov = provider();
        let client_verifier =
            WebPkiClientVerifier::builder_with_provider(Arc::clone(&roots), Arc::clone(&prov))
                .build()
                .map_err(|e| TlsError::BadPem {
                    var: ENV_CA,
                    path: p.ca_path.to_owned(),
                    reason: e.to_string(),
                })?;
        let server = ServerConfig::builder_with_provider(Arc::clone(&prov))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|error| TlsError::Config {
                context: "server protocol versions",
                error,
            })?
            .with_client_cert_verifier(client_verifier)
            .with_single_cert(certs.clone(), key.clone_key())
            .map_err(|error| TlsError::Config {
                context: "MESH_TLS_CERT/MESH_TLS_KEY (does the key match the certificate?)",
                error,
            })?;
        let client = ClientConfig::builder_with_provider(prov)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|error| TlsError::Config {
                context: "client protocol versions",
                error,
            })?
            .with_root_certificates(roots)
            .with_client_auth_cert(certs, key)
            .map_err(|error| TlsError::Config {
                context: "MESH_TLS_CERT/MESH_TLS_KEY (does the key match the certificate?)",
                error,
            })?;
        Ok(TlsConfig {
            mode: TlsMode::CaVerified,
            server: Arc::new(server),
            client: Arc::new(client),
        })
    }

    /// CA-verified TLS if `MESH_TLS_CERT`, `MESH_TLS_KEY` and `MESH_TLS_CA`
    /// are all set (paths of PEM files), ephemeral if none is.
    pub fn from_env(node: &NodeName) -> Result<TlsConfig, TlsError> {
        let var = |v| std::env::var(v).ok().filter(|s| !s.is_empty());
        TlsConfig::from_paths(node, var(ENV_CERT), var(ENV_KEY), var(ENV_CA))
    }

    /// `from_env` with the three values passed in.
    pub fn from_paths(
        node: &NodeName,
        cert: Option<String>,
        key: Option<String>,
        ca: Option<String>,
    ) -> Result<TlsConfig, TlsError> {
        let (cert, key, ca) = match (cert, key, ca) {
            (None, None, None) => return TlsConfig::ephemeral(node),
            (Some(c), Some(k), Some(a)) => (c, k, a),
            (c, k, a) => {
                let set = [(ENV_CERT, &c), (ENV_KEY, &k), (ENV_CA, &a)];
                let first_set = set.iter().find(|(_, v)| v.is_some()).map(|(n, _)| *n);
                let missing = set.iter().find(|(_, v)| v.is_none()).map(|(n, _)| *n);
                return Err(TlsError::PartialEnv {
                    set: first_set.unwrap_or(ENV_CERT),
                    missing: missing.unwrap_or(ENV_KEY),
                });
            }
        };
        let read = |var: &'static str, path: &str| {
            std::fs::read(path).map_err(|e| TlsError::ReadFile {
                var,
                path: path.to_owned(),
                reason: e.to_string(),
            })
        };
        let (c, k, a) = (
            read(ENV_CERT, &cert)?,
            read(ENV_KEY, &key)?,
            read(ENV_CA, &ca)?,
        );
        TlsConfig::from_pem(&PemInputs {
            cert: &c,
            cert_path: &cert,
            key: &k,
            key_path: &key,
            ca: &a,
            ca_path: &ca,
        })
    }
}

fn parse_certs(
    var: &'static str,
    path: &str,
    pem: &[u8],
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::BadPem {
            var,
            path: path.to_owned(),
            reason: format!("{e:?}"),
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoPem {
            var,
            path: path.to_owned(),
            what: "certificate",
        });
    }
    Ok(certs)
}

/// Ephemeral mode's client-side verifier: any certificate is accepted (the
/// cookie authenticates), but the TLS 1.3 handshake signature must be valid
/// for the certificate's key.
#[derive(Debug)]
struct AnyServerCert {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AnyServerCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        // Only TLS 1.3 is configured.
        Err(rustls::Error::PeerIncompatible(
            rustls::PeerIncompatible::Tls12NotOffered,
        ))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The server name a connecting node checks the acceptor's certificate
/// against (in CA-verified mode): the host part of its node name.
pub fn server_name(node: &NodeName) -> Result<ServerName<'static>, TlsError> {
    match node.host() {
        Host::Ip(ip) => Ok(ServerName::IpAddress((*ip).into())),
        Host::Dns(d) => {
            ServerName::try_from(d.clone()).map_err(|_| TlsError::BadServerName(d.clone()))
        }
    }
}

/// One TLS connection, sans-IO: ciphertext in and out, plaintext in and out.
///
/// After an `Err` from [`TlsSession::feed`], call
/// [`TlsSession::take_ciphertext`] once more (rustls may have queued an
/// alert telling the peer why) and close the connection.
#[derive(Debug)]
pub struct TlsSession {
    conn: rustls::Connection,
}

impl TlsSession {
    /// The connecting side, dialling `peer`. Queues the ClientHello.
    pub fn client(cfg: &TlsConfig, peer: &NodeName) -> Result<TlsSession, TlsError> {
        let conn = rustls::ClientConnection::new(Arc::clone(&cfg.client), server_name(peer)?)
            .map_err(TlsError::Protocol)?;
        Ok(TlsSession::wrap(conn.into()))
    }

    /// The accepting side.
    pub fn server(cfg: &TlsConfig) -> Result<TlsSession, TlsError> {
        let conn =
            rustls::ServerConnection::new(Arc::clone(&cfg.server)).map_err(TlsError::Protocol)?;
        Ok(TlsSession::wrap(conn.into()))
    }

    fn wrap(mut conn: rustls::Connection) -> TlsSession {
        // The transport bounds what a slow peer can make us buffer; rustls's
        // own 64 KiB send limit would refuse a large frame outright.
        conn.set_buffer_limit(None);
        TlsSession { conn }
    }

    /// Ciphertext from the transport. Decrypted bytes are appended to
    /// `plaintext`. `Ok(true)` once the peer has sent close_notify.
    pub fn feed(
        &mut self,
        mut ciphertext: &[u8],
        plaintext: &mut Vec<u8>,
    ) -> Result<bool, TlsError> {
        loop {
            // Take what is decrypted first, so rustls's plaintext buffer
            // never blocks `read_tls`.
            self.drain_plaintext(plaintext)?;
            if ciphertext.is_empty() {
                break;
            }
            let n = self
                .conn
                .read_tls(&mut ciphertext)
                .map_err(|e| TlsError::Io(e.to_string()))?;
            let state = self
                .conn
                .process_new_packets()
                .map_err(TlsError::Protocol)?;
            if n == 0 || state.peer_has_closed() {
                self.drain_plaintext(plaintext)?;
                return Ok(state.peer_has_closed());
            }
        }
        Ok(false)
    }

    fn drain_plaintext(&mut self, out: &mut Vec<u8>) -> Result<(), TlsError> {
        let mut reader = self.conn.reader();
        loop {
            match reader.fill_buf() {
                Ok([]) => return Ok(()),
                Ok(buf) => {
                    let n = buf.len();
                    out.extend_from_slice(buf);
                    reader.consume(n);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return Err(TlsError::Io(
                        "peer closed without close_notify (truncation)".to_owned(),
                    ));
                }
                Err(e) => return Err(TlsError::Io(e.to_string())),
            }
        }
    }

    /// Queue plaintext for the peer (sent once the TLS handshake is done;
    /// callers send nothing before then).
    pub fn write_plaintext(&mut self, data: &[u8]) -> Result<(), TlsError> {
        use std::io::Write;
        self.conn
            .writer()
            .write_all(data)
            .map_err(|e| TlsError::Io(e.to_string()))
    }

    /// Move the ciphertext to send into `out`.
    pub fn take_ciphertext(&mut self, out: &mut Vec<u8>) {
        while self.conn.wants_write() {
            match self.conn.write_tls(out) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    }

    pub fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }

    /// This session's exporter value for the cookie handshake.
    pub fn exporter(&self) -> Result<[u8; NONCE_LEN], TlsError> {
        if self.conn.is_handshaking() {
            return Err(TlsError::NotEstablished);
        }
        self.conn
            .export_keying_material([0u8; NONCE_LEN], EXPORTER_LABEL, None)
            .map_err(TlsError::Protocol)
    }

    /// Queue a close_notify (then `take_ciphertext` and close).
    pub fn close(&mut self) {
        self.conn.send_close_notify();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::frame::{self, FrameDecoder, FrameRef, SendBody};
    use crate::dist::handshake::{Admission, Cookie, Handshake, HandshakeConfig, Progress};
    use std::time::{Duration, Instant};

    fn name(s: &str) -> NodeName {
        NodeName::parse(s).expect("valid name")
    }

    /// Shuttle ciphertext both ways until neither side has anything to say.
    fn pump(
        c: &mut TlsSession,
        s: &mut TlsSession,
        to_c: &mut Vec<u8>,
        to_s: &mut Vec<u8>,
    ) -> Result<(), TlsError> {
        for _ in 0..16 {
            let mut buf = Vec::new();
            c.take_ciphertext(&mut buf);
            let a = buf.len();
            s.feed(&buf, to_s)?;
            buf.clear();
            s.take_ciphertext(&mut buf);
            let b = buf.len();
            c.feed(&buf, to_c)?;
            if a == 0 && b == 0 {
                break;
            }
        }
        Ok(())
    }

    fn hs_cfg(n: &str, creation: u64) -> HandshakeConfig {
        HandshakeConfig {
            me: name(n),
            creation,
            cookie: Cookie::new(b"cookie").expect("non-empty"),
            timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn ephemeral_tls_then_cookie_handshake_then_frames() {
        let a = name("a@127.0.0.1:4000");
        let b = name("b@localhost:4001");
        let ta = TlsConfig::ephemeral(&a).expect("cert");
        let tb = TlsConfig::ephemeral(&b).expect("cert");
        assert_eq!(ta.mode, TlsMode::Ephemeral);
        let mut c = TlsSession::client(&ta, &b).expect("client");
        let mut s = TlsSession::server(&tb).expect("server");
        assert_eq!(c.exporter(), Err(TlsError::NotEstablished));
        let (mut pc, mut ps) = (Vec::new(), Vec::new());
        pump(&mut c, &mut s, &mut pc, &mut ps).expect("tls");
        assert!(!c.is_handshaking() && !s.is_handshaking());
        let (ec, es) = (c.exporter().expect("ec"), s.exporter().expect("es"));
        assert_eq!(ec, es, "both ends derive the same binding value");

        let t0 = Instant::now();
        let mut hi = Handshake::initiator(
            hs_cfg("a@127.0.0.1:4000", 1),
            b.clone(),
            ec,
            random_bytes().expect("rng"),
            t0,
        );
        let mut ha = Handshake::acceptor(
            hs_cfg("b@localhost:4001", 2),
            es,
            random_bytes().expect("rng"),
            t0,
        );
        let mut done = (false, false);
        for _ in 0..8 {
            let mut out = Vec::new();
            hi.take_output(&mut out);
            c.write_plaintext(&out).expect("write");
            out.clear();
            ha.take_output(&mut out);
            s.write_plaintext(&out).expect("write");
            pump(&mut c, &mut s, &mut pc, &mut ps).expect("tls");
            if !ps.is_empty() && !done.1 {
                match ha
                    .push_bytes(&std::mem::take(&mut ps), t0)
                    .expect("acceptor")
                {
                    Progress::Authenticated { .. } => {
                        ha.admit(Admission::Accept {
                            abort_outgoing: false,
                        })
                        .expect("admit");
                        done.1 = true;
                    }
                    Progress::Done => done.1 = true,
                    Progress::Continue => {}
                }
            }
            if !pc.is_empty() && !done.0 {
                done.0 = hi
                    .push_bytes(&std::mem::take(&mut pc), t0)
                    .expect("initiator")
                    == Progress::Done;
            }
            if done == (true, true) {
                break;
            }
        }
        let ei = hi.finish().expect("initiator done");
        let ea = ha.finish().expect("acceptor done");
        assert_eq!(ei.peer, b);
        assert_eq!(ea.peer, a);

        // A 1 MiB frame crosses the session intact.
        let msg: Vec<u8> = (0..(1 << 20)).map(|i| (i % 251) as u8).collect();
        let mut wire = Vec::new();
        frame::encode(
            frame::Kind::Send,
            &SendBody {
                to: frame::FramePid {
                    node: frame::FrameNode::Receiver,
                    sched: 0,
                    slot: 1,
                    generation: 1,
                },
                msg: msg.clone(),
            },
            frame::DEFAULT_MAX_FRAME,
            &mut wire,
        )
        .expect("encode");
        s.write_plaintext(&wire).expect("write");
        pump(&mut c, &mut s, &mut pc, &mut ps).expect("tls");
        let mut d = FrameDecoder::new(frame::DEFAULT_MAX_FRAME);
        d.push_bytes(&ei.leftover);
        d.push_bytes(&pc);
        let f = d.next_frame().expect("valid").expect("whole frame");
        match f.decode().expect("valid body") {
            FrameRef::Send(body) => assert_eq!(body.msg.as_slice(), &msg[..]),
            other => panic!("{other:?}"),
        }
        // Orderly close.
        s.close();
        let mut buf = Vec::new();
        s.take_ciphertext(&mut buf);
        assert_eq!(c.feed(&buf, &mut pc), Ok(true));
    }

    struct Pki {
        cert: String,
        key: String,
        ca: String,
    }

    fn pki(hosts: &[&str]) -> (rcgen::CertifiedIssuer<'static, rcgen::KeyPair>, Vec<Pki>) {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca =
            rcgen::CertifiedIssuer::self_signed(params, rcgen::KeyPair::generate().expect("key"))
                .expect("ca");
        let nodes = hosts
            .iter()
            .map(|h| {
                let key = rcgen::KeyPair::generate().expect("key");
                let cert = rcgen::CertificateParams::new(vec![(*h).to_owned()])
                    .expect("params")
                    .signed_by(&key, &ca)
                    .expect("signed");
                Pki {
                    cert: cert.pem(),
                    key: key.serialize_pem(),
                    ca: ca.pem(),
                }
            })
            .collect();
        (ca, nodes)
    }

    fn from_pki(p: &Pki) -> TlsConfig {
        TlsConfig::from_pem(&PemInputs {
            cert: p.cert.as_bytes(),
            cert_path: "node.pem",
            key: p.key.as_bytes(),
            key_path: "node.key",
            ca: p.ca.as_bytes(),
            ca_path: "ca.pem",
        })
        .expect("valid pem")
    }

    #[test]
    fn ca_verified_mutual_tls_accepts_the_cas_nodes_only() {
        let (_ca, nodes) = pki(&["127.0.0.1", "127.0.0.1"]);
        let (a, b) = (from_pki(&nodes[0]), from_pki(&nodes[1]));
        assert_eq!(a.mode, TlsMode::CaVerified);
        let target = name("b@127.0.0.1:4001");
        let mut c = TlsSession::client(&a, &target).expect("client");
        let mut s = TlsSession::server(&b).expect("server");
        let (mut pc, mut ps) = (Vec::new(), Vec::new());
        pump(&mut c, &mut s, &mut pc, &mut ps).expect("tls");
        assert!(!c.is_handshaking() && !s.is_handshaking());

        // A node with a certificate from another CA is refused.
        let (_other, strangers) = pki(&["127.0.0.1"]);
        let stranger = from_pki(&strangers[0]);
        let mut c = TlsSession::client(&stranger, &target).expect("client");
        let mut s = TlsSession::server(&b).expect("server");
        let e = pump(&mut c, &mut s, &mut pc, &mut ps).expect_err("untrusted");
        assert!(matches!(e, TlsError::Protocol(_)), "{e}");

        // The dialled host must be in the acceptor's certificate.
        let wrong_host = name("b@10.9.8.7:4001");
        let mut c = TlsSession::client(&a, &wrong_host).expect("client");
        let mut s = TlsSession::server(&b).expect("server");
        assert!(pump(&mut c, &mut s, &mut pc, &mut ps).is_err());

        // An ephemeral node cannot join a CA-verified one.
        let eph = TlsConfig::ephemeral(&name("e@127.0.0.1:1")).expect("cert");
        let mut c = TlsSession::client(&eph, &target).expect("client");
        let mut s = TlsSession::server(&b).expect("server");
        assert!(pump(&mut c, &mut s, &mut pc, &mut ps).is_err());
    }

    #[test]
    fn bad_tls_settings_name_the_variable_and_file() {
        let n = name("a@127.0.0.1:1");
        let e =
            TlsConfig::from_paths(&n, Some("/x/cert.pem".into()), None, None).expect_err("partial");
        assert_eq!(
            e,
            TlsError::PartialEnv {
                set: ENV_CERT,
                missing: ENV_KEY
            }
        );
        assert!(e.to_string().contains("MESH_TLS_KEY"), "{e}");
        let e = TlsConfig::from_paths(
            &n,
            Some("/nonexistent/cert.pem".into()),
            Some("/nonexistent/key.pem".into()),
            Some("/nonexistent/ca.pem".into()),
        )
        .expect_err("missing file");
        assert!(
            matches!(&e, TlsError::ReadFile { var: ENV_CERT, path, .. } if path == "/nonexistent/cert.pem"),
            "{e}"
        );
        assert!(
            e.to_string()
                .starts_with("MESH_TLS_CERT: cannot read /nonexistent/cert.pem")
        );
        let (_ca, nodes) = pki(&["127.0.0.1"]);
        let p = &nodes[0];
        let bad = |cert: &str, key: &str, ca: &str| {
            TlsConfig::from_pem(&PemInputs {
                cert: cert.as_bytes(),
                cert_path: "c.pem",
                key: key.as_bytes(),
                key_path: "k.pem",
                ca: ca.as_bytes(),
                ca_path: "ca.pem",
            })
            .expect_err("bad input")
        };
        assert!(matches!(
            bad("not pem", &p.key, &p.ca),
            TlsError::NoPem { var: ENV_CERT, .. }
        ));
        assert!(matches!(
            bad(&p.cert, "nothing here", &p.ca),
            TlsError::NoPem { var: ENV_KEY, .. }
        ));
        assert!(matches!(
            bad(&p.cert, &p.key, ""),
            TlsError::NoPem { var: ENV_CA, .. }
        ));
        // A key that does not belong to the certificate.
        let other_key = rcgen::KeyPair::generate().expect("key").serialize_pem();
        assert!(matches!(
            bad(&p.cert, &other_key, &p.ca),
            TlsError::Config { .. }
        ));
    }
}
