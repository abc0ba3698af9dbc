//! The untyped syntax tree produced by the parser.
//!
//! Every node carries a [`Span`]. The tree is a faithful picture of the
//! source: names are strings, nothing is resolved, and constructs the checker
//! does not support yet (interfaces, impls, nested modules) are still parsed
//! so that it can point at them. Pipes are already desugared into calls.

use crate::source::Span;

/// A name with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A parsed file.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceFile {
    pub items: Vec<Item>,
    pub span: Span,
}

/// `@name` or `@name(args)` before an item.
#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    pub name: Ident,
    pub args: Vec<Expr>,
    pub span: Span,
}

/// A top-level (or module-level) item.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub kind: ItemKind,
    pub attrs: Vec<Attribute>,
    pub public: bool,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ItemKind {
    Fn(FnDecl),
    Actor(ActorDecl),
    Service(ServiceDecl),
    Supervisor(SupervisorDecl),
    Struct(StructDecl),
    SumType(SumTypeDecl),
    TypeAlias(TypeAliasDecl),
    Interface(InterfaceDecl),
    Impl(ImplDecl),
    Import(ImportDecl),
    FromImport(FromImportDecl),
    Module(ModuleDecl),
}

/// A function: one or more consecutive clauses of one name.
#[derive(Clone, Debug, PartialEq)]
pub struct FnDecl {
    pub name: Ident,
    pub generics: Vec<Ident>,
    pub clauses: Vec<FnClause>,
}

/// One clause: `fn name(params) [-> Ret] [when guard] do ... end | = expr`.
#[derive(Clone, Debug, PartialEq)]
pub struct FnClause {
    pub params: Vec<Param>,
    pub ret: Option<TypeExpr>,
    pub guard: Option<Expr>,
    pub body: Expr,
    pub span: Span,
}

/// A parameter pattern with an optional `:: Type`.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub pat: Pattern,
    pub ty: Option<TypeExpr>,
    pub span: Span,
}

/// `actor name(params) do body [terminate do ... end] end`.
#[derive(Clone, Debug, PartialEq)]
pub struct ActorDecl {
    pub name: Ident,
    pub params: Vec<Param>,
    pub body: Expr,
    pub terminate: Option<Expr>,
}

/// `service Name do fn init(...) ... call/cast handlers ... end`.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceDecl {
    pub name: Ident,
    pub fns: Vec<FnDecl>,
    pub handlers: Vec<Handler>,
}

/// Whether a handler replies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandlerKind {
    Call,
    Cast,
}

/// `call Name(params) :: Reply do |state| body end` or `cast Name(params) do |state| body end`.
#[derive(Clone, Debug, PartialEq)]
pub struct Handler {
    pub kind: HandlerKind,
    pub name: Ident,
    pub params: Vec<Param>,
    pub reply: Option<TypeExpr>,
    pub state: Pattern,
    pub body: Expr,
    pub span: Span,
}

/// `supervisor Name do key: value ... child id do key: value ... end end`.
#[derive(Clone, Debug, PartialEq)]
pub struct SupervisorDecl {
    pub name: Ident,
    pub settings: Vec<Setting>,
    pub children: Vec<ChildSpec>,
}

/// `key: value` inside a supervisor.
#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    pub key: Ident,
    pub value: Expr,
}

/// `child id do settings end`.
#[derive(Clone, Debug, PartialEq)]
pub struct ChildSpec {
    pub id: Ident,
    pub settings: Vec<Setting>,
    pub span: Span,
}

/// `struct Name<T> do field :: Type ... end [deriving(...)]`.
#[derive(Clone, Debug, PartialEq)]
pub struct StructDecl {
    pub name: Ident,
    pub generics: Vec<Ident>,
    pub fields: Vec<(Ident, TypeExpr)>,
    pub deriving: Vec<Ident>,
}

/// `type Name<T> do Ctor Ctor(T, U) ... end [deriving(...)]`.
#[derive(Clone, Debug, PartialEq)]
pub struct SumTypeDecl {
    pub name: Ident,
    pub generics: Vec<Ident>,
    pub variants: Vec<Variant>,
    pub deriving: Vec<Ident>,
}

/// One constructor of a sum type.
#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    pub name: Ident,
    pub fields: Vec<TypeExpr>,
    pub span: Span,
}

/// `type Name<T> = Type`.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeAliasDecl {
    pub name: Ident,
    pub generics: Vec<Ident>,
    pub ty: TypeExpr,
}

/// `interface Name do fn sig(...) -> T ... end` (also spelled `trait`).
#[derive(Clone, Debug, PartialEq)]
pub struct InterfaceDecl {
    pub name: Ident,
    pub methods: Vec<FnSig>,
}

/// A bodiless function signature.
#[derive(Clone, Debug, PartialEq)]
pub struct FnSig {
    pub name: Ident,
    pub params: Vec<Param>,
    pub ret: Option<TypeExpr>,
    pub span: Span,
}

/// `impl Trait for Type do fns end`.
#[derive(Clone, Debug, PartialEq)]
pub struct ImplDecl {
    pub interface: Path,
    pub for_type: TypeExpr,
    pub fns: Vec<FnDecl>,
}

/// `import A.B`.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportDecl {
    pub path: Path,
}

/// `from A.B import x, y` (names may be parenthesised).
#[derive(Clone, Debug, PartialEq)]
pub struct FromImportDecl {
    pub path: Path,
    pub names: Vec<Ident>,
}

/// `module Name do items end`.
#[derive(Clone, Debug, PartialEq)]
pub struct ModuleDecl {
    pub name: Path,
    pub items: Vec<Item>,
}

/// A dotted name `A.B.c`.
#[derive(Clone, Debug, PartialEq)]
pub struct Path {
    pub segments: Vec<Ident>,
    pub span: Span,
}

impl Path {
    /// The segments joined with `.`.
    pub fn dotted(&self) -> String {
        let names: Vec<&str> = self.segments.iter().map(|s| s.name.as_str()).collect();
        names.join(".")
    }
}

/// A type as written.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeExpr {
    pub kind: TypeExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TypeExprKind {
    /// `Name`, `Mod.Name`, `List<T>`; a lowercase single name is a type variable.
    Named { path: Path, args: Vec<TypeExpr> },
    /// `(A, B)`; `()` is unit.
    Tuple(Vec<TypeExpr>),
    /// `Fun(A, B) -> R`.
    Fun {
        params: Vec<TypeExpr>,
        ret: Box<TypeExpr>,
    },
    /// `T?`
    Option(Box<TypeExpr>),
    /// `T!E`
    Result(Box<TypeExpr>, Box<TypeExpr>),
    /// Produced by error recovery.
    Error,
}

/// An expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Or,
    And,
    Eq,
    NotEq,
    Lt,
    Gt,
    Le,
    Ge,
    Range,
    /// `<>` string concatenation.
    Concat,
    /// `++` list concatenation.
    Append,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl BinOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "==",
            BinOp::NotEq => "!=",
            BinOp::Lt => "<",
            BinOp::Gt => ">",
            BinOp::Le => "<=",
            BinOp::Ge => ">=",
            BinOp::Range => "..",
            BinOp::Concat => "<>",
            BinOp::Append => "++",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
        }
    }
}

/// Prefix operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnOp {
    Neg,
    Not,
}

/// A piece of an interpolated string.
#[derive(Clone, Debug, PartialEq)]
pub enum StrPiece {
    Lit(String),
    Expr(Expr),
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Int(i64),
    Float(f64),
    Bool(bool),
    Nil,
    /// `()`
    Unit,
    Atom(String),
    /// A string; one `Lit` piece when there is no interpolation.
    Str(Vec<StrPiece>),
    /// A bare name.
    Var(Ident),
    /// `A.B.c` where the first segment is capitalised (module, type, constructor path).
    Path(Path),
    /// `[a, b | tail]`
    List {
        elems: Vec<Expr>,
        tail: Option<Box<Expr>>,
    },
    /// `(a, b)`
    Tuple(Vec<Expr>),
    /// `%{k => v, ...}`; `name: v` keys are atoms.
    Map(Vec<(Expr, Expr)>),
    /// `%{base | field: v}`
    StructUpdate {
        base: Box<Expr>,
        fields: Vec<(Ident, Expr)>,
    },
    /// `Name { field: v }`
    StructLit {
        name: Path,
        fields: Vec<(Ident, Expr)>,
    },
    /// `fn params -> body end`, possibly with several `|`-separated clauses.
    Closure(Vec<ClosureClause>),
    Call {
        callee: Box<Expr>,
        args: Vec<Expr>,
    },
    /// `expr.name` on a non-path expression.
    Field {
        expr: Box<Expr>,
        name: Ident,
    },
    Index {
        expr: Box<Expr>,
        index: Box<Expr>,
    },
    /// Postfix `?`.
    Try(Box<Expr>),
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Unary {
        op: UnOp,
        expr: Box<Expr>,
    },
    /// `if c do ... else ... end`; `else if` nests another `If` in `else_`.
    If {
        cond: Box<Expr>,
        then: Box<Expr>,
        else_: Option<Box<Expr>>,
    },
    Case {
        scrutinee: Box<Expr>,
        arms: Vec<Arm>,
    },
    Receive {
        arms: Vec<Arm>,
        after: Option<(Box<Expr>, Box<Expr>)>,
    },
    /// `do ... end` contents: statements, the last one is the value.
    Block(Vec<Stmt>),
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
    Return(Option<Box<Expr>>),
    /// `spawn`, `send`, `self`, `link`, `monitor` used as a function name.
    Builtin(Ident),
    /// Produced by error recovery; already reported.
    Error,
}

/// One closure clause.
#[derive(Clone, Debug, PartialEq)]
pub struct ClosureClause {
    pub params: Vec<Param>,
    pub guard: Option<Expr>,
    pub body: Expr,
    pub span: Span,
}

/// `pattern [when guard] -> body`.
#[derive(Clone, Debug, PartialEq)]
pub struct Arm {
    pub pat: Pattern,
    pub guard: Option<Expr>,
    pub body: Expr,
    pub span: Span,
}

/// A statement in a block.
#[derive(Clone, Debug, PartialEq)]
pub enum Stmt {
    Let {
        pat: Pattern,
        ty: Option<TypeExpr>,
        value: Expr,
        span: Span,
    },
    Expr(Expr),
}

/// A pattern.
#[derive(Clone, Debug, PartialEq)]
pub struct Pattern {
    pub kind: PatternKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum PatternKind {
    Wildcard,
    Var(Ident),
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    Nil,
    Unit,
    Atom(String),
    Tuple(Vec<Pattern>),
    /// `[a, b | tail]`
    List {
        elems: Vec<Pattern>,
        tail: Option<Box<Pattern>>,
    },
    /// `h :: t`
    Cons(Box<Pattern>, Box<Pattern>),
    /// `Some(x)`, `Shape.Circle(r)`, `None`
    Ctor {
        path: Path,
        args: Vec<Pattern>,
    },
    /// `Pt { x: px, y: _ }`
    Struct {
        path: Path,
        fields: Vec<(Ident, Pattern)>,
    },
    /// `%{"k" => v}`
    Map(Vec<(Pattern, Pattern)>),
    Or(Vec<Pattern>),
    /// `pat as name`
    As(Box<Pattern>, Ident),
    /// Produced by error recovery.
    Error,
}

/// A test of a `*.test.mpl` file: what `meshc test` runs (see
/// `parser::parse_test_file`, which lowers tests to functions).
#[derive(Clone, Debug, PartialEq)]
pub struct TestDecl {
    /// The test's name, after its groups' names: `group > name`.
    pub name: String,
    /// The generated function that runs the setups and the test body.
    pub func: String,
    /// Generated teardown functions, run in this order after the test.
    pub teardowns: Vec<String>,
    pub span: Span,
}
