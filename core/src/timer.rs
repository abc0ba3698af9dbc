//! A hierarchical timer wheel, one per scheduler.
//!
//! Six levels of 64 slots with a 1 ms tick cover 64^6 ms (about 2,000
//! years); a deadline further out is clamped. An entry lives in the level
//! given by the highest 6-bit group in which its deadline differs from the
//! current time, so level 0 holds the next 64 ms, level 1 the next 4 s, and
//! so on. Advancing time visits only occupied slots (one `u64` bitmap per
//! level), so an idle hour costs a handful of steps, not 3.6 million; the
//! entries of a higher-level slot are re-filed into lower levels when its
//! time comes ("cascading"), as in tokio's and the Linux kernel's wheels.
//!
//! Insert and cancel are O(1): each entry records its slot and index there,
//! and cancel swap-removes it, so a process that arms and disarms a receive
//! timeout a million times leaves nothing behind. Deadlines are rounded up
//! to the next tick, so a timer never fires early.
//!
//! The wheel is pure: time is a parameter (`Instant`), nothing here reads
//! the clock.

use std::time::{Duration, Instant};

const LEVELS: usize = 6;
const SLOTS: usize = 64;
const SLOT_BITS: u32 = 6;
/// Deadlines are clamped to this many ticks after the current time.
const MAX_TICKS: u64 = (1u64 << (SLOT_BITS as usize * LEVELS)) - 1;
const TICK: Duration = Duration::from_millis(1);

/// Identifies an armed timer for cancellation. Stale keys are harmless.
#[derive(Copy, Clone, PartialEq, Eq, Debug, Hash)]
pub struct TimerKey {
    idx: u32,
    generation: u32,
}

#[derive(Debug)]
enum Place {
    /// Deadline already reached when inserted: fires on the next poll.
    Due(usize),
    /// In `levels[level].slots[slot][pos]`.
    Wheel { level: u8, slot: u8, pos: usize },
}

#[derive(Debug)]
struct Entry<T> {
    generation: u32,
    deadline: u64,
    value: Option<T>,
    place: Place,
}

#[derive(Debug)]
struct Level {
    occupied: u64,
    slots: [Vec<u32>; SLOTS],
}

impl Level {
    fn new() -> Level {
        Level {
            occupied: 0,
            slots: std::array::from_fn(|_| Vec::new()),
        }
    }
}

/// The wheel. `T` is what a timer carries back when it fires.
#[derive(Debug)]
pub struct TimerWheel<T> {
    origin: Instant,
    /// Ticks since `origin` that have been fully processed.
    elapsed: u64,
    levels: Box<[Level; LEVELS]>,
    due: Vec<u32>,
    entries: Vec<Entry<T>>,
    free: Vec<u32>,
    len: usize,
}

fn level_for(elapsed: u64, deadline: u64) -> usize {
    let masked = (elapsed ^ deadline) | (SLOTS as u64 - 1);
    let significant = 63 - masked.leading_zeros() as usize;
    (significant / SLOT_BITS as usize).min(LEVELS - 1)
}

fn slot_for(deadline: u64, level: usize) -> usize {
    ((deadline >> (level as u32 * SLOT_BITS)) as usize) & (SLOTS - 1)
}

impl<T> TimerWheel<T> {
    pub fn new(origin: Instant) -> TimerWheel<T> {
        TimerWheel {
            origin,
            elapsed: 0,
            levels: Box::new(std::array::from_fn(|_| Level::new())),
            due: Vec::new(),
            entries: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }

    /// Number of armed timers.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn ticks_ceil(&self, t: Instant) -> u64 {
        let nanos = t.saturating_duration_since(self.origin).as_nanos();
        u64::try_from(nanos.div_ceil(TICK.as_nanos())).unwrap_or(u64::MAX)
    }

    fn ticks_floor(&self, t: Instant) -> u64 {
        u64::try_from(t.saturating_duration_since(self.origin).as_millis()).unwrap_or(u64::MAX)
    }

    /// Arm a timer that fires at `deadline` (rounded up to the next tick).
    pub fn insert(&mut self, deadline: Instant, value: T) -> TimerKey {
        let ticks = self
            .ticks_ceil(deadline)
            .min(self.elapsed.saturating_add(MAX_TICKS));
        let idx = match self.free.pop() {
            Some(i) => i,
            None => {
                self.entries.push(Entry {
                    generation: 0,
                    deadline: 0,
                    value: None,
                    place: Place::Due(0),
                });
                u32::try_from(self.entries.len() - 1).unwrap_or(u32::MAX)
            }
        };
        let e = &mut self.entries[idx as usize];
        e.deadline = ticks;
        e.value = Some(value);
        let generation = e.generation;
        self.len += 1;
        self.file(idx);
        TimerKey { idx, generation }
    }

    /// Put entry `idx` where its deadline says, relative to `elapsed`.
    fn file(&mut self, idx: u32) {
        let deadline = self.entries[idx as usize].deadline;
        let place = if deadline <= self.elapsed {
            self.due.push(idx);
            Place::Due(self.due.len() - 1)
        } else {
            let level = level_for(self.elapsed, deadline);
            let slot = slot_for(deadline, level);
            let l = &mut self.levels[level];
            l.slots[slot].push(idx);
            l.occupied |= 1 << slot;
            Place::Wheel {
                level: level as u8,
                slot: slot as u8,
                pos: l.slots[slot].len() - 1,
            }
        };
        self.entries[idx as usize].place = place;
    }

    /// Disarm a timer. Returns its value if it had not fired yet.
    pub fn cancel(&mut self, key: TimerKey) -> Option<T> {
        let e = self.entries.get(key.idx as usize)?;
        if e.generation != key.generation || e.value.is_none() {
            return None;
        }
        match e.place {
            Place::Due(pos) => {
                self.due.swap_remove(pos);
                if let Some(&moved) = self.due.get(pos) {
                    self.entries[moved as usize].place = Place::Due(pos);
                }
            }
            Place::Wheel { level, slot, pos } => {
                let l = &mut self.levels[level as usize];
                let v = &mut l.slots[slot as usize];
                v.swap_remove(pos);
                if let Some(&moved) = v.get(pos) {
                    self.entries[moved as usize].place = Place::Wheel { level, slot, pos };
                }
                if v.is_empty() {
                    l.occupied &= !(1 << slot);
                }
            }
        }
        Some(self.release(key.idx))
    }

    fn release(&mut self, idx: u32) -> T {
        let e = &mut self.entries[idx as usize];
        e.generation = e.generation.wrapping_add(1);
        self.free.push(idx);
        self.len -= 1;
        match e.value.take() {
            Some(v) => v,
            // Only called on armed entries, which always hold a value.
            None => unreachable!("released an unarmed timer entry"),
        }
    }

    /// The earliest (level, slot, start tick) with entries.
    fn next_expiration(&self) -> Option<(usize, usize, u64)> {
        for (level, l) in self.levels.iter().enumerate() {
            if l.occupied == 0 {
                continue;
            }
            let slot_range = 1u64 << (level as u32 * SLOT_BITS);
            let level_range = slot_range << SLOT_BITS;
            let now_slot = ((self.elapsed / slot_range) as usize) & (SLOTS - 1);
            let rotated = l.occupied.rotate_right(now_slot as u32);
            let slot = (rotated.trailing_zeros() as usize + now_slot) & (SLOTS - 1);
            let level_start = self.elapsed & !(level_range - 1);
            let mut start = level_start + slot as u64 * slot_range;
            if start < self.elapsed && level > 0 && slot < now_slot {
                start += level_range;
            }
            return Some((level, slot, start.max(self.elapsed)));
        }
        None
    }

    /// When the earliest armed timer might fire (a slot boundary at or
    /// before it), or `None` if nothing is armed. For the idle scheduler's
    /// sleep.
    pub fn next_deadline(&self) -> Option<Instant> {
        if !self.due.is_empty() {
            return Some(self.origin + Duration::from_millis(self.elapsed));
        }
        let (_, _, start) = self.next_expiration()?;
        Some(self.origin + Duration::from_millis(start))
    }

    /// Fire every timer whose deadline is at or before `now`, appending
    /// their values to `out` in deadline order (ties in any order).
    pub fn poll(&mut self, now: Instant, out: &mut Vec<T>) {
        let now_t = self.ticks_floor(now);
        for idx in std::mem::take(&mut self.due) {
            out.push(self.release(idx));
        }
        while let Some((level, slot, start)) = self.next_expiration() {
            if start > now_t {
                break;
            }
            self.elapsed = self.elapsed.max(start);
            let l = &mut self.levels[level];
            l.occupied &= !(1 << slot);
            let taken = std::mem::take(&mut l.slots[slot]);
            for idx in taken {
                if self.entries[idx as usize].deadline <= now_t {
                    out.push(self.release(idx));
                } else {
                    self.file(idx);
                }
            }
            // Entries re-filed as due (deadline == elapsed) fire now too.
            for idx in std::mem::take(&mut self.due) {
                out.push(self.release(idx));
            }
        }
        self.elapsed = self.elapsed.max(now_t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn fires_at_deadline_not_before() {
        let t0 = Instant::now();
        let mut w = TimerWheel::new(t0);
        w.insert(t0 + ms(10), "a");
        w.insert(t0 + ms(5), "b");
        let mut out = Vec::new();
        w.poll(t0 + ms(4), &mut out);
        assert!(out.is_empty());
        w.poll(t0 + ms(5), &mut out);
        assert_eq!(out, vec!["b"]);
        w.poll(t0 + ms(9), &mut out);
        assert_eq!(out, vec!["b"]);
        w.poll(t0 + ms(10), &mut out);
        assert_eq!(out, vec!["b", "a"]);
        assert!(w.is_empty());
    }

    #[test]
    fn sub_tick_deadlines_round_up() {
        let t0 = Instant::now();
        let mut w = TimerWheel::new(t0);
        w.insert(t0 + Duration::from_micros(1500), 1);
        let mut out = Vec::new();
        w.poll(t0 + Duration::from_micros(1999), &mut out);
        assert!(out.is_empty(), "1.5 ms must not fire at 1.999 ms");
        w.poll(t0 + ms(2), &mut out);
        assert_eq!(out, vec![1]);
    }

    #[test]
    fn past_deadlines_fire_on_next_poll() {
        let t0 = Instant::now();
        let mut w = TimerWheel::new(t0);
        let mut out = Vec::new();
        w.poll(t0 + ms(100), &mut out);
        w.insert(t0 + ms(50), 7);
        assert_eq!(w.next_deadline(), Some(t0 + ms(100)));
        w.poll(t0 + ms(100), &mut out);
        assert_eq!(out, vec![7]);
    }

    #[test]
    fn far_timers_cascade_and_idle_gaps_are_cheap() {
        let t0 = Instant::now();
        let mut w = TimerWheel::new(t0);
        let hour = 3_600_000;
        w.insert(t0 + ms(hour), "hour");
        w.insert(t0 + ms(70_000), "70s");
        let mut out = Vec::new();
        w.poll(t0 + ms(69_999), &mut out);
        assert!(out.is_empty());
        assert!(w.next_deadline().is_some_and(|d| d <= t0 + ms(70_000)));
        w.poll(t0 + ms(70_000), &mut out);
        assert_eq!(out, vec!["70s"]);
        w.poll(t0 + ms(hour - 1), &mut out);
        assert_eq!(out.len(), 1);
        w.poll(t0 + ms(hour), &mut out);
        assert_eq!(out, vec!["70s", "hour"]);
    }

    #[test]
    fn cancel_removes_and_stale_keys_do_nothing() {
        let t0 = Instant::now();
        let mut w = TimerWheel::new(t0);
        let a = w.insert(t0 + ms(10), 'a');
        let b = w.insert(t0 + ms(10), 'b');
        assert_eq!(w.cancel(a), Some('a'));
        assert_eq!(w.cancel(a), None);
        let c = w.insert(t0 + ms(10), 'c'); // reuses a's entry
        assert_eq!(w.cancel(a), None, "stale key must not cancel the reuse");
        let mut out = Vec::new();
        w.poll(t0 + ms(10), &mut out);
        out.sort();
        assert_eq!(out, vec!['b', 'c']);
        assert_eq!(w.cancel(b), None, "fired timers cannot be cancelled");
        assert_eq!(w.cancel(c), None);
        assert!(w.is_empty());
    }

    #[test]
    fn arming_and_disarming_leaves_nothing_behind() {
        let t0 = Instant::now();
        let mut w = TimerWheel::new(t0);
        for _ in 0..10_000 {
            let k = w.insert(t0 + ms(5_000), ());
            w.cancel(k);
        }
        assert!(w.is_empty());
        let stored: usize = w
            .levels
            .iter()
            .flat_map(|l| l.slots.iter())
            .map(Vec::len)
            .sum();
        assert_eq!(stored, 0);
        assert_eq!(w.entries.len(), 1, "the one entry is reused");
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u64),
        Cancel(usize),
        Advance(u64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u64..300_000).prop_map(Op::Insert),
            (0u64..200).prop_map(Op::Insert),
            (0usize..64).prop_map(Op::Cancel),
            (0u64..5_000).prop_map(Op::Advance),
            (0u64..200_000).prop_map(Op::Advance),
        ]
    }

    proptest! {
        /// Against a model: every armed, uncancelled timer fires exactly
        /// once, at the first poll at or after its deadline, never before;
        /// a cancelled one never fires.
        #[test]
        fn matches_model(ops in proptest::collection::vec(op(), 1..200)) {
            let t0 = Instant::now();
            let mut w = TimerWheel::new(t0);
            let mut now = 0u64;
            let mut keys: Vec<(TimerKey, u64, usize)> = Vec::new();
            let mut live: std::collections::BTreeMap<usize, u64> = Default::default();
            let mut fired = std::collections::HashSet::new();
            let mut next_id = 0usize;
            for op in ops {
                match op {
                    Op::Insert(delay) => {
                        let k = w.insert(t0 + ms(now + delay), next_id);
                        keys.push((k, now + delay, next_id));
                        live.insert(next_id, now + delay);
                        next_id += 1;
                    }
                    Op::Cancel(i) => {
                        if let Some(&(k, _, id)) = keys.get(i) {
                            let was_live = live.remove(&id).is_some();
                            prop_assert_eq!(w.cancel(k).is_some(), was_live);
                        }
                    }
                    Op::Advance(d) => {
                        now += d;
                        let mut out = Vec::new();
                        w.poll(t0 + ms(now), &mut out);
                        for id in out {
                            let dl = live.remove(&id);
                            prop_assert!(dl.is_some(), "fired twice or after cancel");
                            prop_assert!(dl.unwrap_or(u64::MAX) <= now, "fired early");
                            prop_assert!(fired.insert(id));
                        }
                        for (&id, &dl) in &live {
                            prop_assert!(dl > now, "timer {} due at {} missed at {}", id, dl, now);
                        }
                        if let Some(next) = w.next_deadline() {
                            let earliest = live.values().min().copied();
                            if let Some(e) = earliest {
                                prop_assert!(next <= t0 + ms(e));
                            }
                        }
                    }
                }
                prop_assert_eq!(w.len(), live.len());
            }
        }
    }
}
