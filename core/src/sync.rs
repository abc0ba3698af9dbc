//! The synchronisation facade.
//!
//! Every atomic, lock and `Arc` that takes part in a cross-core protocol of
//! the runtime (the inbound queues, the parker, the local registry, the
//! live-process count) is imported from here, never from `std` directly.
//! Under `--cfg loom` these names resolve to loom's model-checked versions,
//! so `loom-tests/` can explore every interleaving of the real code, as
//! tokio does with its `crate::loom` module.
//!
//! Process-global tables that are not part of a modelled protocol (the atom
//! table) use `std` on purpose: loom types may only live inside
//! `loom::model`, and a static cannot.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize};
#[cfg(loom)]
pub(crate) use loom::sync::{
    Arc, Condvar, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard,
};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize};
#[cfg(not(loom))]
pub(crate) use std::sync::{
    Arc, Condvar, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard,
};

pub(crate) use std::sync::atomic::Ordering;

/// Lock a mutex, recovering the data if another thread panicked while it
/// held the lock. Every structure guarded this way keeps its invariants
/// between statements (no multi-step updates left half done by a panic), so
/// the data is still consistent and a panicking process must not take the
/// node down with a poisoned lock.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}
