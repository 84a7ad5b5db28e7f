//! Kernel IR → Cranelift IR. Each operation is emitted as the exact sequence the reference
//! evaluator (`ir::eval`) performs, so that both back ends agree bit for bit:
//!
//! * integer `div`/`rem` never trap: the divisor is replaced by 1 when it is 0 or −1 and the
//!   result chosen afterwards (`idiv`/`irem`);
//! * `min`/`max` are `select`s on the evaluator's comparison (Cranelift's `fmin`/`fmax`
//!   propagate NaN, the kernels' ignore it);
//! * `round` calls `rt::ito_round` (Cranelift's `nearest` rounds half to even);
//! * conversions between f64, i64 and bool follow the evaluator's `Scalar::f`/`i`/`b`
//!   (a float used as an integer truncates and saturates, NaN giving 0; a float used as a
//!   condition is `x != 0`, so NaN is true);
//! * where the evaluator's result would depend on the representation of an operand chosen at
//!   run time, the IR must be well typed and ill-typed IR is a [`JitError::Malformed`]: a
//!   `select`'s two sides share one type (the builder widens them), `btof` takes a bool, a
//!   math call has exactly its function's arguments;
//! * checked loads and stores branch on `0 <= index < len`; unchecked ones (proven in range
//!   by `ir::opt`) are plain, trusted memory accesses.
//!
//! Values map one to one onto SSA values: the IR is structured, so a value defined in an
//! enclosing block dominates its uses. Loops become a header block whose parameters are the
//! induction variable (and the accumulator, for reductions).

use super::{JitError, buf_slot};
use crate::ir::{Block as IrBlock, Buf, Cmp, FBin, FUn, IBin, Kernel, MathFn, Op, RedOp, Ty, Val};
use cranelift::codegen::ir::{
    BlockArg, FuncRef, Function, InstructionData, MemFlagsData, Opcode, Signature, ValueDef,
};
use cranelift::prelude::*;
use std::collections::HashMap;

/// A runtime function kernels call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Runtime {
    Math(MathFn),
    Round,
    Sample,
}

impl Runtime {
    /// Every runtime function, for registering symbols.
    pub fn all() -> Vec<Runtime> {
        let mut v: Vec<Runtime> = MathFn::ALL.iter().map(|&f| Runtime::Math(f)).collect();
        v.push(Runtime::Round);
        v.push(Runtime::Sample);
        v
    }

    /// The symbol name (the `rt::ito_*` function).
    pub fn symbol(self) -> String {
        match self {
            Runtime::Math(f) => format!("ito_{}", f.name()),
            Runtime::Round => "ito_round".to_string(),
            Runtime::Sample => "ito_sample".to_string(),
        }
    }

    /// The function's address in this process.
    pub fn address(self) -> *const u8 {
        match self {
            Runtime::Math(f) => match crate::rt::math_fn(f) {
                crate::rt::MathPtr::One(p) => p as *const u8,
                crate::rt::MathPtr::Two(p) => p as *const u8,
            },
            Runtime::Round => crate::rt::ito_round as *const u8,
            Runtime::Sample => crate::rt::ito_sample as *const u8,
        }
    }

    /// Its signature under `call_conv` (`ptr` is the pointer type).
    pub fn signature(self, call_conv: isa::CallConv, ptr: Type) -> Signature {
        let mut sig = Signature::new(call_conv);
        let f = AbiParam::new(types::F64);
        match self {
            Runtime::Math(m) => sig.params.extend(std::iter::repeat_n(f, m.arity())),
            Runtime::Round => sig.params.push(f),
            Runtime::Sample => {
                sig.params.push(AbiParam::new(ptr));
                sig.params.push(AbiParam::new(types::I64));
                sig.params.extend([f, f, f]);
            }
        }
        sig.returns.push(f);
        sig
    }
}

/// The kernel calling convention: `(t, x, p, d, aux, rng, out)`, no result.
pub(crate) fn kernel_signature(call_conv: isa::CallConv, ptr: Type) -> Signature {
    let mut sig = Signature::new(call_conv);
    sig.params.push(AbiParam::new(types::F64));
    sig.params
        .extend(std::iter::repeat_n(AbiParam::new(ptr), 6));
    sig
}

/// Makes a runtime function callable from the function being built.
pub(crate) trait Callees {
    fn func_ref(&mut self, func: &mut Function, f: Runtime) -> FuncRef;
}

/// Fill `func` (whose signature is already `kernel_signature`) with the code of `k`.
pub(crate) fn translate(
    k: &Kernel,
    func: &mut Function,
    fctx: &mut FunctionBuilderContext,
    callees: &mut dyn Callees,
    ptr: Type,
    config: isa::TargetFrontendConfig,
) -> Result<(), JitError> {
    let mut b = FunctionBuilder::new(func, fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let params = b.block_params(entry).to_vec();
    let mut tr = Translator {
        k,
        b,
        vals: vec![None; k.types.len()],
        t: params[0],
        bufs: [params[1], params[2], params[3], params[4], params[6]],
        rng: params[5],
        refs: HashMap::new(),
        callees,
        ptr,
    };
    match tr.block(&k.body) {
        Ok(()) => {
            tr.b.ins().return_(&[]);
            tr.b.seal_all_blocks();
            tr.b.finalize(config);
            Ok(())
        }
        Err(e) => {
            // The half-built function is discarded; the context starts afresh.
            drop(tr);
            *fctx = FunctionBuilderContext::new();
            Err(e)
        }
    }
}

struct Translator<'a, 'f> {
    k: &'a Kernel,
    b: FunctionBuilder<'f>,
    /// Each IR value's SSA value and representation while in scope.
    vals: Vec<Option<(Value, Ty)>>,
    t: Value,
    /// Base pointers of x, p, d, aux, out (in `Buf::ALL` order).
    bufs: [Value; 5],
    rng: Value,
    refs: HashMap<Runtime, FuncRef>,
    callees: &'a mut dyn Callees,
    ptr: Type,
}

fn int_cc(c: Cmp) -> IntCC {
    match c {
        Cmp::Eq => IntCC::Equal,
        Cmp::Ne => IntCC::NotEqual,
        Cmp::Lt => IntCC::SignedLessThan,
        Cmp::Le => IntCC::SignedLessThanOrEqual,
        Cmp::Gt => IntCC::SignedGreaterThan,
        Cmp::Ge => IntCC::SignedGreaterThanOrEqual,
    }
}

/// Rust's float comparisons: all ordered except `!=` (true when either side is NaN).
fn float_cc(c: Cmp) -> FloatCC {
    match c {
        Cmp::Eq => FloatCC::Equal,
        Cmp::Ne => FloatCC::NotEqual,
        Cmp::Lt => FloatCC::LessThan,
        Cmp::Le => FloatCC::LessThanOrEqual,
        Cmp::Gt => FloatCC::GreaterThan,
        Cmp::Ge => FloatCC::GreaterThanOrEqual,
    }
}

/// A divisor for `sdiv`/`srem` and the cases the evaluator handles apart.
struct Divisor {
    /// The divisor, or 1 when it is 0 or −1.
    safe: Value,
    zero: Value,
    minus_one: Value,
    /// `zero | minus_one`.
    special: Value,
}

/// How a load or store is guarded.
enum Guard {
    /// Proven in range by `ir::opt`: a trusted access.
    Proven,
    /// Checked, and in range (index and length are constants).
    InRange,
    /// Checked, and out of range (index and length are constants): no access.
    OutOfRange,
    /// Checked at run time: access only where this flag holds.
    Test(Value),
}

impl Translator<'_, '_> {
    fn malformed(&self, message: String) -> JitError {
        JitError::Malformed {
            kernel: self.k.name.clone(),
            message,
        }
    }

    /// The representation of an in-scope value.
    fn rep(&self, v: Val) -> Result<Ty, JitError> {
        match self.vals.get(v.0 as usize) {
            Some(Some((_, t))) => Ok(*t),
            _ => Err(self.malformed(format!("v{} is used where it is not defined", v.0))),
        }
    }

    /// An in-scope value converted to `want` as the evaluator converts (`Scalar::f`, `i`, `b`).
    fn get(&mut self, v: Val, want: Ty) -> Result<Value, JitError> {
        let Some(Some((x, have))) = self.vals.get(v.0 as usize).copied() else {
            return Err(self.malformed(format!("v{} is used where it is not defined", v.0)));
        };
        Ok(self.convert(x, have, want))
    }

    fn convert(&mut self, x: Value, have: Ty, want: Ty) -> Value {
        match (have, want) {
            (Ty::F64, Ty::F64) | (Ty::I64, Ty::I64) | (Ty::Bool, Ty::Bool) => x,
            (Ty::I64, Ty::F64) => self.b.ins().fcvt_from_sint(types::F64, x),
            (Ty::Bool, Ty::F64) => {
                let one = self.b.ins().f64const(1.0);
                let zero = self.b.ins().f64const(0.0);
                self.b.ins().select(x, one, zero)
            }
            // `x as i64`: truncation, saturating, NaN → 0.
            (Ty::F64, Ty::I64) => self.b.ins().fcvt_to_sint_sat(types::I64, x),
            (Ty::Bool, Ty::I64) => self.b.ins().uextend(types::I64, x),
            (Ty::I64, Ty::Bool) => self.b.ins().icmp_imm_s(IntCC::NotEqual, x, 0),
            // `x != 0.0`: NaN is true.
            (Ty::F64, Ty::Bool) => {
                let zero = self.b.ins().f64const(0.0);
                self.b.ins().fcmp(FloatCC::NotEqual, x, zero)
            }
        }
    }

    fn define(&mut self, v: Val, x: Value, t: Ty, scope: &mut Vec<Val>) -> Result<(), JitError> {
        let Some(slot) = self.vals.get_mut(v.0 as usize) else {
            return Err(self.malformed(format!("v{} has no type", v.0)));
        };
        *slot = Some((x, t));
        scope.push(v);
        Ok(())
    }

    fn runtime(&mut self, f: Runtime) -> FuncRef {
        if let Some(r) = self.refs.get(&f) {
            return *r;
        }
        let r = self.callees.func_ref(self.b.func, f);
        self.refs.insert(f, r);
        r
    }

    fn call(&mut self, f: Runtime, args: &[Value]) -> Value {
        let r = self.runtime(f);
        let inst = self.b.ins().call(r, args);
        self.b.inst_results(inst)[0]
    }

    /// Translate a block; the values it defines go out of scope at its end.
    fn block(&mut self, blk: &IrBlock) -> Result<(), JitError> {
        self.block_then(blk, |_| Ok(()))
    }

    /// Translate a block, then run `then` while the values it defines are still in scope.
    fn block_then<T>(
        &mut self,
        blk: &IrBlock,
        then: impl FnOnce(&mut Self) -> Result<T, JitError>,
    ) -> Result<T, JitError> {
        let mut scope = Vec::new();
        let result = blk
            .0
            .iter()
            .try_for_each(|&i| self.inst(i, &mut scope))
            .and_then(|()| then(self));
        for v in scope {
            self.vals[v.0 as usize] = None;
        }
        result
    }

    /// `base + 8 * index`.
    /// Where `buf[index]` is: an address and a constant offset (the whole offset when the
    /// index is a constant).
    fn address(&mut self, buf: Buf, index: Value) -> (Value, i32) {
        let base = self.bufs[buf_slot(buf)];
        if let Some(off) = self
            .constant(index)
            .and_then(|c| c.checked_mul(8))
            .and_then(|c| i32::try_from(c).ok())
        {
            return (base, off);
        }
        let off = self.b.ins().ishl_imm_u(index, 3);
        let off = if self.ptr == types::I64 {
            off
        } else {
            self.b.ins().ireduce(self.ptr, off)
        };
        (self.b.ins().iadd(base, off), 0)
    }

    /// The value of an integer constant.
    fn constant(&self, v: Value) -> Option<i64> {
        let dfg = &self.b.func.dfg;
        let ValueDef::Result(inst, _) = dfg.value_def(v) else {
            return None;
        };
        match dfg.insts[inst] {
            InstructionData::UnaryImm {
                opcode: Opcode::Iconst,
                imm,
            } => Some(imm.bits()),
            _ => None,
        }
    }

    /// Whether `0 <= index < len` is known at compile time.
    fn known_in_range(&self, index: Value, len: Value) -> Option<bool> {
        let (i, n) = (self.constant(index)?, self.constant(len)?);
        Some(0 <= i && i < n)
    }

    /// `0 <= index && index < len`.
    fn in_range(&mut self, index: Value, len: Value) -> Value {
        let nonneg = self
            .b
            .ins()
            .icmp_imm_s(IntCC::SignedGreaterThanOrEqual, index, 0);
        let below = self.b.ins().icmp(IntCC::SignedLessThan, index, len);
        self.b.ins().band(nonneg, below)
    }

    /// The evaluator's `fmin`/`fmax`: `a` if `a < b` (`a > b`) or `b` is NaN, else `b`.
    fn fminmax(&mut self, max: bool, a: Value, b: Value) -> Value {
        let cc = if max {
            FloatCC::GreaterThan
        } else {
            FloatCC::LessThan
        };
        let better = self.b.ins().fcmp(cc, a, b);
        let b_nan = self.b.ins().fcmp(FloatCC::Unordered, b, b);
        let take_a = self.b.ins().bor(better, b_nan);
        self.b.ins().select(take_a, a, b)
    }

    /// The divisor `d` made safe for `sdiv`/`srem` (1 where the evaluator special-cases it:
    /// 0 and −1, which could trap), with the two special cases as flags.
    fn safe_divisor(&mut self, d: Value) -> Divisor {
        let one = self.b.ins().iconst(types::I64, 1);
        let zero = self.b.ins().icmp_imm_s(IntCC::Equal, d, 0);
        let minus_one = self.b.ins().icmp_imm_s(IntCC::Equal, d, -1);
        let special = self.b.ins().bor(zero, minus_one);
        let safe = self.b.ins().select(special, one, d);
        Divisor {
            safe,
            zero,
            minus_one,
            special,
        }
    }

    /// Floor division as `eval::idiv`: 0 for divisor 0, `wrapping_neg` for −1.
    fn idiv(&mut self, a: Value, d: Value) -> Value {
        let d = self.safe_divisor(d);
        let q = self.b.ins().sdiv(a, d.safe);
        let r = self.b.ins().srem(a, d.safe);
        // q − 1 when the remainder is nonzero and the signs differ.
        let r_nonzero = self.b.ins().icmp_imm_s(IntCC::NotEqual, r, 0);
        let signs = self.b.ins().bxor(a, d.safe);
        let differ = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, signs, 0);
        let adjust = self.b.ins().band(r_nonzero, differ);
        let adjust = self.b.ins().uextend(types::I64, adjust);
        let q = self.b.ins().isub(q, adjust);
        let neg = self.b.ins().ineg(a);
        let q = self.b.ins().select(d.minus_one, neg, q);
        let zero = self.b.ins().iconst(types::I64, 0);
        self.b.ins().select(d.zero, zero, q)
    }

    /// Euclidean remainder as `eval::irem`: 0 for divisor 0 or −1.
    fn irem(&mut self, a: Value, d: Value) -> Value {
        let d = self.safe_divisor(d);
        let r = self.b.ins().srem(a, d.safe);
        let negative = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, r, 0);
        let abs = self.b.ins().iabs(d.safe);
        let lifted = self.b.ins().iadd(r, abs);
        let r = self.b.ins().select(negative, lifted, r);
        let zero = self.b.ins().iconst(types::I64, 0);
        self.b.ins().select(d.special, zero, r)
    }

    fn inst(&mut self, i: u32, scope: &mut Vec<Val>) -> Result<(), JitError> {
        let k = self.k;
        let inst = k.inst(i);
        let (x, ty) = match &inst.op {
            Op::ConstF(c) => (self.b.ins().f64const(*c), Ty::F64),
            Op::ConstI(c) => (self.b.ins().iconst(types::I64, *c), Ty::I64),
            Op::ConstB(c) => (self.b.ins().iconst(types::I8, i64::from(*c)), Ty::Bool),
            Op::Time => (self.t, Ty::F64),
            Op::Load {
                buf,
                index,
                len,
                checked,
            } => {
                let index = self.get(*index, Ty::I64)?;
                let len = self.get(*len, Ty::I64)?;
                (self.load(*buf, index, len, *checked), Ty::F64)
            }
            Op::Store {
                buf,
                index,
                len,
                value,
                checked,
            } => {
                let index = self.get(*index, Ty::I64)?;
                let len = self.get(*len, Ty::I64)?;
                let value = self.get(*value, Ty::F64)?;
                // Inputs are read-only: the evaluator skips stores to them.
                if matches!(buf, Buf::X | Buf::P | Buf::Out) {
                    self.store(*buf, index, len, value, *checked);
                }
                return Ok(());
            }
            Op::FUn(op, a) => {
                let a = self.get(*a, Ty::F64)?;
                let x = match op {
                    FUn::Neg => self.b.ins().fneg(a),
                    FUn::Abs => self.b.ins().fabs(a),
                    FUn::Sqrt => self.b.ins().sqrt(a),
                    FUn::Floor => self.b.ins().floor(a),
                    FUn::Ceil => self.b.ins().ceil(a),
                    FUn::Round => self.call(Runtime::Round, &[a]),
                };
                (x, Ty::F64)
            }
            Op::FBin(op, a, b) => {
                let a = self.get(*a, Ty::F64)?;
                let b = self.get(*b, Ty::F64)?;
                let x = match op {
                    FBin::Add => self.b.ins().fadd(a, b),
                    FBin::Sub => self.b.ins().fsub(a, b),
                    FBin::Mul => self.b.ins().fmul(a, b),
                    FBin::Div => self.b.ins().fdiv(a, b),
                    FBin::Min => self.fminmax(false, a, b),
                    FBin::Max => self.fminmax(true, a, b),
                };
                (x, Ty::F64)
            }
            Op::Call(f, args) => {
                if args.len() != f.arity() {
                    return Err(self.malformed(format!(
                        "{} takes {} arguments, given {}",
                        f.name(),
                        f.arity(),
                        args.len()
                    )));
                }
                let args = args
                    .iter()
                    .map(|&a| self.get(a, Ty::F64))
                    .collect::<Result<Vec<_>, _>>()?;
                (self.call(Runtime::Math(*f), &args), Ty::F64)
            }
            Op::IBin(op, a, b) => {
                let a = self.get(*a, Ty::I64)?;
                let b = self.get(*b, Ty::I64)?;
                let x = match op {
                    IBin::Add => self.b.ins().iadd(a, b),
                    IBin::Sub => self.b.ins().isub(a, b),
                    IBin::Mul => self.b.ins().imul(a, b),
                    IBin::Div => self.idiv(a, b),
                    IBin::Rem => self.irem(a, b),
                    IBin::Min => self.b.ins().smin(a, b),
                    IBin::Max => self.b.ins().smax(a, b),
                };
                (x, Ty::I64)
            }
            Op::INeg(a) => {
                let a = self.get(*a, Ty::I64)?;
                (self.b.ins().ineg(a), Ty::I64)
            }
            Op::FCmp(c, a, b) => {
                let a = self.get(*a, Ty::F64)?;
                let b = self.get(*b, Ty::F64)?;
                (self.b.ins().fcmp(float_cc(*c), a, b), Ty::Bool)
            }
            Op::ICmp(c, a, b) => {
                let a = self.get(*a, Ty::I64)?;
                let b = self.get(*b, Ty::I64)?;
                (self.b.ins().icmp(int_cc(*c), a, b), Ty::Bool)
            }
            Op::And(a, b) => {
                let a = self.get(*a, Ty::Bool)?;
                let b = self.get(*b, Ty::Bool)?;
                (self.b.ins().band(a, b), Ty::Bool)
            }
            Op::Or(a, b) => {
                let a = self.get(*a, Ty::Bool)?;
                let b = self.get(*b, Ty::Bool)?;
                (self.b.ins().bor(a, b), Ty::Bool)
            }
            Op::Not(a) => {
                let a = self.get(*a, Ty::Bool)?;
                (self.b.ins().icmp_imm_s(IntCC::Equal, a, 0), Ty::Bool)
            }
            Op::Select(c, a, b) => {
                // The evaluator keeps whichever side it picks as is, so both must have the
                // representation the result has.
                let ty = self.rep(*a)?;
                if self.rep(*b)? != ty {
                    return Err(self.malformed(format!(
                        "select of v{} and v{}, which have different types",
                        a.0, b.0
                    )));
                }
                let c = self.get(*c, Ty::Bool)?;
                let a = self.get(*a, ty)?;
                let b = self.get(*b, ty)?;
                (self.b.ins().select(c, a, b), ty)
            }
            Op::IToF(a) => {
                let a = self.get(*a, Ty::I64)?;
                (self.b.ins().fcvt_from_sint(types::F64, a), Ty::F64)
            }
            Op::FToI(a) => {
                let a = self.get(*a, Ty::F64)?;
                let f = self.b.ins().floor(a);
                (self.b.ins().fcvt_to_sint_sat(types::I64, f), Ty::I64)
            }
            Op::BToF(a) => {
                if self.rep(*a)? != Ty::Bool {
                    return Err(self.malformed(format!("btof of v{}, which is not a bool", a.0)));
                }
                (self.get(*a, Ty::F64)?, Ty::F64)
            }
            Op::For {
                index,
                lo,
                hi,
                body,
            } => {
                let lo = self.get(*lo, Ty::I64)?;
                let hi = self.get(*hi, Ty::I64)?;
                self.counted_loop(*index, lo, hi, &[], |s, _| {
                    s.block(body)?;
                    Ok(Vec::new())
                })?;
                return Ok(());
            }
            Op::Reduce {
                op,
                index,
                lo,
                hi,
                body,
                value,
            } => {
                let lo = self.get(*lo, Ty::I64)?;
                let hi = self.get(*hi, Ty::I64)?;
                let init = match op {
                    RedOp::Sum => 0.0,
                    RedOp::Prod => 1.0,
                    RedOp::Min => f64::INFINITY,
                    RedOp::Max => f64::NEG_INFINITY,
                };
                let init = self.b.ins().f64const(init);
                let (op, value) = (*op, *value);
                let acc = self.counted_loop(*index, lo, hi, &[init], |s, acc| {
                    // The body's values are visible until the accumulator is updated.
                    let next = s.block_then(body, |s| {
                        let x = s.get(value, Ty::F64)?;
                        let acc = acc[0];
                        Ok(match op {
                            RedOp::Sum => s.b.ins().fadd(acc, x),
                            RedOp::Prod => s.b.ins().fmul(acc, x),
                            RedOp::Min => s.fminmax(false, acc, x),
                            RedOp::Max => s.fminmax(true, acc, x),
                        })
                    })?;
                    Ok(vec![next])
                })?;
                (acc[0], Ty::F64)
            }
            Op::If {
                cond,
                then,
                otherwise,
            } => {
                let c = self.get(*cond, Ty::Bool)?;
                let then_b = self.b.create_block();
                let else_b = self.b.create_block();
                let merge = self.b.create_block();
                self.b.ins().brif(c, then_b, &[], else_b, &[]);
                self.b.switch_to_block(then_b);
                self.block(then)?;
                self.b.ins().jump(merge, &[]);
                self.b.switch_to_block(else_b);
                self.block(otherwise)?;
                self.b.ins().jump(merge, &[]);
                self.b.switch_to_block(merge);
                return Ok(());
            }
            Op::Sample(dist, args) => {
                let mut a = Vec::with_capacity(3);
                for &v in args.iter().take(3) {
                    a.push(self.get(v, Ty::F64)?);
                }
                while a.len() < 3 {
                    a.push(self.b.ins().f64const(f64::NAN));
                }
                let which = self.b.ins().iconst(types::I64, dist.index());
                let rng = self.rng;
                (
                    self.call(Runtime::Sample, &[rng, which, a[0], a[1], a[2]]),
                    Ty::F64,
                )
            }
        };
        match inst.result {
            Some(v) => self.define(v, x, ty, scope),
            None => Ok(()),
        }
    }

    /// How an access at `index` with length `len` is guarded (constant indices and lengths
    /// are decided here).
    fn guard(&mut self, index: Value, len: Value, checked: bool) -> Guard {
        if !checked {
            return Guard::Proven;
        }
        match self.known_in_range(index, len) {
            Some(true) => Guard::InRange,
            Some(false) => Guard::OutOfRange,
            None => Guard::Test(self.in_range(index, len)),
        }
    }

    /// `buf[index]`; NaN out of range.
    fn load(&mut self, buf: Buf, index: Value, len: Value, checked: bool) -> Value {
        let flags = match self.guard(index, len, checked) {
            Guard::Proven => MemFlagsData::trusted(),
            Guard::InRange => MemFlagsData::new(),
            Guard::OutOfRange => return self.b.ins().f64const(f64::NAN),
            Guard::Test(ok) => {
                let load_b = self.b.create_block();
                let merge = self.b.create_block();
                let result = self.b.append_block_param(merge, types::F64);
                let nan = self.b.ins().f64const(f64::NAN);
                self.b
                    .ins()
                    .brif(ok, load_b, &[], merge, &[BlockArg::Value(nan)]);
                self.b.switch_to_block(load_b);
                let x = self.load_at(buf, index, MemFlagsData::new());
                self.b.ins().jump(merge, &[BlockArg::Value(x)]);
                self.b.switch_to_block(merge);
                return result;
            }
        };
        self.load_at(buf, index, flags)
    }

    /// `buf[index] = value`; skipped out of range.
    fn store(&mut self, buf: Buf, index: Value, len: Value, value: Value, checked: bool) {
        match self.guard(index, len, checked) {
            Guard::Proven => self.store_at(buf, index, value, MemFlagsData::trusted()),
            Guard::InRange => self.store_at(buf, index, value, MemFlagsData::new()),
            Guard::OutOfRange => {}
            Guard::Test(ok) => {
                let store_b = self.b.create_block();
                let merge = self.b.create_block();
                self.b.ins().brif(ok, store_b, &[], merge, &[]);
                self.b.switch_to_block(store_b);
                self.store_at(buf, index, value, MemFlagsData::new());
                self.b.ins().jump(merge, &[]);
                self.b.switch_to_block(merge);
            }
        }
    }

    fn load_at(&mut self, buf: Buf, index: Value, flags: MemFlagsData) -> Value {
        let (addr, off) = self.address(buf, index);
        self.b.ins().load(types::F64, flags, addr, off)
    }

    fn store_at(&mut self, buf: Buf, index: Value, value: Value, flags: MemFlagsData) {
        let (addr, off) = self.address(buf, index);
        self.b.ins().store(flags, value, addr, off);
    }

    /// `for index in lo..hi` carrying `carried` f64 values: `body` gets their current
    /// values and returns the next ones. Returns their values after the loop.
    fn counted_loop(
        &mut self,
        index: Val,
        lo: Value,
        hi: Value,
        carried: &[Value],
        body: impl FnOnce(&mut Self, &[Value]) -> Result<Vec<Value>, JitError>,
    ) -> Result<Vec<Value>, JitError> {
        let header = self.b.create_block();
        let body_b = self.b.create_block();
        let exit = self.b.create_block();
        let i = self.b.append_block_param(header, types::I64);
        let acc: Vec<Value> = carried
            .iter()
            .map(|_| self.b.append_block_param(header, types::F64))
            .collect();
        let args: Vec<BlockArg> = std::iter::once(lo)
            .chain(carried.iter().copied())
            .map(BlockArg::Value)
            .collect();
        self.b.ins().jump(header, &args);
        self.b.switch_to_block(header);
        let go = self.b.ins().icmp(IntCC::SignedLessThan, i, hi);
        self.b.ins().brif(go, body_b, &[], exit, &[]);
        self.b.switch_to_block(body_b);
        let mut scope = Vec::new();
        self.define(index, i, Ty::I64, &mut scope)?;
        let next = body(self, &acc);
        for v in scope {
            self.vals[v.0 as usize] = None;
        }
        let next = next?;
        let i1 = self.b.ins().iadd_imm_s(i, 1);
        let args: Vec<BlockArg> = std::iter::once(i1)
            .chain(next)
            .map(BlockArg::Value)
            .collect();
        self.b.ins().jump(header, &args);
        self.b.switch_to_block(exit);
        Ok(acc)
    }
}
