//! Running chains: the sampler interface, initialisation, and the parallel driver. Chain c
//! draws from a stream derived from (seed, c) alone, so the draws do not depend on how
//! many threads run the chains.

use super::density::{Density, Evaluator};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rayon::prelude::*;
use std::time::{Duration, Instant};

/// Stan's per-draw sampler columns.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DrawStats {
    pub lp: f64,
    pub accept_stat: f64,
    pub step_size: f64,
    pub tree_depth: u64,
    pub n_leapfrog: u64,
    pub divergent: bool,
    pub energy: f64,
}

/// A Markov chain on the unconstrained scale; warm-up iterations (the first `warmup`)
/// adapt it.
pub trait Sampler {
    /// Iteration `i` (counting warm-up from 0).
    fn iterate(&mut self, i: usize, rng: &mut StdRng) -> DrawStats;
    fn position(&self) -> &[f64];
    /// The step size after warm-up.
    fn step_size(&self) -> f64;
    /// The diagonal inverse metric after warm-up, when the sampler has one.
    fn inv_metric(&self) -> Option<Vec<f64>>;
}

/// The sampling algorithms `ito infer` offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Nuts,
    Hmc,
    Mala,
    Mh,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Nuts => "nuts",
            Method::Hmc => "hmc",
            Method::Mala => "mala",
            Method::Mh => "mh",
        }
    }
}

/// Everything about a run but the model.
#[derive(Clone, Debug)]
pub struct Config {
    pub method: Method,
    pub chains: usize,
    pub warmup: usize,
    pub draws: usize,
    pub seed: u64,
    pub threads: usize,
    /// NUTS: maximum tree depth and target acceptance.
    pub max_depth: u64,
    pub target_accept: f64,
    /// Keep every `thin`-th draw.
    pub thin: usize,
}

/// What one chain produced.
#[derive(Clone, Debug)]
pub struct ChainResult {
    /// One row per kept draw: the parameters on their own scale, then outputs.
    pub rows: Vec<Vec<f64>>,
    pub stats: Vec<DrawStats>,
    pub step_size: f64,
    pub inv_metric: Option<Vec<f64>>,
    pub warmup_time: Duration,
    pub sampling_time: Duration,
    /// Warm-up iterations that diverged (sampling ones are in `stats`).
    pub warmup_divergences: usize,
}

/// The stream of chain `chain`: a SplitMix64 step of (seed, chain) so nearby seeds give
/// unrelated streams.
pub fn chain_rng(seed: u64, chain: usize) -> StdRng {
    let mut z = seed ^ (chain as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    StdRng::seed_from_u64(z ^ (z >> 31))
}

/// Stan's initialisation: uniform on (−2, 2) on the unconstrained scale, redrawn (up to
/// 100 times) until the density and its gradient are finite.
pub fn initial_point(ev: &mut Evaluator, rng: &mut StdRng) -> Result<Vec<f64>, String> {
    let n = ev.dim();
    let mut grad = vec![0.0; n];
    let mut last = f64::NAN;
    for _ in 0..100 {
        let u: Vec<f64> = (0..n).map(|_| rng.random_range(-2.0..2.0)).collect();
        last = ev.logp_grad(&u, &mut grad);
        if last.is_finite() && grad.iter().all(|g| g.is_finite()) {
            return Ok(u);
        }
    }
    Err(format!(
        "no starting point with a finite log density and gradient in 100 tries (last log density: {last}); check the priors' supports against the parameters' bounds"
    ))
}

/// Run every chain (in parallel on `config.threads` threads).
pub fn run(post: &Density, config: &Config) -> Result<Vec<ChainResult>, String> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(config.threads.max(1))
        .build()
        .map_err(|e| format!("cannot start {} threads: {e}", config.threads))?;
    pool.install(|| {
        (0..config.chains)
            .into_par_iter()
            .map(|c| run_chain(post, config, c))
            .collect()
    })
}

fn run_chain(post: &Density, config: &Config, chain: usize) -> Result<ChainResult, String> {
    let mut rng = chain_rng(config.seed, chain);
    let mut ev = post.evaluator();
    let init = initial_point(&mut ev, &mut rng).map_err(|e| format!("chain {}: {e}", chain + 1))?;
    if config.method == Method::Nuts {
        return super::nuts::run_chain(post, config, chain, init, rng);
    }
    let sampler: Box<dyn Sampler> = match config.method {
        Method::Hmc => Box::new(super::samplers::Hmc::new(ev, init, config.warmup)),
        Method::Mala => Box::new(super::samplers::Mala::new(ev, init, config.warmup)),
        Method::Mh => Box::new(super::samplers::RandomWalk::new(ev, init, config.warmup)),
        Method::Nuts => unreachable!("handled above"),
    };
    drive(post, config, sampler, rng)
}

/// Iterate a sampler through warm-up and sampling, keeping the sampling draws.
fn drive(
    post: &Density,
    config: &Config,
    mut sampler: Box<dyn Sampler + '_>,
    mut rng: StdRng,
) -> Result<ChainResult, String> {
    let mut rows = Vec::with_capacity(config.draws / config.thin.max(1) + 1);
    let mut stats = Vec::with_capacity(rows.capacity());
    let mut out = post.evaluator();
    let start = Instant::now();
    let mut warmup_divergences = 0;
    let mut warmup_time = Duration::ZERO;
    let total = config.warmup + config.draws;
    for i in 0..total {
        if i == config.warmup {
            warmup_time = start.elapsed();
        }
        let s = sampler.iterate(i, &mut rng);
        if i < config.warmup {
            warmup_divergences += usize::from(s.divergent);
        } else if (i - config.warmup).is_multiple_of(config.thin.max(1)) {
            let mut row = Vec::new();
            out.row(sampler.position(), &mut row);
            rows.push(row);
            stats.push(s);
        }
    }
    if config.warmup >= total {
        warmup_time = start.elapsed();
    }
    Ok(ChainResult {
        rows,
        stats,
        step_size: sampler.step_size(),
        inv_metric: sampler.inv_metric(),
        warmup_time,
        sampling_time: start.elapsed() - warmup_time,
        warmup_divergences,
    })
}
