//! HIR → bytecode.
//!
//! One [`FnGen`] per function or closure body emits register code (see
//! [`bytecode`] for the machine). Registers of a frame are laid out as:
//! arguments, then one register per local slot (a parameter bound by a
//! plain name shares its argument's register), then temporaries allocated
//! as a stack. A call puts its arguments in fresh temporaries at the top,
//! so the callee's frame can start there without copying.
//!
//! Expressions compile towards a [`Dest`]: a register, or "return this"
//! (tail position), where calls become tail calls. `--release`
//! ([`Options::optimize`]) folds constant expressions and uses
//! immediate-operand arithmetic.
//!
//! Services and supervisors are lowered in [`service`] and [`supervisor`].
//! What the VM cannot run (a map pattern whose key is not a literal) is
//! reported as an `E0309` diagnostic at its span, never miscompiled.

pub mod bytecode;
mod fold;
mod service;
mod supervisor;
mod uses;

use std::collections::HashMap;

use crate::ast::{BinOp, UnOp};
use crate::builtins::BuiltinId;
use crate::diag::{Code, Diagnostic};
use crate::hir::{self, Callee, Expr, ExprKind, Literal, Pattern, PatternKind, Stmt};
use crate::source::{SourceMap, Span};
use crate::types::{Type, TypeDefKind, TypeId};
use bytecode::{
    Bin, Cmp, Const, FailKind, Func, Label, MatchArm, Matcher, Op, Pat, Program, Reg, Shape,
};

/// Compiler settings.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Run the optimising passes (`meshc build --release`).
    pub optimize: bool,
}

/// `Process.is_alive` is a probe and its answer (see `stdlib/process.rs`).
const IS_ALIVE: &str = "Process.is_alive";

/// The id of an internal builtin row (the table always has it).
fn internal_builtin(name: &str) -> u16 {
    crate::builtins::lookup(name).map_or(u16::MAX, |b| b.0)
}

/// Compiles a checked program. `sources` maps the program's file ids to
/// paths and text (for line tables).
pub fn compile(
    program: &hir::Program,
    sources: &SourceMap,
    opts: Options,
) -> Result<Program, Vec<Diagnostic>> {
    let mut c = Compiler {
        hir: program,
        sources,
        opts,
        out: Program {
            funcs: Vec::new(),
            consts: Vec::new(),
            atoms: Vec::new(),
            files: sources.files().map(|(_, f)| f.path.clone()).collect(),
            matchers: Vec::new(),
            entry: program.entry.map(|f| f.0),
        },
        atoms: HashMap::new(),
        str_consts: HashMap::new(),
        int_consts: HashMap::new(),
        builtin_wrappers: HashMap::new(),
        diags: Vec::new(),
        services: HashMap::new(),
        supervisors: HashMap::new(),
    };
    // Global functions keep their ids as function indices.
    for f in &program.functions {
        c.out.funcs.push(Func {
            name: f.qualified_name.clone(),
            arity: u16::try_from(f.arity).unwrap_or(u16::MAX),
            nregs: 0,
            captures: Vec::new(),
            code: Vec::new(),
            lines: Vec::new(),
            file: f.span.file.0,
            terminate: None,
        });
    }
    c.services = c.lower_services();
    c.supervisors = c.lower_supervisors();
    for f in &program.functions {
        let func = FnGen::new(&mut c, &f.qualified_name, f.arity, &f.locals, f.span).function(
            &f.clauses,
            &[],
            f.span,
        );
        c.out.funcs[f.id.0 as usize] = func;
        if let hir::FnKind::Actor {
            terminate: Some(body),
        } = &f.kind
        {
            let clause = hir::Clause {
                params: f
                    .clauses
                    .first()
                    .map(|c| c.params.clone())
                    .unwrap_or_default(),
                guard: None,
                body: body.clone(),
            };
            let name = format!("{}/terminate", f.qualified_name);
            let t = FnGen::new(&mut c, &name, f.arity, &f.locals, body.span).function(
                std::slice::from_ref(&clause),
                &[],
                body.span,
            );
            let idx = c.push_func(t);
            c.out.funcs[f.id.0 as usize].terminate = Some(idx);
        }
    }
    if c.diags.is_empty() {
        Ok(c.out)
    } else {
        crate::diag::sort(&mut c.diags);
        Err(c.diags)
    }
}

struct Compiler<'h> {
    hir: &'h hir::Program,
    sources: &'h SourceMap,
    opts: Options,
    out: Program,
    atoms: HashMap<String, u32>,
    str_consts: HashMap<String, u32>,
    int_consts: HashMap<i64, u32>,
    builtin_wrappers: HashMap<BuiltinId, u32>,
    diags: Vec<Diagnostic>,
    /// Generated functions of each service.
    services: HashMap<hir::ServiceId, service::ServiceFns>,
    /// The description constant of each supervisor.
    supervisors: HashMap<hir::SupervisorId, u32>,
}

impl Compiler<'_> {
    fn atom(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.atoms.get(name) {
            return i;
        }
        let i = self.out.atoms.len() as u32;
        self.out.atoms.push(name.to_string());
        self.atoms.insert(name.to_string(), i);
        i
    }

    fn konst(&mut self, k: Const) -> u32 {
        match &k {
            Const::Str(s) => {
                if let Some(&i) = self.str_consts.get(s) {
                    return i;
                }
                let i = self.out.consts.len() as u32;
                self.str_consts.insert(s.clone(), i);
                self.out.consts.push(k);
                i
            }
            Const::Int(v) => {
                if let Some(&i) = self.int_consts.get(v) {
                    return i;
                }
                let i = self.out.consts.len() as u32;
                self.int_consts.insert(*v, i);
                self.out.consts.push(k);
                i
            }
            _ => {
                self.out.consts.push(k);
                (self.out.consts.len() - 1) as u32
            }
        }
    }

    fn push_func(&mut self, f: Func) -> u32 {
        self.out.funcs.push(f);
        (self.out.funcs.len() - 1) as u32
    }

    fn line(&self, span: Span) -> u32 {
        self.sources.span_lines(span).0.line as u32
    }

    fn unsupported(&mut self, span: Span, what: impl Into<String>) {
        self.diags.push(Diagnostic::error(
            Code::Unsupported,
            span,
            format!("{} is not supported by this VM yet", what.into()),
        ));
    }

    /// The runtime names of struct `ty` or of constructor `ctor` of sum type `ty`.
    fn type_name(&self, ty: TypeId) -> String {
        self.hir
            .types
            .get(ty.0 as usize)
            .map_or_else(|| "?".to_string(), |d| d.name.clone())
    }

    fn ctor_name(&self, ty: TypeId, ctor: u32) -> String {
        self.hir
            .types
            .get(ty.0 as usize)
            .and_then(|d| d.variants().get(ctor as usize))
            .map_or_else(|| "?".to_string(), |v| v.name.clone())
    }

    fn ctor_count(&self, ty: TypeId) -> usize {
        match self.hir.types.get(ty.0 as usize).map(|d| &d.kind) {
            Some(TypeDefKind::Sum { variants }) => variants.len(),
            _ => 0,
        }
    }

    /// A function that calls builtin `id` with its arguments (a builtin used as a value).
    fn builtin_wrapper(&mut self, id: BuiltinId) -> u32 {
        if let Some(&f) = self.builtin_wrappers.get(&id) {
            return f;
        }
        let b = id.get();
        let n = u16::try_from(b.arity()).unwrap_or(0);
        let code = if b.name == IS_ALIVE {
            vec![
                Op::Builtin {
                    dst: n,
                    id: internal_builtin("$alive_probe"),
                    base: 0,
                    n,
                },
                Op::Builtin {
                    dst: n,
                    id: internal_builtin("$alive_await"),
                    base: n,
                    n: 1,
                },
                Op::Return { r: n },
            ]
        } else {
            vec![
                Op::Builtin {
                    dst: n,
                    id: id.0,
                    base: 0,
                    n,
                },
                Op::Return { r: n },
            ]
        };
        let func = Func {
            name: b.name.to_string(),
            arity: n,
            nregs: n + 1,
            captures: Vec::new(),
            code,
            lines: Vec::new(),
            file: 0,
            terminate: None,
        };
        let f = self.push_func(func);
        self.builtin_wrappers.insert(id, f);
        f
    }
}

/// Where an expression's value goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dest {
    Reg(Reg),
    /// Tail position: return it.
    Return,
}

struct LoopCx {
    breaks: Vec<usize>,
    continues: Vec<usize>,
}

/// Code generation for one function body.
struct FnGen<'c, 'h> {
    c: &'c mut Compiler<'h>,
    name: String,
    arity: usize,
    code: Vec<Op>,
    lines: Vec<(u32, u32)>,
    local_regs: Vec<Reg>,
    next: Reg,
    max: Reg,
    loops: Vec<LoopCx>,
    last_line: u32,
    file: u32,
    /// Syntactic uses of each local in the whole body.
    uses: Vec<u32>,
    /// Inside a loop body, loop condition or guard: a single syntactic use
    /// may run more than once, or be followed by another clause reading
    /// the same argument register, so no local is moved out there.
    no_take: u32,
}

/// Placeholder jump target, patched later.
const PATCH: Label = u32::MAX;

impl<'c, 'h> FnGen<'c, 'h> {
    fn new(
        c: &'c mut Compiler<'h>,
        name: &str,
        arity: usize,
        locals: &[hir::LocalInfo],
        span: Span,
    ) -> FnGen<'c, 'h> {
        let first_local = arity;
        let local_regs = (0..locals.len())
            .map(|i| u16::try_from(first_local + i).unwrap_or(u16::MAX))
            .collect();
        let next = u16::try_from(first_local + locals.len()).unwrap_or(u16::MAX);
        FnGen {
            c,
            name: name.to_string(),
            arity,
            code: Vec::new(),
            lines: Vec::new(),
            local_regs,
            next,
            max: next,
            loops: Vec::new(),
            last_line: 0,
            file: span.file.0,
            uses: vec![0; locals.len()],
            no_take: 0,
        }
    }

    // ----- emission helpers -----

    fn at(&mut self, span: Span) {
        let line = self.c.line(span);
        if line != self.last_line {
            self.last_line = line;
            self.lines.push((self.code.len() as u32, line));
        }
    }

    /// Like [`FnGen::at`], but always records the line (for an
    /// instruction far from the previous one, like a `case` failure).
    fn at_force(&mut self, span: Span) {
        let line = self.c.line(span);
        self.last_line = line;
        self.lines.push((self.code.len() as u32, line));
    }

    fn emit(&mut self, op: Op) -> usize {
        self.code.push(op);
        self.code.len() - 1
    }

    fn here(&self) -> Label {
        self.code.len() as Label
    }

    fn patch(&mut self, at: usize, to: Label) {
        match &mut self.code[at] {
            Op::Jump { to: t }
            | Op::JumpIfNot { to: t, .. }
            | Op::JumpIf { to: t, .. }
            | Op::BranchNot { to: t, .. }
            | Op::BranchNotImm { to: t, .. }
            | Op::LoopTest { done: t, .. }
            | Op::Receive { on_timeout: t, .. }
            | Op::TestShape { fail: t, .. }
            | Op::TestConst { fail: t, .. }
            | Op::TestInt { fail: t, .. }
            | Op::TestAtom { fail: t, .. }
            | Op::MapLookup { fail: t, .. } => *t = to,
            _ => {}
        }
    }

    fn patch_all(&mut self, list: &[usize], to: Label) {
        for &at in list {
            self.patch(at, to);
        }
    }

    fn temp(&mut self) -> Reg {
        let r = self.next;
        self.next = self.next.saturating_add(1);
        self.max = self.max.max(self.next);
        r
    }

    fn temps(&mut self, n: usize) -> Reg {
        let r = self.next;
        let n = u16::try_from(n).unwrap_or(u16::MAX);
        self.next = self.next.saturating_add(n);
        self.max = self.max.max(self.next);
        r
    }

    /// True when this (only) use of `l` may move the value out.
    fn last_use(&self, l: hir::LocalId) -> bool {
        self.no_take == 0 && self.uses.get(l.0 as usize) == Some(&1)
    }

    fn local(&self, l: hir::LocalId) -> Reg {
        self.local_regs.get(l.0 as usize).copied().unwrap_or(0)
    }

    fn konst(&mut self, k: Const) -> u32 {
        self.c.konst(k)
    }

    fn lit_const(&mut self, l: &Literal) -> Const {
        match l {
            Literal::Int(v) => Const::Int(*v),
            Literal::Float(v) => Const::Float(*v),
            Literal::Bool(v) => Const::Bool(*v),
            Literal::Str(s) => Const::Str(s.clone()),
            Literal::Atom(a) => Const::Atom(self.c.atom(a)),
            Literal::Unit => Const::Unit,
        }
    }

    fn load_lit(&mut self, l: &Literal, dst: Reg) {
        match l {
            Literal::Int(v) if i32::try_from(*v).is_ok() => {
                self.emit(Op::Int { dst, v: *v as i32 });
            }
            Literal::Bool(v) => {
                self.emit(Op::Bool { dst, v: *v });
            }
            Literal::Unit => {
                self.emit(Op::Unit { dst });
            }
            _ => {
                let k = self.lit_const(l);
                let idx = self.konst(k);
                self.emit(Op::Const { dst, idx });
            }
        }
    }

    fn finish(self) -> Func {
        Func {
            name: self.name,
            arity: u16::try_from(self.arity).unwrap_or(u16::MAX),
            nregs: self.max.max(1),
            captures: Vec::new(),
            code: self.code,
            lines: self.lines,
            file: self.file,
            terminate: None,
        }
    }

    // ----- functions -----

    /// Compiles a function body from its clauses. `captures` are the
    /// registers closures copy captured values into.
    fn function(mut self, clauses: &[hir::Clause], captures: &[Reg], span: Span) -> Func {
        // A parameter that is a plain name in every clause where it
        // appears as one can live in its argument register.
        for cl in clauses {
            for (i, p) in cl.params.iter().enumerate() {
                if let PatternKind::Bind(l) = p.kind
                    && let Some(r) = self.local_regs.get_mut(l.0 as usize)
                {
                    *r = i as Reg;
                }
            }
        }
        for cl in clauses {
            if let Some(g) = &cl.guard {
                uses::count(g, &mut self.uses);
            }
            uses::count(&cl.body, &mut self.uses);
        }
        let single = clauses.len() == 1;
        let mut end_fail: Vec<usize> = Vec::new();
        for cl in clauses {
            self.patch_all(&end_fail, self.here());
            end_fail.clear();
            let mut fail = Vec::new();
            for (i, p) in cl.params.iter().enumerate() {
                self.at(p.span);
                self.pattern(p, i as Reg, &mut fail);
            }
            if let Some(g) = &cl.guard {
                self.no_take += 1;
                self.cond_false(g, &mut fail);
                self.no_take -= 1;
            }
            self.expr(&cl.body, Dest::Return);
            end_fail = fail;
        }
        if !end_fail.is_empty() || clauses.is_empty() || !single {
            let at = self.here();
            self.patch_all(&end_fail, at);
            self.at_force(span);
            self.emit(Op::Fail {
                kind: FailKind::FunctionClause,
                r: 0,
            });
        }
        let mut f = self.finish();
        f.captures = captures.to_vec();
        f
    }

    // ----- expressions -----

    /// Puts `e`'s value in some register (a local's own register when
    /// `e` is a local) and returns it.
    fn operand(&mut self, e: &Expr) -> Reg {
        if let ExprKind::Local(l) = e.kind
            && !self.last_use(l)
        {
            return self.local(l);
        }
        let r = self.temp();
        self.expr(e, Dest::Reg(r));
        r
    }

    fn deliver(&mut self, r: Reg, dest: Dest) {
        match dest {
            Dest::Reg(d) if d == r => {}
            Dest::Reg(d) => {
                self.emit(Op::Move { dst: d, src: r });
            }
            Dest::Return => {
                self.emit(Op::Return { r });
            }
        }
    }

    /// The register to compute into for `dest`, and whether a `Return` must follow.
    fn target(&mut self, dest: Dest) -> Reg {
        match dest {
            Dest::Reg(r) => r,
            Dest::Return => self.temp(),
        }
    }

    fn ret_if(&mut self, dest: Dest, r: Reg) {
        if dest == Dest::Return {
            self.emit(Op::Return { r });
        }
    }

    fn expr(&mut self, e: &Expr, dest: Dest) {
        let mark = self.next;
        self.at(e.span);
        if self.c.opts.optimize
            && let Some(l) = fold::fold(e)
        {
            let r = self.target(dest);
            self.load_lit(&l, r);
            self.ret_if(dest, r);
            self.next = mark;
            return;
        }
        self.expr_inner(e, dest);
        self.next = mark;
    }

    fn expr_inner(&mut self, e: &Expr, dest: Dest) {
        match &e.kind {
            ExprKind::Lit(l) => {
                let r = self.target(dest);
                self.load_lit(l, r);
                self.ret_if(dest, r);
            }
            ExprKind::Local(l) => {
                let r = self.local(*l);
                match dest {
                    Dest::Reg(d) if d != r && self.last_use(*l) => {
                        self.emit(Op::Take { dst: d, src: r });
                    }
                    _ => self.deliver(r, dest),
                }
            }
            ExprKind::Fn(f) => {
                let idx = self.konst(Const::Fn(f.0));
                let r = self.target(dest);
                self.emit(Op::Const { dst: r, idx });
                self.ret_if(dest, r);
            }
            ExprKind::Builtin(b) => {
                let f = self.c.builtin_wrapper(*b);
                let idx = self.konst(Const::Fn(f));
                let r = self.target(dest);
                self.emit(Op::Const { dst: r, idx });
                self.ret_if(dest, r);
            }
            ExprKind::Supervisor(id) => self.supervisor_value(*id, dest),
            ExprKind::Interp(parts) => {
                let base = self.temps(parts.len());
                for (i, p) in parts.iter().enumerate() {
                    let r = base + i as Reg;
                    match p {
                        hir::InterpPart::Lit(s) => {
                            let idx = self.konst(Const::Str(s.clone()));
                            self.emit(Op::Const { dst: r, idx });
                        }
                        hir::InterpPart::Expr(x) => self.expr(x, Dest::Reg(r)),
                    }
                }
                let r = self.target(dest);
                self.emit(Op::Interp {
                    dst: r,
                    base,
                    n: parts.len() as u16,
                });
                self.ret_if(dest, r);
            }
            ExprKind::Tuple(items) => {
                let r = self.target(dest);
                if items.is_empty() {
                    self.emit(Op::Unit { dst: r });
                } else {
                    let base = self.args(items);
                    self.emit(Op::Tuple {
                        dst: r,
                        base,
                        n: items.len() as u16,
                    });
                }
                self.ret_if(dest, r);
            }
            ExprKind::List { elems, tail } => {
                let base = self.args(elems);
                let r = self.target(dest);
                match tail {
                    Some(t) => {
                        let tr = self.temp();
                        self.expr(t, Dest::Reg(tr));
                        self.emit(Op::ListCons {
                            dst: r,
                            base,
                            n: elems.len() as u16,
                            tail: tr,
                        });
                    }
                    None => {
                        self.emit(Op::List {
                            dst: r,
                            base,
                            n: elems.len() as u16,
                        });
                    }
                }
                self.ret_if(dest, r);
            }
            ExprKind::Map(pairs) => {
                let base = self.temps(pairs.len() * 2);
                for (i, (k, v)) in pairs.iter().enumerate() {
                    self.expr(k, Dest::Reg(base + 2 * i as Reg));
                    self.expr(v, Dest::Reg(base + 2 * i as Reg + 1));
                }
                let r = self.target(dest);
                self.emit(Op::Map {
                    dst: r,
                    base,
                    n: pairs.len() as u16,
                });
                self.ret_if(dest, r);
            }
            ExprKind::Range(lo, hi) => {
                let a = self.operand(lo);
                let b = self.operand(hi);
                let r = self.target(dest);
                self.emit(Op::Range {
                    dst: r,
                    lo: a,
                    hi: b,
                });
                self.ret_if(dest, r);
            }
            ExprKind::Struct { ty, fields } => {
                let base = self.args(fields);
                let name = self.c.type_name(*ty);
                let name = self.c.atom(&name);
                let r = self.target(dest);
                self.emit(Op::Struct {
                    dst: r,
                    name,
                    base,
                    n: fields.len() as u16,
                });
                self.ret_if(dest, r);
            }
            ExprKind::StructUpdate { base, updates, .. } => {
                let src = self.operand(base);
                let r = self.target(dest);
                let mut cur = src;
                for (idx, v) in updates {
                    let vr = self.operand(v);
                    self.emit(Op::SetField {
                        dst: r,
                        src: cur,
                        idx: *idx as u16,
                        val: vr,
                    });
                    cur = r;
                }
                if updates.is_empty() {
                    self.emit(Op::Move { dst: r, src });
                }
                self.ret_if(dest, r);
            }
            ExprKind::Variant { ty, ctor, args } => {
                let tn = self.c.type_name(*ty);
                let cn = self.c.ctor_name(*ty, *ctor);
                let type_name = self.c.atom(&tn);
                let ctor = self.c.atom(&cn);
                let r = self.target(dest);
                if args.is_empty() {
                    let idx = self.konst(Const::Variant {
                        type_name,
                        ctor,
                        fields: Vec::new(),
                    });
                    self.emit(Op::Const { dst: r, idx });
                } else {
                    let base = self.args(args);
                    self.emit(Op::Variant {
                        dst: r,
                        type_name,
                        ctor,
                        base,
                        n: args.len() as u16,
                    });
                }
                self.ret_if(dest, r);
            }
            ExprKind::Field {
                expr,
                ty,
                index,
                name: field,
            } => {
                let src = self.operand(expr);
                let name = self.c.type_name(*ty);
                let name = self.c.atom(&name);
                let field = self.c.atom(field);
                let r = self.target(dest);
                self.at(e.span);
                self.emit(Op::Field {
                    dst: r,
                    src,
                    idx: *index as u16,
                    name,
                    field,
                });
                self.ret_if(dest, r);
            }
            ExprKind::Index { expr, index } => {
                let src = self.operand(expr);
                let idx = self.operand(index);
                let r = self.target(dest);
                self.at(e.span);
                self.emit(Op::Index { dst: r, src, idx });
                self.ret_if(dest, r);
            }
            ExprKind::Call { callee, args } => self.call(e, callee, args, dest),
            ExprKind::Binary { op, lhs, rhs } => self.binary(e, *op, lhs, rhs, dest),
            ExprKind::Unary { op, expr } => {
                if let (UnOp::Neg, ExprKind::Lit(Literal::Int(v))) = (op, &expr.kind) {
                    let r = self.target(dest);
                    self.load_lit(&Literal::Int(v.wrapping_neg()), r);
                    self.ret_if(dest, r);
                    return;
                }
                if let (UnOp::Neg, ExprKind::Lit(Literal::Float(v))) = (op, &expr.kind) {
                    let r = self.target(dest);
                    self.load_lit(&Literal::Float(-v), r);
                    self.ret_if(dest, r);
                    return;
                }
                let a = self.operand(expr);
                let r = self.target(dest);
                self.at(e.span);
                match op {
                    UnOp::Neg => self.emit(Op::Neg { dst: r, a }),
                    UnOp::Not => self.emit(Op::Not { dst: r, a }),
                };
                self.ret_if(dest, r);
            }
            ExprKind::If { cond, then, else_ } => {
                let r = dest;
                let mut f = Vec::new();
                self.cond_false(cond, &mut f);
                self.expr(then, r);
                let j = (dest != Dest::Return).then(|| self.emit(Op::Jump { to: PATCH }));
                let at = self.here();
                self.patch_all(&f, at);
                match else_ {
                    Some(x) => self.expr(x, r),
                    None => {
                        let t = self.target(r);
                        self.emit(Op::Unit { dst: t });
                        self.ret_if(r, t);
                    }
                }
                if let Some(j) = j {
                    let at = self.here();
                    self.patch(j, at);
                }
            }
            ExprKind::Case { scrutinee, arms } => {
                let s = self.operand(scrutinee);
                self.arms(s, arms, dest, FailKind::CaseClause, e.span);
            }
            ExprKind::Receive { arms, after } => self.receive(arms, after.as_ref(), dest, e.span),
            ExprKind::Block(stmts) => self.block(stmts, dest),
            ExprKind::For {
                pat,
                iter,
                filter,
                body,
            } => self.for_loop(pat, iter, filter.as_deref(), body, dest),
            ExprKind::While { cond, body } => {
                self.no_take += 1;
                let top = self.here();
                let mut f = Vec::new();
                self.cond_false(cond, &mut f);
                self.loops.push(LoopCx {
                    breaks: Vec::new(),
                    continues: Vec::new(),
                });
                let t = self.temp();
                self.expr(body, Dest::Reg(t));
                self.emit(Op::Jump { to: top });
                let lp = self.loops.pop().unwrap_or(LoopCx {
                    breaks: Vec::new(),
                    continues: Vec::new(),
                });
                let end = self.here();
                self.patch_all(&f, end);
                self.patch_all(&lp.breaks, end);
                self.patch_all(&lp.continues, top);
                self.no_take -= 1;
                let r = self.target(dest);
                self.emit(Op::Unit { dst: r });
                self.ret_if(dest, r);
            }
            ExprKind::Break => {
                let j = self.emit(Op::Jump { to: PATCH });
                if let Some(l) = self.loops.last_mut() {
                    l.breaks.push(j);
                }
            }
            ExprKind::Continue => {
                let j = self.emit(Op::Jump { to: PATCH });
                if let Some(l) = self.loops.last_mut() {
                    l.continues.push(j);
                }
            }
            ExprKind::Return(x) => self.expr(x, Dest::Return),
            ExprKind::Try { expr, .. } => {
                let src = self.operand(expr);
                let r = self.target(dest);
                self.at(e.span);
                self.emit(Op::TryReturn { r: src, dst: r });
                self.ret_if(dest, r);
            }
            ExprKind::Closure(cl) => self.closure(cl, e.span, dest),
        }
    }

    /// Compiles `items` into consecutive fresh registers; returns the first.
    fn args(&mut self, items: &[Expr]) -> Reg {
        let base = self.temps(items.len());
        for (i, x) in items.iter().enumerate() {
            self.expr(x, Dest::Reg(base + i as Reg));
        }
        base
    }

    fn call(&mut self, e: &Expr, callee: &Callee, args: &[Expr], dest: Dest) {
        match callee {
            Callee::Fn(f) => {
                let base = self.args(args);
                self.at(e.span);
                let n = args.len() as u16;
                match dest {
                    Dest::Return => {
                        self.emit(Op::TailCall { func: f.0, base, n });
                    }
                    Dest::Reg(r) => {
                        self.emit(Op::Call {
                            dst: r,
                            func: f.0,
                            base,
                            n,
                        });
                    }
                }
            }
            Callee::Expr(fx) => {
                let fr = self.operand(fx);
                let base = self.args(args);
                self.at(e.span);
                let n = args.len() as u16;
                match dest {
                    Dest::Return => {
                        self.emit(Op::TailCallValue { f: fr, base, n });
                    }
                    Dest::Reg(r) => {
                        self.emit(Op::CallValue {
                            dst: r,
                            f: fr,
                            base,
                            n,
                        });
                    }
                }
            }
            Callee::Builtin(b) => {
                let name = b.get().name;
                let base = self.args(args);
                let r = self.target(dest);
                self.at(e.span);
                if name == IS_ALIVE {
                    let probe = self.temp();
                    self.emit(Op::Builtin {
                        dst: probe,
                        id: internal_builtin("$alive_probe"),
                        base,
                        n: args.len() as u16,
                    });
                    self.emit(Op::Builtin {
                        dst: r,
                        id: internal_builtin("$alive_await"),
                        base: probe,
                        n: 1,
                    });
                } else {
                    self.emit(Op::Builtin {
                        dst: r,
                        id: b.0,
                        base,
                        n: args.len() as u16,
                    });
                }
                self.ret_if(dest, r);
            }
            Callee::ServiceStart(_) | Callee::ServiceOp { .. } => {
                self.service_call(e, callee, args, dest);
            }
        }
    }

    fn binary(&mut self, e: &Expr, op: BinOp, lhs: &Expr, rhs: &Expr, dest: Dest) {
        match op {
            BinOp::And | BinOp::Or => {
                let r = self.target(dest);
                self.expr(lhs, Dest::Reg(r));
                let j = if op == BinOp::And {
                    self.emit(Op::JumpIfNot { r, to: PATCH })
                } else {
                    self.emit(Op::JumpIf { r, to: PATCH })
                };
                self.expr(rhs, Dest::Reg(r));
                let at = self.here();
                self.patch(j, at);
                self.ret_if(dest, r);
            }
            BinOp::Range => {
                let a = self.operand(lhs);
                let b = self.operand(rhs);
                let r = self.target(dest);
                self.emit(Op::Range {
                    dst: r,
                    lo: a,
                    hi: b,
                });
                self.ret_if(dest, r);
            }
            _ => {
                if self.c.opts.optimize
                    && matches!(op, BinOp::Add | BinOp::Sub)
                    && let ExprKind::Lit(Literal::Int(k)) = rhs.kind
                {
                    let k = if op == BinOp::Sub {
                        k.checked_neg()
                    } else {
                        Some(k)
                    };
                    if let Some(imm) = k.and_then(|k| i16::try_from(k).ok()) {
                        let a = self.operand(lhs);
                        let r = self.target(dest);
                        self.at(e.span);
                        self.emit(Op::AddImm { dst: r, a, imm });
                        self.ret_if(dest, r);
                        return;
                    }
                }
                let bin = match op {
                    BinOp::Add => Bin::Add,
                    BinOp::Sub => Bin::Sub,
                    BinOp::Mul => Bin::Mul,
                    BinOp::Div => Bin::Div,
                    BinOp::Rem => Bin::Rem,
                    BinOp::Eq => Bin::Eq,
                    BinOp::NotEq => Bin::Ne,
                    BinOp::Lt => Bin::Lt,
                    BinOp::Le => Bin::Le,
                    BinOp::Gt => Bin::Gt,
                    BinOp::Ge => Bin::Ge,
                    BinOp::Concat => Bin::Concat,
                    _ => Bin::Append,
                };
                if self.c.opts.optimize
                    && let ExprKind::Lit(Literal::Int(k)) = rhs.kind
                    && let Ok(imm) = i32::try_from(k)
                    && !matches!(bin, Bin::Concat | Bin::Append)
                {
                    let a = self.operand(lhs);
                    let r = self.target(dest);
                    self.at(e.span);
                    self.emit(Op::BinImm {
                        op: bin,
                        dst: r,
                        a,
                        imm,
                    });
                    self.ret_if(dest, r);
                    return;
                }
                let a = self.operand(lhs);
                let b = self.operand(rhs);
                let r = self.target(dest);
                self.at(e.span);
                self.emit(Op::Bin {
                    op: bin,
                    dst: r,
                    a,
                    b,
                });
                self.ret_if(dest, r);
            }
        }
    }

    /// Emits code that falls through when `cond` is true and jumps to a
    /// label pushed on `fail` when it is false.
    fn cond_false(&mut self, cond: &Expr, fail: &mut Vec<usize>) {
        let mark = self.next;
        match &cond.kind {
            ExprKind::Binary { op, lhs, rhs } if cmp_of(*op).is_some() => {
                let cmp = cmp_of(*op).unwrap_or(Cmp::Eq);
                if self.c.opts.optimize
                    && let ExprKind::Lit(Literal::Int(k)) = rhs.kind
                    && let Ok(imm) = i32::try_from(k)
                {
                    let a = self.operand(lhs);
                    self.at(cond.span);
                    fail.push(self.emit(Op::BranchNotImm {
                        cmp,
                        a,
                        imm,
                        to: PATCH,
                    }));
                    self.next = mark;
                    return;
                }
                let a = self.operand(lhs);
                let b = self.operand(rhs);
                self.at(cond.span);
                fail.push(self.emit(Op::BranchNot {
                    cmp,
                    a,
                    b,
                    to: PATCH,
                }));
            }
            ExprKind::Binary {
                op: BinOp::And,
                lhs,
                rhs,
            } => {
                self.cond_false(lhs, fail);
                self.cond_false(rhs, fail);
            }
            ExprKind::Unary {
                op: UnOp::Not,
                expr,
            } => {
                let r = self.operand(expr);
                fail.push(self.emit(Op::JumpIf { r, to: PATCH }));
            }
            ExprKind::Lit(Literal::Bool(true)) => {}
            _ => {
                let r = self.operand(cond);
                fail.push(self.emit(Op::JumpIfNot { r, to: PATCH }));
            }
        }
        self.next = mark;
    }

    fn block(&mut self, stmts: &[Stmt], dest: Dest) {
        if stmts.is_empty() {
            let r = self.target(dest);
            self.emit(Op::Unit { dst: r });
            self.ret_if(dest, r);
            return;
        }
        let last = stmts.len() - 1;
        for (i, s) in stmts.iter().enumerate() {
            match s {
                Stmt::Let { pat, value } => {
                    if let PatternKind::Bind(l) = pat.kind {
                        let r = self.local(l);
                        self.expr(value, Dest::Reg(r));
                    } else {
                        let mark = self.next;
                        let r = self.operand(value);
                        let mut fail = Vec::new();
                        self.pattern(pat, r, &mut fail);
                        if !fail.is_empty() {
                            let j = self.emit(Op::Jump { to: PATCH });
                            let at = self.here();
                            self.patch_all(&fail, at);
                            self.at(pat.span);
                            self.emit(Op::Fail {
                                kind: FailKind::LetMatch,
                                r,
                            });
                            let at = self.here();
                            self.patch(j, at);
                        }
                        self.next = mark;
                    }
                    if i == last {
                        let r = self.target(dest);
                        self.emit(Op::Unit { dst: r });
                        self.ret_if(dest, r);
                    }
                }
                Stmt::Expr(x) => {
                    if i == last {
                        self.expr(x, dest);
                    } else {
                        let mark = self.next;
                        let t = self.temp();
                        self.expr(x, Dest::Reg(t));
                        self.next = mark;
                    }
                }
            }
        }
    }

    /// `case`-style dispatch of the value in `s` over `arms`.
    fn arms(&mut self, s: Reg, arms: &[hir::Arm], dest: Dest, kind: FailKind, span: Span) {
        let mut ends = Vec::new();
        let mut fail: Vec<usize> = Vec::new();
        for arm in arms {
            let at = self.here();
            self.patch_all(&fail, at);
            fail.clear();
            self.pattern(&arm.pat, s, &mut fail);
            if let Some(g) = &arm.guard {
                self.no_take += 1;
                self.cond_false(g, &mut fail);
                self.no_take -= 1;
            }
            self.expr(&arm.body, dest);
            if dest != Dest::Return {
                ends.push(self.emit(Op::Jump { to: PATCH }));
            }
        }
        let at = self.here();
        self.patch_all(&fail, at);
        self.at_force(span);
        self.emit(Op::Fail { kind, r: s });
        let end = self.here();
        self.patch_all(&ends, end);
    }

    fn receive(
        &mut self,
        arms: &[hir::Arm],
        after: Option<&(Box<Expr>, Box<Expr>)>,
        dest: Dest,
        span: Span,
    ) {
        let mut marms = Vec::new();
        for arm in arms {
            let pat = self.data_pattern(&arm.pat);
            let guard = arm.guard.as_ref().map(|g| self.guard_func(g));
            marms.push(MatchArm { pat, guard });
        }
        let matcher = self.c.out.matchers.len() as u32;
        self.c.out.matchers.push(Matcher { arms: marms });
        let timeout = after.map(|(t, _)| self.operand(t));
        let msg = self.temp();
        let recv = self.emit(Op::Receive {
            dst: msg,
            matcher,
            timeout,
            on_timeout: PATCH,
        });
        match after {
            Some((_, body)) => {
                let r = dest;
                self.arms(msg, arms, r, FailKind::ReceiveClause, span);
                let j = (dest != Dest::Return).then(|| self.emit(Op::Jump { to: PATCH }));
                let at = self.here();
                self.patch(recv, at);
                self.expr(body, r);
                if let Some(j) = j {
                    let at = self.here();
                    self.patch(j, at);
                }
            }
            None => self.arms(msg, arms, dest, FailKind::ReceiveClause, span),
        }
    }

    /// A guard as a function sharing this frame's register layout.
    fn guard_func(&mut self, g: &Expr) -> u32 {
        let name = format!("{}/guard", self.name);
        let mut sub = FnGen {
            c: &mut *self.c,
            name,
            arity: 0,
            code: Vec::new(),
            lines: Vec::new(),
            local_regs: self.local_regs.clone(),
            next: self.next.saturating_add(1),
            max: self.next.saturating_add(1),
            loops: Vec::new(),
            last_line: 0,
            file: self.file,
            uses: self.uses.clone(),
            no_take: 1,
        };
        sub.expr(g, Dest::Return);
        let f = sub.finish();
        self.c.push_func(f)
    }

    /// A pattern as data, for receive matchers.
    fn data_pattern(&mut self, p: &Pattern) -> Pat {
        match &p.kind {
            PatternKind::Wildcard => Pat::Any,
            PatternKind::Bind(l) => Pat::Bind(self.local(*l)),
            PatternKind::Lit(l) => {
                let k = self.lit_const(l);
                Pat::Const(self.konst(k))
            }
            PatternKind::Tuple(ps) => {
                if ps.is_empty() {
                    Pat::Const(self.konst(Const::Unit))
                } else {
                    Pat::Tuple(ps.iter().map(|p| self.data_pattern(p)).collect())
                }
            }
            PatternKind::List { elems, tail } => Pat::List {
                elems: elems.iter().map(|p| self.data_pattern(p)).collect(),
                tail: tail.as_ref().map(|t| Box::new(self.data_pattern(t))),
            },
            PatternKind::Cons(h, t) => Pat::List {
                elems: vec![self.data_pattern(h)],
                tail: Some(Box::new(self.data_pattern(t))),
            },
            PatternKind::Variant { ty, ctor, args } => {
                let cn = self.c.ctor_name(*ty, *ctor);
                Pat::Variant {
                    ctor: self.c.atom(&cn),
                    args: args.iter().map(|p| self.data_pattern(p)).collect(),
                }
            }
            PatternKind::Struct { ty, fields } => {
                let n = self.c.type_name(*ty);
                Pat::Struct {
                    name: self.c.atom(&n),
                    fields: fields
                        .iter()
                        .map(|(i, p)| (*i as u16, self.data_pattern(p)))
                        .collect(),
                }
            }
            PatternKind::Map(entries) => {
                let mut out = Vec::new();
                for (k, v) in entries {
                    let PatternKind::Lit(l) = &k.kind else {
                        self.c
                            .unsupported(k.span, "a map pattern key that is not a literal");
                        continue;
                    };
                    let kc = self.lit_const(l);
                    let ki = self.konst(kc);
                    out.push((ki, self.data_pattern(v)));
                }
                Pat::Map(out)
            }
            PatternKind::Or(ps) => Pat::Or(ps.iter().map(|p| self.data_pattern(p)).collect()),
            PatternKind::As(p, l) => Pat::As(Box::new(self.data_pattern(p)), self.local(*l)),
        }
    }

    /// Emits tests of `r` against `p` (jumping to labels pushed on `fail`)
    /// and binds the pattern's names.
    fn pattern(&mut self, p: &Pattern, r: Reg, fail: &mut Vec<usize>) {
        let known = !matches!(p.ty, Type::Var(_));
        match &p.kind {
            PatternKind::Wildcard => {}
            PatternKind::Bind(l) => {
                let d = self.local(*l);
                if d != r {
                    self.emit(Op::Move { dst: d, src: r });
                }
            }
            PatternKind::Lit(l) => {
                let op = match l {
                    Literal::Int(v) if i32::try_from(*v).is_ok() => Op::TestInt {
                        r,
                        v: *v as i32,
                        fail: PATCH,
                    },
                    Literal::Atom(a) => Op::TestAtom {
                        r,
                        atom: self.c.atom(a),
                        fail: PATCH,
                    },
                    Literal::Bool(true) if known => Op::JumpIfNot { r, to: PATCH },
                    Literal::Bool(false) if known => Op::JumpIf { r, to: PATCH },
                    Literal::Unit if known => return,
                    _ => {
                        let k = self.lit_const(l);
                        Op::TestConst {
                            r,
                            idx: self.konst(k),
                            fail: PATCH,
                        }
                    }
                };
                fail.push(self.emit(op));
            }
            PatternKind::Tuple(ps) => {
                if ps.is_empty() {
                    if !known {
                        let idx = self.konst(Const::Unit);
                        fail.push(self.emit(Op::TestConst {
                            r,
                            idx,
                            fail: PATCH,
                        }));
                    }
                    return;
                }
                if !known {
                    fail.push(self.emit(Op::TestShape {
                        r,
                        shape: Shape::Tuple(ps.len() as u16),
                        fail: PATCH,
                    }));
                }
                self.sub_patterns(ps.iter().enumerate().map(|(i, p)| (i as u16, p)), r, fail);
            }
            PatternKind::Variant { ty, ctor, args } => {
                if !known || self.c.ctor_count(*ty) != 1 {
                    let cn = self.c.ctor_name(*ty, *ctor);
                    let atom = self.c.atom(&cn);
                    fail.push(self.emit(Op::TestShape {
                        r,
                        shape: Shape::Variant(atom),
                        fail: PATCH,
                    }));
                }
                self.sub_patterns(args.iter().enumerate().map(|(i, p)| (i as u16, p)), r, fail);
            }
            PatternKind::Struct { ty, fields } => {
                if !known {
                    let n = self.c.type_name(*ty);
                    let atom = self.c.atom(&n);
                    fail.push(self.emit(Op::TestShape {
                        r,
                        shape: Shape::Struct(atom),
                        fail: PATCH,
                    }));
                }
                self.sub_patterns(fields.iter().map(|(i, p)| (*i as u16, p)), r, fail);
            }
            PatternKind::List { elems, tail } => {
                let n = elems.len() as u16;
                let shape = match (tail, n) {
                    (None, 0) => Shape::Nil,
                    (None, n) => Shape::ListLen(n),
                    (Some(_), 0) => Shape::ListMin(0),
                    (Some(_), n) => Shape::ListMin(n),
                };
                if shape != Shape::ListMin(0) {
                    fail.push(self.emit(Op::TestShape {
                        r,
                        shape,
                        fail: PATCH,
                    }));
                }
                for (i, ep) in elems.iter().enumerate() {
                    if matches!(ep.kind, PatternKind::Wildcard) {
                        continue;
                    }
                    let t = self.temp();
                    self.emit(Op::ListElem {
                        dst: t,
                        src: r,
                        idx: i as u16,
                    });
                    self.pattern(ep, t, fail);
                }
                if let Some(tp) = tail
                    && !matches!(tp.kind, PatternKind::Wildcard)
                {
                    let t = self.temp();
                    self.emit(Op::ListDrop { dst: t, src: r, n });
                    self.pattern(tp, t, fail);
                }
            }
            PatternKind::Cons(h, t) => {
                fail.push(self.emit(Op::TestShape {
                    r,
                    shape: Shape::Cons,
                    fail: PATCH,
                }));
                if !matches!(h.kind, PatternKind::Wildcard) {
                    let hr = self.bind_target(h);
                    self.emit(Op::Head { dst: hr, src: r });
                    self.pattern(h, hr, fail);
                }
                if !matches!(t.kind, PatternKind::Wildcard) {
                    let tr = self.bind_target(t);
                    self.emit(Op::Tail { dst: tr, src: r });
                    self.pattern(t, tr, fail);
                }
            }
            PatternKind::Map(entries) => {
                if !known {
                    fail.push(self.emit(Op::TestShape {
                        r,
                        shape: Shape::Map,
                        fail: PATCH,
                    }));
                }
                for (k, v) in entries {
                    let PatternKind::Lit(l) = &k.kind else {
                        self.c
                            .unsupported(k.span, "a map pattern key that is not a literal");
                        continue;
                    };
                    let kr = self.temp();
                    self.load_lit(&l.clone(), kr);
                    let vr = self.bind_target(v);
                    fail.push(self.emit(Op::MapLookup {
                        dst: vr,
                        map: r,
                        key: kr,
                        fail: PATCH,
                    }));
                    self.pattern(v, vr, fail);
                }
            }
            PatternKind::Or(alts) => {
                let mut oks = Vec::new();
                let last = alts.len().saturating_sub(1);
                let mut prev: Vec<usize> = Vec::new();
                for (i, a) in alts.iter().enumerate() {
                    let at = self.here();
                    self.patch_all(&prev, at);
                    prev.clear();
                    if i == last {
                        self.pattern(a, r, fail);
                    } else {
                        self.pattern(a, r, &mut prev);
                        oks.push(self.emit(Op::Jump { to: PATCH }));
                    }
                }
                let at = self.here();
                self.patch_all(&oks, at);
            }
            PatternKind::As(inner, l) => {
                let d = self.local(*l);
                if d != r {
                    self.emit(Op::Move { dst: d, src: r });
                }
                self.pattern(inner, r, fail);
            }
        }
    }

    /// For a sub-pattern that is a plain name, its local's register;
    /// otherwise a fresh temporary.
    fn bind_target(&mut self, p: &Pattern) -> Reg {
        match p.kind {
            PatternKind::Bind(l) => self.local(l),
            _ => self.temp(),
        }
    }

    fn sub_patterns<'p>(
        &mut self,
        items: impl Iterator<Item = (u16, &'p Pattern)>,
        r: Reg,
        fail: &mut Vec<usize>,
    ) {
        for (i, p) in items {
            if matches!(p.kind, PatternKind::Wildcard) {
                continue;
            }
            let t = self.bind_target(p);
            self.emit(Op::Elem {
                dst: t,
                src: r,
                idx: i,
            });
            self.pattern(p, t, fail);
        }
    }

    fn for_loop(
        &mut self,
        pat: &Pattern,
        iter: &Expr,
        filter: Option<&Expr>,
        body: &Expr,
        dest: Dest,
    ) {
        let acc = self.temp();
        self.emit(Op::List {
            dst: acc,
            base: 0,
            n: 0,
        });
        let i = self.temp();
        let hi = self.temp();
        let x = self.bind_target(pat);
        // Ranges iterate without building the list.
        let list = if let ExprKind::Range(lo, h) = &iter.kind {
            self.expr(lo, Dest::Reg(i));
            self.expr(h, Dest::Reg(hi));
            None
        } else if let ExprKind::Binary {
            op: BinOp::Range,
            lhs,
            rhs,
        } = &iter.kind
        {
            self.expr(lhs, Dest::Reg(i));
            self.expr(rhs, Dest::Reg(hi));
            None
        } else {
            let l = self.temp();
            self.expr(iter, Dest::Reg(l));
            if !matches!(iter.ty, Type::List(_)) {
                self.emit(Op::ToList { dst: l, src: l });
            }
            self.emit(Op::Int { dst: i, v: 0 });
            self.emit(Op::Len { dst: hi, src: l });
            Some(l)
        };
        let top = self.here();
        let test = self.emit(Op::LoopTest { i, hi, done: PATCH });
        match list {
            Some(l) => {
                self.emit(Op::Index {
                    dst: x,
                    src: l,
                    idx: i,
                });
            }
            None => {
                self.emit(Op::Move { dst: x, src: i });
            }
        }
        let mut skip = Vec::new();
        let mut bad = Vec::new();
        self.no_take += 1;
        self.pattern(pat, x, &mut bad);
        if let Some(f) = filter {
            self.cond_false(f, &mut skip);
        }
        self.loops.push(LoopCx {
            breaks: Vec::new(),
            continues: Vec::new(),
        });
        let v = self.temp();
        self.expr(body, Dest::Reg(v));
        self.emit(Op::Push { list: acc, val: v });
        let lp = self.loops.pop().unwrap_or(LoopCx {
            breaks: Vec::new(),
            continues: Vec::new(),
        });
        self.no_take -= 1;
        let step = self.here();
        self.patch_all(&skip, step);
        self.patch_all(&lp.continues, step);
        self.emit(Op::AddImm {
            dst: i,
            a: i,
            imm: 1,
        });
        self.emit(Op::Jump { to: top });
        if !bad.is_empty() {
            let at = self.here();
            self.patch_all(&bad, at);
            self.emit(Op::Fail {
                kind: FailKind::LetMatch,
                r: x,
            });
        }
        let end = self.here();
        self.patch(test, end);
        self.patch_all(&lp.breaks, end);
        self.deliver(acc, dest);
    }

    fn closure(&mut self, cl: &hir::Closure, span: Span, dest: Dest) {
        let line = self.c.line(span);
        let name = format!("{}/fn@{}", self.name, line);
        let g = FnGen::new(&mut *self.c, &name, cl.arity, &cl.locals, span);
        let caps: Vec<Reg> = cl.captures.iter().map(|c| g.local(c.inner)).collect();
        // Capture registers must not be shared with argument registers.
        let func = g.function(&cl.clauses, &caps, span);
        let fidx = self.c.push_func(func);
        let r = self.target(dest);
        if cl.captures.is_empty() {
            let idx = self.konst(Const::Fn(fidx));
            self.emit(Op::Const { dst: r, idx });
        } else {
            let base = self.temps(cl.captures.len());
            for (i, c) in cl.captures.iter().enumerate() {
                let src = self.local(c.outer);
                self.emit(Op::Move {
                    dst: base + i as Reg,
                    src,
                });
            }
            self.emit(Op::Closure {
                dst: r,
                func: fidx,
                base,
                n: cl.captures.len() as u16,
            });
        }
        self.ret_if(dest, r);
    }
}

fn cmp_of(op: BinOp) -> Option<Cmp> {
    Some(match op {
        BinOp::Eq => Cmp::Eq,
        BinOp::NotEq => Cmp::Ne,
        BinOp::Lt => Cmp::Lt,
        BinOp::Le => Cmp::Le,
        BinOp::Gt => Cmp::Gt,
        BinOp::Ge => Cmp::Ge,
        _ => return None,
    })
}
