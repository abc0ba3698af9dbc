//! Process identifiers and references.
//!
//! A [`Pid`] names one process for as long as the cluster lives: the node it
//! runs on, the scheduler (core) that owns it, the slot in that scheduler's
//! process table and the slot's generation. A slot is reused after its
//! process exits, but with a new generation, so a stale pid never addresses
//! the new occupant: a send to it is a silent no-op, as in Erlang.
//!
//! [`NodeId`] is a small index into this node's table of known nodes;
//! `NodeId::LOCAL` (0) is always this node. Distribution re-qualifies pids
//! when they cross the wire, so the same process has `NodeId::LOCAL` at home
//! and some other id elsewhere.

use std::fmt;

/// Index of a node in this node's node table. `LOCAL` is this node.
#[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
pub struct NodeId(pub u32);

impl NodeId {
    /// This node.
    pub const LOCAL: NodeId = NodeId(0);

    pub fn is_local(self) -> bool {
        self == NodeId::LOCAL
    }
}

/// A process identifier. `Copy`, 16 bytes.
#[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pid {
    node: NodeId,
    sched: u16,
    slot: u32,
    generation: u32,
}

impl Pid {
    /// Assemble a pid from its parts. Used by the scheduler and by
    /// distribution when decoding a pid from the wire.
    pub fn from_parts(node: NodeId, sched: u16, slot: u32, generation: u32) -> Pid {
        Pid {
            node,
            sched,
            slot,
            generation,
        }
    }

    pub fn node(self) -> NodeId {
        self.node
    }

    /// The scheduler (core) that owns the process, on its node.
    pub fn scheduler(self) -> u16 {
        self.sched
    }

    pub fn slot(self) -> u32 {
        self.slot
    }

    pub fn generation(self) -> u32 {
        self.generation
    }

    pub fn is_local(self) -> bool {
        self.node.is_local()
    }

    /// The same process, named from a node where its home is `node`.
    pub fn with_node(self, node: NodeId) -> Pid {
        Pid { node, ..self }
    }
}

/// Shown as `<node.scheduler.slot.generation>`.
impl fmt::Display for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "<{}.{}.{}.{}>",
            self.node.0, self.sched, self.slot, self.generation
        )
    }
}

impl fmt::Debug for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A unique reference: monitor handles, timer handles, request tags.
/// Unique per node for the life of the node; `node` says whose.
#[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ref {
    node: NodeId,
    id: u64,
}

impl Ref {
    pub fn from_parts(node: NodeId, id: u64) -> Ref {
        Ref { node, id }
    }

    pub fn node(self) -> NodeId {
        self.node
    }

    pub fn id(self) -> u64 {
        self.id
    }

    pub fn with_node(self, node: NodeId) -> Ref {
        Ref { node, ..self }
    }
}

impl fmt::Display for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#Ref<{}.{}>", self.node.0, self.id)
    }
}

impl fmt::Debug for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_is_small_and_copy() {
        assert_eq!(std::mem::size_of::<Pid>(), 16);
        let p = Pid::from_parts(NodeId::LOCAL, 1, 7, 3);
        let q = p;
        assert_eq!(p, q);
    }

    #[test]
    fn generations_distinguish_reused_slots() {
        let old = Pid::from_parts(NodeId::LOCAL, 0, 5, 1);
        let new = Pid::from_parts(NodeId::LOCAL, 0, 5, 2);
        assert_ne!(old, new);
        assert_eq!(old.slot(), new.slot());
    }

    #[test]
    fn display_names_every_part() {
        let p = Pid::from_parts(NodeId(2), 1, 40, 9);
        assert_eq!(p.to_string(), "<2.1.40.9>");
        assert!(!p.is_local());
        assert!(p.with_node(NodeId::LOCAL).is_local());
        assert_eq!(Ref::from_parts(NodeId::LOCAL, 77).to_string(), "#Ref<0.77>");
    }
}
