//! Every sampler of `ito infer` on conjugate models whose posteriors are known exactly:
//! posterior means and standard deviations must agree with the exact values within a
//! tolerance set by the Monte Carlo standard error (Z = 4.5 over 4 models × 4 samplers ×
//! a few parameters ≈ 40 comparisons, so a false failure has probability ≈ 3·10⁻⁴ with the
//! fixed seeds; an estimator biased by more than a few MCSEs fails).

use ito::frontend::{Options, compile_source};
use ito::infer::chain::{self, Config, Method};
use ito::infer::density::{Posterior, param_spans};
use ito::infer::diagnostics;
use ito::sim::bind::{self, Setting};
use ito::sim::data::{self, DataSet};
use ito::sim::prepare;
use std::sync::atomic::AtomicBool;

const Z: f64 = 4.5;

/// Draws of every column (parameters, then outputs) for each chain.
fn sample(
    source: &str,
    data: &str,
    method: Method,
    seed: u64,
) -> (Vec<String>, Vec<Vec<Vec<f64>>>) {
    let c = compile_source("conjugate.sde", source, &Options::default());
    assert!(!c.has_errors(), "{:?}", c.diagnostics);
    let m = prepare::pick(&c, None).unwrap();
    let lm = prepare::lowered(&c, m).unwrap();
    let data = DataSet {
        path: None,
        values: data::from_json(data).unwrap(),
        ..Default::default()
    };
    let settings: Vec<Setting> = Vec::new();
    let bound = bind::bind_partial(lm, m, &settings, &data).unwrap();
    let post = Posterior::new(m, lm, &bound, &param_spans(m, &bound), &settings).unwrap();
    let config = Config {
        method,
        chains: 4,
        warmup: 1000,
        // The random walk mixes slowly: more draws keep its MCSE comparable.
        draws: if method == Method::Mh { 10_000 } else { 2_000 },
        seed,
        threads: 2,
        max_depth: 10,
        target_accept: 0.8,
        thin: 1,
        step: 0.0,
        friction: 0.0,
    };
    let results = chain::run(&post.density, &config, &AtomicBool::new(false)).unwrap();
    let columns = post.density.columns.clone();
    let per_column = (0..columns.len())
        .map(|k| {
            results
                .iter()
                .map(|r| r.rows.iter().map(|row| row[k]).collect())
                .collect()
        })
        .collect();
    (columns, per_column)
}

/// Check one column's posterior mean and sd against exact values.
fn check(name: &str, chains: &[Vec<f64>], mean: f64, sd: f64, what: &str) {
    let refs: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
    let s = diagnostics::summarize(&refs);
    assert!(
        s.rhat < 1.05,
        "{what}: `{name}` did not mix (R-hat {})",
        s.rhat
    );
    assert!(
        (s.mean - mean).abs() < Z * s.mcse_mean,
        "{what}: `{name}` mean {} vs exact {mean} (MCSE {})",
        s.mean,
        s.mcse_mean
    );
    assert!(
        (s.sd - sd).abs() < Z * s.mcse_sd,
        "{what}: `{name}` sd {} vs exact {sd} (MCSE {})",
        s.sd,
        s.mcse_sd
    );
}

const METHODS: [Method; 4] = [Method::Nuts, Method::Hmc, Method::Mala, Method::Mh];

#[test]
fn normal_with_known_variance() {
    let y = [2.1, -0.3, 1.7, 3.2, 0.4, 1.1, 2.6, -1.0, 0.9, 1.8];
    let source = "model M {
        data N: int<lower=0>
        data y: real[N]
        param mu ~ Normal(1, 3)
        y ~ Normal(mu, 2)
    }";
    let data = format!("{{\"N\": {}, \"y\": {:?}}}", y.len(), y);
    // Precision adds: 1/9 + N/4; the mean is the precision-weighted average.
    let precision = 1.0 / 9.0 + y.len() as f64 / 4.0;
    let mean = (1.0 / 9.0 + y.iter().sum::<f64>() / 4.0) / precision;
    for (k, method) in METHODS.into_iter().enumerate() {
        let (_, cols) = sample(source, &data, method, 11 + k as u64);
        check("mu", &cols[0], mean, precision.powf(-0.5), method.name());
    }
}

#[test]
fn beta_binomial() {
    // p ~ Beta(2, 3), k of n successes: p | k ~ Beta(2 + k, 3 + n − k). The parameter lives
    // on (0, 1), so this exercises the logit transform and its Jacobian.
    let source = "model M {
        data n: int<lower=0>
        data k: int<lower=0>
        param p: real<lower=0, upper=1> ~ Beta(2, 3)
        k ~ Binomial(n, p)
    }";
    let (a, b): (f64, f64) = (2.0 + 7.0, 3.0 + 20.0 - 7.0);
    let mean = a / (a + b);
    let sd = (a * b / ((a + b) * (a + b) * (a + b + 1.0))).sqrt();
    for (k, method) in METHODS.into_iter().enumerate() {
        let (_, cols) = sample(source, "{\"n\": 20, \"k\": 7}", method, 21 + k as u64);
        check("p", &cols[0], mean, sd, method.name());
    }
}

#[test]
fn gamma_poisson() {
    // λ ~ Gamma(shape 3, rate 2), y_i ~ Poisson(λ): λ | y ~ Gamma(3 + Σy, 2 + N).
    let y = [4, 2, 5, 3, 6, 1, 4];
    let source = "model M {
        data N: int<lower=0>
        data y: int<lower=0>[N]
        param lambda: real<lower=0> ~ Gamma(3, 2)
        y ~ Poisson(lambda)
    }";
    let data = format!("{{\"N\": {}, \"y\": {:?}}}", y.len(), y);
    let shape = 3.0 + y.iter().sum::<i32>() as f64;
    let rate = 2.0 + y.len() as f64;
    for (k, method) in METHODS.into_iter().enumerate() {
        let (_, cols) = sample(source, &data, method, 31 + k as u64);
        check(
            "lambda",
            &cols[0],
            shape / rate,
            shape.sqrt() / rate,
            method.name(),
        );
    }
}

#[test]
fn linear_regression_with_known_noise() {
    // y_n ~ Normal(a + b x_n, σ = 0.5), a, b ~ Normal(0, 10): the posterior is Gaussian with
    // precision Λ = XᵀX/σ² + I/100 and mean Λ⁻¹ Xᵀy/σ².
    let x = [-1.5, -0.8, -0.2, 0.3, 0.9, 1.4, 2.0, 2.6];
    let y = [-1.9, -0.7, 0.5, 1.1, 2.4, 3.0, 4.3, 5.2];
    let source = "model M {
        data N: int<lower=0>
        data x: real[N]
        data y: real[N]
        param a ~ Normal(0, 10)
        param b ~ Normal(0, 10)
        y[n] ~ Normal(a + b * x[n], 0.5) for n in 1..N
    }";
    let data = format!("{{\"N\": {}, \"x\": {:?}, \"y\": {:?}}}", x.len(), x, y);
    let s2 = 0.25;
    let (n, sx, sxx) = (
        x.len() as f64,
        x.iter().sum::<f64>(),
        x.iter().map(|v| v * v).sum::<f64>(),
    );
    let (sy, sxy) = (
        y.iter().sum::<f64>(),
        x.iter().zip(&y).map(|(a, b)| a * b).sum::<f64>(),
    );
    let (l11, l12, l22) = (n / s2 + 0.01, sx / s2, sxx / s2 + 0.01);
    let det = l11 * l22 - l12 * l12;
    let (c11, c12, c22) = (l22 / det, -l12 / det, l11 / det);
    let (r1, r2) = (sy / s2, sxy / s2);
    let (ma, mb) = (c11 * r1 + c12 * r2, c12 * r1 + c22 * r2);
    for (k, method) in METHODS.into_iter().enumerate() {
        let (_, cols) = sample(source, &data, method, 41 + k as u64);
        check("a", &cols[0], ma, c11.sqrt(), method.name());
        check("b", &cols[1], mb, c22.sqrt(), method.name());
    }
}

/// The same seed gives the same draws whatever the number of threads.
#[test]
fn chains_do_not_depend_on_threads() {
    let source = "model M {
        data y: real
        param mu ~ Normal(0, 1)
        param s: real<lower=0> ~ HalfNormal(1)
        y ~ Normal(mu, s)
    }";
    let c = compile_source("t.sde", source, &Options::default());
    let m = prepare::pick(&c, None).unwrap();
    let lm = prepare::lowered(&c, m).unwrap();
    let data = DataSet {
        path: None,
        values: data::from_json("{\"y\": 0.5}").unwrap(),
        ..Default::default()
    };
    let bound = bind::bind_partial(lm, m, &[], &data).unwrap();
    let post = Posterior::new(m, lm, &bound, &param_spans(m, &bound), &[]).unwrap();
    for method in METHODS {
        let run = |threads| {
            let config = Config {
                method,
                chains: 3,
                warmup: 200,
                draws: 100,
                seed: 5,
                threads,
                max_depth: 10,
                target_accept: 0.8,
                thin: 1,
                step: 0.0,
                friction: 0.0,
            };
            let r = chain::run(&post.density, &config, &AtomicBool::new(false)).unwrap();
            r.into_iter().map(|c| c.rows).collect::<Vec<_>>()
        };
        assert_eq!(run(1), run(3), "{}", method.name());
    }
}

/// `--optimize` finds the mode on the parameters' own scale (no Jacobian): for
/// Beta(9, 16) it is (a − 1)/(a + b − 2), for the Gamma–Poisson posterior (shape − 1)/rate.
#[test]
fn the_optimiser_finds_exact_modes() {
    let cases = [
        (
            "model M {
                data n: int<lower=0>
                data k: int<lower=0>
                param p: real<lower=0, upper=1> ~ Beta(2, 3)
                k ~ Binomial(n, p)
            }",
            "{\"n\": 20, \"k\": 7}",
            8.0 / 23.0,
        ),
        (
            "model M {
                data N: int<lower=0>
                data y: int<lower=0>[N]
                param lambda: real<lower=0> ~ Gamma(3, 2)
                y ~ Poisson(lambda)
            }",
            "{\"N\": 3, \"y\": [4, 2, 5]}",
            (3.0 + 11.0 - 1.0) / (2.0 + 3.0),
        ),
    ];
    for (source, data, want) in cases {
        let c = compile_source("mode.sde", source, &Options::default());
        let m = prepare::pick(&c, None).unwrap();
        let lm = prepare::lowered(&c, m).unwrap();
        let data = DataSet {
            path: None,
            values: data::from_json(data).unwrap(),
            ..Default::default()
        };
        let bound = bind::bind_partial(lm, m, &[], &data).unwrap();
        let post = Posterior::new(m, lm, &bound, &param_spans(m, &bound), &[]).unwrap();
        let mode = ito::infer::optimize::find_mode(&post.density, 1, 1000).unwrap();
        assert!(mode.converged, "{}", mode.reason);
        assert!(
            (mode.row[0] - want).abs() < 1e-6,
            "mode {} vs exact {want}",
            mode.row[0]
        );
    }
}
