//! Frames: how bytes on a node-to-node link are cut into messages.
//!
//! A frame is an 8-byte header — body length (u32 LE), kind (u8), wire
//! version ([`WIRE_VERSION`], u8), two zero bytes — then the body, then
//! zero padding to a multiple of 8 so the next frame starts 8-aligned too.
//! The body is an rkyv archive of the kind's body type ([`SendBody`],
//! [`LinkBody`], ...), validated with `rkyv::access` (never unchecked) and
//! read in place from the receive buffer; terms inside are `term_codec`
//! bytes decoded from that same buffer. A heartbeat has an empty body.
//!
//! The version byte is checked on every frame, before the length or the
//! kind is trusted, so a peer speaking another version of this format is
//! refused with [`FrameError::VersionMismatch`] rather than misread (the
//! handshake checks the version first; this is the second line).
//!
//! Encoding appends to a caller-supplied `Vec<u8>` and archives the body
//! straight into it (no intermediate buffer). Bodies that carry terms hold
//! them as `Vec<u8>`: a sender can move a reused scratch buffer in and take
//! it back out after encoding, so steady-state sends allocate nothing.
//!
//! [`FrameDecoder`] is sans-IO: push received (decrypted) bytes in, pull
//! frames out. A body longer than the limit is refused from its header
//! alone, before any of it is buffered; an unknown kind byte and a body
//! that fails validation are errors too. Every error means "close this
//! connection"; the decoder is unusable after one.

use rkyv::rancor::Error as RkyvError;
use rkyv::util::AlignedVec;
use rkyv::{Archive, Serialize};

use crate::pid::{NodeId, Pid};

use super::term_codec::{NodeCodec, WireNode};

/// Default largest body, 16 MiB (`MESH_MAX_FRAME_BYTES` overrides).
pub const DEFAULT_MAX_FRAME: usize = 16 << 20;
/// Header bytes before each body.
pub const HEADER: usize = 8;
/// Version of the frame format and of every body type. Bump it whenever an
/// archived layout changes; the handshake and every frame header carry it.
pub const WIRE_VERSION: u8 = 1;

/// What a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    Heartbeat = 1,
    Send = 2,
    SendNamed = 3,
    Link = 4,
    Unlink = 5,
    Exit = 6,
    Monitor = 7,
    Demonitor = 8,
    Down = 9,
    SpawnRequest = 10,
    SpawnReply = 11,
    Global = 12,
    PeerList = 13,
    NodeStatus = 14,
}

impl Kind {
    pub fn from_byte(b: u8) -> Option<Kind> {
        Some(match b {
            1 => Kind::Heartbeat,
            2 => Kind::Send,
            3 => Kind::SendNamed,
            4 => Kind::Link,
            5 => Kind::Unlink,
            6 => Kind::Exit,
            7 => Kind::Monitor,
            8 => Kind::Demonitor,
            9 => Kind::Down,
            10 => Kind::SpawnRequest,
            11 => Kind::SpawnReply,
            12 => Kind::Global,
            13 => Kind::PeerList,
            14 => Kind::NodeStatus,
            _ => return None,
        })
    }
}

/// Why the byte stream cannot be read as frames. Each closes the link.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("frame of {len} bytes is over the {limit}-byte limit (MESH_MAX_FRAME_BYTES)")]
    TooLarge { len: usize, limit: usize },
    #[error("unknown frame kind {0}")]
    UnknownKind(u8),
    #[error(
        "peer speaks wire version {theirs}, this node speaks {ours}: run the same Mesh version on every node"
    )]
    VersionMismatch { ours: u8, theirs: u8 },
    #[error("{kind:?} frame could not be encoded: {reason}")]
    Encode { kind: Kind, reason: String },
    #[error("malformed frame header")]
    BadHeader,
    #[error("{kind:?} frame failed validation: {reason}")]
    Invalid { kind: Kind, reason: String },
    #[error("connection ended inside a frame ({0} bytes buffered)")]
    Truncated(usize),
}

/// A node named inside a frame (owned form of [`WireNode`]).
#[derive(Archive, Serialize, Debug, Clone, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub enum FrameNode {
    Sender,
    Receiver,
    Named(String),
}

/// A pid inside a frame.
#[derive(Archive, Serialize, Debug, Clone, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub struct FramePid {
    pub node: FrameNode,
    pub sched: u16,
    pub slot: u32,
    pub generation: u32,
}

impl FramePid {
    /// The wire form of `pid`, or `None` for a node `nodes` cannot name.
    pub fn from_pid(pid: Pid, nodes: &dyn NodeCodec) -> Option<FramePid> {
        let node = match nodes.name_node(pid.node())? {
            WireNode::Sender => FrameNode::Sender,
            WireNode::Receiver => FrameNode::Receiver,
            WireNode::Named(n) => FrameNode::Named(n.to_owned()),
        };
        Some(FramePid {
            node,
            sched: pid.scheduler(),
            slot: pid.slot(),
            generation: pid.generation(),
        })
    }
}

impl ArchivedFramePid {
    /// The local pid this names, or `None` if its node cannot be resolved.
    pub fn to_pid(&self, nodes: &mut dyn NodeCodec) -> Option<Pid> {
        let node: NodeId = match &self.node {
            ArchivedFrameNode::Sender => nodes.resolve_node(WireNode::Sender)?,
            ArchivedFrameNode::Receiver => nodes.resolve_node(WireNode::Receiver)?,
            ArchivedFrameNode::Named(n) => nodes.resolve_node(WireNode::Named(n.as_str()))?,
        };
        Some(Pid::from_parts(
            node,
            self.sched.to_native(),
            self.slot.to_native(),
            self.generation.to_native(),
        ))
    }
}

/// `Kind::Send`: a message to a pid. `msg` is `term_codec` bytes.
#[derive(Archive, Serialize, Debug, Clone, PartialEq)]
#[rkyv(derive(Debug))]
pub struct SendBody {
    pub to: FramePid,
    pub msg: Vec<u8>,
}

/// `Kind::SendNamed`: a message to a locally registered name.
#[derive(Archive, Serialize, Debug, Clone, PartialEq)]
#[rkyv(derive(Debug))]
pub struct SendNamedBody {
    pub name: String,
    pub msg: Vec<u8>,
}

/// `Kind::Link` / `Kind::Unlink`.
#[derive(Archive, Serialize, Debug, Clone, PartialEq)]
#[rkyv(derive(Debug))]
pub struct LinkBody {
    pub from: FramePid,
    pub to: FramePid,
}

/// `Kind::Exit`: an exit signal (link propagation, `exit/2`, or kill).
#[derive(Archive, Serialize, Debug, Clone, PartialEq)]
#[rkyv(derive(Debug))]
pub struct ExitBody {
    pub from: FramePid,
    pub to: FramePid,
    pub reason: Vec<u8>,
    /// 0 link, 1 explicit, 2 kill.
    pub kind: u8,
}

/// `Kind::Monitor` / `Kind::Demonitor`. The ref belongs to `from`'s node.
#[derive(Archive, Serialize, Debug, Clone, PartialEq)]
#[rkyv(derive(Debug))]
pub struct MonitorBody {
    pub from: FramePid,
    pub to: FramePid,
    pub mref: u64,
}

/// `Kind::Down`: a monitored process ended.
#[derive(Archive, Serialize, Debug, Clone, PartialEq)]
#[rkyv(derive(Debug))]
pub struct DownBody {
    pub from: FramePid,
    pub to: FramePid,
    pub mref: u64,
    pub reason: Vec<u8>,
}

/// `Kind::SpawnRequest`: start `function` (a stable, module-qualified
/// name both nodes resolve from the same program) with `args` (a
/// `term_codec` list) on the receiving node. The receiver answers with a
/// [`SpawnReplyBody`] carrying the same `req`.
#[derive(Archive, Serialize, Debug, Clone, PartialEq)]
#[rkyv(derive(Debug))]
pub struct SpawnRequestBody {
    /// Request id, unique per requesting node; echoed in the reply.
    pub req: u64,
    /// Who asked (gets the reply; the link/monitor peer).
    pub from: FramePid,
    pub function: String,
    pub args: Vec<u8>,
    /// Link `from` and the new process as part of the spawn.
    pub link: bool,
    /// Monitor the new process from `from` with this ref id (a ref of the
    /// requesting node).
    pub monitor: Option<u64>,
}

/// Why a remote spawn failed.
#[derive(Archive, Serialize, rkyv::Deserialize, Debug, Clone, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub enum SpawnFailure {
    /// No function of that name in the receiver's program.
    UnknownFunction(String),
    /// The arguments do not fit the function (arity, types).
    BadArgs(String),
    /// The node could not start a process (shutting down, out of slots).
    NotStarted(String),
}

/// `Kind::SpawnReply`: the answer to a [`SpawnRequestBody`].
#[derive(Archive, Serialize, Debug, Clone, PartialEq)]
#[rkyv(derive(Debug))]
pub struct SpawnReplyBody {
    pub req: u64,
    /// The requester (a pid of the receiving node).
    pub to: FramePid,
    pub result: Result<FramePid, SpawnFailure>,
}

/// `Kind::PeerList`: every node the sender is connected to, sent once
/// after the handshake so the receiver can complete the full mesh.
#[derive(Archive, Serialize, Debug, Clone, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub struct PeerListBody {
    pub nodes: Vec<String>,
}

/// `Kind::NodeStatus`: the sender gained (`up`) or lost a connection to
/// `node`. Advisory: a receiver may connect to a new node, but it decides
/// a node is down only from its own link (a partition can be one-sided).
#[derive(Archive, Serialize, Debug, Clone, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub struct NodeStatusBody {
    pub node: String,
    pub up: bool,
}

/// `Kind::Global`: global registry replication; see `dist::global`.
pub type GlobalBody = super::global::GlobalUpdate;

/// A validated frame, read in place: one variant per kind.
#[derive(Debug, Clone, Copy)]
pub enum FrameRef<'a> {
    Heartbeat,
    Send(&'a ArchivedSendBody),
    SendNamed(&'a ArchivedSendNamedBody),
    Link(&'a ArchivedLinkBody),
    Unlink(&'a ArchivedLinkBody),
    Exit(&'a ArchivedExitBody),
    Monitor(&'a ArchivedMonitorBody),
    Demonitor(&'a ArchivedMonitorBody),
    Down(&'a ArchivedDownBody),
    SpawnRequest(&'a ArchivedSpawnRequestBody),
    SpawnReply(&'a ArchivedSpawnReplyBody),
    Global(&'a <GlobalBody as Archive>::Archived),
    PeerList(&'a ArchivedPeerListBody),
    NodeStatus(&'a ArchivedNodeStatusBody),
}

/// A writer that archives a body straight into the caller's buffer, with
/// positions relative to the body's start (rkyv aligns by position, and the
/// receiver reads the body at an 8-aligned address).
#[derive(Debug)]
pub struct BodyWriter<'a> {
    out: &'a mut Vec<u8>,
    base: usize,
}

impl rkyv::ser::Positional for BodyWriter<'_> {
    fn pos(&self) -> usize {
        self.out.len() - self.base
    }
}

impl<E> rkyv::ser::Writer<E> for BodyWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> Result<(), E> {
        self.out.extend_from_slice(bytes);
        Ok(())
    }
}

/// The serializer bound of every body type.
pub trait Body:
    for<'a, 'b> Serialize<
    rkyv::api::high::HighSerializer<
        BodyWriter<'b>,
        rkyv::ser::allocator::ArenaHandle<'a>,
        RkyvError,
    >,
>
{
}

impl<T> Body for T where
    T: for<'a, 'b> Serialize<
        rkyv::api::high::HighSerializer<
            BodyWriter<'b>,
            rkyv::ser::allocator::ArenaHandle<'a>,
            RkyvError,
        >,
    >
{
}

/// Append a frame of `kind` whose body is the archive of `body`. A body
/// over `limit` bytes (the peer's `MESH_MAX_FRAME_BYTES`, normally the same
/// as ours) is refused and `out` is left as it was.
pub fn encode<T: Body>(
    kind: Kind,
    body: &T,
    limit: usize,
    out: &mut Vec<u8>,
) -> Result<(), FrameError> {
    let header_at = out.len();
    out.extend_from_slice(&[0; HEADER]);
    let base = out.len();
    let writer = BodyWriter {
        out: &mut *out,
        base,
    };
    let res = rkyv::api::high::to_bytes_in::<_, RkyvError>(body, writer).map(|_| ());
    let len = out.len() - base;
    let fail = |out: &mut Vec<u8>, e: FrameError| {
        out.truncate(header_at);
        Err(e)
    };
    if let Err(e) = res {
        return fail(
            out,
            FrameError::Encode {
                kind,
                reason: e.to_string(),
            },
        );
    }
    let len32 = match u32::try_from(len) {
        Ok(l) if len <= limit => l,
        _ => return fail(out, FrameError::TooLarge { len, limit }),
    };
    write_header(&mut out[header_at..base], kind, len32);
    out.resize(out.len() + padding(len), 0);
    Ok(())
}

/// Append a heartbeat frame.
pub fn encode_heartbeat(out: &mut Vec<u8>) {
    let at = out.len();
    out.extend_from_slice(&[0; HEADER]);
    write_header(&mut out[at..], Kind::Heartbeat, 0);
}

fn write_header(h: &mut [u8], kind: Kind, len: u32) {
    h[..4].copy_from_slice(&len.to_le_bytes());
    h[4..8].copy_from_slice(&[kind as u8, WIRE_VERSION, 0, 0]);
}

fn padding(len: usize) -> usize {
    (8 - len % 8) % 8
}

/// Accumulates received bytes and yields whole frames (see module docs).
#[derive(Debug)]
pub struct FrameDecoder {
    buf: AlignedVec<16>,
    /// Start of the first unread frame (always a multiple of 8).
    start: usize,
    limit: usize,
    /// Bytes of the frame returned last, released on the next call.
    consumed: usize,
    failed: bool,
}

/// One frame, borrowed from the decoder's buffer.
#[derive(Debug, Clone, Copy)]
pub struct RawFrame<'a> {
    pub kind: Kind,
    pub body: &'a [u8],
}

impl<'a> RawFrame<'a> {
    /// Validate the body as `T`'s archive and read it in place.
    pub fn access<T>(&self) -> Result<&'a T::Archived, FrameError>
    where
        T: Archive,
        T::Archived: for<'b> rkyv::bytecheck::CheckBytes<rkyv::api::high::HighValidator<'b, RkyvError>>
            + rkyv::Portable,
    {
        rkyv::access::<T::Archived, RkyvError>(self.body).map_err(|e| FrameError::Invalid {
            kind: self.kind,
            reason: e.to_string(),
        })
    }
}

impl<'a> RawFrame<'a> {
    /// Validate the body for its kind and return the typed view.
    pub fn decode(&self) -> Result<FrameRef<'a>, FrameError> {
        Ok(match self.kind {
            Kind::Heartbeat => FrameRef::Heartbeat,
            Kind::Send => FrameRef::Send(self.access::<SendBody>()?),
            Kind::SendNamed => FrameRef::SendNamed(self.access::<SendNamedBody>()?),
            Kind::Link => FrameRef::Link(self.access::<LinkBody>()?),
            Kind::Unlink => FrameRef::Unlink(self.access::<LinkBody>()?),
            Kind::Exit => FrameRef::Exit(self.access::<ExitBody>()?),
            Kind::Monitor => FrameRef::Monitor(self.access::<MonitorBody>()?),
            Kind::Demonitor => FrameRef::Demonitor(self.access::<MonitorBody>()?),
            Kind::Down => FrameRef::Down(self.access::<DownBody>()?),
            Kind::SpawnRequest => FrameRef::SpawnRequest(self.access::<SpawnRequestBody>()?),
            Kind::SpawnReply => FrameRef::SpawnReply(self.access::<SpawnReplyBody>()?),
            Kind::Global => FrameRef::Global(self.access::<GlobalBody>()?),
            Kind::PeerList => FrameRef::PeerList(self.access::<PeerListBody>()?),
            Kind::NodeStatus => FrameRef::NodeStatus(self.access::<NodeStatusBody>()?),
        })
    }
}

impl FrameDecoder {
    pub fn new(limit: usize) -> FrameDecoder {
        FrameDecoder {
            buf: AlignedVec::new(),
            start: 0,
            limit,
            consumed: 0,
            failed: false,
        }
    }

    /// Add received bytes.
    pub fn push_bytes(&mut self, data: &[u8]) {
        self.release();
        self.buf.extend_from_slice(data);
    }

    /// Drop the frame returned last and compact, keeping alignment.
    fn release(&mut self) {
        self.start += std::mem::take(&mut self.consumed);
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        } else if self.start >= 64 * 1024 && self.start * 2 >= self.buf.len() {
            // Move the partial frame to the front (offset 0 is aligned).
            let rest = self.buf.len() - self.start;
            self.buf.as_mut_slice().copy_within(self.start.., 0);
            self.buf.resize(rest, 0);
            self.start = 0;
        }
    }

    /// Bytes buffered and not yet returned as frames.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start - self.consumed
    }

    /// The next whole frame, `Ok(None)` if more bytes are needed.
    pub fn next_frame(&mut self) -> Result<Option<RawFrame<'_>>, FrameError> {
        if self.failed {
            return Err(FrameError::BadHeader);
        }
        self.release();
        let avail = &self.buf[self.start..];
        if avail.len() < HEADER {
            return Ok(None);
        }
        let mut len_bytes = [0u8; 4];
        len_bytes.copy_from_slice(&avail[..4]);
        let len = u32::from_le_bytes(len_bytes) as usize;
        let fail = |s: &mut Self, e: FrameError| {
            s.failed = true;
            Err(e)
        };
        // The version first: under another version nothing else in the
        // header can be trusted.
        if avail[5] != WIRE_VERSION {
            let theirs = avail[5];
            return fail(
                self,
                FrameError::VersionMismatch {
                    ours: WIRE_VERSION,
                    theirs,
                },
            );
        }
        if len > self.limit {
            return fail(
                self,
                FrameError::TooLarge {
                    len,
                    limit: self.limit,
                },
            );
        }
        let Some(kind) = Kind::from_byte(avail[4]) else {
            let k = avail[4];
            return fail(self, FrameError::UnknownKind(k));
        };
        if avail[6..8] != [0, 0] || (kind == Kind::Heartbeat && len != 0) {
            return fail(self, FrameError::BadHeader);
        }
        let total = HEADER + len + padding(len);
        if avail.len() < total {
            return Ok(None);
        }
        self.consumed = total;
        let body_start = self.start + HEADER;
        Ok(Some(RawFrame {
            kind,
            body: &self.buf[body_start..body_start + len],
        }))
    }

    /// The stream ended: an error if it ended inside a frame.
    pub fn finish(&mut self) -> Result<(), FrameError> {
        self.release();
        match self.buf.len() - self.start {
            0 => Ok(()),
            n => Err(FrameError::Truncated(n)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pid(n: FrameNode, slot: u32) -> FramePid {
        FramePid {
            node: n,
            sched: 1,
            slot,
            generation: 2,
        }
    }

    fn send(slot: u32, msg: &[u8]) -> SendBody {
        SendBody {
            to: pid(FrameNode::Receiver, slot),
            msg: msg.to_vec(),
        }
    }

    #[test]
    fn frames_round_trip_split_at_every_byte() {
        let mut wire = Vec::new();
        encode(Kind::Send, &send(7, b"hello"), DEFAULT_MAX_FRAME, &mut wire).expect("encode");
        encode_heartbeat(&mut wire);
        let link = LinkBody {
            from: pid(FrameNode::Sender, 1),
            to: pid(FrameNode::Named("c@h:1".into()), 2),
        };
        encode(Kind::Link, &link, DEFAULT_MAX_FRAME, &mut wire).expect("encode");
        assert_eq!(wire.len() % 8, 0);
        for split in 0..wire.len() {
            let mut d = FrameDecoder::new(DEFAULT_MAX_FRAME);
            let mut kinds = Vec::new();
            for part in [&wire[..split], &wire[split..]] {
                d.push_bytes(part);
                while let Some(f) = d.next_frame().expect("valid frames") {
                    kinds.push(f.kind);
                    match f.kind {
                        Kind::Send => {
                            let a = f.access::<SendBody>().expect("valid body");
                            assert_eq!(a.msg.as_slice(), b"hello");
                            assert_eq!(a.to.slot.to_native(), 7);
                            assert!(matches!(a.to.node, ArchivedFrameNode::Receiver));
                        }
                        Kind::Link => {
                            let a = f.access::<LinkBody>().expect("valid body");
                            assert!(
                                matches!(&a.to.node, ArchivedFrameNode::Named(n) if n.as_str() == "c@h:1")
                            );
                        }
                        Kind::Heartbeat => assert!(f.body.is_empty()),
                        k => panic!("unexpected {k:?}"),
                    }
                }
            }
            assert_eq!(
                kinds,
                [Kind::Send, Kind::Heartbeat, Kind::Link],
                "split {split}"
            );
            assert_eq!(d.finish(), Ok(()));
        }
    }

    #[test]
    fn oversized_frames_are_refused_from_the_header() {
        let mut wire = Vec::new();
        encode(
            Kind::Send,
            &send(1, &[0u8; 4096]),
            DEFAULT_MAX_FRAME,
            &mut wire,
        )
        .expect("encode");
        let mut d = FrameDecoder::new(1024);
        d.push_bytes(&wire[..HEADER]);
        match d.next_frame() {
            Err(FrameError::TooLarge { limit: 1024, len }) => assert!(len > 4096),
            other => panic!("expected TooLarge, got {other:?}"),
        }
        assert!(d.next_frame().is_err(), "a failed decoder stays failed");
    }

    #[test]
    fn unknown_kinds_and_bad_headers_are_refused() {
        let mut d = FrameDecoder::new(DEFAULT_MAX_FRAME);
        d.push_bytes(&[0, 0, 0, 0, 200, WIRE_VERSION, 0, 0]);
        assert_eq!(
            d.next_frame().map(|f| f.map(|f| f.kind)),
            Err(FrameError::UnknownKind(200))
        );
        let mut d = FrameDecoder::new(DEFAULT_MAX_FRAME);
        d.push_bytes(&[0, 0, 0, 0, 1, WIRE_VERSION, 9, 0]);
        assert_eq!(
            d.next_frame().map(|f| f.map(|f| f.kind)),
            Err(FrameError::BadHeader)
        );
        let mut d = FrameDecoder::new(DEFAULT_MAX_FRAME);
        d.push_bytes(&[8, 0, 0, 0, 1, WIRE_VERSION, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(
            d.next_frame().map(|f| f.map(|f| f.kind)),
            Err(FrameError::BadHeader),
            "heartbeats have no body"
        );
    }

    #[test]
    fn corrupted_bodies_fail_validation() {
        let mut wire = Vec::new();
        let body = SendBody {
            to: pid(FrameNode::Named("abc@h:1".into()), 3),
            msg: b"payload".to_vec(),
        };
        encode(Kind::Send, &body, DEFAULT_MAX_FRAME, &mut wire).expect("encode");
        let len = u32::from_le_bytes([wire[0], wire[1], wire[2], wire[3]]) as usize;
        let mut failures = 0;
        // Flip each body byte in turn: whatever validation does not catch
        // must still read as a well-formed body (never out of bounds).
        for i in HEADER..HEADER + len {
            let mut bad = wire.clone();
            bad[i] ^= 0xff;
            let mut d = FrameDecoder::new(DEFAULT_MAX_FRAME);
            d.push_bytes(&bad);
            let f = d.next_frame().expect("header intact").expect("whole frame");
            match f.access::<SendBody>() {
                Err(FrameError::Invalid {
                    kind: Kind::Send, ..
                }) => failures += 1,
                Err(e) => panic!("unexpected error {e:?}"),
                Ok(a) => {
                    let _ = (a.msg.len(), a.to.slot.to_native());
                }
            }
        }
        assert!(failures > 0, "no corruption was detected");
        // Random bytes of the right length as a body.
        let mut d = FrameDecoder::new(DEFAULT_MAX_FRAME);
        let mut junk = vec![40, 0, 0, 0, Kind::Down as u8, WIRE_VERSION, 0, 0];
        junk.extend((0..40u8).map(|i| i.wrapping_mul(97)));
        d.push_bytes(&junk);
        let f = d.next_frame().expect("header").expect("frame");
        assert!(matches!(
            f.access::<DownBody>(),
            Err(FrameError::Invalid { .. })
        ));
    }

    #[test]
    fn ending_inside_a_frame_is_truncation() {
        let mut wire = Vec::new();
        encode(Kind::Send, &send(1, b"x"), DEFAULT_MAX_FRAME, &mut wire).expect("encode");
        let mut d = FrameDecoder::new(DEFAULT_MAX_FRAME);
        d.push_bytes(&wire[..wire.len() - 3]);
        assert!(d.next_frame().expect("no error yet").is_none());
        assert_eq!(d.finish(), Err(FrameError::Truncated(wire.len() - 3)));
    }

    #[test]
    fn a_long_stream_compacts_and_stays_aligned() {
        let mut d = FrameDecoder::new(DEFAULT_MAX_FRAME);
        let mut wire = Vec::new();
        let mut seen = 0u32;
        for i in 0..20_000u32 {
            wire.clear();
            encode(
                Kind::Send,
                &send(i, &vec![i as u8; (i % 300) as usize]),
                DEFAULT_MAX_FRAME,
                &mut wire,
            )
            .expect("encode");
            // Deliver in odd-sized pieces.
            for chunk in wire.chunks(13) {
                d.push_bytes(chunk);
                while let Some(f) = d.next_frame().expect("valid") {
                    let a = f.access::<SendBody>().expect("aligned, valid body");
                    assert_eq!(a.to.slot.to_native(), seen);
                    seen += 1;
                }
            }
        }
        assert_eq!(seen, 20_000);
        assert_eq!(d.buffered(), 0);
    }

    #[test]
    fn another_wire_version_is_refused_before_anything_else() {
        let mut wire = Vec::new();
        encode_heartbeat(&mut wire);
        wire[5] = WIRE_VERSION + 1;
        // Even with a huge length and a bad kind, the version is reported.
        wire[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        wire[4] = 250;
        let mut d = FrameDecoder::new(DEFAULT_MAX_FRAME);
        d.push_bytes(&wire);
        let e = d.next_frame().map(|f| f.map(|f| f.kind));
        assert_eq!(
            e,
            Err(FrameError::VersionMismatch {
                ours: WIRE_VERSION,
                theirs: WIRE_VERSION + 1
            })
        );
        let msg = e.expect_err("mismatch").to_string();
        assert!(msg.contains("wire version"), "{msg}");
    }

    #[test]
    fn encoding_over_the_limit_leaves_the_buffer_untouched() {
        let mut wire = vec![1, 2, 3];
        let e = encode(Kind::Send, &send(1, &[7u8; 2048]), 1024, &mut wire);
        assert!(matches!(e, Err(FrameError::TooLarge { limit: 1024, .. })));
        assert_eq!(wire, [1, 2, 3]);
    }

    #[test]
    fn every_kind_decodes_to_its_typed_view_even_after_an_unaligned_prefix() {
        let mut wire = Vec::new();
        let fp = |slot| pid(FrameNode::Sender, slot);
        let lim = DEFAULT_MAX_FRAME;
        encode(
            Kind::SpawnRequest,
            &SpawnRequestBody {
                req: 9,
                from: fp(1),
                function: "Work.run".into(),
                args: vec![9, 0],
                link: true,
                monitor: Some(44),
            },
            lim,
            &mut wire,
        )
        .expect("encode");
        encode(
            Kind::SpawnReply,
            &SpawnReplyBody {
                req: 9,
                to: fp(1),
                result: Err(SpawnFailure::UnknownFunction("Work.nope".into())),
            },
            lim,
            &mut wire,
        )
        .expect("encode");
        encode(
            Kind::PeerList,
            &PeerListBody {
                nodes: vec!["a@h:1".into(), "b@h:2".into()],
            },
            lim,
            &mut wire,
        )
        .expect("encode");
        encode(
            Kind::NodeStatus,
            &NodeStatusBody {
                node: "c@h:3".into(),
                up: false,
            },
            lim,
            &mut wire,
        )
        .expect("encode");
        encode(
            Kind::Global,
            &GlobalBody::Unregister {
                name: "db".into(),
                clock: 3,
            },
            lim,
            &mut wire,
        )
        .expect("encode");
        let mut d = FrameDecoder::new(lim);
        d.push_bytes(&wire);
        let mut seen = 0;
        while let Some(f) = d.next_frame().expect("valid") {
            match f.decode().expect("valid body") {
                FrameRef::SpawnRequest(r) => {
                    assert_eq!(r.function.as_str(), "Work.run");
                    assert!(r.link);
                    assert_eq!(r.monitor.as_ref().map(|m| m.to_native()), Some(44));
                }
                FrameRef::SpawnReply(r) => assert!(matches!(
                    &r.result,
                    rkyv::result::ArchivedResult::Err(ArchivedSpawnFailure::UnknownFunction(n))
                        if n.as_str() == "Work.nope"
                )),
                FrameRef::PeerList(p) => assert_eq!(p.nodes.len(), 2),
                FrameRef::NodeStatus(n) => assert!(!n.up),
                FrameRef::Global(g) => {
                    let owned: GlobalBody =
                        rkyv::deserialize::<GlobalBody, RkyvError>(g).expect("owned");
                    assert!(matches!(owned, GlobalBody::Unregister { clock: 3, .. }));
                }
                other => panic!("unexpected {other:?}"),
            }
            seen += 1;
        }
        assert_eq!(seen, 5);
        // The caller's buffer may hold anything before the frame: the body
        // is archived relative to its own start.
        let mut again = vec![1, 2, 3];
        encode(
            Kind::PeerList,
            &PeerListBody { nodes: vec![] },
            lim,
            &mut again,
        )
        .expect("encode");
        let mut d = FrameDecoder::new(lim);
        d.push_bytes(&again[3..]);
        let f = d.next_frame().expect("valid").expect("whole");
        assert!(matches!(f.decode(), Ok(FrameRef::PeerList(_))));
    }
}
