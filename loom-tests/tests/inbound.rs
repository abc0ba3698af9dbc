//! The inbound queue and its wake-up protocol (`mesh_core::inbound`).
//!
//! Properties checked over every interleaving loom explores:
//! * no lost wake-up: a consumer that parks whenever it finds the queue
//!   empty always wakes up for every push (otherwise loom reports a
//!   deadlock: every thread blocked);
//! * no message lost or duplicated, and each producer's items arrive in the
//!   order it pushed them.
#![cfg(loom)]

use loom::sync::Arc;
use loom::thread;
use mesh_core::inbound::Inbound;

/// Consume until `total` items arrived, parking whenever the queue is empty.
fn consume(q: &Inbound<(u8, u8)>, total: usize) -> Vec<(u8, u8)> {
    let mut got = Vec::new();
    while got.len() < total {
        if q.drain(&mut got) == 0 {
            q.park(None, || false);
        }
    }
    got
}

fn check(got: &[(u8, u8)], producers: u8, per: u8) {
    assert_eq!(got.len(), usize::from(producers) * usize::from(per));
    for p in 0..producers {
        let mine: Vec<u8> = got
            .iter()
            .filter(|(q, _)| *q == p)
            .map(|&(_, i)| i)
            .collect();
        assert_eq!(mine, (0..per).collect::<Vec<_>>(), "producer {p} order");
    }
}

#[test]
fn one_producer_two_items_no_lost_wakeup() {
    loom::model(|| {
        let q = Arc::new(Inbound::new());
        let p = {
            let q = Arc::clone(&q);
            thread::spawn(move || {
                q.push((0, 0));
                q.push((0, 1));
            })
        };
        let got = consume(&q, 2);
        p.join().expect("producer");
        check(&got, 1, 2);
    });
}

#[test]
fn two_producers_no_loss_no_duplication() {
    loom::model(|| {
        let q = Arc::new(Inbound::new());
        let producers: Vec<_> = (0..2u8)
            .map(|p| {
                let q = Arc::clone(&q);
                thread::spawn(move || q.push((p, 0)))
            })
            .collect();
        let got = consume(&q, 2);
        for p in producers {
            p.join().expect("producer");
        }
        check(&got, 2, 1);
    });
}

#[test]
fn explicit_unpark_before_park_is_not_lost() {
    // Shutdown and I/O sources wake a scheduler with `unpark` after setting
    // their own flag; the flag is re-checked after announcing the sleep.
    loom::model(|| {
        let q: Arc<Inbound<u8>> = Arc::new(Inbound::new());
        let flag = Arc::new(loom::sync::atomic::AtomicBool::new(false));
        let waker = {
            let q = Arc::clone(&q);
            let flag = Arc::clone(&flag);
            thread::spawn(move || {
                flag.store(true, loom::sync::atomic::Ordering::SeqCst);
                q.unpark();
            })
        };
        while !flag.load(loom::sync::atomic::Ordering::SeqCst) {
            q.park(None, || flag.load(loom::sync::atomic::Ordering::SeqCst));
        }
        waker.join().expect("waker");
    });
}
