//! Every distribution's log density and its gradient, against closed forms written here
//! from the textbook definitions.
//!
//! For each distribution the checker accepts after `~`, a tiny model puts the variate and
//! the arguments in parameters (or, for discrete variates, in `int` data), and then:
//!
//! * `log_density` is run by the reference evaluator and by the JIT (which must agree
//!   bit for bit) at points inside the support, including edges (near the boundary,
//!   extreme arguments, whole-number data at the ends of its range), and compared with the
//!   closed form to 1e-12 relative, or 1e-10 where log-gamma is involved;
//! * at points outside the support the log density is exactly −∞ (never NaN);
//! * `log_density_grad_p` ends with the log density and its gradient matches central
//!   finite differences with respect to every parameter, to 1e-6 relative plus the
//!   difference's own estimated error (each parameter must be compared at least once where
//!   that error is below 1e-6, so the check cannot pass only by being loose).

//!
//! A second test integrates (or sums) `exp(log_density)` over the variate: the total is 1
//! and the mean and variance are those of the parameterisation in docs/language.md §7
//! (shape/rate for `Gamma`, shape/scale for `InvGamma`, mean/dispersion for `NegBinomial`…),
//! which checks the parameterisations without trusting the closed forms.
//!
//! `MultiNormal` is accepted by the checker but its density is not lowered: compiling it
//! must fail with a clear E0801 diagnostic.

use ito::check::builtins::DistKind;
use ito::diag::Code;
use ito::frontend::{Options, compile_source};
use ito::ir::eval::{Args, run};
use ito::ir::lower::LoweredModel;
use ito::jit::Jit;
use libm::lgamma;
use std::f64::consts::PI;

// ---------------------------------------------------------------------------------------
// Closed forms
// ---------------------------------------------------------------------------------------

/// Log densities from the textbook definitions, in the parameterisations documented in
/// docs/language.md §7. Discrete ones use sums of logarithms for the factorials (so they do
/// not share log-gamma with ito's formulas); `0 · ln 0` is taken as 0.
mod closed {
    use super::{PI, lgamma};

    /// `x · ln y`, with 0 for x = 0 (whatever y is).
    fn xlogy(x: f64, y: f64) -> f64 {
        if x == 0.0 { 0.0 } else { x * y.ln() }
    }

    /// `x · ln(1 + y)` (ln(1 − p) is log1p(−p) to keep its digits for small p), 0 for x = 0.
    fn xlog1py(x: f64, y: f64) -> f64 {
        if x == 0.0 { 0.0 } else { x * y.ln_1p() }
    }

    /// ln k! = Σ_{j=2..k} ln j, for a whole k ≥ 0.
    fn ln_factorial(k: f64) -> f64 {
        assert!(k >= 0.0 && k.fract() == 0.0, "{k}");
        (2..=k as u64).map(|j| (j as f64).ln()).sum()
    }

    /// ln C(n, k) = Σ_{j=1..k} ln((n − k + j) / j), for whole 0 ≤ k ≤ n.
    fn ln_choose(n: f64, k: f64) -> f64 {
        (1..=k as u64)
            .map(|j| ((n - k + j as f64) / j as f64).ln())
            .sum()
    }

    /// Normal(μ, σ), σ the standard deviation:
    /// p(y) = exp(−(y − μ)² / (2σ²)) / (σ √(2π)).
    pub fn normal(y: f64, mu: f64, sigma: f64) -> f64 {
        -(y - mu) * (y - mu) / (2.0 * sigma * sigma) - (sigma * (2.0 * PI).sqrt()).ln()
    }

    /// LogNormal(μ, σ): ln y ~ Normal(μ, σ), so p(y) = Normal(ln y | μ, σ) / y, y > 0.
    pub fn lognormal(y: f64, mu: f64, sigma: f64) -> f64 {
        normal(y.ln(), mu, sigma) - y.ln()
    }

    /// HalfNormal(σ): |Y| for Y ~ Normal(0, σ): p(y) = 2 Normal(y | 0, σ), y ≥ 0.
    pub fn half_normal(y: f64, sigma: f64) -> f64 {
        2f64.ln() + normal(y, 0.0, sigma)
    }

    /// Cauchy(μ, σ), σ the scale: p(y) = 1 / (π σ (1 + ((y − μ)/σ)²)).
    pub fn cauchy(y: f64, mu: f64, sigma: f64) -> f64 {
        let z = (y - mu) / sigma;
        -(PI * sigma * (1.0 + z * z)).ln()
    }

    /// HalfCauchy(σ): p(y) = 2 Cauchy(y | 0, σ), y ≥ 0.
    pub fn half_cauchy(y: f64, sigma: f64) -> f64 {
        2f64.ln() + cauchy(y, 0.0, sigma)
    }

    /// StudentT(ν, μ, σ), ν degrees of freedom, location μ, scale σ:
    /// p(y) = Γ((ν+1)/2) / (Γ(ν/2) √(νπ) σ) · (1 + ((y − μ)/σ)² / ν)^(−(ν+1)/2).
    pub fn student_t(y: f64, nu: f64, mu: f64, sigma: f64) -> f64 {
        let z = (y - mu) / sigma;
        lgamma((nu + 1.0) / 2.0)
            - lgamma(nu / 2.0)
            - (nu * PI).sqrt().ln()
            - sigma.ln()
            - (nu + 1.0) / 2.0 * (1.0 + z * z / nu).ln()
    }

    /// Exponential(λ), λ the rate (mean 1/λ): p(y) = λ e^(−λy), y ≥ 0.
    pub fn exponential(y: f64, rate: f64) -> f64 {
        rate.ln() - rate * y
    }

    /// Gamma(α, β), shape α and rate β (mean α/β): p(y) = β^α y^(α−1) e^(−βy) / Γ(α), y > 0.
    pub fn gamma(y: f64, shape: f64, rate: f64) -> f64 {
        shape * rate.ln() + (shape - 1.0) * y.ln() - rate * y - lgamma(shape)
    }

    /// InvGamma(α, β), shape α and scale β (1/Y ~ Gamma(α, rate β); mean β/(α − 1)):
    /// p(y) = β^α y^(−α−1) e^(−β/y) / Γ(α), y > 0.
    pub fn inv_gamma(y: f64, shape: f64, scale: f64) -> f64 {
        shape * scale.ln() - (shape + 1.0) * y.ln() - scale / y - lgamma(shape)
    }

    /// Beta(a, b): p(y) = y^(a−1) (1 − y)^(b−1) / B(a, b), 0 < y < 1, with
    /// B(a, b) = Γ(a) Γ(b) / Γ(a + b).
    pub fn beta(y: f64, a: f64, b: f64) -> f64 {
        let ln_beta = lgamma(a) + lgamma(b) - lgamma(a + b);
        (a - 1.0) * y.ln() + (b - 1.0) * (1.0 - y).ln() - ln_beta
    }

    /// Uniform(l, u): p(y) = 1 / (u − l), l ≤ y ≤ u.
    pub fn uniform(_y: f64, lower: f64, upper: f64) -> f64 {
        -(upper - lower).ln()
    }

    /// Poisson(λ), λ the rate (mean): p(y) = λ^y e^(−λ) / y!, y = 0, 1, …
    pub fn poisson(y: f64, rate: f64) -> f64 {
        xlogy(y, rate) - rate - ln_factorial(y)
    }

    /// Binomial(n, p): p(y) = C(n, y) p^y (1 − p)^(n−y), y = 0..n.
    pub fn binomial(y: f64, n: f64, p: f64) -> f64 {
        ln_choose(n, y) + xlogy(y, p) + xlog1py(n - y, -p)
    }

    /// NegBinomial(μ, φ), mean μ and dispersion φ (variance μ + μ²/φ):
    /// p(y) = Γ(y + φ) / (y! Γ(φ)) · (μ/(μ + φ))^y · (φ/(μ + φ))^φ, y = 0, 1, …
    /// Γ(y + φ)/Γ(φ) = Π_{k<y} (φ + k) for whole y, and φ ln(φ/(μ+φ)) = −φ ln(1 + μ/φ).
    pub fn neg_binomial(y: f64, mu: f64, phi: f64) -> f64 {
        let rising: f64 = (0..y as u64).map(|k| (phi + k as f64).ln()).sum();
        rising - ln_factorial(y) + xlogy(y, mu / (mu + phi)) - phi * (mu / phi).ln_1p()
    }

    /// Poisson(e^η) (the log form): y η − e^η − ln y!.
    pub fn poisson_log(y: f64, eta: f64) -> f64 {
        y * eta - eta.exp() - ln_factorial(y)
    }

    /// Bernoulli(logistic(η)), with logistic(η) = 1/(1 + e^(−η)): P(1) = 1/(1 + e^(−η)) and
    /// P(0) = 1/(1 + e^η).
    pub fn bernoulli_logit(y: f64, eta: f64) -> f64 {
        let e = if y == 1.0 { -eta } else { eta };
        -e.exp().ln_1p()
    }

    /// Bernoulli(p): P(1) = p, P(0) = 1 − p.
    pub fn bernoulli(y: f64, p: f64) -> f64 {
        if y == 1.0 { p.ln() } else { (-p).ln_1p() }
    }

    /// Categorical(θ): P(k) = θ_k for k = 1..K.
    pub fn categorical(y: f64, theta: &[f64]) -> f64 {
        theta[y as usize - 1].ln()
    }

    /// Dirichlet(α) on the simplex, with respect to Lebesgue measure on its first K − 1
    /// coordinates: p(x) = Γ(Σα) / Π Γ(α_k) · Π x_k^(α_k − 1).
    pub fn dirichlet(x: &[f64], alpha: &[f64]) -> f64 {
        let a0: f64 = alpha.iter().sum();
        lgamma(a0)
            + x.iter()
                .zip(alpha)
                .map(|(x, a)| (a - 1.0) * x.ln() - lgamma(*a))
                .sum::<f64>()
    }
}

// ---------------------------------------------------------------------------------------
// Running the kernels
// ---------------------------------------------------------------------------------------

/// A model's lowered kernels, and the same kernels compiled by the JIT.
struct Compiled {
    m: LoweredModel,
    jit: Jit,
}

impl Compiled {
    fn new(src: &str) -> Compiled {
        let c = compile_source("dist.sde", src, &Options::default());
        assert!(
            !c.has_errors(),
            "{src}\n{}",
            ito::diag::render_all(&c.diagnostics, &c.sources, false)
        );
        let m = c.lowered.into_iter().next().expect("one model");
        let jit = Jit::compile(&m.kernels).unwrap_or_else(|e| panic!("{src}\nJIT: {e}"));
        Compiled { m, jit }
    }

    /// Run kernel `name` through the evaluator and through the JIT; `out` from each.
    fn run(&self, name: &str, p: &[f64], d: &[f64], aux: &[f64], out_len: usize) -> [Vec<f64>; 2] {
        let k = self
            .m
            .kernel(name)
            .unwrap_or_else(|| panic!("{}: no kernel `{name}`", self.m.name));
        let go = |native: bool| {
            let (mut x, mut p, mut out) = (Vec::new(), p.to_vec(), vec![f64::NAN; out_len]);
            let mut args = Args {
                t: 0.0,
                x: &mut x,
                p: &mut p,
                d,
                aux,
                rng: None,
                out: &mut out,
            };
            if native {
                self.jit
                    .call(name, &mut args)
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
            } else {
                run(k, &mut args);
            }
            out
        };
        [go(false), go(true)]
    }

    /// The log density, after checking that both back ends give the same bits.
    fn log_density(&self, p: &[f64], d: &[f64]) -> f64 {
        let [e, j] = self.run("log_density", p, d, &[], 1);
        assert!(
            same(e[0], j[0]),
            "log_density at p = {p:?}, d = {d:?}: evaluator {} but JIT {}",
            e[0],
            j[0]
        );
        e[0]
    }

    /// The gradient over `p` and then the log density, checked as above. The kernel is run
    /// with the adjoint 0.7 in `aux[0]`, and its gradient divided by it.
    fn gradient(&self, p: &[f64], d: &[f64]) -> Vec<f64> {
        const ADJOINT: f64 = 0.7;
        let [mut e, j] = self.run("log_density_grad_p", p, d, &[ADJOINT], p.len() + 1);
        for (i, (a, b)) in e.iter().zip(&j).enumerate() {
            assert!(
                same(*a, *b),
                "log_density_grad_p[{i}] at p = {p:?}, d = {d:?}: evaluator {a} but JIT {b}"
            );
        }
        for g in &mut e[..p.len()] {
            *g /= ADJOINT;
        }
        e
    }
}

/// Equal bits, or both NaN.
fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// `got` is within `rel` of `want` relative to |want|; infinities must match exactly.
fn close(got: f64, want: f64, rel: f64) -> bool {
    if want.is_infinite() || want == 0.0 {
        got == want
    } else {
        (got - want).abs() <= rel * want.abs()
    }
}

// ---------------------------------------------------------------------------------------
// The cases
// ---------------------------------------------------------------------------------------

/// One distribution in one tiny model.
struct Case {
    /// The distribution exercised (for the coverage check and messages).
    dist: &'static str,
    /// The model's body.
    body: &'static str,
    /// Names of the parameter and data slots, in buffer order (scalars, then arrays).
    p: &'static [&'static str],
    d: &'static [&'static str],
    /// The closed form of the whole model's log density at (p, d).
    closed: fn(&[f64], &[f64]) -> f64,
    /// Whether the closed form uses log-gamma (tolerance 1e-10 instead of 1e-12).
    lgamma: bool,
    /// Points (p, d) in the support (the closed form may still be −∞ there, as for
    /// `Bernoulli(0)` at 1).
    inside: &'static [Point],
    /// Points outside the support: the log density is −∞. Discrete variates are `int`
    /// values, whole by construction (binding data rejects fractions, and the kernels read
    /// `int` slots as whole numbers), so for them this means below 0, above n, or 0 or K + 1
    /// for `Categorical`.
    outside: &'static [Point],
}

type Point = (&'static [f64], &'static [f64]);

const CASES: &[Case] = &[
    Case {
        dist: "Normal",
        body: "param mu: real; param sigma: real<lower=0>; param x: real
               x ~ Normal(mu, sigma)",
        p: &["mu", "sigma", "x"],
        d: &[],
        closed: |p, _| closed::normal(p[2], p[0], p[1]),
        lgamma: false,
        inside: &[
            (&[0.0, 1.0, 0.5], &[]),
            (&[1.5, 0.3, -2.0], &[]),
            (&[-3.0, 2.0, -3.0], &[]),
            // Far in the tail, tiny and huge scales.
            (&[0.0, 1.0, 30.0], &[]),
            (&[0.5, 1e-3, 0.502], &[]),
            (&[1e6, 1e5, -3e5], &[]),
            (&[0.0, 1e-8, 3e-8], &[]),
        ],
        outside: &[],
    },
    Case {
        // `int` data is allowed for a continuous distribution; the variate is then data.
        dist: "Normal",
        body: "data y: int; param mu: real; param sigma: real<lower=0>
               mu ~ Normal(0, 10)
               y ~ Normal(mu, sigma)",
        p: &["mu", "sigma"],
        d: &["y"],
        closed: |p, d| closed::normal(p[0], 0.0, 10.0) + closed::normal(d[0], p[0], p[1]),
        lgamma: false,
        inside: &[(&[0.3, 1.2], &[2.0]), (&[-4.0, 0.5], &[-7.0])],
        outside: &[],
    },
    Case {
        dist: "LogNormal",
        body: "param mu: real; param sigma: real<lower=0>; param x: real<lower=0>
               x ~ LogNormal(mu, sigma)",
        p: &["mu", "sigma", "x"],
        d: &[],
        closed: |p, _| closed::lognormal(p[2], p[0], p[1]),
        lgamma: false,
        inside: &[
            (&[0.0, 1.0, 1.5], &[]),
            (&[1.0, 0.5, 0.2], &[]),
            (&[-2.0, 3.0, 1e-8], &[]),
            (&[0.0, 1.0, 1e-300], &[]),
            (&[10.0, 0.1, 3e4], &[]),
        ],
        outside: &[
            (&[0.0, 1.0, 0.0], &[]),
            (&[0.0, 1.0, -0.5], &[]),
            (&[0.0, 1.0, -1e-300], &[]),
        ],
    },
    Case {
        dist: "HalfNormal",
        body: "param sigma: real<lower=0>; param x: real<lower=0>
               x ~ HalfNormal(sigma)",
        p: &["sigma", "x"],
        d: &[],
        closed: |p, _| closed::half_normal(p[1], p[0]),
        lgamma: false,
        inside: &[
            (&[1.0, 0.7], &[]),
            (&[2.5, 0.0], &[]),
            (&[0.1, 1e-12], &[]),
            (&[1e-4, 3e-3], &[]),
            (&[1e4, 2e4], &[]),
        ],
        outside: &[(&[1.0, -1e-300], &[]), (&[1.0, -2.0], &[])],
    },
    Case {
        dist: "Cauchy",
        body: "param mu: real; param sigma: real<lower=0>; param x: real
               x ~ Cauchy(mu, sigma)",
        p: &["mu", "sigma", "x"],
        d: &[],
        closed: |p, _| closed::cauchy(p[2], p[0], p[1]),
        lgamma: false,
        inside: &[
            (&[0.0, 1.0, 0.5], &[]),
            (&[2.0, 0.5, -3.0], &[]),
            (&[0.0, 1.0, 1e10], &[]),
            (&[-1.0, 1e-6, -1.000_002_5], &[]),
            (&[0.0, 1e6, 5.0], &[]),
        ],
        outside: &[],
    },
    Case {
        dist: "HalfCauchy",
        body: "param sigma: real<lower=0>; param x: real<lower=0>
               x ~ HalfCauchy(sigma)",
        p: &["sigma", "x"],
        d: &[],
        closed: |p, _| closed::half_cauchy(p[1], p[0]),
        lgamma: false,
        inside: &[
            (&[1.0, 0.5], &[]),
            (&[5.0, 0.0], &[]),
            (&[2.0, 1e8], &[]),
            (&[1e-5, 1e-3], &[]),
        ],
        outside: &[(&[1.0, -1e-12], &[]), (&[1.0, -3.0], &[])],
    },
    Case {
        dist: "StudentT",
        body: "param nu: real<lower=0>; param mu: real; param sigma: real<lower=0>
             ; param x: real
               x ~ StudentT(nu, mu, sigma)",
        p: &["nu", "mu", "sigma", "x"],
        d: &[],
        closed: |p, _| closed::student_t(p[3], p[0], p[1], p[2]),
        lgamma: true,
        inside: &[
            (&[3.0, 0.0, 1.0, 0.7], &[]),
            // ν = 1 is Cauchy; small ν has very heavy tails.
            (&[1.0, 1.0, 2.0, -4.0], &[]),
            (&[0.3, 0.0, 1.0, 50.0], &[]),
            // Large ν is close to Normal.
            (&[1e3, -1.0, 0.5, 0.2], &[]),
            (&[4.5, 0.0, 1e-3, 1e3], &[]),
        ],
        outside: &[],
    },
    Case {
        dist: "Exponential",
        body: "param rate: real<lower=0>; param x: real<lower=0>
               x ~ Exponential(rate)",
        p: &["rate", "x"],
        d: &[],
        closed: |p, _| closed::exponential(p[1], p[0]),
        lgamma: false,
        inside: &[
            (&[2.0, 0.3], &[]),
            (&[0.5, 0.0], &[]),
            (&[1e-8, 1e6], &[]),
            (&[1e8, 1e-9], &[]),
        ],
        outside: &[(&[1.0, -1e-300], &[]), (&[1.0, -1.0], &[])],
    },
    Case {
        dist: "Gamma",
        body: "param shape: real<lower=0>; param rate: real<lower=0>; param x: real<lower=0>
               x ~ Gamma(shape, rate)",
        p: &["shape", "rate", "x"],
        d: &[],
        closed: |p, _| closed::gamma(p[2], p[0], p[1]),
        lgamma: true,
        inside: &[
            (&[2.5, 1.5, 0.8], &[]),
            (&[0.5, 2.0, 1e-10], &[]),
            (&[1.0, 3.0, 2.0], &[]),
            (&[100.0, 0.01, 1e4], &[]),
            (&[3.0, 1e4, 1e-4], &[]),
        ],
        outside: &[
            (&[2.5, 1.5, 0.0], &[]),
            (&[2.5, 1.5, -1e-300], &[]),
            (&[2.5, 1.5, -1.0], &[]),
        ],
    },
    Case {
        // The prior written in the declaration, with constant arguments.
        dist: "Gamma",
        body: "param x: real<lower=0> ~ Gamma(2.5, 1.5)",
        p: &["x"],
        d: &[],
        closed: |p, _| closed::gamma(p[0], 2.5, 1.5),
        lgamma: true,
        inside: &[(&[0.4], &[]), (&[7.0], &[])],
        outside: &[(&[-0.4], &[])],
    },
    Case {
        dist: "InvGamma",
        body: "param shape: real<lower=0>; param scale: real<lower=0>; param x: real<lower=0>
               x ~ InvGamma(shape, scale)",
        p: &["shape", "scale", "x"],
        d: &[],
        closed: |p, _| closed::inv_gamma(p[2], p[0], p[1]),
        lgamma: true,
        inside: &[
            (&[2.5, 1.5, 0.8], &[]),
            (&[0.5, 2.0, 1e-2], &[]),
            (&[3.0, 1e-3, 1e5], &[]),
            (&[50.0, 200.0, 4.0], &[]),
        ],
        outside: &[
            (&[2.5, 1.5, 0.0], &[]),
            (&[2.5, 1.5, -1e-300], &[]),
            (&[2.5, 1.5, -2.0], &[]),
        ],
    },
    Case {
        dist: "Beta",
        body: "param a: real<lower=0>; param b: real<lower=0>
             ; param x: real<lower=0, upper=1>
               x ~ Beta(a, b)",
        p: &["a", "b", "x"],
        d: &[],
        closed: |p, _| closed::beta(p[2], p[0], p[1]),
        lgamma: true,
        inside: &[
            (&[2.0, 3.0, 0.4], &[]),
            (&[0.5, 0.5, 1e-9], &[]),
            (&[0.5, 0.7, 0.999_999_999], &[]),
            (&[1.0, 1.0, 0.3], &[]),
            (&[200.0, 50.0, 0.8], &[]),
        ],
        outside: &[
            (&[2.0, 3.0, 0.0], &[]),
            (&[2.0, 3.0, 1.0], &[]),
            (&[2.0, 3.0, 1.5], &[]),
            (&[2.0, 3.0, -0.2], &[]),
        ],
    },
    Case {
        dist: "Uniform",
        body: "param lo: real; param hi: real; param x: real
               x ~ Uniform(lo, hi)",
        p: &["lo", "hi", "x"],
        d: &[],
        closed: |p, _| closed::uniform(p[2], p[0], p[1]),
        lgamma: false,
        inside: &[
            (&[0.0, 1.0, 0.25], &[]),
            (&[-3.0, 5.0, 4.0], &[]),
            // The bounds themselves belong to the support.
            (&[-3.0, 5.0, -3.0], &[]),
            (&[-3.0, 5.0, 5.0], &[]),
            (&[1e6, 1e6 + 1e-3, 1e6 + 5e-4], &[]),
        ],
        outside: &[
            (&[0.0, 1.0, 1.0 + 1e-12], &[]),
            (&[0.0, 1.0, -1e-300], &[]),
            (&[-3.0, 5.0, 7.0], &[]),
        ],
    },
    Case {
        dist: "Poisson",
        body: "data y: int; param rate: real<lower=0>
               y ~ Poisson(rate)",
        p: &["rate"],
        d: &["y"],
        closed: |p, d| closed::poisson(d[0], p[0]),
        lgamma: true,
        inside: &[
            (&[3.5], &[2.0]),
            (&[3.5], &[0.0]),
            (&[1e-6], &[0.0]),
            (&[1e-6], &[3.0]),
            (&[1000.0], &[1000.0]),
            (&[0.2], &[40.0]),
            // Rate 0: all mass at 0.
            (&[0.0], &[0.0]),
            (&[0.0], &[1.0]),
        ],
        outside: &[(&[3.5], &[-1.0]), (&[0.0], &[-3.0])],
    },
    Case {
        dist: "Poisson",
        body: "data y: int[3]; param rate: real<lower=0>[3]
               y ~ Poisson(rate)",
        p: &["rate"],
        d: &["y"],
        closed: |p, d| (0..3).map(|i| closed::poisson(d[i], p[i])).sum(),
        lgamma: true,
        inside: &[(&[1.0, 2.0, 3.0], &[0.0, 4.0, 1.0])],
        outside: &[(&[1.0, 2.0, 3.0], &[0.0, -4.0, 1.0])],
    },
    Case {
        // `Poisson(exp(η))` is lowered in its log form.
        dist: "Poisson",
        body: "data y: int; param eta: real
               y ~ Poisson(exp(eta))",
        p: &["eta"],
        d: &["y"],
        closed: |p, d| closed::poisson_log(d[0], p[0]),
        lgamma: true,
        inside: &[
            (&[1.2], &[3.0]),
            (&[0.0], &[0.0]),
            (&[-2.0], &[1.0]),
            (&[6.0], &[450.0]),
            // e^η underflows to 0: the log form stays finite.
            (&[-800.0], &[2.0]),
        ],
        outside: &[(&[1.2], &[-1.0])],
    },
    Case {
        dist: "Binomial",
        body: "data n: int; data y: int; param q: real<lower=0, upper=1>
               y ~ Binomial(n, q)",
        p: &["q"],
        d: &["n", "y"],
        closed: |p, d| closed::binomial(d[1], d[0], p[0]),
        lgamma: true,
        inside: &[
            (&[0.4], &[10.0, 3.0]),
            (&[0.4], &[10.0, 0.0]),
            (&[0.4], &[10.0, 10.0]),
            (&[1e-7], &[20.0, 1.0]),
            (&[0.999_999], &[20.0, 19.0]),
            (&[0.3], &[1000.0, 290.0]),
            (&[0.5], &[0.0, 0.0]),
            // p = 0 or 1: all mass at 0 or at n.
            (&[0.0], &[5.0, 0.0]),
            (&[1.0], &[5.0, 5.0]),
            (&[0.0], &[5.0, 2.0]),
            (&[1.0], &[5.0, 4.0]),
        ],
        outside: &[
            (&[0.4], &[10.0, 11.0]),
            (&[0.4], &[10.0, -1.0]),
            (&[0.4], &[0.0, 1.0]),
        ],
    },
    Case {
        dist: "NegBinomial",
        body: "data y: int; param mu: real<lower=0>; param phi: real<lower=0>
               y ~ NegBinomial(mu, phi)",
        p: &["mu", "phi"],
        d: &["y"],
        closed: |p, d| closed::neg_binomial(d[0], p[0], p[1]),
        lgamma: true,
        inside: &[
            (&[4.0, 2.0], &[3.0]),
            (&[4.0, 2.0], &[0.0]),
            (&[0.5, 0.1], &[7.0]),
            (&[100.0, 5.0], &[250.0]),
            (&[3.0, 1e4], &[2.0]),
            (&[1e-6, 1.5], &[0.0]),
        ],
        outside: &[(&[4.0, 2.0], &[-1.0]), (&[4.0, 2.0], &[-20.0])],
    },
    Case {
        dist: "Bernoulli",
        body: "data y: int; param q: real<lower=0, upper=1>
               y ~ Bernoulli(q)",
        p: &["q"],
        d: &["y"],
        closed: |p, d| closed::bernoulli(d[0], p[0]),
        lgamma: false,
        inside: &[
            (&[0.3], &[1.0]),
            (&[0.3], &[0.0]),
            (&[1e-10], &[0.0]),
            (&[1e-10], &[1.0]),
            (&[0.0], &[0.0]),
            (&[1.0], &[1.0]),
            (&[0.0], &[1.0]),
        ],
        outside: &[(&[0.3], &[2.0]), (&[0.3], &[-1.0]), (&[1.0], &[2.0])],
    },
    Case {
        // `Bernoulli(logistic(η))` is lowered in its logit form.
        dist: "Bernoulli",
        body: "data y: int; param eta: real
               y ~ Bernoulli(logistic(eta))",
        p: &["eta"],
        d: &["y"],
        closed: |p, d| closed::bernoulli_logit(d[0], p[0]),
        lgamma: false,
        inside: &[
            (&[0.3], &[1.0]),
            (&[0.3], &[0.0]),
            (&[-2.0], &[1.0]),
            // η = 0 exactly: softplus has slope ½ there.
            (&[0.0], &[1.0]),
            (&[0.0], &[0.0]),
            // logistic(±40) rounds to 1 or 0: the logit form stays finite.
            (&[40.0], &[0.0]),
            (&[-40.0], &[1.0]),
            (&[-40.0], &[0.0]),
        ],
        outside: &[(&[0.3], &[2.0]), (&[0.3], &[-1.0])],
    },
    Case {
        dist: "Categorical",
        body: "data y: int; param theta: real<lower=0>[3]
               y ~ Categorical(theta)",
        p: &["theta"],
        d: &["y"],
        closed: |p, d| closed::categorical(d[0], p),
        lgamma: false,
        inside: &[
            (&[0.2, 0.5, 0.3], &[1.0]),
            (&[0.2, 0.5, 0.3], &[2.0]),
            (&[0.2, 0.5, 0.3], &[3.0]),
            (&[1e-12, 0.5, 0.5 - 1e-12], &[1.0]),
        ],
        outside: &[
            (&[0.2, 0.5, 0.3], &[0.0]),
            (&[0.2, 0.5, 0.3], &[4.0]),
            (&[0.2, 0.5, 0.3], &[-1.0]),
        ],
    },
    Case {
        dist: "Dirichlet",
        body: "param alpha: real<lower=0>[3]; param w: real<lower=0, upper=1>[3]
               w ~ Dirichlet(alpha)",
        p: &["alpha", "w"],
        d: &[],
        closed: |p, _| closed::dirichlet(&p[3..], &p[..3]),
        lgamma: true,
        inside: &[
            (&[1.5, 2.0, 2.5, 0.2, 0.3, 0.5], &[]),
            (&[1.0, 1.0, 1.0, 0.1, 0.6, 0.3], &[]),
            (&[0.3, 0.5, 4.0, 1e-8, 0.25, 0.75 - 1e-8], &[]),
            (&[100.0, 50.0, 10.0, 0.6, 0.3, 0.1], &[]),
        ],
        outside: &[
            (&[1.5, 2.0, 2.5, -0.2, 0.7, 0.5], &[]),
            (&[1.5, 2.0, 2.5, 0.0, 0.5, 0.5], &[]),
            // At 0 with α_k = 1 the log term is 0 · (−∞); with α_k < 1 it is +∞.
            (&[1.0, 2.0, 2.5, 0.0, 0.5, 0.5], &[]),
            (&[0.5, 2.0, 2.5, 0.0, 0.5, 0.5], &[]),
            (&[1.5, 2.0, 2.5, 0.5, 0.5, -1e-300], &[]),
        ],
    },
];

/// The derivative of `f` at `x` by central differences, and an estimate of its error.
///
/// The step starts at 1e-6·|x| (1e-6 at 0) and is tried ten, a hundred… times smaller too,
/// for functions that vary on a shorter scale than |x| (a `Cauchy` with σ = 1e-6 at x = −1,
/// a `Beta` variate 1e-9 from 1). The step actually taken is (x + h) − (x − h), not 2h.
/// At each h, the estimates D at h, ¾h and ½h are compared: their spread shows truncation
/// error (which changes with the step) and rounding error (which changes at random), and
/// 4ε·max|f| / (½h) is added so that estimates that agree only because f did not change at
/// all are not trusted. The estimate D(½h) of the step with the smallest error wins. `None`
/// if every step leaves the support.
fn central_difference(f: &dyn Fn(f64) -> f64, x: f64) -> Option<(f64, f64)> {
    let h0 = 1e-6 * if x == 0.0 { 1.0 } else { x.abs() };
    // The estimate, and the largest |f| it used.
    let d = |h: f64| {
        let (hi, lo) = (x + h, x - h);
        let (a, b) = (f(hi), f(lo));
        (a.is_finite() && b.is_finite()).then(|| ((a - b) / (hi - lo), a.abs().max(b.abs())))
    };
    let mut best: Option<(f64, f64)> = None;
    for i in 0..8 {
        let h = h0 / 10f64.powi(i);
        let (Some((d1, m1)), Some((d2, m2)), Some((d3, m3))) = (d(h), d(0.75 * h), d(0.5 * h))
        else {
            continue;
        };
        let spread = d1.max(d2).max(d3) - d1.min(d2).min(d3);
        let err = spread + 4.0 * f64::EPSILON * m1.max(m2).max(m3) / (0.5 * h);
        if best.is_none_or(|(_, e)| err < e) {
            best = Some((d3, err));
        }
    }
    best
}

fn model_src(case: &Case) -> String {
    format!("model M {{\n{}\n}}", case.body)
}

/// Check the slot order the points are written for, and the buffer lengths.
fn check_layout(case: &Case, c: &Compiled) {
    let names = |slots: &[ito::ir::lower::Slot]| -> Vec<String> {
        slots.iter().map(|s| s.name.clone()).collect()
    };
    assert_eq!(
        names(&c.m.layout.p),
        case.p,
        "{}: parameter slots",
        case.dist
    );
    assert_eq!(names(&c.m.layout.d), case.d, "{}: data slots", case.dist);
    let len = |slots: &[ito::ir::lower::Slot]| -> u64 {
        slots
            .iter()
            .map(|s| s.fixed_len().expect("fixed size"))
            .sum()
    };
    for (p, d) in case.inside.iter().chain(case.outside) {
        assert_eq!(
            p.len() as u64,
            len(&c.m.layout.p),
            "{}: p = {p:?}",
            case.dist
        );
        assert_eq!(
            d.len() as u64,
            len(&c.m.layout.d),
            "{}: d = {d:?}",
            case.dist
        );
    }
}

/// Record a failure (every case runs, and all failures are reported together).
macro_rules! check {
    ($fails:expr, $cond:expr, $($msg:tt)+) => {
        let ok: bool = $cond;
        if !ok {
            $fails.push(format!($($msg)+));
        }
    };
}

#[test]
fn log_densities_match_closed_forms_and_gradients_match_finite_differences() {
    let mut values = 0;
    let mut gradients = 0;
    let mut sharp = 0;
    let mut fails: Vec<String> = Vec::new();
    for case in CASES {
        let src = model_src(case);
        let c = Compiled::new(&src);
        check_layout(case, &c);
        let rel = if case.lgamma { 1e-10 } else { 1e-12 };
        let mut compared = vec![false; case.inside[0].0.len()];
        for &(p, d) in case.inside {
            let at = format!("{} at p = {p:?}, d = {d:?}", case.dist);
            let want = (case.closed)(p, d);
            assert!(!want.is_nan(), "closed form NaN: {at}");
            let got = c.log_density(p, d);
            check!(
                fails,
                close(got, want, rel),
                "{at}: log_density = {got:e}, closed form {want:e} (relative error {:e})",
                ((got - want) / want).abs()
            );
            values += 1;

            let grad = c.gradient(p, d);
            check!(
                fails,
                same(grad[p.len()], got),
                "{at}: log_density_grad_p ends with {} but log_density is {got}",
                grad[p.len()]
            );
            if !got.is_finite() {
                continue;
            }
            for k in 0..p.len() {
                let along = |v: f64| {
                    let mut q = p.to_vec();
                    q[k] = v;
                    c.log_density(&q, d)
                };
                let Some((fd, err)) = central_difference(&along, p[k]) else {
                    // Every step leaves the support (a bound of `Uniform`).
                    continue;
                };
                // Relative 1e-6, plus the finite difference's own error. A derivative that
                // is 0 up to rounding is compared at the scale of the density's slope,
                // |f| / |p_k| (rounding inside f can exceed ε|f| when its terms cancel).
                let rel = 1e-6 * grad[k].abs().max(fd.abs());
                let natural = 1e-6 * got.abs().max(1.0) / p[k].abs().max(1.0);
                check!(
                    fails,
                    (grad[k] - fd).abs() <= rel.max(natural) + 2.0 * err,
                    "{at}: ∂/∂p[{k}]: gradient kernel {:e}, finite differences {fd:e} \
                     (error estimate {err:e})",
                    grad[k]
                );
                gradients += 1;
                // A comparison has teeth when the finite difference is accurate to 1e-6.
                if 2.0 * err <= rel {
                    compared[k] = true;
                    sharp += 1;
                }
            }
        }
        check!(
            fails,
            compared.iter().all(|&b| b),
            "{}: some parameters were never compared with accurate finite differences: \
             {compared:?}",
            case.dist
        );
        for &(p, d) in case.outside {
            let at = format!("{} at p = {p:?}, d = {d:?}", case.dist);
            let got = c.log_density(p, d);
            check!(
                fails,
                got == f64::NEG_INFINITY,
                "{at}: outside the support, log_density = {got} (expected -inf)"
            );
            let grad = c.gradient(p, d);
            check!(
                fails,
                grad[p.len()] == f64::NEG_INFINITY,
                "{at}: outside the support, log_density_grad_p ends with {}",
                grad[p.len()]
            );
            values += 1;
        }
    }
    eprintln!(
        "{values} log densities and {gradients} partial derivatives compared \
         ({sharp} with finite differences accurate to 1e-6)"
    );
    assert!(
        fails.is_empty(),
        "{} failures:\n{}",
        fails.len(),
        fails.join("\n")
    );
}

/// Every distribution the checker knows is in both tables (`MultiNormal` is refused, below).
#[test]
fn every_distribution_is_covered() {
    for kind in DistKind::ALL {
        let name = kind.name();
        if name == "MultiNormal" {
            continue;
        }
        assert!(
            CASES.iter().any(|c| c.dist == name),
            "no closed-form case for `{name}`"
        );
        assert!(
            moment_cases().iter().any(|c| c.dist == name),
            "no normalisation case for `{name}`"
        );
    }
}

#[test]
fn multi_normal_density_is_refused_with_a_clear_diagnostic() {
    let src = "model M {
                 param mu: real[2]
                 data S: real[2, 2]
                 param x: real[2]
                 x ~ MultiNormal(mu, S)
               }";
    let c = compile_source("mvn.sde", src, &Options::default());
    let errors: Vec<_> = c
        .diagnostics
        .iter()
        .filter(|d| !d.code.is_warning())
        .collect();
    assert_eq!(errors.len(), 1, "{:#?}", c.diagnostics);
    let e = errors[0];
    assert_eq!(e.code, Code::Unsupported, "{e:#?}");
    assert!(
        e.message.contains("MultiNormal") && e.message.contains("cannot be compiled"),
        "{}",
        e.message
    );
    // It points at the distribution.
    let span = e.primary.as_ref().expect("a place").span;
    let (start, end) = (span.start as usize, span.end as usize);
    assert!(src[start..end].starts_with("MultiNormal"), "{span:?}");
    assert!(
        c.lowered.is_empty(),
        "no kernels for a model that cannot be lowered"
    );
}

// ---------------------------------------------------------------------------------------
// Normalisation and moments
// ---------------------------------------------------------------------------------------

/// Where a variate lives, for quadrature.
#[derive(Clone, Copy)]
enum Range {
    /// The real line, centred near `c` with scale `s`.
    Real(f64, f64),
    /// (0, ∞), with scale `s`.
    Positive(f64),
    /// (lo, hi).
    Interval(f64, f64),
    /// The whole numbers 0..=max (the mass beyond is negligible).
    Counts(u64),
}

/// The nodes and weights of a quadrature (or the points and unit weights of a sum) over a
/// range: double-exponential substitutions (x = c + s·sinh(π/2·sinh t), x = s·exp(π/2·sinh t),
/// x = lo + (hi − lo)·(1 + tanh(π/2·sinh t))/2) and the trapezoidal rule in t, which
/// converges exponentially even with integrable end-point singularities and heavy tails.
fn nodes(range: Range) -> Vec<(f64, f64)> {
    const H: f64 = 1.0 / 64.0;
    const T: f64 = 4.5;
    let ts = (-(T / H) as i64..=(T / H) as i64).map(|k| k as f64 * H);
    let half_pi = PI / 2.0;
    match range {
        Range::Real(c, s) => ts
            .map(|t| {
                let u = half_pi * t.sinh();
                (c + s * u.sinh(), H * s * u.cosh() * half_pi * t.cosh())
            })
            .collect(),
        Range::Positive(s) => ts
            .map(|t| {
                let x = s * (half_pi * t.sinh()).exp();
                (x, H * x * half_pi * t.cosh())
            })
            .collect(),
        Range::Interval(lo, hi) => ts
            .map(|t| {
                let u = half_pi * t.sinh();
                let w = hi - lo;
                (
                    // (1 + tanh u)/2 = 1/(1 + e^(−2u)), without cancellation near lo.
                    lo + w / (1.0 + (-2.0 * u).exp()),
                    H * w / 2.0 * half_pi * t.cosh() / (u.cosh() * u.cosh()),
                )
            })
            .collect(),
        Range::Counts(max) => (0..=max).map(|k| (k as f64, 1.0)).collect(),
    }
}

/// A distribution with fixed arguments, and what its documented parameterisation says.
struct Moments {
    dist: &'static str,
    body: &'static str,
    /// The buffers (p, d) with the variate at `y`.
    at: fn(f64) -> (Vec<f64>, Vec<f64>),
    range: Range,
    /// Mean and variance (absent where they do not exist).
    mean_var: Option<(f64, f64)>,
    /// Intervals and the probability they hold (quartiles where there is no mean).
    mass: &'static [(f64, f64, f64)],
}

fn p_only(y: f64) -> (Vec<f64>, Vec<f64>) {
    (vec![y], vec![])
}

fn d_only(y: f64) -> (Vec<f64>, Vec<f64>) {
    (vec![], vec![y])
}

fn moment_cases() -> Vec<Moments> {
    vec![
        Moments {
            dist: "Normal",
            body: "param x: real ~ Normal(1.5, 0.7)",
            at: p_only,
            range: Range::Real(1.5, 0.7),
            mean_var: Some((1.5, 0.49)),
            mass: &[],
        },
        Moments {
            dist: "LogNormal",
            body: "param x: real ~ LogNormal(0.3, 0.6)",
            at: p_only,
            range: Range::Positive(1.35),
            // exp(μ + σ²/2) and (exp(σ²) − 1) exp(2μ + σ²)
            mean_var: Some((0.48f64.exp(), (0.36f64.exp() - 1.0) * 0.96f64.exp())),
            mass: &[],
        },
        Moments {
            dist: "HalfNormal",
            body: "param x: real ~ HalfNormal(2)",
            at: p_only,
            range: Range::Positive(2.0),
            // σ √(2/π) and σ² (1 − 2/π)
            mean_var: Some((
                2.0 * std::f64::consts::FRAC_2_SQRT_PI * std::f64::consts::FRAC_1_SQRT_2,
                4.0 * (1.0 - 2.0 / PI),
            )),
            mass: &[],
        },
        Moments {
            dist: "Cauchy",
            body: "param x: real ~ Cauchy(1, 2)",
            at: p_only,
            range: Range::Real(1.0, 2.0),
            mean_var: None,
            // The quartiles are μ ± σ.
            mass: &[(-1.0, 3.0, 0.5), (-1.0, 1.0, 0.25)],
        },
        Moments {
            dist: "HalfCauchy",
            body: "param x: real ~ HalfCauchy(2)",
            at: p_only,
            range: Range::Positive(2.0),
            mean_var: None,
            // The median is σ.
            mass: &[(0.0, 2.0, 0.5)],
        },
        Moments {
            dist: "StudentT",
            body: "param x: real ~ StudentT(5, 1, 2)",
            at: p_only,
            range: Range::Real(1.0, 2.0),
            // μ and σ² ν / (ν − 2)
            mean_var: Some((1.0, 4.0 * 5.0 / 3.0)),
            mass: &[],
        },
        Moments {
            dist: "Exponential",
            body: "param x: real ~ Exponential(2.5)",
            at: p_only,
            range: Range::Positive(0.4),
            mean_var: Some((0.4, 0.16)),
            mass: &[],
        },
        Moments {
            dist: "Gamma",
            body: "param x: real ~ Gamma(2.5, 1.5)",
            at: p_only,
            range: Range::Positive(1.7),
            // shape/rate: α/β and α/β²
            mean_var: Some((2.5 / 1.5, 2.5 / 2.25)),
            mass: &[],
        },
        Moments {
            dist: "Gamma",
            body: "param x: real ~ Gamma(0.5, 3)",
            at: p_only,
            range: Range::Positive(0.2),
            mean_var: Some((0.5 / 3.0, 0.5 / 9.0)),
            mass: &[],
        },
        Moments {
            dist: "InvGamma",
            body: "param x: real ~ InvGamma(4.5, 2)",
            at: p_only,
            range: Range::Positive(0.6),
            // shape/scale: β/(α − 1) and β²/((α − 1)²(α − 2))
            mean_var: Some((2.0 / 3.5, 4.0 / (3.5 * 3.5 * 2.5))),
            mass: &[],
        },
        Moments {
            dist: "Beta",
            body: "param x: real ~ Beta(2.5, 1.5)",
            at: p_only,
            range: Range::Interval(0.0, 1.0),
            // a/(a + b) and ab/((a + b)²(a + b + 1))
            mean_var: Some((2.5 / 4.0, 3.75 / (16.0 * 5.0))),
            mass: &[],
        },
        Moments {
            dist: "Beta",
            body: "param x: real ~ Beta(0.5, 3)",
            at: p_only,
            range: Range::Interval(0.0, 1.0),
            mean_var: Some((0.5 / 3.5, 1.5 / (3.5 * 3.5 * 4.5))),
            mass: &[],
        },
        Moments {
            dist: "Uniform",
            body: "param x: real ~ Uniform(-1, 3)",
            at: p_only,
            range: Range::Interval(-1.0, 3.0),
            mean_var: Some((1.0, 16.0 / 12.0)),
            mass: &[],
        },
        Moments {
            // On the 1-simplex Dirichlet(a, b) is Beta(a, b) in the first coordinate.
            dist: "Dirichlet",
            body: "param w: real[2] ~ Dirichlet([2.5, 1.5])",
            at: |y| (vec![y, 1.0 - y], vec![]),
            range: Range::Interval(0.0, 1.0),
            mean_var: Some((2.5 / 4.0, 3.75 / (16.0 * 5.0))),
            mass: &[],
        },
        Moments {
            dist: "Poisson",
            body: "data y: int; y ~ Poisson(3.5)",
            at: d_only,
            range: Range::Counts(100),
            mean_var: Some((3.5, 3.5)),
            mass: &[],
        },
        Moments {
            dist: "Binomial",
            body: "data n: int; data y: int; y ~ Binomial(n, 0.3)",
            at: |y| (vec![], vec![12.0, y]),
            // Beyond n the mass is 0 (and the log density −∞).
            range: Range::Counts(20),
            mean_var: Some((12.0 * 0.3, 12.0 * 0.3 * 0.7)),
            mass: &[],
        },
        Moments {
            dist: "NegBinomial",
            body: "data y: int; y ~ NegBinomial(4, 2)",
            at: d_only,
            range: Range::Counts(400),
            // mean/dispersion: μ and μ + μ²/φ
            mean_var: Some((4.0, 4.0 + 16.0 / 2.0)),
            mass: &[],
        },
        Moments {
            dist: "Bernoulli",
            body: "data y: int; y ~ Bernoulli(0.3)",
            at: d_only,
            range: Range::Counts(3),
            mean_var: Some((0.3, 0.21)),
            mass: &[],
        },
        Moments {
            dist: "Categorical",
            body: "data y: int; y ~ Categorical([0.2, 0.5, 0.3])",
            at: d_only,
            range: Range::Counts(5),
            mean_var: Some((2.1, 0.2 + 2.0 + 2.7 - 2.1 * 2.1)),
            mass: &[],
        },
    ]
}

#[test]
fn densities_integrate_to_one_with_the_documented_moments() {
    for case in &moment_cases() {
        let src = format!("model M {{\n{}\n}}", case.body);
        let c = Compiled::new(&src);
        let density = |y: f64| {
            let (p, d) = (case.at)(y);
            c.log_density(&p, &d).exp()
        };
        let integral = |range: Range, f: &dyn Fn(f64) -> f64| -> f64 {
            nodes(range).into_iter().map(|(y, w)| w * f(y)).sum()
        };
        let total = integral(case.range, &|y| density(y));
        assert!(
            (total - 1.0).abs() < 1e-10,
            "{}: total probability {total}\n{src}",
            case.dist
        );
        if let Some((mean, var)) = case.mean_var {
            let m = integral(case.range, &|y| y * density(y));
            let v = integral(case.range, &|y| (y - mean) * (y - mean) * density(y));
            assert!(
                (m - mean).abs() <= 1e-9 * mean.abs(),
                "{}: mean {m}, documented parameterisation gives {mean}\n{src}",
                case.dist
            );
            assert!(
                (v - var).abs() <= 1e-9 * var,
                "{}: variance {v}, documented parameterisation gives {var}\n{src}",
                case.dist
            );
        }
        for &(lo, hi, want) in case.mass {
            let got = integral(Range::Interval(lo, hi), &|y| density(y));
            assert!(
                (got - want).abs() < 1e-10,
                "{}: P({lo} < y < {hi}) = {got}, expected {want}\n{src}",
                case.dist
            );
        }
    }
}
