//! Unadjusted Langevin samplers: discretisations of a diffusion whose invariant law is the
//! target, run without an accept/reject step. Each iteration costs one gradient. Their draws
//! are biased by the discretisation (the bias vanishes as the step h → 0); warm-up adapts
//! nothing and only discards iterations.
//!
//! * [`Ula`]: Euler–Maruyama on the overdamped Langevin diffusion dX = ∇log π(X) dt + √2 dW,
//!   x' = x + h ∇log π(x) + √(2h) ξ. The bias in the stationary law is O(h): on a Gaussian
//!   with variance σ² the chain's variance is σ² / (1 − h / (2σ²)).
//! * [`Baoab`]: kinetic (underdamped) Langevin dq = p dt, dp = ∇log π(q) dt − γ p dt +
//!   √(2γ) dW with unit mass, split as B A O A B (Leimkuhler & Matthews 2013, "Rational
//!   construction of stochastic numerical methods for molecular sampling", AMRX 2013(1)).
//!   Its configurational bias is O(h²), and for a Gaussian target its position marginal is
//!   exact at any stable step (h < 2σ).

use super::chain::{DrawStats, Sampler};
use super::target::LogDensity;
use rand::RngExt;
use rand::rngs::StdRng;
use rand_distr::StandardNormal;

/// The unadjusted Langevin algorithm.
pub struct Ula<E> {
    ev: E,
    u: Vec<f64>,
    lp: f64,
    grad: Vec<f64>,
    step: f64,
}

impl<E: LogDensity> Ula<E> {
    pub fn new(mut ev: E, init: Vec<f64>, step: f64) -> Ula<E> {
        let mut grad = vec![0.0; init.len()];
        let lp = ev.logp_grad(&init, &mut grad);
        Ula {
            ev,
            u: init,
            lp,
            grad,
            step,
        }
    }
}

impl<E: LogDensity> Sampler for Ula<E> {
    fn iterate(&mut self, _i: usize, rng: &mut StdRng) -> DrawStats {
        let h = self.step;
        let noise = (2.0 * h).sqrt();
        for (u, g) in self.u.iter_mut().zip(&self.grad) {
            *u += h * g + noise * rng.sample::<f64, _>(StandardNormal);
        }
        self.lp = self.ev.logp_grad(&self.u, &mut self.grad);
        DrawStats {
            lp: self.lp,
            accept_stat: 1.0,
            step_size: h,
            tree_depth: 0,
            n_leapfrog: 1,
            divergent: !finite(self.lp, &self.grad),
            energy: -self.lp,
            log_likelihood: 0.0,
        }
    }

    fn position(&self) -> &[f64] {
        &self.u
    }

    fn step_size(&self) -> f64 {
        self.step
    }

    fn inv_metric(&self) -> Option<Vec<f64>> {
        None
    }
}

/// Kinetic Langevin dynamics integrated by BAOAB (unit mass, unadjusted).
pub struct Baoab<E> {
    ev: E,
    q: Vec<f64>,
    p: Vec<f64>,
    lp: f64,
    grad: Vec<f64>,
    step: f64,
    /// e^{−γh}, and the noise scale √(1 − e^{−2γh}) of the O step.
    decay: f64,
    kick: f64,
}

impl<E: LogDensity> Baoab<E> {
    /// Start at `init` with a momentum drawn from its stationary law N(0, I).
    pub fn new(mut ev: E, init: Vec<f64>, step: f64, friction: f64, rng: &mut StdRng) -> Baoab<E> {
        let mut grad = vec![0.0; init.len()];
        let lp = ev.logp_grad(&init, &mut grad);
        let p = (0..init.len())
            .map(|_| rng.sample::<f64, _>(StandardNormal))
            .collect();
        let decay = (-friction * step).exp();
        Baoab {
            ev,
            q: init,
            p,
            lp,
            grad,
            step,
            decay,
            kick: (1.0 - decay * decay).max(0.0).sqrt(),
        }
    }
}

impl<E: LogDensity> Sampler for Baoab<E> {
    fn iterate(&mut self, _i: usize, rng: &mut StdRng) -> DrawStats {
        let h = self.step;
        // B, A, O, A
        for (((q, p), g), _) in self.q.iter_mut().zip(&mut self.p).zip(&self.grad).zip(0..) {
            *p += 0.5 * h * g;
            *q += 0.5 * h * *p;
            *p = self.decay * *p + self.kick * rng.sample::<f64, _>(StandardNormal);
            *q += 0.5 * h * *p;
        }
        self.lp = self.ev.logp_grad(&self.q, &mut self.grad);
        // B
        for (p, g) in self.p.iter_mut().zip(&self.grad) {
            *p += 0.5 * h * g;
        }
        let kinetic = 0.5 * self.p.iter().map(|p| p * p).sum::<f64>();
        DrawStats {
            lp: self.lp,
            accept_stat: 1.0,
            step_size: h,
            tree_depth: 0,
            n_leapfrog: 1,
            divergent: !finite(self.lp, &self.grad),
            energy: -self.lp + kinetic,
            log_likelihood: 0.0,
        }
    }

    fn position(&self) -> &[f64] {
        &self.q
    }

    fn step_size(&self) -> f64 {
        self.step
    }

    fn inv_metric(&self) -> Option<Vec<f64>> {
        None
    }
}

/// Whether the chain is still on a finite part of the density (an unadjusted scheme that
/// leaves it has blown up: the step is too large).
fn finite(lp: f64, grad: &[f64]) -> bool {
    lp.is_finite() && grad.iter().all(|g| g.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// A centred Gaussian with independent coordinates of these variances.
    struct Gauss(Vec<f64>);

    impl LogDensity for Gauss {
        fn dim(&self) -> usize {
            self.0.len()
        }
        fn logp_grad(&mut self, u: &[f64], grad: &mut [f64]) -> f64 {
            let mut lp = 0.0;
            for ((g, x), v) in grad.iter_mut().zip(u).zip(&self.0) {
                *g = -x / v;
                lp -= 0.5 * x * x / v;
            }
            lp
        }
        fn row(&mut self, u: &[f64], row: &mut Vec<f64>) {
            row.clear();
            row.extend_from_slice(u);
        }
    }

    /// Mean and variance of coordinate 0 over `n` iterations after `burn`.
    fn moments(s: &mut dyn Sampler, burn: usize, n: usize) -> (f64, f64) {
        let mut rng = StdRng::seed_from_u64(11);
        for i in 0..burn {
            s.iterate(i, &mut rng);
        }
        let (mut m, mut m2) = (0.0, 0.0);
        for i in 0..n {
            s.iterate(burn + i, &mut rng);
            let x = s.position()[0];
            m += x;
            m2 += x * x;
        }
        m /= n as f64;
        (m, m2 / n as f64 - m * m)
    }

    #[test]
    fn ula_has_the_variance_of_its_discretisation() {
        // σ² = 2, h = 0.4: the chain's variance is σ² / (1 − h/(2σ²)) = 2 / 0.9.
        let mut s = Ula::new(Gauss(vec![2.0]), vec![0.0], 0.4);
        let (m, v) = moments(&mut s, 1000, 400_000);
        let exact = 2.0 / 0.9;
        // The lag-1 autocorrelation is 1 − h/σ² = 0.8, so the ESS is n·0.2/1.8; the
        // variance estimate's standard error is about v·√(2/ESS).
        let ess: f64 = 400_000.0 * 0.2 / 1.8;
        assert!(
            (v - exact).abs() < 4.0 * exact * (2.0 / ess).sqrt(),
            "{v} vs {exact}"
        );
        assert!(m.abs() < 4.0 * (exact / ess).sqrt(), "{m}");
    }

    #[test]
    fn baoab_is_exact_in_position_for_a_gaussian() {
        // σ² = 1, h = 0.5, γ = 1: the position variance is exactly 1 (Leimkuhler &
        // Matthews), where Euler–Maruyama would be off by O(h).
        let mut rng = StdRng::seed_from_u64(3);
        let mut s = Baoab::new(Gauss(vec![1.0]), vec![3.0], 0.5, 1.0, &mut rng);
        let (_, v) = moments(&mut s, 1000, 400_000);
        // Autocorrelation time of the position at γ = 1 is a few steps; 20 is generous.
        let ess: f64 = 400_000.0 / 20.0;
        assert!((v - 1.0).abs() < 4.0 * (2.0 / ess).sqrt(), "{v}");
    }
}
