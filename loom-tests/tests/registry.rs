//! The local registry's release-on-exit protocol (`mesh_core::registry`).
//!
//! A registrar on one core registers a name for a process owned by another
//! core while that process exits. The owner handles, in queue order, the
//! exit and the `NameAdded` signal. Whatever the interleaving, once the
//! owner has handled both, the name must be gone, and a lookup in between
//! sees either nothing or the (possibly dead) pid, never another one.
#![cfg(loom)]

use loom::sync::Arc;
use loom::thread;
use mesh_core::inbound::Inbound;
use mesh_core::registry::SharedRegistry;
use mesh_core::{NodeId, Pid};

#[test]
fn a_name_never_outlives_its_process() {
    loom::model(|| {
        let reg = Arc::new(SharedRegistry::new());
        let inbound: Arc<Inbound<(std::sync::Arc<str>, Pid)>> = Arc::new(Inbound::new());
        let pid = Pid::from_parts(NodeId::LOCAL, 1, 0, 0);

        let registrar = {
            let reg = Arc::clone(&reg);
            let inbound = Arc::clone(&inbound);
            thread::spawn(move || {
                if let Ok(name) = reg.register("svc", pid) {
                    inbound.push((name, pid));
                }
            })
        };

        // The owner scheduler: the process exits (dropping its name if it
        // was marked), then every queued NameAdded is handled.
        let mut has_name = false;
        let mut alive = true;
        let mut handled = 0;
        let mut queued = Vec::new();
        // Handle whatever NameAdded is already queued while still alive.
        inbound.drain(&mut queued);
        for (name, p) in queued.drain(..) {
            reg.name_added(&name, p, alive.then_some(&mut has_name));
            handled += 1;
        }
        if let Some(seen) = reg.whereis("svc") {
            assert_eq!(seen, pid);
        }
        // Exit.
        alive = false;
        reg.process_exited(pid, has_name);
        registrar.join().expect("registrar");
        inbound.drain(&mut queued);
        for (name, p) in queued.drain(..) {
            reg.name_added(&name, p, alive.then_some(&mut has_name));
            handled += 1;
        }
        assert_eq!(handled, 1, "the registration succeeded exactly once");
        assert_eq!(reg.whereis("svc"), None, "name outlived its process");
    });
}

#[test]
fn concurrent_registration_of_one_name_has_one_winner() {
    loom::model(|| {
        let reg = Arc::new(SharedRegistry::new());
        let a = Pid::from_parts(NodeId::LOCAL, 0, 1, 0);
        let b = Pid::from_parts(NodeId::LOCAL, 1, 1, 0);
        let t = {
            let reg = Arc::clone(&reg);
            thread::spawn(move || reg.register("db", a).is_ok())
        };
        let b_won = reg.register("db", b).is_ok();
        let a_won = t.join().expect("thread");
        assert!(a_won ^ b_won, "exactly one registration wins");
        let owner = reg.whereis("db");
        assert_eq!(owner, Some(if a_won { a } else { b }));
    });
}
