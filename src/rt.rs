//! The runtime kernels call: math functions and random draws. Both back ends call exactly
//! these functions (the evaluator directly, the JIT through registered symbols), so their
//! results agree bit for bit. Nothing here panics or allocates: invalid distribution
//! parameters give NaN.

use rand::{Rng as _, SeedableRng};
use rand_distr::{Distribution, Exp};

/// The random stream a kernel draws from (one per trajectory, chain or particle).
pub type Rng = rand::rngs::Xoshiro256PlusPlus;

/// A stream from a seed (engines derive one per path from (seed, index)).
pub fn rng_from_seed(seed: u64) -> Rng {
    Rng::seed_from_u64(seed)
}

macro_rules! unary {
    ($($name:ident = $f:expr;)*) => {
        $(pub extern "C" fn $name(x: f64) -> f64 { let f: fn(f64) -> f64 = $f; f(x) })*
    };
}

unary! {
    ito_exp = f64::exp;
    ito_log = f64::ln;
    ito_log1p = f64::ln_1p;
    ito_expm1 = f64::exp_m1;
    ito_log2 = f64::log2;
    ito_log10 = f64::log10;
    ito_cbrt = f64::cbrt;
    ito_sin = f64::sin;
    ito_cos = f64::cos;
    ito_tan = f64::tan;
    ito_asin = f64::asin;
    ito_acos = f64::acos;
    ito_atan = f64::atan;
    ito_sinh = f64::sinh;
    ito_cosh = f64::cosh;
    ito_tanh = f64::tanh;
    ito_erf = libm::erf;
    ito_erfc = libm::erfc;
    ito_lgamma = libm::lgamma;
    ito_tgamma = libm::tgamma;
    ito_digamma = digamma;
}

/// Round half away from zero (Cranelift's `nearest` rounds half to even, so the JIT calls
/// this too).
pub extern "C" fn ito_round(x: f64) -> f64 {
    x.round()
}

pub extern "C" fn ito_pow(x: f64, y: f64) -> f64 {
    x.powf(y)
}
pub extern "C" fn ito_atan2(y: f64, x: f64) -> f64 {
    y.atan2(x)
}
pub extern "C" fn ito_hypot(x: f64, y: f64) -> f64 {
    x.hypot(y)
}

/// ψ(x) = d/dx ln Γ(x): recurrence up to x ≥ 10, then the asymptotic series (truncation
/// error below 2e-15 there).
pub fn digamma(mut x: f64) -> f64 {
    if x.is_nan() || x == f64::NEG_INFINITY {
        return f64::NAN;
    }
    if x <= 0.0 && x == x.floor() {
        return f64::NAN; // poles at 0, -1, -2, …
    }
    let mut result = 0.0;
    if x < 0.0 {
        // Reflection: ψ(1 − x) − ψ(x) = π cot(πx).
        result -= std::f64::consts::PI / (std::f64::consts::PI * x).tan();
        x = 1.0 - x;
    }
    while x < 10.0 {
        result -= 1.0 / x;
        x += 1.0;
    }
    let inv = 1.0 / x;
    let inv2 = inv * inv;
    result + x.ln()
        - 0.5 * inv
        - inv2
            * (1.0 / 12.0
                - inv2 * (1.0 / 120.0 - inv2 * (1.0 / 252.0 - inv2 * (1.0 / 240.0 - inv2 / 132.0))))
}

/// The math function a kernel's `call` names, as a plain function pointer.
pub fn math_fn(f: crate::ir::MathFn) -> MathPtr {
    use crate::ir::MathFn::*;
    match f {
        Exp => MathPtr::One(ito_exp),
        Log => MathPtr::One(ito_log),
        Log1p => MathPtr::One(ito_log1p),
        Expm1 => MathPtr::One(ito_expm1),
        Log2 => MathPtr::One(ito_log2),
        Log10 => MathPtr::One(ito_log10),
        Cbrt => MathPtr::One(ito_cbrt),
        Sin => MathPtr::One(ito_sin),
        Cos => MathPtr::One(ito_cos),
        Tan => MathPtr::One(ito_tan),
        Asin => MathPtr::One(ito_asin),
        Acos => MathPtr::One(ito_acos),
        Atan => MathPtr::One(ito_atan),
        Sinh => MathPtr::One(ito_sinh),
        Cosh => MathPtr::One(ito_cosh),
        Tanh => MathPtr::One(ito_tanh),
        Erf => MathPtr::One(ito_erf),
        Erfc => MathPtr::One(ito_erfc),
        Lgamma => MathPtr::One(ito_lgamma),
        Tgamma => MathPtr::One(ito_tgamma),
        Digamma => MathPtr::One(ito_digamma),
        Pow => MathPtr::Two(ito_pow),
        Atan2 => MathPtr::Two(ito_atan2),
        Hypot => MathPtr::Two(ito_hypot),
    }
}

#[derive(Clone, Copy)]
pub enum MathPtr {
    One(extern "C" fn(f64) -> f64),
    Two(extern "C" fn(f64, f64) -> f64),
}

/// Draw from `dist` with arguments `a` (as many as the distribution takes; missing ones
/// are NaN). No stream or invalid arguments give NaN.
pub fn sample(rng: Option<&mut Rng>, dist: crate::ir::SampleDist, a: &[f64]) -> f64 {
    let Some(rng) = rng else {
        return f64::NAN;
    };
    let arg = |i: usize| a.get(i).copied().unwrap_or(f64::NAN);
    draw(rng, dist, arg(0), arg(1), arg(2)).unwrap_or(f64::NAN)
}

/// Whether the arguments are in the distribution's domain (as the language defines it).
fn valid(dist: crate::ir::SampleDist, a: f64, b: f64, c: f64) -> bool {
    use crate::ir::SampleDist::*;
    let pos = |x: f64| x > 0.0 && x.is_finite();
    let fin = |x: f64| x.is_finite();
    let prob = |x: f64| (0.0..=1.0).contains(&x);
    match dist {
        Normal | LogNormal | Cauchy => fin(a) && pos(b),
        HalfNormal | HalfCauchy | Exponential => pos(a),
        StudentT => pos(a) && fin(b) && pos(c),
        Gamma | InvGamma | Beta => pos(a) && pos(b),
        Uniform => fin(a) && fin(b) && a < b,
        Poisson => a >= 0.0 && a.is_finite(),
        Binomial => a >= 0.0 && a == a.floor() && a < 9.0e15 && prob(b),
        NegBinomial => pos(a) && pos(b),
        Bernoulli => prob(a),
        Spin => true,
    }
}

fn draw(rng: &mut Rng, dist: crate::ir::SampleDist, a: f64, b: f64, c: f64) -> Option<f64> {
    use crate::ir::SampleDist::*;
    if !valid(dist, a, b, c) {
        return None;
    }
    Some(match dist {
        Normal => rand_distr::Normal::new(a, b).ok()?.sample(rng),
        LogNormal => rand_distr::LogNormal::new(a, b).ok()?.sample(rng),
        HalfNormal => rand_distr::Normal::new(0.0, a).ok()?.sample(rng).abs(),
        Cauchy => rand_distr::Cauchy::new(a, b).ok()?.sample(rng),
        HalfCauchy => rand_distr::Cauchy::new(0.0, a).ok()?.sample(rng).abs(),
        StudentT => b + c * rand_distr::StudentT::new(a).ok()?.sample(rng),
        Exponential => Exp::new(a).ok()?.sample(rng),
        Gamma => rand_distr::Gamma::new(a, 1.0 / b).ok()?.sample(rng),
        InvGamma => 1.0 / rand_distr::Gamma::new(a, 1.0 / b).ok()?.sample(rng),
        Beta => rand_distr::Beta::new(a, b).ok()?.sample(rng),
        Uniform => rand_distr::Uniform::new(a, b).ok()?.sample(rng),
        Poisson if a == 0.0 => 0.0,
        Poisson => rand_distr::Poisson::new(a).ok()?.sample(rng),
        Binomial => rand_distr::Binomial::new(a as u64, b).ok()?.sample(rng) as f64,
        NegBinomial => {
            // A Gamma–Poisson mixture with mean `a` and dispersion `b`.
            let lambda = rand_distr::Gamma::new(b, a / b).ok()?.sample(rng);
            if lambda == 0.0 {
                0.0
            } else {
                rand_distr::Poisson::new(lambda).ok()?.sample(rng)
            }
        }
        Bernoulli => f64::from(u8::from(rand_distr::Bernoulli::new(a).ok()?.sample(rng))),
        // Bernoulli(0.5) without building it: the same draw (a 64-bit word below 2^63).
        Spin => {
            if rng.next_u64() < 1 << 63 {
                1.0
            } else {
                -1.0
            }
        }
    })
}

/// The JIT's entry point for draws: arguments in registers, the distribution as a number.
///
/// # Safety
/// `rng` must be null or point to a stream no one else uses during the call (the kernel
/// passes on the pointer its caller gave it).
pub unsafe extern "C" fn ito_sample(rng: *mut Rng, dist: i64, a: f64, b: f64, c: f64) -> f64 {
    // SAFETY: the caller's contract above.
    let rng = unsafe { rng.as_mut() };
    match crate::ir::SampleDist::from_index(dist) {
        Some(d) => sample(rng, d, &[a, b, c]),
        None => f64::NAN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digamma_matches_known_values() {
        let euler = 0.577_215_664_901_532_9;
        assert!((digamma(1.0) + euler).abs() < 1e-13);
        assert!((digamma(0.5) - (-euler - 2.0 * 2f64.ln())).abs() < 1e-13);
        assert!((digamma(10.0) - 2.251_752_589_066_721).abs() < 1e-13);
        assert!((digamma(-0.5) - 0.036_489_973_978_576_52).abs() < 1e-12);
        assert!(digamma(0.0).is_nan() && digamma(-2.0).is_nan());
    }

    #[test]
    fn math_fn_calls_the_function_it_names() {
        use crate::ir::MathFn;
        let (x, y): (f64, f64) = (0.7, 1.3);
        for f in MathFn::ALL {
            let want = match f.name() {
                "exp" => x.exp(),
                "log" => x.ln(),
                "log1p" => x.ln_1p(),
                "expm1" => x.exp_m1(),
                "log2" => x.log2(),
                "log10" => x.log10(),
                "cbrt" => x.cbrt(),
                "sin" => x.sin(),
                "cos" => x.cos(),
                "tan" => x.tan(),
                "asin" => x.asin(),
                "acos" => x.acos(),
                "atan" => x.atan(),
                "sinh" => x.sinh(),
                "cosh" => x.cosh(),
                "tanh" => x.tanh(),
                "erf" => libm::erf(x),
                "erfc" => libm::erfc(x),
                "lgamma" => libm::lgamma(x),
                "tgamma" => libm::tgamma(x),
                "digamma" => digamma(x),
                "pow" => x.powf(y),
                "atan2" => x.atan2(y),
                "hypot" => x.hypot(y),
                other => panic!("no expected value for `{other}`"),
            };
            let (got, arity) = match math_fn(f) {
                MathPtr::One(g) => (g(x), 1),
                MathPtr::Two(g) => (g(x, y), 2),
            };
            assert_eq!(got.to_bits(), want.to_bits(), "{}", f.name());
            // The language's two-argument functions, named independently of the table.
            let two = matches!(f.name(), "pow" | "atan2" | "hypot");
            assert_eq!(arity, if two { 2 } else { 1 }, "{}", f.name());
        }
    }

    #[test]
    fn spins_are_fair_coin_flips_from_the_same_stream() {
        use rand_distr::Bernoulli;
        let (mut a, mut b) = (rng_from_seed(3), rng_from_seed(3));
        let coin = Bernoulli::new(0.5).expect("a valid probability");
        let mut ups = 0;
        for _ in 0..1000 {
            let s = sample(Some(&mut a), crate::ir::SampleDist::Spin, &[]);
            let want = if coin.sample(&mut b) { 1.0 } else { -1.0 };
            assert_eq!(s, want);
            ups += usize::from(s > 0.0);
        }
        assert!((400..600).contains(&ups), "{ups}");
    }

    #[test]
    fn invalid_arguments_give_nan_not_panic() {
        let mut r = rng_from_seed(1);
        use crate::ir::SampleDist::*;
        assert!(sample(Some(&mut r), Normal, &[0.0, -1.0]).is_nan());
        assert!(sample(Some(&mut r), Binomial, &[2.5, 0.5]).is_nan());
        assert!(sample(None, Normal, &[0.0, 1.0]).is_nan());
        assert_eq!(sample(Some(&mut r), Poisson, &[0.0]), 0.0);
    }
}
