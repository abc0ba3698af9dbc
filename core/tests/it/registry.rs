//! The local name registry, through processes and the runtime handle.

use mesh_core::{RegisterError, reason};

use crate::harness::{Harness, atom};

#[test]
fn register_whereis_unregister_from_a_process() {
    let mut h = Harness::new(2);
    let a = h.agent(0);
    let b = h.agent(1);
    assert_eq!(h.call(a, move |cx| cx.register("alpha", a)), Ok(()));
    assert_eq!(h.call(b, |cx| cx.whereis("alpha")), Some(a));
    assert_eq!(h.handle().whereis("alpha"), Some(a));
    // Send by name.
    h.exec(b, |cx| {
        if let Some(p) = cx.whereis("alpha") {
            cx.send(p, atom("by_name"));
        }
        None
    });
    assert_eq!(h.expect_from(a), atom("by_name"));
    assert_eq!(h.call(b, |cx| cx.unregister("alpha")), Some(a));
    assert_eq!(h.handle().whereis("alpha"), None);
}

#[test]
fn a_taken_name_is_an_error() {
    let mut h = Harness::new(2);
    let a = h.agent(0);
    let b = h.agent(1);
    h.call(a, move |cx| cx.register("svc", a)).expect("free");
    let err = h.call(b, move |cx| cx.register("svc", b));
    assert_eq!(
        err,
        Err(RegisterError::NameTaken {
            name: "svc".into(),
            owner: a
        })
    );
    assert!(
        err.expect_err("taken")
            .to_string()
            .contains("already registered")
    );
    assert_eq!(h.handle().whereis("svc"), Some(a));
}

#[test]
fn a_name_is_released_when_its_process_exits() {
    for (owner_core, registrar_core) in [(0, 0), (1, 0)] {
        let mut h = Harness::new(2);
        let w = h.agent(0);
        let owner = h.agent(owner_core);
        let registrar = h.agent(registrar_core);
        h.watch(w, owner);
        // Registered by another process (possibly on another core).
        h.call(registrar, move |cx| cx.register("worker", owner))
            .expect("free");
        h.sync(owner);
        h.exec(owner, |_| Some(atom("crashed")));
        assert_eq!(h.exit_reason(w, owner), atom("crashed"));
        // The name is free again and can be taken by someone else.
        let mut freed = false;
        for _ in 0..1000 {
            if h.handle().whereis("worker").is_none() {
                freed = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        assert!(freed, "name still registered after its owner exited");
        let w2 = w;
        assert_eq!(h.call(w, move |cx| cx.register("worker", w2)), Ok(()));
    }
}

#[test]
fn registering_a_dead_process_on_this_core_fails() {
    let mut h = Harness::new(1);
    let w = h.agent(0);
    let dead = h.agent(0);
    h.watch(w, dead);
    h.exec(dead, |_| Some(reason::normal()));
    h.exit_reason(w, dead);
    assert_eq!(
        h.call(w, move |cx| cx.register("ghost", dead)),
        Err(RegisterError::NotAlive { pid: dead })
    );
}

#[test]
fn registration_racing_an_exit_is_cleaned_up() {
    // The handle registers a name for a process that is exiting at the same
    // moment on its own core; whichever order the two take, the name must
    // not outlive the process.
    for _ in 0..50 {
        let mut h = Harness::new(2);
        let w = h.agent(0);
        let p = h.agent(1);
        h.watch(w, p);
        h.exec(p, |_| Some(reason::normal()));
        let _ = h.handle().register("racy", p);
        h.exit_reason(w, p);
        // The NameAdded signal follows the exit on p's core; wait for it to
        // be handled by round-tripping a spawn on that core.
        let q = h.agent(1);
        h.sync(q);
        assert_eq!(h.handle().whereis("racy"), None);
    }
}
