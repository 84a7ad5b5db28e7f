//! NUTS by the `nuts-rs` crate (the sampler inside nutpie: multinomial NUTS with its
//! step-size and diagonal mass-matrix adaptation), driven by the compiled log density and
//! gradient.

use super::chain::{ChainResult, Config, DrawStats};
use super::target::{LogDensity, Target};
use nuts_rs::{
    Chain, CpuLogpFunc, CpuMath, CpuMathError, DiagNutsSettings, HasDims, LogpError, Settings,
};
use rand::rngs::StdRng;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The density as nuts-rs sees it.
struct NutsTarget<E> {
    ev: E,
}

/// A point where the density is not finite: nuts-rs treats the trajectory as divergent.
#[derive(Debug)]
struct NotFinite(f64);

impl std::fmt::Display for NotFinite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the log density is {}", self.0)
    }
}

impl std::error::Error for NotFinite {}

impl LogpError for NotFinite {
    fn is_recoverable(&self) -> bool {
        true
    }
}

impl<E: LogDensity> HasDims for NutsTarget<E> {
    fn dim_sizes(&self) -> HashMap<String, u64> {
        HashMap::from([("unconstrained_parameter".to_string(), self.ev.dim() as u64)])
    }
}

impl<E: LogDensity> CpuLogpFunc for NutsTarget<E> {
    type LogpError = NotFinite;
    type ExpandedVector = Vec<f64>;
    type FlowParameters = ();

    fn dim(&self) -> usize {
        self.ev.dim()
    }

    fn logp(&mut self, position: &[f64], gradient: &mut [f64]) -> Result<f64, NotFinite> {
        let lp = self.ev.logp_grad(position, gradient);
        if lp.is_nan() || lp == f64::INFINITY || gradient.iter().any(|g| !g.is_finite()) {
            return Err(NotFinite(lp));
        }
        Ok(lp)
    }

    fn expand_vector<R: rand::Rng + ?Sized>(
        &mut self,
        _rng: &mut R,
        array: &[f64],
    ) -> Result<Vec<f64>, CpuMathError> {
        Ok(array.to_vec())
    }
}

pub fn run_chain<T: Target>(
    post: &T,
    config: &Config,
    chain: usize,
    init: Vec<f64>,
    mut rng: StdRng,
    cancel: &std::sync::atomic::AtomicBool,
) -> Result<ChainResult, String> {
    let mut settings = DiagNutsSettings {
        num_tune: config.warmup as u64,
        num_draws: config.draws as u64,
        maxdepth: config.max_depth,
        num_chains: config.chains,
        seed: config.seed,
        ..DiagNutsSettings::default()
    };
    settings.adapt_options.step_size_settings.target_accept = config.target_accept;
    settings.adapt_options.mass_matrix_options.store_mass_matrix = true;
    let math = CpuMath::new(NutsTarget {
        ev: post.evaluator(),
    });
    let fail = |e: &dyn std::fmt::Display| format!("chain {}: NUTS failed: {e}", chain + 1);
    let mut sampler = settings
        .new_chain(chain as u64, math, &mut rng)
        .map_err(|e| fail(&e))?;
    sampler.set_position(&init).map_err(|e| fail(&e))?;

    let mut out = post.evaluator();
    let mut rows = Vec::with_capacity(config.draws);
    let mut stats = Vec::with_capacity(config.draws);
    let mut warmup_divergences = 0;
    let mut step_size = f64::NAN;
    let mut inv_metric = None;
    let start = Instant::now();
    let mut warmup_time = Duration::ZERO;
    for i in 0..config.warmup + config.draws {
        if i == config.warmup {
            warmup_time = start.elapsed();
        }
        if cancel.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(super::chain::INTERRUPTED.to_string());
        }
        let (position, _, mut s, progress) = sampler.expanded_draw().map_err(|e| fail(&e))?;
        if i < config.warmup {
            warmup_divergences += usize::from(progress.diverging);
            // The metric of the last update during warm-up is the one sampling uses.
            if let Some(m) = s.hamiltonian.transformation.mass_matrix_inv.take() {
                inv_metric = Some(m);
            }
            continue;
        }
        // The typed stats (reading them by name through `Storable` costs more than a draw).
        let mass_matrix = s.hamiltonian.transformation.mass_matrix_inv.take();
        if i == config.warmup {
            step_size = progress.step_size;
        }
        if mass_matrix.is_some() {
            inv_metric = mass_matrix;
        }
        if !(i - config.warmup).is_multiple_of(config.thin.max(1)) {
            continue;
        }
        let mut row = Vec::new();
        out.row(&position, &mut row);
        rows.push(row);
        stats.push(DrawStats {
            lp: s.point.logp,
            accept_stat: s.adapt.step_size.mean_tree_accept,
            step_size: progress.step_size,
            tree_depth: s.depth,
            n_leapfrog: progress.num_steps,
            divergent: progress.diverging,
            energy: s.point.energy,
            log_likelihood: 0.0,
        });
    }
    if config.draws == 0 {
        warmup_time = start.elapsed();
    }
    Ok(ChainResult {
        rows,
        stats,
        step_size,
        inv_metric,
        warmup_time,
        sampling_time: start.elapsed() - warmup_time,
        warmup_divergences,
    })
}
