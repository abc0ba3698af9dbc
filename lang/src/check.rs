//! The checker: name resolution, arity, visibility and Hindley–Milner type
//! inference, producing the [`hir::Program`].
//!
//! Order of work:
//! 1. collect every item of every module into global tables (functions,
//!    actors, services, supervisors, types), rejecting P2 constructs with
//!    "not supported yet";
//! 2. resolve imports (`from M import x` needs `x` to exist and be `pub`);
//! 3. resolve struct fields, constructors and aliases;
//! 4. infer function bodies one strongly connected component of the call
//!    graph at a time, so a function is generalised (let-polymorphism)
//!    before its callers use it. Field access on a not-yet-known type,
//!    arithmetic, `++`, indexing and `?` add deferred constraints that are
//!    solved at the end of the component; unresolved numeric types default
//!    to `Int`;
//! 5. finalise: substitute all types in the HIR, fill field indices, and
//!    warn about `case` expressions that miss constructors.
//!
//! Messages are dynamically typed, as upstream: `send` takes any value,
//! each `receive` arm matches its own pattern against a message of unknown
//! type, and `Pid<M>` means `Pid`.

mod expr;
mod finalize;
mod pattern;

use crate::ast::{self, ItemKind, TypeExpr, TypeExprKind};
use crate::builtins::BuiltinId;
use crate::diag::{Code, Diagnostic};
use crate::hir::{self, FnId, LocalId, ModId, ServiceId, SupervisorId};
use crate::modules::{ProjectModule, snake_case};
use crate::source::Span;
use crate::types::{
    Scheme, TyVar, Type, TypeDef, TypeDefKind, TypeId, Unifier, UnifyError, VariantDef,
};
use std::collections::{HashMap, HashSet};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ValueDef {
    Fn(FnId),
    Service(ServiceId),
    Supervisor(SupervisorId),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TypeDecl {
    Def(TypeId),
    Alias(usize),
}

#[derive(Default)]
struct ModScope {
    values: HashMap<String, (ValueDef, bool)>,
    types: HashMap<String, (TypeDecl, bool)>,
    ctors: HashMap<String, (TypeId, u32)>,
    imports: HashMap<String, ModId>,
    from_values: HashMap<String, ValueDef>,
    from_types: HashMap<String, TypeDecl>,
    from_ctors: HashMap<String, (TypeId, u32)>,
}

#[derive(Clone, Copy)]
enum FnSrc<'a> {
    Fn(&'a ast::FnDecl),
    Actor(&'a ast::ActorDecl),
    Init(&'a ast::FnDecl, ServiceId),
    Handler(&'a ast::Handler, ServiceId, u32),
    Helper(&'a ast::FnDecl, ServiceId),
}

struct FnEntry<'a> {
    name: String,
    qualified: String,
    module: ModId,
    public: bool,
    src: FnSrc<'a>,
    mono: Option<Type>,
    scheme: Option<Scheme>,
    span: Span,
    hir: Option<hir::Function>,
}

struct HandlerEntry {
    name: String,
    op: String,
    is_call: bool,
    function: FnId,
    reply: Option<Type>,
}

struct SvcEntry {
    name: String,
    qualified: String,
    module: ModId,
    state: Type,
    init: Option<FnId>,
    handlers: Vec<HandlerEntry>,
    helpers: HashMap<String, FnId>,
}

struct SupEntry<'a> {
    name: String,
    qualified: String,
    module: ModId,
    decl: &'a ast::SupervisorDecl,
    hir: Option<hir::Supervisor>,
}

struct AliasEntry<'a> {
    module: ModId,
    decl: &'a ast::TypeAliasDecl,
    resolved: Option<(Vec<TyVar>, Type)>,
    resolving: bool,
}

enum TypeSrc<'a> {
    Struct(&'a ast::StructDecl),
    Sum(&'a ast::SumTypeDecl),
}

/// A constraint solved at the end of a component.
enum Deferred {
    Field {
        obj: Type,
        name: String,
        result: Type,
        span: Span,
    },
    Numeric {
        ty: Type,
        op: &'static str,
        span: Span,
    },
    Append {
        ty: Type,
        span: Span,
    },
    Index {
        coll: Type,
        index: Type,
        result: Type,
        span: Span,
    },
    Try {
        inner: Type,
        result: Type,
        ret: Type,
        span: Span,
    },
}

/// What a name or path resolved to.
#[derive(Clone, Copy, Debug)]
enum Res {
    Fn(FnId),
    Builtin(BuiltinId),
    Ctor(TypeId, u32),
    Struct,
    Service,
    ServiceStart(ServiceId),
    ServiceOp(ServiceId, u32),
    Supervisor(SupervisorId),
}

struct Frame {
    locals: Vec<(String, Scheme)>,
    scopes: Vec<Vec<(String, LocalId)>>,
    captures: Vec<hir::Capture>,
    ret: Type,
    loops: u32,
}

impl Frame {
    fn new(ret: Type) -> Frame {
        Frame {
            locals: Vec::new(),
            scopes: vec![Vec::new()],
            captures: Vec::new(),
            ret,
            loops: 0,
        }
    }

    fn add_local(&mut self, name: &str, scheme: Scheme) -> LocalId {
        let id = LocalId(u32::try_from(self.locals.len()).unwrap_or(u32::MAX));
        self.locals.push((name.to_string(), scheme));
        id
    }
}

/// Per-body context: module, enclosing service, frames (one per closure
/// level), and annotation type variables.
struct FnCx {
    module: ModId,
    service: Option<ServiceId>,
    frames: Vec<Frame>,
    tvars: HashMap<String, Type>,
}

impl FnCx {
    fn frame(&mut self) -> &mut Frame {
        let n = self.frames.len() - 1;
        &mut self.frames[n]
    }

    fn push_scope(&mut self) {
        self.frame().scopes.push(Vec::new());
    }

    fn pop_scope(&mut self) {
        self.frame().scopes.pop();
    }

    fn bind(&mut self, name: &str, id: LocalId) {
        let f = self.frame();
        if let Some(s) = f.scopes.last_mut() {
            s.push((name.to_string(), id));
        }
    }
}

pub(crate) struct Checker<'a> {
    mods: &'a [ProjectModule],
    scopes: Vec<ModScope>,
    diags: Vec<Diagnostic>,
    u: Unifier,
    types: Vec<TypeDef>,
    type_srcs: Vec<Option<(ModId, TypeSrc<'a>)>>,
    aliases: Vec<AliasEntry<'a>>,
    fns: Vec<FnEntry<'a>>,
    svcs: Vec<SvcEntry>,
    sups: Vec<SupEntry<'a>>,
    deferred: Vec<Deferred>,
    clustered: Vec<hir::ClusterDecl>,
    builtin_schemes: HashMap<BuiltinId, Scheme>,
}

fn id32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Checks parsed modules. Returns the program (if there were no errors) and
/// all diagnostics (errors and warnings).
pub(crate) fn check(mods: &[ProjectModule]) -> (Option<hir::Program>, Vec<Diagnostic>) {
    let mut c = Checker {
        mods,
        scopes: mods.iter().map(|_| ModScope::default()).collect(),
        diags: Vec::new(),
        u: Unifier::new(64),
        types: crate::types::builtin_type_defs(),
        type_srcs: vec![None, None, None],
        aliases: Vec::new(),
        fns: Vec::new(),
        svcs: Vec::new(),
        sups: Vec::new(),
        deferred: Vec::new(),
        clustered: Vec::new(),
        builtin_schemes: HashMap::new(),
    };
    c.collect();
    c.resolve_imports();
    c.resolve_type_defs();
    c.check_entry();
    c.infer_all();
    c.check_supervisors();
    let program = c.finish();
    let has_errors = c.diags.iter().any(Diagnostic::is_error);
    (if has_errors { None } else { Some(program) }, c.diags)
}

impl<'a> Checker<'a> {
    fn err(&mut self, code: Code, span: Span, msg: impl Into<String>) {
        self.diags.push(Diagnostic::error(code, span, msg));
    }

    fn show(&self, t: &Type) -> String {
        self.u.zonk(t).display(&self.types)
    }

    /// Unifies, reporting `expected`/`found` on failure. Returns success.
    fn unify_at(&mut self, expected: &Type, found: &Type, span: Span) -> bool {
        match self.u.unify(expected, found) {
            Ok(()) => true,
            Err(UnifyError::Mismatch) => {
                let (e, f) = (self.show(expected), self.show(found));
                self.err(
                    Code::TypeMismatch,
                    span,
                    format!("type mismatch: expected {e}, found {f}"),
                );
                false
            }
            Err(UnifyError::Occurs) => {
                let (e, f) = (self.show(expected), self.show(found));
                self.err(
                    Code::InfiniteType,
                    span,
                    format!("infinite type: {e} would have to contain {f}"),
                );
                false
            }
        }
    }

    fn builtin_scheme(&mut self, id: BuiltinId) -> Scheme {
        if let Some(s) = self.builtin_schemes.get(&id) {
            return s.clone();
        }
        let s = id
            .get()
            .scheme()
            .unwrap_or_else(|_| Scheme::mono(Type::Fun(vec![], Box::new(Type::unit()))));
        self.builtin_schemes.insert(id, s.clone());
        s
    }

    // ---- 1. collection ------------------------------------------------

    fn collect(&mut self) {
        let mods = self.mods;
        for m in mods {
            for item in &m.ast.items {
                self.collect_item(m, item);
            }
        }
    }

    fn define_value(&mut self, m: ModId, name: &ast::Ident, def: ValueDef, public: bool) {
        let scope = &mut self.scopes[m.0 as usize];
        if scope.values.contains_key(&name.name) {
            let msg = format!(
                "`{}` is already defined in this module (clauses of one function must be consecutive)",
                name.name
            );
            self.err(Code::DuplicateDefinition, name.span, msg);
            return;
        }
        scope.values.insert(name.name.clone(), (def, public));
    }

    fn new_fn(
        &mut self,
        m: &ProjectModule,
        name: &str,
        qualified: String,
        public: bool,
        src: FnSrc<'a>,
        span: Span,
    ) -> FnId {
        let id = FnId(id32(self.fns.len()));
        self.fns.push(FnEntry {
            name: name.to_string(),
            qualified,
            module: m.id,
            public,
            src,
            mono: None,
            scheme: None,
            span,
            hir: None,
        });
        id
    }

    fn collect_item(&mut self, m: &'a ProjectModule, item: &'a ast::Item) {
        if !matches!(item.kind, ItemKind::Fn(_)) {
            for a in &item.attrs {
                self.err(
                    Code::BadAttribute,
                    a.span,
                    format!("`@{}` can only be placed before a function", a.name.name),
                );
            }
        }
        match &item.kind {
            ItemKind::Fn(decl) => {
                let qualified = format!("{}.{}", m.name, decl.name.name);
                let id = self.new_fn(
                    m,
                    &decl.name.name,
                    qualified.clone(),
                    item.public,
                    FnSrc::Fn(decl),
                    item.span,
                );
                self.define_value(m.id, &decl.name, ValueDef::Fn(id), item.public);
                for a in &item.attrs {
                    self.attribute(a, item.public, id, &qualified);
                }
            }
            ItemKind::Actor(decl) => {
                let qualified = format!("{}.{}", m.name, decl.name.name);
                let id = self.new_fn(
                    m,
                    &decl.name.name,
                    qualified,
                    item.public,
                    FnSrc::Actor(decl),
                    item.span,
                );
                self.define_value(m.id, &decl.name, ValueDef::Fn(id), item.public);
            }
            ItemKind::Service(decl) => self.collect_service(m, item, decl),
            ItemKind::Supervisor(decl) => {
                let id = SupervisorId(id32(self.sups.len()));
                self.sups.push(SupEntry {
                    name: decl.name.name.clone(),
                    qualified: format!("{}.{}", m.name, decl.name.name),
                    module: m.id,
                    decl,
                    hir: None,
                });
                self.define_value(m.id, &decl.name, ValueDef::Supervisor(id), item.public);
            }
            ItemKind::Struct(decl) => {
                let params = decl.generics.iter().map(|_| self.fresh_var()).collect();
                let tid = self.new_type(
                    m,
                    &decl.name,
                    params,
                    TypeDefKind::Struct { fields: vec![] },
                    item.public,
                    &decl.deriving,
                    TypeSrc::Struct(decl),
                );
                let _ = tid;
            }
            ItemKind::SumType(decl) => {
                let params = decl.generics.iter().map(|_| self.fresh_var()).collect();
                let tid = self.new_type(
                    m,
                    &decl.name,
                    params,
                    TypeDefKind::Sum { variants: vec![] },
                    item.public,
                    &decl.deriving,
                    TypeSrc::Sum(decl),
                );
                for (i, v) in decl.variants.iter().enumerate() {
                    let scope = &mut self.scopes[m.id.0 as usize];
                    if scope
                        .ctors
                        .insert(v.name.name.clone(), (tid, id32(i)))
                        .is_some()
                    {
                        let msg = format!(
                            "constructor `{}` is already defined in this module",
                            v.name.name
                        );
                        self.err(Code::DuplicateDefinition, v.name.span, msg);
                    }
                }
            }
            ItemKind::TypeAlias(decl) => {
                let idx = self.aliases.len();
                self.aliases.push(AliasEntry {
                    module: m.id,
                    decl,
                    resolved: None,
                    resolving: false,
                });
                self.define_type(m.id, &decl.name, TypeDecl::Alias(idx), item.public);
            }
            ItemKind::Interface(_) => self.err(
                Code::Unsupported,
                item.span,
                "interfaces are not supported yet",
            ),
            ItemKind::Impl(_) => self.err(
                Code::Unsupported,
                item.span,
                "`impl` blocks are not supported yet",
            ),
            ItemKind::Module(_) => self.err(
                Code::Unsupported,
                item.span,
                "nested `module` blocks are not supported yet; each file is a module",
            ),
            ItemKind::Import(_) | ItemKind::FromImport(_) => {}
        }
    }

    fn fresh_var(&mut self) -> TyVar {
        match self.u.fresh() {
            Type::Var(v) => v,
            _ => 0,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn new_type(
        &mut self,
        m: &ProjectModule,
        name: &ast::Ident,
        params: Vec<TyVar>,
        kind: TypeDefKind,
        public: bool,
        deriving: &[ast::Ident],
        src: TypeSrc<'a>,
    ) -> TypeId {
        const KNOWN: &[&str] = &["Eq", "Ord", "Display", "Debug", "Hash"];
        for d in deriving {
            if !KNOWN.contains(&d.name.as_str()) {
                self.err(
                    Code::Unsupported,
                    d.span,
                    format!("deriving `{}` is not supported yet (supported: Eq, Ord, Display, Debug, Hash)", d.name),
                );
            }
        }
        let id = TypeId(id32(self.types.len()));
        self.types.push(TypeDef {
            id,
            name: name.name.clone(),
            qualified_name: format!("{}.{}", m.name, name.name),
            params,
            kind,
            deriving: deriving.iter().map(|d| d.name.clone()).collect(),
            public,
            span: Some(name.span),
        });
        self.type_srcs.push(Some((m.id, src)));
        self.define_type(m.id, name, TypeDecl::Def(id), public);
        id
    }

    fn define_type(&mut self, m: ModId, name: &ast::Ident, decl: TypeDecl, public: bool) {
        let scope = &mut self.scopes[m.0 as usize];
        if scope.types.contains_key(&name.name)
            || matches!(name.name.as_str(), "Option" | "Result" | "BootstrapStatus")
        {
            let msg = format!("type `{}` is already defined", name.name);
            self.err(Code::DuplicateDefinition, name.span, msg);
            return;
        }
        scope.types.insert(name.name.clone(), (decl, public));
    }

    fn attribute(&mut self, a: &ast::Attribute, public: bool, id: FnId, qualified: &str) {
        if a.name.name != "cluster" {
            let msg = format!(
                "unknown attribute `@{}` (only `@cluster` is supported)",
                a.name.name
            );
            self.err(Code::BadAttribute, a.span, msg);
            return;
        }
        if !public {
            self.err(
                Code::BadCluster,
                a.span,
                "`@cluster` functions must be `pub`",
            );
            return;
        }
        let replicas = match a.args.as_slice() {
            [] => 2,
            [
                ast::Expr {
                    kind: ast::ExprKind::Int(n),
                    ..
                },
            ] if *n >= 1 && *n <= i64::from(u32::MAX) => u32::try_from(*n).unwrap_or(2),
            _ => {
                self.err(
                    Code::BadCluster,
                    a.span,
                    "`@cluster` takes no argument or one positive integer (`@cluster(3)`)",
                );
                return;
            }
        };
        self.clustered.push(hir::ClusterDecl {
            function: id,
            runtime_name: qualified.to_string(),
            replicas,
            span: a.span,
        });
    }

    fn collect_service(
        &mut self,
        m: &'a ProjectModule,
        item: &'a ast::Item,
        decl: &'a ast::ServiceDecl,
    ) {
        let sid = ServiceId(id32(self.svcs.len()));
        let qualified = format!("{}.{}", m.name, decl.name.name);
        let state = self.u.fresh();
        self.svcs.push(SvcEntry {
            name: decl.name.name.clone(),
            qualified: qualified.clone(),
            module: m.id,
            state,
            init: None,
            handlers: Vec::new(),
            helpers: HashMap::new(),
        });
        self.define_value(m.id, &decl.name, ValueDef::Service(sid), item.public);
        for f in &decl.fns {
            let q = format!("{qualified}.{}", f.name.name);
            let span = f.clauses.first().map_or(f.name.span, |c| c.span);
            if f.name.name == "init" {
                let id = self.new_fn(m, "init", q, item.public, FnSrc::Init(f, sid), span);
                self.svcs[sid.0 as usize].init = Some(id);
            } else {
                let id = self.new_fn(m, &f.name.name, q, false, FnSrc::Helper(f, sid), span);
                self.svcs[sid.0 as usize]
                    .helpers
                    .insert(f.name.name.clone(), id);
            }
        }
        if self.svcs[sid.0 as usize].init.is_none() {
            self.err(
                Code::BadService,
                decl.name.span,
                format!(
                    "service `{}` needs an `init` function returning the initial state",
                    decl.name.name
                ),
            );
        }
        let mut seen = HashSet::new();
        for (i, h) in decl.handlers.iter().enumerate() {
            let op = snake_case(&h.name.name);
            if op == "start" || !seen.insert(op.clone()) {
                self.err(
                    Code::BadService,
                    h.name.span,
                    format!(
                        "handler `{}` would generate a second `{}.{op}`",
                        h.name.name, decl.name.name
                    ),
                );
            }
            let q = format!("{qualified}.{}", h.name.name);
            let id = self.new_fn(
                m,
                &h.name.name,
                q,
                item.public,
                FnSrc::Handler(h, sid, id32(i)),
                h.span,
            );
            let reply = if h.kind == ast::HandlerKind::Call {
                Some(self.u.fresh())
            } else {
                None
            };
            self.svcs[sid.0 as usize].handlers.push(HandlerEntry {
                name: h.name.name.clone(),
                op,
                is_call: h.kind == ast::HandlerKind::Call,
                function: id,
                reply,
            });
        }
    }

    // ---- 2. imports ---------------------------------------------------

    fn resolve_imports(&mut self) {
        let by_name: HashMap<&str, ModId> =
            self.mods.iter().map(|m| (m.name.as_str(), m.id)).collect();
        for m in self.mods {
            for item in &m.ast.items {
                match &item.kind {
                    ItemKind::Import(i) => {
                        let full = i.path.dotted();
                        if let Some(&t) = by_name.get(full.as_str()) {
                            let scope = &mut self.scopes[m.id.0 as usize];
                            if let Some(last) = i.path.segments.last() {
                                scope.imports.insert(last.name.clone(), t);
                            }
                            scope.imports.insert(full, t);
                        }
                    }
                    ItemKind::FromImport(f) => {
                        let full = f.path.dotted();
                        let Some(&t) = by_name.get(full.as_str()) else {
                            continue;
                        };
                        for n in &f.names {
                            self.import_name(m.id, t, &full, n);
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    fn import_name(&mut self, m: ModId, t: ModId, module: &str, n: &ast::Ident) {
        let target = &self.scopes[t.0 as usize];
        let value = target.values.get(&n.name).copied();
        let ty = target.types.get(&n.name).copied();
        if value.is_none() && ty.is_none() {
            self.err(
                Code::UnknownImport,
                n.span,
                format!("module `{module}` has no item `{}`", n.name),
            );
            return;
        }
        if !value.is_some_and(|v| v.1) && !ty.is_some_and(|v| v.1) {
            self.err(
                Code::PrivateItem,
                n.span,
                format!(
                    "`{}` is private to module `{module}`; mark it `pub` to import it",
                    n.name
                ),
            );
            return;
        }
        let ctors: Vec<(String, (TypeId, u32))> = match ty {
            Some((TypeDecl::Def(tid), true)) => target
                .ctors
                .iter()
                .filter(|(_, (ct, _))| *ct == tid)
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
            _ => Vec::new(),
        };
        let scope = &mut self.scopes[m.0 as usize];
        if let Some((v, true)) = value {
            scope.from_values.insert(n.name.clone(), v);
        }
        if let Some((d, true)) = ty {
            scope.from_types.insert(n.name.clone(), d);
        }
        scope.from_ctors.extend(ctors);
    }

    // ---- lookups ------------------------------------------------------

    fn lookup_value(&self, m: ModId, name: &str) -> Option<ValueDef> {
        let s = &self.scopes[m.0 as usize];
        s.values
            .get(name)
            .map(|v| v.0)
            .or_else(|| s.from_values.get(name).copied())
    }

    fn lookup_type(&self, m: ModId, name: &str) -> Option<TypeDecl> {
        let s = &self.scopes[m.0 as usize];
        if let Some(t) = s
            .types
            .get(name)
            .map(|v| v.0)
            .or_else(|| s.from_types.get(name).copied())
        {
            return Some(t);
        }
        match name {
            "Option" => Some(TypeDecl::Def(TypeId::OPTION)),
            "Result" => Some(TypeDecl::Def(TypeId::RESULT)),
            "BootstrapStatus" => Some(TypeDecl::Def(TypeId::BOOTSTRAP_STATUS)),
            _ => None,
        }
    }

    fn lookup_ctor(&self, m: ModId, name: &str) -> Option<(TypeId, u32)> {
        let s = &self.scopes[m.0 as usize];
        if let Some(c) = s.ctors.get(name).or_else(|| s.from_ctors.get(name)) {
            return Some(*c);
        }
        match name {
            "Some" => Some((TypeId::OPTION, 0)),
            "None" => Some((TypeId::OPTION, 1)),
            "Ok" => Some((TypeId::RESULT, 0)),
            "Err" => Some((TypeId::RESULT, 1)),
            _ => None,
        }
    }

    /// The module named by `segments` as seen from `m` (imported, or `m` itself).
    fn module_named(&self, m: ModId, name: &str) -> Option<ModId> {
        if self.mods[m.0 as usize].name == name {
            return Some(m);
        }
        self.scopes[m.0 as usize].imports.get(name).copied()
    }

    /// Looks `name` up in module `t` from module `from`, enforcing `pub`.
    fn value_in(&mut self, from: ModId, t: ModId, name: &ast::Ident) -> Option<ValueDef> {
        let (def, public) = self.scopes[t.0 as usize].values.get(&name.name).copied()?;
        if !public && t != from {
            let module = self.mods[t.0 as usize].name.clone();
            self.err(
                Code::PrivateItem,
                name.span,
                format!(
                    "`{}` is private to module `{module}`; mark it `pub` to use it here",
                    name.name
                ),
            );
        }
        Some(def)
    }

    fn type_in(&mut self, from: ModId, t: ModId, name: &ast::Ident) -> Option<TypeDecl> {
        let (def, public) = self.scopes[t.0 as usize].types.get(&name.name).copied()?;
        if !public && t != from {
            let module = self.mods[t.0 as usize].name.clone();
            self.err(
                Code::PrivateItem,
                name.span,
                format!("type `{}` is private to module `{module}`", name.name),
            );
        }
        Some(def)
    }

    // ---- 3. type definitions -------------------------------------------

    fn resolve_type_defs(&mut self) {
        for i in 0..self.types.len() {
            let Some((m, src)) = self
                .type_srcs
                .get(i)
                .and_then(|s| s.as_ref())
                .map(|(m, s)| {
                    (
                        *m,
                        match s {
                            TypeSrc::Struct(d) => TypeSrc::Struct(d),
                            TypeSrc::Sum(d) => TypeSrc::Sum(d),
                        },
                    )
                })
            else {
                continue;
            };
            let params = self.types[i].params.clone();
            let generics: &[ast::Ident] = match &src {
                TypeSrc::Struct(d) => &d.generics,
                TypeSrc::Sum(d) => &d.generics,
            };
            let mut tvars: HashMap<String, Type> = generics
                .iter()
                .zip(&params)
                .map(|(g, v)| (g.name.clone(), Type::Var(*v)))
                .collect();
            let kind = match src {
                TypeSrc::Struct(d) => {
                    let mut fields: Vec<(String, Type)> = Vec::new();
                    for (name, te) in &d.fields {
                        let t = self.resolve_type(m, te, &mut tvars, false);
                        if fields.iter().any(|(n, _)| *n == name.name) {
                            self.err(
                                Code::DuplicateDefinition,
                                name.span,
                                format!("field `{}` is declared twice", name.name),
                            );
                        }
                        fields.push((name.name.clone(), t));
                    }
                    TypeDefKind::Struct { fields }
                }
                TypeSrc::Sum(d) => {
                    let variants = d
                        .variants
                        .iter()
                        .map(|v| VariantDef {
                            name: v.name.name.clone(),
                            fields: v
                                .fields
                                .iter()
                                .map(|te| self.resolve_type(m, te, &mut tvars, false))
                                .collect(),
                        })
                        .collect();
                    TypeDefKind::Sum { variants }
                }
            };
            self.types[i].kind = kind;
        }
        for i in 0..self.aliases.len() {
            self.resolve_alias(i);
        }
    }

    fn resolve_alias(&mut self, i: usize) -> Option<(Vec<TyVar>, Type)> {
        let a = &self.aliases[i];
        if let Some(r) = &a.resolved {
            return Some(r.clone());
        }
        if a.resolving {
            let span = a.decl.name.span;
            let msg = format!("type alias `{}` refers to itself", a.decl.name.name);
            self.err(Code::InfiniteType, span, msg);
            return None;
        }
        let (m, decl) = (a.module, a.decl);
        self.aliases[i].resolving = true;
        let params: Vec<TyVar> = decl.generics.iter().map(|_| self.fresh_var()).collect();
        let mut tvars: HashMap<String, Type> = decl
            .generics
            .iter()
            .zip(&params)
            .map(|(g, v)| (g.name.clone(), Type::Var(*v)))
            .collect();
        let t = self.resolve_type(m, &decl.ty, &mut tvars, false);
        self.aliases[i].resolving = false;
        self.aliases[i].resolved = Some((params.clone(), t.clone()));
        Some((params, t))
    }

    /// Converts an annotation. Lowercase single names are type variables
    /// (created on first use when `new_vars`, else an error).
    fn resolve_type(
        &mut self,
        m: ModId,
        te: &TypeExpr,
        tvars: &mut HashMap<String, Type>,
        new_vars: bool,
    ) -> Type {
        match &te.kind {
            TypeExprKind::Error => self.u.fresh(),
            TypeExprKind::Tuple(ts) => Type::Tuple(
                ts.iter()
                    .map(|t| self.resolve_type(m, t, tvars, new_vars))
                    .collect(),
            ),
            TypeExprKind::Fun { params, ret } => Type::Fun(
                params
                    .iter()
                    .map(|t| self.resolve_type(m, t, tvars, new_vars))
                    .collect(),
                Box::new(self.resolve_type(m, ret, tvars, new_vars)),
            ),
            TypeExprKind::Option(t) => Type::option(self.resolve_type(m, t, tvars, new_vars)),
            TypeExprKind::Result(t, e) => {
                let t = self.resolve_type(m, t, tvars, new_vars);
                let e = self.resolve_type(m, e, tvars, new_vars);
                Type::result(t, e)
            }
            TypeExprKind::Named { path, args } => {
                let args: Vec<Type> = args
                    .iter()
                    .map(|t| self.resolve_type(m, t, tvars, new_vars))
                    .collect();
                self.named_type(m, path, args, te.span, tvars, new_vars)
            }
        }
    }

    fn named_type(
        &mut self,
        m: ModId,
        path: &ast::Path,
        args: Vec<Type>,
        span: Span,
        tvars: &mut HashMap<String, Type>,
        new_vars: bool,
    ) -> Type {
        let name = path.dotted();
        let arity = |c: &mut Checker<'a>, n: usize, args: &[Type]| -> bool {
            if args.len() == n {
                true
            } else {
                c.err(
                    Code::TypeArgCount,
                    span,
                    format!(
                        "type `{name}` takes {n} type argument(s) but {} were given",
                        args.len()
                    ),
                );
                false
            }
        };
        let simple = match name.as_str() {
            "Int" => Some(Type::Int),
            "Float" => Some(Type::Float),
            "String" => Some(Type::String),
            "Bool" => Some(Type::Bool),
            "Atom" => Some(Type::Atom),
            "Ref" => Some(Type::Ref),
            "Unit" => Some(Type::unit()),
            _ => None,
        };
        if let Some(t) = simple {
            arity(self, 0, &args);
            return t;
        }
        let mut a = args.clone().into_iter();
        let mut next = |c: &mut Checker<'a>| a.next().unwrap_or_else(|| c.u.fresh());
        match name.as_str() {
            "Pid" => {
                if args.len() > 1 {
                    arity(self, 1, &args);
                }
                return Type::Pid;
            }
            "List" if arity(self, 1, &args) => return Type::list(next(self)),
            "Set" if arity(self, 1, &args) => return Type::Set(Box::new(next(self))),
            "Map" if arity(self, 2, &args) => {
                let k = next(self);
                let v = next(self);
                return Type::Map(Box::new(k), Box::new(v));
            }
            "List" | "Set" | "Map" => return self.u.fresh(),
            _ => {}
        }
        if path.segments.len() == 1 {
            if let Some(t) = tvars.get(&name) {
                arity(self, 0, &args);
                return t.clone();
            }
            let lower = name.starts_with(|c: char| c.is_ascii_lowercase());
            if lower && new_vars {
                let t = self.u.fresh();
                tvars.insert(name, t.clone());
                return t;
            }
        }
        let decl = if path.segments.len() == 1 {
            self.lookup_type(m, &name)
        } else {
            let (last, prefix) = match path.segments.split_last() {
                Some(x) => x,
                None => return self.u.fresh(),
            };
            let pre: Vec<&str> = prefix.iter().map(|s| s.name.as_str()).collect();
            match self.module_named(m, &pre.join(".")) {
                Some(t) => self.type_in(m, t, last),
                None => None,
            }
        };
        match decl {
            Some(TypeDecl::Def(tid)) => {
                let n = self.types[tid.0 as usize].params.len();
                if arity(self, n, &args) {
                    Type::Named(tid, args)
                } else {
                    Type::Named(tid, (0..n).map(|_| self.u.fresh()).collect())
                }
            }
            Some(TypeDecl::Alias(i)) => {
                let Some((params, body)) = self.resolve_alias(i) else {
                    return self.u.fresh();
                };
                if !arity(self, params.len(), &args) {
                    return self.u.fresh();
                }
                let map: HashMap<TyVar, Type> = params.into_iter().zip(args).collect();
                body.substitute(&map)
            }
            None => {
                self.err(Code::UnknownType, span, format!("unknown type `{name}`"));
                self.u.fresh()
            }
        }
    }

    /// `Named(tid, fresh args)` plus the substitution from the definition's
    /// parameters to those arguments.
    fn instantiate_def(&mut self, tid: TypeId) -> (Type, HashMap<TyVar, Type>) {
        let params = self.types[tid.0 as usize].params.clone();
        let args: Vec<Type> = params.iter().map(|_| self.u.fresh()).collect();
        let map = params.into_iter().zip(args.iter().cloned()).collect();
        (Type::Named(tid, args), map)
    }

    // ---- entry point --------------------------------------------------

    fn check_entry(&mut self) {
        for m in self.mods {
            if !m.is_entry {
                continue;
            }
            let ok = match self.scopes[m.id.0 as usize].values.get("main") {
                Some((ValueDef::Fn(id), _)) => match self.fns[id.0 as usize].src {
                    FnSrc::Fn(d) => d.clauses.iter().all(|c| c.params.is_empty()),
                    _ => false,
                },
                _ => false,
            };
            if !ok {
                self.err(
                    Code::MissingMain,
                    crate::source::Span::new(m.file, 0, 0),
                    "`main.mpl` must define `fn main()` with no parameters",
                );
            }
        }
    }

    // ---- 4. inference, one component at a time --------------------------

    fn infer_all(&mut self) {
        let deps: Vec<Vec<usize>> = (0..self.fns.len())
            .map(|i| self.dependencies(FnId(id32(i))))
            .collect();
        for scc in tarjan(&deps) {
            let ids: Vec<FnId> = scc.iter().map(|&i| FnId(id32(i))).collect();
            for &id in &ids {
                self.mono_type(id);
            }
            for &id in &ids {
                self.infer_fn(id);
            }
            self.solve_deferred();
            self.generalize(&ids);
        }
    }

    /// The (monomorphic) type used for `id` while its component is inferred.
    fn mono_type(&mut self, id: FnId) -> Type {
        if let Some(t) = &self.fns[id.0 as usize].mono {
            return t.clone();
        }
        let arity = match self.fns[id.0 as usize].src {
            FnSrc::Fn(d) | FnSrc::Init(d, _) | FnSrc::Helper(d, _) => {
                d.clauses.first().map_or(0, |c| c.params.len())
            }
            FnSrc::Actor(a) => a.params.len(),
            FnSrc::Handler(h, _, _) => h.params.len() + 1,
        };
        let params = (0..arity).map(|_| self.u.fresh()).collect();
        let ret = self.u.fresh();
        let t = Type::Fun(params, Box::new(ret));
        self.fns[id.0 as usize].mono = Some(t.clone());
        t
    }

    /// The type of a reference to function `id`.
    fn fn_type(&mut self, id: FnId) -> Type {
        match self.fns[id.0 as usize].scheme.clone() {
            Some(s) => self.u.instantiate(&s),
            None => self.mono_type(id),
        }
    }

    fn generalize(&mut self, ids: &[FnId]) {
        // Variables still free in functions outside this component (service
        // state, forward references) must not be quantified.
        let mut fixed: Vec<TyVar> = Vec::new();
        for (i, f) in self.fns.iter().enumerate() {
            if f.scheme.is_none()
                && !ids.contains(&FnId(id32(i)))
                && let Some(t) = &f.mono
            {
                self.u.zonk(t).vars(&mut fixed);
            }
        }
        for s in &self.svcs {
            self.u.zonk(&s.state).vars(&mut fixed);
            for h in &s.handlers {
                if let Some(r) = &h.reply {
                    self.u.zonk(r).vars(&mut fixed);
                }
            }
        }
        for &id in ids {
            let f = &self.fns[id.0 as usize];
            let t = self.u.zonk(f.mono.as_ref().unwrap_or(&Type::unit()));
            let service_member = matches!(
                f.src,
                FnSrc::Init(..) | FnSrc::Handler(..) | FnSrc::Helper(..)
            );
            let mut vars = Vec::new();
            if !service_member {
                t.vars(&mut vars);
                vars.retain(|v| !fixed.contains(v));
            }
            self.fns[id.0 as usize].scheme = Some(Scheme { vars, ty: t });
        }
    }

    /// Global functions a function's body may refer to (over-approximate).
    fn dependencies(&self, id: FnId) -> Vec<usize> {
        let f = &self.fns[id.0 as usize];
        let m = f.module;
        let service = match f.src {
            FnSrc::Init(_, s) | FnSrc::Handler(_, s, _) | FnSrc::Helper(_, s) => Some(s),
            _ => None,
        };
        let mut names: Vec<Vec<String>> = Vec::new();
        match f.src {
            FnSrc::Fn(d) | FnSrc::Init(d, _) | FnSrc::Helper(d, _) => {
                for c in &d.clauses {
                    collect_names(&c.body, &mut names);
                    if let Some(g) = &c.guard {
                        collect_names(g, &mut names);
                    }
                }
            }
            FnSrc::Actor(a) => {
                collect_names(&a.body, &mut names);
                if let Some(t) = &a.terminate {
                    collect_names(t, &mut names);
                }
            }
            FnSrc::Handler(h, _, _) => collect_names(&h.body, &mut names),
        }
        let mut out = Vec::new();
        for segs in names {
            let push = |out: &mut Vec<usize>, id: FnId| out.push(id.0 as usize);
            if let Some(s) = service
                && let Some(&h) = segs
                    .first()
                    .and_then(|n| self.svcs[s.0 as usize].helpers.get(n))
            {
                push(&mut out, h);
            }
            let (head, rest) = match segs.split_first() {
                Some(x) => x,
                None => continue,
            };
            if rest.is_empty() {
                if let Some(ValueDef::Fn(id)) = self.lookup_value(m, head) {
                    push(&mut out, id);
                }
                continue;
            }
            // `Svc.op` / `Mod.f` / `Mod.Svc.op`
            for split in 1..=segs.len().saturating_sub(1) {
                let prefix = segs[..split].join(".");
                let scope_mod = if split == 1 && self.lookup_value(m, &prefix).is_some() {
                    Some(m)
                } else {
                    None
                };
                let target = scope_mod.or_else(|| self.module_named(m, &prefix));
                let Some(t) = target else { continue };
                let rem = &segs[split..];
                let first = if scope_mod.is_some() {
                    &segs[0]
                } else {
                    &rem[0]
                };
                match self.scopes[t.0 as usize].values.get(first).map(|v| v.0) {
                    Some(ValueDef::Fn(id)) => push(&mut out, id),
                    Some(ValueDef::Service(s)) => {
                        let sv = &self.svcs[s.0 as usize];
                        if let Some(i) = sv.init {
                            push(&mut out, i);
                        }
                        for h in &sv.handlers {
                            push(&mut out, h.function);
                        }
                    }
                    _ => {}
                }
            }
        }
        out
    }

    fn solve_deferred(&mut self) {
        let mut round = 0;
        loop {
            let progress = self.solve_round(false);
            if !progress {
                if round > 0 && !self.solve_round(true) {
                    break;
                }
                round += 1;
                if round > 2 {
                    break;
                }
            }
        }
        for d in std::mem::take(&mut self.deferred) {
            match d {
                Deferred::Field { name, span, .. } => self.err(
                    Code::CannotInfer,
                    span,
                    format!("cannot infer which struct has field `{name}`; add a type annotation"),
                ),
                Deferred::Try { span, .. } => self.err(
                    Code::CannotInfer,
                    span,
                    "cannot infer whether `?` applies to a Result or an Option; add a type annotation",
                ),
                Deferred::Numeric { .. } | Deferred::Append { .. } | Deferred::Index { .. } => {}
            }
        }
    }

    /// One pass over deferred constraints; with `default`, undecided
    /// numeric types become `Int` and collections `List`. Returns progress.
    fn solve_round(&mut self, default: bool) -> bool {
        let pending = std::mem::take(&mut self.deferred);
        let mut progress = false;
        for d in pending {
            match self.try_solve(d, default) {
                Some(d) => self.deferred.push(d),
                None => progress = true,
            }
        }
        progress
    }

    fn try_solve(&mut self, d: Deferred, default: bool) -> Option<Deferred> {
        match d {
            Deferred::Numeric { ty, op, span } => match self.u.shallow(&ty) {
                Type::Int | Type::Float => None,
                Type::Var(_) if !default => Some(Deferred::Numeric { ty, op, span }),
                Type::Var(_) => {
                    let _ = self.u.unify(&ty, &Type::Int);
                    None
                }
                _ => {
                    let t = self.show(&ty);
                    self.err(
                        Code::TypeMismatch,
                        span,
                        format!("operator `{op}` needs Int or Float operands, found {t}"),
                    );
                    None
                }
            },
            Deferred::Append { ty, span } => match self.u.shallow(&ty) {
                Type::List(_) | Type::String => None,
                Type::Var(_) if !default => Some(Deferred::Append { ty, span }),
                Type::Var(_) => {
                    let e = self.u.fresh();
                    let _ = self.u.unify(&ty, &Type::list(e));
                    None
                }
                _ => {
                    let t = self.show(&ty);
                    self.err(
                        Code::TypeMismatch,
                        span,
                        format!("operator `++` needs lists, found {t}"),
                    );
                    None
                }
            },
            Deferred::Index {
                coll,
                index,
                result,
                span,
            } => match self.u.shallow(&coll) {
                Type::List(e) => {
                    self.unify_at(&Type::Int, &index, span);
                    self.unify_at(&result, &e, span);
                    None
                }
                Type::Map(k, v) => {
                    self.unify_at(&k, &index, span);
                    self.unify_at(&result, &v, span);
                    None
                }
                Type::Var(_) if !default => Some(Deferred::Index {
                    coll,
                    index,
                    result,
                    span,
                }),
                Type::Var(_) => {
                    self.unify_at(&Type::list(result.clone()), &coll, span);
                    self.unify_at(&Type::Int, &index, span);
                    None
                }
                _ => {
                    let t = self.show(&coll);
                    self.err(
                        Code::TypeMismatch,
                        span,
                        format!("cannot index into a value of type {t}"),
                    );
                    None
                }
            },
            Deferred::Field {
                obj,
                name,
                result,
                span,
            } => {
                if self.field_constraint(&obj, &name, &result, span) {
                    None
                } else {
                    Some(Deferred::Field {
                        obj,
                        name,
                        result,
                        span,
                    })
                }
            }
            Deferred::Try {
                inner,
                result,
                ret,
                span,
            } => {
                if self.try_constraint(&inner, &result, &ret, span) {
                    None
                } else {
                    Some(Deferred::Try {
                        inner,
                        result,
                        ret,
                        span,
                    })
                }
            }
        }
    }

    /// Applies `obj.name : result` if `obj`'s struct is known (or can be
    /// guessed uniquely from the field name). Returns false to defer.
    fn field_constraint(&mut self, obj: &Type, name: &str, result: &Type, span: Span) -> bool {
        match self.u.shallow(obj) {
            Type::Named(tid, args) => {
                let def = &self.types[tid.0 as usize];
                if !matches!(def.kind, TypeDefKind::Struct { .. }) {
                    let t = self.show(obj);
                    self.err(
                        Code::UnknownField,
                        span,
                        format!("type {t} has no fields (it is not a struct)"),
                    );
                    return true;
                }
                let map: HashMap<TyVar, Type> = def.params.iter().copied().zip(args).collect();
                match def.fields().iter().find(|(n, _)| n == name) {
                    Some((_, ft)) => {
                        let ft = ft.substitute(&map);
                        self.unify_at(result, &ft, span);
                    }
                    None => {
                        let sname = def.name.clone();
                        self.err(
                            Code::UnknownField,
                            span,
                            format!("struct `{sname}` has no field `{name}`"),
                        );
                    }
                }
                true
            }
            Type::Var(_) => {
                let candidates: Vec<TypeId> = self
                    .types
                    .iter()
                    .filter(|d| d.fields().iter().any(|(n, _)| n == name))
                    .map(|d| d.id)
                    .collect();
                if let [tid] = candidates.as_slice() {
                    let (t, _) = self.instantiate_def(*tid);
                    self.unify_at(&t, obj, span);
                    return self.field_constraint(obj, name, result, span);
                }
                if candidates.is_empty() {
                    self.err(
                        Code::UnknownField,
                        span,
                        format!("no struct has a field `{name}`"),
                    );
                    return true;
                }
                false
            }
            _ => {
                let t = self.show(obj);
                self.err(
                    Code::UnknownField,
                    span,
                    format!("type {t} has no field `{name}`"),
                );
                true
            }
        }
    }

    fn try_constraint(&mut self, inner: &Type, result: &Type, ret: &Type, span: Span) -> bool {
        match self.u.shallow(inner) {
            Type::Named(TypeId::RESULT, args) if args.len() == 2 => {
                self.unify_at(result, &args[0], span);
                let ok = self.u.fresh();
                let want = Type::result(ok, args[1].clone());
                if self.u.unify(ret, &want).is_err() {
                    let r = self.show(ret);
                    self.err(Code::BadTry, span, format!("`?` on a Result needs the function to return a Result with the same error type, but it returns {r}"));
                }
                true
            }
            Type::Named(TypeId::OPTION, args) if args.len() == 1 => {
                self.unify_at(result, &args[0], span);
                let some = self.u.fresh();
                if self.u.unify(ret, &Type::option(some)).is_err() {
                    let r = self.show(ret);
                    self.err(Code::BadTry, span, format!("`?` on an Option needs the function to return an Option, but it returns {r}"));
                }
                true
            }
            // The operand is still open: the enclosing function's return
            // type decides (`fn f(r) do let v = r? ... Ok(v) end`).
            Type::Var(_) => match self.u.shallow(ret) {
                Type::Named(TypeId::RESULT, args) if args.len() == 2 => {
                    let want = Type::result(result.clone(), args[1].clone());
                    self.unify_at(inner, &want, span);
                    true
                }
                Type::Named(TypeId::OPTION, args) if args.len() == 1 => {
                    let want = Type::option(result.clone());
                    self.unify_at(inner, &want, span);
                    true
                }
                _ => false,
            },
            _ => {
                let t = self.show(inner);
                self.err(
                    Code::BadTry,
                    span,
                    format!("`?` needs a Result or an Option, found {t}"),
                );
                true
            }
        }
    }

    // ---- function bodies ----------------------------------------------

    fn infer_fn(&mut self, id: FnId) {
        let entry = &self.fns[id.0 as usize];
        let (m, src, span) = (entry.module, entry.src, entry.span);
        let mono = self.mono_type(id);
        let Type::Fun(params, ret) = mono.clone() else {
            return;
        };
        let service = match src {
            FnSrc::Init(_, s) | FnSrc::Handler(_, s, _) | FnSrc::Helper(_, s) => Some(s),
            _ => None,
        };
        let mut cx = FnCx {
            module: m,
            service,
            frames: vec![Frame::new((*ret).clone())],
            tvars: HashMap::new(),
        };
        let (kind, clauses) = match src {
            FnSrc::Fn(d) | FnSrc::Helper(d, _) => {
                let kind = match src {
                    FnSrc::Helper(_, s) => hir::FnKind::ServiceHelper(s),
                    _ => hir::FnKind::Plain,
                };
                (kind, self.fn_clauses(&mut cx, d, &params, &ret))
            }
            FnSrc::Init(d, s) => {
                let clauses = self.fn_clauses(&mut cx, d, &params, &ret);
                let state = self.svcs[s.0 as usize].state.clone();
                self.unify_at(&state, &ret, d.name.span);
                (hir::FnKind::ServiceInit(s), clauses)
            }
            FnSrc::Actor(a) => {
                cx.push_scope();
                let mut binds = Vec::new();
                let pats = self.params(&mut cx, &a.params, &params, &mut binds);
                let body = self.check_expr(&mut cx, &a.body, &ret);
                let terminate = a.terminate.as_ref().map(|t| self.infer_expr(&mut cx, t));
                cx.pop_scope();
                (
                    hir::FnKind::Actor { terminate },
                    vec![hir::Clause {
                        params: pats,
                        guard: None,
                        body,
                    }],
                )
            }
            FnSrc::Handler(h, s, idx) => {
                cx.push_scope();
                let mut binds = Vec::new();
                let n = h.params.len();
                let mut pats = self.params(
                    &mut cx,
                    &h.params,
                    &params[..n.min(params.len())],
                    &mut binds,
                );
                let state = self.svcs[s.0 as usize].state.clone();
                if let Some(st) = params.get(n) {
                    self.unify_at(&state, st, h.state.span);
                }
                let sp = self.check_pattern(&mut cx, &h.state, &state, &mut binds, None);
                for (name, lid) in &binds {
                    cx.bind(name, *lid);
                }
                pats.push(sp);
                let reply = self.svcs[s.0 as usize].handlers[idx as usize].reply.clone();
                if let (Some(r), Some(te)) = (&reply, &h.reply) {
                    let t = self.resolve_type(m, te, &mut cx.tvars, true);
                    self.unify_at(&t, r, te.span);
                }
                let want = match &reply {
                    Some(r) => Type::Tuple(vec![state.clone(), r.clone()]),
                    None => state.clone(),
                };
                self.unify_at(&ret, &want, h.name.span);
                let body = self.check_expr(&mut cx, &h.body, &ret);
                cx.pop_scope();
                (
                    hir::FnKind::Handler {
                        service: s,
                        index: idx,
                    },
                    vec![hir::Clause {
                        params: pats,
                        guard: None,
                        body,
                    }],
                )
            }
        };
        let frame = cx.frames.pop();
        let locals = frame.map(|f| f.locals).unwrap_or_default();
        let e = &self.fns[id.0 as usize];
        let function = hir::Function {
            id,
            name: e.name.clone(),
            qualified_name: e.qualified.clone(),
            module: m,
            public: e.public,
            kind,
            arity: params.len(),
            clauses,
            locals: locals
                .into_iter()
                .map(|(name, s)| hir::LocalInfo { name, ty: s.ty })
                .collect(),
            scheme: Scheme::mono(mono),
            span,
        };
        self.fns[id.0 as usize].hir = Some(function);
    }

    fn fn_clauses(
        &mut self,
        cx: &mut FnCx,
        d: &ast::FnDecl,
        params: &[Type],
        ret: &Type,
    ) -> Vec<hir::Clause> {
        for g in &d.generics {
            let t = self.u.fresh();
            cx.tvars.insert(g.name.clone(), t);
        }
        let mut out = Vec::new();
        for c in &d.clauses {
            if c.params.len() != params.len() {
                self.err(
                    Code::Arity,
                    c.span,
                    format!(
                        "all clauses of `{}` must take {} argument(s); this one takes {}",
                        d.name.name,
                        params.len(),
                        c.params.len()
                    ),
                );
                continue;
            }
            cx.push_scope();
            if let Some(te) = &c.ret {
                let t = self.resolve_type(cx.module, te, &mut cx.tvars, true);
                self.unify_at(&t, ret, te.span);
            }
            let mut binds = Vec::new();
            let pats = self.params(cx, &c.params, params, &mut binds);
            let guard = c
                .guard
                .as_ref()
                .map(|g| self.check_expr(cx, g, &Type::Bool));
            let body = self.check_expr(cx, &c.body, ret);
            cx.pop_scope();
            out.push(hir::Clause {
                params: pats,
                guard,
                body,
            });
        }
        out
    }

    /// Checks parameter patterns against `tys` and binds their names.
    fn params(
        &mut self,
        cx: &mut FnCx,
        ps: &[ast::Param],
        tys: &[Type],
        binds: &mut Vec<(String, LocalId)>,
    ) -> Vec<hir::Pattern> {
        let mut out = Vec::new();
        for (p, t) in ps.iter().zip(tys) {
            if let Some(te) = &p.ty {
                let at = self.resolve_type(cx.module, te, &mut cx.tvars, true);
                self.unify_at(&at, t, te.span);
            }
            out.push(self.check_pattern(cx, &p.pat, t, binds, None));
        }
        for (name, id) in binds.iter() {
            cx.bind(name, *id);
        }
        out
    }

    // ---- supervisors --------------------------------------------------

    fn check_supervisors(&mut self) {
        for i in 0..self.sups.len() {
            let s = &self.sups[i];
            let (m, decl) = (s.module, s.decl);
            let mut strategy = hir::Strategy::OneForOne;
            let mut max_restarts = 3u32;
            let mut max_seconds = 5u32;
            for st in &decl.settings {
                match st.key.name.as_str() {
                    "strategy" => match word(&st.value).as_deref() {
                        Some("one_for_one") => strategy = hir::Strategy::OneForOne,
                        Some("one_for_all") => strategy = hir::Strategy::OneForAll,
                        Some("rest_for_one") => strategy = hir::Strategy::RestForOne,
                        _ => self.err(
                            Code::BadSupervisor,
                            st.value.span,
                            "strategy must be `one_for_one`, `one_for_all` or `rest_for_one`",
                        ),
                    },
                    "max_restarts" | "max_seconds" => match &st.value.kind {
                        ast::ExprKind::Int(n) if *n >= 0 => {
                            let v = u32::try_from(*n).unwrap_or(u32::MAX);
                            if st.key.name == "max_restarts" {
                                max_restarts = v;
                            } else {
                                max_seconds = v;
                            }
                        }
                        _ => self.err(
                            Code::BadSupervisor,
                            st.value.span,
                            format!("`{}` must be a non-negative integer", st.key.name),
                        ),
                    },
                    other => {
                        let msg = format!(
                            "unknown supervisor setting `{other}` (expected strategy, max_restarts, max_seconds or child)"
                        );
                        self.err(Code::BadSupervisor, st.key.span, msg);
                    }
                }
            }
            let mut children = Vec::new();
            for c in &decl.children {
                let mut start = None;
                let mut restart = hir::Restart::Permanent;
                let mut shutdown = hir::Shutdown::Millis(5000);
                for st in &c.settings {
                    match st.key.name.as_str() {
                        "start" => start = Some(self.child_start(m, &st.value)),
                        "restart" => match word(&st.value).as_deref() {
                            Some("permanent") => restart = hir::Restart::Permanent,
                            Some("transient") => restart = hir::Restart::Transient,
                            Some("temporary") => restart = hir::Restart::Temporary,
                            _ => self.err(
                                Code::BadSupervisor,
                                st.value.span,
                                "restart must be `permanent`, `transient` or `temporary`",
                            ),
                        },
                        "shutdown" => match (&st.value.kind, word(&st.value).as_deref()) {
                            (ast::ExprKind::Int(n), _) if *n >= 0 => {
                                shutdown = hir::Shutdown::Millis(u64::try_from(*n).unwrap_or(0))
                            }
                            (_, Some("brutal_kill")) => shutdown = hir::Shutdown::BrutalKill,
                            _ => self.err(
                                Code::BadSupervisor,
                                st.value.span,
                                "shutdown must be milliseconds or `brutal_kill`",
                            ),
                        },
                        other => {
                            let msg = format!(
                                "unknown child setting `{other}` (expected start, restart or shutdown)"
                            );
                            self.err(Code::BadSupervisor, st.key.span, msg);
                        }
                    }
                }
                match start {
                    Some(start) => children.push(hir::ChildInfo {
                        name: c.id.name.clone(),
                        start,
                        restart,
                        shutdown,
                    }),
                    None => self.err(
                        Code::BadSupervisor,
                        c.span,
                        format!("child `{}` needs `start: fn -> spawn(...) end`", c.id.name),
                    ),
                }
            }
            let s = &self.sups[i];
            let sup = hir::Supervisor {
                id: SupervisorId(id32(i)),
                name: s.name.clone(),
                qualified_name: s.qualified.clone(),
                module: m,
                strategy,
                max_restarts,
                max_seconds,
                children,
            };
            self.sups[i].hir = Some(sup);
        }
        self.solve_deferred();
    }

    fn child_start(&mut self, m: ModId, e: &ast::Expr) -> hir::Closure {
        let mut cx = FnCx {
            module: m,
            service: None,
            frames: vec![Frame::new(Type::unit())],
            tvars: HashMap::new(),
        };
        let want = Type::Fun(vec![], Box::new(Type::Pid));
        let he = self.check_expr(&mut cx, e, &want);
        let locals: Vec<hir::LocalInfo> = cx
            .frames
            .pop()
            .map(|f| f.locals)
            .unwrap_or_default()
            .into_iter()
            .map(|(name, s)| hir::LocalInfo { name, ty: s.ty })
            .collect();
        match he.kind {
            hir::ExprKind::Closure(c) if c.captures.is_empty() => *c,
            _ => {
                let span = he.span;
                hir::Closure {
                    arity: 0,
                    clauses: vec![hir::Clause {
                        params: vec![],
                        guard: None,
                        body: hir::Expr {
                            kind: hir::ExprKind::Call {
                                callee: hir::Callee::Expr(Box::new(he)),
                                args: vec![],
                            },
                            ty: Type::Pid,
                            span,
                        },
                    }],
                    captures: vec![],
                    locals,
                }
            }
        }
    }

    // ---- 5. output ----------------------------------------------------

    fn finish(&mut self) -> hir::Program {
        let mut functions: Vec<hir::Function> = Vec::new();
        for i in 0..self.fns.len() {
            let Some(mut f) = self.fns[i].hir.take() else {
                continue;
            };
            let scheme = self.fns[i]
                .scheme
                .clone()
                .unwrap_or_else(|| Scheme::mono(Type::unit()));
            f.scheme = Scheme {
                vars: scheme.vars,
                ty: self.u.zonk(&scheme.ty),
            };
            self.finalize_function(&mut f);
            functions.push(f);
        }
        let mut services = Vec::new();
        for (i, s) in self.svcs.iter().enumerate() {
            let Some(init) = s.init else { continue };
            services.push(hir::Service {
                id: ServiceId(id32(i)),
                name: s.name.clone(),
                qualified_name: s.qualified.clone(),
                module: s.module,
                init,
                state: self.u.zonk(&s.state),
                handlers: s
                    .handlers
                    .iter()
                    .map(|h| hir::HandlerInfo {
                        name: h.name.clone(),
                        op_name: h.op.clone(),
                        is_call: h.is_call,
                        function: h.function,
                        reply: h.reply.as_ref().map(|r| self.u.zonk(r)),
                    })
                    .collect(),
            });
        }
        let mut supervisors = Vec::new();
        for i in 0..self.sups.len() {
            if let Some(mut s) = self.sups[i].hir.take() {
                for c in &mut s.children {
                    self.finalize_closure(&mut c.start);
                }
                supervisors.push(s);
            }
        }
        let entry = self.mods.iter().find(|m| m.is_entry).and_then(|m| {
            match self.scopes[m.id.0 as usize].values.get("main") {
                Some((ValueDef::Fn(id), _)) => Some(*id),
                _ => None,
            }
        });
        let warnings = self
            .diags
            .iter()
            .filter(|d| !d.is_error())
            .cloned()
            .collect();
        hir::Program {
            modules: self
                .mods
                .iter()
                .map(|m| hir::ModuleInfo {
                    name: m.name.clone(),
                    path: m.path.clone(),
                    file: m.file,
                    is_entry: m.is_entry,
                })
                .collect(),
            functions,
            types: self.types.clone(),
            services,
            supervisors,
            entry,
            clustered: self.clustered.clone(),
            warnings,
        }
    }
}

/// A bare word setting value (`one_for_one`, `:one_for_one`).
fn word(e: &ast::Expr) -> Option<String> {
    match &e.kind {
        ast::ExprKind::Var(i) => Some(i.name.clone()),
        ast::ExprKind::Atom(a) => Some(a.clone()),
        _ => None,
    }
}

/// Names and paths mentioned in an expression (for the call graph).
fn collect_names(e: &ast::Expr, out: &mut Vec<Vec<String>>) {
    use ast::ExprKind as E;
    match &e.kind {
        E::Var(i) => out.push(vec![i.name.clone()]),
        E::Path(p) => out.push(p.segments.iter().map(|s| s.name.clone()).collect()),
        E::Str(parts) => parts.iter().for_each(|p| {
            if let ast::StrPiece::Expr(e) = p {
                collect_names(e, out);
            }
        }),
        E::List { elems, tail } => {
            elems.iter().for_each(|e| collect_names(e, out));
            if let Some(t) = tail {
                collect_names(t, out);
            }
        }
        E::Tuple(es) => es.iter().for_each(|e| collect_names(e, out)),
        E::Map(es) => es.iter().for_each(|(k, v)| {
            collect_names(k, out);
            collect_names(v, out);
        }),
        E::StructUpdate { base, fields } => {
            collect_names(base, out);
            fields.iter().for_each(|(_, v)| collect_names(v, out));
        }
        E::StructLit { fields, .. } => fields.iter().for_each(|(_, v)| collect_names(v, out)),
        E::Closure(cs) => cs.iter().for_each(|c| {
            collect_names(&c.body, out);
            if let Some(g) = &c.guard {
                collect_names(g, out);
            }
        }),
        E::Call { callee, args } => {
            collect_names(callee, out);
            args.iter().for_each(|e| collect_names(e, out));
        }
        E::Field { expr, .. } | E::Try(expr) | E::Unary { expr, .. } => collect_names(expr, out),
        E::Index { expr, index } => {
            collect_names(expr, out);
            collect_names(index, out);
        }
        E::Binary { lhs, rhs, .. } => {
            collect_names(lhs, out);
            collect_names(rhs, out);
        }
        E::If { cond, then, else_ } => {
            collect_names(cond, out);
            collect_names(then, out);
            if let Some(e) = else_ {
                collect_names(e, out);
            }
        }
        E::Case { scrutinee, arms } => {
            collect_names(scrutinee, out);
            arms.iter().for_each(|a| {
                collect_names(&a.body, out);
                if let Some(g) = &a.guard {
                    collect_names(g, out);
                }
            });
        }
        E::Receive { arms, after } => {
            arms.iter().for_each(|a| {
                collect_names(&a.body, out);
                if let Some(g) = &a.guard {
                    collect_names(g, out);
                }
            });
            if let Some((t, b)) = after {
                collect_names(t, out);
                collect_names(b, out);
            }
        }
        E::Block(stmts) => stmts.iter().for_each(|s| match s {
            ast::Stmt::Let { value, .. } => collect_names(value, out),
            ast::Stmt::Expr(e) => collect_names(e, out),
        }),
        E::For {
            iter, filter, body, ..
        } => {
            collect_names(iter, out);
            if let Some(f) = filter {
                collect_names(f, out);
            }
            collect_names(body, out);
        }
        E::While { cond, body } => {
            collect_names(cond, out);
            collect_names(body, out);
        }
        E::Return(Some(e)) => collect_names(e, out),
        _ => {}
    }
}

/// Strongly connected components in reverse topological order (callees
/// before callers). Iterative Tarjan.
fn tarjan(deps: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let n = deps.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0usize; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut out = Vec::new();
    let mut counter = 0usize;
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        let mut work: Vec<(usize, usize)> = vec![(root, 0)];
        index[root] = counter;
        low[root] = counter;
        counter += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut i)) = work.last_mut() {
            if let Some(&w) = deps[v].get(*i) {
                *i += 1;
                if w >= n {
                    continue;
                }
                if index[w] == usize::MAX {
                    index[w] = counter;
                    low[w] = counter;
                    counter += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                work.pop();
                if let Some(&(parent, _)) = work.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut comp = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        comp.push(w);
                        if w == v {
                            break;
                        }
                    }
                    comp.reverse();
                    out.push(comp);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::tarjan;

    #[test]
    fn tarjan_orders_callees_first_and_groups_cycles() {
        // 0 -> 1 -> 2 -> 1, 3 alone
        let sccs = tarjan(&[vec![1], vec![2], vec![1], vec![]]);
        assert_eq!(sccs, vec![vec![1, 2], vec![0], vec![3]]);
    }
}
