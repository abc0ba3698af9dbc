//! The global registry: a name table replicated on every node of the mesh,
//! as a pure state machine (operations and peer updates in, effects out).
//!
//! `whereis` is a local read of this node's replica. Nothing here sends:
//! every operation appends [`GlobalEffect`]s that the driver carries out
//! (frames of kind `Global` to peers, a message to a process that lost a
//! name).
//!
//! # Ownership and replication
//!
//! Every entry is *owned* by the node its process lives on, and only that
//! node adds or removes it: `register` accepts only local pids; process exit
//! and `unregister` remove only own entries. An owner sends its changes
//! directly to every connected peer (the mesh is full), and on a new
//! connection it sends a snapshot of its own entries only. Updates over one
//! link arrive in order (TLS over a byte stream), and no node relays
//! another's entries, so a replica never holds a stale copy that arrived by
//! a longer path: what node X owns, every peer learns from X alone.
//!
//! When the link to X goes down, each node drops X's entries itself. This
//! is not broadcast: in a full mesh every node has its own link to X and
//! its own failure detector, and a one-sided partition (C lost X, B did
//! not) must not make B drop names it still reaches.
//!
//! # Convergence rule
//!
//! Each registration is stamped `(lamport, owner node name)`, unique per
//! registration: the owner advances its Lamport clock for every operation
//! and every node moves its clock past any stamp it receives. When two
//! nodes register one name concurrently, **the lower stamp wins** (the
//! earlier registration in Lamport order; at equal clocks, the owner with
//! the lexicographically smaller node name). Every node applies the same
//! rule to the same pair of claims, whatever order they arrive in:
//! * a claim that beats the entry held replaces it;
//! * a claim that loses is ignored;
//! * when a peer's claim beats one of *our own* entries, we drop ours,
//!   tell the driver ([`GlobalEffect::Lost`], so the losing caller learns
//!   it lost) and broadcast the removal.
//!
//! So once the mesh is connected and quiet every node holds, for each name,
//! the lowest-stamped claim still alive, and every losing owner has dropped
//! its own: the tables are identical, one owner per name. An unregister
//! names the stamp it removes, so it can never remove a newer registration
//! of the same name.
//!
//! Pids in the state machine are in this node's numbering (`NodeId`s of
//! its node table); on the wire a registered pid travels without a node,
//! because its node is always the sender.

use std::collections::BTreeMap;
use std::sync::Arc;

use rkyv::{Archive, Deserialize, Serialize};

use crate::pid::{NodeId, Pid};

/// Longest global name, in bytes.
pub const MAX_NAME: usize = 255;

/// A registration's place in the convergence order: lower wins.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stamp {
    pub clock: u64,
    pub node: Arc<str>,
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub pid: Pid,
    pub stamp: Stamp,
}

/// A claim on the wire: the pid's node is the sender of the frame.
#[derive(Archive, Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub struct WireClaim {
    pub name: String,
    pub sched: u16,
    pub slot: u32,
    pub generation: u32,
    pub clock: u64,
}

/// What owners send each other (frame kind `Global`).
#[derive(Archive, Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub enum GlobalUpdate {
    /// The sender registered a name for one of its processes.
    Register(WireClaim),
    /// The sender removed its registration of `name` stamped `clock`.
    Unregister { name: String, clock: u64 },
    /// All of the sender's own entries, sent when a link comes up. It
    /// replaces whatever this node held from the sender before.
    Snapshot(Vec<WireClaim>),
}

/// What the driver must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GlobalEffect {
    /// Send to every connected peer.
    Broadcast(GlobalUpdate),
    /// Send to one peer (a snapshot for a new link).
    SendTo {
        peer: Arc<str>,
        update: GlobalUpdate,
    },
    /// A local process lost `name` to a concurrent registration elsewhere:
    /// tell it (its `register` had returned `Ok`).
    Lost {
        name: Arc<str>,
        pid: Pid,
        winner: Pid,
        winner_node: Arc<str>,
    },
}

/// Why a local operation or a peer update was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GlobalError {
    #[error("the global name {name:?} is already registered to {owner} on {node}")]
    NameTaken {
        name: Arc<str>,
        owner: Pid,
        node: Arc<str>,
    },
    #[error("only a process of this node can be registered here ({pid} is not)")]
    NotLocal { pid: Pid },
    #[error("the global name {name:?} belongs to {node}: unregister it there")]
    NotOwner { name: Arc<str>, node: Arc<str> },
    #[error("the global name {0:?} is not registered")]
    NotRegistered(Arc<str>),
    #[error("a global name must be 1 to {MAX_NAME} bytes long")]
    BadName,
    #[error("a global registry update from {peer} names an invalid name")]
    BadUpdate { peer: Arc<str> },
}

/// One node's replica and its Lamport clock.
#[derive(Debug, Clone)]
pub struct GlobalRegistry {
    me: Arc<str>,
    clock: u64,
    names: BTreeMap<Arc<str>, Entry>,
}

fn check_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= MAX_NAME
}

impl GlobalRegistry {
    /// An empty replica for the node named `me` (its full node name).
    pub fn new(me: &str) -> GlobalRegistry {
        GlobalRegistry {
            me: Arc::from(me),
            clock: 0,
            names: BTreeMap::new(),
        }
    }

    /// The local read.
    pub fn whereis(&self, name: &str) -> Option<Pid> {
        self.names.get(name).map(|e| e.pid)
    }

    pub fn entry(&self, name: &str) -> Option<&Entry> {
        self.names.get(name)
    }

    /// Every entry, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&Arc<str>, &Entry)> {
        self.names.iter()
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The current Lamport clock.
    pub fn clock(&self) -> u64 {
        self.clock
    }

    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    fn witness(&mut self, clock: u64) {
        self.clock = self.clock.max(clock);
    }

    fn claim_of(name: &str, e: &Entry) -> WireClaim {
        WireClaim {
            name: name.to_owned(),
            sched: e.pid.scheduler(),
            slot: e.pid.slot(),
            generation: e.pid.generation(),
            clock: e.stamp.clock,
        }
    }

    /// Register `name` for local process `pid`. `Ok` means this replica
    /// holds it and peers are told; a concurrent registration elsewhere
    /// may still win, which is reported later as [`GlobalEffect::Lost`].
    pub fn register(
        &mut self,
        name: &str,
        pid: Pid,
        out: &mut Vec<GlobalEffect>,
    ) -> Result<(), GlobalError> {
        if !check_name(name) {
            return Err(GlobalError::BadName);
        }
        if !pid.is_local() {
            return Err(GlobalError::NotLocal { pid });
        }
        if let Some((n, e)) = self.names.get_key_value(name) {
            return Err(GlobalError::NameTaken {
                name: Arc::clone(n),
                owner: e.pid,
                node: Arc::clone(&e.stamp.node),
            });
        }
        let clock = self.tick();
        let entry = Entry {
            pid,
            stamp: Stamp {
                clock,
                node: Arc::clone(&self.me),
            },
        };
        out.push(GlobalEffect::Broadcast(GlobalUpdate::Register(
            Self::claim_of(name, &entry),
        )));
        self.names.insert(Arc::from(name), entry);
        Ok(())
    }

    /// Remove this node's registration of `name`.
    pub fn unregister(
        &mut self,
        name: &str,
        out: &mut Vec<GlobalEffect>,
    ) -> Result<(), GlobalError> {
        let Some((n, e)) = self.names.get_key_value(name) else {
            return Err(GlobalError::NotRegistered(Arc::from(name)));
        };
        if e.stamp.node != self.me {
            return Err(GlobalError::NotOwner {
                name: Arc::clone(n),
                node: Arc::clone(&e.stamp.node),
            });
        }
        let clock = e.stamp.clock;
        self.names.remove(name);
        self.tick();
        out.push(GlobalEffect::Broadcast(GlobalUpdate::Unregister {
            name: name.to_owned(),
            clock,
        }));
        Ok(())
    }

    /// A local process exited: drop its names and tell the peers.
    pub fn on_process_exit(&mut self, pid: Pid, out: &mut Vec<GlobalEffect>) {
        if !pid.is_local() {
            return;
        }
        let gone: Vec<(Arc<str>, u64)> = self
            .names
            .iter()
            .filter(|(_, e)| e.pid == pid && e.stamp.node == self.me)
            .map(|(n, e)| (Arc::clone(n), e.stamp.clock))
            .collect();
        for (name, clock) in gone {
            self.names.remove(&name);
            out.push(GlobalEffect::Broadcast(GlobalUpdate::Unregister {
                name: name.to_string(),
                clock,
            }));
        }
    }

    /// A link to `peer` completed its handshake: send it our own entries.
    pub fn on_peer_up(&mut self, peer: &str, out: &mut Vec<GlobalEffect>) {
        let own = self
            .names
            .iter()
            .filter(|(_, e)| e.stamp.node == self.me)
            .map(|(n, e)| Self::claim_of(n, e))
            .collect();
        out.push(GlobalEffect::SendTo {
            peer: Arc::from(peer),
            update: GlobalUpdate::Snapshot(own),
        });
    }

    /// The link to `peer` is gone: drop the names it owns. Returns the
    /// removed names (for logging); nothing is sent (see module docs).
    pub fn on_peer_down(&mut self, peer: &str) -> Vec<Arc<str>> {
        let gone: Vec<Arc<str>> = self
            .names
            .iter()
            .filter(|(_, e)| &*e.stamp.node == peer)
            .map(|(n, _)| Arc::clone(n))
            .collect();
        for n in &gone {
            self.names.remove(n);
        }
        gone
    }

    /// An update from `peer`, whose processes this node numbers as
    /// `peer_id`. An `Err` means the peer sent nonsense: close its link.
    pub fn on_update(
        &mut self,
        peer: &str,
        peer_id: NodeId,
        update: GlobalUpdate,
        out: &mut Vec<GlobalEffect>,
    ) -> Result<(), GlobalError> {
        let bad = || GlobalError::BadUpdate {
            peer: Arc::from(peer),
        };
        if peer_id.is_local() || peer == &*self.me {
            return Err(bad());
        }
        match update {
            GlobalUpdate::Register(c) => {
                if !check_name(&c.name) {
                    return Err(bad());
                }
                self.apply_claim(peer, peer_id, c, out);
            }
            GlobalUpdate::Unregister { name, clock } => {
                self.witness(clock);
                let matches = self
                    .names
                    .get(name.as_str())
                    .is_some_and(|e| e.stamp.clock == clock && &*e.stamp.node == peer);
                if matches {
                    self.names.remove(name.as_str());
                }
            }
            GlobalUpdate::Snapshot(claims) => {
                if claims.iter().any(|c| !check_name(&c.name)) {
                    return Err(bad());
                }
                self.on_peer_down(peer);
                for c in claims {
                    self.apply_claim(peer, peer_id, c, out);
                }
            }
        }
        Ok(())
    }

    fn apply_claim(
        &mut self,
        peer: &str,
        peer_id: NodeId,
        c: WireClaim,
        out: &mut Vec<GlobalEffect>,
    ) {
        self.witness(c.clock);
        let pid = Pid::from_parts(peer_id, c.sched, c.slot, c.generation);
        let stamp = Stamp {
            clock: c.clock,
            node: Arc::from(peer),
        };
        let name = c.name;
        if let Some((n, held)) = self.names.get_key_value(name.as_str()) {
            if held.stamp <= stamp {
                // Ours or someone else's earlier claim stands; the peer
                // learns it lost from the winner's own update.
                return;
            }
            if held.stamp.node == self.me {
                // We lost: drop ours, tell the caller and the mesh.
                let n = Arc::clone(n);
                out.push(GlobalEffect::Lost {
                    name: Arc::clone(&n),
                    pid: held.pid,
                    winner: pid,
                    winner_node: Arc::clone(&stamp.node),
                });
                out.push(GlobalEffect::Broadcast(GlobalUpdate::Unregister {
                    name: name.clone(),
                    clock: held.stamp.clock,
                }));
            }
        }
        self.names
            .insert(Arc::from(name.as_str()), Entry { pid, stamp });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(slot: u32) -> Pid {
        Pid::from_parts(NodeId::LOCAL, 0, slot, 1)
    }

    fn broadcast(out: &[GlobalEffect]) -> Vec<GlobalUpdate> {
        out.iter()
            .filter_map(|e| match e {
                GlobalEffect::Broadcast(u) => Some(u.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn register_whereis_unregister_and_errors() {
        let mut g = GlobalRegistry::new("a@h:1");
        let mut out = Vec::new();
        g.register("db", local(1), &mut out).expect("free name");
        assert_eq!(g.whereis("db"), Some(local(1)));
        assert!(matches!(
            g.register("db", local(2), &mut out),
            Err(GlobalError::NameTaken { .. })
        ));
        assert_eq!(
            g.register("", local(2), &mut out),
            Err(GlobalError::BadName)
        );
        let remote = Pid::from_parts(NodeId(3), 0, 1, 1);
        assert_eq!(
            g.register("x", remote, &mut out),
            Err(GlobalError::NotLocal { pid: remote })
        );
        g.unregister("db", &mut out).expect("registered");
        assert_eq!(g.whereis("db"), None);
        assert!(matches!(
            g.unregister("db", &mut out),
            Err(GlobalError::NotRegistered(_))
        ));
        assert_eq!(broadcast(&out).len(), 2);
    }

    #[test]
    fn concurrent_registration_lower_stamp_wins_on_both_sides() {
        let mut a = GlobalRegistry::new("a@h:1");
        let mut b = GlobalRegistry::new("b@h:1");
        let (mut oa, mut ob) = (Vec::new(), Vec::new());
        a.register("svc", local(1), &mut oa).expect("free");
        b.register("svc", local(2), &mut ob).expect("free");
        // Same clock (1): "a@h:1" < "b@h:1", so a wins everywhere.
        let ua = broadcast(&oa).remove(0);
        let ub = broadcast(&ob).remove(0);
        let (mut oa2, mut ob2) = (Vec::new(), Vec::new());
        a.on_update("b@h:1", NodeId(1), ub, &mut oa2)
            .expect("valid");
        b.on_update("a@h:1", NodeId(1), ua, &mut ob2)
            .expect("valid");
        assert_eq!(a.whereis("svc"), Some(local(1)));
        assert_eq!(b.whereis("svc"), Some(Pid::from_parts(NodeId(1), 0, 1, 1)));
        assert!(oa2.is_empty(), "the winner does nothing");
        assert!(matches!(
            &ob2[0],
            GlobalEffect::Lost { pid, .. } if *pid == local(2)
        ));
        // b's removal of its losing claim does not touch a's entry.
        let (mut oa3, _) = (Vec::new(), ());
        for u in broadcast(&ob2) {
            a.on_update("b@h:1", NodeId(1), u, &mut oa3).expect("valid");
        }
        assert_eq!(a.whereis("svc"), Some(local(1)));
    }

    #[test]
    fn snapshot_replaces_the_peers_entries_and_peer_down_drops_them() {
        let mut a = GlobalRegistry::new("a@h:1");
        let mut out = Vec::new();
        let claim = |name: &str, slot, clock| WireClaim {
            name: name.into(),
            sched: 0,
            slot,
            generation: 1,
            clock,
        };
        a.on_update(
            "b@h:1",
            NodeId(2),
            GlobalUpdate::Snapshot(vec![claim("x", 1, 4), claim("y", 2, 5)]),
            &mut out,
        )
        .expect("valid");
        assert_eq!(a.len(), 2);
        assert!(a.clock() >= 5, "clock moves past what it sees");
        a.on_update(
            "b@h:1",
            NodeId(2),
            GlobalUpdate::Snapshot(vec![claim("y", 2, 5)]),
            &mut out,
        )
        .expect("valid");
        assert_eq!(a.whereis("x"), None);
        assert_eq!(a.on_peer_down("b@h:1").len(), 1);
        assert!(a.is_empty());
        // A stale unregister (older stamp) removes nothing.
        a.on_update(
            "b@h:1",
            NodeId(2),
            GlobalUpdate::Register(claim("z", 3, 9)),
            &mut out,
        )
        .expect("valid");
        a.on_update(
            "b@h:1",
            NodeId(2),
            GlobalUpdate::Unregister {
                name: "z".into(),
                clock: 8,
            },
            &mut out,
        )
        .expect("valid");
        assert!(a.whereis("z").is_some());
        assert!(matches!(
            a.on_update(
                "b@h:1",
                NodeId(2),
                GlobalUpdate::Register(claim("", 3, 9)),
                &mut out
            ),
            Err(GlobalError::BadUpdate { .. })
        ));
    }

    #[test]
    fn process_exit_removes_and_broadcasts_and_peer_up_sends_own_only() {
        let mut a = GlobalRegistry::new("a@h:1");
        let mut out = Vec::new();
        a.register("p", local(1), &mut out).expect("free");
        a.register("q", local(1), &mut out).expect("free");
        a.on_update(
            "b@h:1",
            NodeId(2),
            GlobalUpdate::Register(WireClaim {
                name: "r".into(),
                sched: 0,
                slot: 9,
                generation: 1,
                clock: 1,
            }),
            &mut out,
        )
        .expect("valid");
        out.clear();
        a.on_peer_up("c@h:1", &mut out);
        match &out[..] {
            [
                GlobalEffect::SendTo {
                    update: GlobalUpdate::Snapshot(c),
                    ..
                },
            ] => assert_eq!(c.len(), 2),
            other => panic!("{other:?}"),
        }
        out.clear();
        a.on_process_exit(local(1), &mut out);
        assert_eq!(broadcast(&out).len(), 2);
        assert_eq!(a.len(), 1);
    }
}
