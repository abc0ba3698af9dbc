//! `Term`: the dynamic, immutable value carried in messages.
//!
//! Every kind of value a Mesh program can send is a `Term`. Heap parts are
//! shared by reference count (`Arc`), so a local send moves 24 bytes and
//! never deep-copies; a clone of a list of a million elements is one atomic
//! increment. Nothing is mutable through a shared reference: the
//! "update" operations ([`List::push`], [`Term::map_insert`]) copy on write
//! and mutate in place only when the caller holds the only reference, which
//! is what makes accumulator loops linear rather than quadratic.
//!
//! Equality, ordering and hashing are structural and total (floats compare
//! with `total_cmp`), so any term can be a map key. Terms of different kinds
//! order by kind first; the order of kinds is fixed (see `rank`).
//!
//! [`Term::Opaque`] holds local-only values (the language's closures): they
//! can be sent between processes of one node, but refuse to be serialized
//! for another node.

mod display;

use std::any::Any;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::atom::Atom;
use crate::pid::{Pid, Ref};

/// A Mesh value. 24 bytes; clones are reference-count increments.
#[derive(Clone)]
pub enum Term {
    /// `()`.
    Unit,
    Bool(bool),
    Int(i64),
    Float(f64),
    Atom(Atom),
    /// UTF-8 text.
    Str(Arc<str>),
    /// Raw bytes.
    Binary(Arc<[u8]>),
    Tuple(Arc<[Term]>),
    List(List),
    Map(Arc<BTreeMap<Term, Term>>),
    Pid(Pid),
    Ref(Ref),
    /// A value of a user-defined struct type.
    Struct(Arc<Struct>),
    /// A value of a sum type (including `Option` and `Result`).
    Variant(Arc<Variant>),
    /// A local-only value: cannot be serialized for another node.
    Opaque(Arc<dyn Opaque>),
}

/// A struct value: `Pt { x: 1, y: 2 }` is `Struct { name: Pt, fields: [1, 2] }`,
/// fields in declaration order.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Struct {
    pub name: Atom,
    pub fields: Box<[Term]>,
}

/// A sum-type value: `Shape.Circle(2.0)` is
/// `Variant { type_name: Shape, ctor: Circle, fields: [2.0] }`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Variant {
    pub type_name: Atom,
    pub ctor: Atom,
    pub fields: Box<[Term]>,
}

/// A local-only value (the language's closures, native handles).
///
/// Opaque values compare and hash by identity: two opaque terms are equal
/// only if they are the same allocation.
pub trait Opaque: Any + Send + Sync + fmt::Debug {
    /// A short name for messages, e.g. `"closure"`.
    fn kind(&self) -> &'static str;
    /// For downcasting by the owner of the concrete type.
    fn as_any(&self) -> &dyn Any;
}

/// An immutable list. `tail` is O(1) (a new view of the same storage),
/// indexing is O(1), and `push` onto a uniquely held list is amortized O(1).
#[derive(Clone)]
pub struct List {
    items: Arc<Vec<Term>>,
    start: usize,
}

impl List {
    pub fn new() -> List {
        List::from_vec(Vec::new())
    }

    pub fn from_vec(items: Vec<Term>) -> List {
        List {
            items: Arc::new(items),
            start: 0,
        }
    }

    pub fn as_slice(&self) -> &[Term] {
        self.items.get(self.start..).unwrap_or(&[])
    }

    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    pub fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }

    pub fn get(&self, i: usize) -> Option<&Term> {
        self.as_slice().get(i)
    }

    pub fn head(&self) -> Option<&Term> {
        self.as_slice().first()
    }

    /// Everything after the head, sharing storage. `None` for the empty list.
    pub fn tail(&self) -> Option<List> {
        if self.is_empty() {
            return None;
        }
        Some(List {
            items: Arc::clone(&self.items),
            start: self.start + 1,
        })
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Term> {
        self.as_slice().iter()
    }

    /// Append in place when this is the only reference to the storage and
    /// the view starts at its beginning; otherwise copy first.
    pub fn push(&mut self, t: Term) {
        self.make_unique().push(t);
    }

    /// Mutable access to the elements, copying the storage first unless this
    /// list holds the only reference to all of it.
    pub fn make_unique(&mut self) -> &mut Vec<Term> {
        if self.start != 0 {
            let v = self.as_slice().to_vec();
            self.items = Arc::new(v);
            self.start = 0;
        }
        Arc::make_mut(&mut self.items)
    }

    pub fn to_vec(&self) -> Vec<Term> {
        self.as_slice().to_vec()
    }

    /// Put `t` in front (the language's `[t | list]`). Amortized O(1)
    /// when this list holds the only reference to its storage: the slots
    /// before the view (left by [`List::tail`]) are reused, and when there
    /// are none the storage is regrown with free room at the front, twice
    /// the length. A shared list is copied first.
    pub fn prepend(&mut self, t: Term) {
        if self.start > 0
            && let Some(v) = Arc::get_mut(&mut self.items)
        {
            self.start -= 1;
            v[self.start] = t;
            return;
        }
        let len = self.len();
        let room = len.max(4);
        let mut v = Vec::with_capacity(room + 1 + len);
        v.resize(room, Term::Unit);
        v.push(t);
        match Arc::get_mut(&mut self.items) {
            Some(old) if self.start == 0 => v.append(old),
            _ => v.extend_from_slice(self.as_slice()),
        }
        self.items = Arc::new(v);
        self.start = room;
    }
}

impl Default for List {
    fn default() -> Self {
        List::new()
    }
}

impl FromIterator<Term> for List {
    fn from_iter<I: IntoIterator<Item = Term>>(iter: I) -> Self {
        List::from_vec(iter.into_iter().collect())
    }
}

impl<'a> IntoIterator for &'a List {
    type Item = &'a Term;
    type IntoIter = std::slice::Iter<'a, Term>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl PartialEq for List {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}
impl Eq for List {}
impl PartialOrd for List {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for List {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_slice().cmp(other.as_slice())
    }
}
impl Hash for List {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state)
    }
}
impl fmt::Debug for List {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Term {
    /// The kind's place in the total order of terms.
    fn rank(&self) -> u8 {
        match self {
            Term::Unit => 0,
            Term::Bool(_) => 1,
            Term::Int(_) => 2,
            Term::Float(_) => 3,
            Term::Atom(_) => 4,
            Term::Ref(_) => 5,
            Term::Opaque(_) => 6,
            Term::Pid(_) => 7,
            Term::Tuple(_) => 8,
            Term::Struct(_) => 9,
            Term::Variant(_) => 10,
            Term::Map(_) => 11,
            Term::List(_) => 12,
            Term::Str(_) => 13,
            Term::Binary(_) => 14,
        }
    }

    /// The name of the kind, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Term::Unit => "unit",
            Term::Bool(_) => "bool",
            Term::Int(_) => "int",
            Term::Float(_) => "float",
            Term::Atom(_) => "atom",
            Term::Str(_) => "string",
            Term::Binary(_) => "binary",
            Term::Tuple(_) => "tuple",
            Term::List(_) => "list",
            Term::Map(_) => "map",
            Term::Pid(_) => "pid",
            Term::Ref(_) => "ref",
            Term::Struct(_) => "struct",
            Term::Variant(_) => "variant",
            Term::Opaque(o) => o.kind(),
        }
    }

    pub fn atom(name: &str) -> Term {
        Term::Atom(Atom::new(name))
    }

    pub fn str(s: &str) -> Term {
        Term::Str(Arc::from(s))
    }

    pub fn binary(b: &[u8]) -> Term {
        Term::Binary(Arc::from(b))
    }

    pub fn tuple(items: Vec<Term>) -> Term {
        Term::Tuple(Arc::from(items))
    }

    pub fn list(items: Vec<Term>) -> Term {
        Term::List(List::from_vec(items))
    }

    pub fn map<I: IntoIterator<Item = (Term, Term)>>(entries: I) -> Term {
        Term::Map(Arc::new(entries.into_iter().collect()))
    }

    pub fn structure(name: Atom, fields: Vec<Term>) -> Term {
        Term::Struct(Arc::new(Struct {
            name,
            fields: fields.into_boxed_slice(),
        }))
    }

    pub fn variant(type_name: Atom, ctor: Atom, fields: Vec<Term>) -> Term {
        Term::Variant(Arc::new(Variant {
            type_name,
            ctor,
            fields: fields.into_boxed_slice(),
        }))
    }

    pub fn opaque<T: Opaque>(value: T) -> Term {
        Term::Opaque(Arc::new(value))
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Term::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_atom(&self) -> Option<Atom> {
        match self {
            Term::Atom(a) => Some(*a),
            _ => None,
        }
    }

    pub fn as_pid(&self) -> Option<Pid> {
        match self {
            Term::Pid(p) => Some(*p),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Term::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_tuple(&self) -> Option<&[Term]> {
        match self {
            Term::Tuple(t) => Some(t),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&List> {
        match self {
            Term::List(l) => Some(l),
            _ => None,
        }
    }

    /// `self` is the atom `a`.
    pub fn is_atom(&self, a: Atom) -> bool {
        matches!(self, Term::Atom(x) if *x == a)
    }

    /// A map with `key` set to `value`; in place if this map is not shared.
    /// Returns `None` if `self` is not a map.
    pub fn map_insert(&mut self, key: Term, value: Term) -> Option<()> {
        match self {
            Term::Map(m) => {
                Arc::make_mut(m).insert(key, value);
                Some(())
            }
            _ => None,
        }
    }

    /// True if this term, or anything inside it, is local-only and so
    /// cannot be sent to another node.
    pub fn contains_opaque(&self) -> bool {
        match self {
            Term::Opaque(_) => true,
            Term::Tuple(items) => items.iter().any(Term::contains_opaque),
            Term::List(l) => l.iter().any(Term::contains_opaque),
            Term::Map(m) => m
                .iter()
                .any(|(k, v)| k.contains_opaque() || v.contains_opaque()),
            Term::Struct(s) => s.fields.iter().any(Term::contains_opaque),
            Term::Variant(v) => v.fields.iter().any(Term::contains_opaque),
            _ => false,
        }
    }
}

fn opaque_addr(o: &Arc<dyn Opaque>) -> usize {
    Arc::as_ptr(o) as *const () as usize
}

impl PartialEq for Term {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Term::Unit, Term::Unit) => true,
            (Term::Bool(a), Term::Bool(b)) => a == b,
            (Term::Int(a), Term::Int(b)) => a == b,
            (Term::Float(a), Term::Float(b)) => a.total_cmp(b) == Ordering::Equal,
            (Term::Atom(a), Term::Atom(b)) => a == b,
            (Term::Str(a), Term::Str(b)) => a == b,
            (Term::Binary(a), Term::Binary(b)) => a == b,
            (Term::Tuple(a), Term::Tuple(b)) => a == b,
            (Term::List(a), Term::List(b)) => a == b,
            (Term::Map(a), Term::Map(b)) => a == b,
            (Term::Pid(a), Term::Pid(b)) => a == b,
            (Term::Ref(a), Term::Ref(b)) => a == b,
            (Term::Struct(a), Term::Struct(b)) => a == b,
            (Term::Variant(a), Term::Variant(b)) => a == b,
            (Term::Opaque(a), Term::Opaque(b)) => opaque_addr(a) == opaque_addr(b),
            _ => false,
        }
    }
}

impl Eq for Term {}

impl PartialOrd for Term {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Term {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Term::Unit, Term::Unit) => Ordering::Equal,
            (Term::Bool(a), Term::Bool(b)) => a.cmp(b),
            (Term::Int(a), Term::Int(b)) => a.cmp(b),
            (Term::Float(a), Term::Float(b)) => a.total_cmp(b),
            (Term::Atom(a), Term::Atom(b)) => a.cmp(b),
            (Term::Str(a), Term::Str(b)) => a.cmp(b),
            (Term::Binary(a), Term::Binary(b)) => a.cmp(b),
            (Term::Tuple(a), Term::Tuple(b)) => a.cmp(b),
            (Term::List(a), Term::List(b)) => a.cmp(b),
            (Term::Map(a), Term::Map(b)) => a.iter().cmp(b.iter()),
            (Term::Pid(a), Term::Pid(b)) => a.cmp(b),
            (Term::Ref(a), Term::Ref(b)) => a.cmp(b),
            (Term::Struct(a), Term::Struct(b)) => a.cmp(b),
            (Term::Variant(a), Term::Variant(b)) => a.cmp(b),
            (Term::Opaque(a), Term::Opaque(b)) => opaque_addr(a).cmp(&opaque_addr(b)),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl Hash for Term {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u8(self.rank());
        match self {
            Term::Unit => {}
            Term::Bool(b) => b.hash(state),
            Term::Int(i) => i.hash(state),
            Term::Float(f) => f.to_bits().hash(state),
            Term::Atom(a) => a.as_str().hash(state),
            Term::Str(s) => s.hash(state),
            Term::Binary(b) => b.hash(state),
            Term::Tuple(t) => t.hash(state),
            Term::List(l) => l.hash(state),
            Term::Map(m) => {
                state.write_usize(m.len());
                for (k, v) in m.iter() {
                    k.hash(state);
                    v.hash(state);
                }
            }
            Term::Pid(p) => p.hash(state),
            Term::Ref(r) => r.hash(state),
            Term::Struct(s) => s.hash(state),
            Term::Variant(v) => v.hash(state),
            Term::Opaque(o) => opaque_addr(o).hash(state),
        }
    }
}

impl From<i64> for Term {
    fn from(v: i64) -> Term {
        Term::Int(v)
    }
}
impl From<f64> for Term {
    fn from(v: f64) -> Term {
        Term::Float(v)
    }
}
impl From<bool> for Term {
    fn from(v: bool) -> Term {
        Term::Bool(v)
    }
}
impl From<&str> for Term {
    fn from(v: &str) -> Term {
        Term::str(v)
    }
}
impl From<String> for Term {
    fn from(v: String) -> Term {
        Term::Str(Arc::from(v))
    }
}
impl From<Atom> for Term {
    fn from(v: Atom) -> Term {
        Term::Atom(v)
    }
}
impl From<Pid> for Term {
    fn from(v: Pid) -> Term {
        Term::Pid(v)
    }
}
impl From<Ref> for Term {
    fn from(v: Ref) -> Term {
        Term::Ref(v)
    }
}
impl From<()> for Term {
    fn from(_: ()) -> Term {
        Term::Unit
    }
}
impl From<List> for Term {
    fn from(v: List) -> Term {
        Term::List(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pid::NodeId;
    use std::collections::hash_map::DefaultHasher;

    fn h(t: &Term) -> u64 {
        let mut s = DefaultHasher::new();
        t.hash(&mut s);
        s.finish()
    }

    #[test]
    fn term_is_24_bytes() {
        assert_eq!(std::mem::size_of::<Term>(), 24);
    }

    #[test]
    fn clone_shares_heap_parts() {
        let big = Term::list((0..1000).map(Term::Int).collect());
        let copy = big.clone();
        match (&big, &copy) {
            (Term::List(a), Term::List(b)) => {
                assert!(std::ptr::eq(a.as_slice().as_ptr(), b.as_slice().as_ptr()))
            }
            _ => panic!("not lists"),
        }
    }

    #[test]
    fn list_tail_is_a_view_and_push_copies_on_write() {
        let l = List::from_vec(vec![Term::Int(1), Term::Int(2), Term::Int(3)]);
        let t = l.tail().expect("non-empty");
        assert_eq!(t.to_vec(), vec![Term::Int(2), Term::Int(3)]);
        assert!(std::ptr::eq(&l.as_slice()[1], &t.as_slice()[0]));
        let mut t2 = t.clone();
        t2.push(Term::Int(4));
        assert_eq!(t.len(), 2, "the original view is unchanged");
        assert_eq!(t2.to_vec(), vec![Term::Int(2), Term::Int(3), Term::Int(4)]);
        assert_eq!(l.len(), 3);
        assert!(List::new().tail().is_none());
    }

    #[test]
    fn prepend_reuses_unique_storage_and_copies_shared() {
        let mut l = List::new();
        for i in 0..100 {
            l.prepend(Term::Int(i));
        }
        assert_eq!(l.len(), 100);
        assert_eq!(l.head(), Some(&Term::Int(99)));
        assert_eq!(l.get(99), Some(&Term::Int(0)));
        // In place: the element storage does not move on the next prepend
        // while there is room in front.
        let before = l.as_slice().as_ptr();
        l.prepend(Term::Int(100));
        assert_eq!(ptr_distance(before, l.as_slice().as_ptr()), 1);
        // A shared list is left alone.
        let shared = l.clone();
        l.prepend(Term::Int(101));
        assert_eq!(shared.len(), 101);
        assert_eq!(l.len(), 102);
        assert_eq!(l.tail().map(|t| t.len()), Some(101));
        let mut t = l.tail().expect("non-empty");
        drop(l);
        drop(shared);
        t.prepend(Term::Int(7));
        assert_eq!(t.head(), Some(&Term::Int(7)));
        assert_eq!(t.len(), 102);
    }

    /// How many elements `b` lies before `a` (by address, no dereference).
    fn ptr_distance(a: *const Term, b: *const Term) -> usize {
        (a as usize - b as usize) / std::mem::size_of::<Term>()
    }

    #[test]
    fn unique_list_push_is_in_place() {
        let mut l = List::from_vec(Vec::with_capacity(8));
        l.push(Term::Int(1));
        let p = l.as_slice().as_ptr();
        l.push(Term::Int(2));
        assert_eq!(p, l.as_slice().as_ptr());
    }

    #[test]
    fn map_insert_copies_on_write() {
        let mut a = Term::map([(Term::str("k"), Term::Int(1))]);
        let b = a.clone();
        a.map_insert(Term::str("k"), Term::Int(2)).expect("map");
        assert_ne!(a, b);
        assert_eq!(b, Term::map([(Term::str("k"), Term::Int(1))]));
        assert!(Term::Int(1).map_insert(Term::Unit, Term::Unit).is_none());
    }

    #[test]
    fn equality_is_structural_and_hash_agrees() {
        let a = Term::tuple(vec![Term::Int(1), Term::str("x"), Term::list(vec![])]);
        let b = Term::tuple(vec![Term::Int(1), Term::str("x"), Term::list(vec![])]);
        assert_eq!(a, b);
        assert_eq!(h(&a), h(&b));
        assert_ne!(Term::Int(1), Term::Float(1.0));
        assert_eq!(Term::Float(f64::NAN), Term::Float(f64::NAN));
    }

    #[test]
    fn order_is_total_by_kind_then_value() {
        let mut v = vec![
            Term::str("b"),
            Term::Int(3),
            Term::atom("z"),
            Term::Unit,
            Term::Int(-1),
            Term::str("a"),
        ];
        v.sort();
        assert_eq!(
            v,
            vec![
                Term::Unit,
                Term::Int(-1),
                Term::Int(3),
                Term::atom("z"),
                Term::str("a"),
                Term::str("b")
            ]
        );
    }

    #[derive(Debug)]
    struct Closure;
    impl Opaque for Closure {
        fn kind(&self) -> &'static str {
            "closure"
        }
        fn as_any(&self) -> &dyn Any {
            self
        }
    }

    #[test]
    fn opaque_compares_by_identity_and_is_detected_when_nested() {
        let a = Term::opaque(Closure);
        let b = Term::opaque(Closure);
        assert_eq!(a, a.clone());
        assert_ne!(a, b);
        assert_eq!(a.kind_name(), "closure");
        let nested = Term::map([(Term::Int(1), Term::list(vec![a]))]);
        assert!(nested.contains_opaque());
        let pid = Term::Pid(Pid::from_parts(NodeId::LOCAL, 0, 1, 1));
        assert!(!Term::tuple(vec![pid, Term::Int(2)]).contains_opaque());
    }
}
