//! The node table: which [`NodeId`] names which node incarnation, and the
//! per-connection [`NodeCodec`] that re-qualifies pids on the wire.
//!
//! An id names one *incarnation* (name + creation number): when a node
//! restarts under the same name it gets a fresh id, so pids of the old
//! incarnation can never address processes of the new one (a send to them
//! is dropped, a link to them fires `noconnection`), as Erlang's creation
//! numbers do. Ids are never reused. Nodes only named by a peer (a third
//! node's pid inside a message) get an id with an unknown creation, which
//! the first link to that node adopts. The table is bounded
//! ([`MAX_NODES`]): a peer cannot make this node intern names without end.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::dist::term_codec::{NodeCodec, WireNode};
use crate::pid::NodeId;

/// Most node incarnations one node will ever number.
pub const MAX_NODES: usize = 1 << 16;

#[derive(Debug)]
struct Entry {
    name: Arc<str>,
    /// `None` until a link to this incarnation is established.
    creation: Option<u64>,
}

#[derive(Debug, Default)]
struct Inner {
    entries: Vec<Entry>,
    /// Current incarnation of each name.
    by_name: HashMap<Arc<str>, NodeId>,
}

/// Ids of node incarnations; index 0 is this node.
#[derive(Debug)]
pub(crate) struct NodeTable {
    inner: RwLock<Inner>,
}

fn read(t: &RwLock<Inner>) -> std::sync::RwLockReadGuard<'_, Inner> {
    t.read().unwrap_or_else(|p| p.into_inner())
}

fn write(t: &RwLock<Inner>) -> std::sync::RwLockWriteGuard<'_, Inner> {
    t.write().unwrap_or_else(|p| p.into_inner())
}

impl NodeTable {
    pub(crate) fn new(me: &str) -> NodeTable {
        let me: Arc<str> = Arc::from(me);
        let inner = Inner {
            entries: vec![Entry {
                name: Arc::clone(&me),
                creation: None,
            }],
            by_name: HashMap::from([(me, NodeId::LOCAL)]),
        };
        NodeTable {
            inner: RwLock::new(inner),
        }
    }

    /// The name of the node `id` numbers.
    pub(crate) fn name(&self, id: NodeId) -> Option<Arc<str>> {
        read(&self.inner)
            .entries
            .get(id.0 as usize)
            .map(|e| Arc::clone(&e.name))
    }

    /// The current incarnation's id for `name`, if any is known.
    pub(crate) fn lookup(&self, name: &str) -> Option<NodeId> {
        read(&self.inner).by_name.get(name).copied()
    }

    /// The id for a link that just came up to `name` with `creation`:
    /// the known incarnation if it matches (or had no creation yet), a new
    /// id otherwise. `None` when the table is full.
    pub(crate) fn for_link(&self, name: &str, creation: u64) -> Option<NodeId> {
        let mut t = write(&self.inner);
        if let Some(&id) = t.by_name.get(name)
            && let Some(e) = t.entries.get_mut(id.0 as usize)
        {
            match e.creation {
                Some(c) if c == creation => return Some(id),
                None => {
                    e.creation = Some(creation);
                    return Some(id);
                }
                Some(_) => {}
            }
        }
        Self::push(&mut t, name, Some(creation))
    }

    /// The id of `name` as named by a peer: the current incarnation, or a
    /// new entry with an unknown creation.
    pub(crate) fn intern(&self, name: &str) -> Option<NodeId> {
        if let Some(id) = self.lookup(name) {
            return Some(id);
        }
        let mut t = write(&self.inner);
        if let Some(&id) = t.by_name.get(name) {
            return Some(id);
        }
        Self::push(&mut t, name, None)
    }

    fn push(t: &mut Inner, name: &str, creation: Option<u64>) -> Option<NodeId> {
        if t.entries.len() >= MAX_NODES {
            return None;
        }
        let id = NodeId(t.entries.len() as u32);
        let name: Arc<str> = Arc::from(name);
        t.entries.push(Entry {
            name: Arc::clone(&name),
            creation,
        });
        t.by_name.insert(name, id);
        Some(id)
    }
}

/// Names nodes for one connection while encoding: this node is the
/// `Sender`, the peer the `Receiver`, every other node goes by name. Holds
/// the table's read lock for the duration of one encode.
pub(crate) struct EncodeCodec<'a> {
    guard: std::sync::RwLockReadGuard<'a, Inner>,
    peer: NodeId,
}

impl NodeTable {
    pub(crate) fn encoder(&self, peer: NodeId) -> EncodeCodec<'_> {
        EncodeCodec {
            guard: read(&self.inner),
            peer,
        }
    }

    pub(crate) fn decoder(&self, peer: NodeId) -> DecodeCodec<'_> {
        DecodeCodec { table: self, peer }
    }
}

impl NodeCodec for EncodeCodec<'_> {
    fn name_node(&self, node: NodeId) -> Option<WireNode<'_>> {
        if node == NodeId::LOCAL {
            Some(WireNode::Sender)
        } else if node == self.peer {
            Some(WireNode::Receiver)
        } else {
            self.guard
                .entries
                .get(node.0 as usize)
                .map(|e| WireNode::Named(&e.name))
        }
    }

    fn resolve_node(&mut self, _node: WireNode<'_>) -> Option<NodeId> {
        None
    }
}

/// Resolves the peer's node names while decoding one of its frames.
pub(crate) struct DecodeCodec<'a> {
    table: &'a NodeTable,
    peer: NodeId,
}

impl NodeCodec for DecodeCodec<'_> {
    fn name_node(&self, _node: NodeId) -> Option<WireNode<'_>> {
        None
    }

    fn resolve_node(&mut self, node: WireNode<'_>) -> Option<NodeId> {
        match node {
            WireNode::Sender => Some(self.peer),
            WireNode::Receiver => Some(NodeId::LOCAL),
            WireNode::Named(n) => self.table.intern(n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pid::Pid;
    use crate::term::Term;

    #[test]
    fn restarted_node_gets_a_new_id_and_same_creation_keeps_it() {
        let t = NodeTable::new("me@127.0.0.1:1");
        let a = t.for_link("a@127.0.0.1:2", 7).expect("room");
        assert_ne!(a, NodeId::LOCAL);
        assert_eq!(t.for_link("a@127.0.0.1:2", 7), Some(a));
        let a2 = t.for_link("a@127.0.0.1:2", 8).expect("room");
        assert_ne!(a2, a, "a new incarnation must not reuse the old id");
        assert_eq!(t.lookup("a@127.0.0.1:2"), Some(a2));
        assert_eq!(t.name(a).as_deref(), Some("a@127.0.0.1:2"));
    }

    #[test]
    fn interned_name_is_adopted_by_the_first_link() {
        let t = NodeTable::new("me@127.0.0.1:1");
        let c = t.intern("c@127.0.0.1:3").expect("room");
        assert_eq!(t.for_link("c@127.0.0.1:3", 99), Some(c));
    }

    #[test]
    fn codec_requalifies_pids_both_ways() {
        let t = NodeTable::new("me@127.0.0.1:1");
        let peer = t.for_link("p@127.0.0.1:2", 1).expect("room");
        let third = t.for_link("q@127.0.0.1:3", 1).expect("room");
        let codec = t.encoder(peer);
        let msg = Term::tuple(vec![
            Term::Pid(Pid::from_parts(NodeId::LOCAL, 0, 1, 1)),
            Term::Pid(Pid::from_parts(peer, 0, 2, 1)),
            Term::Pid(Pid::from_parts(third, 0, 3, 1)),
        ]);
        let mut out = Vec::new();
        crate::dist::term_codec::encode(&msg, &codec, &mut out).expect("encodes");
        // The peer reads it with its own table, where we are `me`.
        let pt = NodeTable::new("p@127.0.0.1:2");
        let me_there = pt.for_link("me@127.0.0.1:1", 5).expect("room");
        drop(codec);
        let mut their = pt.decoder(me_there);
        let back = crate::dist::term_codec::decode(&out, &mut their).expect("decodes");
        let items = back.as_tuple().expect("tuple");
        assert_eq!(items[0].as_pid().map(|p| p.node()), Some(me_there));
        assert_eq!(items[1].as_pid().map(|p| p.node()), Some(NodeId::LOCAL));
        let q = items[2].as_pid().expect("pid").node();
        assert_eq!(pt.name(q).as_deref(), Some("q@127.0.0.1:3"));
    }

    #[test]
    fn table_is_bounded() {
        let t = NodeTable::new("me@h:1");
        let mut last = None;
        for i in 0..MAX_NODES + 5 {
            last = t.intern(&format!("n{i}@h:1"));
        }
        assert_eq!(last, None);
    }
}
