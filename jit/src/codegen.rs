//! Cranelift code generation: [`KFunc`]s to machine code.
//!
//! Every kernel becomes one native function in Cranelift's `tail` calling
//! convention, `(ctx, depth, a0, .., an) -> (value, status)` (`depth`:
//! frames in the call chain, this one included, checked against the
//! interpreter's limit at each call): `status` is 0 for a
//! value and 1 when the kernel stopped early, in which case the fault is
//! already written into the context and every caller returns at once. Each
//! kernel also gets an *entry*: a function in the platform's C convention,
//! `(ctx, *const i64 args) -> i64`, that calls it and stores the status in
//! the context, which is how Rust starts one ([`crate::run`]).
//!
//! Registers are Cranelift variables (SSA built by the frontend), so values
//! live in machine registers. Arithmetic is checked the way Mesh's
//! interpreter checks it. An *unbounded* kernel also takes one unit of
//! budget on entry and on every backward jump or self tail call (a self
//! tail call is a jump to the top), calling the runner's yield hook when it
//! runs out, and checks its stack pointer against the context's floor
//! before each call.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    AbiParam, Block, BlockArg, FuncRef, InstBuilder, MemFlagsData, Signature, Value, types,
};
use cranelift_codegen::isa::{CallConv, OwnedTargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{Linkage, Module, default_libcall_names};

use crate::JitError;
use crate::ir::{Arith, Cmp, FaultKind, KFunc, KOp};
use crate::run::yield_hook;

const I64: types::Type = types::I64;

/// Byte offsets of [`Ctx`]'s fields, as native code reads them.
pub(crate) mod off {
    pub const BUDGET: i32 = 0;
    pub const STACK_FLOOR: i32 = 8;
    pub const STATUS: i32 = 16;
    pub const FAULT_KIND: i32 = 24;
    pub const FAULT_FUNC: i32 = 32;
    pub const FAULT_PC: i32 = 40;
    pub const FAULT_VALUE: i32 = 48;
    pub const DEEP_FLOOR: i32 = 56;
    pub const DEEP: i32 = 64;
    pub const DEPTH: i32 = 72;
}

/// The machine code of a set of kernels.
pub(crate) struct Compiled {
    pub module: JITModule,
    /// Address of each kernel's entry, by kernel index.
    pub entries: Vec<*const u8>,
}

fn isa() -> Result<OwnedTargetIsa, JitError> {
    let mut flags = settings::builder();
    let set = |flags: &mut settings::Builder, k: &str, v: &str| {
        flags
            .set(k, v)
            .map_err(|e| JitError::Setup(format!("{k}={v}: {e}")))
    };
    set(&mut flags, "opt_level", "speed")?;
    set(&mut flags, "is_pic", "false")?;
    set(&mut flags, "use_colocated_libcalls", "false")?;
    // Cranelift's tail calls rely on frame pointers.
    set(&mut flags, "preserve_frame_pointers", "true")?;
    let builder = cranelift_native::builder().map_err(|e| JitError::Setup(e.to_string()))?;
    builder
        .finish(settings::Flags::new(flags))
        .map_err(|e| JitError::Setup(e.to_string()))
}

/// Compiles `funcs` (already validated).
pub(crate) fn compile(funcs: &[KFunc], max_depth: u32) -> Result<Compiled, JitError> {
    let isa = isa()?;
    let host_cc = isa.default_call_conv();
    let fe = isa.frontend_config();
    let mut jb = JITBuilder::with_isa(isa, default_libcall_names());
    jb.symbol("mesh_jit_yield", yield_hook as *const u8);
    let mut module = JITModule::new(jb);

    let kernel_sig = |arity: u16| {
        let mut s = Signature::new(CallConv::Tail);
        // ctx, depth, arguments.
        s.params.push(AbiParam::new(I64));
        s.params.push(AbiParam::new(I64));
        for _ in 0..arity {
            s.params.push(AbiParam::new(I64));
        }
        s.returns.push(AbiParam::new(I64));
        s.returns.push(AbiParam::new(I64));
        s
    };
    let mut entry_sig = Signature::new(host_cc);
    entry_sig.params.push(AbiParam::new(I64));
    entry_sig.params.push(AbiParam::new(I64));
    entry_sig.returns.push(AbiParam::new(I64));
    let mut hook_sig = Signature::new(host_cc);
    hook_sig.params.push(AbiParam::new(I64));
    hook_sig.returns.push(AbiParam::new(I64));

    let module_err = |e: cranelift_module::ModuleError| JitError::Codegen(format!("{e:?}"));
    let mut ids = Vec::with_capacity(funcs.len());
    let mut entry_ids = Vec::with_capacity(funcs.len());
    for (i, f) in funcs.iter().enumerate() {
        ids.push(
            module
                .declare_function(&format!("k{i}"), Linkage::Local, &kernel_sig(f.arity))
                .map_err(module_err)?,
        );
        entry_ids.push(
            module
                .declare_function(&format!("e{i}"), Linkage::Local, &entry_sig)
                .map_err(module_err)?,
        );
    }
    let hook = module
        .declare_function("mesh_jit_yield", Linkage::Import, &hook_sig)
        .map_err(module_err)?;

    let mut ctx = module.make_context();
    let mut fctx = FunctionBuilderContext::new();
    for (i, f) in funcs.iter().enumerate() {
        ctx.func.signature = kernel_sig(f.arity);
        {
            let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
            let refs: Vec<FuncRef> = ids
                .iter()
                .map(|id| module.declare_func_in_func(*id, b.func))
                .collect();
            let hook_ref = module.declare_func_in_func(hook, b.func);
            Gen {
                b: &mut b,
                f,
                me: i as u32,
                refs: &refs,
                hook: hook_ref,
                max_depth: i64::from(max_depth),
            }
            .emit();
            b.seal_all_blocks();
            b.finalize(fe);
        }
        module
            .define_function(ids[i], &mut ctx)
            .map_err(|e| JitError::Codegen(format!("kernel {i}: {e:?}")))?;
        module.clear_context(&mut ctx);

        // The entry: load the arguments, call, store the status.
        ctx.func.signature = entry_sig.clone();
        {
            let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
            let callee = module.declare_func_in_func(ids[i], b.func);
            let blk = b.create_block();
            b.append_block_params_for_function_params(blk);
            b.switch_to_block(blk);
            let cx = b.block_params(blk)[0];
            let argp = b.block_params(blk)[1];
            // The kernel's frame is one more than its caller's depth.
            let depth = b.ins().load(I64, MemFlagsData::trusted(), cx, off::DEPTH);
            let depth = b.ins().iadd_imm_s(depth, 1);
            let mut args = vec![cx, depth];
            for k in 0..i32::from(f.arity) {
                args.push(b.ins().load(I64, MemFlagsData::trusted(), argp, k * 8));
            }
            let call = b.ins().call(callee, &args);
            let (v, st) = {
                let r = b.inst_results(call);
                (r[0], r[1])
            };
            b.ins().store(MemFlagsData::trusted(), st, cx, off::STATUS);
            b.ins().return_(&[v]);
            b.seal_all_blocks();
            b.finalize(fe);
        }
        module
            .define_function(entry_ids[i], &mut ctx)
            .map_err(|e| JitError::Codegen(format!("entry {i}: {e:?}")))?;
        module.clear_context(&mut ctx);
    }
    module.finalize_definitions().map_err(module_err)?;
    let entries = entry_ids
        .iter()
        .map(|id| module.get_finalized_function(*id))
        .collect();
    Ok(Compiled { module, entries })
}

/// Emits one kernel.
struct Gen<'a, 'b> {
    b: &'a mut FunctionBuilder<'b>,
    f: &'a KFunc,
    me: u32,
    refs: &'a [FuncRef],
    hook: FuncRef,
    /// Most frames a call chain may have, counted as the interpreter
    /// counts its frames (the run's caller's depth comes in the context).
    max_depth: i64,
}

impl Gen<'_, '_> {
    fn emit(self) {
        let f = self.f;
        let b = &mut *self.b;
        let vars: Vec<Variable> = (0..f.nregs).map(|_| b.declare_var(I64)).collect();

        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        let head = b.create_block();
        // Shared exits: a fault (kind, pc, value) and the propagation of
        // a callee's early stop.
        let fault = b.create_block();
        for _ in 0..3 {
            b.append_block_param(fault, I64);
        }
        let propagate = b.create_block();

        // Blocks at every jump target and after every branch or end.
        let len = f.code.len();
        let mut leader = vec![false; len + 1];
        leader[0] = true;
        for (pc, op) in f.code.iter().enumerate() {
            match *op {
                KOp::Jump { to }
                | KOp::JumpIf { to, .. }
                | KOp::BranchNot { to, .. }
                | KOp::BranchNotImm { to, .. } => {
                    leader[to as usize] = true;
                    leader[pc + 1] = true;
                }
                KOp::TailCall { .. } | KOp::Return { .. } | KOp::Fail { .. } => {
                    leader[pc + 1] = true;
                }
                _ => {}
            }
        }
        let blocks: Vec<Option<Block>> = leader[..len]
            .iter()
            .map(|&l| l.then(|| b.create_block()))
            .collect();
        let block_at = |pc: u32| blocks[pc as usize].unwrap_or(entry);

        // Entry: arguments into their registers, the rest zeroed; stack check.
        b.switch_to_block(entry);
        let params: Vec<Value> = b.block_params(entry).to_vec();
        let cx = params[0];
        let depth = params[1];
        let zero = b.ins().iconst(I64, 0);
        for (r, var) in vars.iter().enumerate() {
            let v = if r < usize::from(f.arity) {
                params[r + 2]
            } else {
                zero
            };
            b.def_var(*var, v);
        }
        b.ins().jump(head, &[]);

        // Head: one unit of budget (unbounded kernels), then pc 0.
        b.switch_to_block(head);
        let first = block_at(0);
        if f.unbounded {
            budget_then(b, cx, self.hook, fault, first);
        } else {
            b.ins().jump(first, &[]);
        }

        // Fault: record it and stop.
        b.switch_to_block(fault);
        let fp = b.block_params(fault).to_vec();
        b.ins()
            .store(MemFlagsData::trusted(), fp[0], cx, off::FAULT_KIND);
        let me = b.ins().iconst(I64, i64::from(self.me));
        b.ins()
            .store(MemFlagsData::trusted(), me, cx, off::FAULT_FUNC);
        b.ins()
            .store(MemFlagsData::trusted(), fp[1], cx, off::FAULT_PC);
        b.ins()
            .store(MemFlagsData::trusted(), fp[2], cx, off::FAULT_VALUE);
        b.ins().jump(propagate, &[]);
        b.switch_to_block(propagate);
        let zero = b.ins().iconst(I64, 0);
        let one = b.ins().iconst(I64, 1);
        b.ins().return_(&[zero, one]);

        let mut open = false;
        for (pc, op) in f.code.iter().enumerate() {
            if let Some(blk) = blocks[pc] {
                if open {
                    b.ins().jump(blk, &[]);
                }
                b.switch_to_block(blk);
                open = true;
            }
            if !open {
                continue;
            }
            let pcv = pc as i64;
            // A jump target: backward edges of an unbounded kernel go
            // through the budget.
            let edge = |b: &mut FunctionBuilder<'_>, to: u32| -> Block {
                let target = block_at(to);
                if f.unbounded && (to as usize) <= pc {
                    let via = b.create_block();
                    let cur = b.current_block();
                    b.switch_to_block(via);
                    budget_then(b, cx, self.hook, fault, target);
                    if let Some(cur) = cur {
                        b.switch_to_block(cur);
                    }
                    via
                } else {
                    target
                }
            };
            let fault_at =
                |b: &mut FunctionBuilder<'_>, cond: Value, kind: FaultKind, value: Value| {
                    let k = b.ins().iconst(I64, kind.code());
                    let p = b.ins().iconst(I64, pcv);
                    let cont = b.create_block();
                    b.ins().brif(
                        cond,
                        fault,
                        &[
                            BlockArg::Value(k),
                            BlockArg::Value(p),
                            BlockArg::Value(value),
                        ],
                        cont,
                        &[],
                    );
                    b.switch_to_block(cont);
                };
            let var = |r: u16| vars[usize::from(r)];
            match *op {
                KOp::Const { dst, v } => {
                    let x = b.ins().iconst(I64, v);
                    b.def_var(var(dst), x);
                }
                KOp::Move { dst, src } => {
                    let x = b.use_var(var(src));
                    b.def_var(var(dst), x);
                }
                KOp::Arith { op, dst, a, b: rb } => {
                    let x = b.use_var(var(a));
                    let y = b.use_var(var(rb));
                    let v = arith(b, op, x, y, None, &fault_at);
                    b.def_var(var(dst), v);
                }
                KOp::ArithImm { op, dst, a, imm } => {
                    let x = b.use_var(var(a));
                    let y = b.ins().iconst(I64, imm);
                    let v = arith(b, op, x, y, Some(imm), &fault_at);
                    b.def_var(var(dst), v);
                }
                KOp::Neg { dst, a } => {
                    let x = b.use_var(var(a));
                    let z = b.ins().iconst(I64, 0);
                    let (v, of) = b.ins().ssub_overflow(z, x);
                    fault_at(b, of, FaultKind::NegOverflow, z);
                    b.def_var(var(dst), v);
                }
                KOp::Not { dst, a } => {
                    let x = b.use_var(var(a));
                    let v = b.ins().bxor_imm_s(x, 1);
                    b.def_var(var(dst), v);
                }
                KOp::Cmp { cmp, dst, a, b: rb } => {
                    let x = b.use_var(var(a));
                    let y = b.use_var(var(rb));
                    let c = b.ins().icmp(cc(cmp), x, y);
                    let v = b.ins().uextend(I64, c);
                    b.def_var(var(dst), v);
                }
                KOp::CmpImm { cmp, dst, a, imm } => {
                    let x = b.use_var(var(a));
                    let c = b.ins().icmp_imm_s(cc(cmp), x, imm);
                    let v = b.ins().uextend(I64, c);
                    b.def_var(var(dst), v);
                }
                KOp::Jump { to } => {
                    let t = edge(b, to);
                    b.ins().jump(t, &[]);
                    open = false;
                }
                KOp::JumpIf { r, when, to } => {
                    let x = b.use_var(var(r));
                    let t = edge(b, to);
                    let next = block_at(pc as u32 + 1);
                    if when {
                        b.ins().brif(x, t, &[], next, &[]);
                    } else {
                        b.ins().brif(x, next, &[], t, &[]);
                    }
                    open = false;
                }
                KOp::BranchNot { cmp, a, b: rb, to } => {
                    let x = b.use_var(var(a));
                    let y = b.use_var(var(rb));
                    let c = b.ins().icmp(cc(cmp), x, y);
                    let t = edge(b, to);
                    let next = block_at(pc as u32 + 1);
                    b.ins().brif(c, next, &[], t, &[]);
                    open = false;
                }
                KOp::BranchNotImm { cmp, a, imm, to } => {
                    let x = b.use_var(var(a));
                    let c = b.ins().icmp_imm_s(cc(cmp), x, imm);
                    let t = edge(b, to);
                    let next = block_at(pc as u32 + 1);
                    b.ins().brif(c, next, &[], t, &[]);
                    open = false;
                }
                KOp::Call { dst, func, base, n } => {
                    if f.unbounded {
                        // The stack, checked at the call so that the fault
                        // names the call's line, as the interpreter's does.
                        // One comparison on the way: below the deep floor
                        // (rare), a cold block marks the run deep and
                        // checks the real floor.
                        let sp = b.ins().get_stack_pointer(I64);
                        let deep_floor =
                            b.ins()
                                .load(I64, MemFlagsData::trusted(), cx, off::DEEP_FLOOR);
                        let deep = b.ins().icmp(IntCC::UnsignedLessThan, sp, deep_floor);
                        let deep_blk = b.create_block();
                        b.set_cold_block(deep_blk);
                        let cont = b.create_block();
                        b.ins().brif(deep, deep_blk, &[], cont, &[]);
                        b.switch_to_block(deep_blk);
                        let one = b.ins().iconst(I64, 1);
                        b.ins().store(MemFlagsData::trusted(), one, cx, off::DEEP);
                        let floor =
                            b.ins()
                                .load(I64, MemFlagsData::trusted(), cx, off::STACK_FLOOR);
                        let low = b.ins().icmp(IntCC::UnsignedLessThan, sp, floor);
                        let z = b.ins().iconst(I64, 0);
                        fault_at(b, low, FaultKind::StackOverflow, z);
                        b.ins().jump(cont, &[]);
                        b.switch_to_block(cont);
                    }
                    // As deep as the interpreter allows, then its fault.
                    let full =
                        b.ins()
                            .icmp_imm_s(IntCC::SignedGreaterThanOrEqual, depth, self.max_depth);
                    let z = b.ins().iconst(I64, 0);
                    fault_at(b, full, FaultKind::StackOverflow, z);
                    let deeper = b.ins().iadd_imm_s(depth, 1);
                    let mut args = vec![cx, deeper];
                    for k in 0..n {
                        args.push(b.use_var(var(base + k)));
                    }
                    let call = b.ins().call(self.refs[func as usize], &args);
                    let (v, st) = {
                        let r = b.inst_results(call);
                        (r[0], r[1])
                    };
                    let cont = b.create_block();
                    b.ins().brif(st, propagate, &[], cont, &[]);
                    b.switch_to_block(cont);
                    b.def_var(var(dst), v);
                }
                KOp::TailCall { func, base, n } => {
                    let args: Vec<Value> = (0..n).map(|k| b.use_var(var(base + k))).collect();
                    if func == self.me {
                        for (k, v) in args.into_iter().enumerate() {
                            b.def_var(vars[k], v);
                        }
                        b.ins().jump(head, &[]);
                    } else {
                        let mut all = vec![cx, depth];
                        all.extend(args);
                        b.ins().return_call(self.refs[func as usize], &all);
                    }
                    open = false;
                }
                KOp::Return { r } => {
                    let v = b.use_var(var(r));
                    let z = b.ins().iconst(I64, 0);
                    b.ins().return_(&[v, z]);
                    open = false;
                }
                KOp::Fail { r } => {
                    let v = b.use_var(var(r));
                    let k = b.ins().iconst(I64, FaultKind::Fail.code());
                    let p = b.ins().iconst(I64, pcv);
                    b.ins().jump(
                        fault,
                        &[BlockArg::Value(k), BlockArg::Value(p), BlockArg::Value(v)],
                    );
                    open = false;
                }
            }
        }
    }
}

/// Takes one unit of budget from the context, calling the yield hook when
/// it runs out (a cancelled run faults), then jumps to `then`.
fn budget_then(b: &mut FunctionBuilder<'_>, cx: Value, hook: FuncRef, fault: Block, then: Block) {
    let left = b.ins().load(I64, MemFlagsData::trusted(), cx, off::BUDGET);
    let left = b.ins().iadd_imm_s(left, -1);
    b.ins()
        .store(MemFlagsData::trusted(), left, cx, off::BUDGET);
    let out = b.ins().icmp_imm_s(IntCC::SignedLessThanOrEqual, left, 0);
    let yield_blk = b.create_block();
    b.set_cold_block(yield_blk);
    b.ins().brif(out, yield_blk, &[], then, &[]);
    b.switch_to_block(yield_blk);
    let call = b.ins().call(hook, &[cx]);
    let cancelled = b.inst_results(call)[0];
    let k = b.ins().iconst(I64, FaultKind::Cancelled.code());
    let z = b.ins().iconst(I64, 0);
    b.ins().brif(
        cancelled,
        fault,
        &[BlockArg::Value(k), BlockArg::Value(z), BlockArg::Value(z)],
        then,
        &[],
    );
}

fn cc(c: Cmp) -> IntCC {
    match c {
        Cmp::Eq => IntCC::Equal,
        Cmp::Ne => IntCC::NotEqual,
        Cmp::Lt => IntCC::SignedLessThan,
        Cmp::Le => IntCC::SignedLessThanOrEqual,
        Cmp::Gt => IntCC::SignedGreaterThan,
        Cmp::Ge => IntCC::SignedGreaterThanOrEqual,
    }
}

/// Checked `x op y`; `imm` is `y` when it is a constant.
fn arith(
    b: &mut FunctionBuilder<'_>,
    op: Arith,
    x: Value,
    y: Value,
    imm: Option<i64>,
    fault_at: &dyn Fn(&mut FunctionBuilder<'_>, Value, FaultKind, Value),
) -> Value {
    let zero = b.ins().iconst(I64, 0);
    match op {
        Arith::Add | Arith::Sub | Arith::Mul => {
            let (v, of) = match op {
                Arith::Add => b.ins().sadd_overflow(x, y),
                Arith::Sub => b.ins().ssub_overflow(x, y),
                _ => b.ins().smul_overflow(x, y),
            };
            fault_at(b, of, FaultKind::Overflow(op), zero);
            v
        }
        Arith::Div | Arith::Rem => {
            match imm {
                Some(0) => {
                    let t = b.ins().iconst(types::I8, 1);
                    fault_at(b, t, FaultKind::DivisionByZero, zero);
                }
                Some(-1) => {
                    let min = b.ins().icmp_imm_s(IntCC::Equal, x, i64::MIN);
                    fault_at(b, min, FaultKind::Overflow(op), zero);
                }
                Some(_) => {}
                None => {
                    let z = b.ins().icmp_imm_s(IntCC::Equal, y, 0);
                    fault_at(b, z, FaultKind::DivisionByZero, zero);
                    let min = b.ins().icmp_imm_s(IntCC::Equal, x, i64::MIN);
                    let m1 = b.ins().icmp_imm_s(IntCC::Equal, y, -1);
                    let both = b.ins().band(min, m1);
                    fault_at(b, both, FaultKind::Overflow(op), zero);
                }
            }
            if op == Arith::Div {
                b.ins().sdiv(x, y)
            } else {
                b.ins().srem(x, y)
            }
        }
    }
}
