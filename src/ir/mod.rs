//! The kernel IR: small, pure, structured SSA functions over f64, i64 and bool.
//!
//! Every kernel has the same C calling convention:
//!
//! ```text
//! extern "C" fn(t: f64, x: *mut f64, p: *mut f64, d: *const f64, aux: *const f64,
//!               rng: *mut Rng, out: *mut f64)
//! ```
//!
//! `x` is the state (species first, then states), `p` the parameters, `d` the data, `aux` an
//! extra input (an observation row, a direction or adjoint vector, a channel number), `rng`
//! the random stream for kernels that draw, and `out` the result. All buffers hold f64
//! (integers and spins are stored exactly as f64). A kernel writes only `out`, except effect
//! kernels (jumps and events), which change `x` (and `p`) in place.
//!
//! Control flow is structured: straight-line code, `for` loops that store, and reductions
//! (`sum`, `prod`, `min`, `max` over an integer range) that produce a value. A loop over
//! 10⁶ elements stays one loop. Values are SSA: each is defined once, by one instruction; a
//! value defined inside a loop body is visible only inside it. Loads and stores carry the
//! buffer length and whether the index was proven in range; unproven accesses are checked at
//! run time (an out-of-range load gives NaN, an out-of-range store is skipped), so a kernel
//! never reads or writes outside its buffers and never traps.

pub mod batch;
pub mod build;
pub mod diff;
pub mod eval;
pub mod lower;
pub mod opt;
pub mod print;

/// A value: an index into `Kernel::values`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Val(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ty {
    F64,
    I64,
    Bool,
}

/// The buffers a kernel can address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Buf {
    X,
    P,
    D,
    Aux,
    Out,
}

impl Buf {
    pub const ALL: [Buf; 5] = [Buf::X, Buf::P, Buf::D, Buf::Aux, Buf::Out];

    pub fn name(self) -> &'static str {
        match self {
            Buf::X => "x",
            Buf::P => "p",
            Buf::D => "d",
            Buf::Aux => "aux",
            Buf::Out => "out",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FUn {
    Neg,
    Abs,
    Sqrt,
    Floor,
    Ceil,
    /// Round half away from zero (like `f64::round`).
    Round,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FBin {
    Add,
    Sub,
    Mul,
    Div,
    /// IEEE minimum/maximum ignoring NaN the way `f64::min`/`max` do.
    Min,
    Max,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IBin {
    Add,
    Sub,
    Mul,
    /// Floor division (divisor 0 gives 0).
    Div,
    /// Euclidean remainder (divisor 0 gives 0).
    Rem,
    Min,
    Max,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// Math functions called through the runtime (the same Rust functions in both back ends).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MathFn {
    Exp,
    Log,
    Log1p,
    Expm1,
    Log2,
    Log10,
    Cbrt,
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Sinh,
    Cosh,
    Tanh,
    Erf,
    Erfc,
    Lgamma,
    Tgamma,
    /// ψ(x), the derivative of lgamma (needed by derivatives of densities).
    Digamma,
    Pow,
    Atan2,
    Hypot,
}

impl MathFn {
    /// How many arguments it takes: those of the runtime function it calls
    /// (`rt::math_fn`), so the JIT's call signature and the address it calls always agree.
    pub fn arity(self) -> usize {
        match crate::rt::math_fn(self) {
            crate::rt::MathPtr::One(_) => 1,
            crate::rt::MathPtr::Two(_) => 2,
        }
    }

    pub fn name(self) -> &'static str {
        use MathFn::*;
        match self {
            Exp => "exp",
            Log => "log",
            Log1p => "log1p",
            Expm1 => "expm1",
            Log2 => "log2",
            Log10 => "log10",
            Cbrt => "cbrt",
            Sin => "sin",
            Cos => "cos",
            Tan => "tan",
            Asin => "asin",
            Acos => "acos",
            Atan => "atan",
            Sinh => "sinh",
            Cosh => "cosh",
            Tanh => "tanh",
            Erf => "erf",
            Erfc => "erfc",
            Lgamma => "lgamma",
            Tgamma => "tgamma",
            Digamma => "digamma",
            Pow => "pow",
            Atan2 => "atan2",
            Hypot => "hypot",
        }
    }

    pub const ALL: [MathFn; 24] = {
        use MathFn::*;
        [
            Exp, Log, Log1p, Expm1, Log2, Log10, Cbrt, Sin, Cos, Tan, Asin, Acos, Atan, Sinh, Cosh,
            Tanh, Erf, Erfc, Lgamma, Tgamma, Digamma, Pow, Atan2, Hypot,
        ]
    };
}

/// Distributions a kernel can draw from (through the runtime's samplers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SampleDist {
    Normal,
    LogNormal,
    HalfNormal,
    Cauchy,
    HalfCauchy,
    StudentT,
    Exponential,
    Gamma,
    InvGamma,
    Beta,
    Uniform,
    Poisson,
    Binomial,
    NegBinomial,
    Bernoulli,
    /// ±1 with equal probability (initial spins).
    Spin,
}

impl SampleDist {
    pub const ALL: [SampleDist; 16] = {
        use SampleDist::*;
        [
            Normal,
            LogNormal,
            HalfNormal,
            Cauchy,
            HalfCauchy,
            StudentT,
            Exponential,
            Gamma,
            InvGamma,
            Beta,
            Uniform,
            Poisson,
            Binomial,
            NegBinomial,
            Bernoulli,
            Spin,
        ]
    };

    /// The number passed to the runtime's sampler.
    pub fn index(self) -> i64 {
        Self::ALL.iter().position(|d| *d == self).unwrap_or(0) as i64
    }

    pub fn from_index(i: i64) -> Option<SampleDist> {
        usize::try_from(i)
            .ok()
            .and_then(|i| Self::ALL.get(i).copied())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RedOp {
    Sum,
    Prod,
    Min,
    Max,
}

/// What an instruction does. Operands are values defined earlier (in this block or an
/// enclosing one).
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    ConstF(f64),
    ConstI(i64),
    ConstB(bool),
    /// The kernel argument `t`.
    Time,
    /// `buf[index]` as f64. `index` and `len` are i64 values.
    Load {
        buf: Buf,
        index: Val,
        len: Val,
        checked: bool,
    },
    /// `buf[index] = value` (no result).
    Store {
        buf: Buf,
        index: Val,
        len: Val,
        value: Val,
        checked: bool,
    },
    FUn(FUn, Val),
    FBin(FBin, Val, Val),
    Call(MathFn, Vec<Val>),
    IBin(IBin, Val, Val),
    INeg(Val),
    FCmp(Cmp, Val, Val),
    ICmp(Cmp, Val, Val),
    And(Val, Val),
    Or(Val, Val),
    Not(Val),
    /// `if cond then a else b` (both computed; no side effects in either).
    Select(Val, Val, Val),
    IToF(Val),
    /// Round toward −∞ and convert (NaN gives 0; saturates at the i64 range).
    FToI(Val),
    BToF(Val),
    /// `for index in lo..hi` (half-open, i64) running `body` for its stores.
    For {
        index: Val,
        lo: Val,
        hi: Val,
        body: Block,
    },
    /// `op` of `value` (computed by `body`) over `index in lo..hi`; the result is this
    /// instruction's value. An empty range gives the identity (0, 1, +∞, −∞).
    Reduce {
        op: RedOp,
        index: Val,
        lo: Val,
        hi: Val,
        body: Block,
        value: Val,
    },
    /// Run `then` or `otherwise` (statements with stores only; no results).
    If {
        cond: Val,
        then: Block,
        otherwise: Block,
    },
    /// A random draw (f64) from the stream `rng`.
    Sample(SampleDist, Vec<Val>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Inst {
    pub op: Op,
    /// The value defined, if any (stores, `For` and `If` define none).
    pub result: Option<Val>,
}

/// A sequence of instructions (indices into `Kernel::insts`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Block(pub Vec<u32>);

#[derive(Clone, Debug, PartialEq)]
pub struct Kernel {
    pub name: String,
    pub insts: Vec<Inst>,
    /// Type of each value.
    pub types: Vec<Ty>,
    pub body: Block,
}

impl Kernel {
    pub fn new(name: impl Into<String>) -> Kernel {
        Kernel {
            name: name.into(),
            insts: Vec::new(),
            types: Vec::new(),
            body: Block::default(),
        }
    }

    pub fn ty(&self, v: Val) -> Ty {
        self.types[v.0 as usize]
    }

    pub fn inst(&self, i: u32) -> &Inst {
        &self.insts[i as usize]
    }

    /// Buffers the kernel stores to.
    pub fn writes(&self) -> Vec<Buf> {
        let mut out: Vec<Buf> = self
            .insts
            .iter()
            .filter_map(|i| match i.op {
                Op::Store { buf, .. } => Some(buf),
                _ => None,
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Whether the kernel draws random numbers.
    pub fn samples(&self) -> bool {
        self.insts.iter().any(|i| matches!(i.op, Op::Sample(..)))
    }
}

/// Applies `f` to every operand of an op, in place (not to the values its nested blocks
/// define, nor to the value a reduction's body yields).
pub fn operands_mut(op: &mut Op, mut f: impl FnMut(&mut Val)) {
    match op {
        Op::ConstF(_) | Op::ConstI(_) | Op::ConstB(_) | Op::Time => {}
        Op::Load { index, len, .. } => {
            f(index);
            f(len);
        }
        Op::Store {
            index, len, value, ..
        } => {
            f(index);
            f(len);
            f(value);
        }
        Op::FUn(_, a) | Op::INeg(a) | Op::Not(a) | Op::IToF(a) | Op::FToI(a) | Op::BToF(a) => f(a),
        Op::FBin(_, a, b)
        | Op::IBin(_, a, b)
        | Op::FCmp(_, a, b)
        | Op::ICmp(_, a, b)
        | Op::And(a, b)
        | Op::Or(a, b) => {
            f(a);
            f(b);
        }
        Op::Select(c, a, b) => {
            f(c);
            f(a);
            f(b);
        }
        Op::Call(_, args) | Op::Sample(_, args) => args.iter_mut().for_each(f),
        Op::For { lo, hi, .. } | Op::Reduce { lo, hi, .. } => {
            f(lo);
            f(hi);
        }
        Op::If { cond, .. } => f(cond),
    }
}

/// Every value used anywhere inside a block: operands, those of nested blocks, and the
/// values reductions yield.
pub fn block_uses(k: &Kernel, b: &Block, out: &mut Vec<Val>) {
    for &id in &b.0 {
        let inst = k.inst(id);
        out.extend(operands(&inst.op));
        match &inst.op {
            Op::For { body, .. } => block_uses(k, body, out),
            Op::Reduce { body, value, .. } => {
                out.push(*value);
                block_uses(k, body, out);
            }
            Op::If {
                then, otherwise, ..
            } => {
                block_uses(k, then, out);
                block_uses(k, otherwise, out);
            }
            _ => {}
        }
    }
}

/// Operands of an op (not the values its nested blocks define).
pub fn operands(op: &Op) -> Vec<Val> {
    match op {
        Op::ConstF(_) | Op::ConstI(_) | Op::ConstB(_) | Op::Time => Vec::new(),
        Op::Load { index, len, .. } => vec![*index, *len],
        Op::Store {
            index, len, value, ..
        } => vec![*index, *len, *value],
        Op::FUn(_, a) | Op::INeg(a) | Op::Not(a) | Op::IToF(a) | Op::FToI(a) | Op::BToF(a) => {
            vec![*a]
        }
        Op::FBin(_, a, b)
        | Op::IBin(_, a, b)
        | Op::FCmp(_, a, b)
        | Op::ICmp(_, a, b)
        | Op::And(a, b)
        | Op::Or(a, b) => vec![*a, *b],
        Op::Select(c, a, b) => vec![*c, *a, *b],
        Op::Call(_, args) | Op::Sample(_, args) => args.clone(),
        Op::For { lo, hi, .. } => vec![*lo, *hi],
        Op::Reduce { lo, hi, .. } => vec![*lo, *hi],
        Op::If { cond, .. } => vec![*cond],
    }
}
