//! A process's mailbox with Erlang-style selective receive.
//!
//! Messages are kept in arrival order. A receive scans from the oldest
//! message for the first one its pattern accepts and removes only that one;
//! the messages it skipped stay, in order, for later receives. When nothing
//! matches, the mailbox remembers how far the scan got (`scan`), so when the
//! process wakes for a new message the same receive resumes there instead of
//! re-testing every message it already rejected. The saved position is
//! forgotten when a receive completes (a match or a timeout), because the
//! next receive may have a different pattern.
//!
//! Invariant used by the scheduler: a process may sleep only when
//! `has_unscanned()` is false, i.e. its current receive has seen every
//! message. So a message that arrives while a process runs (sent to itself,
//! say) can never be slept through.

use std::collections::VecDeque;

use crate::term::Term;

#[derive(Debug, Default)]
pub(crate) struct Mailbox {
    queue: VecDeque<Term>,
    scan: usize,
}

impl Mailbox {
    pub(crate) fn push(&mut self, msg: Term) {
        self.queue.push_back(msg);
    }

    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    /// `take_matching` with a pattern that accepts anything: the oldest
    /// message at or after the saved scan position. The common receive of
    /// actor loops, kept apart so it compiles to a plain pop.
    #[inline]
    pub(crate) fn take_oldest(&mut self) -> Option<Term> {
        if self.scan == 0 {
            return self.queue.pop_front();
        }
        if self.scan < self.queue.len() {
            let m = self.queue.remove(self.scan);
            self.scan = 0;
            return m;
        }
        None
    }

    /// Remove and return the first message at or after the saved scan
    /// position that `pred` accepts. On a miss, the position moves to the
    /// end so the next call only looks at messages that arrived since.
    pub(crate) fn take_matching(&mut self, mut pred: impl FnMut(&Term) -> bool) -> Option<Term> {
        // Fast path: a receive that takes the oldest message.
        if self.scan == 0 {
            if let Some(front) = self.queue.front() {
                if pred(front) {
                    return self.queue.pop_front();
                }
            } else {
                return None;
            }
            self.scan = 1;
        }
        let mut i = self.scan;
        while i < self.queue.len() {
            if pred(&self.queue[i]) {
                self.scan = 0;
                return self.queue.remove(i);
            }
            i += 1;
        }
        self.scan = self.queue.len();
        None
    }

    /// Remove the first message `pred` accepts, wherever it is, keeping the
    /// saved scan position pointing at the same next message.
    pub(crate) fn remove_first(&mut self, pred: impl FnMut(&Term) -> bool) -> Option<Term> {
        let i = self.queue.iter().position(pred)?;
        if i < self.scan {
            self.scan -= 1;
        }
        self.queue.remove(i)
    }

    /// Forget the saved scan position: the current receive is over.
    pub(crate) fn end_receive(&mut self) {
        self.scan = 0;
    }

    /// Messages the current receive has not looked at yet.
    pub(crate) fn has_unscanned(&self) -> bool {
        self.scan < self.queue.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ints(m: &Mailbox) -> Vec<i64> {
        m.queue.iter().filter_map(Term::as_int).collect()
    }

    #[test]
    fn take_oldest_resumes_from_the_saved_position() {
        let mut m = Mailbox::default();
        for i in 1..=3 {
            m.push(Term::Int(i));
        }
        assert_eq!(m.take_oldest(), Some(Term::Int(1)));
        // A selective receive that misses saves the position at the end...
        assert_eq!(m.take_matching(|t| *t == Term::Int(9)), None);
        assert_eq!(m.take_oldest(), None, "nothing new since the miss");
        // ...and the next arrival is what the same receive sees next.
        m.push(Term::Int(4));
        assert_eq!(m.take_oldest(), Some(Term::Int(4)));
        assert_eq!(ints(&m), vec![2, 3]);
        assert_eq!(m.take_oldest(), Some(Term::Int(2)), "position reset");
    }

    #[test]
    fn takes_first_match_and_keeps_the_rest_in_order() {
        let mut m = Mailbox::default();
        for i in 1..=5 {
            m.push(Term::Int(i));
        }
        let got = m.take_matching(|t| t.as_int().is_some_and(|i| i % 2 == 0));
        assert_eq!(got, Some(Term::Int(2)));
        assert_eq!(ints(&m), vec![1, 3, 4, 5]);
        assert!(m.has_unscanned());
    }

    #[test]
    fn a_miss_saves_the_position_and_new_messages_are_scanned() {
        let mut m = Mailbox::default();
        m.push(Term::Int(1));
        m.push(Term::Int(3));
        let mut seen = Vec::new();
        let miss = m.take_matching(|t| {
            seen.push(t.as_int());
            t.as_int() == Some(4)
        });
        assert_eq!(miss, None);
        assert!(!m.has_unscanned());
        m.push(Term::Int(4));
        assert!(m.has_unscanned());
        seen.clear();
        let hit = m.take_matching(|t| {
            seen.push(t.as_int());
            t.as_int() == Some(4)
        });
        assert_eq!(hit, Some(Term::Int(4)));
        assert_eq!(seen, vec![Some(4)], "only the new message was tested");
        assert_eq!(ints(&m), vec![1, 3]);
    }

    #[test]
    fn end_receive_rescans_from_the_start() {
        let mut m = Mailbox::default();
        m.push(Term::Int(1));
        assert_eq!(m.take_matching(|_| false), None);
        m.end_receive();
        assert_eq!(m.take_matching(|_| true), Some(Term::Int(1)));
    }

    proptest! {
        /// Any sequence of selective receives removes exactly the matched
        /// messages, returns them in the order a front-to-back scan finds
        /// them, and leaves the unmatched ones in arrival order.
        #[test]
        fn selective_receive_preserves_order(
            msgs in proptest::collection::vec(0i64..10, 0..60),
            wanted in proptest::collection::vec(0i64..10, 0..30),
        ) {
            let mut m = Mailbox::default();
            let mut model: Vec<i64> = Vec::new();
            for &x in &msgs { m.push(Term::Int(x)); model.push(x); }
            for &w in &wanted {
                let got = m.take_matching(|t| t.as_int() == Some(w));
                let expect = model.iter().position(|&x| x == w).map(|i| model.remove(i));
                prop_assert_eq!(got.and_then(|t| t.as_int()), expect);
                m.end_receive();
                prop_assert_eq!(ints(&m), model.clone());
            }
        }

        /// Interleaving arrivals with missed receives (which save the scan
        /// position) never skips a message: the first arrival that matches
        /// is the one returned.
        #[test]
        fn saved_position_never_skips_arrivals(
            batches in proptest::collection::vec(proptest::collection::vec(0i64..5, 0..5), 1..10),
            target in 0i64..5,
        ) {
            let mut m = Mailbox::default();
            let mut all = Vec::new();
            for b in &batches {
                for &x in b { m.push(Term::Int(x)); all.push(x); }
                if let Some(t) = m.take_matching(|t| t.as_int() == Some(target)) {
                    let first = all.iter().position(|&x| x == target);
                    prop_assert!(first.is_some());
                    prop_assert_eq!(t.as_int(), Some(target));
                    if let Some(i) = first { all.remove(i); }
                    m.end_receive();
                }
                prop_assert!(!m.has_unscanned() || m.scan == 0);
            }
            prop_assert_eq!(ints(&m), all);
        }
    }
}
