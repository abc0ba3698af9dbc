//! The typed, resolved program: the checker's output and a compiler's input.
//!
//! Everything is resolved: a variable is a [`LocalId`] slot of the enclosing
//! function or closure, a global function is a [`FnId`], a library function
//! a [`BuiltinId`], a struct field an index in declaration order, a
//! constructor an index in its sum type. Every expression and pattern carries
//! its fully substituted [`Type`] (a remaining `Type::Var` means the value's
//! type is unconstrained, e.g. a message bound by a bare variable in
//! `receive`). Closures own their local slots and list their captures
//! explicitly. Pipes are already calls; `for` over a map binds `(k, v)`
//! tuples; `a..b` is [`ExprKind::Range`] of type `List<Int>`.

use crate::ast::{BinOp, UnOp};
use crate::builtins::BuiltinId;
use crate::diag::Diagnostic;
use crate::source::{FileId, Span};
use crate::types::{Scheme, Type, TypeDef, TypeId};

macro_rules! id {
    ($($(#[$doc:meta])* $name:ident),*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);
    )*};
}

id!(
    /// Index into [`Program::functions`].
    FnId,
    /// A local slot of one function or closure body.
    LocalId,
    /// Index into [`Program::modules`].
    ModId,
    /// Index into [`Program::services`].
    ServiceId,
    /// Index into [`Program::supervisors`].
    SupervisorId
);

/// A checked project.
#[derive(Debug, Clone)]
pub struct Program {
    pub modules: Vec<ModuleInfo>,
    pub functions: Vec<Function>,
    /// Built-in types first (`Option`, `Result`, `BootstrapStatus`), then user types.
    pub types: Vec<TypeDef>,
    pub services: Vec<Service>,
    pub supervisors: Vec<Supervisor>,
    /// `Main.main`, when the project has a `main.mpl`.
    pub entry: Option<FnId>,
    /// `@cluster` declarations.
    pub clustered: Vec<ClusterDecl>,
    /// Warnings produced while checking (errors make checking fail).
    pub warnings: Vec<Diagnostic>,
}

impl Program {
    /// The function with the given runtime name (`Work.add`).
    pub fn function_by_name(&self, qualified: &str) -> Option<&Function> {
        self.functions
            .iter()
            .find(|f| f.qualified_name == qualified)
    }
}

/// A source module.
#[derive(Debug, Clone)]
pub struct ModuleInfo {
    /// `Api.TodoItems`
    pub name: String,
    pub path: String,
    pub file: FileId,
    pub is_entry: bool,
}

/// `@cluster(N) pub fn f` in module `M`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterDecl {
    pub function: FnId,
    /// Runtime name `M.f`.
    pub runtime_name: String,
    /// Total copies (owner + replicas); bare `@cluster` is 2.
    pub replicas: u32,
    pub span: Span,
}

/// What a [`Function`] is.
#[derive(Debug, Clone)]
pub enum FnKind {
    Plain,
    /// An actor body; spawned or called. `terminate` runs on exit and sees
    /// the parameters' locals.
    Actor {
        terminate: Option<Expr>,
    },
    /// A service's `init`: its result is the initial state.
    ServiceInit(ServiceId),
    /// A call/cast handler: parameters are the handler's arguments followed
    /// by the state. A call handler returns `(new_state, reply)`, a cast
    /// handler the new state.
    Handler {
        service: ServiceId,
        index: u32,
    },
    /// A helper `fn` declared inside a service.
    ServiceHelper(ServiceId),
}

/// A global function (also actors and service handlers).
#[derive(Debug, Clone)]
pub struct Function {
    pub id: FnId,
    pub name: String,
    /// Runtime name `Module.name` (`Service.name` for service members).
    pub qualified_name: String,
    pub module: ModId,
    pub public: bool,
    pub kind: FnKind,
    pub arity: usize,
    /// Tried in order; the first whose patterns and guard match runs.
    pub clauses: Vec<Clause>,
    /// Slot table: `LocalId(i)` is `locals[i]`.
    pub locals: Vec<LocalInfo>,
    pub scheme: Scheme,
    pub span: Span,
}

/// A local variable's name and type.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalInfo {
    pub name: String,
    pub ty: Type,
}

/// One clause of a function or closure.
#[derive(Debug, Clone)]
pub struct Clause {
    pub params: Vec<Pattern>,
    pub guard: Option<Expr>,
    pub body: Expr,
}

/// A service (GenServer).
#[derive(Debug, Clone)]
pub struct Service {
    pub id: ServiceId,
    pub name: String,
    pub qualified_name: String,
    pub module: ModId,
    pub init: FnId,
    pub state: Type,
    /// Handlers in declaration order; `Callee::ServiceCall{handler}` indexes this.
    pub handlers: Vec<HandlerInfo>,
}

/// A call or cast handler.
#[derive(Debug, Clone)]
pub struct HandlerInfo {
    /// As declared (`Get`).
    pub name: String,
    /// Generated client function (`get`, called as `Counter.get(pid, ...)`).
    pub op_name: String,
    pub is_call: bool,
    pub function: FnId,
    /// Reply type for calls.
    pub reply: Option<Type>,
}

/// Restart strategy of a supervisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    OneForOne,
    OneForAll,
    RestForOne,
}

/// When a child is restarted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restart {
    Permanent,
    Transient,
    Temporary,
}

/// How a child is stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    Millis(u64),
    BrutalKill,
}

/// A supervisor.
#[derive(Debug, Clone)]
pub struct Supervisor {
    pub id: SupervisorId,
    pub name: String,
    pub qualified_name: String,
    pub module: ModId,
    pub strategy: Strategy,
    pub max_restarts: u32,
    pub max_seconds: u32,
    pub children: Vec<ChildInfo>,
}

/// A supervised child.
#[derive(Debug, Clone)]
pub struct ChildInfo {
    pub name: String,
    /// A zero-argument function returning the child's `Pid`.
    pub start: Closure,
    pub restart: Restart,
    pub shutdown: Shutdown,
}

/// A literal value.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
    Atom(String),
    Unit,
}

/// A typed expression.
#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub ty: Type,
    pub span: Span,
}

/// What is being called.
#[derive(Debug, Clone)]
pub enum Callee {
    Fn(FnId),
    Builtin(BuiltinId),
    /// A closure or function value computed by an expression.
    Expr(Box<Expr>),
    /// `Svc.start(args)`: runs `init(args)` in a new process; returns its `Pid`.
    ServiceStart(ServiceId),
    /// `Svc.op(pid, args)`: sends handler `handler` and (for calls) waits for the reply.
    ServiceOp {
        service: ServiceId,
        handler: u32,
    },
}

/// How `?` unwraps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryKind {
    Result,
    Option,
}

/// A piece of an interpolated string.
#[derive(Debug, Clone)]
pub enum InterpPart {
    Lit(String),
    /// Shown with Display.
    Expr(Expr),
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    Lit(Literal),
    Local(LocalId),
    /// A global function used as a value.
    Fn(FnId),
    /// A builtin used as a value.
    Builtin(BuiltinId),
    /// A supervisor used as a value (`spawn(Sup)`).
    Supervisor(SupervisorId),
    Interp(Vec<InterpPart>),
    Tuple(Vec<Expr>),
    List {
        elems: Vec<Expr>,
        tail: Option<Box<Expr>>,
    },
    Map(Vec<(Expr, Expr)>),
    /// `lo..hi`, end exclusive.
    Range(Box<Expr>, Box<Expr>),
    /// Fields in declaration order.
    Struct {
        ty: TypeId,
        fields: Vec<Expr>,
    },
    StructUpdate {
        ty: TypeId,
        base: Box<Expr>,
        updates: Vec<(u32, Expr)>,
    },
    Variant {
        ty: TypeId,
        ctor: u32,
        args: Vec<Expr>,
    },
    /// Field `index` of struct `ty`; `name` is kept for diagnostics.
    Field {
        expr: Box<Expr>,
        ty: TypeId,
        index: u32,
        name: String,
    },
    /// `xs[i]` on a list (Int index) or map (key).
    Index {
        expr: Box<Expr>,
        index: Box<Expr>,
    },
    Call {
        callee: Callee,
        args: Vec<Expr>,
    },
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Unary {
        op: UnOp,
        expr: Box<Expr>,
    },
    If {
        cond: Box<Expr>,
        then: Box<Expr>,
        else_: Option<Box<Expr>>,
    },
    Case {
        scrutinee: Box<Expr>,
        arms: Vec<Arm>,
    },
    /// Arms match messages of any type.
    Receive {
        arms: Vec<Arm>,
        after: Option<(Box<Expr>, Box<Expr>)>,
    },
    Block(Vec<Stmt>),
    /// Yields the list of body values.
    For {
        pat: Pattern,
        iter: Box<Expr>,
        filter: Option<Box<Expr>>,
        body: Box<Expr>,
    },
    While {
        cond: Box<Expr>,
        body: Box<Expr>,
    },
    Break,
    Continue,
    Return(Box<Expr>),
    Try {
        expr: Box<Expr>,
        kind: TryKind,
    },
    Closure(Box<Closure>),
}

/// A closure: its own local slots, and captured outer locals copied in.
#[derive(Debug, Clone)]
pub struct Closure {
    pub arity: usize,
    pub clauses: Vec<Clause>,
    pub captures: Vec<Capture>,
    pub locals: Vec<LocalInfo>,
}

/// `outer` (a slot of the enclosing body) is copied into `inner` (a slot of the closure).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capture {
    pub outer: LocalId,
    pub inner: LocalId,
}

/// A `case`/`receive` arm.
#[derive(Debug, Clone)]
pub struct Arm {
    pub pat: Pattern,
    pub guard: Option<Expr>,
    pub body: Expr,
}

/// A statement.
#[derive(Debug, Clone)]
pub enum Stmt {
    Let { pat: Pattern, value: Expr },
    Expr(Expr),
}

/// A typed pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub kind: PatternKind,
    pub ty: Type,
    pub span: Span,
}

impl Pattern {
    /// Calls `f` on this pattern and then on every pattern inside it.
    pub fn for_each_mut(&mut self, f: &mut dyn FnMut(&mut Pattern)) {
        f(self);
        match &mut self.kind {
            PatternKind::Tuple(ps)
            | PatternKind::Or(ps)
            | PatternKind::Variant { args: ps, .. } => {
                ps.iter_mut().for_each(|p| p.for_each_mut(f));
            }
            PatternKind::List { elems, tail } => {
                elems.iter_mut().for_each(|p| p.for_each_mut(f));
                if let Some(t) = tail {
                    t.for_each_mut(f);
                }
            }
            PatternKind::Cons(h, t) => {
                h.for_each_mut(f);
                t.for_each_mut(f);
            }
            PatternKind::Struct { fields, .. } => {
                fields.iter_mut().for_each(|(_, p)| p.for_each_mut(f));
            }
            PatternKind::Map(es) => es.iter_mut().for_each(|(k, v)| {
                k.for_each_mut(f);
                v.for_each_mut(f);
            }),
            PatternKind::As(p, _) => p.for_each_mut(f),
            PatternKind::Wildcard | PatternKind::Bind(_) | PatternKind::Lit(_) => {}
        }
    }
}

#[derive(Debug, Clone)]
pub enum PatternKind {
    Wildcard,
    Bind(LocalId),
    Lit(Literal),
    Tuple(Vec<Pattern>),
    List {
        elems: Vec<Pattern>,
        tail: Option<Box<Pattern>>,
    },
    Cons(Box<Pattern>, Box<Pattern>),
    Variant {
        ty: TypeId,
        ctor: u32,
        args: Vec<Pattern>,
    },
    /// Only the listed fields (by index) are matched.
    Struct {
        ty: TypeId,
        fields: Vec<(u32, Pattern)>,
    },
    /// Each key must be present and its value match.
    Map(Vec<(Pattern, Pattern)>),
    Or(Vec<Pattern>),
    As(Box<Pattern>, LocalId),
}
