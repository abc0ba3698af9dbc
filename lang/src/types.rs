//! Types, type schemes, type definitions and unification.
//!
//! [`Type`] is the checker's and the HIR's type language. Type variables are
//! numbers resolved through a [`Unifier`] (a substitution with occurs check);
//! after checking, every type in the HIR has been fully substituted, and a
//! variable left in it means "unconstrained" (for example the payload of a
//! message matched by a bare variable in `receive`). User structs and sum
//! types, and the built-in `Option`, `Result` and `BootstrapStatus`, are
//! [`TypeDef`]s addressed by [`TypeId`].

use crate::source::Span;
use std::collections::HashMap;
use std::fmt::Write as _;

/// Index of a [`TypeDef`] in [`crate::hir::Program::types`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TypeId(pub u32);

impl TypeId {
    /// `Option<T>`: `Some(T)` (ctor 0), `None` (ctor 1).
    pub const OPTION: TypeId = TypeId(0);
    /// `Result<T, E>`: `Ok(T)` (ctor 0), `Err(E)` (ctor 1).
    pub const RESULT: TypeId = TypeId(1);
    /// `BootstrapStatus { mode, node_name, cluster_port, discovery_seed }`,
    /// returned by `Node.start_from_env()`.
    pub const BOOTSTRAP_STATUS: TypeId = TypeId(2);
}

/// A type variable.
pub type TyVar = u32;

/// A type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    Var(TyVar),
    Int,
    Float,
    String,
    Bool,
    Atom,
    /// A process id. `Pid<M>` annotations are accepted and mean `Pid`:
    /// messages are dynamically typed, as upstream.
    Pid,
    /// A monitor reference.
    Ref,
    /// `(A, B)`; the empty tuple is unit `()`.
    Tuple(Vec<Type>),
    List(Box<Type>),
    Map(Box<Type>, Box<Type>),
    Set(Box<Type>),
    Fun(Vec<Type>, Box<Type>),
    /// A struct or sum type with its type arguments.
    Named(TypeId, Vec<Type>),
}

impl Type {
    /// `()`.
    pub fn unit() -> Type {
        Type::Tuple(Vec::new())
    }

    /// `Option<t>`.
    pub fn option(t: Type) -> Type {
        Type::Named(TypeId::OPTION, vec![t])
    }

    /// `Result<t, e>`.
    pub fn result(t: Type, e: Type) -> Type {
        Type::Named(TypeId::RESULT, vec![t, e])
    }

    /// `List<t>`.
    pub fn list(t: Type) -> Type {
        Type::List(Box::new(t))
    }

    /// Free type variables, in first-occurrence order.
    pub fn vars(&self, out: &mut Vec<TyVar>) {
        match self {
            Type::Var(v) if !out.contains(v) => out.push(*v),
            Type::Tuple(ts) | Type::Named(_, ts) => ts.iter().for_each(|t| t.vars(out)),
            Type::List(t) | Type::Set(t) => t.vars(out),
            Type::Map(k, v) => {
                k.vars(out);
                v.vars(out);
            }
            Type::Fun(ps, r) => {
                ps.iter().for_each(|t| t.vars(out));
                r.vars(out);
            }
            _ => {}
        }
    }

    /// Replaces variables according to `map`.
    pub fn substitute(&self, map: &HashMap<TyVar, Type>) -> Type {
        match self {
            Type::Var(v) => map.get(v).cloned().unwrap_or(Type::Var(*v)),
            Type::Tuple(ts) => Type::Tuple(ts.iter().map(|t| t.substitute(map)).collect()),
            Type::Named(id, ts) => Type::Named(*id, ts.iter().map(|t| t.substitute(map)).collect()),
            Type::List(t) => Type::List(Box::new(t.substitute(map))),
            Type::Set(t) => Type::Set(Box::new(t.substitute(map))),
            Type::Map(k, v) => Type::Map(Box::new(k.substitute(map)), Box::new(v.substitute(map))),
            Type::Fun(ps, r) => Type::Fun(
                ps.iter().map(|t| t.substitute(map)).collect(),
                Box::new(r.substitute(map)),
            ),
            other => other.clone(),
        }
    }

    /// Human form, e.g. `Map<String, List<Int>>`; variables print as `a`, `b`, ...
    /// in order of appearance.
    pub fn display(&self, defs: &[TypeDef]) -> String {
        let mut names = HashMap::new();
        let mut out = String::new();
        self.fmt_into(defs, &mut names, &mut out);
        out
    }

    fn fmt_into(&self, defs: &[TypeDef], names: &mut HashMap<TyVar, String>, out: &mut String) {
        let list = |ts: &[Type], names: &mut HashMap<TyVar, String>, out: &mut String| {
            for (i, t) in ts.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                t.fmt_into(defs, names, out);
            }
        };
        match self {
            Type::Var(v) => {
                let n = names.len();
                let name = names.entry(*v).or_insert_with(|| var_name(n));
                out.push_str(name);
            }
            Type::Int => out.push_str("Int"),
            Type::Float => out.push_str("Float"),
            Type::String => out.push_str("String"),
            Type::Bool => out.push_str("Bool"),
            Type::Atom => out.push_str("Atom"),
            Type::Pid => out.push_str("Pid"),
            Type::Ref => out.push_str("Ref"),
            Type::Tuple(ts) => {
                out.push('(');
                list(ts, names, out);
                out.push(')');
            }
            Type::List(t) => {
                out.push_str("List<");
                t.fmt_into(defs, names, out);
                out.push('>');
            }
            Type::Set(t) => {
                out.push_str("Set<");
                t.fmt_into(defs, names, out);
                out.push('>');
            }
            Type::Map(k, v) => {
                out.push_str("Map<");
                k.fmt_into(defs, names, out);
                out.push_str(", ");
                v.fmt_into(defs, names, out);
                out.push('>');
            }
            Type::Fun(ps, r) => {
                out.push_str("Fun(");
                list(ps, names, out);
                out.push_str(") -> ");
                r.fmt_into(defs, names, out);
            }
            Type::Named(id, ts) => {
                let name = defs.get(id.0 as usize).map_or("?", |d| d.name.as_str());
                out.push_str(name);
                if !ts.is_empty() {
                    out.push('<');
                    list(ts, names, out);
                    out.push('>');
                }
            }
        }
    }
}

fn var_name(n: usize) -> String {
    let letter = char::from(b'a' + (n % 26) as u8);
    if n < 26 {
        letter.to_string()
    } else {
        let mut s = letter.to_string();
        let _ = write!(s, "{}", n / 26);
        s
    }
}

/// A polymorphic type: `forall vars. ty`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scheme {
    pub vars: Vec<TyVar>,
    pub ty: Type,
}

impl Scheme {
    /// A scheme with no quantified variables.
    pub fn mono(ty: Type) -> Scheme {
        Scheme {
            vars: Vec::new(),
            ty,
        }
    }
}

/// A user-defined or built-in struct or sum type.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeDef {
    pub id: TypeId,
    /// The name as written (`Pt`); also the runtime struct/variant type name.
    pub name: String,
    /// Module-qualified name (`Geo.Pt`); built-ins have no module prefix.
    pub qualified_name: String,
    /// Type parameters, as the variables used in `kind`.
    pub params: Vec<TyVar>,
    pub kind: TypeDefKind,
    pub deriving: Vec<String>,
    pub public: bool,
    /// `None` for built-in types.
    pub span: Option<Span>,
}

/// What a [`TypeDef`] defines.
#[derive(Clone, Debug, PartialEq)]
pub enum TypeDefKind {
    /// Fields in declaration order (the runtime field order).
    Struct { fields: Vec<(String, Type)> },
    /// Constructors in declaration order (the runtime constructor index).
    Sum { variants: Vec<VariantDef> },
}

/// One constructor of a sum type.
#[derive(Clone, Debug, PartialEq)]
pub struct VariantDef {
    pub name: String,
    pub fields: Vec<Type>,
}

impl TypeDef {
    /// Struct fields, or an empty slice for sum types.
    pub fn fields(&self) -> &[(String, Type)] {
        match &self.kind {
            TypeDefKind::Struct { fields } => fields,
            TypeDefKind::Sum { .. } => &[],
        }
    }

    /// Constructors, or an empty slice for structs.
    pub fn variants(&self) -> &[VariantDef] {
        match &self.kind {
            TypeDefKind::Sum { variants } => variants,
            TypeDefKind::Struct { .. } => &[],
        }
    }
}

/// The built-in type definitions, at the ids of the `TypeId` constants.
pub fn builtin_type_defs() -> Vec<TypeDef> {
    vec![
        TypeDef {
            id: TypeId::OPTION,
            name: "Option".into(),
            qualified_name: "Option".into(),
            params: vec![0],
            kind: TypeDefKind::Sum {
                variants: vec![
                    VariantDef {
                        name: "Some".into(),
                        fields: vec![Type::Var(0)],
                    },
                    VariantDef {
                        name: "None".into(),
                        fields: vec![],
                    },
                ],
            },
            deriving: vec![],
            public: true,
            span: None,
        },
        TypeDef {
            id: TypeId::RESULT,
            name: "Result".into(),
            qualified_name: "Result".into(),
            params: vec![0, 1],
            kind: TypeDefKind::Sum {
                variants: vec![
                    VariantDef {
                        name: "Ok".into(),
                        fields: vec![Type::Var(0)],
                    },
                    VariantDef {
                        name: "Err".into(),
                        fields: vec![Type::Var(1)],
                    },
                ],
            },
            deriving: vec![],
            public: true,
            span: None,
        },
        TypeDef {
            id: TypeId::BOOTSTRAP_STATUS,
            name: "BootstrapStatus".into(),
            qualified_name: "BootstrapStatus".into(),
            params: vec![],
            kind: TypeDefKind::Struct {
                fields: vec![
                    ("mode".into(), Type::String),
                    ("node_name".into(), Type::String),
                    ("cluster_port".into(), Type::Int),
                    ("discovery_seed".into(), Type::String),
                ],
            },
            deriving: vec![],
            public: true,
            span: None,
        },
    ]
}

/// Why two types do not unify.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UnifyError {
    #[error("type mismatch")]
    Mismatch,
    #[error("infinite type")]
    Occurs,
}

/// A substitution from type variables to types.
#[derive(Debug, Default, Clone)]
pub struct Unifier {
    bindings: Vec<Option<Type>>,
}

impl Unifier {
    /// A unifier whose fresh variables start above `reserved` (variables
    /// below it are used in type definitions and builtin signatures).
    pub fn new(reserved: u32) -> Unifier {
        Unifier {
            bindings: vec![None; reserved as usize],
        }
    }

    /// A fresh variable.
    pub fn fresh(&mut self) -> Type {
        let v = u32::try_from(self.bindings.len()).unwrap_or(u32::MAX);
        self.bindings.push(None);
        Type::Var(v)
    }

    fn binding(&self, v: TyVar) -> Option<&Type> {
        self.bindings.get(v as usize).and_then(Option::as_ref)
    }

    /// Follows variable bindings at the top of `t`.
    pub fn shallow(&self, t: &Type) -> Type {
        let mut t = t.clone();
        let mut steps = 0usize;
        while let Type::Var(v) = t {
            match self.binding(v) {
                Some(b) if steps < self.bindings.len() => {
                    t = b.clone();
                    steps += 1;
                }
                _ => break,
            }
        }
        t
    }

    /// Applies the substitution everywhere in `t`.
    pub fn zonk(&self, t: &Type) -> Type {
        match self.shallow(t) {
            Type::Tuple(ts) => Type::Tuple(ts.iter().map(|t| self.zonk(t)).collect()),
            Type::Named(id, ts) => Type::Named(id, ts.iter().map(|t| self.zonk(t)).collect()),
            Type::List(t) => Type::List(Box::new(self.zonk(&t))),
            Type::Set(t) => Type::Set(Box::new(self.zonk(&t))),
            Type::Map(k, v) => Type::Map(Box::new(self.zonk(&k)), Box::new(self.zonk(&v))),
            Type::Fun(ps, r) => Type::Fun(
                ps.iter().map(|t| self.zonk(t)).collect(),
                Box::new(self.zonk(&r)),
            ),
            other => other,
        }
    }

    fn occurs(&self, v: TyVar, t: &Type) -> bool {
        let mut vars = Vec::new();
        self.zonk(t).vars(&mut vars);
        vars.contains(&v)
    }

    /// Makes `a` and `b` equal.
    pub fn unify(&mut self, a: &Type, b: &Type) -> Result<(), UnifyError> {
        let a = self.shallow(a);
        let b = self.shallow(b);
        match (&a, &b) {
            (Type::Var(x), Type::Var(y)) if x == y => Ok(()),
            (Type::Var(x), t) | (t, Type::Var(x)) => {
                if self.occurs(*x, t) {
                    return Err(UnifyError::Occurs);
                }
                if let Some(slot) = self.bindings.get_mut(*x as usize) {
                    *slot = Some(t.clone());
                }
                Ok(())
            }
            (Type::Tuple(xs), Type::Tuple(ys)) => self.unify_all(xs, ys),
            (Type::Named(i, xs), Type::Named(j, ys)) if i == j => self.unify_all(xs, ys),
            (Type::List(x), Type::List(y)) | (Type::Set(x), Type::Set(y)) => self.unify(x, y),
            (Type::Map(k1, v1), Type::Map(k2, v2)) => {
                self.unify(k1, k2)?;
                self.unify(v1, v2)
            }
            (Type::Fun(p1, r1), Type::Fun(p2, r2)) => {
                self.unify_all(p1, p2)?;
                self.unify(r1, r2)
            }
            _ if a == b => Ok(()),
            _ => Err(UnifyError::Mismatch),
        }
    }

    fn unify_all(&mut self, xs: &[Type], ys: &[Type]) -> Result<(), UnifyError> {
        if xs.len() != ys.len() {
            return Err(UnifyError::Mismatch);
        }
        for (x, y) in xs.iter().zip(ys) {
            self.unify(x, y)?;
        }
        Ok(())
    }

    /// Instantiates `s` with fresh variables.
    pub fn instantiate(&mut self, s: &Scheme) -> Type {
        if s.vars.is_empty() {
            return s.ty.clone();
        }
        let map: HashMap<TyVar, Type> = s.vars.iter().map(|&v| (v, self.fresh())).collect();
        s.ty.substitute(&map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unify_binds_and_zonks() {
        let mut u = Unifier::new(0);
        let a = u.fresh();
        let b = u.fresh();
        u.unify(&Type::list(a.clone()), &Type::list(Type::Int))
            .unwrap();
        u.unify(&b, &Type::Map(Box::new(a.clone()), Box::new(Type::String)))
            .unwrap();
        assert_eq!(
            u.zonk(&b),
            Type::Map(Box::new(Type::Int), Box::new(Type::String))
        );
    }

    #[test]
    fn unify_reports_mismatch_and_occurs() {
        let mut u = Unifier::new(0);
        let a = u.fresh();
        assert_eq!(
            u.unify(&Type::Int, &Type::String),
            Err(UnifyError::Mismatch)
        );
        assert_eq!(u.unify(&a, &Type::list(a.clone())), Err(UnifyError::Occurs));
        assert_eq!(
            u.unify(&Type::Tuple(vec![Type::Int]), &Type::unit()),
            Err(UnifyError::Mismatch)
        );
    }

    #[test]
    fn instantiate_gives_fresh_variables() {
        let mut u = Unifier::new(5);
        let s = Scheme {
            vars: vec![0],
            ty: Type::Fun(vec![Type::Var(0)], Box::new(Type::Var(0))),
        };
        let t1 = u.instantiate(&s);
        let t2 = u.instantiate(&s);
        assert_ne!(t1, t2);
        u.unify(&t1, &Type::Fun(vec![Type::Int], Box::new(Type::Int)))
            .unwrap();
        u.unify(&t2, &Type::Fun(vec![Type::String], Box::new(Type::String)))
            .unwrap();
    }

    #[test]
    fn display_names_variables_in_order() {
        let defs = builtin_type_defs();
        let t = Type::Fun(
            vec![Type::Var(7), Type::option(Type::Var(3))],
            Box::new(Type::result(Type::Var(7), Type::String)),
        );
        assert_eq!(t.display(&defs), "Fun(a, Option<b>) -> Result<a, String>");
        assert_eq!(Type::unit().display(&defs), "()");
    }
}
