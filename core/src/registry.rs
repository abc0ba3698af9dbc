//! The node-local name registry: `register` / `whereis` / `unregister`.
//!
//! A plain table (no locks, no threads); the runtime keeps one behind a
//! facade mutex shared by all schedulers. A name maps to one pid and a pid
//! has at most one name, as in Erlang.
//!
//! # Release on exit
//!
//! A name must disappear when its process exits, even if the `register`
//! call ran on another core while the process was exiting. The protocol:
//!
//! 1. `register(name, pid)` inserts under the lock, then sends the owning
//!    scheduler a `NameAdded` signal for that pid.
//! 2. The owning scheduler handles `NameAdded` in order with everything else
//!    it does to that process: if the process is still alive it marks it
//!    "has a name"; if the process has already exited it removes the entry
//!    itself (`remove_if_owner`).
//! 3. A process marked "has a name" removes its entry (`remove_pid`) when it
//!    exits.
//!
//! Either the mark is set before the exit (step 3 cleans up) or the signal
//! arrives after it (step 2 cleans up), so no entry outlives its process for
//! longer than one signal delivery. During that window `whereis` may return
//! the dead pid, which is harmless: a send to a dead pid is a no-op.
//! `loom-tests/` models exactly this race.

use std::collections::HashMap;
use std::sync::Arc;

use crate::pid::Pid;
use crate::sync::{Mutex, lock};

/// Why a registration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegisterError {
    #[error("the name {name:?} is already registered to {owner}")]
    NameTaken { name: Arc<str>, owner: Pid },
    #[error("process {pid} is already registered as {name:?}")]
    AlreadyNamed { pid: Pid, name: Arc<str> },
    #[error("process {pid} is not alive")]
    NotAlive { pid: Pid },
    #[error("{pid} is not a process of this node")]
    NotLocal { pid: Pid },
    #[error("a registered name must not be empty")]
    EmptyName,
}

/// The table.
#[derive(Debug, Default)]
pub struct LocalRegistry {
    by_name: HashMap<Arc<str>, Pid>,
    by_pid: HashMap<Pid, Arc<str>>,
}

impl LocalRegistry {
    pub fn new() -> LocalRegistry {
        LocalRegistry::default()
    }

    pub fn register(&mut self, name: &str, pid: Pid) -> Result<Arc<str>, RegisterError> {
        if name.is_empty() {
            return Err(RegisterError::EmptyName);
        }
        if !pid.is_local() {
            return Err(RegisterError::NotLocal { pid });
        }
        if let Some((name, &owner)) = self.by_name.get_key_value(name) {
            return Err(RegisterError::NameTaken {
                name: Arc::clone(name),
                owner,
            });
        }
        if let Some(existing) = self.by_pid.get(&pid) {
            return Err(RegisterError::AlreadyNamed {
                pid,
                name: Arc::clone(existing),
            });
        }
        let name: Arc<str> = Arc::from(name);
        self.by_name.insert(Arc::clone(&name), pid);
        self.by_pid.insert(pid, Arc::clone(&name));
        Ok(name)
    }

    pub fn whereis(&self, name: &str) -> Option<Pid> {
        self.by_name.get(name).copied()
    }

    /// The name `pid` is registered under, if any.
    pub fn name_of(&self, pid: Pid) -> Option<Arc<str>> {
        self.by_pid.get(&pid).cloned()
    }

    /// Remove `name`; returns the pid it named.
    pub fn unregister(&mut self, name: &str) -> Option<Pid> {
        let pid = self.by_name.remove(name)?;
        self.by_pid.remove(&pid);
        Some(pid)
    }

    /// Remove whatever name `pid` holds (process exit).
    pub fn remove_pid(&mut self, pid: Pid) -> Option<Arc<str>> {
        let name = self.by_pid.remove(&pid)?;
        self.by_name.remove(&name);
        Some(name)
    }

    /// Remove `name` only if it still names `pid` (a registration that
    /// raced with the exit of its process).
    pub fn remove_if_owner(&mut self, name: &str, pid: Pid) -> bool {
        if self.by_name.get(name) == Some(&pid) {
            self.unregister(name);
            true
        } else {
            false
        }
    }

    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// Every (name, pid), sorted by name.
    pub fn entries(&self) -> Vec<(Arc<str>, Pid)> {
        let mut v: Vec<_> = self
            .by_name
            .iter()
            .map(|(n, p)| (Arc::clone(n), *p))
            .collect();
        v.sort();
        v
    }

    pub fn clear(&mut self) {
        self.by_name.clear();
        self.by_pid.clear();
    }
}

/// The node's registry as the schedulers share it: the table behind a
/// (facade) mutex, plus the two steps of the release-on-exit protocol
/// described above, so the scheduler and the loom model run the same code.
#[derive(Debug, Default)]
pub struct SharedRegistry {
    table: Mutex<LocalRegistry>,
}

impl SharedRegistry {
    pub fn new() -> SharedRegistry {
        SharedRegistry::default()
    }

    /// Step 1: insert. The caller must then deliver `NameAdded` for the
    /// returned name to the process's scheduler (unless it *is* that
    /// scheduler and the process is alive, in which case it marks the
    /// process directly).
    pub fn register(&self, name: &str, pid: Pid) -> Result<Arc<str>, RegisterError> {
        lock(&self.table).register(name, pid)
    }

    pub fn whereis(&self, name: &str) -> Option<Pid> {
        lock(&self.table).whereis(name)
    }

    pub fn unregister(&self, name: &str) -> Option<Pid> {
        lock(&self.table).unregister(name)
    }

    pub fn entries(&self) -> Vec<(Arc<str>, Pid)> {
        lock(&self.table).entries()
    }

    pub fn clear(&self) {
        lock(&self.table).clear()
    }

    /// Step 2, on the owning scheduler: `has_name` is the process's "has a
    /// name" mark if it is alive, `None` if it has exited.
    pub fn name_added(&self, name: &str, pid: Pid, has_name: Option<&mut bool>) {
        match has_name {
            Some(mark) => *mark = true,
            None => {
                lock(&self.table).remove_if_owner(name, pid);
            }
        }
    }

    /// Step 3, on the owning scheduler, after the process is marked dead.
    pub fn process_exited(&self, pid: Pid, has_name: bool) {
        if has_name {
            lock(&self.table).remove_pid(pid);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pid::NodeId;

    fn pid(n: u32) -> Pid {
        Pid::from_parts(NodeId::LOCAL, 0, n, 1)
    }

    #[test]
    fn register_whereis_unregister() {
        let mut r = LocalRegistry::new();
        r.register("db", pid(1)).expect("free name");
        assert_eq!(r.whereis("db"), Some(pid(1)));
        assert_eq!(r.name_of(pid(1)).as_deref(), Some("db"));
        assert_eq!(r.unregister("db"), Some(pid(1)));
        assert_eq!(r.whereis("db"), None);
        assert_eq!(r.unregister("db"), None);
        assert!(r.is_empty());
    }

    #[test]
    fn taken_name_and_second_name_are_errors() {
        let mut r = LocalRegistry::new();
        r.register("db", pid(1)).expect("free name");
        assert_eq!(
            r.register("db", pid(2)),
            Err(RegisterError::NameTaken {
                name: "db".into(),
                owner: pid(1)
            })
        );
        assert!(matches!(
            r.register("cache", pid(1)),
            Err(RegisterError::AlreadyNamed { .. })
        ));
        assert_eq!(r.register("", pid(3)), Err(RegisterError::EmptyName));
        let remote = pid(4).with_node(NodeId(3));
        assert_eq!(
            r.register("x", remote),
            Err(RegisterError::NotLocal { pid: remote })
        );
        assert_eq!(r.len(), 1);
    }

    #[test]
    fn exit_cleanup_paths() {
        let mut r = LocalRegistry::new();
        r.register("a", pid(1)).expect("free");
        r.register("b", pid(2)).expect("free");
        assert_eq!(r.remove_pid(pid(1)).as_deref(), Some("a"));
        assert_eq!(r.remove_pid(pid(1)), None);
        assert!(!r.remove_if_owner("b", pid(3)), "not the owner");
        assert!(r.remove_if_owner("b", pid(2)));
        assert!(r.is_empty());
    }
}
