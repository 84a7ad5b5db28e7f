//! Particle marginal Metropolis–Hastings (Andrieu, Doucet & Holenstein 2010): random-walk
//! Metropolis over a state-space model's sampled parameters, with the intractable
//! likelihood p(y | θ) replaced by the bootstrap particle filter's unbiased estimate.
//!
//! The target of the chain is log prior (with the Jacobian of the transforms, on the
//! unconstrained scale, from the same [`Evaluator`] as `ito infer`'s other samplers) plus
//! the filter's log-likelihood estimate at the constrained parameters. The current point's
//! estimate is kept, never re-estimated: the chain is then an exact MCMC on an extended
//! space whose marginal over θ is the posterior, whatever the number of particles (fewer
//! particles only make it stickier).
//!
//! Proposals are Gaussian on the unconstrained scale with covariance (2.38²/d)·Σ (Haario,
//! Saksman & Tamminen 2001; Roberts & Rosenthal 2001). Σ starts at 0.01·I and is estimated
//! from the draws of Stan's slow warm-up windows (full covariance, shrunk towards 10⁻³·I as
//! the `mh` sampler does); it is frozen after warm-up, so the kept draws come from a fixed
//! Markov kernel. Unlike `mh`, the scale is not tuned to an acceptance rate: with a noisy
//! likelihood the acceptance rate falls however small the steps, and chasing a target would
//! shrink them to nothing. Expect acceptance rates of 5–25 %.
//!
//! A proposal whose filter ends with every particle of weight zero (a likelihood estimate of
//! 0) is rejected and flagged in `divergent__`; any other failure of the model stops the run
//! with its message. Chains run in parallel and each chain's filter spreads its particles
//! over the same thread pool; the filter of iteration i of chain c draws from a stream
//! derived from (seed, c, i), so the draws do not depend on the number of threads.

use super::adapt::{Phase, Schedule};
use super::chain::{ChainResult, Config, DrawStats, chain_rng, initial_point};
use super::density::{Density, Evaluator};
use super::samplers::CovWindow;
use crate::filter::{Filter, FilterConfig, FilterError, Stepping};
use crate::sim::observations::ObsSeries;
use rand::RngExt;
use rand::rngs::StdRng;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The particle filter PMMH runs at every proposal.
#[derive(Clone, Copy, Debug)]
pub struct PmmhSettings {
    /// Particles per filter run (at least 1).
    pub particles: usize,
    /// Resample when the effective sample size falls below this fraction of the particles.
    pub ess_threshold: f64,
    pub stepping: Stepping,
}

/// Starting points tried (each with a finite prior) for a finite likelihood estimate.
pub const INIT_TRIES: usize = 20;

/// Streams of the starting points' filters: above any iteration's.
const INIT_STREAM: u64 = 1 << 63;

/// The proposal scale before the first covariance estimate, relative to 2.38/√d.
const INITIAL_SCALE: f64 = 0.1;

/// The filter seed of stream `stream` of chain `chain` (iteration i uses stream i): a
/// SplitMix64 mix of the three, so nearby seeds, chains and iterations are unrelated.
pub fn filter_seed(seed: u64, chain: usize, stream: u64) -> u64 {
    let mix = |mut z: u64| {
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let z = mix(seed ^ 0xD1B5_4A32_D192_ED03);
    let z = mix(z
        ^ (chain as u64)
            .wrapping_add(1)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15));
    mix(z ^ stream.wrapping_add(1).wrapping_mul(0xA076_1D64_78BD_642F))
}

/// Run every chain (in parallel on `config.threads` threads, which the filters share) and
/// keep their draws: the sampled parameters on their own scale, with `lp__` the log prior
/// (with Jacobian) plus the kept log-likelihood estimate, which is also in each draw's
/// `log_likelihood`. `cancel` stops the run (it is also set when a chain fails, to stop the
/// others).
pub fn run(
    density: &Density,
    filter: &Filter<'_>,
    series: &ObsSeries,
    settings: &PmmhSettings,
    config: &Config,
    cancel: &AtomicBool,
) -> Result<Vec<ChainResult>, String> {
    if settings.particles == 0 {
        return Err("the particle filter needs at least one particle".to_string());
    }
    if !(0.0..=1.0).contains(&settings.ess_threshold) {
        return Err(format!(
            "the resampling threshold must be between 0 and 1 (a fraction of the particles), not {}",
            settings.ess_threshold
        ));
    }
    if config.chains == 0 {
        return Err("at least one chain is needed".to_string());
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(config.threads.max(1))
        .build()
        .map_err(|e| format!("cannot start {} threads: {e}", config.threads))?;
    let results: Vec<Result<ChainResult, Failure>> = pool.install(|| {
        (0..config.chains)
            .into_par_iter()
            .map(|c| {
                let chain = Chain {
                    density,
                    filter,
                    series,
                    settings,
                    config,
                    chain: c,
                    cancel,
                };
                let r = chain.run();
                if r.is_err() {
                    cancel.store(true, Ordering::Relaxed);
                }
                r
            })
            .collect()
    });
    // The first chain's own failure, not the interruptions it caused in the others.
    let mut interrupted = false;
    let mut out = Vec::with_capacity(results.len());
    let mut failure = None;
    for r in results {
        match r {
            Ok(r) => out.push(r),
            Err(Failure::Cancelled) => interrupted = true,
            Err(Failure::Error(e)) => {
                failure.get_or_insert(e);
            }
        }
    }
    match failure {
        Some(e) => Err(e),
        None if interrupted => Err("interrupted".to_string()),
        None => Ok(out),
    }
}

enum Failure {
    Cancelled,
    Error(String),
}

impl From<String> for Failure {
    fn from(e: String) -> Failure {
        Failure::Error(e)
    }
}

struct Chain<'a, 'f> {
    density: &'a Density,
    filter: &'a Filter<'f>,
    series: &'a ObsSeries,
    settings: &'a PmmhSettings,
    config: &'a Config,
    chain: usize,
    cancel: &'a AtomicBool,
}

/// A point of the chain with its log prior and kept log-likelihood estimate.
struct Point {
    u: Vec<f64>,
    prior: f64,
    log_likelihood: f64,
}

impl Point {
    fn lp(&self) -> f64 {
        self.prior + self.log_likelihood
    }
}

impl Chain<'_, '_> {
    /// The filter's log-likelihood estimate at unconstrained `u` with stream `stream`:
    /// −∞ when every particle's weight vanished.
    fn log_likelihood(&self, u: &[f64], stream: u64, p: &mut Vec<f64>) -> Result<f64, Failure> {
        self.density.params_at(u, p);
        let cfg = FilterConfig {
            particles: self.settings.particles,
            seed: filter_seed(self.config.seed, self.chain, stream),
            ess_threshold: self.settings.ess_threshold,
            record: false,
            quantiles: Vec::new(),
        };
        match self
            .filter
            .run(p, self.series, &self.settings.stepping, &cfg, self.cancel)
        {
            Ok(run) => Ok(run.log_likelihood),
            Err(FilterError::Degenerate { .. }) => Ok(f64::NEG_INFINITY),
            Err(FilterError::Cancelled) => Err(Failure::Cancelled),
            Err(FilterError::Model(e)) => Err(Failure::Error(format!(
                "chain {}: the particle filter failed at {}: {e}",
                self.chain + 1,
                self.density.describe(u)
            ))),
        }
    }

    /// A starting point with a finite prior and likelihood estimate.
    fn start(&self, ev: &mut Evaluator<'_>, rng: &mut StdRng) -> Result<Point, Failure> {
        let mut p = Vec::new();
        let mut last = String::new();
        for attempt in 0..INIT_TRIES {
            let u = initial_point(ev, rng).map_err(|e| format!("chain {}: {e}", self.chain + 1))?;
            let prior = ev.logp(&u);
            let log_likelihood = self.log_likelihood(&u, INIT_STREAM + attempt as u64, &mut p)?;
            if log_likelihood.is_finite() {
                return Ok(Point {
                    u,
                    prior,
                    log_likelihood,
                });
            }
            last = self.density.describe(&u);
        }
        Err(Failure::Error(format!(
            "chain {}: no starting point with a non-zero likelihood estimate in {INIT_TRIES} tries (uniform draws on (−2, 2) on the unconstrained scale; the last at {last}): every particle had weight zero at some observation. Give the parameters priors that put mass where the data are possible, use more particles, or an observation model with heavier tails",
            self.chain + 1
        )))
    }

    fn run(&self) -> Result<ChainResult, Failure> {
        let config = self.config;
        let mut rng = chain_rng(config.seed, self.chain);
        let mut ev = self.density.evaluator();
        let start = Instant::now();
        let mut here = self.start(&mut ev, &mut rng)?;
        let n = here.u.len();
        let schedule = Schedule::new(config.warmup);
        let mut window = CovWindow::new(n);
        let mut chol = vec![0.0; n * n];
        for k in 0..n {
            chol[k * n + k] = 1.0;
        }
        let full_scale = 2.38 / (n as f64).sqrt();
        let mut scale = INITIAL_SCALE * full_scale;
        let mut p = Vec::new();
        let mut proposal = vec![0.0; n];
        let mut z = vec![0.0; n];
        let mut rows = Vec::with_capacity(config.draws / config.thin.max(1) + 1);
        let mut stats = Vec::with_capacity(rows.capacity());
        let mut warmup_time = Duration::ZERO;
        let mut warmup_divergences = 0;
        let total = config.warmup + config.draws;
        for i in 0..total {
            if i == config.warmup {
                warmup_time = start.elapsed();
            }
            if self.cancel.load(Ordering::Relaxed) {
                return Err(Failure::Cancelled);
            }
            for zk in z.iter_mut() {
                *zk = rng.sample(StandardNormal);
            }
            for (r, v) in proposal.iter_mut().enumerate() {
                let row = &chol[r * n..r * n + r + 1];
                *v = here.u[r] + scale * row.iter().zip(&z).map(|(l, z)| l * z).sum::<f64>();
            }
            let prior = ev.logp(&proposal);
            // Off the prior's support the filter need not run.
            let (log_likelihood, degenerate) = if prior.is_finite() {
                let ll = self.log_likelihood(&proposal, i as u64, &mut p)?;
                (ll, ll == f64::NEG_INFINITY)
            } else {
                (f64::NEG_INFINITY, false)
            };
            let log_ratio = prior + log_likelihood - here.lp();
            let accept = if log_ratio.is_nan() {
                0.0
            } else {
                log_ratio.exp().min(1.0)
            };
            if rng.random::<f64>() < accept {
                here.u.copy_from_slice(&proposal);
                here.prior = prior;
                here.log_likelihood = log_likelihood;
            }
            let step = scale;
            if let Phase::Slow { window_end } = schedule.phase(i) {
                window.add(&here.u);
                if window_end {
                    if let Some(l) = window.cholesky() {
                        chol = l;
                        scale = full_scale;
                    }
                    window = CovWindow::new(n);
                }
            }
            if i < config.warmup {
                warmup_divergences += usize::from(degenerate);
            } else if (i - config.warmup).is_multiple_of(config.thin.max(1)) {
                let mut row = Vec::new();
                ev.row(&here.u, &mut row);
                rows.push(row);
                stats.push(DrawStats {
                    lp: here.lp(),
                    accept_stat: accept,
                    step_size: step,
                    tree_depth: 0,
                    n_leapfrog: 0,
                    divergent: degenerate,
                    energy: -here.lp(),
                    log_likelihood: here.log_likelihood,
                });
            }
        }
        if config.warmup >= total {
            warmup_time = start.elapsed();
        }
        Ok(ChainResult {
            rows,
            stats,
            step_size: scale,
            inv_metric: None,
            warmup_time,
            sampling_time: start.elapsed() - warmup_time,
            warmup_divergences,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_seeds_differ_by_seed_chain_and_stream() {
        let base = filter_seed(1, 0, 0);
        assert_ne!(base, filter_seed(2, 0, 0));
        assert_ne!(base, filter_seed(1, 1, 0));
        assert_ne!(base, filter_seed(1, 0, 1));
        assert_ne!(filter_seed(1, 0, INIT_STREAM), filter_seed(1, 0, 0));
        assert_eq!(base, filter_seed(1, 0, 0));
    }
}
