//! Frames: how bytes on a node-to-node link are cut into messages.
//!
//! A frame is an 8-byte header — body length (u32 LE), kind (u8), three
//! zero bytes — then the body, then zero padding to a multiple of 8 so the
//! next frame starts 8-aligned too. The body is an rkyv archive of the
//! kind's body type ([`SendBody`], [`LinkBody`], ...), validated with
//! `rkyv::access` (never unchecked) and read in place from the receive
//! buffer; terms inside are `term_codec` bytes decoded from that same
//! buffer. A heartbeat has an empty body.
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
    #[error("malformed frame header")]
    BadHeader,
    #[error("{kind:?} frame failed validation: {reason}")]
    Invalid { kind: Kind, reason: String },
    #[error("connection ended inside a frame ({0} bytes buffered)")]
    Truncated(usize),
}

/// A node named inside a frame (owned form of [`WireNode`]).
#[derive(Archive, Serialize, Debug, Clone, PartialEq, Eq)]
pub enum FrameNode {
    Sender,
    Receiver,
    Named(String),
}

/// A pid inside a frame.
#[derive(Archive, Serialize, Debug, Clone, PartialEq, Eq)]
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
pub struct SendBody {
    pub to: FramePid,
    pub msg: Vec<u8>,
}

/// `Kind::SendNamed`: a message to a locally registered name.
#[derive(Archive, Serialize, Debug, Clone, PartialEq)]
pub struct SendNamedBody {
    pub name: String,
    pub msg: Vec<u8>,
}

/// `Kind::Link` / `Kind::Unlink`.
#[derive(Archive, Serialize, Debug, Clone, PartialEq)]
pub struct LinkBody {
    pub from: FramePid,
    pub to: FramePid,
}

/// `Kind::Exit`: an exit signal (link propagation, `exit/2`, or kill).
#[derive(Archive, Serialize, Debug, Clone, PartialEq)]
pub struct ExitBody {
    pub from: FramePid,
    pub to: FramePid,
    pub reason: Vec<u8>,
    /// 0 link, 1 explicit, 2 kill.
    pub kind: u8,
}

/// `Kind::Monitor` / `Kind::Demonitor`. The ref belongs to `from`'s node.
#[derive(Archive, Serialize, Debug, Clone, PartialEq)]
pub struct MonitorBody {
    pub from: FramePid,
    pub to: FramePid,
    pub mref: u64,
}

/// `Kind::Down`: a monitored process ended.
#[derive(Archive, Serialize, Debug, Clone, PartialEq)]
pub struct DownBody {
    pub from: FramePid,
    pub to: FramePid,
    pub mref: u64,
    pub reason: Vec<u8>,
}

/// Append a frame of `kind` whose body is the archive of `body`.
pub fn encode<T>(kind: Kind, body: &T, out: &mut Vec<u8>) -> Result<(), FrameError>
where
    T: for<'a> Serialize<
        rkyv::api::high::HighSerializer<
            AlignedVec,
            rkyv::ser::allocator::ArenaHandle<'a>,
            RkyvError,
        >,
    >,
{
    let bytes = rkyv::to_bytes::<RkyvError>(body).map_err(|e| FrameError::Invalid {
        kind,
        reason: e.to_string(),
    })?;
    push_frame(kind, &bytes, out);
    Ok(())
}

/// Append a heartbeat frame.
pub fn encode_heartbeat(out: &mut Vec<u8>) {
    push_frame(Kind::Heartbeat, &[], out);
}

fn push_frame(kind: Kind, body: &[u8], out: &mut Vec<u8>) {
    let len = body.len() as u32;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&[kind as u8, 0, 0, 0]);
    out.extend_from_slice(body);
    out.resize(out.len() + padding(body.len()), 0);
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
        if avail[5..8] != [0, 0, 0] || (kind == Kind::Heartbeat && len != 0) {
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
        encode(Kind::Send, &send(7, b"hello"), &mut wire).expect("encode");
        encode_heartbeat(&mut wire);
        let link = LinkBody {
            from: pid(FrameNode::Sender, 1),
            to: pid(FrameNode::Named("c@h:1".into()), 2),
        };
        encode(Kind::Link, &link, &mut wire).expect("encode");
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
        encode(Kind::Send, &send(1, &[0u8; 4096]), &mut wire).expect("encode");
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
        d.push_bytes(&[0, 0, 0, 0, 200, 0, 0, 0]);
        assert_eq!(
            d.next_frame().map(|f| f.map(|f| f.kind)),
            Err(FrameError::UnknownKind(200))
        );
        let mut d = FrameDecoder::new(DEFAULT_MAX_FRAME);
        d.push_bytes(&[0, 0, 0, 0, 1, 0, 9, 0]);
        assert_eq!(
            d.next_frame().map(|f| f.map(|f| f.kind)),
            Err(FrameError::BadHeader)
        );
        let mut d = FrameDecoder::new(DEFAULT_MAX_FRAME);
        d.push_bytes(&[8, 0, 0, 0, 1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
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
        encode(Kind::Send, &body, &mut wire).expect("encode");
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
        let mut junk = vec![40, 0, 0, 0, Kind::Down as u8, 0, 0, 0];
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
        encode(Kind::Send, &send(1, b"x"), &mut wire).expect("encode");
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
}
