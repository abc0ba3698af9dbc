//! Interned atoms.
//!
//! An [`Atom`] is a 4-byte index into a process-wide, append-only table of
//! names, so comparing and copying atoms is as cheap as comparing integers.
//! The table never shrinks: like Erlang's atom table it is meant for names
//! that appear in programs (`:nodedown`, struct and constructor names), not
//! for data a peer can make up without bound. Atom indices are local to one
//! OS process; on the wire an atom travels as its name.
//!
//! The table uses `std` locks directly (not the loom facade): it is a
//! `static`, outside every modelled protocol.

use std::collections::HashMap;
use std::fmt;
use std::sync::{OnceLock, RwLock};

/// An interned name. `Copy`, 4 bytes, compared by index.
#[derive(Copy, Clone, PartialEq, Eq, Hash)]
pub struct Atom(u32);

struct Table {
    by_name: HashMap<&'static str, u32>,
    names: Vec<&'static str>,
}

/// Atoms every runtime needs, interned at fixed indices so they can be
/// constants. The order here defines the indices.
const PREDEFINED: &[&str] = &[
    "normal",
    "kill",
    "killed",
    "noproc",
    "noconnection",
    "shutdown",
    "EXIT",
    "DOWN",
    "process",
    "panic",
    "timeout",
    "nodedown",
    "nodeup",
    "true",
    "false",
    "ok",
    "error",
    "undefined",
];

impl Atom {
    pub const NORMAL: Atom = Atom(0);
    pub const KILL: Atom = Atom(1);
    pub const KILLED: Atom = Atom(2);
    pub const NOPROC: Atom = Atom(3);
    pub const NOCONNECTION: Atom = Atom(4);
    pub const SHUTDOWN: Atom = Atom(5);
    pub const EXIT: Atom = Atom(6);
    pub const DOWN: Atom = Atom(7);
    pub const PROCESS: Atom = Atom(8);
    pub const PANIC: Atom = Atom(9);
    pub const TIMEOUT: Atom = Atom(10);
    pub const NODEDOWN: Atom = Atom(11);
    pub const NODEUP: Atom = Atom(12);
    pub const TRUE: Atom = Atom(13);
    pub const FALSE: Atom = Atom(14);
    pub const OK: Atom = Atom(15);
    pub const ERROR: Atom = Atom(16);
    pub const UNDEFINED: Atom = Atom(17);

    /// Intern `name`, returning the same atom for the same text every time.
    pub fn new(name: &str) -> Atom {
        let table = table();
        if let Some(&i) = read(table).by_name.get(name) {
            return Atom(i);
        }
        let mut t = match table.write() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if let Some(&i) = t.by_name.get(name) {
            return Atom(i);
        }
        let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
        let i = u32::try_from(t.names.len()).unwrap_or(u32::MAX);
        t.names.push(leaked);
        t.by_name.insert(leaked, i);
        Atom(i)
    }

    /// The atom's text.
    pub fn as_str(self) -> &'static str {
        read(table())
            .names
            .get(self.0 as usize)
            .copied()
            .unwrap_or("<bad atom>")
    }

    /// The table index, stable for the life of this OS process only.
    pub fn index(self) -> u32 {
        self.0
    }
}

fn table() -> &'static RwLock<Table> {
    static TABLE: OnceLock<RwLock<Table>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = Table {
            by_name: HashMap::new(),
            names: Vec::new(),
        };
        for (i, name) in PREDEFINED.iter().enumerate() {
            t.names.push(name);
            t.by_name.insert(name, i as u32);
        }
        RwLock::new(t)
    })
}

fn read(t: &RwLock<Table>) -> std::sync::RwLockReadGuard<'_, Table> {
    match t.read() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl fmt::Debug for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, ":{}", self.as_str())
    }
}

impl fmt::Display for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, ":{}", self.as_str())
    }
}

impl PartialOrd for Atom {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Atoms order by their text, so the order of terms does not depend on the
/// order in which names happened to be interned.
impl Ord for Atom {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        if self.0 == other.0 {
            return std::cmp::Ordering::Equal;
        }
        self.as_str().cmp(other.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predefined_atoms_have_their_names() {
        for (i, name) in PREDEFINED.iter().enumerate() {
            assert_eq!(Atom(i as u32).as_str(), *name);
            assert_eq!(Atom::new(name), Atom(i as u32));
        }
        assert_eq!(Atom::NODEDOWN.as_str(), "nodedown");
        assert_eq!(Atom::UNDEFINED.as_str(), "undefined");
    }

    #[test]
    fn interning_is_idempotent_and_distinct() {
        let a = Atom::new("atom_test_alpha");
        let b = Atom::new("atom_test_beta");
        assert_eq!(a, Atom::new("atom_test_alpha"));
        assert_ne!(a, b);
        assert_eq!(a.as_str(), "atom_test_alpha");
        assert!(a < b, "atoms order by text");
    }

    #[test]
    fn display_uses_source_syntax() {
        assert_eq!(Atom::new("nodedown").to_string(), ":nodedown");
    }
}
