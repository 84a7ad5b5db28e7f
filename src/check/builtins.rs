//! Built-in functions and distributions: names, arities and what they accept.

/// Built-in math functions. Element-wise ones apply to arrays element by element.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Builtin {
    // element-wise, one argument
    Exp,
    Log,
    Log1p,
    Expm1,
    Log2,
    Log10,
    Sqrt,
    Cbrt,
    Abs,
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
    Logistic,
    Logit,
    Softplus,
    Floor,
    Ceil,
    Round,
    // element-wise, two arguments
    Pow,
    Atan2,
    Min2,
    Max2,
    Hypot,
    /// Integer division rounding toward -∞: `div(7, 2) = 3`.
    Div,
    /// ψ(x), the derivative of `lgamma`. Not callable from models; derivatives use it.
    Digamma,
    // reductions of one array
    Sum,
    Mean,
    Prod,
    MinOf,
    MaxOf,
    Norm,
    // two arrays
    Dot,
}

/// How a built-in's result type follows from its arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signature {
    /// real → real, element-wise.
    Unary,
    /// Keeps `int` for integer arguments (`abs`), element-wise.
    UnaryKeepInt,
    /// (real, real) → real, element-wise with broadcasting.
    Binary,
    /// Like `Binary` but keeps `int` when both arguments are integers (`min`, `max`).
    BinaryKeepInt,
    /// array → scalar, keeping `int` (`sum`, `prod`, `min`, `max`).
    ReduceKeepInt,
    /// array → real scalar (`mean`, `norm`).
    ReduceReal,
    /// Two 1-D arrays of equal length → real.
    Dot,
    /// (int, int) → int, element-wise.
    IntegerBinary,
}

impl Builtin {
    pub fn name(self) -> &'static str {
        use Builtin::*;
        match self {
            Exp => "exp",
            Log => "log",
            Log1p => "log1p",
            Expm1 => "expm1",
            Log2 => "log2",
            Log10 => "log10",
            Sqrt => "sqrt",
            Cbrt => "cbrt",
            Abs => "abs",
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
            Logistic => "logistic",
            Logit => "logit",
            Softplus => "softplus",
            Floor => "floor",
            Ceil => "ceil",
            Round => "round",
            Pow => "pow",
            Atan2 => "atan2",
            Min2 | MinOf => "min",
            Max2 | MaxOf => "max",
            Hypot => "hypot",
            Div => "div",
            Digamma => "digamma",
            Sum => "sum",
            Mean => "mean",
            Prod => "prod",
            Norm => "norm",
            Dot => "dot",
        }
    }

    pub fn signature(self) -> Signature {
        use Builtin::*;
        match self {
            Abs => Signature::UnaryKeepInt,
            Pow | Atan2 | Hypot => Signature::Binary,
            Min2 | Max2 => Signature::BinaryKeepInt,
            Div => Signature::IntegerBinary,
            Sum | Prod | MinOf | MaxOf => Signature::ReduceKeepInt,
            Mean | Norm => Signature::ReduceReal,
            Dot => Signature::Dot,
            _ => Signature::Unary,
        }
    }

    /// Resolve a call by name and number of arguments. `min`/`max` are reductions with one
    /// argument and element-wise with two.
    pub fn lookup(name: &str, nargs: usize) -> Option<Builtin> {
        use Builtin::*;
        let b = match (name, nargs) {
            ("min", 1) => MinOf,
            ("max", 1) => MaxOf,
            ("min", _) => Min2,
            ("max", _) => Max2,
            _ => *ALL.iter().find(|b| b.name() == name)?,
        };
        Some(b)
    }

    pub fn arity(self) -> usize {
        match self.signature() {
            Signature::Binary
            | Signature::BinaryKeepInt
            | Signature::Dot
            | Signature::IntegerBinary => 2,
            _ => 1,
        }
    }
}

const ALL: &[Builtin] = {
    use Builtin::*;
    &[
        Exp, Log, Log1p, Expm1, Log2, Log10, Sqrt, Cbrt, Abs, Sin, Cos, Tan, Asin, Acos, Atan,
        Sinh, Cosh, Tanh, Erf, Erfc, Lgamma, Tgamma, Logistic, Logit, Softplus, Floor, Ceil, Round,
        Pow, Atan2, Hypot, Div, Sum, Mean, Prod, Norm, Dot,
    ]
};

#[cfg(test)]
mod tests {
    use super::Builtin::{self, *};

    /// Every variant, listed through an exhaustive match so that a new variant must be
    /// added here (and therefore checked against the lookup table).
    fn every_variant() -> Vec<Builtin> {
        let all = [
            Exp, Log, Log1p, Expm1, Log2, Log10, Sqrt, Cbrt, Abs, Sin, Cos, Tan, Asin, Acos, Atan,
            Sinh, Cosh, Tanh, Erf, Erfc, Lgamma, Tgamma, Logistic, Logit, Softplus, Floor, Ceil,
            Round, Pow, Atan2, Min2, Max2, Hypot, Div, Sum, Mean, Prod, MinOf, MaxOf, Norm, Dot,
            Digamma,
        ];
        for b in all {
            match b {
                Exp | Log | Log1p | Expm1 | Log2 | Log10 | Sqrt | Cbrt | Abs | Sin | Cos | Tan
                | Asin | Acos | Atan | Sinh | Cosh | Tanh | Erf | Erfc | Lgamma | Tgamma
                | Logistic | Logit | Softplus | Floor | Ceil | Round | Pow | Atan2 | Min2
                | Max2 | Hypot | Div | Sum | Mean | Prod | MinOf | MaxOf | Norm | Dot | Digamma => {
                }
            }
        }
        all.to_vec()
    }

    #[test]
    fn every_builtin_is_found_by_its_name_and_arity() {
        for b in every_variant() {
            if b == Digamma {
                continue; // internal: derivatives use it, models cannot call it
            }
            assert_eq!(
                Builtin::lookup(b.name(), b.arity()),
                Some(b),
                "{}",
                b.name()
            );
        }
    }
}

/// Every built-in function name (for suggestions and docs), plus the special forms.
pub fn function_names() -> impl Iterator<Item = &'static str> {
    ALL.iter().map(|b| b.name()).chain(["min", "max", "grad"])
}

/// What kind of value a distribution argument must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    /// A real number (or an array of them, matching the variate, in vectorised statements).
    Real,
    /// An integer (`n` of a Binomial).
    Int,
    /// A 1-D real vector of the variate's length `K`.
    Vector,
    /// A K×K real matrix.
    Matrix,
}

/// The values a distribution puts mass on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Support {
    Real,
    Positive,
    UnitInterval,
    /// Between the first two arguments.
    Interval,
    NonNegativeInt,
    /// 0 or 1.
    Binary,
    /// 1..K for a K-vector of probabilities.
    Category,
    /// A K-vector on the simplex.
    Simplex,
    /// A real K-vector.
    RealVector,
}

impl Support {
    pub fn is_discrete(self) -> bool {
        matches!(
            self,
            Support::NonNegativeInt | Support::Binary | Support::Category
        )
    }

    /// Whether the variate is a vector (one draw is a whole `real[K]`).
    pub fn is_multivariate(self) -> bool {
        matches!(self, Support::Simplex | Support::RealVector)
    }

    pub fn describe(self) -> &'static str {
        match self {
            Support::Real => "real numbers",
            Support::Positive => "positive reals",
            Support::UnitInterval => "reals in (0, 1)",
            Support::Interval => "reals between its bounds",
            Support::NonNegativeInt => "non-negative integers",
            Support::Binary => "0 and 1",
            Support::Category => "categories 1..K",
            Support::Simplex => "probability vectors (the simplex)",
            Support::RealVector => "real vectors",
        }
    }
}

macro_rules! distributions {
    ($($variant:ident $name:literal [$($arg:literal : $kind:ident),*] $support:ident;)*) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum DistKind { $($variant,)* }

        impl DistKind {
            pub const ALL: &'static [DistKind] = &[$(DistKind::$variant,)*];

            pub fn name(self) -> &'static str {
                match self { $(DistKind::$variant => $name,)* }
            }

            /// Argument names and kinds, in order.
            pub fn params(self) -> &'static [(&'static str, ArgKind)] {
                match self { $(DistKind::$variant => &[$(($arg, ArgKind::$kind)),*],)* }
            }

            pub fn support(self) -> Support {
                match self { $(DistKind::$variant => Support::$support,)* }
            }

            pub fn lookup(name: &str) -> Option<DistKind> {
                Self::ALL.iter().copied().find(|d| d.name() == name)
            }
        }
    };
}

distributions! {
    Normal "Normal" ["mu": Real, "sigma": Real] Real;
    LogNormal "LogNormal" ["mu": Real, "sigma": Real] Positive;
    HalfNormal "HalfNormal" ["sigma": Real] Positive;
    Cauchy "Cauchy" ["mu": Real, "sigma": Real] Real;
    HalfCauchy "HalfCauchy" ["sigma": Real] Positive;
    StudentT "StudentT" ["nu": Real, "mu": Real, "sigma": Real] Real;
    Exponential "Exponential" ["rate": Real] Positive;
    Gamma "Gamma" ["shape": Real, "rate": Real] Positive;
    InvGamma "InvGamma" ["shape": Real, "scale": Real] Positive;
    Beta "Beta" ["a": Real, "b": Real] UnitInterval;
    Uniform "Uniform" ["lower": Real, "upper": Real] Interval;
    Poisson "Poisson" ["rate": Real] NonNegativeInt;
    Binomial "Binomial" ["n": Int, "p": Real] NonNegativeInt;
    NegBinomial "NegBinomial" ["mu": Real, "phi": Real] NonNegativeInt;
    Bernoulli "Bernoulli" ["p": Real] Binary;
    Categorical "Categorical" ["p": Vector] Category;
    Dirichlet "Dirichlet" ["alpha": Vector] Simplex;
    MultiNormal "MultiNormal" ["mu": Vector, "Sigma": Matrix] RealVector;
}
