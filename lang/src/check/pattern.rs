//! Pattern checking: binds names to new local slots and types sub-patterns.

use super::{Checker, FnCx, Res};
use crate::ast::{self, PatternKind as P};
use crate::diag::Code;
use crate::hir::{self, Literal, LocalId, PatternKind as H};
use crate::types::{Scheme, Type};

impl Checker<'_> {
    /// Checks `p` against `expected`. New names are appended to `binds`
    /// (the caller brings them into scope). `or_first` holds the bindings of
    /// the first side of an or-pattern, which later sides must reuse.
    pub(super) fn check_pattern(
        &mut self,
        cx: &mut FnCx,
        p: &ast::Pattern,
        expected: &Type,
        binds: &mut Vec<(String, LocalId)>,
        or_first: Option<&[(String, LocalId)]>,
    ) -> hir::Pattern {
        let span = p.span;
        let lit = |c: &mut Checker<'_>, l: Literal, t: Type| {
            c.unify_at(expected, &t, span);
            H::Lit(l)
        };
        let kind = match &p.kind {
            P::Wildcard | P::Error => H::Wildcard,
            P::Var(name) => H::Bind(self.bind_name(cx, name, expected, binds, or_first)),
            P::Int(n) => lit(self, Literal::Int(*n), Type::Int),
            P::Float(x) => lit(self, Literal::Float(*x), Type::Float),
            P::Str(s) => lit(self, Literal::Str(s.clone()), Type::String),
            P::Bool(b) => lit(self, Literal::Bool(*b), Type::Bool),
            P::Nil | P::Unit => lit(self, Literal::Unit, Type::unit()),
            P::Atom(a) => lit(self, Literal::Atom(a.clone()), Type::Atom),
            P::Tuple(ps) => {
                let tys: Vec<Type> = ps.iter().map(|_| self.u.fresh()).collect();
                self.unify_at(expected, &Type::Tuple(tys.clone()), span);
                H::Tuple(
                    ps.iter()
                        .zip(&tys)
                        .map(|(p, t)| self.check_pattern(cx, p, t, binds, or_first))
                        .collect(),
                )
            }
            P::List { elems, tail } => {
                let e = self.u.fresh();
                let lt = Type::list(e.clone());
                self.unify_at(expected, &lt, span);
                let elems = elems
                    .iter()
                    .map(|p| self.check_pattern(cx, p, &e, binds, or_first))
                    .collect();
                let tail = tail
                    .as_ref()
                    .map(|t| Box::new(self.check_pattern(cx, t, &lt, binds, or_first)));
                H::List { elems, tail }
            }
            P::Cons(h, t) => {
                let e = self.u.fresh();
                let lt = Type::list(e.clone());
                self.unify_at(expected, &lt, span);
                let h = self.check_pattern(cx, h, &e, binds, or_first);
                let t = self.check_pattern(cx, t, &lt, binds, or_first);
                H::Cons(Box::new(h), Box::new(t))
            }
            P::Ctor { path, args } => match self.resolve_path(cx, path) {
                Some(Res::Ctor(tid, c)) => {
                    let (t, map) = self.instantiate_def(tid);
                    self.unify_at(expected, &t, span);
                    let fields: Vec<Type> = self.types[tid.0 as usize].variants()[c as usize]
                        .fields
                        .iter()
                        .map(|f| f.substitute(&map))
                        .collect();
                    if fields.len() != args.len() {
                        self.err(
                            Code::Arity,
                            span,
                            format!(
                                "constructor `{}` takes {} argument(s) but the pattern has {}",
                                path.dotted(),
                                fields.len(),
                                args.len()
                            ),
                        );
                        H::Wildcard
                    } else {
                        let args = args
                            .iter()
                            .zip(&fields)
                            .map(|(p, t)| self.check_pattern(cx, p, t, binds, or_first))
                            .collect();
                        H::Variant {
                            ty: tid,
                            ctor: c,
                            args,
                        }
                    }
                }
                Some(_) => {
                    self.err(
                        Code::BadPattern,
                        path.span,
                        format!("`{}` is not a constructor", path.dotted()),
                    );
                    H::Wildcard
                }
                None => H::Wildcard,
            },
            P::Struct { path, fields } => match self.struct_type(cx, path) {
                Some(tid) => {
                    let (t, map) = self.instantiate_def(tid);
                    self.unify_at(expected, &t, span);
                    let decl: Vec<(String, Type)> = self.types[tid.0 as usize]
                        .fields()
                        .iter()
                        .map(|(n, t)| (n.clone(), t.substitute(&map)))
                        .collect();
                    let mut out = Vec::new();
                    for (name, fp) in fields {
                        match decl.iter().position(|(n, _)| *n == name.name) {
                            Some(i) => {
                                let sub = self.check_pattern(cx, fp, &decl[i].1, binds, or_first);
                                out.push((super::id32(i), sub));
                            }
                            None => {
                                let sname = path.dotted();
                                self.err(
                                    Code::UnknownField,
                                    name.span,
                                    format!("struct `{sname}` has no field `{}`", name.name),
                                );
                            }
                        }
                    }
                    H::Struct {
                        ty: tid,
                        fields: out,
                    }
                }
                None => H::Wildcard,
            },
            P::Map(entries) => {
                let (k, v) = (self.u.fresh(), self.u.fresh());
                self.unify_at(
                    expected,
                    &Type::Map(Box::new(k.clone()), Box::new(v.clone())),
                    span,
                );
                H::Map(
                    entries
                        .iter()
                        .map(|(kp, vp)| {
                            (
                                self.check_pattern(cx, kp, &k, binds, or_first),
                                self.check_pattern(cx, vp, &v, binds, or_first),
                            )
                        })
                        .collect(),
                )
            }
            P::Or(alts) => {
                let start = binds.len();
                let mut out = Vec::new();
                let Some((first, rest)) = alts.split_first() else {
                    return hir::Pattern {
                        kind: H::Wildcard,
                        ty: expected.clone(),
                        span,
                    };
                };
                out.push(self.check_pattern(cx, first, expected, binds, or_first));
                let first_binds: Vec<(String, LocalId)> = binds[start..].to_vec();
                for alt in rest {
                    let mut other = Vec::new();
                    out.push(self.check_pattern(cx, alt, expected, &mut other, Some(&first_binds)));
                    let mut a: Vec<&str> = first_binds.iter().map(|(n, _)| n.as_str()).collect();
                    let mut b: Vec<&str> = other.iter().map(|(n, _)| n.as_str()).collect();
                    a.sort_unstable();
                    b.sort_unstable();
                    if a != b {
                        self.err(
                            Code::BadPattern,
                            alt.span,
                            "both sides of `|` must bind the same names",
                        );
                    }
                }
                H::Or(out)
            }
            P::As(inner, name) => {
                let sub = self.check_pattern(cx, inner, expected, binds, or_first);
                let id = self.bind_name(cx, name, expected, binds, or_first);
                H::As(Box::new(sub), id)
            }
        };
        hir::Pattern {
            kind,
            ty: expected.clone(),
            span,
        }
    }

    fn bind_name(
        &mut self,
        cx: &mut FnCx,
        name: &ast::Ident,
        expected: &Type,
        binds: &mut Vec<(String, LocalId)>,
        or_first: Option<&[(String, LocalId)]>,
    ) -> LocalId {
        if let Some((_, id)) = binds.iter().find(|(n, _)| *n == name.name) {
            self.err(
                Code::BadPattern,
                name.span,
                format!("`{}` is bound more than once in this pattern", name.name),
            );
            return *id;
        }
        if let Some((_, id)) = or_first.and_then(|f| f.iter().find(|(n, _)| *n == name.name)) {
            let t = cx.frame().locals[id.0 as usize].1.ty.clone();
            self.unify_at(&t, expected, name.span);
            binds.push((name.name.clone(), *id));
            return *id;
        }
        let id = cx
            .frame()
            .add_local(&name.name, Scheme::mono(expected.clone()));
        binds.push((name.name.clone(), id));
        id
    }
}
