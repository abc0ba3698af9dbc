//! The wire encoding of a [`Term`] inside a frame body.
//!
//! Frames are rkyv archives (see `frame`), but a term is a recursive value
//! and rkyv's validator recurses without a depth bound, so a hostile frame
//! of deeply nested tuples could overflow the reading thread's stack. A term
//! is therefore carried as a byte field of the archived body in this small
//! tagged format, decoded in place from the receive buffer straight into a
//! `Term` with an explicit nesting limit ([`MAX_DEPTH`]) and every length
//! checked against the bytes that remain (so a forged count cannot make us
//! allocate more than the frame's own size).
//!
//! Pids and refs name their node relative to the connection: `Sender` (the
//! node that wrote the frame), `Receiver` (the node reading it) or a node
//! name (a third node of the mesh). Each side maps those to its own
//! [`NodeId`]s through a [`NodeCodec`], which is how a pid is re-qualified
//! as it crosses the wire.
//!
//! Layout: one tag byte, then
//! `0` unit · `1` false · `2` true · `3` int (i64 LE) · `4` float (f64 LE)
//! · `5` atom, `6` string, `7` binary (len varint + bytes) · `8` tuple,
//! `9` list (count varint + items) · `10` map (count varint + key/value
//! pairs) · `11` pid (node, sched u16, slot u32, generation u32, LE) · `12`
//! ref (node, id u64 LE) · `13` struct (name, count, fields) · `14` variant
//! (type name, constructor, count, fields). A node is `0` sender, `1`
//! receiver, or `2` + name.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::atom::Atom;
use crate::pid::{NodeId, Pid, Ref};
use crate::term::{Struct, Term, Variant};

/// Deepest nesting of tuples/lists/maps/structs/variants a term may have
/// on the wire.
pub const MAX_DEPTH: usize = 512;

/// A node as named inside a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireNode<'a> {
    Sender,
    Receiver,
    Named(&'a str),
}

/// Maps between this node's [`NodeId`]s and the connection-relative names
/// used on the wire.
pub trait NodeCodec {
    /// How to name `node` to the peer; `None` if this node does not know it
    /// (the term cannot be sent).
    fn name_node(&self, node: NodeId) -> Option<WireNode<'_>>;
    /// The local id for a node named by the peer; `None` if it cannot be
    /// resolved (the frame is refused).
    fn resolve_node(&mut self, node: WireNode<'_>) -> Option<NodeId>;
}

/// Why a term cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("a {kind} cannot be sent to another node (it only exists on this node)")]
    Opaque { kind: &'static str },
    #[error("term nests deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("pid or ref of a node this node does not know ({0:?})")]
    UnknownNode(NodeId),
}

/// Why bytes are not a valid term.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("term ends early")]
    Truncated,
    #[error("unknown term tag {0}")]
    BadTag(u8),
    #[error("string is not UTF-8")]
    BadUtf8,
    #[error("term nests deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("count or length {0} is larger than the frame")]
    BadLength(u64),
    #[error("malformed length")]
    BadVarint,
    #[error("pid or ref names a node that cannot be resolved")]
    UnknownNode,
    #[error("{0} trailing bytes after the term")]
    Trailing(usize),
}

/// Append the encoding of `t` to `out`. On error `out` may hold a partial
/// encoding; callers truncate it back.
pub fn encode(t: &Term, nodes: &dyn NodeCodec, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    enc(t, nodes, out, 0)
}

/// Whether `t` can cross to another node, without encoding it: `Err`
/// names the first part that cannot (an opaque value such as a closure,
/// or nesting past [`MAX_DEPTH`]). Pids and refs are not checked here:
/// the connection's node table decides those when the term is encoded.
#[inline]
pub fn check_sendable(t: &Term) -> Result<(), EncodeError> {
    // Only a compound term or an opaque value can fail: a scalar, a
    // string or a binary (most messages) is answered without a call.
    match t {
        Term::Tuple(_)
        | Term::List(_)
        | Term::Map(_)
        | Term::Struct(_)
        | Term::Variant(_)
        | Term::Opaque(_) => check(t, 0),
        _ => Ok(()),
    }
}

fn check(t: &Term, depth: usize) -> Result<(), EncodeError> {
    if depth > MAX_DEPTH {
        return Err(EncodeError::TooDeep);
    }
    match t {
        Term::Tuple(items) => items.iter().try_for_each(|x| check(x, depth + 1)),
        Term::List(l) => l.iter().try_for_each(|x| check(x, depth + 1)),
        Term::Map(m) => m.iter().try_for_each(|(k, v)| {
            check(k, depth + 1)?;
            check(v, depth + 1)
        }),
        Term::Struct(s) => s.fields.iter().try_for_each(|x| check(x, depth + 1)),
        Term::Variant(v) => v.fields.iter().try_for_each(|x| check(x, depth + 1)),
        Term::Opaque(o) => Err(EncodeError::Opaque { kind: o.kind() }),
        _ => Ok(()),
    }
}

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn bytes(b: &[u8], out: &mut Vec<u8>) {
    varint(b.len() as u64, out);
    out.extend_from_slice(b);
}

fn node(n: NodeId, nodes: &dyn NodeCodec, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    match nodes.name_node(n).ok_or(EncodeError::UnknownNode(n))? {
        WireNode::Sender => out.push(0),
        WireNode::Receiver => out.push(1),
        WireNode::Named(name) => {
            out.push(2);
            bytes(name.as_bytes(), out);
        }
    }
    Ok(())
}

fn seq<'a>(
    items: impl ExactSizeIterator<Item = &'a Term>,
    nodes: &dyn NodeCodec,
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<(), EncodeError> {
    varint(items.len() as u64, out);
    for t in items {
        enc(t, nodes, out, depth + 1)?;
    }
    Ok(())
}

fn enc(
    t: &Term,
    nodes: &dyn NodeCodec,
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<(), EncodeError> {
    if depth > MAX_DEPTH {
        return Err(EncodeError::TooDeep);
    }
    match t {
        Term::Unit => out.push(0),
        Term::Bool(false) => out.push(1),
        Term::Bool(true) => out.push(2),
        Term::Int(i) => {
            out.push(3);
            out.extend_from_slice(&i.to_le_bytes());
        }
        Term::Float(f) => {
            out.push(4);
            out.extend_from_slice(&f.to_le_bytes());
        }
        Term::Atom(a) => {
            out.push(5);
            bytes(a.as_str().as_bytes(), out);
        }
        Term::Str(s) => {
            out.push(6);
            bytes(s.as_bytes(), out);
        }
        Term::Binary(b) => {
            out.push(7);
            bytes(b, out);
        }
        Term::Tuple(items) => {
            out.push(8);
            seq(items.iter(), nodes, out, depth)?;
        }
        Term::List(l) => {
            out.push(9);
            seq(l.iter(), nodes, out, depth)?;
        }
        Term::Map(m) => {
            out.push(10);
            varint(m.len() as u64, out);
            for (k, v) in m.iter() {
                enc(k, nodes, out, depth + 1)?;
                enc(v, nodes, out, depth + 1)?;
            }
        }
        Term::Pid(p) => {
            out.push(11);
            node(p.node(), nodes, out)?;
            out.extend_from_slice(&p.scheduler().to_le_bytes());
            out.extend_from_slice(&p.slot().to_le_bytes());
            out.extend_from_slice(&p.generation().to_le_bytes());
        }
        Term::Ref(r) => {
            out.push(12);
            node(r.node(), nodes, out)?;
            out.extend_from_slice(&r.id().to_le_bytes());
        }
        Term::Struct(s) => {
            out.push(13);
            bytes(s.name.as_str().as_bytes(), out);
            seq(s.fields.iter(), nodes, out, depth)?;
        }
        Term::Variant(v) => {
            out.push(14);
            bytes(v.type_name.as_str().as_bytes(), out);
            bytes(v.ctor.as_str().as_bytes(), out);
            seq(v.fields.iter(), nodes, out, depth)?;
        }
        Term::Opaque(o) => return Err(EncodeError::Opaque { kind: o.kind() }),
    }
    Ok(())
}

/// Decode one term that fills `input` exactly.
pub fn decode(input: &[u8], nodes: &mut dyn NodeCodec) -> Result<Term, DecodeError> {
    let mut r = Reader { buf: input, pos: 0 };
    let t = r.term(nodes, 0)?;
    match input.len() - r.pos {
        0 => Ok(t),
        n => Err(DecodeError::Trailing(n)),
    }
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(DecodeError::Truncated);
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    fn byte(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(DecodeError::BadVarint)
    }

    /// A count of items, each at least `min_item` bytes: must fit in what
    /// remains.
    fn count(&mut self, min_item: usize) -> Result<usize, DecodeError> {
        let n = self.varint()?;
        match usize::try_from(n) {
            Ok(c) if c.saturating_mul(min_item) <= self.remaining() => Ok(c),
            _ => Err(DecodeError::BadLength(n)),
        }
    }

    fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.count(1)?;
        self.take(n)
    }

    fn str(&mut self) -> Result<&'a str, DecodeError> {
        let b = self.bytes()?;
        // Most strings on the wire are ASCII, which a word-at-a-time scan
        // confirms for a fraction of the full validation's cost on short
        // strings (the byte-at-a-time run up to an aligned address
        // dominates that for a 64-byte message).
        if b.is_ascii() {
            // SAFETY: every ASCII byte sequence is valid UTF-8.
            return Ok(unsafe { std::str::from_utf8_unchecked(b) });
        }
        std::str::from_utf8(b).map_err(|_| DecodeError::BadUtf8)
    }

    fn node(&mut self, nodes: &mut dyn NodeCodec) -> Result<NodeId, DecodeError> {
        let w = match self.byte()? {
            0 => WireNode::Sender,
            1 => WireNode::Receiver,
            2 => WireNode::Named(self.str()?),
            t => return Err(DecodeError::BadTag(t)),
        };
        nodes.resolve_node(w).ok_or(DecodeError::UnknownNode)
    }

    fn items(&mut self, nodes: &mut dyn NodeCodec, depth: usize) -> Result<Vec<Term>, DecodeError> {
        let n = self.count(1)?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(self.term(nodes, depth + 1)?);
        }
        Ok(v)
    }

    fn term(&mut self, nodes: &mut dyn NodeCodec, depth: usize) -> Result<Term, DecodeError> {
        if depth > MAX_DEPTH {
            return Err(DecodeError::TooDeep);
        }
        Ok(match self.byte()? {
            0 => Term::Unit,
            1 => Term::Bool(false),
            2 => Term::Bool(true),
            3 => Term::Int(i64::from_le_bytes(self.array()?)),
            4 => Term::Float(f64::from_le_bytes(self.array()?)),
            5 => Term::Atom(Atom::new(self.str()?)),
            6 => Term::Str(Arc::from(self.str()?)),
            7 => Term::Binary(Arc::from(self.bytes()?)),
            8 => Term::Tuple(Arc::from(self.items(nodes, depth)?)),
            9 => Term::list(self.items(nodes, depth)?),
            10 => {
                let n = self.count(2)?;
                let mut m = BTreeMap::new();
                for _ in 0..n {
                    let k = self.term(nodes, depth + 1)?;
                    let v = self.term(nodes, depth + 1)?;
                    m.insert(k, v);
                }
                Term::Map(Arc::new(m))
            }
            11 => {
                let node = self.node(nodes)?;
                let sched = u16::from_le_bytes(self.array()?);
                let slot = u32::from_le_bytes(self.array()?);
                let generation = u32::from_le_bytes(self.array()?);
                Term::Pid(Pid::from_parts(node, sched, slot, generation))
            }
            12 => {
                let node = self.node(nodes)?;
                Term::Ref(Ref::from_parts(node, u64::from_le_bytes(self.array()?)))
            }
            13 => {
                let name = Atom::new(self.str()?);
                let fields = self.items(nodes, depth)?.into_boxed_slice();
                Term::Struct(Arc::new(Struct { name, fields }))
            }
            14 => {
                let type_name = Atom::new(self.str()?);
                let ctor = Atom::new(self.str()?);
                let fields = self.items(nodes, depth)?.into_boxed_slice();
                Term::Variant(Arc::new(Variant {
                    type_name,
                    ctor,
                    fields,
                }))
            }
            t => return Err(DecodeError::BadTag(t)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Two nodes: "a" (the sender, node id 7 on b) and "b"; a third node "c"
    /// is id 3 on a and id 9 on b.
    struct OnA;
    impl NodeCodec for OnA {
        fn name_node(&self, node: NodeId) -> Option<WireNode<'_>> {
            match node.0 {
                0 => Some(WireNode::Sender),
                5 => Some(WireNode::Receiver), // b as known on a
                3 => Some(WireNode::Named("c@h:3")),
                _ => None,
            }
        }
        fn resolve_node(&mut self, _: WireNode<'_>) -> Option<NodeId> {
            None
        }
    }
    struct OnB;
    impl NodeCodec for OnB {
        fn name_node(&self, _: NodeId) -> Option<WireNode<'_>> {
            None
        }
        fn resolve_node(&mut self, node: WireNode<'_>) -> Option<NodeId> {
            match node {
                WireNode::Sender => Some(NodeId(7)),
                WireNode::Receiver => Some(NodeId::LOCAL),
                WireNode::Named("c@h:3") => Some(NodeId(9)),
                WireNode::Named(_) => None,
            }
        }
    }
    /// Identity mapping for round trips of node-free terms.
    struct Same;
    impl NodeCodec for Same {
        fn name_node(&self, node: NodeId) -> Option<WireNode<'_>> {
            (node == NodeId::LOCAL).then_some(WireNode::Sender)
        }
        fn resolve_node(&mut self, node: WireNode<'_>) -> Option<NodeId> {
            (node == WireNode::Sender).then_some(NodeId::LOCAL)
        }
    }

    fn round_trip(t: &Term) -> Term {
        let mut out = Vec::new();
        encode(t, &Same, &mut out).expect("encodable");
        decode(&out, &mut Same).expect("decodable")
    }

    #[test]
    fn pids_are_requalified_across_the_wire() {
        let mine = Pid::from_parts(NodeId::LOCAL, 1, 2, 3);
        let yours = Pid::from_parts(NodeId(5), 0, 9, 1);
        let third = Pid::from_parts(NodeId(3), 1, 4, 4);
        let r = Ref::from_parts(NodeId::LOCAL, 77);
        let t = Term::tuple(vec![
            Term::Pid(mine),
            Term::Pid(yours),
            Term::Pid(third),
            Term::Ref(r),
        ]);
        let mut out = Vec::new();
        encode(&t, &OnA, &mut out).expect("encodable");
        let got = decode(&out, &mut OnB).expect("decodable");
        assert_eq!(
            got,
            Term::tuple(vec![
                Term::Pid(Pid::from_parts(NodeId(7), 1, 2, 3)),
                Term::Pid(Pid::from_parts(NodeId::LOCAL, 0, 9, 1)),
                Term::Pid(Pid::from_parts(NodeId(9), 1, 4, 4)),
                Term::Ref(Ref::from_parts(NodeId(7), 77)),
            ])
        );
        // A pid of a node the sender does not know cannot be sent.
        let unknown = Term::Pid(Pid::from_parts(NodeId(42), 0, 0, 0));
        assert_eq!(
            encode(&unknown, &OnA, &mut Vec::new()),
            Err(EncodeError::UnknownNode(NodeId(42)))
        );
    }

    #[derive(Debug)]
    struct Closure;
    impl crate::term::Opaque for Closure {
        fn kind(&self) -> &'static str {
            "closure"
        }
        fn as_any(&self) -> &dyn std::any::Any {
            self
        }
    }

    #[test]
    fn opaque_terms_are_refused_with_their_kind() {
        let t = Term::list(vec![Term::Int(1), Term::opaque(Closure)]);
        let err = encode(&t, &Same, &mut Vec::new()).expect_err("opaque");
        assert_eq!(err, EncodeError::Opaque { kind: "closure" });
        assert_eq!(
            err.to_string(),
            "a closure cannot be sent to another node (it only exists on this node)"
        );
    }

    #[test]
    fn check_sendable_agrees_with_encode() {
        let deep = Term::map([(
            Term::str("k"),
            Term::tuple(vec![Term::Int(1), Term::opaque(Closure)]),
        )]);
        assert_eq!(
            check_sendable(&deep),
            Err(EncodeError::Opaque { kind: "closure" })
        );
        let fine = Term::tuple(vec![Term::str("a"), Term::list(vec![Term::Float(1.5)])]);
        assert_eq!(check_sendable(&fine), Ok(()));
        let mut t = Term::Int(0);
        for _ in 0..=MAX_DEPTH + 1 {
            t = Term::tuple(vec![t]);
        }
        assert_eq!(check_sendable(&t), Err(EncodeError::TooDeep));
    }

    #[test]
    fn nesting_is_bounded_both_ways() {
        let mut t = Term::Int(0);
        for _ in 0..=MAX_DEPTH {
            t = Term::tuple(vec![t]);
        }
        assert_eq!(
            encode(&t, &Same, &mut Vec::new()),
            Err(EncodeError::TooDeep)
        );
        // Forged: a million nested one-element tuples in a few bytes.
        let mut forged = Vec::new();
        for _ in 0..1_000_000 {
            forged.extend_from_slice(&[8, 1]);
        }
        forged.push(0);
        assert_eq!(decode(&forged, &mut Same), Err(DecodeError::TooDeep));
    }

    #[test]
    fn malformed_bytes_are_errors_not_panics() {
        assert_eq!(decode(&[], &mut Same), Err(DecodeError::Truncated));
        assert_eq!(decode(&[99], &mut Same), Err(DecodeError::BadTag(99)));
        assert_eq!(decode(&[3, 1, 2], &mut Same), Err(DecodeError::Truncated));
        assert_eq!(
            decode(&[6, 2, 0xff, 0xfe], &mut Same),
            Err(DecodeError::BadUtf8)
        );
        // Not ASCII, so fully validated: an ASCII start does not pass it.
        assert_eq!(
            decode(&[6, 3, b'a', 0xc3, 0x28], &mut Same),
            Err(DecodeError::BadUtf8)
        );
        assert_eq!(
            decode(&[6, 3, b'a', 0xc3, 0xa9], &mut Same),
            Ok(Term::str("a\u{e9}"))
        );
        // A forged count far beyond the frame: refused before allocating.
        assert_eq!(
            decode(&[9, 0xff, 0xff, 0xff, 0xff, 0x0f], &mut Same),
            Err(DecodeError::BadLength(0xffff_ffff))
        );
        assert_eq!(decode(&[0, 0], &mut Same), Err(DecodeError::Trailing(1)));
        assert_eq!(
            decode(&[11, 2, 1, b'z', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], &mut Same),
            Err(DecodeError::UnknownNode)
        );
        assert_eq!(
            decode(
                &[
                    7, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80
                ],
                &mut Same
            ),
            Err(DecodeError::BadVarint)
        );
    }

    #[test]
    fn a_large_binary_crosses_intact() {
        let big: Vec<u8> = (0..(1 << 20)).map(|i| (i * 7) as u8).collect();
        let t = Term::binary(&big);
        assert_eq!(round_trip(&t), t);
    }

    fn arb_term() -> impl Strategy<Value = Term> {
        let leaf = prop_oneof![
            Just(Term::Unit),
            any::<bool>().prop_map(Term::Bool),
            any::<i64>().prop_map(Term::Int),
            any::<f64>()
                .prop_filter("NaN breaks equality", |f| !f.is_nan())
                .prop_map(Term::Float),
            "[a-z_]{1,8}".prop_map(|s| Term::atom(&s)),
            "\\PC{0,12}".prop_map(|s| Term::str(&s)),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(|b| Term::binary(&b)),
            (0u16..4, any::<u32>(), any::<u32>())
                .prop_map(|(s, sl, g)| Term::Pid(Pid::from_parts(NodeId::LOCAL, s, sl, g))),
            any::<u64>().prop_map(|id| Term::Ref(Ref::from_parts(NodeId::LOCAL, id))),
        ];
        leaf.prop_recursive(4, 64, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Term::tuple),
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Term::list),
                proptest::collection::vec((inner.clone(), inner.clone()), 0..4).prop_map(Term::map),
                (
                    "[A-Z][a-z]{0,5}",
                    proptest::collection::vec(inner.clone(), 0..4)
                )
                    .prop_map(|(n, f)| Term::structure(Atom::new(&n), f)),
                (
                    "[A-Z][a-z]{0,5}",
                    "[A-Z][a-z]{0,5}",
                    proptest::collection::vec(inner, 0..3)
                )
                    .prop_map(|(t, c, f)| Term::variant(
                        Atom::new(&t),
                        Atom::new(&c),
                        f
                    )),
            ]
        })
    }

    proptest! {
        #[test]
        fn every_term_round_trips(t in arb_term()) {
            prop_assert_eq!(round_trip(&t), t);
        }

        #[test]
        fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode(&b, &mut Same);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// A term of any kind, with an optional large binary beside it,
        /// crosses a whole frame (encode, archive, decode in place) intact.
        #[test]
        fn terms_cross_a_frame_intact(
            t in arb_term(),
            big in proptest::option::weighted(0.3, (0usize..(1 << 20), any::<u8>())),
        ) {
            use crate::dist::frame::{self, FrameDecoder, FrameRef, SendBody};
            let t = match big {
                Some((len, seed)) => {
                    let b: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(31) ^ seed).collect();
                    Term::tuple(vec![t, Term::binary(&b)])
                }
                None => t,
            };
            let mut msg = Vec::new();
            encode(&t, &Same, &mut msg).expect("encodable");
            let body = SendBody {
                to: frame::FramePid {
                    node: frame::FrameNode::Receiver,
                    sched: 0,
                    slot: 1,
                    generation: 1,
                },
                msg,
            };
            let mut wire = Vec::new();
            frame::encode(frame::Kind::Send, &body, frame::DEFAULT_MAX_FRAME, &mut wire)
                .expect("fits");
            let mut d = FrameDecoder::new(frame::DEFAULT_MAX_FRAME);
            d.push_bytes(&wire);
            let f = d.next_frame().expect("valid").expect("whole");
            let FrameRef::Send(b) = f.decode().expect("valid body") else {
                panic!("not a send");
            };
            prop_assert_eq!(decode(&b.msg, &mut Same).expect("decodable"), t);
        }
    }
}
