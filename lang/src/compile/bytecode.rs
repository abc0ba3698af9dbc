//! The bytecode: what the compiler emits, the VM runs and `meshc build`
//! embeds in an executable.
//!
//! Register machine. Every function has a fixed number of registers
//! (`nregs`); operands are register numbers relative to the current frame's
//! base. A call passes its arguments in consecutive registers of the
//! caller, and the callee's frame starts at the first of them (Lua's
//! calling convention), so arguments are never copied. Registers `0..arity`
//! of a frame are the arguments, then captured values (closures), then
//! locals and temporaries.
//!
//! Pattern tests jump to `fail` when the test does not hold; the compiler
//! lays out a decision chain of such tests per `case` arm or clause.
//!
//! Everything here is plain data and serialisable: a [`Program`] is the
//! unit `meshc build` writes (with [`FORMAT_VERSION`]).

use serde::{Deserialize, Serialize};

/// Bumped whenever the encoding of [`Program`] changes.
pub const FORMAT_VERSION: u32 = 3;

/// A register number, relative to the frame base.
pub type Reg = u16;

/// A jump target: an index into the function's code.
pub type Label = u32;

/// A compiled program.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Program {
    pub funcs: Vec<Func>,
    pub consts: Vec<Const>,
    /// Atom names; `Op` atom operands index this table.
    pub atoms: Vec<String>,
    /// Source paths; [`Func::file`] indexes this table.
    pub files: Vec<String>,
    /// Receive matchers; [`Op::Receive`] indexes this table.
    pub matchers: Vec<Matcher>,
    /// `Main.main`.
    pub entry: Option<u32>,
}

/// A function, a closure body, or a generated wrapper.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Func {
    /// Runtime name (`Main.fib`, `Main.main/closure@3:12`).
    pub name: String,
    pub arity: u16,
    pub nregs: u16,
    /// Registers that receive a closure's captured values, in order.
    pub captures: Vec<Reg>,
    pub code: Vec<Op>,
    /// `(first pc, line)` pairs, sorted by pc.
    pub lines: Vec<(u32, u32)>,
    pub file: u32,
    /// Body run when an actor exits (normal or not): a function of the
    /// actor's arguments.
    pub terminate: Option<u32>,
}

impl Func {
    /// The source line of the instruction at `pc`.
    pub fn line_at(&self, pc: usize) -> u32 {
        let pc = u32::try_from(pc).unwrap_or(u32::MAX);
        match self.lines.binary_search_by(|&(p, _)| p.cmp(&pc)) {
            Ok(i) => self.lines[i].1,
            Err(0) => self.lines.first().map_or(0, |l| l.1),
            Err(i) => self.lines[i - 1].1,
        }
    }
}

/// A constant, materialised as a `Term` when the program is loaded.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum Const {
    Unit,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// Index into [`Program::atoms`].
    Atom(u32),
    Tuple(Vec<Const>),
    List(Vec<Const>),
    Variant {
        type_name: u32,
        ctor: u32,
        fields: Vec<Const>,
    },
    /// A global function as a value (a closure without captures).
    Fn(u32),
}

/// Binary operators on two registers.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum Bin {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `<>`
    Concat,
    /// `++`
    Append,
}

/// Comparisons that can be fused with a branch.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    /// The comparison that holds exactly when `self` does not.
    pub fn negate(self) -> Cmp {
        match self {
            Cmp::Eq => Cmp::Ne,
            Cmp::Ne => Cmp::Eq,
            Cmp::Lt => Cmp::Ge,
            Cmp::Le => Cmp::Gt,
            Cmp::Gt => Cmp::Le,
            Cmp::Ge => Cmp::Lt,
        }
    }
}

/// Why a process fails at an [`Op::Fail`].
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum FailKind {
    /// No `case` arm matched the value in the register.
    CaseClause,
    /// No clause of the function matched its arguments.
    FunctionClause,
    /// A `let` pattern did not match.
    LetMatch,
    /// A `receive` got a message no arm accepts (cannot happen: the
    /// matcher only takes accepted messages).
    ReceiveClause,
}

/// Shapes [`Op::TestShape`] checks.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum Shape {
    /// A tuple of exactly this many elements.
    Tuple(u16),
    /// A non-empty list.
    Cons,
    /// The empty list.
    Nil,
    /// A list with exactly this many elements.
    ListLen(u16),
    /// A list with at least this many elements.
    ListMin(u16),
    /// A struct named by this atom.
    Struct(u32),
    /// A variant whose constructor is this atom.
    Variant(u32),
    /// A map.
    Map,
}

/// One instruction.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub enum Op {
    Move {
        dst: Reg,
        src: Reg,
    },
    /// Move out of `src` (its last use), leaving unit behind, so the
    /// value stays unshared and can be updated in place.
    Take {
        dst: Reg,
        src: Reg,
    },
    /// A constant from the pool.
    Const {
        dst: Reg,
        idx: u32,
    },
    /// A small integer.
    Int {
        dst: Reg,
        v: i32,
    },
    Unit {
        dst: Reg,
    },
    Bool {
        dst: Reg,
        v: bool,
    },
    Bin {
        op: Bin,
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    /// `a + imm` on integers (release mode).
    AddImm {
        dst: Reg,
        a: Reg,
        imm: i16,
    },
    /// `a op imm` with an integer immediate (release mode).
    BinImm {
        op: Bin,
        dst: Reg,
        a: Reg,
        imm: i32,
    },
    Neg {
        dst: Reg,
        a: Reg,
    },
    Not {
        dst: Reg,
        a: Reg,
    },
    Jump {
        to: Label,
    },
    /// Jump when the register holds `false`.
    JumpIfNot {
        r: Reg,
        to: Label,
    },
    JumpIf {
        r: Reg,
        to: Label,
    },
    /// Jump when the comparison does *not* hold.
    BranchNot {
        cmp: Cmp,
        a: Reg,
        b: Reg,
        to: Label,
    },
    /// Jump when `a cmp imm` does *not* hold (release mode).
    BranchNotImm {
        cmp: Cmp,
        a: Reg,
        imm: i32,
        to: Label,
    },
    /// Call global function `func` with `n` arguments in `base..base+n`.
    Call {
        dst: Reg,
        func: u32,
        base: Reg,
        n: u16,
    },
    TailCall {
        func: u32,
        base: Reg,
        n: u16,
    },
    /// Call the closure in register `f`.
    CallValue {
        dst: Reg,
        f: Reg,
        base: Reg,
        n: u16,
    },
    TailCallValue {
        f: Reg,
        base: Reg,
        n: u16,
    },
    /// Call a standard-library function (a `BuiltinId`).
    Builtin {
        dst: Reg,
        id: u16,
        base: Reg,
        n: u16,
    },
    Return {
        r: Reg,
    },
    Tuple {
        dst: Reg,
        base: Reg,
        n: u16,
    },
    List {
        dst: Reg,
        base: Reg,
        n: u16,
    },
    /// The `n` elements in `base..` followed by the list in `tail` (a
    /// temporary the instruction consumes).
    ListCons {
        dst: Reg,
        base: Reg,
        n: u16,
        tail: Reg,
    },
    /// `n` key/value pairs in `base..base+2n`.
    Map {
        dst: Reg,
        base: Reg,
        n: u16,
    },
    Struct {
        dst: Reg,
        name: u32,
        base: Reg,
        n: u16,
    },
    Variant {
        dst: Reg,
        type_name: u32,
        ctor: u32,
        base: Reg,
        n: u16,
    },
    /// A copy of the struct in `src` with field `idx` set to `val`.
    SetField {
        dst: Reg,
        src: Reg,
        idx: u16,
        val: Reg,
    },
    /// Element `idx` of a tuple, struct or variant.
    Elem {
        dst: Reg,
        src: Reg,
        idx: u16,
    },
    /// `xs[i]` on a list (int index) or map (key).
    Index {
        dst: Reg,
        src: Reg,
        idx: Reg,
    },
    /// `lo..hi` as a list.
    Range {
        dst: Reg,
        lo: Reg,
        hi: Reg,
    },
    /// Display of `n` registers concatenated.
    Interp {
        dst: Reg,
        base: Reg,
        n: u16,
    },
    /// A closure over `func` capturing `n` registers from `base`.
    Closure {
        dst: Reg,
        func: u32,
        base: Reg,
        n: u16,
    },
    /// Jump to `fail` unless `r` has the shape.
    TestShape {
        r: Reg,
        shape: Shape,
        fail: Label,
    },
    /// Jump to `fail` unless `r` equals constant `idx`.
    TestConst {
        r: Reg,
        idx: u32,
        fail: Label,
    },
    /// Jump to `fail` unless `r` is the integer `v`.
    TestInt {
        r: Reg,
        v: i32,
        fail: Label,
    },
    /// Jump to `fail` unless `r` is the atom `atom`.
    TestAtom {
        r: Reg,
        atom: u32,
        fail: Label,
    },
    /// Head of a non-empty list.
    Head {
        dst: Reg,
        src: Reg,
    },
    /// Tail of a non-empty list.
    Tail {
        dst: Reg,
        src: Reg,
    },
    /// List element `idx` (the list was tested long enough).
    ListElem {
        dst: Reg,
        src: Reg,
        idx: u16,
    },
    /// The list without its first `n` elements.
    ListDrop {
        dst: Reg,
        src: Reg,
        n: u16,
    },
    /// `dst = map[key]`, or jump to `fail` when the key is missing.
    MapLookup {
        dst: Reg,
        map: Reg,
        key: Reg,
        fail: Label,
    },
    /// The collection in `src` as a list (a map gives `(k, v)` tuples).
    ToList {
        dst: Reg,
        src: Reg,
    },
    /// Length of a list.
    Len {
        dst: Reg,
        src: Reg,
    },
    /// Append `val` to the list in `list` (in place when unshared).
    Push {
        list: Reg,
        val: Reg,
    },
    /// The process fails with `kind`, showing the value in `r`.
    Fail {
        kind: FailKind,
        r: Reg,
    },
    /// Integer loop: jump to `done` when `i >= hi`, else continue.
    LoopTest {
        i: Reg,
        hi: Reg,
        done: Label,
    },
    /// Selective receive with matcher `matcher`. The accepted message goes
    /// to `dst`. With `timeout` set (a register holding milliseconds), a
    /// timeout jumps to `on_timeout`.
    Receive {
        dst: Reg,
        matcher: u32,
        timeout: Option<Reg>,
        on_timeout: Label,
    },
    /// `Option`/`Result` `?`: if `r` is `None`/`Err(_)`, return it.
    TryReturn {
        r: Reg,
        dst: Reg,
    },
    /// `s.field`: field `idx` of `src`, which must be a struct named by
    /// atom `name` (a message received into an untyped variable may be
    /// anything); `field` (an atom) names the field for the error.
    Field {
        dst: Reg,
        src: Reg,
        idx: u16,
        name: u32,
        field: u32,
    },
}

/// What a `receive` accepts: a message matching any arm's pattern (and
/// guard). Guards are evaluated by the VM with a copy of the waiting
/// frame's registers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Matcher {
    pub arms: Vec<MatchArm>,
}

/// One `receive` arm as data.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MatchArm {
    pub pat: Pat,
    /// A function of the waiting frame's registers that returns a Bool;
    /// its register layout is the enclosing function's.
    pub guard: Option<u32>,
}

/// A pattern as data (for `receive`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum Pat {
    Any,
    /// Bind to a register (for guards).
    Bind(Reg),
    Const(u32),
    Tuple(Vec<Pat>),
    List {
        elems: Vec<Pat>,
        tail: Option<Box<Pat>>,
    },
    Variant {
        ctor: u32,
        args: Vec<Pat>,
    },
    Struct {
        name: u32,
        fields: Vec<(u16, Pat)>,
    },
    Map(Vec<(u32, Pat)>),
    Or(Vec<Pat>),
    As(Box<Pat>, Reg),
}

/// Why bytes could not be read back as a [`Program`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    #[error("not a Mesh program image (bad magic)")]
    Magic,
    #[error(
        "program image format {found} is not supported (this runtime reads format {FORMAT_VERSION})"
    )]
    Version { found: u32 },
    #[error("corrupt program image: {0}")]
    Corrupt(#[from] postcard::Error),
}

const MAGIC: &[u8; 8] = b"MESHPRG\0";

impl Program {
    /// The program as bytes: magic, format version, postcard body.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        // Encoding plain data into a Vec cannot fail.
        if let Ok(body) = postcard::to_allocvec(self) {
            out.extend_from_slice(&body);
        }
        out
    }

    /// Reads bytes written by [`Program::encode`].
    pub fn decode(bytes: &[u8]) -> Result<Program, DecodeError> {
        let rest = bytes
            .strip_prefix(MAGIC.as_slice())
            .ok_or(DecodeError::Magic)?;
        let (v, body) = rest.split_at_checked(4).ok_or(DecodeError::Magic)?;
        let found = u32::from_le_bytes([v[0], v[1], v[2], v[3]]);
        if found != FORMAT_VERSION {
            return Err(DecodeError::Version { found });
        }
        Ok(postcard::from_bytes(body)?)
    }
}
