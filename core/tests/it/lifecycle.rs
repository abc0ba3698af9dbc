//! Runtime lifecycle: start, spawn placement, wait, shutdown, panics.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mesh_core::{
    Config, Flow, HandleError, Placement, Runtime, Step, Term, WaitOutcome, actor_fn, process_fn,
    reason,
};

use crate::harness::{Harness, WAIT, atom};

#[test]
fn wait_returns_idle_when_every_process_has_exited() {
    let rt = Runtime::start(Config::default().with_schedulers(2)).expect("runtime");
    let done = Arc::new(AtomicUsize::new(0));
    let d = Arc::clone(&done);
    rt.handle()
        .spawn(process_fn(move |cx| {
            for core in 0..4 {
                let d = Arc::clone(&d);
                cx.spawn_on(
                    core,
                    process_fn(move |_| {
                        d.fetch_add(1, Ordering::SeqCst);
                        Step::Exit(reason::normal())
                    }),
                );
            }
            Step::Exit(reason::normal())
        }))
        .expect("spawn");
    assert_eq!(rt.wait(Some(WAIT)), WaitOutcome::Idle);
    assert_eq!(done.load(Ordering::SeqCst), 4);
    assert_eq!(rt.handle().live_processes(), 0);
    rt.shutdown();
}

#[test]
fn wait_times_out_while_work_remains_and_shutdown_terminates_it() {
    struct DropCount(Arc<AtomicUsize>);
    impl Drop for DropCount {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let dropped = Arc::new(AtomicUsize::new(0));
    let rt = Runtime::start(Config::default().with_schedulers(2)).expect("runtime");
    for _ in 0..10 {
        let guard = DropCount(Arc::clone(&dropped));
        rt.handle()
            .spawn(actor_fn(move |_cx, _msg| {
                let _keep = &guard;
                Flow::Continue
            }))
            .expect("spawn");
    }
    assert_eq!(
        rt.wait(Some(Duration::from_millis(50))),
        WaitOutcome::TimedOut
    );
    let handle = rt.handle();
    rt.shutdown();
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        10,
        "every process's state dropped"
    );
    assert_eq!(
        handle.spawn(actor_fn(|_, _| Flow::Continue)),
        Err(HandleError::Stopped)
    );
}

#[test]
fn request_shutdown_ends_wait() {
    let rt = Runtime::start(Config::default().with_schedulers(1)).expect("runtime");
    rt.handle()
        .spawn(process_fn(|cx| {
            cx.handle().request_shutdown();
            Step::Wait
        }))
        .expect("spawn");
    assert_eq!(rt.wait(Some(WAIT)), WaitOutcome::ShutdownRequested);
}

#[test]
fn run_drives_a_root_process_to_completion() {
    let seen = Arc::new(AtomicUsize::new(0));
    let s = Arc::clone(&seen);
    let outcome = Runtime::run(
        Config::default().with_schedulers(2),
        process_fn(move |cx| {
            let s = Arc::clone(&s);
            let child = cx.spawn_on(
                1,
                actor_fn(move |_, m| {
                    s.fetch_add(m.as_int().unwrap_or(0) as usize, Ordering::SeqCst);
                    Flow::stop_normal()
                }),
            );
            cx.send(child, Term::Int(7));
            Step::Exit(reason::normal())
        }),
    )
    .expect("start");
    assert_eq!(outcome, WaitOutcome::Idle);
    assert_eq!(seen.load(Ordering::SeqCst), 7);
}

#[test]
fn a_panicking_process_does_not_take_its_scheduler_down() {
    let mut h = Harness::new(1);
    let w = h.agent(0);
    for i in 0..3 {
        let p = h.agent(0);
        h.watch(w, p);
        h.exec(p, move |_| panic!("failure {i}"));
        assert_eq!(h.exit_reason(w, p), reason::panic(&format!("failure {i}")));
    }
    // The same scheduler still runs processes.
    let q = h.agent(0);
    h.exec(q, move |cx| {
        cx.send(cx.pid(), atom("alive"));
        None
    });
    assert_eq!(h.expect_from(q), atom("alive"));
}

#[test]
fn spawn_placement() {
    let mut h = Harness::new(2);
    let a = h.agent(0);
    let placed: Vec<u16> = h.call(a, |cx| {
        let nop = || actor_fn(|_, _| Flow::stop_normal());
        let here = cx.spawn(nop());
        let on1 = cx.spawn_on(1, nop());
        let on3 = cx.spawn_on(3, nop()); // modulo the scheduler count
        let rr: Vec<u16> = (0..4)
            .map(|_| {
                let opts = mesh_core::SpawnOpts {
                    placement: Placement::RoundRobin,
                    ..Default::default()
                };
                cx.spawn_with(Box::new(nop()), opts).0.scheduler()
            })
            .collect();
        let mut v = vec![here.scheduler(), on1.scheduler(), on3.scheduler()];
        v.extend(rr);
        v
    });
    assert_eq!(&placed[..3], &[0, 1, 1]);
    let rr = &placed[3..];
    assert!(
        rr.contains(&0) && rr.contains(&1),
        "round robin spreads: {rr:?}"
    );
}

#[test]
fn many_cross_core_spawns_reuse_slots() {
    // Spawning on another core reserves slots there; after the processes
    // exit, those slots come back through the spare pool instead of the
    // table growing without bound.
    let rt = Runtime::start(Config::default().with_schedulers(2)).expect("runtime");
    let max_slot = Arc::new(AtomicUsize::new(0));
    for _round in 0..20 {
        let m = Arc::clone(&max_slot);
        rt.handle()
            .spawn_on(
                Placement::Core(0),
                Box::new(process_fn(move |cx| {
                    for _ in 0..100 {
                        let pid = cx.spawn_on(1, process_fn(|_| Step::Exit(reason::normal())));
                        m.fetch_max(pid.slot() as usize, Ordering::SeqCst);
                    }
                    Step::Exit(reason::normal())
                })),
            )
            .expect("spawn");
        assert_eq!(rt.wait(Some(WAIT)), WaitOutcome::Idle);
    }
    let max = max_slot.load(Ordering::SeqCst);
    assert!(max < 1000, "2000 short-lived spawns used slot index {max}");
}

#[test]
fn scheduler_count_comes_from_the_environment_with_clear_errors() {
    let c = Config::default().with_schedulers(3);
    let rt = Runtime::start(c).expect("runtime");
    assert_eq!(rt.handle().schedulers(), 3);
    drop(rt);
    let err = Runtime::start(Config::default().with_schedulers(0)).expect_err("zero");
    assert!(err.to_string().contains("from 1 to"), "{err}");
}

#[test]
fn shutdown_completes_while_processes_are_busy() {
    let rt = Runtime::start(Config::default().with_schedulers(2)).expect("runtime");
    // Two processes that are never idle: each message makes another.
    for _ in 0..2 {
        let pid = rt
            .handle()
            .spawn(actor_fn(|cx, msg| {
                cx.send(cx.pid(), msg);
                Flow::Continue
            }))
            .expect("spawn");
        rt.handle().send(pid, Term::Int(0)).expect("send");
    }
    std::thread::sleep(Duration::from_millis(50));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        rt.shutdown();
        let _ = tx.send(());
    });
    assert!(
        rx.recv_timeout(WAIT).is_ok(),
        "shutdown waited for busy processes to go idle"
    );
}
