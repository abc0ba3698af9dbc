//! A scheduler's inbound queue and the wake-up protocol around it.
//!
//! Other cores (and non-scheduler threads) reach a scheduler only through
//! this queue. It is a multi-producer, single-consumer intrusive stack:
//!
//! * `push` links one node onto `head` with a CAS loop (lock-free);
//! * `drain`, called only by the owning scheduler, takes the whole stack
//!   with one `swap(null)` and reverses it, yielding every item in push
//!   order. Because the consumer never pops a single node, there is no ABA
//!   problem and no node is freed while a producer can still see it: a
//!   producer only ever reads `head` to use as its own node's `next`.
//!
//! Producers batch on their side (a scheduler sends one node per destination
//! per run slice, holding all of that slice's envelopes), so the atomic cost
//! is paid per batch, not per message.
//!
//! # Wake-up protocol (no lost wake-ups)
//!
//! The "consumer is asleep" flag lives in the same word as the queue head,
//! so the whole protocol is ordered by one atomic's modification order and
//! needs nothing stronger than acquire/release (a two-variable Dekker
//! handshake would need `SeqCst` store→load ordering, which is both more
//! expensive and not something loom can check). `head` is one of:
//!
//! * null: empty, consumer awake;
//! * `SLEEPING` (the address 1, never a node because nodes are aligned):
//!   empty, consumer parked or about to park;
//! * a node pointer: items queued, consumer awake.
//!
//! The consumer parks by CASing `null → SLEEPING`; if the CAS fails an item
//! arrived and it does not sleep. A producer that CASes `SLEEPING → node`
//! has taken the flag and must wake the consumer: it sets the sticky
//! `notified` token under the mutex and signals the condition variable. The
//! token makes a wake that lands between the consumer's CAS and its wait
//! impossible to lose. After waking (signal, timeout or explicit `unpark`)
//! the consumer CASes `SLEEPING → null`; if that fails a producer already
//! replaced the flag, and its token merely makes the next park return at
//! once. `loom-tests/` checks this exhaustively.

use std::marker::PhantomData;
use std::ptr;
use std::time::Instant;

use crate::sync::{AtomicPtr, Condvar, Mutex, Ordering, lock};

struct Node<T> {
    next: *mut Node<T>,
    value: T,
}

/// The "consumer parked" marker stored in `head` in place of a node.
fn sleeping<T>() -> *mut Node<T> {
    ptr::without_provenance_mut(1)
}

/// The inbound queue of one scheduler, with its parking spot.
pub struct Inbound<T> {
    head: AtomicPtr<Node<T>>,
    notified: Mutex<bool>,
    cv: Condvar,
    _owns: PhantomData<Box<Node<T>>>,
}

// SAFETY: `Inbound` owns the `T`s it holds (through raw node pointers) and
// hands each one to exactly one consumer, so it is `Send`/`Sync` whenever
// `T` can be sent between threads. All shared state is atomic or behind the
// mutex.
unsafe impl<T: Send> Send for Inbound<T> {}
// SAFETY: see above; `&Inbound` only allows pushes (moving a `T` in) and
// drains (moving `T`s out), never shared access to a `T`.
unsafe impl<T: Send> Sync for Inbound<T> {}

impl<T> std::fmt::Debug for Inbound<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbound")
            .field("empty", &self.is_empty())
            .field("sleeping", &self.is_sleeping())
            .finish()
    }
}

impl<T> Default for Inbound<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Inbound<T> {
    pub fn new() -> Inbound<T> {
        Inbound {
            head: AtomicPtr::new(ptr::null_mut()),
            notified: Mutex::new(false),
            cv: Condvar::new(),
            _owns: PhantomData,
        }
    }

    /// Enqueue `value` and wake the consumer if it is parked. Callable from
    /// any thread.
    pub fn push(&self, value: T) {
        let node = Box::into_raw(Box::new(Node {
            next: ptr::null_mut(),
            value,
        }));
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            let next = if head == sleeping() {
                ptr::null_mut()
            } else {
                head
            };
            // SAFETY: `node` came from `Box::into_raw` above and is not yet
            // visible to any other thread, so we have exclusive access.
            unsafe { (*node).next = next };
            match self
                .head
                .compare_exchange_weak(head, node, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(actual) => head = actual,
            }
        }
        if head == sleeping() {
            // We took the consumer's sleeping flag: we owe it a wake-up.
            self.unpark();
        }
    }

    /// True if nothing is queued. A hint for producers and spinners; the
    /// park protocol does its own check.
    pub fn is_empty(&self) -> bool {
        let h = self.head.load(Ordering::Acquire);
        h.is_null() || h == sleeping()
    }

    /// Move everything queued into `out`, oldest first. Returns how many
    /// items were moved. Only the owning scheduler may call this.
    pub fn drain(&self, out: &mut Vec<T>) -> usize {
        if self.is_empty() {
            return 0;
        }
        let mut p = self.head.swap(ptr::null_mut(), Ordering::Acquire);
        if p == sleeping() {
            // Only the consumer sets the flag and it is not parked while it
            // drains; nothing to take either way.
            return 0;
        }
        let start = out.len();
        while !p.is_null() {
            // SAFETY: every node pointer reachable from `head` was made by
            // `Box::into_raw` in `push` and published with a release CAS
            // that our acquire swap synchronises with. The swap detached the
            // whole chain, so no other thread can reach these nodes and we
            // own each one exactly once. Chains never contain the sleeping
            // marker: `push` links a node to null in its place.
            let node = unsafe { Box::from_raw(p) };
            p = node.next;
            out.push(node.value);
        }
        out[start..].reverse();
        out.len() - start
    }

    /// Park the calling (consumer) thread until a push, an `unpark`, or
    /// `deadline`. Returns at once if something is already queued or
    /// `wake_now()` holds (checked after announcing the sleep, so a
    /// condition set by another thread before its own `unpark` is seen).
    pub fn park(&self, deadline: Option<Instant>, wake_now: impl Fn() -> bool) {
        if self
            .head
            .compare_exchange(
                ptr::null_mut(),
                sleeping(),
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_err()
        {
            return; // something is queued
        }
        if !wake_now() {
            let mut notified = lock(&self.notified);
            while !*notified {
                match deadline {
                    None => {
                        notified = match self.cv.wait(notified) {
                            Ok(g) => g,
                            Err(p) => p.into_inner(),
                        };
                    }
                    Some(d) => {
                        let now = Instant::now();
                        if now >= d {
                            break;
                        }
                        notified = match self.cv.wait_timeout(notified, d - now) {
                            Ok((g, _)) => g,
                            Err(p) => p.into_inner().0,
                        };
                    }
                }
            }
            *notified = false;
        }
        // Take the flag back. If a producer already replaced it with a
        // node, that producer has sent (or is sending) a wake-up token; it
        // only makes a later park return early.
        let _ = self.head.compare_exchange(
            sleeping(),
            ptr::null_mut(),
            Ordering::AcqRel,
            Ordering::Acquire,
        );
    }

    /// Wake the consumer if it is parked (or make its next park return at
    /// once). Used for shutdown and by I/O sources.
    pub fn unpark(&self) {
        let mut n = lock(&self.notified);
        *n = true;
        drop(n);
        self.cv.notify_one();
    }

    /// Whether the consumer has announced that it is going to sleep.
    pub fn is_sleeping(&self) -> bool {
        self.head.load(Ordering::Acquire) == sleeping()
    }
}

impl<T> Drop for Inbound<T> {
    fn drop(&mut self) {
        let mut p = self.head.swap(ptr::null_mut(), Ordering::Acquire);
        if p == sleeping() {
            return;
        }
        while !p.is_null() {
            // SAFETY: as in `drain`; `&mut self` means no producer is left.
            let node = unsafe { Box::from_raw(p) };
            p = node.next;
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn drains_in_push_order() {
        let q = Inbound::new();
        for i in 0..10 {
            q.push(i);
        }
        let mut out = Vec::new();
        assert_eq!(q.drain(&mut out), 10);
        assert_eq!(out, (0..10).collect::<Vec<_>>());
        assert!(q.is_empty());
        assert_eq!(q.drain(&mut out), 0);
    }

    #[test]
    fn per_producer_order_survives_concurrency() {
        let q = Arc::new(Inbound::new());
        let producers: Vec<_> = (0..4u64)
            .map(|p| {
                let q = Arc::clone(&q);
                std::thread::spawn(move || {
                    for i in 0..10_000u64 {
                        q.push((p, i));
                    }
                })
            })
            .collect();
        let mut got = Vec::new();
        while got.len() < 40_000 {
            q.drain(&mut got);
            std::hint::spin_loop();
        }
        for t in producers {
            t.join().expect("producer");
        }
        let mut next = [0u64; 4];
        for (p, i) in got {
            assert_eq!(next[p as usize], i, "producer {p} out of order");
            next[p as usize] += 1;
        }
        assert_eq!(next, [10_000; 4]);
    }

    #[test]
    fn park_returns_on_push_and_on_deadline() {
        let q = Arc::new(Inbound::new());
        let q2 = Arc::clone(&q);
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            q2.push(1u8);
        });
        q.park(None, || false);
        let mut out = Vec::new();
        q.drain(&mut out);
        assert_eq!(out, vec![1]);
        t.join().expect("pusher");

        let before = Instant::now();
        q.park(Some(before + Duration::from_millis(10)), || false);
        assert!(before.elapsed() >= Duration::from_millis(10));
        assert!(!q.is_sleeping());
    }

    #[test]
    fn drop_frees_undrained_items() {
        let item = Arc::new(());
        let q = Inbound::new();
        q.push(Arc::clone(&item));
        q.push(Arc::clone(&item));
        drop(q);
        assert_eq!(Arc::strong_count(&item), 1);
    }
}
