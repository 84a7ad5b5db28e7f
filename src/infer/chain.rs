//! Running chains: the sampler interface, initialisation, and the parallel driver. Chain c
//! draws from a stream derived from (seed, c) alone, so the draws do not depend on how
//! many threads run the chains. The driver is generic over the density ([`Target`]): the
//! posterior of `ito infer` and the state targets of `ito sample` share it.

use super::density::Density;
use super::target::{LogDensity, Target};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
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
    /// PMMH: the particle filter's log-likelihood estimate kept at the current point (0 and
    /// not written for the other samplers).
    pub log_likelihood: f64,
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

/// The sampling algorithms of `ito infer` and `ito sample`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Nuts,
    Hmc,
    Mala,
    Mh,
    /// Unadjusted Langevin (Euler–Maruyama on the overdamped Langevin diffusion).
    Ula,
    /// Kinetic Langevin with the BAOAB splitting, unadjusted.
    Baoab,
    /// Single-site heat bath over spins.
    Gibbs,
    /// Single-site Metropolis over spins.
    Metropolis,
    /// Particle marginal Metropolis–Hastings: random-walk Metropolis on a state-space
    /// model's parameters with a particle filter's likelihood estimate ([`super::pmmh`]).
    Pmmh,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Nuts => "nuts",
            Method::Hmc => "hmc",
            Method::Mala => "mala",
            Method::Mh => "mh",
            Method::Ula => "ula",
            Method::Baoab => "baoab",
            Method::Gibbs => "gibbs",
            Method::Metropolis => "metropolis",
            Method::Pmmh => "pmmh",
        }
    }

    /// Whether warm-up adapts the sampler (step size, metric); otherwise its iterations
    /// are only discarded.
    pub fn adapts(self) -> bool {
        matches!(
            self,
            Method::Nuts | Method::Hmc | Method::Mala | Method::Mh | Method::Pmmh
        )
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
    /// ULA and BAOAB: the step size h (the adaptive methods tune their own).
    pub step: f64,
    /// BAOAB: the friction γ.
    pub friction: f64,
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
pub fn initial_point(
    ev: &mut (impl LogDensity + ?Sized),
    rng: &mut StdRng,
) -> Result<Vec<f64>, String> {
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

/// How a chain picks its starting point: from its evaluator and its random stream.
pub type Init<'a> =
    dyn Fn(&mut dyn LogDensity, &mut StdRng) -> Result<Vec<f64>, String> + Sync + 'a;

/// Run every chain of the posterior (in parallel on `config.threads` threads), each started
/// as Stan does ([`initial_point`]).
/// A raised `cancel` stops every chain (within one iteration).
pub fn run(
    post: &Density,
    config: &Config,
    cancel: &AtomicBool,
) -> Result<Vec<ChainResult>, String> {
    run_target(post, config, &|ev, rng| initial_point(ev, rng), cancel)
}

/// Run every chain on any target, each started at `init`'s point.
pub fn run_target<T: Target>(
    target: &T,
    config: &Config,
    init: &Init<'_>,
    cancel: &AtomicBool,
) -> Result<Vec<ChainResult>, String> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(config.threads.max(1))
        .build()
        .map_err(|e| format!("cannot start {} threads: {e}", config.threads))?;
    pool.install(|| {
        (0..config.chains)
            .into_par_iter()
            .map(|c| run_chain(target, config, c, init, cancel))
            .collect()
    })
}

fn run_chain<T: Target>(
    target: &T,
    config: &Config,
    chain: usize,
    init: &Init<'_>,
    cancel: &AtomicBool,
) -> Result<ChainResult, String> {
    let mut rng = chain_rng(config.seed, chain);
    let mut ev = target.evaluator();
    let init = init(&mut ev, &mut rng).map_err(|e| format!("chain {}: {e}", chain + 1))?;
    let sampler: Box<dyn Sampler + '_> = match config.method {
        Method::Nuts => return super::nuts::run_chain(target, config, chain, init, rng, cancel),
        Method::Hmc => Box::new(super::samplers::Hmc::new(ev, init, config.warmup)),
        Method::Mala => Box::new(super::samplers::Mala::new(ev, init, config.warmup)),
        Method::Mh => Box::new(super::samplers::RandomWalk::new(ev, init, config.warmup)),
        Method::Ula => Box::new(super::langevin::Ula::new(ev, init, config.step)),
        Method::Baoab => Box::new(super::langevin::Baoab::new(
            ev,
            init,
            config.step,
            config.friction,
            &mut rng,
        )),
        Method::Gibbs | Method::Metropolis => {
            return Err(format!(
                "`{}` updates spins; it cannot sample a continuous density",
                config.method.name()
            ));
        }
        Method::Pmmh => {
            return Err(
                "pmmh estimates the likelihood with a particle filter; it runs through `infer::pmmh::run`, not on a density alone".to_string(),
            );
        }
    };
    drive(target, config, sampler, rng, cancel)
}

/// What a chain stopped by its cancellation flag reports.
pub const INTERRUPTED: &str = "the run was interrupted";

/// Iterate a sampler through warm-up and sampling, keeping the sampling draws.
fn drive<T: Target>(
    target: &T,
    config: &Config,
    mut sampler: Box<dyn Sampler + '_>,
    mut rng: StdRng,
    cancel: &AtomicBool,
) -> Result<ChainResult, String> {
    let mut rows = Vec::with_capacity(config.draws / config.thin.max(1) + 1);
    let mut stats = Vec::with_capacity(rows.capacity());
    let mut out = target.evaluator();
    let start = Instant::now();
    let mut warmup_divergences = 0;
    let mut warmup_time = Duration::ZERO;
    let total = config.warmup + config.draws;
    for i in 0..total {
        if i == config.warmup {
            warmup_time = start.elapsed();
        }
        if cancel.load(Ordering::Relaxed) {
            return Err(INTERRUPTED.to_string());
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
