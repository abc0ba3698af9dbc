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
//! and every node moves its clock past any stamp it receives. When several
//! nodes register one name concurrently, **the lowest stamp wins** (the
//! earliest registration in Lamport order; at equal clocks, the owner with
//! the lexicographically smallest node name).
//!
//! A replica keeps, per name, every claim it has heard of from the claims'
//! owners (normally one), and `whereis` answers with the lowest. An owner
//! that hears of a claim lower than its own drops its own, tells the
//! driver ([`GlobalEffect::Lost`], so the losing caller learns it lost) and
//! broadcasts the removal, which removes it from every replica. Losing
//! claims are kept rather than ignored because the winner may go away
//! before the loser's owner ever hears of it (the winner's node was
//! partitioned from the loser's and its process exited meanwhile); the
//! surviving claim then becomes the answer everywhere, and no replica has
//! thrown away the only copy.
//!
//! Once the mesh is connected and quiet, every replica holds the union of
//! every owner's live claims; every owner has seen every lower claim, so
//! for each name only the lowest survives, and all tables are identical
//! with one owner per name. An unregister names the stamp it removes, so
//! it can never remove a newer registration of the same name.
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
    /// Per name, every live claim heard of, lowest (the winner) first.
    names: BTreeMap<Arc<str>, BTreeMap<Stamp, Pid>>,
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

    /// The local read: the winning claim's pid.
    pub fn whereis(&self, name: &str) -> Option<Pid> {
        self.names
            .get(name)
            .and_then(|c| c.first_key_value())
            .map(|(_, pid)| *pid)
    }

    /// The winning claim of `name`.
    pub fn entry(&self, name: &str) -> Option<Entry> {
        let (stamp, pid) = self.names.get(name)?.first_key_value()?;
        Some(Entry {
            pid: *pid,
            stamp: stamp.clone(),
        })
    }

    /// How many claims on `name` this replica holds (1 once settled).
    pub fn claims(&self, name: &str) -> usize {
        self.names.get(name).map_or(0, BTreeMap::len)
    }

    /// Every name with its winning claim, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&Arc<str>, Entry)> {
        self.names.iter().filter_map(|(n, c)| {
            c.first_key_value().map(|(stamp, pid)| {
                (
                    n,
                    Entry {
                        pid: *pid,
                        stamp: stamp.clone(),
                    },
                )
            })
        })
    }

    /// Number of registered names.
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

    fn claim_of(name: &str, clock: u64, pid: Pid) -> WireClaim {
        WireClaim {
            name: name.to_owned(),
            sched: pid.scheduler(),
            slot: pid.slot(),
            generation: pid.generation(),
            clock,
        }
    }

    /// This node's own claim on `name`, if it holds one.
    fn own_claim(&self, name: &str) -> Option<(Stamp, Pid)> {
        self.names.get(name).and_then(|c| {
            c.iter()
                .find(|(s, _)| s.node == self.me)
                .map(|(s, p)| (s.clone(), *p))
        })
    }

    fn remove_claim(&mut self, name: &str, stamp: &Stamp) -> Option<Pid> {
        let claims = self.names.get_mut(name)?;
        let pid = claims.remove(stamp);
        if claims.is_empty() {
            self.names.remove(name);
        }
        pid
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
        if let Some(e) = self.entry(name) {
            return Err(GlobalError::NameTaken {
                name: Arc::from(name),
                owner: e.pid,
                node: e.stamp.node,
            });
        }
        let clock = self.tick();
        let stamp = Stamp {
            clock,
            node: Arc::clone(&self.me),
        };
        out.push(GlobalEffect::Broadcast(GlobalUpdate::Register(
            Self::claim_of(name, clock, pid),
        )));
        self.names
            .entry(Arc::from(name))
            .or_default()
            .insert(stamp, pid);
        Ok(())
    }

    /// Remove this node's registration of `name`.
    pub fn unregister(
        &mut self,
        name: &str,
        out: &mut Vec<GlobalEffect>,
    ) -> Result<(), GlobalError> {
        let Some((stamp, _)) = self.own_claim(name) else {
            return Err(match self.entry(name) {
                Some(e) => GlobalError::NotOwner {
                    name: Arc::from(name),
                    node: e.stamp.node,
                },
                None => GlobalError::NotRegistered(Arc::from(name)),
            });
        };
        self.remove_claim(name, &stamp);
        self.tick();
        out.push(GlobalEffect::Broadcast(GlobalUpdate::Unregister {
            name: name.to_owned(),
            clock: stamp.clock,
        }));
        Ok(())
    }

    /// A local process exited: drop its names and tell the peers.
    pub fn on_process_exit(&mut self, pid: Pid, out: &mut Vec<GlobalEffect>) {
        if !pid.is_local() {
            return;
        }
        let gone: Vec<(Arc<str>, Stamp)> = self
            .names
            .iter()
            .flat_map(|(n, c)| {
                c.iter()
                    .filter(|(s, p)| **p == pid && s.node == self.me)
                    .map(move |(s, _)| (Arc::clone(n), s.clone()))
            })
            .collect();
        for (name, stamp) in gone {
            self.remove_claim(&name, &stamp);
            out.push(GlobalEffect::Broadcast(GlobalUpdate::Unregister {
                name: name.to_string(),
                clock: stamp.clock,
            }));
        }
    }

    /// A link to `peer` completed its handshake: send it our own claims.
    pub fn on_peer_up(&mut self, peer: &str, out: &mut Vec<GlobalEffect>) {
        let own = self
            .names
            .iter()
            .flat_map(|(n, c)| {
                c.iter()
                    .filter(|(s, _)| s.node == self.me)
                    .map(|(s, p)| Self::claim_of(n, s.clock, *p))
            })
            .collect();
        out.push(GlobalEffect::SendTo {
            peer: Arc::from(peer),
            update: GlobalUpdate::Snapshot(own),
        });
    }

    /// The link to `peer` is gone: drop the claims it owns. Returns the
    /// names whose answer changed or vanished (for logging); nothing is
    /// sent (see module docs).
    pub fn on_peer_down(&mut self, peer: &str) -> Vec<Arc<str>> {
        let mut changed = Vec::new();
        self.names.retain(|n, claims| {
            let before = claims.first_key_value().map(|(s, _)| s.clone());
            claims.retain(|s, _| &*s.node != peer);
            if before.as_ref() != claims.first_key_value().map(|(s, _)| s) {
                changed.push(Arc::clone(n));
            }
            !claims.is_empty()
        });
        changed
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
                let stamp = Stamp {
                    clock,
                    node: Arc::from(peer),
                };
                self.remove_claim(&name, &stamp);
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
        if let Some((own, own_pid)) = self.own_claim(&c.name)
            && stamp < own
        {
            // We lost: drop ours, tell the caller and the mesh.
            self.remove_claim(&c.name, &own);
            out.push(GlobalEffect::Lost {
                name: Arc::from(c.name.as_str()),
                pid: own_pid,
                winner: pid,
                winner_node: Arc::clone(&stamp.node),
            });
            out.push(GlobalEffect::Broadcast(GlobalUpdate::Unregister {
                name: c.name.clone(),
                clock: own.clock,
            }));
        }
        self.names
            .entry(Arc::from(c.name.as_str()))
            .or_default()
            .insert(stamp, pid);
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
        assert_eq!(a.claims("svc"), 1);
    }

    #[test]
    fn a_losing_claim_takes_over_when_the_winner_goes_away() {
        // c hears of a's claim (lower) and b's claim; b never hears of a's
        // before a's process exits. c must end up agreeing with b.
        let mut c = GlobalRegistry::new("c@h:1");
        let mut out = Vec::new();
        let claim = |clock| WireClaim {
            name: "svc".into(),
            sched: 0,
            slot: 1,
            generation: 1,
            clock,
        };
        c.on_update(
            "a@h:1",
            NodeId(1),
            GlobalUpdate::Register(claim(1)),
            &mut out,
        )
        .expect("valid");
        c.on_update(
            "b@h:1",
            NodeId(2),
            GlobalUpdate::Register(claim(2)),
            &mut out,
        )
        .expect("valid");
        assert_eq!(c.entry("svc").map(|e| e.stamp.clock), Some(1));
        assert_eq!(c.claims("svc"), 2);
        c.on_update(
            "a@h:1",
            NodeId(1),
            GlobalUpdate::Unregister {
                name: "svc".into(),
                clock: 1,
            },
            &mut out,
        )
        .expect("valid");
        assert_eq!(c.whereis("svc"), Some(Pid::from_parts(NodeId(2), 0, 1, 1)));
        assert!(out.is_empty(), "nothing of c's own changed");
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
