//! Native frames: library functions that call back into Mesh code.
//!
//! `List.map(xs, f)` cannot call `f` with a nested interpreter (that would
//! put Mesh frames on the OS stack and make the call impossible to
//! preempt). Instead it becomes a [`Native`] state machine on the frame
//! stack: [`Native::step`] is given the result of the previous callback
//! and answers with the next call to make or the final value.

use mesh_core::{List, Term};

use super::Fault;

/// What a native frame wants next.
pub(super) enum NativeStep {
    /// Call [`Native::callee`] with the arguments [`Native::step`] wrote
    /// into its argument registers, and resume with the result.
    Call,
    Done(Term),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Map,
    Filter,
    Fold,
    Each,
    Find,
    Any,
    All,
    FlatMap,
}

/// The state of one higher-order call.
#[derive(Debug)]
pub(crate) enum Native {
    List {
        kind: Kind,
        src: List,
        i: usize,
        f: Term,
        acc: Vec<Term>,
        /// The fold accumulator.
        state: Term,
        /// `f`'s function when `f` captures nothing, so a callback can
        /// restart its frame instead of building a new one.
        plain: Option<u32>,
    },
    /// `List.sort(xs, cmp)`: a stable bottom-up merge sort whose
    /// comparisons are callbacks `cmp(a, b)` answering a negative, zero or
    /// positive `Int`. Runs of `width` elements of `cur` are merged pairwise
    /// into `next`; `[lo, mid)` and `[mid, hi)` are the runs being merged,
    /// `i` and `j` their next elements.
    Sort(Box<SortState>),
    /// `Option.map` / `Result.map` / `Result.map_err`: one call, then wrap.
    Wrap {
        f: Term,
        /// The variant to rebuild around the result, when called.
        value: Term,
        called: bool,
    },
}

/// The state of a [`Native::Sort`].
#[derive(Debug)]
pub(crate) struct SortState {
    f: Term,
    cur: Vec<Term>,
    next: Vec<Term>,
    width: usize,
    lo: usize,
    mid: usize,
    hi: usize,
    i: usize,
    j: usize,
}

impl SortState {
    /// Sets up the merge of the runs starting at `lo`.
    fn runs_at(&mut self, lo: usize) {
        let n = self.cur.len();
        self.lo = lo;
        self.mid = (lo + self.width).min(n);
        self.hi = (lo + 2 * self.width).min(n);
        self.i = lo;
        self.j = self.mid;
    }

    fn step(&mut self, last: Option<Term>, args: &mut [Term]) -> Result<NativeStep, Fault> {
        if let Some(v) = last {
            let Term::Int(c) = v else {
                return Err(Fault::Type {
                    op: "List.sort comparator",
                    got: v.kind_name(),
                });
            };
            // Stable: the right element goes first only if strictly less.
            let (from, k) = if c > 0 {
                (self.j, &mut self.j)
            } else {
                (self.i, &mut self.i)
            };
            *k += 1;
            self.next
                .push(self.cur.get(from).cloned().unwrap_or(Term::Unit));
        }
        loop {
            if self.i < self.mid && self.j < self.hi {
                if let [a, b, ..] = args {
                    super::interp::put(a, self.cur.get(self.i).cloned().unwrap_or(Term::Unit));
                    super::interp::put(b, self.cur.get(self.j).cloned().unwrap_or(Term::Unit));
                }
                return Ok(NativeStep::Call);
            }
            // One run is used up: the rest of the other follows as it is.
            let (i, mid, j, hi) = (self.i, self.mid, self.j, self.hi);
            self.next
                .extend_from_slice(self.cur.get(i..mid).unwrap_or(&[]));
            self.next
                .extend_from_slice(self.cur.get(j..hi).unwrap_or(&[]));
            let n = self.cur.len();
            let lo = self.lo + 2 * self.width;
            if lo < n {
                self.runs_at(lo);
                continue;
            }
            std::mem::swap(&mut self.cur, &mut self.next);
            self.next.clear();
            self.width *= 2;
            if self.width >= n {
                return Ok(NativeStep::Done(Term::List(List::from_vec(
                    std::mem::take(&mut self.cur),
                ))));
            }
            self.runs_at(0);
        }
    }
}

/// Writes the one argument of a callback.
#[inline]
fn one(args: &mut [Term], a: Term) -> NativeStep {
    if let Some(slot) = args.first_mut() {
        super::interp::put(slot, a);
    }
    NativeStep::Call
}

impl Native {
    pub(crate) fn list(kind: Kind, src: List, f: Term, state: Term) -> Native {
        let acc = if matches!(kind, Kind::Map) {
            Vec::with_capacity(src.len())
        } else {
            Vec::new()
        };
        let plain = match super::closure_of(&f) {
            Ok(c) if c.captures.is_empty() => Some(c.func),
            _ => None,
        };
        Native::List {
            kind,
            src,
            i: 0,
            f,
            acc,
            state,
            plain,
        }
    }

    /// The function a callback runs when the callee captures nothing
    /// (the same every time).
    pub(super) fn plain_callee(&self) -> Option<u32> {
        match self {
            Native::List { plain, .. } => *plain,
            Native::Wrap { .. } | Native::Sort(_) => None,
        }
    }

    /// `List.sort(xs, cmp)`; `None` when `xs` is already sorted (at most
    /// one element), so no callback is needed.
    pub(crate) fn sort(src: &List, f: Term) -> Option<Native> {
        if src.len() < 2 {
            return None;
        }
        let cur = src.to_vec();
        let mut st = SortState {
            f,
            next: Vec::with_capacity(cur.len()),
            cur,
            width: 1,
            lo: 0,
            mid: 0,
            hi: 0,
            i: 0,
            j: 0,
        };
        st.runs_at(0);
        Some(Native::Sort(Box::new(st)))
    }

    /// The function value this native frame calls back.
    pub(super) fn callee(&self) -> &Term {
        match self {
            Native::List { f, .. } | Native::Wrap { f, .. } => f,
            Native::Sort(st) => &st.f,
        }
    }

    /// The common case of a callback's return, kept small for the hot
    /// loop: `map`, `filter` or `fold` with elements left takes the
    /// callback's result `v` and writes the next element's arguments into
    /// `args`; the callee is the same as before. Anything else hands `v`
    /// back untouched, for [`Native::step`].
    #[inline]
    pub(super) fn next_fast(&mut self, v: Term, args: &mut [Term]) -> Result<(), Term> {
        let Native::List {
            kind, src, i, acc, ..
        } = self
        else {
            return Err(v);
        };
        let Some(x) = src.get(*i) else {
            return Err(v);
        };
        match kind {
            Kind::Map => {
                acc.push(v);
                if let Some(a) = args.first_mut() {
                    super::interp::put(a, x.clone());
                }
            }
            Kind::Filter => {
                if matches!(v, Term::Bool(true))
                    && let Some(prev) = i.checked_sub(1).and_then(|p| src.get(p))
                {
                    acc.push(prev.clone());
                }
                if let Some(a) = args.first_mut() {
                    super::interp::put(a, x.clone());
                }
            }
            Kind::Fold => {
                if let [a, b, ..] = args {
                    super::interp::put(a, v);
                    super::interp::put(b, x.clone());
                }
            }
            _ => return Err(v),
        }
        *i += 1;
        Ok(())
    }

    /// Advance with the result of the last callback (`None` at the start).
    /// The next callback's arguments are written into `args` (at least
    /// two registers); the function is [`Native::callee`].
    pub(super) fn step(
        &mut self,
        last: Option<Term>,
        args: &mut [Term],
    ) -> Result<NativeStep, Fault> {
        match self {
            Native::Sort(st) => st.step(last, args),
            Native::List {
                kind,
                src,
                i,
                f: _,
                acc,
                state,
                plain: _,
            } => {
                if let Some(v) = last {
                    let prev = || src.get(*i - 1).cloned().unwrap_or(Term::Unit);
                    match kind {
                        Kind::Map => acc.push(v),
                        Kind::Filter => {
                            if matches!(v, Term::Bool(true)) {
                                acc.push(prev());
                            }
                        }
                        Kind::Fold => *state = v,
                        Kind::Each => {}
                        Kind::Find => {
                            if matches!(v, Term::Bool(true)) {
                                return Ok(NativeStep::Done(super::interp::some(prev())));
                            }
                        }
                        Kind::Any => {
                            if matches!(v, Term::Bool(true)) {
                                return Ok(NativeStep::Done(Term::Bool(true)));
                            }
                        }
                        Kind::All => {
                            if !matches!(v, Term::Bool(true)) {
                                return Ok(NativeStep::Done(Term::Bool(false)));
                            }
                        }
                        Kind::FlatMap => match v {
                            Term::List(l) => acc.extend(l.iter().cloned()),
                            other => {
                                return Err(Fault::Type {
                                    op: "List.flat_map",
                                    got: other.kind_name(),
                                });
                            }
                        },
                    }
                }
                match src.get(*i) {
                    Some(x) => {
                        let x = x.clone();
                        *i += 1;
                        Ok(if *kind == Kind::Fold {
                            if let [a, b, ..] = args {
                                super::interp::put(a, take(state));
                                super::interp::put(b, x);
                            }
                            NativeStep::Call
                        } else {
                            one(args, x)
                        })
                    }
                    None => Ok(NativeStep::Done(match kind {
                        Kind::Map | Kind::Filter | Kind::FlatMap => {
                            Term::List(List::from_vec(std::mem::take(acc)))
                        }
                        Kind::Fold => take(state),
                        Kind::Each => Term::Unit,
                        Kind::Find => super::interp::none(),
                        Kind::Any => Term::Bool(false),
                        Kind::All => Term::Bool(true),
                    })),
                }
            }
            Native::Wrap {
                f: _,
                value,
                called,
            } => {
                let Term::Variant(v) = value else {
                    return Ok(NativeStep::Done(value.clone()));
                };
                if let Some(r) = last {
                    let mut nv = (**v).clone();
                    nv.fields = vec![r].into_boxed_slice();
                    return Ok(NativeStep::Done(Term::Variant(std::sync::Arc::new(nv))));
                }
                if *called {
                    return Ok(NativeStep::Done(value.clone()));
                }
                *called = true;
                match v.fields.first() {
                    Some(x) => Ok(one(args, x.clone())),
                    None => Ok(NativeStep::Done(value.clone())),
                }
            }
        }
    }
}

/// Takes a term out of a slot, leaving unit.
fn take(t: &mut Term) -> Term {
    std::mem::replace(t, Term::Unit)
}
