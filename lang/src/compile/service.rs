//! Services lowered to plain processes.
//!
//! For a service `Counter` the compiler generates, besides its `init`,
//! handler and helper functions (compiled like any function; a handler
//! takes its arguments then the state):
//!
//! - `Counter/loop(state)`: receives one message and tail-calls itself
//!   with the new state:
//!   `($call, from, ref, k, args...)` runs call handler `k`, which returns
//!   `(new_state, reply)`, and sends `($reply, ref, reply)` to `from`;
//!   `($cast, k, args...)` runs cast handler `k`, which returns the new
//!   state; anything else is dropped (it would otherwise sit in the
//!   mailbox for ever).
//! - `Counter/start(args...)`: `loop(init(args...))`, the body of the
//!   process `Counter.start(args...)` spawns.
//!
//! Both are built as HIR and compiled by the ordinary code generator. A
//! client's `Counter.get(pid, args...)` becomes `$service_call` (monitor and
//! send; a process calling itself fails at once) then `$service_await`
//! (reply or failure); `Counter.reset(pid)` is
//! `$service_cast`. The protocol and its failure rules are in
//! `stdlib/process.rs`.

use std::collections::HashMap;

use super::{Compiler, Dest, FnGen, internal_builtin};
use crate::builtins::{self, BuiltinId};
use crate::compile::bytecode::{Const, Func, Op};
use crate::hir::{
    self, Arm, Callee, Clause, Expr, ExprKind, FnId, Literal, LocalId, LocalInfo, Pattern,
    PatternKind, ServiceId, Stmt,
};
use crate::source::Span;
use crate::stdlib::process::{CALL_TAG, CAST_TAG, REPLY_TAG};
use crate::types::Type;

/// The generated functions of one service (indices into the program's
/// functions).
#[derive(Debug, Clone, Copy)]
pub(super) struct ServiceFns {
    pub(super) start: u32,
}

/// Builds HIR for the generated functions: one table of locals per body.
struct Body {
    locals: Vec<LocalInfo>,
    span: Span,
}

impl Body {
    fn new(span: Span) -> Body {
        Body {
            locals: Vec::new(),
            span,
        }
    }

    fn local(&mut self, name: &str) -> LocalId {
        self.locals.push(LocalInfo {
            name: name.to_string(),
            ty: Type::Var(0),
        });
        LocalId(u32::try_from(self.locals.len() - 1).unwrap_or(u32::MAX))
    }

    fn expr(&self, kind: ExprKind) -> Expr {
        Expr {
            kind,
            ty: Type::Var(0),
            span: self.span,
        }
    }

    fn pat(&self, kind: PatternKind) -> Pattern {
        Pattern {
            kind,
            ty: Type::Var(0),
            span: self.span,
        }
    }

    fn get(&self, l: LocalId) -> Expr {
        self.expr(ExprKind::Local(l))
    }

    fn call(&self, f: u32, args: Vec<Expr>) -> Expr {
        self.expr(ExprKind::Call {
            callee: Callee::Fn(FnId(f)),
            args,
        })
    }

    fn atom(&self, a: &str) -> Expr {
        self.expr(ExprKind::Lit(Literal::Atom(a.to_string())))
    }
}

impl Compiler<'_> {
    /// Generates and compiles the loop and start functions of every
    /// service.
    pub(super) fn lower_services(&mut self) -> HashMap<ServiceId, ServiceFns> {
        let mut out = HashMap::new();
        let hir = self.hir;
        for s in &hir.services {
            let init = &hir.functions[s.init.0 as usize];
            let lp = self.push_func(placeholder(&format!("{}/loop", s.qualified_name)));
            let start = self.push_func(placeholder(&format!("{}/start", s.qualified_name)));
            self.lower_loop(s, lp);
            // start(args...) = loop(init(args...))
            let mut b = Body::new(init.span);
            let params: Vec<LocalId> = (0..init.arity).map(|i| b.local(&format!("a{i}"))).collect();
            let body = b.call(
                lp,
                vec![b.call(s.init.0, params.iter().map(|l| b.get(*l)).collect())],
            );
            let clause = Clause {
                params: params
                    .iter()
                    .map(|l| b.pat(PatternKind::Bind(*l)))
                    .collect(),
                guard: None,
                body,
            };
            let name = format!("{}/start", s.qualified_name);
            let f = FnGen::new(self, &name, init.arity, &b.locals, b.span).function(
                std::slice::from_ref(&clause),
                &[],
                b.span,
            );
            self.out.funcs[start as usize] = f;
            out.insert(s.id, ServiceFns { start });
        }
        out
    }

    fn lower_loop(&mut self, s: &hir::Service, lp: u32) {
        let hir = self.hir;
        let init = &hir.functions[s.init.0 as usize];
        let mut b = Body::new(init.span);
        let state = b.local("state");
        let send = builtins::lookup("send").unwrap_or(BuiltinId(u16::MAX));
        let mut arms = Vec::new();
        for (k, h) in s.handlers.iter().enumerate() {
            let f = &hir.functions[h.function.0 as usize];
            b.span = f.span;
            let n = f.arity.saturating_sub(1);
            let args: Vec<LocalId> = (0..n).map(|i| b.local(&format!("a{i}"))).collect();
            let k = i64::try_from(k).unwrap_or(i64::MAX);
            let mut handler_args: Vec<Expr> = args.iter().map(|l| b.get(*l)).collect();
            handler_args.push(b.get(state));
            let run = b.call(h.function.0, handler_args);
            let binds: Vec<Pattern> = args.iter().map(|l| b.pat(PatternKind::Bind(*l))).collect();
            let (pat, body) = if h.is_call {
                let from = b.local("from");
                let mref = b.local("ref");
                let next = b.local("next");
                let reply = b.local("reply");
                let mut ps = vec![
                    b.pat(PatternKind::Lit(Literal::Atom(CALL_TAG.into()))),
                    b.pat(PatternKind::Bind(from)),
                    b.pat(PatternKind::Bind(mref)),
                    b.pat(PatternKind::Lit(Literal::Int(k))),
                ];
                ps.extend(binds);
                let answer = b.expr(ExprKind::Tuple(vec![
                    b.atom(REPLY_TAG),
                    b.get(mref),
                    b.get(reply),
                ]));
                let body = b.expr(ExprKind::Block(vec![
                    Stmt::Let {
                        pat: b.pat(PatternKind::Tuple(vec![
                            b.pat(PatternKind::Bind(next)),
                            b.pat(PatternKind::Bind(reply)),
                        ])),
                        value: run,
                    },
                    Stmt::Expr(b.expr(ExprKind::Call {
                        callee: Callee::Builtin(send),
                        args: vec![b.get(from), answer],
                    })),
                    Stmt::Expr(b.call(lp, vec![b.get(next)])),
                ]));
                (ps, body)
            } else {
                let mut ps = vec![
                    b.pat(PatternKind::Lit(Literal::Atom(CAST_TAG.into()))),
                    b.pat(PatternKind::Lit(Literal::Int(k))),
                ];
                ps.extend(binds);
                (ps, b.call(lp, vec![run]))
            };
            arms.push(Arm {
                pat: b.pat(PatternKind::Tuple(pat)),
                guard: None,
                body,
            });
        }
        b.span = init.span;
        arms.push(Arm {
            pat: b.pat(PatternKind::Wildcard),
            guard: None,
            body: b.call(lp, vec![b.get(state)]),
        });
        let clause = Clause {
            params: vec![b.pat(PatternKind::Bind(state))],
            guard: None,
            body: b.expr(ExprKind::Receive { arms, after: None }),
        };
        let name = format!("{}/loop", s.qualified_name);
        let f = FnGen::new(self, &name, 1, &b.locals, b.span).function(
            std::slice::from_ref(&clause),
            &[],
            b.span,
        );
        self.out.funcs[lp as usize] = f;
    }
}

/// An empty function, replaced once its body is compiled (so bodies can
/// refer to it first).
fn placeholder(name: &str) -> Func {
    Func {
        name: name.to_string(),
        arity: 0,
        nregs: 1,
        captures: Vec::new(),
        code: Vec::new(),
        lines: Vec::new(),
        file: 0,
        terminate: None,
    }
}

impl FnGen<'_, '_> {
    /// `Svc.start(args...)` and `Svc.op(pid, args...)`.
    pub(super) fn service_call(&mut self, e: &Expr, callee: &Callee, args: &[Expr], dest: Dest) {
        match *callee {
            Callee::ServiceStart(sid) => {
                let start = self.c.services.get(&sid).map_or(0, |f| f.start);
                let base = self.temps(args.len() + 1);
                let idx = self.konst(Const::Fn(start));
                self.emit(Op::Const { dst: base, idx });
                for (i, a) in args.iter().enumerate() {
                    self.expr(a, Dest::Reg(base + 1 + i as u16));
                }
                let r = self.target(dest);
                self.at(e.span);
                self.emit(Op::Builtin {
                    dst: r,
                    id: internal_builtin("spawn"),
                    base,
                    n: u16::try_from(args.len() + 1).unwrap_or(u16::MAX),
                });
                self.ret_if(dest, r);
            }
            Callee::ServiceOp { service, handler } => {
                let hir = self.c.hir;
                let Some(s) = hir.services.iter().find(|s| s.id == service) else {
                    return;
                };
                let Some(h) = s.handlers.get(handler as usize) else {
                    return;
                };
                // call: (pid, handler, "Service.op", args...);
                // cast: (pid, handler, args...)
                let skip = usize::from(h.is_call);
                let n = args.len() + 1 + skip;
                let base = self.temps(n);
                if let Some(pid) = args.first() {
                    self.expr(pid, Dest::Reg(base));
                }
                self.emit(Op::Int {
                    dst: base + 1,
                    v: i32::try_from(handler).unwrap_or(i32::MAX),
                });
                let op = format!("{}.{}", s.name, h.op_name);
                let op = self.konst(Const::Str(op));
                if h.is_call {
                    self.emit(Op::Const {
                        dst: base + 2,
                        idx: op,
                    });
                }
                for (i, a) in args.iter().enumerate().skip(1) {
                    self.expr(a, Dest::Reg(base + (1 + skip + i) as u16));
                }
                let n = u16::try_from(n).unwrap_or(u16::MAX);
                let r = self.target(dest);
                self.at(e.span);
                if h.is_call {
                    let wait = self.temps(2);
                    self.emit(Op::Builtin {
                        dst: wait,
                        id: internal_builtin("$service_call"),
                        base,
                        n,
                    });
                    self.emit(Op::Const {
                        dst: wait + 1,
                        idx: op,
                    });
                    self.emit(Op::Builtin {
                        dst: r,
                        id: internal_builtin("$service_await"),
                        base: wait,
                        n: 2,
                    });
                } else {
                    self.emit(Op::Builtin {
                        dst: r,
                        id: internal_builtin("$service_cast"),
                        base,
                        n,
                    });
                }
                self.ret_if(dest, r);
            }
            _ => {}
        }
    }
}
