//! What the kernels compute, checked against values worked out by hand (through the
//! reference evaluator): mass-action propensities with the binomial convention, the
//! stoichiometry and dependency tables, drift and diffusion of indexed equations, effects of
//! jumps and events, and the distribution of random initial values.

use ito::frontend::{Options, compile_source};
use ito::ir::eval::{Args, run};
use ito::ir::lower::LoweredModel;
use ito::rt::rng_from_seed;

#[path = "common/corpus.rs"]
mod corpus;
use corpus::lowered_models;

fn lower(src: &str) -> LoweredModel {
    let c = compile_source("test.sde", src, &Options::default());
    assert!(
        !c.has_errors(),
        "{}",
        ito::diag::render_all(&c.diagnostics, &c.sources, false)
    );
    c.lowered.into_iter().next().expect("one model")
}

/// Run a kernel with the given buffers; returns `out`.
fn call(
    m: &LoweredModel,
    name: &str,
    x: &mut [f64],
    p: &mut [f64],
    aux: &[f64],
    out_len: usize,
) -> Vec<f64> {
    let k = m.kernel(name).unwrap_or_else(|| panic!("no kernel {name}"));
    let mut out = vec![f64::NAN; out_len];
    let mut rng = rng_from_seed(7);
    run(
        k,
        &mut Args {
            t: 0.0,
            x,
            p,
            d: &[],
            aux,
            rng: Some(&mut rng),
            out: &mut out,
        },
    );
    out
}

#[test]
fn mass_action_uses_binomial_coefficients() {
    let m = lower(
        "model D {
           species P = 10, P2 = 3, Q = 5
           param c1 = 0.5; param c2 = 2.0; param c3 = 0.1
           reactions {
             dimerise: 2 P -> P2 @ c1
             split: P2 -> 2 P @ c2
             triple: 3 Q + P -> 0 @ c3
             hill: Q => P @ c1 * Q / (1 + Q)
           }
         }",
    );
    let mut x = [10.0, 3.0, 5.0];
    let mut p = [0.5, 2.0, 0.1];
    let h = call(&m, "propensities", &mut x, &mut p, &[], 4);
    assert_eq!(h[0], 0.5 * 10.0 * 9.0 / 2.0, "c1 · C(10, 2)");
    assert_eq!(h[1], 2.0 * 3.0, "c2 · C(3, 1)");
    assert!(
        (h[2] - 0.1 * 10.0 * 10.0).abs() < 1e-12,
        "c3 · C(5, 3) · C(10, 1)"
    );
    assert!(
        (h[3] - 0.5 * 5.0 / 6.0).abs() < 1e-15,
        "`=>` is the propensity as written"
    );
    // Too few molecules: the propensity is exactly zero.
    let mut x = [1.0, 0.0, 2.0];
    let h = call(&m, "propensities", &mut x, &mut p, &[], 4);
    assert_eq!((h[0], h[1], h[2]), (0.0, 0.0, 0.0));

    let names: Vec<&str> = m.reactions.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["dimerise", "split", "triple", "hill"]);
    assert_eq!(m.reactions[0].changes, [(0, -2), (1, 1)]);
    assert_eq!(m.reactions[2].changes, [(2, -3), (0, -1)]);
    // dimerise changes P and P2: every reaction reads P, P2 or Q... dimerise reads P
    // (reactant), split reads P2, triple reads P and Q, hill reads Q.
    assert_eq!(m.dependencies[0], [0, 1, 2], "dimerise changes P and P2");
    assert_eq!(m.dependencies[3], [0, 2, 3], "hill changes Q and P");
    assert_eq!(m.time_dependent, [false, false, false, false]);
}

#[test]
fn indexed_equations_give_drift_and_sparse_diffusion() {
    let m = lower(
        "model M {
           const N = 4
           param k = 0.5; param s = 0.2
           state x: real[N] = 0
           noise W: real[N]
           dx[i] = (x[i] - x[i]^3 + k * (mean(x) - x[i])) dt + s * x[i] dW[i] for i in 1..N
         }",
    );
    let mut x = [0.1, -0.2, 0.3, 0.4];
    let mut p = [0.5, 0.2];
    let drift = call(&m, "drift", &mut x, &mut p, &[], 4);
    let mean = (0.1 - 0.2 + 0.3 + 0.4) / 4.0;
    for i in 0..4 {
        let xi = x[i];
        let want = xi - xi.powf(3.0) + 0.5 * (mean - xi);
        assert!((drift[i] - want).abs() < 1e-15, "drift[{i}]");
    }
    let g = call(&m, "diffusion", &mut x, &mut p, &[], 4);
    let pattern = call(&m, "diffusion_pattern", &mut x, &mut p, &[], 8);
    for i in 0..4 {
        assert!((g[i] - 0.2 * x[i]).abs() < 1e-15);
        assert_eq!(
            (pattern[2 * i], pattern[2 * i + 1]),
            (i as f64, i as f64),
            "diagonal entry {i}"
        );
    }
}

#[test]
fn jumps_and_events_change_the_state_in_place() {
    let m = lower(
        "model J {
           const N = 3
           state s: spin[N] = [1, -1, 1]
           state n: int = 5
           param k = 1.0
           jump flip[i in 1..N] @ k { s[i] = -s[i] }
           jump grow @ k { n += 2 }
           at t = 1 { k = 2 * k }
         }",
    );
    // x = [n, s1, s2, s3] (scalars first, then arrays)
    let mut x = [5.0, 1.0, -1.0, 1.0];
    let mut p = [1.0];
    call(&m, "jump_flip", &mut x, &mut p, &[1.0], 0);
    assert_eq!(x, [5.0, 1.0, 1.0, 1.0], "channel 1 flips the second spin");
    call(&m, "jump_grow", &mut x, &mut p, &[0.0], 0);
    assert_eq!(x[0], 7.0);
    let when = call(&m, "event0_trigger", &mut x, &mut p, &[], 1);
    assert_eq!(when[0], 1.0, "`at t = 1` fires at time 1");
    call(&m, "event0_effect", &mut x, &mut p, &[], 0);
    assert_eq!(p[0], 2.0, "events may change parameters");
    let h = call(&m, "propensities", &mut x, &mut p, &[], 4);
    assert_eq!(
        h,
        [2.0, 2.0, 2.0, 2.0],
        "three flip channels and one grow channel"
    );
}

/// Random initial values follow their distribution: mean and variance of many draws against
/// the exact values, within 4 standard errors (fixed seed).
#[test]
fn random_initial_values_have_the_declared_distribution() {
    let m = lower(
        "model R {
           const N = 20000
           param mu = 1.5; param sd = 0.5
           state x: real[N] ~ Normal(mu, sd)
           state s: spin[N]
           dx = -x dt
         }",
    );
    let n = 20000usize;
    let mut x = vec![0.0; 2 * n];
    let mut p = [1.5, 0.5];
    let x0 = call(&m, "init", &mut x, &mut p, &[], 2 * n);
    let (normals, spins) = x0.split_at(n);
    let mean = normals.iter().sum::<f64>() / n as f64;
    let var = normals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    // sd of the sample mean: σ/√n; of the sample variance: σ²·√(2/(n−1)).
    assert!(
        (mean - 1.5).abs() < 4.0 * 0.5 / (n as f64).sqrt(),
        "mean {mean}"
    );
    assert!(
        (var - 0.25).abs() < 4.0 * 0.25 * (2.0 / (n as f64 - 1.0)).sqrt(),
        "variance {var}"
    );
    assert!(spins.iter().all(|s| *s == 1.0 || *s == -1.0));
    let up = spins.iter().filter(|s| **s == 1.0).count() as f64 / n as f64;
    assert!(
        (up - 0.5).abs() < 4.0 * 0.5 / (n as f64).sqrt(),
        "fraction of up spins {up}"
    );
}

#[test]
fn log_density_matches_closed_forms() {
    let m = lower(
        "model G {
           param mu ~ Normal(1, 2)
           param lam: real<lower=0> ~ Gamma(3, 2)
           data y: int
           y ~ Poisson(lam)
         }",
    );
    let k = m.kernel("log_density").unwrap();
    let mut out = [0.0];
    let (mu, lam, y) = (0.3f64, 1.7f64, 4.0f64);
    run(
        k,
        &mut Args {
            t: 0.0,
            x: &mut [],
            p: &mut [mu, lam],
            d: &[y],
            aux: &[],
            rng: None,
            out: &mut out,
        },
    );
    let normal =
        -0.5 * ((mu - 1.0) / 2.0).powi(2) - 2f64.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln();
    let gamma = 3.0 * 2f64.ln() - libm::lgamma(3.0) + 2.0 * lam.ln() - 2.0 * lam;
    let poisson = y * lam.ln() - lam - libm::lgamma(y + 1.0);
    assert!(
        (out[0] - (normal + gamma + poisson)).abs() < 1e-12,
        "{} vs {}",
        out[0],
        normal + gamma + poisson
    );
}

/// Kernels never trap or panic: every kernel of every example runs on hostile inputs (zeros,
/// negatives, NaN, ±∞, huge values, channel numbers out of range); IEEE values come out.
#[test]
fn kernels_survive_hostile_inputs() {
    let hostile = [
        0.0,
        -1.0,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        1e308,
        -3.5,
    ];
    let mut runs = 0;
    for m in &lowered_models() {
        for k in &m.kernels {
            for &v in &hostile {
                // Data scalars are sizes, which the data binder validates (a size of 1e308
                // would be a loop of 9·10¹⁸ iterations): keep them small and valid.
                let mut x = vec![v; 4096];
                let mut p = vec![v; 64];
                let n_sizes = m.layout.d.iter().filter(|s| s.ty.is_scalar()).count();
                let mut d = vec![v; 64];
                d[..n_sizes].fill(3.0);
                let aux = vec![v; 4096];
                let mut out = vec![0.0; 8192];
                let mut rng = rng_from_seed(1);
                run(
                    k,
                    &mut Args {
                        t: v,
                        x: &mut x,
                        p: &mut p,
                        d: &d,
                        aux: &aux,
                        rng: Some(&mut rng),
                        out: &mut out,
                    },
                );
                runs += 1;
            }
        }
    }
    assert!(runs > 500, "{runs} kernel runs");
}

/// Reductions whose terms do not depend on the index yield a value defined before the loop
/// (after hoisting and CSE): the optimiser's renumbering, loop-invariant code motion and
/// reverse mode must all keep it.
#[test]
fn reductions_of_loop_invariant_terms() {
    let m = lower(
        "model R {
           param a: real[3] = [1.0, 2.0, 6.0]
           param mu = 0.5
           data y: real
           noise W
           state x: real = 0
           dx = dW
           output let m = mean(i in 1..3) a[i]
           output let s = sum(i in 1..3, j in 1..2) a[i]
           output let c = sum(i in 1..4) mu
           y ~ Normal(sum(i in 1..3) mu, 1)
         }",
    );
    // Scalars first: p = [mu, a[1], a[2], a[3]].
    let mut p = [0.5, 1.0, 2.0, 6.0];
    let outputs = call(&m, "outputs", &mut [0.0], &mut p, &[], 3);
    assert_eq!(outputs, [3.0, 18.0, 2.0]);

    let y = 4.0;
    let run_kernel = |name: &str, p: &mut [f64], aux: &[f64], out: &mut [f64]| {
        run(
            m.kernel(name).unwrap(),
            &mut Args {
                t: 0.0,
                x: &mut [0.0],
                p,
                d: &[y],
                aux,
                rng: None,
                out,
            },
        )
    };
    let mut density = [0.0];
    run_kernel("log_density", &mut p, &[], &mut density);
    let expected = -0.5 * (y - 3.0 * 0.5f64).powi(2) - 0.5 * (2.0 * std::f64::consts::PI).ln();
    assert!(
        (density[0] - expected).abs() < 1e-12,
        "{density:?} vs {expected}"
    );
    // d/dmu = 3 (y − 3 mu); nothing depends on a.
    // The density follows the gradient.
    let mut grad = [0.0; 5];
    run_kernel("log_density_grad_p", &mut p, &[1.0], &mut grad);
    assert!((grad[0] - 3.0 * (y - 1.5)).abs() < 1e-12, "{grad:?}");
    assert_eq!(grad[1..4], [0.0; 3]);
    assert_eq!(grad[4], density[0]);
}

/// An array assignment computes every new element from the state before the assignment
/// (through the effect's scratch space in `out`); actions still apply in order.
#[test]
fn array_assignments_read_the_state_before_them() {
    let m = lower(
        "model A {
           state x: real[3] = [2.0, 4.0, 6.0]
           param k = 1.0
           jump scale @ k { x = x / x[1] }
           jump reverse @ k { x = [x[3], x[2], x[1]] }
           jump double @ k { let v = x * 2; x = v }
           jump normalise @ k { x[1] = 0; x = x / sum(x) }
           when x[1] > 100 { let old = x; x[1] = 0; x[2] = old[1] }
         }",
    );
    let sizes = corpus::buffer_sizes(&m, &[]);
    assert_eq!(sizes[ito::ir::lower::size_index::SCRATCH], 3.0);
    let run_effect = |name: &str, mut x: [f64; 3]| {
        call(&m, name, &mut x, &mut [1.0], &[0.0], 3);
        x
    };
    assert_eq!(run_effect("jump_scale", [2.0, 4.0, 6.0]), [1.0, 2.0, 3.0]);
    assert_eq!(run_effect("jump_reverse", [1.0, 2.0, 3.0]), [3.0, 2.0, 1.0]);
    assert_eq!(run_effect("jump_double", [1.0, 2.0, 3.0]), [2.0, 4.0, 6.0]);
    assert_eq!(
        run_effect("jump_normalise", [5.0, 1.0, 3.0]),
        [0.0, 0.25, 0.75]
    );
    assert_eq!(
        run_effect("event0_effect", [200.0, 1.0, 3.0]),
        [0.0, 200.0, 3.0]
    );
}

/// `grad` through a user function: the function's loop variable `j` (after its parameter)
/// and the caller's `i` (after `a`) are both local number 1 in their own scopes; inlining
/// must keep them apart.
#[test]
fn grad_through_a_function_keeps_loop_variables_apart() {
    let c = compile_source(
        "test.sde",
        "fn f(y: real) = sum(j in 1..2) y * j
         model S {
           param th: real = 1.5
           noise W
           state x: real = 0
           dx = th dt + dW
           output let g = grad(sum(a in 1..1, i in 1..3) f(i * th), th)
           output let h = sum(a in 1..1, i in 1..3) f(i * th)
         }",
        &Options::default(),
    );
    assert!(!c.has_errors());
    let m = &c.lowered[0];
    // h = Σᵢ Σⱼ i·th·j = 18·th, so g = 18.
    let out = call(m, "outputs", &mut [0.0], &mut [1.5], &[], 2);
    assert_eq!(out, [18.0, 27.0]);
}

/// Initial values are computed in dependency order, species and states together, whatever
/// the order of declaration.
#[test]
fn initial_values_follow_their_dependencies() {
    let m = lower(
        "model S {
           species A = B + 1
           species B = 5
           state s: real = A * 2
           param k = 1.0
           reactions { A -> B @ k }
           ds = -s dt
         }",
    );
    // x = [A, B, s]
    let x0 = call(&m, "init", &mut [0.0; 3], &mut [1.0], &[], 3);
    assert_eq!(x0, [6.0, 5.0, 12.0]);
}

/// `Bernoulli(logistic(η))` is lowered in its logit form y·η − softplus(η): the same value
/// as the plain density where that is accurate, and still exact where logistic(η) rounds to
/// 0 or 1 (the plain form gives −∞ there).
#[test]
fn bernoulli_of_a_logistic_uses_the_logit_form() {
    let logit =
        lower("model M { data y: int; param a ~ Normal(0, 1); y ~ Bernoulli(logistic(a)) }");
    let plain =
        lower("model M { data y: int; param a ~ Normal(0, 1); y ~ Bernoulli(1 / (1 + exp(-a))) }");
    let prior = |a: f64| -0.5 * a * a - 0.5 * (2.0 * std::f64::consts::PI).ln();
    for a in [-3.0, -0.4, 0.0, 0.7, 5.0] {
        for y in [0.0, 1.0] {
            let (l, p) = (scalar_density(&logit, a, y), scalar_density(&plain, a, y));
            assert!(
                (l - p).abs() < 1e-12 * (1.0 + p.abs()),
                "a = {a}, y = {y}: {l} vs {p}"
            );
        }
    }
    // log(1 − logistic(40)) = −40 − log1p(e^−40); the plain form rounds 1 − p to 0.
    let far = scalar_density(&logit, 40.0, 0.0) - prior(40.0);
    assert!(
        (far - (-40.0 - (-40.0f64).exp().ln_1p())).abs() < 1e-12,
        "{far}"
    );
    assert_eq!(scalar_density(&plain, 40.0, 0.0), f64::NEG_INFINITY);
    // Outside the support: −∞.
    assert_eq!(scalar_density(&logit, 0.3, 2.0), f64::NEG_INFINITY);
}

/// `Poisson(exp(η))` is lowered in its log form y·η − exp(η) − lgamma(y + 1): the same
/// value as the plain density.
#[test]
fn poisson_of_an_exponential_uses_the_log_form() {
    let fused = lower("model M { data y: int; param a ~ Normal(0, 1); y ~ Poisson(exp(a)) }");
    let plain = lower("model M { data y: int; param a ~ Normal(0, 1); y ~ Poisson(exp(a) + 0) }");
    for a in [-3.0, -0.4, 0.0, 0.7, 5.0] {
        for y in [0.0, 1.0, 7.0] {
            let (f, p) = (scalar_density(&fused, a, y), scalar_density(&plain, a, y));
            assert!(
                (f - p).abs() < 1e-12 * (1.0 + p.abs()),
                "a = {a}, y = {y}: {f} vs {p}"
            );
        }
    }
    assert_eq!(scalar_density(&fused, 0.3, -1.0), f64::NEG_INFINITY);
}

/// The log density of a model with one parameter `a` and one data value `y`.
fn scalar_density(m: &LoweredModel, a: f64, y: f64) -> f64 {
    let k = m.kernel("log_density").unwrap();
    let mut out = [f64::NAN];
    run(
        k,
        &mut Args {
            t: 0.0,
            x: &mut [],
            p: &mut [a],
            d: &[y],
            aux: &[],
            rng: None,
            out: &mut out,
        },
    );
    out[0]
}

/// `observe` through the JIT (and the evaluator) on an observation row `row`, at state `x`
/// and parameters `p`.
fn observe(m: &LoweredModel, x: &[f64], p: &[f64], row: &[f64]) -> f64 {
    let jit = ito::jit::Jit::compile(&m.kernels).expect("the kernels compile");
    let mut out = [f64::NAN];
    let (mut x, mut p) = (x.to_vec(), p.to_vec());
    let mut args = Args {
        t: 0.0,
        x: &mut x,
        p: &mut p,
        d: &[],
        aux: row,
        rng: None,
        out: &mut out,
    };
    jit.call("observe", &mut args).expect("observe runs");
    let native = out[0];
    let evaluated = call(m, "observe", &mut x, &mut p, row, 1)[0];
    assert!(
        native == evaluated || (native.is_nan() && evaluated.is_nan()),
        "JIT {native} vs evaluator {evaluated}"
    );
    native
}

fn ln_normal(y: f64, mu: f64, sigma: f64) -> f64 {
    let z = (y - mu) / sigma;
    -0.5 * (2.0 * std::f64::consts::PI).ln() - sigma.ln() - 0.5 * z * z
}

/// ln k! for small k.
fn ln_factorial(k: u32) -> f64 {
    (1..=k).map(|i| f64::from(i).ln()).sum()
}

/// A missing observation (NaN in the row) adds nothing to `observe`; the other terms are
/// their closed forms. Scalar, array and indexed observations; the plain and link (log) forms
/// of Poisson; Binomial of an `int` observation, whose NaN must not be lost to the
/// conversion to an integer.
#[test]
fn observe_leaves_missing_values_out() {
    let m = lower(
        "model Obs {
           param s = 0.5
           obs y: real[3]
           obs c: int<lower=0>
           obs k: int
           obs w: real[3]
           state x = 1
           dx = -x dt + s dW
           y ~ Normal(x, s)
           c ~ Poisson(exp(x))
           k ~ Binomial(10, 0.3)
           w[i] ~ Normal(2 * x, 1) for i in 1..2
         }",
    );
    // Scalars first: c, k, then y[1..3], w[1..3].
    let names: Vec<&str> = m.layout.obs.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["c", "k", "y", "w"]);
    let (x, s) = (0.8_f64, 0.5);
    let lam = x.exp();
    let ln_pois = |c: u32| f64::from(c) * lam.ln() - lam - ln_factorial(c);
    let ln_binom = |k: u32| {
        ln_factorial(10) - ln_factorial(k) - ln_factorial(10 - k)
            + f64::from(k) * 0.3f64.ln()
            + f64::from(10 - k) * 0.7f64.ln()
    };
    let nan = f64::NAN;
    let full = [3.0, 4.0, 0.2, 1.1, 1.7, 1.5, 2.5, 99.0];
    let want_full = ln_pois(3)
        + ln_binom(4)
        + ln_normal(0.2, x, s)
        + ln_normal(1.1, x, s)
        + ln_normal(1.7, x, s)
        + ln_normal(1.5, 2.0 * x, 1.0)
        + ln_normal(2.5, 2.0 * x, 1.0);
    let got = observe(&m, &[x], &[s], &full);
    assert!((got - want_full).abs() < 1e-12, "{got} vs {want_full}");

    // y[2], k and w[1] missing; w[3] is covered by no tilde and is ignored either way.
    let gaps = [3.0, nan, 0.2, nan, 1.7, nan, 2.5, nan];
    let want =
        ln_pois(3) + ln_normal(0.2, x, s) + ln_normal(1.7, x, s) + ln_normal(2.5, 2.0 * x, 1.0);
    let got = observe(&m, &[x], &[s], &gaps);
    assert!((got - want).abs() < 1e-12, "{got} vs {want}");

    // A missing count in the link form, and a whole row missing: 0.
    let no_count = [nan, 4.0, 0.2, 1.1, 1.7, 1.5, 2.5, 0.0];
    let want = want_full - ln_pois(3);
    let got = observe(&m, &[x], &[s], &no_count);
    assert!((got - want).abs() < 1e-12, "{got} vs {want}");
    assert_eq!(observe(&m, &[x], &[s], &[nan; 8]), 0.0);
}

/// Missing values in `Categorical` and `Dirichlet` observations: a missing category adds
/// nothing; a simplex with any missing coordinate adds nothing.
#[test]
fn observe_leaves_missing_categories_and_simplices_out() {
    let m = lower(
        "model Obs {
           param a = 1.0
           obs g: int
           obs v: real[2, 3]
           state x = 1
           dx = -a * x dt + 0.1 dW
           g ~ Categorical([0.2, 0.3, 0.5])
           v ~ Dirichlet([1.0, 2.0, 3.0])
         }",
    );
    // ln Dir(v | 1, 2, 3) = ln Γ(6) − ln Γ(1) − ln Γ(2) − ln Γ(3) + ln v2 + 2 ln v3.
    let ln_dir = |v: [f64; 3]| 120f64.ln() - 2f64.ln() + v[1].ln() + 2.0 * v[2].ln();
    let (r1, r2) = ([0.2, 0.3, 0.5], [0.6, 0.1, 0.3]);
    let nan = f64::NAN;
    let row = |g: f64, a: [f64; 3], b: [f64; 3]| [g, a[0], a[1], a[2], b[0], b[1], b[2]];
    let full = observe(&m, &[1.0], &[1.0], &row(2.0, r1, r2));
    let want = 0.3f64.ln() + ln_dir(r1) + ln_dir(r2);
    assert!((full - want).abs() < 1e-12, "{full} vs {want}");
    let got = observe(&m, &[1.0], &[1.0], &row(nan, r1, [0.6, nan, 0.3]));
    let want = ln_dir(r1);
    assert!((got - want).abs() < 1e-12, "{got} vs {want}");
    let got = observe(&m, &[1.0], &[1.0], &row(3.0, [nan; 3], r2));
    let want = 0.5f64.ln() + ln_dir(r2);
    assert!((got - want).abs() < 1e-12, "{got} vs {want}");
}

/// `observe_sample` writes a whole observation row in `observe`'s layout: each covered
/// element drawn from its distribution at the state, the uncovered ones NaN; the JIT and the
/// evaluator draw the same numbers from the same stream.
#[test]
fn observe_sample_draws_a_row_in_the_observe_layout() {
    let m = lower(
        "model Obs {
           param s = 0.5
           obs y: real[3]
           obs c: int<lower=0>
           state x = 1
           dx = -x dt + s dW
           y[i] ~ Normal(100 * i + x, s) for i in 1..2
           c ~ Poisson(1000 * x)
         }",
    );
    let jit = ito::jit::Jit::compile(&m.kernels).expect("the kernels compile");
    let mut out = vec![0.0; 4];
    let mut rng = rng_from_seed(11);
    jit.call(
        "observe_sample",
        &mut Args {
            t: 0.0,
            x: &mut [2.0],
            p: &mut [0.5],
            d: &[],
            aux: &[],
            rng: Some(&mut rng),
            out: &mut out,
        },
    )
    .expect("observe_sample runs");
    // c, then y[1..3].
    let c = out[0];
    assert!(
        c.fract() == 0.0 && (c - 2000.0).abs() < 6.0 * 2000f64.sqrt(),
        "{out:?}"
    );
    assert!((out[1] - 102.0).abs() < 3.0, "{out:?}");
    assert!((out[2] - 202.0).abs() < 3.0, "{out:?}");
    assert!(out[3].is_nan(), "y[3] has no observation model: {out:?}");
    let evaluated = call(&m, "observe_sample", &mut [2.0], &mut [0.5], &[], 4);
    let mut rng = rng_from_seed(7);
    let mut again = vec![0.0; 4];
    jit.call(
        "observe_sample",
        &mut Args {
            t: 0.0,
            x: &mut [2.0],
            p: &mut [0.5],
            d: &[],
            aux: &[],
            rng: Some(&mut rng),
            out: &mut again,
        },
    )
    .unwrap();
    assert_eq!(
        evaluated[..3],
        again[..3],
        "the evaluator (seed 7) and the JIT agree"
    );
    assert!(evaluated[3].is_nan());
}

/// A model whose observations cannot be drawn still compiles (every other kernel is there):
/// `observe_sample` is refused with the reason, for the command that asks for it.
#[test]
fn observations_that_cannot_be_drawn_refuse_only_observe_sample() {
    let c = compile_source(
        "test.sde",
        "model Obs {
           obs g: int
           obs z: real
           state x = 1
           dx = -x dt + 0.1 dW
           g ~ Categorical([0.2, 0.8])
           z ~ Normal(g, 1)
         }",
        &Options::default(),
    );
    assert!(!c.has_errors(), "{:?}", c.diagnostics);
    let m = &c.lowered[0];
    assert!(m.kernel("observe").is_some());
    assert!(m.kernel("observe_sample").is_none());
    let why: Vec<&str> = m
        .refusal("observe_sample")
        .expect("a refusal")
        .iter()
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(
        why,
        [
            "a random draw from `Categorical` cannot be compiled yet",
            "drawing an observation whose distribution reads another `obs` cannot be compiled yet"
        ]
    );
    assert!(m.refusal("observe").is_none());
}
