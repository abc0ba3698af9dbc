//! The global registry's read view (`mesh_core::dist::global_view`), read
//! by scheduler threads while the control plane applies remote updates.
//!
//! The writer applies, in order: a peer's registration of `a` (p1), then a
//! snapshot from that peer (`a` moved to p2, `b` = p3), then the removal
//! of `a`. Readers must only ever see states from that sequence, in that
//! order: never a half-applied snapshot (`b` without `a` = p2 before the
//! removal), never an older state after a newer one.
#![cfg(loom)]

use std::collections::HashMap;

use loom::sync::Arc;
use loom::thread;
use mesh_core::dist::global_view::GlobalView;
use mesh_core::{NodeId, Pid};

fn pid(slot: u32) -> Pid {
    Pid::from_parts(NodeId(1), 0, slot, 1)
}

/// Which step of the writer's sequence a (a, b) observation belongs to.
fn step(a: Option<Pid>, b: Option<Pid>) -> usize {
    match (a, b) {
        (None, None) => 0,
        (Some(x), None) if x == pid(1) => 1,
        (Some(x), Some(y)) if x == pid(2) && y == pid(3) => 2,
        (None, Some(y)) if y == pid(3) => 3,
        other => panic!("a reader saw a state the writer never made: {other:?}"),
    }
}

#[test]
fn readers_see_whole_updates_in_order() {
    loom::model(|| {
        let view = Arc::new(GlobalView::new());
        let writer = {
            let view = Arc::clone(&view);
            thread::spawn(move || {
                view.set("a", Some(pid(1)));
                view.replace(HashMap::from([
                    (std::sync::Arc::from("a"), pid(2)),
                    (std::sync::Arc::from("b"), pid(3)),
                ]));
                view.set("a", None);
            })
        };
        let reader = {
            let view = Arc::clone(&view);
            thread::spawn(move || {
                let mut last = 0;
                for _ in 0..2 {
                    // One consistent observation: both names from a copy.
                    let entries = view.entries();
                    let get = |n: &str| entries.iter().find(|(k, _)| &**k == n).map(|(_, p)| *p);
                    let s = step(get("a"), get("b"));
                    assert!(s >= last, "went back from step {last} to {s}");
                    last = s;
                }
            })
        };
        // A point reader on the scheduler side.
        let a = view.whereis("a");
        assert!(a.is_none() || a == Some(pid(1)) || a == Some(pid(2)));
        writer.join().expect("writer");
        reader.join().expect("reader");
        assert_eq!(view.whereis("a"), None);
        assert_eq!(view.whereis("b"), Some(pid(3)));
    });
}
