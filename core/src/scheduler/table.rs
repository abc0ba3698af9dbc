//! One scheduler's process table: slots, generations and control blocks.
//!
//! A slot is `Free` (on the local free list), `Reserved` (promised to a
//! spawn that another core started and whose `Spawn` signal is on its way)
//! or `Live`. Releasing a live slot bumps its generation, so every pid that
//! named the old process stops matching.
//!
//! Slot indices come from two places: the owner's free list, and the
//! per-scheduler `fresh` counter shared with other cores, which hands out
//! never-used indices. Other cores reserve slots from a small pool of spare
//! free slots the owner tops up (`SchedShared::spare`), falling back to
//! `fresh`. So when the owner grows its table to index `i`, every index
//! below `i` that it has not seen yet belongs to an in-flight reservation
//! and is created `Reserved`.

use crate::mailbox::Mailbox;
use crate::pid::{Pid, Ref};
use crate::process::Process;
use crate::timer::TimerKey;

/// The process is in the run queue.
pub(crate) const QUEUED: u8 = 1;
/// The process returned `Wait` and sleeps until a message or timeout.
pub(crate) const WAITING: u8 = 1 << 1;
/// Its receive timeout fired and has not been observed yet.
pub(crate) const TIMED_OUT: u8 = 1 << 2;
/// Exit signals become `(:EXIT, from, reason)` messages.
pub(crate) const TRAP_EXIT: u8 = 1 << 3;
/// It may hold a name in the local registry (remove it on exit).
pub(crate) const HAS_NAME: u8 = 1 << 4;

/// A process control block. Small on purpose: everything rare lives in
/// `extra`, allocated on first use.
pub(crate) struct Pcb {
    pub(crate) mailbox: Mailbox,
    /// `None` while the process is running (the scheduler holds it).
    pub(crate) behaviour: Option<Box<dyn Process>>,
    pub(crate) flags: u8,
    pub(crate) recv_timer: Option<TimerKey>,
    pub(crate) extra: Option<Box<Relations>>,
}

/// Links and monitors of one process.
#[derive(Default)]
pub(crate) struct Relations {
    pub(crate) links: Vec<Pid>,
    /// Monitors this process holds: (ref, target).
    pub(crate) monitors: Vec<(Ref, Pid)>,
    /// Monitors on this process: (ref, watcher).
    pub(crate) watchers: Vec<(Ref, Pid)>,
}

impl Pcb {
    pub(crate) fn new(behaviour: Box<dyn Process>) -> Pcb {
        Pcb {
            mailbox: Mailbox::default(),
            behaviour: Some(behaviour),
            flags: 0,
            recv_timer: None,
            extra: None,
        }
    }

    pub(crate) fn relations(&mut self) -> &mut Relations {
        self.extra.get_or_insert_with(Box::default)
    }

    pub(crate) fn has_flag(&self, f: u8) -> bool {
        self.flags & f != 0
    }

    /// Add a link if not present.
    pub(crate) fn add_link(&mut self, pid: Pid) {
        let r = self.relations();
        if !r.links.contains(&pid) {
            r.links.push(pid);
        }
    }

    /// Remove a link; true if it was there.
    pub(crate) fn remove_link(&mut self, pid: Pid) -> bool {
        match &mut self.extra {
            Some(r) => match r.links.iter().position(|p| *p == pid) {
                Some(i) => {
                    r.links.swap_remove(i);
                    true
                }
                None => false,
            },
            None => false,
        }
    }
}

enum SlotState {
    Free,
    Reserved,
    Live(Pcb),
}

struct Slot {
    generation: u32,
    state: SlotState,
}

pub(crate) struct Table {
    slots: Vec<Slot>,
    free: Vec<u32>,
    live: usize,
}

impl Table {
    pub(crate) fn new() -> Table {
        Table {
            slots: Vec::new(),
            free: Vec::new(),
            live: 0,
        }
    }

    #[cfg(test)]
    pub(crate) fn live(&self) -> usize {
        self.live
    }

    #[cfg(test)]
    pub(crate) fn free_len(&self) -> usize {
        self.free.len()
    }

    /// The control block of the live process (slot, generation).
    #[inline]
    pub(crate) fn get_mut(&mut self, slot: u32, generation: u32) -> Option<&mut Pcb> {
        match self.slots.get_mut(slot as usize) {
            Some(Slot {
                generation: g,
                state: SlotState::Live(pcb),
            }) if *g == generation => Some(pcb),
            _ => None,
        }
    }

    #[cfg(test)]
    pub(crate) fn is_live(&self, slot: u32, generation: u32) -> bool {
        matches!(
            self.slots.get(slot as usize),
            Some(Slot { generation: g, state: SlotState::Live(_) }) if *g == generation
        )
    }

    /// Grow so that `len` slots exist; new ones are in-flight reservations.
    fn ensure_len(&mut self, len: usize) {
        while self.slots.len() < len {
            self.slots.push(Slot {
                generation: 0,
                state: SlotState::Reserved,
            });
        }
    }

    /// A slot for a process spawned by this scheduler itself. `fresh` gives
    /// a never-used index when the free list is empty.
    pub(crate) fn alloc(&mut self, fresh: impl FnOnce() -> u32, pcb: Pcb) -> (u32, u32) {
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                let s = fresh();
                self.ensure_len(s as usize + 1);
                s
            }
        };
        let entry = &mut self.slots[slot as usize];
        entry.state = SlotState::Live(pcb);
        self.live += 1;
        (slot, entry.generation)
    }

    /// Fill a slot another core reserved. Returns the pcb back if the
    /// reservation does not match (which would be a runtime bug).
    pub(crate) fn fill(&mut self, slot: u32, generation: u32, pcb: Pcb) -> Result<(), Pcb> {
        self.ensure_len(slot as usize + 1);
        let entry = &mut self.slots[slot as usize];
        if entry.generation != generation || !matches!(entry.state, SlotState::Reserved) {
            return Err(pcb);
        }
        entry.state = SlotState::Live(pcb);
        self.live += 1;
        Ok(())
    }

    /// Hand up to `n` free slots to other cores' spawns: they become
    /// `Reserved` and are returned as (slot, generation).
    pub(crate) fn reserve_spare(&mut self, n: usize, out: &mut Vec<(u32, u32)>) {
        for _ in 0..n {
            let Some(slot) = self.free.pop() else { break };
            let entry = &mut self.slots[slot as usize];
            entry.state = SlotState::Reserved;
            out.push((slot, entry.generation));
        }
    }

    /// Return reserved slots that were never used (shutdown bookkeeping).
    pub(crate) fn unreserve(&mut self, slot: u32, generation: u32) {
        if let Some(entry) = self.slots.get_mut(slot as usize)
            && entry.generation == generation
            && matches!(entry.state, SlotState::Reserved)
        {
            entry.state = SlotState::Free;
            self.free.push(slot);
        }
    }

    /// Remove a live process; its slot gets a new generation and is free.
    pub(crate) fn release(&mut self, slot: u32, generation: u32) -> Option<Pcb> {
        let entry = self.slots.get_mut(slot as usize)?;
        if entry.generation != generation || !matches!(entry.state, SlotState::Live(_)) {
            return None;
        }
        let SlotState::Live(pcb) = std::mem::replace(&mut entry.state, SlotState::Free) else {
            return None;
        };
        entry.generation = entry.generation.wrapping_add(1);
        self.free.push(slot);
        self.live -= 1;
        Some(pcb)
    }

    /// (slot, generation) of every live process.
    pub(crate) fn live_slots(&self) -> Vec<(u32, u32)> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| matches!(s.state, SlotState::Live(_)))
            .map(|(i, s)| (i as u32, s.generation))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Cx;
    use crate::process::Step;

    struct Nop;
    impl Process for Nop {
        fn resume(&mut self, _cx: &mut Cx<'_>) -> Step {
            Step::Wait
        }
    }

    fn pcb() -> Pcb {
        Pcb::new(Box::new(Nop))
    }

    #[test]
    fn released_slots_are_reused_with_a_new_generation() {
        let mut t = Table::new();
        let mut next = 0;
        let mut fresh = || {
            next += 1;
            next - 1
        };
        let (s, g) = t.alloc(&mut fresh, pcb());
        assert!(t.is_live(s, g));
        assert!(t.release(s, g).is_some());
        assert!(!t.is_live(s, g));
        assert!(t.release(s, g).is_none(), "double release");
        let (s2, g2) = t.alloc(&mut fresh, pcb());
        assert_eq!(s2, s);
        assert_ne!(g2, g);
        assert!(t.get_mut(s, g).is_none(), "stale pid misses");
        assert_eq!(t.live(), 1);
    }

    #[test]
    fn reservations_from_other_cores_are_filled_in_place() {
        let mut t = Table::new();
        // Another core took fresh index 3 before the owner grew the table.
        assert!(t.fill(3, 0, pcb()).is_ok());
        // Indices 0..3 are in flight too and must not be handed out locally.
        assert_eq!(t.free_len(), 0);
        assert!(t.fill(3, 0, pcb()).is_err(), "slot already live");
        let mut spare = Vec::new();
        let (s, g) = t.alloc(|| 4, pcb());
        t.release(s, g);
        t.reserve_spare(8, &mut spare);
        assert_eq!(spare, vec![(4, g + 1)]);
        assert!(t.fill(4, g, pcb()).is_err(), "old generation");
        assert!(t.fill(4, g + 1, pcb()).is_ok());
        assert_eq!(t.live_slots().len(), 2);
    }
}
