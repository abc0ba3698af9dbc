//! Supervisors lowered to a constant description.
//!
//! A `supervisor` block becomes one constant, `(name, strategy,
//! max_restarts, max_seconds, [(child, start, restart, shutdown), ...])`,
//! whose `start` entries are the children's compiled start functions
//! (they capture nothing). Using `Sup` as a value turns the constant into
//! a supervisor value with `$supervisor`; `spawn(Sup)` then starts the
//! native supervisor process of `vm/supervisor.rs`, which owns the
//! semantics.

use std::collections::HashMap;

use super::{Compiler, Dest, FnGen, internal_builtin};
use crate::compile::bytecode::{Const, Op};
use crate::hir::{Restart, Shutdown, Strategy, SupervisorId};
use crate::vm::supervisor::words;

impl Compiler<'_> {
    /// Compiles every supervisor's start functions and description;
    /// returns the description's constant index per supervisor.
    pub(super) fn lower_supervisors(&mut self) -> HashMap<SupervisorId, u32> {
        let mut out = HashMap::new();
        let hir = self.hir;
        for s in &hir.supervisors {
            let mut children = Vec::new();
            for c in &s.children {
                let span = c.start.clauses.first().map_or_else(
                    || crate::source::Span::new(crate::source::FileId(0), 0, 0),
                    |cl| cl.body.span,
                );
                let name = format!("{}/{}/start", s.qualified_name, c.name);
                let f = FnGen::new(self, &name, 0, &c.start.locals, span).function(
                    &c.start.clauses,
                    &[],
                    span,
                );
                let f = self.push_func(f);
                let restart = match c.restart {
                    Restart::Permanent => words::PERMANENT,
                    Restart::Transient => words::TRANSIENT,
                    Restart::Temporary => words::TEMPORARY,
                };
                let shutdown = match c.shutdown {
                    Shutdown::Millis(ms) => i64::try_from(ms).unwrap_or(i64::MAX),
                    Shutdown::BrutalKill => words::BRUTAL_KILL,
                };
                children.push(Const::Tuple(vec![
                    Const::Str(c.name.clone()),
                    Const::Fn(f),
                    Const::Atom(self.atom(restart)),
                    Const::Int(shutdown),
                ]));
            }
            let strategy = match s.strategy {
                Strategy::OneForOne => words::ONE_FOR_ONE,
                Strategy::OneForAll => words::ONE_FOR_ALL,
                Strategy::RestForOne => words::REST_FOR_ONE,
            };
            let desc = Const::Tuple(vec![
                Const::Str(s.qualified_name.clone()),
                Const::Atom(self.atom(strategy)),
                Const::Int(i64::from(s.max_restarts)),
                Const::Int(i64::from(s.max_seconds)),
                Const::List(children),
            ]);
            let idx = self.konst(desc);
            out.insert(s.id, idx);
        }
        out
    }
}

impl FnGen<'_, '_> {
    /// `Sup` as a value: the supervisor its description names.
    pub(super) fn supervisor_value(&mut self, id: SupervisorId, dest: Dest) {
        let idx = self.c.supervisors.get(&id).copied().unwrap_or(0);
        let arg = self.temp();
        self.emit(Op::Const { dst: arg, idx });
        let r = self.target(dest);
        self.emit(Op::Builtin {
            dst: r,
            id: internal_builtin("$supervisor"),
            base: arg,
            n: 1,
        });
        self.ret_if(dest, r);
    }
}
