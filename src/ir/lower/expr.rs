//! Lowering typed expressions. Array-valued expressions are lowered element by element:
//! `elem(e, idx)` computes the element of `e` at the 0-based indices `idx`, so `a + b` on
//! arrays becomes `a[i] + b[i]` inside whatever loop asks for element `i`, and nothing is
//! materialised. Reductions become `Reduce` loops; user functions are inlined.

use super::{Binding, Env, Lower};
use crate::check::builtins::Builtin;
use crate::check::model::{Reduction, TExpr, TKind, Var};
use crate::check::types::{Scalar, Value};
use crate::ir::{Buf, Cmp, FBin, FUn, IBin, MathFn, RedOp, Ty, Val};
use crate::syntax::ast::{BinOp, UnOp};
use std::rc::Rc;

impl<'m> Lower<'m> {
    pub fn scalar(&mut self, e: &TExpr, env: &Env) -> Val {
        self.elem(e, &[], env)
    }

    /// Element `idx` of `e` (a scalar ignores `idx`, which is how scalars broadcast).
    pub fn elem(&mut self, e: &TExpr, idx: &[Val], env: &Env) -> Val {
        let idx = if e.ty.is_scalar() { &[][..] } else { idx };
        let want = match e.ty.scalar {
            Scalar::Int if self.real_counts => Ty::F64,
            s => Lower::ty_of(s),
        };
        let v = match &e.kind {
            TKind::Int(v) => self.b.i(*v),
            TKind::Real(v) => self.b.f(*v),
            TKind::Bool(v) => self.b.b(*v),
            TKind::Time => self.b.time(),
            TKind::Var(v) => self.var(*v, idx, env, e),
            TKind::Unary(op, a) => {
                let x = self.elem(a, idx, env);
                match op {
                    UnOp::Not => self.b.not(x),
                    _ if self.b.ty(x) == Ty::I64 => self.b.ineg(x),
                    _ => {
                        let x = self.b.to_f64(x);
                        self.b.neg(x)
                    }
                }
            }
            TKind::Binary(op, a, b) => self.binary(*op, a, b, idx, env, want),
            TKind::Call(f, args) => self.builtin(*f, args, idx, env, e),
            TKind::CallFn(id, args) => self.inline(*id, args, idx, env),
            TKind::Index(base, indices) => {
                let mut full = Vec::with_capacity(indices.len() + idx.len());
                for i in indices {
                    full.push(self.zero_based(i, env));
                }
                full.extend_from_slice(idx);
                self.elem(base, &full, env)
            }
            TKind::Array(items) => self.array(items, idx, env, want),
            TKind::If(c, a, b) => {
                let c = self.scalar(c, env);
                let x = self.elem(a, idx, env);
                let y = self.elem(b, idx, env);
                let (x, y) = (self.coerce(x, want), self.coerce(y, want));
                self.b.select(c, x, y)
            }
            TKind::Reduce { op, binders, body } => self.index_reduce(*op, binders, body, env),
            TKind::Grad(f, v) => self.grad(f, *v, e, idx, env),
            TKind::Differential(_) | TKind::Error => self.unsupported(e.span, "this expression"),
        };
        self.coerce(v, want)
    }

    /// A 1-based index expression as a 0-based integer.
    pub fn zero_based(&mut self, i: &TExpr, env: &Env) -> Val {
        let v = self.scalar(i, env);
        let v = self.as_int(v);
        let one = self.b.i(1);
        self.b.ibin(IBin::Sub, v, one)
    }

    /// Convert between the IR's number types.
    pub fn coerce(&mut self, v: Val, to: Ty) -> Val {
        match (self.b.ty(v), to) {
            (a, b) if a == b => v,
            (_, Ty::F64) => self.b.to_f64(v),
            (Ty::F64, Ty::I64) => self.b.ftoi(v),
            (Ty::Bool, Ty::I64) => {
                let f = self.b.btof(v);
                self.b.ftoi(f)
            }
            (Ty::F64, Ty::Bool) => {
                let zero = self.b.f(0.0);
                self.b.fcmp(Cmp::Ne, v, zero)
            }
            (_, Ty::Bool) => {
                let zero = self.b.i(0);
                self.b.icmp(Cmp::Ne, v, zero)
            }
            _ => v,
        }
    }

    fn var(&mut self, v: Var, idx: &[Val], env: &Env, e: &TExpr) -> Val {
        match v {
            Var::Const(i) => {
                let value = self.m.consts[i].value.clone();
                self.const_elem(&value, idx)
            }
            Var::Let(i) => {
                let m = self.m;
                let value = &m.lets[i].value;
                if !value.ty.is_scalar() {
                    return self.elem(value, idx, &Env::default());
                }
                if let Some(v) = self.cached_let(i) {
                    return v;
                }
                let v = if self.effects {
                    self.scalar(value, &Env::default())
                } else {
                    self.hoisted_scalar(value)
                };
                self.cache_let(i, v);
                v
            }
            Var::Local(l) => match env.locals.get(&l).cloned() {
                Some(Binding::Scalar(v)) => v,
                Some(Binding::Array(expr, inner)) => self.elem(&expr, idx, &inner),
                Some(Binding::Stored { offset, dims }) => {
                    let flat = self.flat_index(&dims, idx);
                    let at = self.b.iadd(offset, flat);
                    let len = self.buf_len(Buf::Out);
                    self.b.load(Buf::Out, at, len, true)
                }
                None => self.unsupported(e.span, "this local value"),
            },
            _ => match self.load_var(v, idx) {
                Some(x) => x,
                None => self.unsupported(e.span, "this variable"),
            },
        }
    }

    /// An element of a compile-time constant; dynamic indices select among the elements.
    fn const_elem(&mut self, value: &Value, idx: &[Val]) -> Val {
        match (value, idx.split_first()) {
            (Value::Int(v), _) => self.b.i(*v),
            (Value::Real(v), _) => self.b.f(*v),
            (Value::Bool(v), _) => self.b.b(*v),
            (Value::Array(items), Some((&first, rest))) => {
                if let Some(k) = self.b.const_int(first) {
                    return match items.get(k as usize) {
                        Some(item) if k >= 0 => self.const_elem(item, rest),
                        _ => self.b.f(f64::NAN),
                    };
                }
                let values: Vec<Val> = items.iter().map(|it| self.const_elem(it, rest)).collect();
                self.select_chain(first, values)
            }
            (Value::Array(_), None) => self.b.f(f64::NAN),
        }
    }

    /// `values[index]` for a run-time index (NaN outside).
    fn select_chain(&mut self, index: Val, values: Vec<Val>) -> Val {
        let ty = values.first().map_or(Ty::F64, |&v| self.b.ty(v));
        let values: Vec<Val> = values.into_iter().map(|v| self.coerce(v, ty)).collect();
        let mut acc = match ty {
            Ty::F64 => self.b.f(f64::NAN),
            Ty::I64 => self.b.i(0),
            Ty::Bool => self.b.b(false),
        };
        for (k, &v) in values.iter().enumerate().rev() {
            let kv = self.b.i(k as i64);
            let hit = self.b.icmp(Cmp::Eq, index, kv);
            acc = self.b.select(hit, v, acc);
        }
        acc
    }

    fn array(&mut self, items: &[TExpr], idx: &[Val], env: &Env, want: Ty) -> Val {
        let Some((&first, rest)) = idx.split_first() else {
            return self.b.f(f64::NAN);
        };
        if let Some(k) = self.b.const_int(first) {
            return match items.get(k as usize) {
                Some(item) if k >= 0 => {
                    let v = self.elem(item, rest, env);
                    self.coerce(v, want)
                }
                _ => self.b.f(f64::NAN),
            };
        }
        let values: Vec<Val> = items
            .iter()
            .map(|it| {
                let v = self.elem(it, rest, env);
                self.coerce(v, want)
            })
            .collect();
        self.select_chain(first, values)
    }

    fn binary(&mut self, op: BinOp, a: &TExpr, b: &TExpr, idx: &[Val], env: &Env, want: Ty) -> Val {
        let x = self.elem(a, idx, env);
        let y = self.elem(b, idx, env);
        let both_int = self.b.ty(x) == Ty::I64 && self.b.ty(y) == Ty::I64;
        match op {
            BinOp::And => self.b.and(x, y),
            BinOp::Or => self.b.or(x, y),
            _ if op.is_comparison() => {
                let c = match op {
                    BinOp::Eq => Cmp::Eq,
                    BinOp::Ne => Cmp::Ne,
                    BinOp::Lt => Cmp::Lt,
                    BinOp::Le => Cmp::Le,
                    BinOp::Gt => Cmp::Gt,
                    _ => Cmp::Ge,
                };
                if both_int {
                    self.b.icmp(c, x, y)
                } else {
                    let (x, y) = (self.b.to_f64(x), self.b.to_f64(y));
                    self.b.fcmp(c, x, y)
                }
            }
            BinOp::Mod => {
                let (x, y) = (self.as_int(x), self.as_int(y));
                self.b.ibin(IBin::Rem, x, y)
            }
            BinOp::Pow => {
                let n = self.b.const_int(y);
                let x = self.b.to_f64(x);
                match n {
                    // Small integer powers are products, as in most numerical languages (a
                    // call to pow costs ten times more): x² = x·x, x³ = x·x·x, x⁴ = x²·x².
                    Some(2) => self.b.mul(x, x),
                    Some(3) => {
                        let x2 = self.b.mul(x, x);
                        self.b.mul(x2, x)
                    }
                    Some(4) => {
                        let x2 = self.b.mul(x, x);
                        self.b.mul(x2, x2)
                    }
                    _ => {
                        let y = self.b.to_f64(y);
                        self.b.call(MathFn::Pow, vec![x, y])
                    }
                }
            }
            BinOp::Div => {
                let (x, y) = (self.b.to_f64(x), self.b.to_f64(y));
                self.b.div(x, y)
            }
            _ if want == Ty::I64 && both_int => {
                let iop = match op {
                    BinOp::Add => IBin::Add,
                    BinOp::Sub => IBin::Sub,
                    _ => IBin::Mul,
                };
                self.b.ibin(iop, x, y)
            }
            _ => {
                let fop = match op {
                    BinOp::Add => FBin::Add,
                    BinOp::Sub => FBin::Sub,
                    _ => FBin::Mul,
                };
                let (x, y) = (self.b.to_f64(x), self.b.to_f64(y));
                self.b.fbin(fop, x, y)
            }
        }
    }

    /// A loop reducing `value(index)` over `lo..hi` (half-open).
    pub fn reduce_loop(
        &mut self,
        op: RedOp,
        lo: Val,
        hi: Val,
        value: impl FnOnce(&mut Self, Val) -> Val,
    ) -> Val {
        let index = self.b.open_loop();
        let v = value(self, index);
        self.b.close_reduce(op, index, lo, hi, v)
    }

    /// A loop running `body(index)` over `lo..hi` (half-open).
    pub fn for_loop(&mut self, lo: Val, hi: Val, body: impl FnOnce(&mut Self, Val)) {
        let index = self.b.open_loop();
        body(self, index);
        self.b.close_for(index, lo, hi);
    }

    /// Reduce `value(idx)` over every element of an array with dimensions `dims`.
    pub fn reduce_elements(
        &mut self,
        op: RedOp,
        dims: &[Val],
        value: &mut dyn FnMut(&mut Self, &[Val]) -> Val,
    ) -> Val {
        fn go<'m>(
            l: &mut Lower<'m>,
            op: RedOp,
            dims: &[Val],
            idx: &mut Vec<Val>,
            value: &mut dyn FnMut(&mut Lower<'m>, &[Val]) -> Val,
        ) -> Val {
            match dims.split_first() {
                None => value(l, idx),
                Some((&n, rest)) => {
                    let zero = l.b.i(0);
                    l.reduce_loop(op, zero, n, |l, i| {
                        idx.push(i);
                        let v = go(l, op, rest, idx, value);
                        idx.pop();
                        v
                    })
                }
            }
        }
        go(self, op, dims, &mut Vec::new(), value)
    }

    /// The dimensions of an array expression.
    pub fn expr_dims(&mut self, e: &TExpr) -> Vec<Val> {
        let dims = e.ty.dims.clone();
        dims.iter().map(|d| self.dim(d)).collect()
    }

    fn builtin(&mut self, f: Builtin, args: &[TExpr], idx: &[Val], env: &Env, e: &TExpr) -> Val {
        use Builtin::*;
        let math = |f: Builtin| -> Option<MathFn> {
            Some(match f {
                Exp => MathFn::Exp,
                Log => MathFn::Log,
                Log1p => MathFn::Log1p,
                Expm1 => MathFn::Expm1,
                Log2 => MathFn::Log2,
                Log10 => MathFn::Log10,
                Cbrt => MathFn::Cbrt,
                Sin => MathFn::Sin,
                Cos => MathFn::Cos,
                Tan => MathFn::Tan,
                Asin => MathFn::Asin,
                Acos => MathFn::Acos,
                Atan => MathFn::Atan,
                Sinh => MathFn::Sinh,
                Cosh => MathFn::Cosh,
                Tanh => MathFn::Tanh,
                Erf => MathFn::Erf,
                Erfc => MathFn::Erfc,
                Lgamma => MathFn::Lgamma,
                Tgamma => MathFn::Tgamma,
                Digamma => MathFn::Digamma,
                Pow => MathFn::Pow,
                Atan2 => MathFn::Atan2,
                Hypot => MathFn::Hypot,
                _ => return None,
            })
        };
        if let Some(mf) = math(f) {
            let xs: Vec<Val> = args
                .iter()
                .map(|a| {
                    let v = self.elem(a, idx, env);
                    self.b.to_f64(v)
                })
                .collect();
            return self.b.call(mf, xs);
        }
        match f {
            Sqrt | Floor | Ceil | Round => {
                let x = self.elem(&args[0], idx, env);
                let x = self.b.to_f64(x);
                let op = match f {
                    Sqrt => FUn::Sqrt,
                    Floor => FUn::Floor,
                    Ceil => FUn::Ceil,
                    _ => FUn::Round,
                };
                self.b.fun(op, x)
            }
            Abs => {
                let x = self.elem(&args[0], idx, env);
                if self.b.ty(x) == Ty::I64 {
                    let zero = self.b.i(0);
                    let neg = self.b.icmp(Cmp::Lt, x, zero);
                    let minus = self.b.ineg(x);
                    self.b.select(neg, minus, x)
                } else {
                    let x = self.b.to_f64(x);
                    self.b.fun(FUn::Abs, x)
                }
            }
            Logistic => {
                // 1 / (1 + exp(-x))
                let x = self.elem(&args[0], idx, env);
                let x = self.b.to_f64(x);
                let nx = self.b.neg(x);
                let ex = self.b.call(MathFn::Exp, vec![nx]);
                let one = self.b.f(1.0);
                let den = self.b.add(one, ex);
                self.b.div(one, den)
            }
            Logit => {
                // log(x) - log1p(-x)
                let x = self.elem(&args[0], idx, env);
                let x = self.b.to_f64(x);
                let lx = self.b.call(MathFn::Log, vec![x]);
                let nx = self.b.neg(x);
                let l1 = self.b.call(MathFn::Log1p, vec![nx]);
                self.b.sub(lx, l1)
            }
            Softplus => {
                // max(x, 0) + log1p(exp(-|x|)), stable for large |x|
                let x = self.elem(&args[0], idx, env);
                let x = self.b.to_f64(x);
                let zero = self.b.f(0.0);
                let pos = self.b.fbin(FBin::Max, x, zero);
                let ax = self.b.fun(FUn::Abs, x);
                let nax = self.b.neg(ax);
                let ex = self.b.call(MathFn::Exp, vec![nax]);
                let l = self.b.call(MathFn::Log1p, vec![ex]);
                self.b.add(pos, l)
            }
            Min2 | Max2 => {
                let x = self.elem(&args[0], idx, env);
                let y = self.elem(&args[1], idx, env);
                if self.b.ty(x) == Ty::I64 && self.b.ty(y) == Ty::I64 {
                    let op = if f == Min2 { IBin::Min } else { IBin::Max };
                    self.b.ibin(op, x, y)
                } else {
                    let (x, y) = (self.b.to_f64(x), self.b.to_f64(y));
                    let op = if f == Min2 { FBin::Min } else { FBin::Max };
                    self.b.fbin(op, x, y)
                }
            }
            Div => {
                let x = self.elem(&args[0], idx, env);
                let y = self.elem(&args[1], idx, env);
                let (x, y) = (self.as_int(x), self.as_int(y));
                self.b.ibin(IBin::Div, x, y)
            }
            Sum | Prod | MinOf | MaxOf | Mean | Norm => {
                let a = &args[0];
                let dims = self.expr_dims(a);
                let op = match f {
                    Prod => RedOp::Prod,
                    MinOf => RedOp::Min,
                    MaxOf => RedOp::Max,
                    _ => RedOp::Sum,
                };
                let square = f == Norm;
                let v = self.reduce_elements(op, &dims, &mut |l, i| {
                    let x = l.elem(a, i, env);
                    let x = l.b.to_f64(x);
                    if square { l.b.mul(x, x) } else { x }
                });
                match f {
                    Mean => {
                        let n = self.count(&dims);
                        self.b.div(v, n)
                    }
                    Norm => self.b.fun(FUn::Sqrt, v),
                    _ => v,
                }
            }
            Dot => {
                let dims = self.expr_dims(&args[0]);
                self.reduce_elements(RedOp::Sum, &dims, &mut |l, i| {
                    let x = l.elem(&args[0], i, env);
                    let y = l.elem(&args[1], i, env);
                    let (x, y) = (l.b.to_f64(x), l.b.to_f64(y));
                    l.b.mul(x, y)
                })
            }
            _ => self.unsupported(e.span, &format!("`{}`", f.name())),
        }
    }

    /// The number of elements of dimensions `dims`, as f64.
    fn count(&mut self, dims: &[Val]) -> Val {
        let mut n = self.b.i(1);
        for &d in dims {
            n = self.b.imul(n, d);
        }
        self.b.itof(n)
    }

    /// `sum(i in lo..hi, j in …) body` and friends (ranges inclusive, 1-based values).
    fn index_reduce(
        &mut self,
        op: Reduction,
        binders: &[crate::check::model::Binder],
        body: &TExpr,
        env: &Env,
    ) -> Val {
        let red = match op {
            Reduction::Sum | Reduction::Mean => RedOp::Sum,
            Reduction::Prod => RedOp::Prod,
            Reduction::Min => RedOp::Min,
            Reduction::Max => RedOp::Max,
        };
        // Count the iterations for `mean` by reducing 1s alongside.
        let total = self.binder_reduce(red, binders, env, &mut |l, env| {
            let v = l.scalar(body, env);
            l.b.to_f64(v)
        });
        if op != Reduction::Mean {
            return total;
        }
        let count = self.binder_reduce(RedOp::Sum, binders, env, &mut |l, _| l.b.f(1.0));
        self.b.div(total, count)
    }

    /// Nested loops over binders (1-based inclusive ranges), reducing `value`.
    pub fn binder_reduce(
        &mut self,
        op: RedOp,
        binders: &[crate::check::model::Binder],
        env: &Env,
        value: &mut dyn FnMut(&mut Self, &Env) -> Val,
    ) -> Val {
        match binders.split_first() {
            None => value(self, env),
            Some((b, rest)) => {
                let (lo, end) = self.binder_range(b, env);
                let local = b.local;
                self.reduce_loop(op, lo, end, |l, i| {
                    let inner = env.with(local, Binding::Scalar(i));
                    l.binder_reduce(op, rest, &inner, value)
                })
            }
        }
    }

    /// A binder's range as loop bounds: `lo` and the exclusive end `hi + 1`.
    fn binder_range(&mut self, b: &crate::check::model::Binder, env: &Env) -> (Val, Val) {
        let lo = self.scalar(&b.lo, env);
        let lo = self.as_int(lo);
        let hi = self.scalar(&b.hi, env);
        let hi = self.as_int(hi);
        let one = self.b.i(1);
        (lo, self.b.iadd(hi, one))
    }

    /// Nested `for` loops over binders, running `body` with the loop variables bound.
    pub fn binder_for(
        &mut self,
        binders: &[crate::check::model::Binder],
        env: &Env,
        body: &mut dyn FnMut(&mut Self, &Env),
    ) {
        match binders.split_first() {
            None => body(self, env),
            Some((b, rest)) => {
                let (lo, end) = self.binder_range(b, env);
                let local = b.local;
                self.for_loop(lo, end, |l, i| {
                    let inner = env.with(local, Binding::Scalar(i));
                    l.binder_for(rest, &inner, body);
                });
            }
        }
    }

    /// Inline a call of a user function.
    fn inline(&mut self, id: usize, args: &[TExpr], idx: &[Val], env: &Env) -> Val {
        let f = &self.prog.functions[id];
        let mut fenv = Env::default();
        for (&param, arg) in f.params.iter().zip(args) {
            let binding = if arg.ty.is_scalar() {
                Binding::Scalar(self.scalar(arg, env))
            } else {
                Binding::Array(Rc::new(arg.clone()), Rc::new(env.clone()))
            };
            fenv.locals.insert(param, binding);
        }
        for (local, value) in &f.lets {
            let binding = if value.ty.is_scalar() {
                Binding::Scalar(self.scalar(value, &fenv))
            } else {
                Binding::Array(Rc::new(value.clone()), Rc::new(fenv.clone()))
            };
            fenv.locals.insert(*local, binding);
        }
        self.elem(&f.body, idx, &fenv)
    }

    /// `grad(f, v)`: the derivative of `f` with respect to the scalar `v`, by symbolic
    /// differentiation of the expression.
    fn grad(&mut self, f: &TExpr, v: Var, e: &TExpr, idx: &[Val], env: &Env) -> Val {
        if !e.ty.is_scalar() {
            return self.unsupported(e.span, "`grad` with respect to an array");
        }
        match super::symbolic::derivative(f, v, self.m, self.prog) {
            Ok(d) => self.elem(&d, idx, env),
            Err((span, what)) => self.unsupported(span, &what),
        }
    }
}
