//! `send_after` and timer cancellation.

use std::time::{Duration, Instant};

use crate::harness::{Harness, atom};

#[test]
fn send_after_delivers_once_after_the_delay() {
    let mut h = Harness::new(2);
    let a = h.agent(0);
    let b = h.agent(1);
    let started = Instant::now();
    h.exec(a, move |cx| {
        cx.send_after(b, Duration::from_millis(30), atom("tick"));
        None
    });
    assert_eq!(h.expect_from(b), atom("tick"));
    assert!(
        started.elapsed() >= Duration::from_millis(30),
        "a timer must never fire early"
    );
    // Exactly once: a later ping is the next thing b sees.
    h.exec(a, move |cx| {
        cx.send_after(b, Duration::from_millis(40), atom("ping"));
        None
    });
    assert_eq!(h.expect_from(b), atom("ping"));
}

#[test]
fn cancelled_timers_never_fire() {
    let mut h = Harness::new(1);
    let a = h.agent(0);
    let (cancelled, cancelled_again) = h.call(a, |cx| {
        let me = cx.pid();
        let t = cx.send_after(me, Duration::from_millis(20), atom("cancelled"));
        let first = cx.cancel_timer(t);
        (first, cx.cancel_timer(t))
    });
    assert!(cancelled);
    assert!(!cancelled_again, "a timer is cancelled once");
    // A later timer on the same process fires, and nothing came before it.
    h.exec(a, |cx| {
        let me = cx.pid();
        cx.send_after(me, Duration::from_millis(60), atom("later"));
        None
    });
    assert_eq!(h.expect_from(a), atom("later"));
}

#[test]
fn a_fired_timer_cannot_be_cancelled() {
    let mut h = Harness::new(1);
    let a = h.agent(0);
    let t = h.call(a, |cx| {
        let me = cx.pid();
        cx.send_after(me, Duration::from_millis(1), atom("fired"))
    });
    assert_eq!(h.expect_from(a), atom("fired"));
    assert!(!h.call(a, move |cx| cx.cancel_timer(t)));
}

#[test]
fn timers_order_by_deadline() {
    let mut h = Harness::new(1);
    let a = h.agent(0);
    h.exec(a, |cx| {
        let me = cx.pid();
        cx.send_after(me, Duration::from_millis(50), atom("third"));
        cx.send_after(me, Duration::from_millis(10), atom("first"));
        cx.send_after(me, Duration::from_millis(30), atom("second"));
        None
    });
    let got: Vec<_> = (0..3).map(|_| h.expect_from(a)).collect();
    assert_eq!(got, vec![atom("first"), atom("second"), atom("third")]);
}

#[test]
fn an_abandoned_timed_receive_stops_waking_the_process() {
    use mesh_core::{Received, Step, process_fn};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let h = Harness::new(1);
    let resumes = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&resumes);
    let (tx, rx) = std::sync::mpsc::channel();
    let mut armed = false;
    let pid = h
        .handle()
        .spawn(process_fn(move |cx| {
            let n = counted.fetch_add(1, Ordering::SeqCst) + 1;
            if !armed {
                armed = true;
                // A timed receive for something that never comes...
                if let Received::Pending =
                    cx.receive(|t| *t == atom("never"), Some(Duration::from_millis(50)))
                {
                    return Step::Wait;
                }
            }
            // ...abandoned for an untimed receive of anything.
            while let Some(m) = cx.receive_any() {
                let _ = tx.send((m, n));
            }
            Step::Wait
        }))
        .expect("spawn");
    h.handle().send(pid, atom("go")).expect("send");
    let (msg, resumes_then) = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the message arrives");
    assert_eq!(msg, atom("go"));
    // Well past the abandoned deadline: the process must not have been
    // woken again (a stale timeout would wake it, or keep waking it).
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(resumes.load(Ordering::SeqCst), resumes_then);
}
