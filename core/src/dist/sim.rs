//! A deterministic simulated cluster for the distribution state machines.
//!
//! N nodes, each with a node table, its connections (cookie handshake, then
//! frames with a failure detector) and a global registry replica, joined by
//! in-memory links with a virtual clock. A test can delay bytes (per-link
//! FIFO, random latency from a seed), cut a pair of nodes and heal it. A
//! cut behaves like a real partition under TCP: nothing between the two
//! nodes arrives while it lasts (FINs included), and what was sent is
//! delivered in order after the heal if its connection is still open at
//! the receiver; bytes of a stream are never silently dropped. TLS is left out (its own tests run it in memory); each link
//! gets a random exporter value both ends share, as TLS would give them.
//!
//! The node driver here is also a sketch of what the runtime integration
//! has to do: admission on authentication, one connection per peer, peer
//! lists for the full mesh, heartbeats, registry snapshots on connect and
//! cleanup on node loss, reconnecting to known nodes.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::time::{Duration, Instant};

use rkyv::rancor::Error as RkyvError;

use super::frame::{self, FrameDecoder, FrameRef, Kind, PeerListBody};
use super::global::{GlobalEffect, GlobalRegistry, GlobalUpdate};
use super::handshake::{
    Admission, Cookie, Existing, Handshake, HandshakeConfig, HandshakeError, Progress, admission,
};
use super::heartbeat::{Action, FailureDetector, HeartbeatConfig};
use super::name::NodeName;
use crate::pid::{NodeId, Pid};

const TICK: Duration = Duration::from_millis(10);
const RETRY: Duration = Duration::from_millis(500);

/// splitmix64: small, seedable, good enough for latencies and nonces.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    fn bytes32(&mut self) -> [u8; 32] {
        let mut b = [0u8; 32];
        for chunk in b.chunks_mut(8) {
            chunk.copy_from_slice(&self.next_u64().to_le_bytes());
        }
        b
    }
}

/// One end of a link: (link id, side 0 = initiator, 1 = acceptor).
type End = (u64, u8);

#[derive(Debug)]
enum Event {
    Bytes {
        node: usize,
        end: End,
        bytes: Vec<u8>,
    },
    Fin {
        node: usize,
        end: End,
    },
}

#[derive(Debug)]
struct Scheduled {
    at: Duration,
    seq: u64,
    ev: Event,
}

impl PartialEq for Scheduled {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(o.at, o.seq))
    }
}

#[derive(Debug)]
struct Link {
    nodes: [usize; 2],
    /// Earliest next delivery per direction (index = sending side), so
    /// each direction stays FIFO whatever the random latency.
    free_at: [Duration; 2],
}

#[derive(Debug)]
enum Conn {
    Handshaking {
        hs: Box<Handshake>,
        /// Initiator: the node dialled.
        target: Option<String>,
    },
    Up {
        peer: String,
        peer_id: NodeId,
        creation: u64,
        decoder: FrameDecoder,
        fd: FailureDetector,
    },
}

/// Something a node logged (fields are read through `Debug` in failures).
#[allow(dead_code)]
#[derive(Debug, Clone)]
pub enum Log {
    HandshakeFailed {
        link: u64,
        side: u8,
        error: HandshakeError,
    },
    Up {
        peer: String,
        at: Duration,
    },
    Down {
        peer: String,
        at: Duration,
    },
    /// Two connections up to one peer at once: must never happen.
    DoubleUp {
        peer: String,
    },
    Closed {
        peer: String,
        why: String,
    },
}

#[derive(Debug)]
pub struct Node {
    pub name: NodeName,
    pub name_s: String,
    cfg: HandshakeConfig,
    pub global: GlobalRegistry,
    ids: BTreeMap<String, NodeId>,
    /// `NodeId` index -> name; index 0 is this node.
    pub names_by_id: Vec<String>,
    conns: BTreeMap<End, Conn>,
    /// Nodes to stay connected to.
    known: BTreeSet<String>,
    /// (name, slot, generation) this node's callers believe they hold.
    pub believed: BTreeSet<(String, u32, u32)>,
    generations: Vec<u32>,
    pub log: Vec<Log>,
}

impl Node {
    fn id_for(&mut self, peer: &str) -> NodeId {
        if let Some(id) = self.ids.get(peer) {
            return *id;
        }
        let id = NodeId(self.names_by_id.len() as u32);
        self.names_by_id.push(peer.to_owned());
        self.ids.insert(peer.to_owned(), id);
        id
    }

    fn up_conn(&self, peer: &str) -> Option<(End, u64)> {
        self.conns.iter().find_map(|(e, c)| match c {
            Conn::Up {
                peer: p, creation, ..
            } if p == peer => Some((*e, *creation)),
            _ => None,
        })
    }

    fn pending_outgoing(&self, peer: &str) -> Option<End> {
        self.conns.iter().find_map(|(e, c)| match c {
            Conn::Handshaking {
                target: Some(t), ..
            } if t == peer => Some(*e),
            _ => None,
        })
    }

    /// Up peers, sorted.
    pub fn up_peers(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .conns
            .values()
            .filter_map(|c| match c {
                Conn::Up { peer, .. } => Some(peer.clone()),
                Conn::Handshaking { .. } => None,
            })
            .collect();
        v.sort();
        v
    }

    pub fn local_pid(&self, slot: u32) -> Pid {
        Pid::from_parts(NodeId::LOCAL, 0, slot, self.generations[slot as usize])
    }

    /// The replica in a node-independent form: name -> (owner, slot,
    /// generation, clock). Also checks each pid was re-qualified right.
    pub fn canonical_table(&self) -> BTreeMap<String, (String, u32, u32, u64)> {
        self.global
            .iter()
            .map(|(n, e)| {
                let home = &self.names_by_id[e.pid.node().0 as usize];
                assert_eq!(
                    home, &*e.stamp.node,
                    "{}: pid {} of {n} not re-qualified to its owner",
                    self.name_s, e.pid
                );
                (
                    n.to_string(),
                    (
                        e.stamp.node.to_string(),
                        e.pid.slot(),
                        e.pid.generation(),
                        e.stamp.clock,
                    ),
                )
            })
            .collect()
    }
}

/// The simulated cluster.
#[derive(Debug)]
pub struct Sim {
    pub now: Duration,
    t0: Instant,
    rng: Rng,
    pub nodes: Vec<Node>,
    queue: BinaryHeap<Reverse<Scheduled>>,
    seq: u64,
    links: BTreeMap<u64, Link>,
    next_link: u64,
    cut: BTreeSet<(usize, usize)>,
    /// Events between cut nodes, in send order, delivered after the heal.
    held: Vec<Event>,
    pub max_delay_ms: u64,
    pub hb: HeartbeatConfig,
    next_tick: Duration,
    next_retry: Duration,
}

pub const SLOTS: usize = 4;

impl Sim {
    /// Nodes `n{i}@10.0.0.{i}:4000` with the given cookies.
    pub fn new(cookies: &[&[u8]], seed: u64, max_delay_ms: u64) -> Sim {
        let mut rng = Rng::new(seed);
        let nodes = cookies
            .iter()
            .enumerate()
            .map(|(i, cookie)| {
                let name = NodeName::parse(&format!("n{i}@10.0.0.{}:4000", i + 1))
                    .unwrap_or_else(|e| panic!("sim node name: {e}"));
                let name_s = name.to_string();
                let cfg = HandshakeConfig {
                    me: name.clone(),
                    creation: rng.next_u64(),
                    cookie: Cookie::new(cookie).unwrap_or_else(|e| panic!("{e}")),
                    timeout: Duration::from_secs(1),
                };
                Node {
                    global: GlobalRegistry::new(&name_s),
                    ids: BTreeMap::from([(name_s.clone(), NodeId::LOCAL)]),
                    names_by_id: vec![name_s.clone()],
                    name,
                    name_s,
                    cfg,
                    conns: BTreeMap::new(),
                    known: BTreeSet::new(),
                    believed: BTreeSet::new(),
                    generations: vec![1; SLOTS],
                    log: Vec::new(),
                }
            })
            .collect();
        Sim {
            now: Duration::ZERO,
            t0: Instant::now(),
            rng,
            nodes,
            queue: BinaryHeap::new(),
            seq: 0,
            links: BTreeMap::new(),
            next_link: 1,
            cut: BTreeSet::new(),
            held: Vec::new(),
            max_delay_ms,
            hb: HeartbeatConfig::default(),
            next_tick: Duration::ZERO,
            next_retry: Duration::ZERO,
        }
    }

    fn instant(&self) -> Instant {
        self.t0 + self.now
    }

    fn is_cut(&self, a: usize, b: usize) -> bool {
        self.cut.contains(&(a.min(b), a.max(b)))
    }

    pub fn cut(&mut self, a: usize, b: usize) {
        if a == b || !self.cut.insert((a.min(b), a.max(b))) {
            return;
        }
        // What is in flight between them waits for the heal, in order,
        // ahead of anything sent during the cut.
        let mut all: Vec<Scheduled> = std::mem::take(&mut self.queue)
            .into_iter()
            .map(|Reverse(s)| s)
            .collect();
        all.sort();
        for s in all {
            let link = match &s.ev {
                Event::Bytes { end, .. } | Event::Fin { end, .. } => end.0,
            };
            let pair = self.links.get(&link).map(|l| l.nodes);
            if pair.is_some_and(|[x, y]| (x.min(y), x.max(y)) == (a.min(b), a.max(b))) {
                self.held.push(s.ev);
            } else {
                self.queue.push(Reverse(s));
            }
        }
    }

    pub fn heal(&mut self, a: usize, b: usize) {
        self.cut.remove(&(a.min(b), a.max(b)));
        self.release_held();
    }

    pub fn heal_all(&mut self) {
        self.cut.clear();
        self.release_held();
    }

    /// Re-send held events whose nodes are no longer cut, in order.
    fn release_held(&mut self) {
        let held = std::mem::take(&mut self.held);
        for ev in held {
            let (to, (link_id, side)) = match &ev {
                Event::Bytes { node, end, .. } | Event::Fin { node, end } => (*node, *end),
            };
            let from = self
                .links
                .get(&link_id)
                .map(|l| l.nodes[usize::from(1 - side)]);
            match from {
                Some(from) if !self.is_cut(from, to) => {
                    self.schedule(from, (link_id, 1 - side), |_, _| ev);
                }
                Some(_) => self.held.push(ev),
                None => {}
            }
        }
    }

    fn schedule(&mut self, from: usize, end: End, ev: impl FnOnce(usize, End) -> Event) {
        let (link_id, side) = end;
        let Some(link) = self.links.get(&link_id) else {
            return;
        };
        let to = link.nodes[usize::from(1 - side)];
        if self.is_cut(from, to) {
            self.held.push(ev(to, (link_id, 1 - side)));
            return;
        }
        let delay = Duration::from_millis(self.rng.below(self.max_delay_ms + 1));
        let Some(link) = self.links.get_mut(&link_id) else {
            return;
        };
        let at = (self.now + delay).max(link.free_at[usize::from(side)]);
        link.free_at[usize::from(side)] = at;
        self.seq += 1;
        let ev = ev(to, (link_id, 1 - side));
        self.queue.push(Reverse(Scheduled {
            at,
            seq: self.seq,
            ev,
        }));
    }

    fn send(&mut self, from: usize, end: End, bytes: Vec<u8>) {
        if bytes.is_empty() {
            return;
        }
        self.schedule(from, end, |node, end| Event::Bytes { node, end, bytes });
    }

    /// Node `from` dials node `to` (if it has no connection to it yet).
    pub fn connect(&mut self, from: usize, to: usize) {
        let target = self.nodes[to].name_s.clone();
        let me = &self.nodes[from];
        if me.up_conn(&target).is_some() || me.pending_outgoing(&target).is_some() {
            return;
        }
        self.nodes[from].known.insert(target.clone());
        let link = self.next_link;
        self.next_link += 1;
        self.links.insert(
            link,
            Link {
                nodes: [from, to],
                free_at: [self.now; 2],
            },
        );
        let exporter = self.rng.bytes32();
        let now = self.instant();
        let hi = Handshake::initiator(
            self.nodes[from].cfg.clone(),
            self.nodes[to].name.clone(),
            exporter,
            self.rng.bytes32(),
            now,
        );
        let ha = Handshake::acceptor(
            self.nodes[to].cfg.clone(),
            exporter,
            self.rng.bytes32(),
            now,
        );
        self.nodes[from].conns.insert(
            (link, 0),
            Conn::Handshaking {
                hs: Box::new(hi),
                target: Some(target),
            },
        );
        self.nodes[to].conns.insert(
            (link, 1),
            Conn::Handshaking {
                hs: Box::new(ha),
                target: None,
            },
        );
        self.flush_handshake(from, (link, 0));
    }

    fn flush_handshake(&mut self, node: usize, end: End) {
        let mut out = Vec::new();
        if let Some(Conn::Handshaking { hs, .. }) = self.nodes[node].conns.get_mut(&end) {
            hs.take_output(&mut out);
        }
        self.send(node, end, out);
    }

    fn close(&mut self, node: usize, end: End, why: &str) {
        let Some(conn) = self.nodes[node].conns.remove(&end) else {
            return;
        };
        if let Conn::Up { peer, .. } = conn {
            self.nodes[node].global.on_peer_down(&peer);
            self.nodes[node].log.push(Log::Closed {
                peer,
                why: why.to_owned(),
            });
        }
        self.schedule(node, end, |node, end| Event::Fin { node, end });
    }

    fn on_fin(&mut self, node: usize, end: End) {
        match self.nodes[node].conns.remove(&end) {
            Some(Conn::Up { peer, .. }) => {
                self.nodes[node].global.on_peer_down(&peer);
                self.nodes[node].log.push(Log::Closed {
                    peer,
                    why: "peer closed".to_owned(),
                });
            }
            Some(Conn::Handshaking { mut hs, .. }) => {
                let error = hs.on_closed();
                self.nodes[node].log.push(Log::HandshakeFailed {
                    link: end.0,
                    side: end.1,
                    error,
                });
            }
            None => {}
        }
    }

    fn on_bytes(&mut self, node: usize, end: End, bytes: &[u8]) {
        let now = self.instant();
        let n = &mut self.nodes[node];
        let Some(conn) = n.conns.get_mut(&end) else {
            return;
        };
        match conn {
            Conn::Handshaking { hs, .. } => {
                let res = match hs.push_bytes(bytes, now) {
                    Ok(Progress::Authenticated {
                        peer,
                        peer_creation,
                    }) => {
                        let peer_s = peer.to_string();
                        let existing = match (n.up_conn(&peer_s), n.pending_outgoing(&peer_s)) {
                            (Some((_, creation)), _) => Existing::Up { creation },
                            (None, Some(_)) => Existing::PendingOutgoing,
                            (None, None) => Existing::None,
                        };
                        let decision = admission(&n.name_s, &peer_s, peer_creation, existing);
                        let abort = n.pending_outgoing(&peer_s);
                        let res = match n.conns.get_mut(&end) {
                            Some(Conn::Handshaking { hs, .. }) => hs.admit(decision),
                            _ => return,
                        };
                        if let (
                            Admission::Accept {
                                abort_outgoing: true,
                            },
                            Some(out_end),
                        ) = (decision, abort)
                        {
                            self.flush_handshake(node, end);
                            self.close(node, out_end, "lost the tie-break");
                        }
                        res
                    }
                    other => other,
                };
                self.flush_handshake(node, end);
                match res {
                    Ok(Progress::Continue) | Ok(Progress::Authenticated { .. }) => {}
                    Ok(Progress::Done) => self.promote(node, end),
                    Err(error) => {
                        self.nodes[node].log.push(Log::HandshakeFailed {
                            link: end.0,
                            side: end.1,
                            error,
                        });
                        self.close(node, end, "handshake failed");
                    }
                }
            }
            Conn::Up { decoder, fd, .. } => {
                fd.on_received(now);
                decoder.push_bytes(bytes);
                self.drain_frames(node, end);
            }
        }
    }

    fn promote(&mut self, node: usize, end: End) {
        let now = self.instant();
        let hb = self.hb;
        let n = &mut self.nodes[node];
        let Some(Conn::Handshaking { hs, .. }) = n.conns.remove(&end) else {
            return;
        };
        let est = match hs.finish() {
            Ok(e) => e,
            Err(error) => {
                n.log.push(Log::HandshakeFailed {
                    link: end.0,
                    side: end.1,
                    error,
                });
                return;
            }
        };
        let peer = est.peer.to_string();
        if n.up_conn(&peer).is_some() {
            n.log.push(Log::DoubleUp { peer: peer.clone() });
        }
        let peer_id = n.id_for(&peer);
        let mut decoder = FrameDecoder::new(frame::DEFAULT_MAX_FRAME);
        decoder.push_bytes(&est.leftover);
        n.conns.insert(
            end,
            Conn::Up {
                peer: peer.clone(),
                peer_id,
                creation: est.peer_creation,
                decoder,
                fd: FailureDetector::new(hb, now),
            },
        );
        n.known.insert(peer.clone());
        n.log.push(Log::Up {
            peer: peer.clone(),
            at: self.now,
        });
        let mut effects = Vec::new();
        n.global.on_peer_up(&peer, &mut effects);
        let nodes: Vec<String> = n.up_peers().into_iter().filter(|p| *p != peer).collect();
        let mut wire = Vec::new();
        if frame::encode(
            Kind::PeerList,
            &PeerListBody { nodes },
            frame::DEFAULT_MAX_FRAME,
            &mut wire,
        )
        .is_ok()
        {
            self.send_frame(node, end, wire);
        }
        self.apply_effects(node, effects);
        self.drain_frames(node, end);
    }

    fn send_frame(&mut self, node: usize, end: End, wire: Vec<u8>) {
        let now = self.instant();
        if let Some(Conn::Up { fd, .. }) = self.nodes[node].conns.get_mut(&end) {
            fd.on_sent(now);
        }
        self.send(node, end, wire);
    }

    fn apply_effects(&mut self, node: usize, effects: Vec<GlobalEffect>) {
        for e in effects {
            match e {
                GlobalEffect::Broadcast(u) => {
                    let ends: Vec<End> = self.nodes[node]
                        .conns
                        .iter()
                        .filter(|(_, c)| matches!(c, Conn::Up { .. }))
                        .map(|(e, _)| *e)
                        .collect();
                    for end in ends {
                        self.send_global(node, end, &u);
                    }
                }
                GlobalEffect::SendTo { peer, update } => {
                    if let Some((end, _)) = self.nodes[node].up_conn(&peer) {
                        self.send_global(node, end, &update);
                    }
                }
                GlobalEffect::Lost { name, pid, .. } => {
                    self.nodes[node].believed.remove(&(
                        name.to_string(),
                        pid.slot(),
                        pid.generation(),
                    ));
                }
            }
        }
    }

    fn send_global(&mut self, node: usize, end: End, u: &GlobalUpdate) {
        let mut wire = Vec::new();
        if frame::encode(Kind::Global, u, frame::DEFAULT_MAX_FRAME, &mut wire).is_ok() {
            self.send_frame(node, end, wire);
        }
    }

    fn drain_frames(&mut self, node: usize, end: End) {
        loop {
            let n = &mut self.nodes[node];
            let Some(Conn::Up {
                peer,
                peer_id,
                decoder,
                ..
            }) = n.conns.get_mut(&end)
            else {
                return;
            };
            let (peer, peer_id) = (peer.clone(), *peer_id);
            // Turn the frame into what the node acts on, then drop the
            // borrow of the decoder.
            enum Got {
                Global(GlobalUpdate),
                Peers(Vec<String>),
                Nothing,
            }
            let got = match decoder.next_frame() {
                Ok(None) => return,
                Ok(Some(f)) => match f.decode() {
                    Ok(FrameRef::Global(g)) => {
                        match rkyv::deserialize::<GlobalUpdate, RkyvError>(g) {
                            Ok(u) => Ok(Got::Global(u)),
                            Err(e) => Err(e.to_string()),
                        }
                    }
                    Ok(FrameRef::PeerList(p)) => Ok(Got::Peers(
                        p.nodes.iter().map(|s| s.as_str().to_owned()).collect(),
                    )),
                    Ok(_) => Ok(Got::Nothing),
                    Err(e) => Err(e.to_string()),
                },
                Err(e) => Err(e.to_string()),
            };
            match got {
                Err(why) => {
                    self.close(node, end, &why);
                    return;
                }
                Ok(Got::Nothing) => {}
                Ok(Got::Global(u)) => {
                    let mut effects = Vec::new();
                    if let Err(e) = n.global.on_update(&peer, peer_id, u, &mut effects) {
                        self.close(node, end, &e.to_string());
                        return;
                    }
                    self.apply_effects(node, effects);
                }
                Ok(Got::Peers(names)) => {
                    for name in names {
                        if let Some(to) = self.nodes.iter().position(|x| x.name_s == name)
                            && to != node
                        {
                            self.connect(node, to);
                        }
                    }
                }
            }
        }
    }

    fn tick(&mut self, node: usize) {
        let now = self.instant();
        let ends: Vec<End> = self.nodes[node].conns.keys().copied().collect();
        for end in ends {
            match self.nodes[node].conns.get_mut(&end) {
                Some(Conn::Up { fd, peer, .. }) => match fd.poll(now) {
                    Action::Nothing => {}
                    Action::SendHeartbeat => {
                        let mut wire = Vec::new();
                        frame::encode_heartbeat(&mut wire);
                        self.send_frame(node, end, wire);
                    }
                    Action::Down { .. } => {
                        let peer = peer.clone();
                        self.nodes[node].log.push(Log::Down { peer, at: self.now });
                        self.close(node, end, "heartbeat timeout");
                    }
                },
                Some(Conn::Handshaking { hs, .. }) => {
                    if let Err(error) = hs.check_deadline(now) {
                        self.nodes[node].log.push(Log::HandshakeFailed {
                            link: end.0,
                            side: end.1,
                            error,
                        });
                        self.close(node, end, "handshake timeout");
                    }
                }
                None => {}
            }
        }
    }

    fn retry(&mut self, node: usize) {
        let known: Vec<String> = self.nodes[node].known.iter().cloned().collect();
        for name in known {
            if let Some(to) = self.nodes.iter().position(|x| x.name_s == name) {
                self.connect(node, to);
            }
        }
    }

    /// Run the cluster until virtual time `until`.
    pub fn run_until(&mut self, until: Duration) {
        loop {
            let next_ev = self.queue.peek().map(|Reverse(s)| s.at);
            let next_timer = self.next_tick.min(self.next_retry);
            let at = next_ev.map_or(next_timer, |e| e.min(next_timer));
            if at > until {
                self.now = until;
                return;
            }
            self.now = at;
            if next_ev == Some(at) {
                if let Some(Reverse(s)) = self.queue.pop() {
                    let (to, (link_id, side)) = match &s.ev {
                        Event::Bytes { node, end, .. } | Event::Fin { node, end } => (*node, *end),
                    };
                    let from = self
                        .links
                        .get(&link_id)
                        .map(|l| l.nodes[usize::from(1 - side)]);
                    if from.is_some_and(|f| self.is_cut(f, to)) {
                        // In flight when the cut came: arrives after the heal.
                        self.held.push(s.ev);
                        continue;
                    }
                    match s.ev {
                        Event::Bytes { node, end, bytes } => self.on_bytes(node, end, &bytes),
                        Event::Fin { node, end } => self.on_fin(node, end),
                    }
                }
                continue;
            }
            if self.next_tick == at {
                for i in 0..self.nodes.len() {
                    self.tick(i);
                }
                self.next_tick += TICK;
            }
            if self.next_retry == at {
                for i in 0..self.nodes.len() {
                    self.retry(i);
                }
                self.next_retry += RETRY;
            }
        }
    }

    pub fn run_for(&mut self, d: Duration) {
        self.run_until(self.now + d);
    }

    /// A local registration on `node` for its process in `slot`.
    pub fn register(&mut self, node: usize, name: &str, slot: u32) {
        let pid = self.nodes[node].local_pid(slot);
        let mut effects = Vec::new();
        if self.nodes[node]
            .global
            .register(name, pid, &mut effects)
            .is_ok()
        {
            self.nodes[node]
                .believed
                .insert((name.to_owned(), slot, pid.generation()));
        }
        self.apply_effects(node, effects);
    }

    pub fn unregister(&mut self, node: usize, name: &str) {
        let mut effects = Vec::new();
        let owned = self.nodes[node].global.entry(name).map(|e| e.pid);
        if self.nodes[node]
            .global
            .unregister(name, &mut effects)
            .is_ok()
            && let Some(pid) = owned
        {
            self.nodes[node]
                .believed
                .remove(&(name.to_owned(), pid.slot(), pid.generation()));
        }
        self.apply_effects(node, effects);
    }

    /// The process in `slot` exits; the slot gets a new generation.
    pub fn exit(&mut self, node: usize, slot: u32) {
        let pid = self.nodes[node].local_pid(slot);
        let mut effects = Vec::new();
        self.nodes[node].global.on_process_exit(pid, &mut effects);
        self.nodes[node]
            .believed
            .retain(|(_, s, g)| !(*s == slot && *g == pid.generation()));
        self.nodes[node].generations[slot as usize] += 1;
        self.apply_effects(node, effects);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const S: Duration = Duration::from_secs(1);

    fn assert_full_mesh(sim: &Sim) {
        for (i, n) in sim.nodes.iter().enumerate() {
            let want: Vec<String> = sim
                .nodes
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, m)| m.name_s.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            assert_eq!(
                n.up_peers(),
                want,
                "{} is not connected to everyone",
                n.name_s
            );
            for l in &n.log {
                assert!(!matches!(l, Log::DoubleUp { .. }), "{}: {l:?}", n.name_s);
            }
        }
    }

    fn assert_converged(sim: &Sim) {
        let first = sim.nodes[0].canonical_table();
        for n in &sim.nodes {
            assert_eq!(n.canonical_table(), first, "{} differs from n0", n.name_s);
            // What a node's callers believe they hold is exactly its own
            // entries: every loss was reported.
            let own: BTreeSet<(String, u32, u32)> = n
                .global
                .iter()
                .filter(|(_, e)| e.pid.is_local())
                .map(|(name, e)| (name.to_string(), e.pid.slot(), e.pid.generation()))
                .collect();
            assert_eq!(own, n.believed, "{}: unreported loss", n.name_s);
            for (name, _) in n.global.iter() {
                assert_eq!(n.global.claims(name), 1, "{}: {name} unsettled", n.name_s);
            }
        }
    }

    #[test]
    fn a_cluster_meshes_from_one_seed_and_replicates_names() {
        let mut sim = Sim::new(&[b"c", b"c", b"c", b"c"], 7, 20);
        for i in 1..4 {
            sim.connect(i, 0);
        }
        sim.run_for(2 * S);
        assert_full_mesh(&sim);
        sim.register(2, "db", 1);
        sim.run_for(S);
        for n in &sim.nodes {
            assert!(n.global.whereis("db").is_some(), "{}", n.name_s);
        }
        // Pids are re-qualified: on node 2 the pid is local, elsewhere it
        // names node 2 in that node's own numbering.
        assert!(
            sim.nodes[2]
                .global
                .whereis("db")
                .is_some_and(|p| p.is_local())
        );
        assert_converged(&sim);
        sim.exit(2, 1);
        sim.run_for(S);
        assert!(sim.nodes.iter().all(|n| n.global.whereis("db").is_none()));
    }

    #[test]
    fn concurrent_registrations_converge_and_the_loser_learns() {
        let mut sim = Sim::new(&[b"c", b"c", b"c"], 3, 30);
        sim.connect(1, 0);
        sim.connect(2, 0);
        sim.run_for(2 * S);
        assert_full_mesh(&sim);
        for i in 0..3 {
            sim.register(i, "leader", 0);
        }
        sim.run_for(S);
        assert_converged(&sim);
        let owners: BTreeSet<String> = sim
            .nodes
            .iter()
            .filter_map(|n| n.global.entry("leader").map(|e| e.stamp.node.to_string()))
            .collect();
        assert_eq!(owners.len(), 1);
        let believers = sim.nodes.iter().filter(|n| !n.believed.is_empty()).count();
        assert_eq!(believers, 1, "exactly one caller still thinks it won");
    }

    #[test]
    fn a_partitioned_peer_is_declared_down_within_two_seconds_and_rejoins() {
        let mut sim = Sim::new(&[b"c", b"c", b"c"], 11, 40);
        sim.connect(1, 0);
        sim.connect(2, 0);
        sim.run_for(2 * S);
        assert_full_mesh(&sim);
        sim.register(1, "w", 2);
        sim.run_for(S);
        let t = sim.now;
        sim.cut(0, 1);
        sim.run_for(3 * S);
        for (a, b) in [(0, 1), (1, 0)] {
            let peer = sim.nodes[b].name_s.clone();
            let down = sim.nodes[a].log.iter().find_map(|l| match l {
                Log::Down { peer: p, at } if *p == peer && *at >= t => Some(*at),
                _ => None,
            });
            let at = down.unwrap_or_else(|| panic!("{a} never declared {b} down"));
            assert!(at - t <= 2 * S, "declared down after {:?}", at - t);
        }
        assert_eq!(
            sim.nodes[0].global.whereis("w"),
            None,
            "node loss clears names"
        );
        assert!(
            sim.nodes[2].global.whereis("w").is_some(),
            "2 still reaches 1"
        );
        assert!(
            !sim.nodes[2]
                .log
                .iter()
                .any(|l| matches!(l, Log::Down { .. })),
            "no false positives"
        );
        sim.heal_all();
        sim.run_for(4 * S);
        assert_full_mesh(&sim);
        assert_converged(&sim);
        assert!(
            sim.nodes[0].global.whereis("w").is_some(),
            "snapshot on reconnect"
        );
    }

    #[derive(Debug, Clone)]
    enum Op {
        Register { node: usize, name: usize, slot: u32 },
        Unregister { node: usize, name: usize },
        Exit { node: usize, slot: u32 },
        Cut { a: usize, b: usize },
        Heal { a: usize, b: usize },
        Wait { ms: u64 },
    }

    const NAMES: [&str; 3] = ["alpha", "beta", "gamma"];

    fn op(n: usize) -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0..n, 0..NAMES.len(), 0..SLOTS as u32)
                .prop_map(|(node, name, slot)| Op::Register { node, name, slot }),
            1 => (0..n, 0..NAMES.len()).prop_map(|(node, name)| Op::Unregister { node, name }),
            1 => (0..n, 0..SLOTS as u32).prop_map(|(node, slot)| Op::Exit { node, slot }),
            1 => (0..n, 0..n).prop_map(|(a, b)| Op::Cut { a, b }),
            1 => (0..n, 0..n).prop_map(|(a, b)| Op::Heal { a, b }),
            3 => (0u64..2500).prop_map(|ms| Op::Wait { ms }),
        ]
    }

    fn scenario() -> impl Strategy<Value = (usize, u64, u64, Vec<Op>)> {
        (2usize..=4).prop_flat_map(|n| {
            (
                Just(n),
                any::<u64>(),
                0u64..80,
                proptest::collection::vec(op(n), 1..30),
            )
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

        /// Whatever the order of registrations, exits, partitions and
        /// heals, once the network is whole again every node holds the same
        /// table with one owner per name, and every caller whose
        /// registration was lost was told.
        #[test]
        fn registries_converge_after_any_history((n, seed, delay, ops) in scenario()) {
            let cookies = vec![&b"c"[..]; n];
            let mut sim = Sim::new(&cookies, seed, delay);
            for i in 1..n {
                sim.connect(i, 0);
            }
            sim.run_for(2 * S);
            for op in ops {
                match op {
                    Op::Register { node, name, slot } => sim.register(node, NAMES[name], slot),
                    Op::Unregister { node, name } => sim.unregister(node, NAMES[name]),
                    Op::Exit { node, slot } => sim.exit(node, slot),
                    Op::Cut { a, b } => sim.cut(a, b),
                    Op::Heal { a, b } => sim.heal(a, b),
                    Op::Wait { ms } => sim.run_for(Duration::from_millis(ms)),
                }
                let pause = Duration::from_millis(sim.rng.below(50));
                sim.run_for(pause);
            }
            sim.heal_all();
            sim.run_for(8 * S);
            assert_full_mesh(&sim);
            assert_converged(&sim);
        }

        /// A handshake succeeds exactly between nodes with the same cookie;
        /// between different cookies it fails on both sides as a cookie
        /// mismatch.
        #[test]
        fn cookies_decide_who_connects(
            which in proptest::collection::vec(any::<bool>(), 2..=4),
            seed in any::<u64>(),
            delay in 0u64..60,
        ) {
            let cookies: Vec<&[u8]> = which.iter().map(|w| if *w { &b"x"[..] } else { &b"y"[..] }).collect();
            let mut sim = Sim::new(&cookies, seed, delay);
            for i in 0..which.len() {
                for j in 0..which.len() {
                    if i != j {
                        sim.connect(i, j);
                    }
                }
            }
            sim.run_for(3 * S);
            for (i, n) in sim.nodes.iter().enumerate() {
                let want: Vec<String> = sim.nodes.iter().enumerate()
                    .filter(|(j, _)| *j != i && which[*j] == which[i])
                    .map(|(_, m)| m.name_s.clone())
                    .collect::<BTreeSet<_>>().into_iter().collect();
                prop_assert_eq!(n.up_peers(), want);
            }
            // Every handshake failure, per link and side.
            let mut fails: BTreeMap<u64, Vec<(usize, HandshakeError)>> = BTreeMap::new();
            for (i, n) in sim.nodes.iter().enumerate() {
                for l in &n.log {
                    if let Log::HandshakeFailed { link, error, .. } = l {
                        fails.entry(*link).or_default().push((i, error.clone()));
                    }
                }
            }
            for (link, l) in &sim.links {
                let [a, b] = l.nodes;
                let f = fails.get(link).cloned().unwrap_or_default();
                let open = sim.nodes.iter().any(|n| {
                    n.conns.keys().any(|(id, _)| id == link)
                });
                if open && which[a] != which[b] {
                    // A retry still in its handshake when the run ended.
                    continue;
                }
                if which[a] != which[b] {
                    prop_assert_eq!(f.len(), 2, "link {} {}-{}: {:?}", link, a, b, f);
                    for (_, e) in &f {
                        let is_cookie = matches!(e, HandshakeError::CookieMismatch { .. });
                        prop_assert!(is_cookie, "{}", e);
                        prop_assert!(e.to_string().contains("cookie mismatch"));
                    }
                } else {
                    for (_, e) in &f {
                        let benign = matches!(
                            e,
                            HandshakeError::LostTieBreak { .. }
                                | HandshakeError::AlreadyConnected { .. }
                                | HandshakeError::Closed { .. }
                        );
                        prop_assert!(benign, "same cookie, link {}: {}", link, e);
                    }
                }
            }
        }
    }
}
