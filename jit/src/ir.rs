//! The kernel IR: what a caller hands to [`crate::Kernels::compile`].
//!
//! A kernel is a function over 64-bit integers and booleans only, in the
//! shape of a register machine: numbered registers, instructions indexed
//! by pc, jumps by pc. Integers are Mesh `Int`s (checked arithmetic: an
//! overflow or a division by zero is a [`FaultKind`] naming the pc), and
//! booleans are 0 or 1. The caller has already proved every register
//! holds one kind (see `mesh-lang`'s `vm::kernel`); the code generator
//! trusts the IR and checks only what it needs for memory safety (every
//! register, callee and jump target in range: [`KFunc::validate`]).

/// A register number.
pub type Reg = u16;

/// Most registers a kernel may have. It bounds a native frame (a few
/// machine words per register at most) far below the stack margin the
/// runner keeps under its floor check, so a call that passes the check
/// cannot step over the guard page.
pub const MAX_REGS: u16 = 1024;

/// Integer arithmetic. Every operator is checked: see [`FaultKind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arith {
    Add,
    Sub,
    Mul,
    /// Truncating division.
    Div,
    /// Remainder with the dividend's sign.
    Rem,
}

/// A comparison of two integers (or two booleans, for `Eq`/`Ne`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// One instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KOp {
    Const {
        dst: Reg,
        v: i64,
    },
    Move {
        dst: Reg,
        src: Reg,
    },
    Arith {
        op: Arith,
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    ArithImm {
        op: Arith,
        dst: Reg,
        a: Reg,
        imm: i64,
    },
    /// `dst = -a` (checked).
    Neg {
        dst: Reg,
        a: Reg,
    },
    /// `dst = !a` on a boolean.
    Not {
        dst: Reg,
        a: Reg,
    },
    /// `dst = (a cmp b)` as 0 or 1.
    Cmp {
        cmp: Cmp,
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    CmpImm {
        cmp: Cmp,
        dst: Reg,
        a: Reg,
        imm: i64,
    },
    Jump {
        to: u32,
    },
    /// Jump when the boolean in `r` is `when`.
    JumpIf {
        r: Reg,
        when: bool,
        to: u32,
    },
    /// Jump when `a cmp b` does *not* hold.
    BranchNot {
        cmp: Cmp,
        a: Reg,
        b: Reg,
        to: u32,
    },
    BranchNotImm {
        cmp: Cmp,
        a: Reg,
        imm: i64,
        to: u32,
    },
    /// Call kernel `func` with the `n` arguments in `base..base + n`.
    Call {
        dst: Reg,
        func: u32,
        base: Reg,
        n: u16,
    },
    /// Tail call: the callee's value is this function's value.
    TailCall {
        func: u32,
        base: Reg,
        n: u16,
    },
    Return {
        r: Reg,
    },
    /// Stop with [`FaultKind::Fail`] carrying the value in `r` (a `case`
    /// no clause matched).
    Fail {
        r: Reg,
    },
}

/// One kernel function. Arguments arrive in registers `0..arity`; every
/// other register starts at 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KFunc {
    pub arity: u16,
    pub nregs: u16,
    pub code: Vec<KOp>,
    /// Whether the function may run for unbounded time (it loops, or
    /// reaches recursion): such a kernel counts budget and checks its
    /// stack, and may only be started through [`crate::Run`].
    pub unbounded: bool,
}

/// Why a kernel stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// An operator overflowed 64 bits.
    Overflow(Arith),
    /// `-a` of the smallest integer.
    NegOverflow,
    DivisionByZero,
    /// The kernel's stack is exhausted (very deep recursion).
    StackOverflow,
    /// A [`KOp::Fail`] ran.
    Fail,
    /// The run was dropped while suspended.
    Cancelled,
}

impl FaultKind {
    pub(crate) fn code(self) -> i64 {
        match self {
            FaultKind::Overflow(Arith::Add) => 1,
            FaultKind::Overflow(Arith::Sub) => 2,
            FaultKind::Overflow(Arith::Mul) => 3,
            FaultKind::Overflow(Arith::Div) => 4,
            FaultKind::Overflow(Arith::Rem) => 5,
            FaultKind::NegOverflow => 6,
            FaultKind::DivisionByZero => 7,
            FaultKind::StackOverflow => 8,
            FaultKind::Fail => 9,
            FaultKind::Cancelled => 10,
        }
    }

    pub(crate) fn from_code(code: i64) -> FaultKind {
        match code {
            1 => FaultKind::Overflow(Arith::Add),
            2 => FaultKind::Overflow(Arith::Sub),
            3 => FaultKind::Overflow(Arith::Mul),
            4 => FaultKind::Overflow(Arith::Div),
            5 => FaultKind::Overflow(Arith::Rem),
            6 => FaultKind::NegOverflow,
            7 => FaultKind::DivisionByZero,
            8 => FaultKind::StackOverflow,
            9 => FaultKind::Fail,
            _ => FaultKind::Cancelled,
        }
    }
}

/// Where and why a kernel stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    pub kind: FaultKind,
    /// The kernel (index into the compiled set) and pc of the instruction.
    pub func: u32,
    pub pc: u32,
    /// The value a [`KOp::Fail`] carried.
    pub value: i64,
}

/// An IR the code generator refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IrError {
    #[error("kernel {func}: register {reg} at pc {pc} is not below nregs")]
    Register { func: u32, pc: u32, reg: u32 },
    #[error("kernel {func}: jump target {to} at pc {pc} is out of range")]
    Target { func: u32, pc: u32, to: u32 },
    #[error(
        "kernel {func}: call at pc {pc} names kernel {callee} (of {count}) or passes the wrong arity"
    )]
    Callee {
        func: u32,
        pc: u32,
        callee: u32,
        count: usize,
    },
    #[error("kernel {func}: a bounded kernel calls unbounded kernel {callee}")]
    Bound { func: u32, callee: u32 },
    #[error("kernel {func} is marked bounded but loops or recurses")]
    Loop { func: u32 },
    #[error("kernel {func}: the code can run off its end")]
    FallsOff { func: u32 },
    #[error("kernel {func}: {nregs} registers, more than {MAX_REGS}")]
    TooManyRegisters { func: u32, nregs: u16 },
    #[error("kernel {func}: arity {arity} is above nregs {nregs}")]
    Arity { func: u32, arity: u16, nregs: u16 },
}

impl KFunc {
    /// Checks that the IR is well formed against the set `all`.
    pub fn validate(&self, me: u32, all: &[KFunc]) -> Result<(), IrError> {
        if self.nregs > MAX_REGS {
            return Err(IrError::TooManyRegisters {
                func: me,
                nregs: self.nregs,
            });
        }
        if self.arity > self.nregs {
            return Err(IrError::Arity {
                func: me,
                arity: self.arity,
                nregs: self.nregs,
            });
        }
        let len = self.code.len() as u32;
        for (pc, op) in self.code.iter().enumerate() {
            let pc = pc as u32;
            let reg = |r: Reg| {
                if r < self.nregs {
                    Ok(())
                } else {
                    Err(IrError::Register {
                        func: me,
                        pc,
                        reg: u32::from(r),
                    })
                }
            };
            let target = |to: u32| {
                if to < len {
                    Ok(())
                } else {
                    Err(IrError::Target { func: me, pc, to })
                }
            };
            // A bounded kernel has no backward jumps.
            let back = |to: u32| {
                if !self.unbounded && to <= pc {
                    Err(IrError::Loop { func: me })
                } else {
                    Ok(())
                }
            };
            let callee = |func: u32, base: Reg, n: u16| {
                let bad = IrError::Callee {
                    func: me,
                    pc,
                    callee: func,
                    count: all.len(),
                };
                let Some(c) = all.get(func as usize) else {
                    return Err(bad);
                };
                if c.arity != n || u32::from(base) + u32::from(n) > u32::from(self.nregs) {
                    return Err(bad);
                }
                if c.unbounded && !self.unbounded {
                    return Err(IrError::Bound {
                        func: me,
                        callee: func,
                    });
                }
                Ok(())
            };
            match *op {
                KOp::Const { dst, .. } => reg(dst)?,
                KOp::Move { dst, src } | KOp::Neg { dst, a: src } | KOp::Not { dst, a: src } => {
                    reg(dst)?;
                    reg(src)?;
                }
                KOp::Arith { dst, a, b, .. } | KOp::Cmp { dst, a, b, .. } => {
                    reg(dst)?;
                    reg(a)?;
                    reg(b)?;
                }
                KOp::ArithImm { dst, a, .. } | KOp::CmpImm { dst, a, .. } => {
                    reg(dst)?;
                    reg(a)?;
                }
                KOp::Jump { to } => {
                    target(to)?;
                    back(to)?;
                }
                KOp::JumpIf { r, to, .. } => {
                    reg(r)?;
                    target(to)?;
                    back(to)?;
                }
                KOp::BranchNot { a, b, to, .. } => {
                    reg(a)?;
                    reg(b)?;
                    target(to)?;
                    back(to)?;
                }
                KOp::BranchNotImm { a, to, .. } => {
                    reg(a)?;
                    target(to)?;
                    back(to)?;
                }
                KOp::Call { dst, func, base, n } => {
                    reg(dst)?;
                    callee(func, base, n)?;
                }
                KOp::TailCall { func, base, n } => callee(func, base, n)?,
                KOp::Return { r } | KOp::Fail { r } => reg(r)?,
            }
        }
        match self.code.last() {
            Some(
                KOp::Jump { .. } | KOp::TailCall { .. } | KOp::Return { .. } | KOp::Fail { .. },
            ) => Ok(()),
            _ => Err(IrError::FallsOff { func: me }),
        }
    }
}

/// Checks that the bounded kernels of `all` call each other without a
/// cycle (each is validated alone first): bounded code counts no budget and
/// checks no stack, so it must end by construction.
pub(crate) fn check_bounded(all: &[KFunc]) -> Result<(), IrError> {
    // 0 unvisited, 1 on the path, 2 done.
    let mut state = vec![0u8; all.len()];
    for start in 0..all.len() {
        if all[start].unbounded || state[start] != 0 {
            continue;
        }
        // Iterative depth-first search: (function, next instruction).
        let mut stack = vec![(start, 0usize)];
        state[start] = 1;
        while let Some(&mut (f, ref mut at)) = stack.last_mut() {
            let next = all[f].code[*at..]
                .iter()
                .position(|op| matches!(op, KOp::Call { .. } | KOp::TailCall { .. }));
            let Some(k) = next else {
                state[f] = 2;
                stack.pop();
                continue;
            };
            let op = all[f].code[*at + k];
            *at += k + 1;
            let (KOp::Call { func, .. } | KOp::TailCall { func, .. }) = op else {
                continue;
            };
            let c = func as usize;
            match state.get(c) {
                Some(1) => return Err(IrError::Loop { func }),
                Some(0) => {
                    state[c] = 1;
                    stack.push((c, 0));
                }
                _ => {}
            }
        }
    }
    Ok(())
}
