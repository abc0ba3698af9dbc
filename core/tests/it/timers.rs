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
