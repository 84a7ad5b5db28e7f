//! The bootstrap particle filter.
//!
//! Particles start from the model's initial distribution and, between observation times,
//! move by the model's own dynamics; at each observation time they are weighted by the
//! observation density. The likelihood estimate is the product over times of the mean
//! incremental weight, which is unbiased (Del Moral 2004). Particles are resampled
//! systematically when the effective sample size falls below a fraction of their number
//! (adaptive resampling keeps the estimate unbiased).

use super::observe::Observation;
use super::propagate::{Propagator, StepError};
use super::resample::{ess, normalise, systematic};
use crate::rt::Rng;
use crate::sim::ensemble::path_rng;
use crate::sim::observations::ObsSeries;
use rand::RngExt as _;
use rayon::prelude::*;

/// Particles moved as one batch (an SDE scheme advances a batch per call into native code).
const CHUNK: usize = 64;

#[derive(Clone, Debug)]
pub struct FilterConfig {
    pub particles: usize,
    pub seed: u64,
    /// Resample when the effective sample size falls below this fraction of the particles
    /// (1: at every observation; 0: never).
    pub ess_threshold: f64,
    /// Record the filtering distribution at each observation time (mean, sd, quantiles of
    /// every state component and output).
    pub record: bool,
    /// The quantile levels recorded.
    pub quantiles: Vec<f64>,
}

/// What a filter run found.
#[derive(Clone, Debug, PartialEq)]
pub struct FilterRun {
    /// The estimate of log p(y_1:T).
    pub log_likelihood: f64,
    /// One entry per observation time.
    pub steps: Vec<StepReport>,
    /// Particles whose state stopped being finite (they were given weight zero).
    pub nonfinite: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StepReport {
    pub t: f64,
    /// The estimate of log p(y_k | y_1:k−1).
    pub log_likelihood: f64,
    /// Effective sample size after weighting by this observation.
    pub ess: f64,
    /// Whether the particles were resampled after this observation.
    pub resampled: bool,
    /// The filtering distribution p(x_k | y_1:k), when recorded.
    pub filtered: Option<Filtered>,
}

/// Weighted statistics of each variable (state components, then outputs).
#[derive(Clone, Debug, PartialEq)]
pub struct Filtered {
    pub mean: Vec<f64>,
    pub sd: Vec<f64>,
    /// `quantiles[v * levels + q]`.
    pub quantiles: Vec<f64>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum FilterError {
    /// The model reached a state it does not allow.
    Model(String),
    /// Every particle has zero weight at an observation: the likelihood estimate is 0.
    Degenerate {
        t: f64,
        /// 1-based index of the observation.
        index: usize,
    },
    Cancelled,
}

impl std::fmt::Display for FilterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FilterError::Model(m) => f.write_str(m),
            FilterError::Degenerate { t, index } => write!(
                f,
                "every particle has zero weight at observation {index} (t = {t}): the observation is impossible (or not a number) for every simulated state; more particles, other parameter values, or an observation model with heavier tails may help"
            ),
            FilterError::Cancelled => f.write_str("the filter was interrupted"),
        }
    }
}

impl From<StepError> for FilterError {
    fn from(e: StepError) -> FilterError {
        match e {
            StepError::Model(m) => FilterError::Model(m),
            StepError::Cancelled => FilterError::Cancelled,
        }
    }
}

/// The stream of particle `i` over observation interval `k`.
pub fn particle_rng(seed: u64, k: usize, i: usize) -> Rng {
    path_rng(interval_seed(seed, k), i as u64)
}

/// The stream of the resampling after observation `k`.
fn resampling_rng(seed: u64, k: usize) -> Rng {
    path_rng(interval_seed(seed, k), u64::MAX)
}

fn interval_seed(seed: u64, k: usize) -> u64 {
    path_rng(seed, (k as u64).wrapping_add(1) << 32).random()
}

/// Run the bootstrap filter of `prop` observed through `obs` on `series`, in parallel on
/// rayon's current pool.
pub fn run<P: Propagator>(
    prop: &P,
    obs: &Observation,
    series: &ObsSeries,
    cfg: &FilterConfig,
) -> Result<FilterRun, FilterError> {
    let n = cfg.particles.max(1);
    let width = prop.width();
    let nx = prop.nx();
    let nout = prop.n_outputs();
    let nvars = nx + nout;
    let chunks = n.div_ceil(CHUNK);
    let mut workers: Vec<P::Worker> = (0..chunks).map(|_| prop.worker()).collect();
    let mut particles = vec![0.0; n * width];
    let mut spare = vec![0.0; n * width];
    let mut logw = vec![0.0; n];
    let mut increment = vec![0.0; n];
    let mut w = vec![0.0; n];
    let mut ancestors = vec![0usize; n];
    let mut outputs = vec![0.0; if cfg.record { n * nout } else { 0 }];
    let mut log_likelihood = 0.0;
    // log Σ exp(logw), kept rather than recomputed: after weighting it is what `normalise`
    // returns, after resampling (all weights 1) it is log n.
    let mut log_total = (n as f64).ln();
    let mut nonfinite = 0usize;
    let mut steps = Vec::with_capacity(series.len());
    let mut t_prev = 0.0;
    for (k, &t) in series.times.iter().enumerate() {
        let row = series.row(k);
        let observed = row.iter().any(|v| !v.is_nan());
        // Move every chunk on and weight it by the observation.
        let dead: usize = particles
            .par_chunks_mut(CHUNK * width.max(1))
            .zip(increment.par_chunks_mut(CHUNK))
            .zip(workers.par_iter_mut())
            .enumerate()
            .map(|(c, ((chunk, inc), worker))| -> Result<usize, StepError> {
                let first = c * CHUNK;
                let mut rngs: Vec<Rng> = (first..first + inc.len())
                    .map(|i| particle_rng(cfg.seed, k, i))
                    .collect();
                if k == 0 {
                    prop.init(worker, first, chunk, &mut rngs)?;
                }
                prop.advance(worker, first, t_prev, t, k == 0, chunk, &mut rngs)?;
                let mut dead = 0;
                for (particle, lw) in chunk.chunks(width.max(1)).zip(inc.iter_mut()) {
                    let x = &particle[..nx];
                    *lw = if !x.iter().all(|v| v.is_finite()) {
                        dead += 1;
                        f64::NEG_INFINITY
                    } else if observed {
                        obs.log_density(t, x, prop.params(particle), row)
                    } else {
                        0.0
                    };
                }
                Ok(dead)
            })
            .collect::<Result<Vec<usize>, StepError>>()?
            .into_iter()
            .sum();
        nonfinite += dead;
        t_prev = t;
        let before = log_total;
        for (l, i) in logw.iter_mut().zip(&increment) {
            *l += i;
        }
        let after = normalise(&logw, &mut w);
        log_total = after;
        let step_ll = after - before;
        if step_ll.is_nan() || step_ll == f64::NEG_INFINITY {
            return Err(FilterError::Degenerate { t, index: k + 1 });
        }
        log_likelihood += step_ll;
        let step_ess = ess(&w);
        let filtered = if cfg.record {
            if nout > 0 {
                particles
                    .par_chunks(CHUNK * width.max(1))
                    .zip(outputs.par_chunks_mut(CHUNK * nout))
                    .zip(workers.par_iter_mut())
                    .for_each(|((chunk, out), worker)| prop.outputs(worker, t, chunk, out));
            }
            Some(weighted_stats(
                &particles,
                width,
                nx,
                &outputs,
                nout,
                &w,
                &cfg.quantiles,
                nvars,
            ))
        } else {
            None
        };
        let resampled = step_ess < cfg.ess_threshold * n as f64;
        if resampled {
            let u: f64 = resampling_rng(cfg.seed, k).random();
            systematic(&w, u, &mut ancestors);
            for (dst, &a) in spare.chunks_mut(width.max(1)).zip(&ancestors) {
                dst.copy_from_slice(&particles[a * width..(a + 1) * width]);
            }
            std::mem::swap(&mut particles, &mut spare);
            logw.fill(0.0);
            log_total = (n as f64).ln();
        }
        steps.push(StepReport {
            t,
            log_likelihood: step_ll,
            ess: step_ess,
            resampled,
            filtered,
        });
    }
    Ok(FilterRun {
        log_likelihood,
        steps,
        nonfinite,
    })
}

/// Weighted mean, sd and quantiles of every state component and output.
#[allow(clippy::too_many_arguments)]
fn weighted_stats(
    particles: &[f64],
    width: usize,
    nx: usize,
    outputs: &[f64],
    nout: usize,
    w: &[f64],
    levels: &[f64],
    nvars: usize,
) -> Filtered {
    let value = |i: usize, v: usize| {
        if v < nx {
            particles[i * width + v]
        } else {
            outputs[i * nout + (v - nx)]
        }
    };
    let n = w.len();
    let mut mean = vec![0.0; nvars];
    let mut sd = vec![0.0; nvars];
    let mut quantiles = vec![f64::NAN; nvars * levels.len()];
    let mut by_level: Vec<(usize, f64)> = levels.iter().copied().enumerate().collect();
    by_level.sort_by(|a, b| a.1.total_cmp(&b.1));
    // (value, weight) of the particles with weight (those of weight zero, possibly not
    // finite, take no part), sorted by value.
    let mut pairs: Vec<(f64, f64)> = Vec::with_capacity(n);
    for v in 0..nvars {
        pairs.clear();
        pairs.extend((0..n).filter(|&i| w[i] > 0.0).map(|i| (value(i, v), w[i])));
        let m: f64 = pairs.iter().map(|&(x, wi)| wi * x).sum();
        let var: f64 = pairs.iter().map(|&(x, wi)| wi * (x - m).powi(2)).sum();
        mean[v] = m;
        sd[v] = var.max(0.0).sqrt();
        pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        // The q-quantile: the smallest value whose cumulative weight reaches q.
        let mut cumulative = 0.0;
        let mut at = 0;
        for &(q, level) in &by_level {
            while at < pairs.len() && cumulative + pairs[at].1 < level {
                cumulative += pairs[at].1;
                at += 1;
            }
            if let Some(&(x, _)) = pairs.get(at.min(pairs.len().saturating_sub(1))) {
                quantiles[v * levels.len() + q] = x;
            }
        }
    }
    Filtered {
        mean,
        sd,
        quantiles,
    }
}
