//! The linear-Gaussian state-space model the filter and PMMH tests check against: an OU
//! process dx = θ(μ − x)dt + σ dW, x₀ ~ Normal(0, 1), moved by Euler–Maruyama steps and
//! observed with Gaussian noise once per time unit. The Kalman filter is exact for that
//! discretisation, so there is no bias to allow for.
// Each test crate uses a part of this module.
#![allow(dead_code)]

use ito::rt::rng_from_seed;
use ito::sim::observations::ObsSeries;
use rand_distr::{Distribution, StandardNormal};

/// The discretised OU process: `steps` Euler–Maruyama steps of `dt` per observation.
#[derive(Clone, Copy, Debug)]
pub struct OuEm {
    pub theta: f64,
    pub mu: f64,
    pub sigma: f64,
    pub dt: f64,
    pub steps: usize,
}

impl OuEm {
    /// One interval between observations: x' = A x + B + N(0, Q).
    pub fn transition(&self) -> (f64, f64, f64) {
        let a = 1.0 - self.theta * self.dt;
        let b = self.theta * self.mu * self.dt;
        let n = self.steps as i32;
        // Σ_{k<n} r^k, written so that r = 1 is not a special case.
        let geometric = |r: f64| (0..n).map(|k| r.powi(k)).sum::<f64>();
        (
            a.powi(n),
            b * geometric(a),
            self.sigma * self.sigma * self.dt * geometric(a * a),
        )
    }

    /// Observations with noise sd `tau` at t = 1, …, `times` of a path simulated from the
    /// same discretisation, with the value at index `missing` left out.
    pub fn simulate(&self, seed: u64, times: usize, tau: f64, missing: usize) -> ObsSeries {
        let mut rng = rng_from_seed(seed);
        let (a, b, q) = self.transition();
        let mut x: f64 = StandardNormal.sample(&mut rng);
        let mut rows = Vec::new();
        for _ in 0..times {
            let z: f64 = StandardNormal.sample(&mut rng);
            x = a * x + b + q.sqrt() * z;
            let e: f64 = StandardNormal.sample(&mut rng);
            rows.push(x + tau * e);
        }
        rows[missing] = f64::NAN;
        ObsSeries {
            times: (1..=times).map(|k| k as f64).collect(),
            rows,
            width: 1,
            names: vec!["y".to_string()],
        }
    }

    /// The exact log-likelihood of `series` with observation noise sd `tau`, and the
    /// filtering means at each observation time.
    pub fn kalman(&self, series: &ObsSeries, tau: f64) -> (f64, Vec<f64>) {
        let (a, b, q) = self.transition();
        let (mut m, mut p) = (0.0, 1.0);
        let mut ll = 0.0;
        let mut means = Vec::with_capacity(series.rows.len());
        for &y in &series.rows {
            m = a * m + b;
            p = a * a * p + q;
            if !y.is_nan() {
                let s = p + tau * tau;
                ll += -0.5 * ((2.0 * std::f64::consts::PI * s).ln() + (y - m).powi(2) / s);
                let k = p / s;
                m += k * (y - m);
                p *= 1.0 - k;
            }
            means.push(m);
        }
        (ll, means)
    }
}
