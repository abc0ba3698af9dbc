//! The readable copy of the global registry.
//!
//! The replicated [`super::global::GlobalRegistry`] is a state machine the
//! node's control plane owns (under its lock, with claims, stamps and
//! clocks). Scheduler threads only ever ask "who is `name`?", and must not
//! wait for the control plane to finish applying a peer's snapshot: they
//! read this view, which the control plane updates after each change, one
//! name at a time or by swapping in a whole table. A reader sees each
//! update entirely or not at all, and never goes back in time: once it has
//! seen an update, it cannot see the state before it (checked by the loom
//! model in `loom-tests/tests/global_view.rs`).

use std::collections::HashMap;

use crate::pid::Pid;
use crate::sync::RwLock;

/// name -> pid, for reads from any thread.
#[derive(Debug, Default)]
pub struct GlobalView {
    map: RwLock<HashMap<std::sync::Arc<str>, Pid>>,
}

impl GlobalView {
    pub fn new() -> GlobalView {
        GlobalView::default()
    }

    fn read(&self) -> crate::sync::RwLockReadGuard<'_, HashMap<std::sync::Arc<str>, Pid>> {
        self.map.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> crate::sync::RwLockWriteGuard<'_, HashMap<std::sync::Arc<str>, Pid>> {
        self.map.write().unwrap_or_else(|p| p.into_inner())
    }

    pub fn whereis(&self, name: &str) -> Option<Pid> {
        self.read().get(name).copied()
    }

    /// Every (name, pid), sorted by name.
    pub fn entries(&self) -> Vec<(std::sync::Arc<str>, Pid)> {
        let mut v: Vec<_> = self
            .read()
            .iter()
            .map(|(n, p)| (std::sync::Arc::clone(n), *p))
            .collect();
        v.sort();
        v
    }

    /// Set or clear one name.
    pub fn set(&self, name: &str, pid: Option<Pid>) {
        let mut m = self.write();
        match pid {
            Some(p) => {
                m.insert(std::sync::Arc::from(name), p);
            }
            None => {
                m.remove(name);
            }
        }
    }

    /// Replace the whole table (after a snapshot or a node loss).
    pub fn replace(&self, table: HashMap<std::sync::Arc<str>, Pid>) {
        *self.write() = table;
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::pid::NodeId;

    #[test]
    fn set_replace_and_read() {
        let v = GlobalView::new();
        let p = Pid::from_parts(NodeId::LOCAL, 0, 1, 1);
        v.set("a", Some(p));
        assert_eq!(v.whereis("a"), Some(p));
        v.replace(HashMap::from([(std::sync::Arc::from("b"), p)]));
        assert_eq!(v.whereis("a"), None);
        assert_eq!(v.entries().len(), 1);
        v.set("b", None);
        assert!(v.entries().is_empty());
    }
}
