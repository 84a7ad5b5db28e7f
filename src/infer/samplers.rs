//! The hand-written samplers: static HMC, MALA and adaptive random-walk Metropolis. Each
//! adapts during warm-up (step size by dual averaging, a diagonal metric — or for the random
//! walk a full proposal covariance — from Stan's windows) and is a fixed Markov kernel after
//! it, so the draws it keeps target the posterior exactly.

use super::adapt::{DualAveraging, Phase, Schedule, Welford};
use super::chain::{DrawStats, Sampler};
use super::target::LogDensity;
use rand::RngExt;
use rand::rngs::StdRng;
use rand_distr::StandardNormal;

/// A position with its log density and gradient.
#[derive(Clone, Debug)]
struct Point {
    u: Vec<f64>,
    lp: f64,
    grad: Vec<f64>,
}

impl Point {
    fn at(ev: &mut impl LogDensity, u: Vec<f64>) -> Point {
        let mut grad = vec![0.0; u.len()];
        let lp = ev.logp_grad(&u, &mut grad);
        Point { u, lp, grad }
    }

    fn valid(&self) -> bool {
        self.lp.is_finite() && self.grad.iter().all(|g| g.is_finite())
    }
}

/// Divergence threshold on the energy error, as Stan.
const MAX_ENERGY_ERROR: f64 = 1000.0;

/// Step size and diagonal metric adaptation shared by HMC and MALA.
struct Tuning {
    schedule: Schedule,
    da: DualAveraging,
    window: Welford,
    step: f64,
    inv_metric: Vec<f64>,
}

impl Tuning {
    fn new(dim: usize, warmup: usize, step: f64, target: f64) -> Tuning {
        Tuning {
            schedule: Schedule::new(warmup),
            da: DualAveraging::new(step, target),
            window: Welford::new(dim),
            step,
            inv_metric: vec![1.0; dim],
        }
    }

    /// After iteration `i` ended at `u` with acceptance statistic `accept`.
    fn learn(&mut self, i: usize, u: &[f64], accept: f64) {
        match self.schedule.phase(i) {
            Phase::Sampling => return,
            Phase::Fast => {}
            Phase::Slow { window_end } => {
                self.window.add(u);
                if window_end {
                    self.inv_metric = self.window.regularized_variance();
                    self.window = Welford::new(u.len());
                    self.da.restart(self.step);
                    return;
                }
            }
        }
        self.step = self.da.update(accept);
        if self.schedule.phase(i + 1) == Phase::Sampling {
            self.step = self.da.final_step();
        }
    }
}

/// Static HMC: leapfrog trajectories of a fixed integration time (π/2 in the metric's units,
/// a quarter period of a standard normal) with the number of steps jittered uniformly in
/// [½, 1½]× its mean so that no trajectory length resonates with the target.
pub struct Hmc<E> {
    ev: E,
    here: Point,
    tuning: Tuning,
    int_time: f64,
    max_steps: usize,
}

impl<E: LogDensity> Hmc<E> {
    pub fn new(mut ev: E, init: Vec<f64>, warmup: usize) -> Hmc<E> {
        let here = Point::at(&mut ev, init);
        let dim = here.u.len();
        Hmc {
            ev,
            here,
            tuning: Tuning::new(dim, warmup, 0.1, 0.8),
            int_time: std::f64::consts::FRAC_PI_2,
            max_steps: 1024,
        }
    }

    fn kinetic(&self, p: &[f64]) -> f64 {
        0.5 * p
            .iter()
            .zip(&self.tuning.inv_metric)
            .map(|(p, m)| m * p * p)
            .sum::<f64>()
    }
}

impl<E: LogDensity> Sampler for Hmc<E> {
    fn iterate(&mut self, i: usize, rng: &mut StdRng) -> DrawStats {
        let eps = self.tuning.step;
        let m = &self.tuning.inv_metric;
        let mut p: Vec<f64> = m
            .iter()
            .map(|mi| rng.sample::<f64, _>(StandardNormal) / mi.sqrt())
            .collect();
        let h0 = -self.here.lp + self.kinetic(&p);
        let mean_steps = (self.int_time / eps).clamp(1.0, self.max_steps as f64);
        let steps = ((mean_steps * rng.random_range(0.5..1.5)).round() as usize).max(1);
        let mut q = self.here.clone();
        let mut divergent = false;
        for _ in 0..steps {
            for ((pi, g), _) in p.iter_mut().zip(&q.grad).zip(m) {
                *pi += 0.5 * eps * g;
            }
            for ((ui, pi), mi) in q.u.iter_mut().zip(&p).zip(m) {
                *ui += eps * mi * pi;
            }
            q.lp = self.ev.logp_grad(&q.u, &mut q.grad);
            if !q.valid() {
                divergent = true;
                break;
            }
            for (pi, g) in p.iter_mut().zip(&q.grad) {
                *pi += 0.5 * eps * g;
            }
        }
        let h1 = -q.lp + self.kinetic(&p);
        if !divergent && h1 - h0 > MAX_ENERGY_ERROR {
            divergent = true;
        }
        let accept = if divergent || !h1.is_finite() {
            0.0
        } else {
            (h0 - h1).exp().min(1.0)
        };
        let energy = if rng.random::<f64>() < accept {
            self.here = q;
            h1
        } else {
            h0
        };
        self.tuning.learn(i, &self.here.u, accept);
        DrawStats {
            lp: self.here.lp,
            accept_stat: accept,
            step_size: eps,
            tree_depth: 0,
            n_leapfrog: steps as u64,
            divergent,
            energy,
            log_likelihood: 0.0,
        }
    }

    fn position(&self) -> &[f64] {
        &self.here.u
    }

    fn step_size(&self) -> f64 {
        self.tuning.step
    }

    fn inv_metric(&self) -> Option<Vec<f64>> {
        Some(self.tuning.inv_metric.clone())
    }
}

/// The Metropolis-adjusted Langevin algorithm with a diagonal preconditioner:
/// u' = u + ½ε²M⁻¹∇log π(u) + ε M^{-½} ξ, accepted with the Metropolis–Hastings ratio of
/// the two Gaussian proposals. Step size tuned towards acceptance 0.574 (Roberts &
/// Rosenthal 1998).
pub struct Mala<E> {
    ev: E,
    here: Point,
    tuning: Tuning,
}

impl<E: LogDensity> Mala<E> {
    pub fn new(mut ev: E, init: Vec<f64>, warmup: usize) -> Mala<E> {
        let here = Point::at(&mut ev, init);
        let dim = here.u.len();
        Mala {
            ev,
            here,
            tuning: Tuning::new(dim, warmup, 0.1, 0.574),
        }
    }

    /// log q(to | from), up to a constant shared by both directions.
    fn log_q(&self, to: &[f64], from: &Point, eps: f64) -> f64 {
        let m = &self.tuning.inv_metric;
        let mut s = 0.0;
        for (((t, f), g), mi) in to.iter().zip(&from.u).zip(&from.grad).zip(m) {
            let d = t - f - 0.5 * eps * eps * mi * g;
            s += d * d / mi;
        }
        -s / (2.0 * eps * eps)
    }
}

impl<E: LogDensity> Sampler for Mala<E> {
    fn iterate(&mut self, i: usize, rng: &mut StdRng) -> DrawStats {
        let eps = self.tuning.step;
        let m = &self.tuning.inv_metric;
        let u: Vec<f64> = self
            .here
            .u
            .iter()
            .zip(&self.here.grad)
            .zip(m)
            .map(|((u, g), mi)| {
                u + 0.5 * eps * eps * mi * g
                    + eps * mi.sqrt() * rng.sample::<f64, _>(StandardNormal)
            })
            .collect();
        let q = Point::at(&mut self.ev, u);
        let log_ratio = if q.valid() {
            q.lp - self.here.lp + self.log_q(&self.here.u, &q, eps)
                - self.log_q(&q.u, &self.here, eps)
        } else {
            f64::NEG_INFINITY
        };
        // A proposal off the support or a blow-up of the density counts as a divergence.
        let divergent = !q.valid() && q.lp != f64::NEG_INFINITY || -log_ratio > MAX_ENERGY_ERROR;
        let accept = if log_ratio.is_nan() {
            0.0
        } else {
            log_ratio.exp().min(1.0)
        };
        if rng.random::<f64>() < accept {
            self.here = q;
        }
        self.tuning.learn(i, &self.here.u, accept);
        DrawStats {
            lp: self.here.lp,
            accept_stat: accept,
            step_size: eps,
            tree_depth: 0,
            n_leapfrog: 1,
            divergent,
            energy: -self.here.lp,
            log_likelihood: 0.0,
        }
    }

    fn position(&self) -> &[f64] {
        &self.here.u
    }

    fn step_size(&self) -> f64 {
        self.tuning.step
    }

    fn inv_metric(&self) -> Option<Vec<f64>> {
        Some(self.tuning.inv_metric.clone())
    }
}

/// Adaptive random-walk Metropolis (Haario et al. 2001; Roberts & Rosenthal 2009): Gaussian
/// proposals with covariance s²Σ, Σ estimated from the slow warm-up windows (full, through
/// its Cholesky factor) and log s tuned towards acceptance 0.234 by dual averaging. Both are
/// frozen after warm-up.
pub struct RandomWalk<E> {
    ev: E,
    u: Vec<f64>,
    lp: f64,
    schedule: Schedule,
    da: DualAveraging,
    scale: f64,
    /// Lower-triangular Cholesky factor of Σ, row-major.
    chol: Vec<f64>,
    window: CovWindow,
}

impl<E: LogDensity> RandomWalk<E> {
    pub fn new(mut ev: E, init: Vec<f64>, warmup: usize) -> RandomWalk<E> {
        let dim = init.len();
        let lp = ev.logp(&init);
        let scale = 2.38 / (dim as f64).sqrt() * 0.1;
        let mut chol = vec![0.0; dim * dim];
        for k in 0..dim {
            chol[k * dim + k] = 1.0;
        }
        RandomWalk {
            ev,
            u: init,
            lp,
            schedule: Schedule::new(warmup),
            da: DualAveraging::new(scale, 0.234),
            scale,
            chol,
            window: CovWindow::new(dim),
        }
    }
}

impl<E: LogDensity> Sampler for RandomWalk<E> {
    fn iterate(&mut self, i: usize, rng: &mut StdRng) -> DrawStats {
        let n = self.u.len();
        let z: Vec<f64> = (0..n).map(|_| rng.sample(StandardNormal)).collect();
        let mut v = self.u.clone();
        for (r, vr) in v.iter_mut().enumerate() {
            let row = &self.chol[r * n..r * n + r + 1];
            *vr += self.scale * row.iter().zip(&z).map(|(l, z)| l * z).sum::<f64>();
        }
        let lp = self.ev.logp(&v);
        let accept = if lp.is_nan() {
            0.0
        } else {
            (lp - self.lp).exp().min(1.0)
        };
        if rng.random::<f64>() < accept {
            self.u = v;
            self.lp = lp;
        }
        let step = self.scale;
        match self.schedule.phase(i) {
            Phase::Sampling => {}
            phase => {
                if let Phase::Slow { window_end } = phase {
                    self.window.add(&self.u);
                    if window_end {
                        if let Some(chol) = self.window.cholesky() {
                            self.chol = chol;
                            self.scale = 2.38 / (n as f64).sqrt();
                            self.da.restart(self.scale);
                        }
                        self.window = CovWindow::new(n);
                    }
                }
                if !matches!(phase, Phase::Slow { window_end: true }) {
                    self.scale = self.da.update(accept);
                    if self.schedule.phase(i + 1) == Phase::Sampling {
                        self.scale = self.da.final_step();
                    }
                }
            }
        }
        DrawStats {
            lp: self.lp,
            accept_stat: accept,
            step_size: step,
            tree_depth: 0,
            n_leapfrog: 0,
            divergent: false,
            energy: -self.lp,
            log_likelihood: 0.0,
        }
    }

    fn position(&self) -> &[f64] {
        &self.u
    }

    fn step_size(&self) -> f64 {
        self.scale
    }

    fn inv_metric(&self) -> Option<Vec<f64>> {
        None
    }
}

/// Running mean and full covariance of a window of draws.
pub(crate) struct CovWindow {
    n: f64,
    mean: Vec<f64>,
    /// Sum of outer products of deviations, row-major.
    m2: Vec<f64>,
}

impl CovWindow {
    pub(crate) fn new(dim: usize) -> CovWindow {
        CovWindow {
            n: 0.0,
            mean: vec![0.0; dim],
            m2: vec![0.0; dim * dim],
        }
    }

    pub(crate) fn add(&mut self, x: &[f64]) {
        let d = x.len();
        self.n += 1.0;
        let before: Vec<f64> = x.iter().zip(&self.mean).map(|(x, m)| x - m).collect();
        for (m, b) in self.mean.iter_mut().zip(&before) {
            *m += b / self.n;
        }
        for (r, row) in self.m2.chunks_mut(d).enumerate() {
            let after_r = x[r] - self.mean[r];
            for (m, b) in row.iter_mut().zip(&before) {
                *m += b * after_r;
            }
        }
    }

    /// Cholesky factor of the covariance, shrunk towards 1e-3·I like Stan's metric
    /// (None when too few draws or not positive definite).
    pub(crate) fn cholesky(&self) -> Option<Vec<f64>> {
        let d = self.mean.len();
        let n = self.n;
        if n < 3.0 {
            return None;
        }
        let mut a = vec![0.0; d * d];
        for r in 0..d {
            for c in 0..d {
                let cov = self.m2[r * d + c] / (n - 1.0);
                a[r * d + c] =
                    (n / (n + 5.0)) * cov + if r == c { 1e-3 * 5.0 / (n + 5.0) } else { 0.0 };
            }
        }
        for j in 0..d {
            let mut s = a[j * d + j];
            for k in 0..j {
                s -= a[j * d + k] * a[j * d + k];
            }
            if s <= 0.0 || !s.is_finite() {
                return None;
            }
            let l = s.sqrt();
            a[j * d + j] = l;
            for i in j + 1..d {
                let mut t = a[i * d + j];
                for k in 0..j {
                    t -= a[i * d + k] * a[j * d + k];
                }
                a[i * d + j] = t / l;
            }
        }
        for r in 0..d {
            for c in r + 1..d {
                a[r * d + c] = 0.0;
            }
        }
        Some(a)
    }
}
