//! The cookie handshake: after TLS, before anything else on a link.
//!
//! A sans-IO state machine for one side of one connection. The driver
//! feeds it decrypted bytes ([`Handshake::push_bytes`]), sends what it
//! queues ([`Handshake::take_output`]), polls [`Handshake::check_deadline`]
//! and, on the accepting side, answers the admission question
//! ([`Handshake::admit`], decided with the pure [`admission`] rule).
//! Nothing here reads a clock or draws randomness: nonces, the node's
//! creation number, the TLS exporter value and `now` are arguments.
//!
//! # Protocol
//!
//! Each message is `len: u16 LE | type: u8 | payload` with `len` counting
//! type and payload and capped at [`MAX_MESSAGE`]; a longer one is refused
//! from its length field, before it is buffered. That framing, the first
//! two fields of a hello (magic `MESH`, version) and the `Reject` message
//! (reason code, sender's version) are frozen across protocol versions, so
//! nodes of different versions always get as far as a clear
//! [`HandshakeError::VersionMismatch`] on both sides.
//!
//! ```text
//! initiator                                   acceptor
//!   Hello{magic, version, creation, nonce_i, name_i}  ->
//!                                          check version, name, self-connect
//!   <-  Hello{magic, version, creation, nonce_a, name_a}
//! check version, expected name
//!   Proof{HMAC(cookie, "I" | transcript)}             ->
//!                                          verify in constant time
//!                                          admission (duplicate, tie-break)
//!   <-  Welcome{HMAC(cookie, "A" | transcript)}   (or Reject{reason})
//! verify in constant time: done                    done
//! ```
//!
//! `transcript` is the TLS exporter value of this connection, then for the
//! initiator and the acceptor in that order: nonce, creation, name. Both
//! proofs are bound to the TLS session (a relay terminates two sessions with
//! different exporter values, so a proof it forwards never verifies), to
//! both fresh nonces (no replay), to both names and to the role (a proof
//! cannot be reflected back to its sender). Proofs are compared with
//! `hmac`'s constant-time `verify_slice`.
//!
//! The initiator proves first and the acceptor answers only after checking
//! that proof, so a stranger connecting to a listener learns nothing derived
//! from the cookie. No name table or registry data is sent before both
//! sides are done: the only names exchanged are the two nodes' own.
//!
//! A wrong cookie fails on both sides as [`HandshakeError::CookieMismatch`]:
//! the acceptor sees the initiator's proof fail and replies `Reject`
//! (cookie mismatch) before closing; the initiator reports that reject.
//! Every other refusal is also sent as a `Reject` with a reason code, so
//! both logs say why.
//!
//! # One connection per node pair
//!
//! See [`admission`]: when two nodes connect to each other at once, both
//! keep the connection *initiated by the node whose name sorts first*.
//! Each acceptor applies the rule to its own view and the two views agree.

use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::frame::WIRE_VERSION;
use super::name::{NameError, NodeName};

/// The handshake's own protocol version (the frame format's version).
pub const PROTOCOL_VERSION: u16 = WIRE_VERSION as u16;
/// Largest handshake message (type + payload), bytes.
pub const MAX_MESSAGE: usize = 1024;
/// Default limit for the whole handshake, TLS included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Bytes of a nonce, of the exporter value and of a proof.
pub const NONCE_LEN: usize = 32;
/// The TLS exporter label both sides derive the binding value with.
pub const EXPORTER_LABEL: &[u8] = b"EXPORTER-mesh-dist-cookie-v1";

const MAGIC: &[u8; 4] = b"MESH";
const T_HELLO: u8 = 1;
const T_PROOF: u8 = 2;
const T_WELCOME: u8 = 3;
const T_REJECT: u8 = 4;
const PROOF_CONTEXT: &[u8] = b"mesh-dist-cookie-proof-v1";

type HmacSha256 = Hmac<Sha256>;

/// The shared secret. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Cookie(Box<[u8]>);

impl Cookie {
    /// A cookie from its text. An empty cookie is refused.
    pub fn new(secret: &[u8]) -> Result<Cookie, HandshakeError> {
        if secret.is_empty() {
            return Err(HandshakeError::EmptyCookie);
        }
        Ok(Cookie(secret.into()))
    }
}

impl std::fmt::Debug for Cookie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cookie(<redacted>)")
    }
}

/// Which end of the connection this side is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Opened the connection (`Node.connect`).
    Initiator,
    /// Accepted it.
    Acceptor,
}

/// Why a connection is refused; travels in `Reject` as a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    CookieMismatch = 1,
    VersionMismatch = 2,
    SelfConnect = 3,
    DuplicateName = 4,
    AlreadyConnected = 5,
    LostTieBreak = 6,
    Malformed = 7,
    /// The initiator reached a node of another name than it dialled.
    NotExpected = 8,
}

impl RejectReason {
    fn from_code(c: u8) -> Option<RejectReason> {
        Some(match c {
            1 => RejectReason::CookieMismatch,
            2 => RejectReason::VersionMismatch,
            3 => RejectReason::SelfConnect,
            4 => RejectReason::DuplicateName,
            5 => RejectReason::AlreadyConnected,
            6 => RejectReason::LostTieBreak,
            7 => RejectReason::Malformed,
            8 => RejectReason::NotExpected,
            _ => return None,
        })
    }
}

/// Why a handshake failed. Each closes the connection; the driver logs it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    #[error(
        "cookie mismatch with {peer}: {} (start every node with the same cookie)",
        if *detected_by_peer { "the peer rejected our proof" } else { "the peer's proof did not verify" }
    )]
    CookieMismatch {
        peer: String,
        detected_by_peer: bool,
    },
    #[error("node {name} connected to itself")]
    SelfConnect { name: String },
    #[error(
        "duplicate node name {name}: a node of that name is already connected \
         (a restarted node is let in once the old link is declared down)"
    )]
    DuplicateName { name: String },
    #[error("already connected to {peer}; this extra connection is dropped")]
    AlreadyConnected { peer: String },
    #[error("{peer} connected to us at the same time; the other connection was kept")]
    LostTieBreak { peer: String },
    #[error(
        "distribution protocol version mismatch: this node speaks {ours}, the peer {theirs} \
         (run the same Mesh version on every node)"
    )]
    VersionMismatch { ours: u16, theirs: u16 },
    #[error("connected to {got}, but expected {expected}")]
    UnexpectedPeer { expected: String, got: String },
    #[error("{peer} dialled this node under another name and hung up")]
    NotExpected { peer: String },
    #[error("handshake message of {len} bytes is over the {limit}-byte cap")]
    Oversized { len: usize, limit: usize },
    #[error("handshake did not finish within {limit:?} (was waiting for {waiting_for})")]
    Timeout {
        limit: Duration,
        waiting_for: &'static str,
    },
    #[error("malformed handshake message: {reason}")]
    Malformed { reason: &'static str },
    #[error("the peer's node name is invalid: {0}")]
    BadPeerName(NameError),
    #[error("the peer refused the handshake (it reported a malformed message)")]
    RejectedMalformed,
    #[error("the connection closed during the handshake (waiting for {waiting_for})")]
    Closed { waiting_for: &'static str },
    #[error("the distribution cookie must not be empty")]
    EmptyCookie,
    #[error("admit() called when no admission decision was pending")]
    NotAwaitingAdmission,
}

/// What this node knows about a peer's connections when one more arrives
/// (input of [`admission`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// No other connection to that node.
    None,
    /// We are connecting to it ourselves and are not done yet.
    PendingOutgoing,
    /// A connection to it is up; `creation` is the peer's, as it said then.
    Up { creation: u64 },
}

/// The acceptor's decision for an authenticated incoming connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Accept it. If `abort_outgoing`, close our own pending connection to
    /// that node: this one won the tie-break.
    Accept {
        abort_outgoing: bool,
    },
    Reject(RejectReason),
}

/// The one-connection-per-pair rule, as a pure function of what the
/// accepting node sees. The incoming connection was initiated by `peer`.
///
/// * No other connection: accept.
/// * Our own connection to `peer` is still in its handshake (a
///   simultaneous connect): keep the connection initiated by the node whose
///   name sorts first (byte order of the full `name@host:port`). The
///   acceptor on the other side applies the same rule to our connection and
///   reaches the mirror decision, so exactly one survives.
/// * A connection to `peer` is up: the same node (same creation) has a
///   redundant connection ([`RejectReason::AlreadyConnected`], harmless);
///   another creation is a second node with the same name, or a restart
///   we have not detected yet ([`RejectReason::DuplicateName`]).
///
/// The driver must not start a connection to a node it already has one
/// with (pending or up); with that, the cases above are all there are.
pub fn admission(me: &str, peer: &str, peer_creation: u64, existing: Existing) -> Admission {
    match existing {
        Existing::None => Admission::Accept {
            abort_outgoing: false,
        },
        Existing::PendingOutgoing => {
            if peer < me {
                Admission::Accept {
                    abort_outgoing: true,
                }
            } else {
                Admission::Reject(RejectReason::LostTieBreak)
            }
        }
        Existing::Up { creation } if creation == peer_creation => {
            Admission::Reject(RejectReason::AlreadyConnected)
        }
        Existing::Up { .. } => Admission::Reject(RejectReason::DuplicateName),
    }
}

/// Settings shared by every handshake of one node.
#[derive(Debug, Clone)]
pub struct HandshakeConfig {
    /// This node's name.
    pub me: NodeName,
    /// Random per node start; tells a restarted node (or a second node of
    /// the same name) from the one already connected.
    pub creation: u64,
    pub cookie: Cookie,
    /// Limit for the whole handshake.
    pub timeout: Duration,
}

/// A peer that completed the handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Established {
    pub peer: NodeName,
    pub peer_creation: u64,
    pub role: Role,
    /// Bytes received after the last handshake message: the start of the
    /// frame stream. Feed them to the frame decoder first.
    pub leftover: Vec<u8>,
}

/// What `push_bytes` achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Waiting for more bytes (send what `take_output` holds).
    Continue,
    /// Acceptor only: the peer proved the cookie. Decide with [`admission`]
    /// and call [`Handshake::admit`].
    Authenticated { peer: NodeName, peer_creation: u64 },
    /// Finished: call [`Handshake::finish`].
    Done,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct HelloFields {
    creation: u64,
    nonce: [u8; NONCE_LEN],
    name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    AwaitHello,
    /// Acceptor: sent its hello, waiting for the initiator's proof.
    AwaitProof,
    /// Acceptor: proof checked, waiting for `admit`.
    AwaitAdmission,
    /// Initiator: sent its proof, waiting for welcome or reject.
    AwaitWelcome,
    Done,
    Failed,
}

impl State {
    fn waiting_for(self) -> &'static str {
        match self {
            State::AwaitHello => "the peer's hello",
            State::AwaitProof => "the peer's cookie proof",
            State::AwaitAdmission => "the admission decision",
            State::AwaitWelcome => "the peer's welcome",
            State::Done | State::Failed => "nothing",
        }
    }
}

/// One side of one handshake.
#[derive(Debug)]
pub struct Handshake {
    cfg: HandshakeConfig,
    role: Role,
    exporter: [u8; NONCE_LEN],
    mine: HelloFields,
    theirs: Option<HelloFields>,
    peer_name: Option<NodeName>,
    /// Initiator: the node it meant to reach.
    expected: Option<NodeName>,
    state: State,
    started: Instant,
    inbuf: Vec<u8>,
    out: Vec<u8>,
}

impl Handshake {
    /// Start the initiating side, once TLS is established. `exporter` is the
    /// connection's TLS exporter value for [`EXPORTER_LABEL`]; `nonce` must
    /// be fresh random bytes. Queues the hello.
    pub fn initiator(
        cfg: HandshakeConfig,
        expected: NodeName,
        exporter: [u8; NONCE_LEN],
        nonce: [u8; NONCE_LEN],
        now: Instant,
    ) -> Handshake {
        let mut h = Handshake::new(cfg, Role::Initiator, exporter, nonce, now);
        h.expected = Some(expected);
        h.send_hello();
        h
    }

    /// Start the accepting side, once TLS is established.
    pub fn acceptor(
        cfg: HandshakeConfig,
        exporter: [u8; NONCE_LEN],
        nonce: [u8; NONCE_LEN],
        now: Instant,
    ) -> Handshake {
        Handshake::new(cfg, Role::Acceptor, exporter, nonce, now)
    }

    fn new(
        cfg: HandshakeConfig,
        role: Role,
        exporter: [u8; NONCE_LEN],
        nonce: [u8; NONCE_LEN],
        now: Instant,
    ) -> Handshake {
        let mine = HelloFields {
            creation: cfg.creation,
            nonce,
            name: cfg.me.to_string(),
        };
        Handshake {
            cfg,
            role,
            exporter,
            mine,
            theirs: None,
            peer_name: None,
            expected: None,
            state: State::AwaitHello,
            started: now,
            inbuf: Vec::new(),
            out: Vec::new(),
        }
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// When the handshake times out.
    pub fn deadline(&self) -> Instant {
        self.started + self.cfg.timeout
    }

    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Move the bytes to send into `out` (plaintext for the TLS session).
    /// Call it after every other method, including after an error: a
    /// failure usually queues a `Reject` for the peer.
    pub fn take_output(&mut self, out: &mut Vec<u8>) {
        out.append(&mut self.out);
    }

    /// `Err(Timeout)` once `now` is past the deadline (and the handshake
    /// is not done). Call it at [`Handshake::deadline`].
    pub fn check_deadline(&mut self, now: Instant) -> Result<(), HandshakeError> {
        if matches!(self.state, State::Done | State::Failed) || now < self.deadline() {
            return Ok(());
        }
        let waiting_for = self.state.waiting_for();
        self.state = State::Failed;
        Err(HandshakeError::Timeout {
            limit: self.cfg.timeout,
            waiting_for,
        })
    }

    /// The connection closed before the handshake finished.
    pub fn on_closed(&mut self) -> HandshakeError {
        let waiting_for = self.state.waiting_for();
        self.state = State::Failed;
        HandshakeError::Closed { waiting_for }
    }

    /// Feed decrypted bytes from the peer.
    pub fn push_bytes(&mut self, data: &[u8], now: Instant) -> Result<Progress, HandshakeError> {
        self.check_deadline(now)?;
        match self.state {
            State::Failed => {
                return Err(HandshakeError::Malformed {
                    reason: "bytes after the handshake failed",
                });
            }
            State::Done | State::AwaitAdmission => {
                // Frames that follow the handshake: kept for `finish`.
                self.inbuf.extend_from_slice(data);
                return Ok(match self.state {
                    State::Done => Progress::Done,
                    _ => Progress::Continue,
                });
            }
            _ => {}
        }
        self.inbuf.extend_from_slice(data);
        let res = self.drain();
        if res.is_err() {
            self.state = State::Failed;
        }
        res
    }

    /// Handle every whole message buffered.
    fn drain(&mut self) -> Result<Progress, HandshakeError> {
        loop {
            if matches!(self.state, State::Done | State::AwaitAdmission) {
                break;
            }
            if self.inbuf.len() < 2 {
                break;
            }
            let len = usize::from(u16::from_le_bytes([self.inbuf[0], self.inbuf[1]]));
            if len > MAX_MESSAGE {
                self.reject(RejectReason::Malformed);
                return Err(HandshakeError::Oversized {
                    len,
                    limit: MAX_MESSAGE,
                });
            }
            if len == 0 {
                self.reject(RejectReason::Malformed);
                return Err(HandshakeError::Malformed {
                    reason: "empty message",
                });
            }
            if self.inbuf.len() < 2 + len {
                break;
            }
            let msg: Vec<u8> = self.inbuf.drain(..2 + len).skip(2).collect();
            if let Some(p) = self.handle(msg[0], &msg[1..])? {
                return Ok(p);
            }
        }
        Ok(match self.state {
            State::Done => Progress::Done,
            _ => Progress::Continue,
        })
    }

    fn handle(&mut self, ty: u8, body: &[u8]) -> Result<Option<Progress>, HandshakeError> {
        if ty == T_REJECT {
            return Err(self.peer_rejected(body));
        }
        match (self.state, self.role, ty) {
            (State::AwaitHello, Role::Acceptor, T_HELLO) => {
                self.on_hello(body)?;
                self.send_hello();
                self.state = State::AwaitProof;
                Ok(None)
            }
            (State::AwaitHello, Role::Initiator, T_HELLO) => {
                self.on_hello(body)?;
                let proof = self.proof(Role::Initiator);
                self.send(T_PROOF, &proof);
                self.state = State::AwaitWelcome;
                Ok(None)
            }
            (State::AwaitProof, Role::Acceptor, T_PROOF) => {
                self.verify(Role::Initiator, body)?;
                self.state = State::AwaitAdmission;
                let (peer, theirs) = self.peer()?;
                Ok(Some(Progress::Authenticated {
                    peer,
                    peer_creation: theirs.creation,
                }))
            }
            (State::AwaitWelcome, Role::Initiator, T_WELCOME) => {
                self.verify(Role::Acceptor, body)?;
                self.state = State::Done;
                Ok(Some(Progress::Done))
            }
            (State::AwaitHello, _, _) if !matches!(ty, T_HELLO) => {
                self.reject(RejectReason::Malformed);
                Err(HandshakeError::Malformed {
                    reason: "expected a hello (is the peer a Mesh node?)",
                })
            }
            _ => {
                self.reject(RejectReason::Malformed);
                Err(HandshakeError::Malformed {
                    reason: "unexpected message for this step",
                })
            }
        }
    }

    fn peer(&self) -> Result<(NodeName, HelloFields), HandshakeError> {
        match (&self.peer_name, &self.theirs) {
            (Some(n), Some(h)) => Ok((n.clone(), h.clone())),
            _ => Err(HandshakeError::Malformed {
                reason: "no hello before the proof",
            }),
        }
    }

    fn peer_label(&self) -> String {
        self.theirs
            .as_ref()
            .map(|h| h.name.clone())
            .or_else(|| self.expected.as_ref().map(|n| n.to_string()))
            .unwrap_or_else(|| "an unidentified peer".to_owned())
    }

    fn peer_rejected(&mut self, body: &[u8]) -> HandshakeError {
        let peer = self.peer_label();
        let (code, version) = match body {
            [c, v0, v1, ..] => (*c, u16::from_le_bytes([*v0, *v1])),
            _ => {
                return HandshakeError::Malformed {
                    reason: "short reject message",
                };
            }
        };
        match RejectReason::from_code(code) {
            Some(RejectReason::CookieMismatch) => HandshakeError::CookieMismatch {
                peer,
                detected_by_peer: true,
            },
            Some(RejectReason::VersionMismatch) => HandshakeError::VersionMismatch {
                ours: PROTOCOL_VERSION,
                theirs: version,
            },
            Some(RejectReason::SelfConnect) => HandshakeError::SelfConnect {
                name: self.mine.name.clone(),
            },
            Some(RejectReason::DuplicateName) => HandshakeError::DuplicateName {
                name: self.mine.name.clone(),
            },
            Some(RejectReason::AlreadyConnected) => HandshakeError::AlreadyConnected { peer },
            Some(RejectReason::LostTieBreak) => HandshakeError::LostTieBreak { peer },
            Some(RejectReason::Malformed) => HandshakeError::RejectedMalformed,
            Some(RejectReason::NotExpected) => HandshakeError::NotExpected { peer },
            None => HandshakeError::Malformed {
                reason: "unknown reject reason",
            },
        }
    }

    fn on_hello(&mut self, body: &[u8]) -> Result<(), HandshakeError> {
        // magic(4) version(2) creation(8) nonce(32) name_len(2) name
        let malformed = |reason| HandshakeError::Malformed { reason };
        if body.len() < 4 || &body[..4] != MAGIC {
            self.reject(RejectReason::Malformed);
            return Err(malformed("bad magic (is the peer a Mesh node?)"));
        }
        if body.len() < 6 {
            self.reject(RejectReason::Malformed);
            return Err(malformed("short hello"));
        }
        let version = u16::from_le_bytes([body[4], body[5]]);
        if version != PROTOCOL_VERSION {
            self.reject(RejectReason::VersionMismatch);
            return Err(HandshakeError::VersionMismatch {
                ours: PROTOCOL_VERSION,
                theirs: version,
            });
        }
        let fixed = 6 + 8 + NONCE_LEN + 2;
        if body.len() < fixed {
            self.reject(RejectReason::Malformed);
            return Err(malformed("short hello"));
        }
        let mut creation = [0u8; 8];
        creation.copy_from_slice(&body[6..14]);
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&body[14..14 + NONCE_LEN]);
        let name_len = usize::from(u16::from_le_bytes([body[fixed - 2], body[fixed - 1]]));
        if body.len() != fixed + name_len {
            self.reject(RejectReason::Malformed);
            return Err(malformed("hello length does not match its name"));
        }
        let Ok(name_text) = std::str::from_utf8(&body[fixed..]) else {
            self.reject(RejectReason::Malformed);
            return Err(malformed("node name is not UTF-8"));
        };
        let name = match NodeName::parse(name_text) {
            Ok(n) => n,
            Err(e) => {
                self.reject(RejectReason::Malformed);
                return Err(HandshakeError::BadPeerName(e));
            }
        };
        let creation = u64::from_le_bytes(creation);
        if name == self.cfg.me {
            if creation == self.cfg.creation {
                self.reject(RejectReason::SelfConnect);
                return Err(HandshakeError::SelfConnect {
                    name: name.to_string(),
                });
            }
            self.reject(RejectReason::DuplicateName);
            return Err(HandshakeError::DuplicateName {
                name: name.to_string(),
            });
        }
        if let Some(expected) = &self.expected
            && *expected != name
        {
            let e = HandshakeError::UnexpectedPeer {
                expected: expected.to_string(),
                got: name.to_string(),
            };
            self.reject(RejectReason::NotExpected);
            return Err(e);
        }
        self.theirs = Some(HelloFields {
            creation,
            nonce,
            name: name.to_string(),
        });
        self.peer_name = Some(name);
        Ok(())
    }

    /// The proof `prover` sends on this connection.
    fn proof(&self, prover: Role) -> [u8; NONCE_LEN] {
        let mut out = [0u8; NONCE_LEN];
        if let Some(mac) = self.proof_mac(prover) {
            out.copy_from_slice(&mac.finalize().into_bytes());
        }
        out
    }

    fn proof_mac(&self, prover: Role) -> Option<HmacSha256> {
        let theirs = self.theirs.as_ref()?;
        let (i, a) = match self.role {
            Role::Initiator => (&self.mine, theirs),
            Role::Acceptor => (theirs, &self.mine),
        };
        // HMAC accepts keys of any length; the cookie is never empty.
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&self.cfg.cookie.0).ok()?;
        mac.update(PROOF_CONTEXT);
        mac.update(match prover {
            Role::Initiator => b"I",
            Role::Acceptor => b"A",
        });
        mac.update(&self.exporter);
        for h in [i, a] {
            mac.update(&h.nonce);
            mac.update(&h.creation.to_le_bytes());
            mac.update(&(h.name.len() as u16).to_le_bytes());
            mac.update(h.name.as_bytes());
        }
        Some(mac)
    }

    fn verify(&mut self, prover: Role, tag: &[u8]) -> Result<(), HandshakeError> {
        let ok = tag.len() == NONCE_LEN
            && self
                .proof_mac(prover)
                .is_some_and(|mac| mac.verify_slice(tag).is_ok());
        if ok {
            return Ok(());
        }
        self.reject(RejectReason::CookieMismatch);
        Err(HandshakeError::CookieMismatch {
            peer: self.peer_label(),
            detected_by_peer: false,
        })
    }

    /// Acceptor: the driver's [`admission`] decision for the authenticated
    /// peer. `Accept` sends the welcome and finishes; `Reject` sends the
    /// reason and fails with it.
    pub fn admit(&mut self, decision: Admission) -> Result<Progress, HandshakeError> {
        if self.state != State::AwaitAdmission {
            return Err(HandshakeError::NotAwaitingAdmission);
        }
        match decision {
            Admission::Accept { .. } => {
                let proof = self.proof(Role::Acceptor);
                self.send(T_WELCOME, &proof);
                self.state = State::Done;
                Ok(Progress::Done)
            }
            Admission::Reject(reason) => {
                self.reject(reason);
                self.state = State::Failed;
                let peer = self.peer_label();
                Err(match reason {
                    RejectReason::AlreadyConnected => HandshakeError::AlreadyConnected { peer },
                    RejectReason::LostTieBreak => HandshakeError::LostTieBreak { peer },
                    RejectReason::DuplicateName => HandshakeError::DuplicateName { name: peer },
                    RejectReason::SelfConnect => HandshakeError::SelfConnect { name: peer },
                    RejectReason::CookieMismatch => HandshakeError::CookieMismatch {
                        peer,
                        detected_by_peer: false,
                    },
                    RejectReason::VersionMismatch
                    | RejectReason::Malformed
                    | RejectReason::NotExpected => HandshakeError::Malformed {
                        reason: "rejected by the admission decision",
                    },
                })
            }
        }
    }

    /// The finished handshake: who the peer is, and the bytes that followed.
    pub fn finish(self) -> Result<Established, HandshakeError> {
        if self.state != State::Done {
            return Err(HandshakeError::Malformed {
                reason: "finish() before the handshake was done",
            });
        }
        let (peer, theirs) = self.peer()?;
        Ok(Established {
            peer,
            peer_creation: theirs.creation,
            role: self.role,
            leftover: self.inbuf,
        })
    }

    fn send_hello(&mut self) {
        let name = self.mine.name.as_bytes();
        let mut body = Vec::with_capacity(6 + 8 + NONCE_LEN + 2 + name.len());
        body.extend_from_slice(MAGIC);
        body.extend_from_slice(&PROTOCOL_VERSION.to_le_bytes());
        body.extend_from_slice(&self.mine.creation.to_le_bytes());
        body.extend_from_slice(&self.mine.nonce);
        // A valid node name is under 400 bytes (64 + 1 + 253 + 1 + 5).
        body.extend_from_slice(&(name.len() as u16).to_le_bytes());
        body.extend_from_slice(name);
        self.send(T_HELLO, &body);
    }

    fn reject(&mut self, reason: RejectReason) {
        let mut body = [0u8; 3];
        body[0] = reason as u8;
        body[1..].copy_from_slice(&PROTOCOL_VERSION.to_le_bytes());
        self.send(T_REJECT, &body);
    }

    fn send(&mut self, ty: u8, body: &[u8]) {
        let len = (1 + body.len()) as u16;
        self.out.extend_from_slice(&len.to_le_bytes());
        self.out.push(ty);
        self.out.extend_from_slice(body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn cfg(name: &str, creation: u64, cookie: &[u8]) -> HandshakeConfig {
        HandshakeConfig {
            me: NodeName::parse(name).expect("valid name"),
            creation,
            cookie: Cookie::new(cookie).expect("non-empty"),
            timeout: 1000 * MS,
        }
    }

    /// Run an initiator and an acceptor against each other in memory until
    /// both stop. `decide` answers the admission question.
    fn run(
        mut i: Handshake,
        mut a: Handshake,
        t0: Instant,
        decide: impl Fn(&NodeName, u64) -> Admission,
    ) -> (
        Result<Established, HandshakeError>,
        Result<Established, HandshakeError>,
    ) {
        let mut ri: Option<Result<(), HandshakeError>> = None;
        let mut ra: Option<Result<(), HandshakeError>> = None;
        for _ in 0..10 {
            let mut to_a = Vec::new();
            i.take_output(&mut to_a);
            if !to_a.is_empty() && ra.is_none() {
                match a.push_bytes(&to_a, t0) {
                    Ok(Progress::Authenticated {
                        peer,
                        peer_creation,
                    }) => match a.admit(decide(&peer, peer_creation)) {
                        Ok(_) => ra = Some(Ok(())),
                        Err(e) => ra = Some(Err(e)),
                    },
                    Ok(Progress::Done) => ra = Some(Ok(())),
                    Ok(Progress::Continue) => {}
                    Err(e) => ra = Some(Err(e)),
                }
            }
            let mut to_i = Vec::new();
            a.take_output(&mut to_i);
            if !to_i.is_empty() && ri.is_none() {
                match i.push_bytes(&to_i, t0) {
                    Ok(Progress::Done) => ri = Some(Ok(())),
                    Ok(_) => {}
                    Err(e) => ri = Some(Err(e)),
                }
            }
            if ri.is_some() && ra.is_some() {
                break;
            }
        }
        let fin = |h: Handshake, r: Option<Result<(), HandshakeError>>| match r {
            Some(Ok(())) => h.finish(),
            Some(Err(e)) => Err(e),
            None => Err(HandshakeError::Closed {
                waiting_for: "test ran out of steps",
            }),
        };
        (fin(i, ri), fin(a, ra))
    }

    fn accept_all(_: &NodeName, _: u64) -> Admission {
        Admission::Accept {
            abort_outgoing: false,
        }
    }

    fn pair(ci: HandshakeConfig, ca: HandshakeConfig, t0: Instant) -> (Handshake, Handshake) {
        let target = ca.me.clone();
        (
            Handshake::initiator(ci, target, [7; 32], [1; 32], t0),
            Handshake::acceptor(ca, [7; 32], [2; 32], t0),
        )
    }

    #[test]
    fn same_cookie_succeeds_on_both_sides() {
        let t0 = Instant::now();
        let (i, a) = pair(cfg("a@h:1", 11, b"c"), cfg("b@h:2", 22, b"c"), t0);
        let (ri, ra) = run(i, a, t0, accept_all);
        let ri = ri.expect("initiator done");
        let ra = ra.expect("acceptor done");
        assert_eq!(ri.peer.to_string(), "b@h:2");
        assert_eq!(ri.peer_creation, 22);
        assert_eq!(ra.peer.to_string(), "a@h:1");
        assert_eq!(ra.peer_creation, 11);
        assert_eq!((ri.role, ra.role), (Role::Initiator, Role::Acceptor));
    }

    #[test]
    fn wrong_cookie_is_a_cookie_mismatch_on_both_sides() {
        let t0 = Instant::now();
        let (i, a) = pair(cfg("a@h:1", 1, b"one"), cfg("b@h:2", 2, b"two"), t0);
        let (ri, ra) = run(i, a, t0, accept_all);
        let ei = ri.expect_err("initiator refused");
        let ea = ra.expect_err("acceptor refused");
        assert!(matches!(
            &ei,
            HandshakeError::CookieMismatch {
                detected_by_peer: true,
                ..
            }
        ));
        assert!(matches!(
            &ea,
            HandshakeError::CookieMismatch {
                detected_by_peer: false,
                ..
            }
        ));
        for e in [ei, ea] {
            assert!(e.to_string().contains("cookie mismatch"), "{e}");
        }
    }

    #[test]
    fn a_relayed_proof_does_not_verify_on_another_tls_session() {
        // A relay terminates two TLS sessions: the exporter values differ,
        // so the right cookie's proof from one does not verify on the other.
        let t0 = Instant::now();
        let ca = cfg("b@h:2", 2, b"c");
        let target = ca.me.clone();
        let i = Handshake::initiator(cfg("a@h:1", 1, b"c"), target, [7; 32], [1; 32], t0);
        let a = Handshake::acceptor(ca, [8; 32], [2; 32], t0);
        let (ri, ra) = run(i, a, t0, accept_all);
        assert!(matches!(ri, Err(HandshakeError::CookieMismatch { .. })));
        assert!(matches!(ra, Err(HandshakeError::CookieMismatch { .. })));
    }

    #[test]
    fn garbage_instead_of_a_hello_is_malformed() {
        let t0 = Instant::now();
        let mut a = Handshake::acceptor(cfg("b@h:2", 2, b"c"), [7; 32], [2; 32], t0);
        let e = a
            .push_bytes(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", t0)
            .expect_err("not a hello");
        // "GE" as a length is 17735: over the cap.
        assert_eq!(
            e,
            HandshakeError::Oversized {
                len: 0x4547,
                limit: MAX_MESSAGE
            }
        );
        let mut a = Handshake::acceptor(cfg("b@h:2", 2, b"c"), [7; 32], [2; 32], t0);
        let e = a
            .push_bytes(&[6, 0, T_HELLO, b'N', b'O', b'P', b'E', 0], t0)
            .expect_err("bad magic");
        assert!(matches!(e, HandshakeError::Malformed { .. }), "{e}");
        let mut out = Vec::new();
        a.take_output(&mut out);
        assert_eq!(out, [4, 0, T_REJECT, RejectReason::Malformed as u8, 1, 0]);
        let mut a = Handshake::acceptor(cfg("b@h:2", 2, b"c"), [7; 32], [2; 32], t0);
        let e = a
            .push_bytes(&[33, 0, T_PROOF], t0)
            .and_then(|_| a.push_bytes(&[0; 32], t0))
            .expect_err("proof before hello");
        assert!(matches!(e, HandshakeError::Malformed { .. }), "{e}");
        let mut a = Handshake::acceptor(cfg("b@h:2", 2, b"c"), [7; 32], [2; 32], t0);
        assert!(matches!(
            a.push_bytes(&[0, 0], t0),
            Err(HandshakeError::Malformed { .. })
        ));
    }

    #[test]
    fn oversized_messages_are_refused_from_the_length() {
        let t0 = Instant::now();
        let mut a = Handshake::acceptor(cfg("b@h:2", 2, b"c"), [7; 32], [2; 32], t0);
        let len = (MAX_MESSAGE + 1) as u16;
        assert_eq!(
            a.push_bytes(&len.to_le_bytes(), t0),
            Err(HandshakeError::Oversized {
                len: MAX_MESSAGE + 1,
                limit: MAX_MESSAGE
            })
        );
    }

    #[test]
    fn a_stalled_handshake_times_out() {
        let t0 = Instant::now();
        let (mut i, mut a) = pair(cfg("a@h:1", 1, b"c"), cfg("b@h:2", 2, b"c"), t0);
        assert_eq!(i.deadline(), t0 + 1000 * MS);
        assert_eq!(i.check_deadline(t0 + 999 * MS), Ok(()));
        let e = i.check_deadline(t0 + 1000 * MS).expect_err("stalled");
        assert!(matches!(
            e,
            HandshakeError::Timeout {
                waiting_for: "the peer's hello",
                ..
            }
        ));
        // Half a hello, then silence.
        let mut hello = Vec::new();
        let mut i2 = Handshake::initiator(
            cfg("a@h:1", 1, b"c"),
            NodeName::parse("b@h:2").expect("valid"),
            [7; 32],
            [1; 32],
            t0,
        );
        i2.take_output(&mut hello);
        assert_eq!(a.push_bytes(&hello[..5], t0), Ok(Progress::Continue));
        assert!(matches!(
            a.push_bytes(&hello[5..], t0 + 2000 * MS),
            Err(HandshakeError::Timeout { .. })
        ));
        assert!(matches!(a.on_closed(), HandshakeError::Closed { .. }));
    }

    #[test]
    fn connecting_to_yourself_is_refused() {
        let t0 = Instant::now();
        let (i, a) = pair(cfg("a@h:1", 5, b"c"), cfg("a@h:1", 5, b"c"), t0);
        let (ri, ra) = run(i, a, t0, accept_all);
        assert!(
            matches!(ri, Err(HandshakeError::SelfConnect { .. })),
            "{ri:?}"
        );
        assert!(
            matches!(ra, Err(HandshakeError::SelfConnect { .. })),
            "{ra:?}"
        );
    }

    #[test]
    fn two_nodes_with_one_name_are_refused() {
        let t0 = Instant::now();
        // Same name, different creation: a second node calling itself a@h:1.
        let (i, a) = pair(cfg("a@h:1", 5, b"c"), cfg("a@h:1", 6, b"c"), t0);
        let (ri, ra) = run(i, a, t0, accept_all);
        assert!(
            matches!(ri, Err(HandshakeError::DuplicateName { .. })),
            "{ri:?}"
        );
        assert!(
            matches!(ra, Err(HandshakeError::DuplicateName { .. })),
            "{ra:?}"
        );
        // A third node already connected as a@h:1 (other creation) to b.
        let (i, a) = pair(cfg("a@h:1", 5, b"c"), cfg("b@h:2", 6, b"c"), t0);
        let (ri, ra) = run(i, a, t0, |peer, creation| {
            admission(
                "b@h:2",
                &peer.to_string(),
                creation,
                Existing::Up { creation: 99 },
            )
        });
        assert!(
            matches!(ri, Err(HandshakeError::DuplicateName { .. })),
            "{ri:?}"
        );
        assert!(
            matches!(ra, Err(HandshakeError::DuplicateName { .. })),
            "{ra:?}"
        );
    }

    #[test]
    fn another_protocol_version_is_refused_clearly() {
        let t0 = Instant::now();
        let mut hello = Vec::new();
        let mut i = Handshake::initiator(
            cfg("a@h:1", 1, b"c"),
            NodeName::parse("b@h:2").expect("valid"),
            [7; 32],
            [1; 32],
            t0,
        );
        i.take_output(&mut hello);
        // Bump the version field of the hello (after len, type, magic).
        hello[7] = hello[7].wrapping_add(1);
        let mut a = Handshake::acceptor(cfg("b@h:2", 2, b"c"), [7; 32], [2; 32], t0);
        let e = a.push_bytes(&hello, t0).expect_err("other version");
        assert_eq!(
            e,
            HandshakeError::VersionMismatch {
                ours: PROTOCOL_VERSION,
                theirs: PROTOCOL_VERSION + 1
            }
        );
        assert!(e.to_string().contains("version mismatch"));
        let mut reject = Vec::new();
        a.take_output(&mut reject);
        // The reject tells the initiator which version the acceptor speaks.
        let mut reject_from_future = reject.clone();
        reject_from_future[4] = reject_from_future[4].wrapping_add(1);
        assert!(matches!(
            i.push_bytes(&reject_from_future, t0),
            Err(HandshakeError::VersionMismatch { theirs, .. }) if theirs == PROTOCOL_VERSION + 1
        ));
    }

    #[test]
    fn the_initiator_checks_it_reached_the_node_it_meant() {
        let t0 = Instant::now();
        let i = Handshake::initiator(
            cfg("a@h:1", 1, b"c"),
            NodeName::parse("b@h:2").expect("valid"),
            [7; 32],
            [1; 32],
            t0,
        );
        let a = Handshake::acceptor(cfg("c@h:2", 2, b"c"), [7; 32], [2; 32], t0);
        let (ri, ra) = run(i, a, t0, accept_all);
        assert!(
            matches!(ri, Err(HandshakeError::UnexpectedPeer { .. })),
            "{ri:?}"
        );
        // The acceptor learns why, not "malformed".
        assert!(
            matches!(ra, Err(HandshakeError::NotExpected { .. })),
            "{ra:?}"
        );
    }

    #[test]
    fn frames_after_the_welcome_are_handed_over() {
        let t0 = Instant::now();
        let (mut i, mut a) = pair(cfg("a@h:1", 1, b"c"), cfg("b@h:2", 2, b"c"), t0);
        let mut buf = Vec::new();
        i.take_output(&mut buf);
        assert_eq!(a.push_bytes(&buf, t0), Ok(Progress::Continue));
        buf.clear();
        a.take_output(&mut buf);
        assert_eq!(i.push_bytes(&buf, t0), Ok(Progress::Continue));
        buf.clear();
        i.take_output(&mut buf);
        assert!(matches!(
            a.push_bytes(&buf, t0),
            Ok(Progress::Authenticated { .. })
        ));
        assert_eq!(
            a.admit(Admission::Accept {
                abort_outgoing: false
            }),
            Ok(Progress::Done)
        );
        assert_eq!(
            a.admit(Admission::Accept {
                abort_outgoing: false
            }),
            Err(HandshakeError::NotAwaitingAdmission)
        );
        buf.clear();
        a.take_output(&mut buf);
        buf.extend_from_slice(b"first frame bytes");
        assert_eq!(i.push_bytes(&buf, t0), Ok(Progress::Done));
        assert_eq!(i.push_bytes(b"+more", t0), Ok(Progress::Done));
        assert_eq!(
            i.finish().expect("done").leftover,
            b"first frame bytes+more"
        );
    }

    #[test]
    fn tie_break_keeps_exactly_one_connection() {
        // a and b connect to each other at once; each acceptor decides about
        // the other's connection while its own is pending.
        for (x, y) in [("a@h:1", "b@h:1"), ("b@h:1", "a@h:1")] {
            let at_x = admission(x, y, 2, Existing::PendingOutgoing);
            let at_y = admission(y, x, 1, Existing::PendingOutgoing);
            let kept = [
                matches!(at_x, Admission::Accept { .. }),
                matches!(at_y, Admission::Accept { .. }),
            ];
            assert_eq!(kept.iter().filter(|k| **k).count(), 1, "{x} {y}");
        }
        assert_eq!(
            admission("b@h:1", "a@h:1", 1, Existing::PendingOutgoing),
            Admission::Accept {
                abort_outgoing: true
            }
        );
        assert_eq!(
            admission("b@h:1", "a@h:1", 1, Existing::Up { creation: 1 }),
            Admission::Reject(RejectReason::AlreadyConnected)
        );
        assert_eq!(
            admission("b@h:1", "a@h:1", 1, Existing::None),
            Admission::Accept {
                abort_outgoing: false
            }
        );
        assert!(Cookie::new(b"").is_err());
        assert_eq!(
            format!("{:?}", Cookie::new(b"secret").expect("ok")),
            "Cookie(<redacted>)"
        );
    }
}
