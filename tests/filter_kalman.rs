//! The bootstrap particle filter on a linear-Gaussian state-space model, against the exact
//! Kalman filter: an OU process observed with Gaussian noise, moved by Euler–Maruyama steps
//! (the Kalman filter below is exact for that discretisation, so there is no bias to allow
//! for). Tolerances are a number of Monte Carlo standard errors from replicate runs, with
//! fixed seeds.

use ito::filter::{Engine, FilterConfig, FilterModel, Stepping};
use ito::frontend::{Options, compile_source};
use ito::sim::bind;
use ito::sim::data::DataSet;
use ito::sim::observations::ObsSeries;
use ito::sim::prepare;
use ito::sim::schemes::{Method, Tolerances};
use std::sync::atomic::AtomicBool;

#[path = "common/ou_kalman.rs"]
mod ou_kalman;
use ou_kalman::OuEm;

const SRC: &str = "
model OUObserved {
  param theta = 0.5
  param mu = 1.0
  param sigma = 0.8
  param tau = 0.4
  obs y: real
  state x ~ Normal(0, 1)
  dx = theta * (mu - x) dt + sigma dW
  y ~ Normal(x, tau)
}
";

const THETA: f64 = 0.5;
const MU: f64 = 1.0;
const SIGMA: f64 = 0.8;
const TAU: f64 = 0.4;
/// Euler–Maruyama step; observations every 1 time unit, so 10 steps between them.
const DT: f64 = 0.1;
const STEPS: usize = 10;
const T: usize = 50;

/// The model of `SRC` as the Kalman filter sees it.
const OU: OuEm = OuEm {
    theta: THETA,
    mu: MU,
    sigma: SIGMA,
    dt: DT,
    steps: STEPS,
};

/// Observations at t = 1, 2, …, T (one value missing, to check that a gap is handled as
/// no observation).
fn data() -> ObsSeries {
    OU.simulate(7, T, TAU, 20)
}

/// The exact log-likelihood and filtering means.
fn kalman(series: &ObsSeries) -> (f64, Vec<f64>) {
    OU.kalman(series, TAU)
}

fn compile() -> FilterModel {
    let c = compile_source("ou_observed.sde", SRC, &Options::default());
    assert!(!c.has_errors(), "{:?}", c.diagnostics);
    let m = prepare::pick(&c, None).unwrap();
    let lm = prepare::lowered(&c, m).unwrap();
    let bound = bind::bind(lm, m, &[], &DataSet::default()).unwrap();
    FilterModel::new(m, lm, bound, Engine::Continuous(Some(Method::Em)), 1).unwrap()
}

const STEPPING: Stepping = Stepping {
    dt: DT,
    tolerances: Tolerances {
        rtol: 1e-6,
        atol: 1e-9,
    },
    max_events: u64::MAX,
};

fn config(particles: usize, seed: u64, record: bool) -> FilterConfig {
    FilterConfig {
        particles,
        seed,
        ess_threshold: 0.5,
        record,
        quantiles: vec![0.05, 0.5, 0.95],
    }
}

/// log-likelihood estimates of `runs` independent filters with `particles` particles.
fn estimates(fm: &FilterModel, series: &ObsSeries, particles: usize, runs: u64) -> Vec<f64> {
    let cancel = AtomicBool::new(false);
    (0..runs)
        .map(|r| {
            let cfg = config(particles, 1000 + r, false);
            fm.view()
                .run(fm.params(), series, &STEPPING, &cfg, &cancel)
                .unwrap()
                .log_likelihood
        })
        .collect()
}

fn mean_var(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    (
        m,
        v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0),
    )
}

/// The likelihood estimate is unbiased: E[Ẑ / Z] = 1.
#[test]
fn likelihood_estimate_is_unbiased() {
    let fm = compile();
    let series = data();
    let (exact, _) = kalman(&series);
    let lls = estimates(&fm, &series, 2000, 60);
    let ratios: Vec<f64> = lls.iter().map(|l| (l - exact).exp()).collect();
    let (m, v) = mean_var(&ratios);
    let se = (v / ratios.len() as f64).sqrt();
    let (ml, vl) = mean_var(&lls);
    eprintln!(
        "exact {exact}, mean log Ẑ {ml} (sd {}), E[Ẑ/Z] = {m} ± {se}",
        vl.sqrt()
    );
    assert!((m - 1.0).abs() < 4.5 * se, "E[Ẑ/Z] = {m} ± {se}");
    // Its spread: at 2,000 particles, about 0.8 on this series.
    assert!(vl.sqrt() < 1.2, "sd of log Ẑ {}", vl.sqrt());
}

/// The variance of log Ẑ shrinks like 1/P: 16 times the particles, a sixteenth of the
/// variance, within the 99.9 % range of the ratio of two sample variances of 60 runs.
#[test]
fn variance_shrinks_like_one_over_particles() {
    let fm = compile();
    let series = data();
    let (_, v_small) = mean_var(&estimates(&fm, &series, 100, 60));
    let (_, v_large) = mean_var(&estimates(&fm, &series, 1600, 60));
    let ratio = v_small / v_large / 16.0;
    eprintln!("var at 100: {v_small}, at 1600: {v_large}, ratio / 16 = {ratio}");
    // log of a ratio of sample variances of 60 normals: sd √(2/59 + 2/59).
    let half_width = 3.29 * (4.0f64 / 59.0).sqrt();
    assert!(ratio.ln().abs() < half_width, "ratio / 16 = {ratio}");
}

/// Filtering means agree with the Kalman filter's at every observation time. (A weighted
/// mean is a ratio estimator, biased by O(1/P): enough particles keep that far below the
/// replicates' standard error.)
#[test]
fn filtering_means_match_kalman() {
    let fm = compile();
    let series = data();
    let (_, exact) = kalman(&series);
    let cancel = AtomicBool::new(false);
    let runs: Vec<Vec<f64>> = (0..12)
        .map(|r| {
            let out = fm
                .view()
                .run(
                    fm.params(),
                    &series,
                    &STEPPING,
                    &config(5000, 50 + r, true),
                    &cancel,
                )
                .unwrap();
            out.steps
                .iter()
                .map(|s| s.filtered.as_ref().unwrap().mean[0])
                .collect()
        })
        .collect();
    for (k, &want) in exact.iter().enumerate() {
        let at: Vec<f64> = runs.iter().map(|r| r[k]).collect();
        let (m, v) = mean_var(&at);
        let se = (v / at.len() as f64).sqrt();
        assert!(
            (m - want).abs() < 4.5 * se + 1e-9,
            "t = {}: {m} ± {se} vs Kalman {want}",
            k + 1
        );
    }
}

/// Results do not depend on the number of threads.
#[test]
fn same_result_for_any_thread_count() {
    let fm = compile();
    let series = data();
    let cancel = AtomicBool::new(false);
    let (filter, p) = (fm.view(), fm.params());
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            filter
                .run(p, &series, &STEPPING, &config(777, 3, true), &cancel)
                .unwrap()
        })
    };
    assert_eq!(run(1), run(2));
}
