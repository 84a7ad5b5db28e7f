//! The reference evaluator: runs a kernel by walking its instructions. It is the oracle the
//! JIT is tested against, so every operation here is defined exactly (and the JIT emits the
//! same sequence): integer division by zero gives 0, `min`/`max` ignore a NaN operand,
//! out-of-range loads give NaN and out-of-range stores do nothing.

use super::*;
use crate::rt::{self, MathPtr, Rng};

/// The buffers a kernel runs on (see the calling convention in `ir`).
pub struct Args<'a> {
    pub t: f64,
    pub x: &'a mut [f64],
    pub p: &'a mut [f64],
    pub d: &'a [f64],
    pub aux: &'a [f64],
    pub rng: Option<&'a mut Rng>,
    pub out: &'a mut [f64],
}

/// A value as the evaluator holds it, in the representation its instruction gives it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar {
    F(f64),
    I(i64),
    B(bool),
}

impl Scalar {
    /// As an f64 (a bool is 0 or 1).
    pub fn f(self) -> f64 {
        match self {
            Scalar::F(x) => x,
            Scalar::I(i) => i as f64,
            Scalar::B(b) => f64::from(u8::from(b)),
        }
    }
    /// As an i64: a float truncates (`as i64`: saturating, NaN gives 0).
    pub fn i(self) -> i64 {
        match self {
            Scalar::I(i) => i,
            Scalar::F(x) => x as i64,
            Scalar::B(b) => i64::from(b),
        }
    }
    /// As a condition: nonzero is true (so NaN is true).
    pub fn b(self) -> bool {
        match self {
            Scalar::B(b) => b,
            Scalar::I(i) => i != 0,
            Scalar::F(x) => x != 0.0,
        }
    }
}

/// Run `k` on `args`.
pub fn run(k: &Kernel, args: &mut Args) {
    run_reusing(k, args, &mut Vec::new());
}

/// Run `k` on `args` holding its values in `vals`, which is grown to the kernel's value count
/// if shorter and never shrunk (so a caller running kernels repeatedly allocates once).
/// Afterwards `vals[v]` is the last value `v` took.
pub fn run_reusing(k: &Kernel, args: &mut Args, vals: &mut Vec<Scalar>) {
    if vals.len() < k.types.len() {
        vals.resize(k.types.len(), Scalar::I(0));
    }
    block(k, &k.body, vals, args);
}

fn block(k: &Kernel, b: &Block, vals: &mut [Scalar], a: &mut Args) {
    for &i in &b.0 {
        inst(k, k.inst(i), vals, a);
    }
}

/// A unary float operation.
pub fn fun(op: FUn, x: f64) -> f64 {
    match op {
        FUn::Neg => -x,
        FUn::Abs => x.abs(),
        FUn::Sqrt => x.sqrt(),
        FUn::Floor => x.floor(),
        FUn::Ceil => x.ceil(),
        FUn::Round => rt::ito_round(x),
    }
}

/// A binary float operation.
pub fn fbin(op: FBin, x: f64, y: f64) -> f64 {
    match op {
        FBin::Add => x + y,
        FBin::Sub => x - y,
        FBin::Mul => x * y,
        FBin::Div => x / y,
        FBin::Min => fmin(x, y),
        FBin::Max => fmax(x, y),
    }
}

/// A binary integer operation (wrapping on overflow).
pub fn ibin(op: IBin, x: i64, y: i64) -> i64 {
    match op {
        IBin::Add => x.wrapping_add(y),
        IBin::Sub => x.wrapping_sub(y),
        IBin::Mul => x.wrapping_mul(y),
        IBin::Div => idiv(x, y),
        IBin::Rem => irem(x, y),
        IBin::Min => x.min(y),
        IBin::Max => x.max(y),
    }
}

/// A comparison (false when a float operand is NaN, except `!=`).
pub fn compare<T: PartialOrd>(c: Cmp, x: T, y: T) -> bool {
    match c {
        Cmp::Eq => x == y,
        Cmp::Ne => x != y,
        Cmp::Lt => x < y,
        Cmp::Le => x <= y,
        Cmp::Gt => x > y,
        Cmp::Ge => x >= y,
    }
}

/// A math function of the runtime, on as many arguments as it takes (NaN for missing ones).
pub fn call(f: MathFn, args: &[f64]) -> f64 {
    let arg = |i: usize| args.get(i).copied().unwrap_or(f64::NAN);
    match rt::math_fn(f) {
        MathPtr::One(f) => f(arg(0)),
        MathPtr::Two(f) => f(arg(0), arg(1)),
    }
}

/// The first `N` arguments as f64 (NaN for missing ones), without allocating: math calls take
/// at most 2, draws at most 3.
fn floats<const N: usize>(args: &[Val], vals: &[Scalar]) -> [f64; N] {
    let mut x = [f64::NAN; N];
    for (slot, &v) in x.iter_mut().zip(args) {
        *slot = vals[v.0 as usize].f();
    }
    x
}

/// `min` as kernels define it: a NaN operand is ignored.
pub fn fmin(a: f64, b: f64) -> f64 {
    if a < b || b.is_nan() { a } else { b }
}

/// `max` as kernels define it: a NaN operand is ignored.
pub fn fmax(a: f64, b: f64) -> f64 {
    if a > b || b.is_nan() { a } else { b }
}

/// Floor division; 0 for a zero divisor, wrapping for `i64::MIN / -1`.
pub fn idiv(a: i64, b: i64) -> i64 {
    if b == 0 {
        return 0;
    }
    if b == -1 {
        return a.wrapping_neg();
    }
    let q = a / b;
    if a % b != 0 && ((a < 0) != (b < 0)) {
        q - 1
    } else {
        q
    }
}

/// Euclidean remainder (never negative); 0 for a zero divisor or -1.
pub fn irem(a: i64, b: i64) -> i64 {
    if b == 0 || b == -1 {
        return 0;
    }
    let r = a % b;
    if r < 0 {
        r.wrapping_add(b.wrapping_abs())
    } else {
        r
    }
}

fn buf<'b>(a: &'b Args, b: Buf) -> &'b [f64] {
    match b {
        Buf::X => a.x,
        Buf::P => a.p,
        Buf::D => a.d,
        Buf::Aux => a.aux,
        Buf::Out => a.out,
    }
}

fn inst(k: &Kernel, i: &Inst, vals: &mut [Scalar], a: &mut Args) {
    let g = |v: Val, vals: &[Scalar]| vals[v.0 as usize];
    let value = match &i.op {
        Op::ConstF(x) => Scalar::F(*x),
        Op::ConstI(x) => Scalar::I(*x),
        Op::ConstB(x) => Scalar::B(*x),
        Op::Time => Scalar::F(a.t),
        Op::Load {
            buf: b, index, len, ..
        } => {
            let (idx, len) = (g(*index, vals).i(), g(*len, vals).i());
            let data = buf(a, *b);
            let ok = idx >= 0 && idx < len;
            Scalar::F(if ok {
                data.get(idx as usize).copied().unwrap_or(f64::NAN)
            } else {
                f64::NAN
            })
        }
        Op::Store {
            buf: b,
            index,
            len,
            value,
            ..
        } => {
            let (idx, len, x) = (g(*index, vals).i(), g(*len, vals).i(), g(*value, vals).f());
            if idx >= 0 && idx < len {
                let data: &mut [f64] = match b {
                    Buf::X => a.x,
                    Buf::P => a.p,
                    Buf::Out => a.out,
                    // Inputs are read-only; the lowering never stores to them.
                    Buf::D | Buf::Aux => return,
                };
                if let Some(slot) = data.get_mut(idx as usize) {
                    *slot = x;
                }
            }
            return;
        }
        Op::FUn(op, x) => Scalar::F(fun(*op, g(*x, vals).f())),
        Op::FBin(op, x, y) => Scalar::F(fbin(*op, g(*x, vals).f(), g(*y, vals).f())),
        Op::Call(f, args) => Scalar::F(call(*f, &floats::<2>(args, vals))),
        Op::IBin(op, x, y) => Scalar::I(ibin(*op, g(*x, vals).i(), g(*y, vals).i())),
        Op::INeg(x) => Scalar::I(g(*x, vals).i().wrapping_neg()),
        Op::FCmp(c, x, y) => Scalar::B(compare(*c, g(*x, vals).f(), g(*y, vals).f())),
        Op::ICmp(c, x, y) => Scalar::B(compare(*c, g(*x, vals).i(), g(*y, vals).i())),
        Op::And(x, y) => Scalar::B(g(*x, vals).b() && g(*y, vals).b()),
        Op::Or(x, y) => Scalar::B(g(*x, vals).b() || g(*y, vals).b()),
        Op::Not(x) => Scalar::B(!g(*x, vals).b()),
        Op::Select(c, x, y) => {
            if g(*c, vals).b() {
                g(*x, vals)
            } else {
                g(*y, vals)
            }
        }
        Op::IToF(x) => Scalar::F(g(*x, vals).i() as f64),
        Op::FToI(x) => Scalar::I(g(*x, vals).f().floor() as i64),
        Op::BToF(x) => Scalar::F(f64::from(u8::from(g(*x, vals).b()))),
        Op::For {
            index,
            lo,
            hi,
            body,
        } => {
            let (lo, hi) = (g(*lo, vals).i(), g(*hi, vals).i());
            let mut j = lo;
            while j < hi {
                vals[index.0 as usize] = Scalar::I(j);
                block(k, body, vals, a);
                j += 1;
            }
            return;
        }
        Op::Reduce {
            op,
            index,
            lo,
            hi,
            body,
            value,
        } => {
            let (lo, hi) = (g(*lo, vals).i(), g(*hi, vals).i());
            let mut acc = match op {
                RedOp::Sum => 0.0,
                RedOp::Prod => 1.0,
                RedOp::Min => f64::INFINITY,
                RedOp::Max => f64::NEG_INFINITY,
            };
            let mut j = lo;
            while j < hi {
                vals[index.0 as usize] = Scalar::I(j);
                block(k, body, vals, a);
                let x = g(*value, vals).f();
                acc = match op {
                    RedOp::Sum => acc + x,
                    RedOp::Prod => acc * x,
                    RedOp::Min => fmin(acc, x),
                    RedOp::Max => fmax(acc, x),
                };
                j += 1;
            }
            Scalar::F(acc)
        }
        Op::If {
            cond,
            then,
            otherwise,
        } => {
            if g(*cond, vals).b() {
                block(k, then, vals, a);
            } else {
                block(k, otherwise, vals, a);
            }
            return;
        }
        Op::Sample(d, args) => {
            let x = floats::<3>(args, vals);
            Scalar::F(rt::sample(a.rng.as_deref_mut(), *d, &x))
        }
    };
    if let Some(r) = i.result {
        vals[r.0 as usize] = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_division_never_traps() {
        assert_eq!(idiv(7, 2), 3);
        assert_eq!(idiv(-7, 2), -4);
        assert_eq!(idiv(7, -2), -4);
        assert_eq!(idiv(5, 0), 0);
        assert_eq!(idiv(i64::MIN, -1), i64::MIN);
        assert_eq!(irem(-7, 3), 2);
        assert_eq!(irem(7, -3), 1);
        assert_eq!(irem(7, 0), 0);
    }

    #[test]
    fn missing_call_arguments_are_nan_not_a_panic() {
        assert!(call(MathFn::Pow, &[2.0]).is_nan());
        assert!(call(MathFn::Exp, &[]).is_nan());
        assert_eq!(call(MathFn::Hypot, &[3.0, 4.0, 99.0]), 5.0);
    }

    #[test]
    fn min_max_ignore_nan() {
        assert_eq!(fmin(f64::NAN, 1.0), 1.0);
        assert_eq!(fmin(1.0, f64::NAN), 1.0);
        assert_eq!(fmax(2.0, 3.0), 3.0);
    }
}
