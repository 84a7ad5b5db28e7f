//! NUTS by the `nuts-rs` crate (the sampler inside nutpie: multinomial NUTS with its
//! step-size and diagonal mass-matrix adaptation), driven by the compiled log density and
//! gradient.

use super::chain::{ChainResult, Config, DrawStats};
use super::density::{Density, Evaluator};
use nuts_rs::{
    Chain, CpuLogpFunc, CpuMath, CpuMathError, DiagNutsSettings, HasDims, LogpError, Settings,
    Storable, Value,
};
use rand::rngs::StdRng;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The posterior as nuts-rs sees it.
struct Target<'a> {
    ev: Evaluator<'a>,
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

impl HasDims for Target<'_> {
    fn dim_sizes(&self) -> HashMap<String, u64> {
        HashMap::from([("unconstrained_parameter".to_string(), self.ev.dim() as u64)])
    }
}

impl CpuLogpFunc for Target<'_> {
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

/// The stats of one draw by name (nuts-rs exposes them through `Storable`).
fn named<D: HasDims, S: Storable<D>>(stats: &mut S, dims: D) -> HashMap<String, Value> {
    stats
        .get_all(&dims)
        .into_iter()
        .filter_map(|(n, v)| Some((n.to_string(), v?)))
        .collect()
}

fn f64_of(stats: &HashMap<String, Value>, name: &str) -> f64 {
    match stats.get(name) {
        Some(Value::ScalarF64(v)) => *v,
        Some(Value::ScalarU64(v)) => *v as f64,
        Some(Value::ScalarI64(v)) => *v as f64,
        Some(Value::ScalarBool(v)) => f64::from(u8::from(*v)),
        _ => f64::NAN,
    }
}

pub fn run_chain(
    post: &Density,
    config: &Config,
    chain: usize,
    init: Vec<f64>,
    mut rng: StdRng,
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
    let math = CpuMath::new(Target {
        ev: post.evaluator(),
    });
    let fail = |e: &dyn std::fmt::Display| format!("chain {}: NUTS failed: {e}", chain + 1);
    let mut sampler = settings
        .new_chain(chain as u64, math, &mut rng)
        .map_err(|e| fail(&e))?;
    sampler
        .set_position(&init)
        .map_err(|e| fail(&e))?;

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
        let (position, _, mut s, progress) =
            sampler.expanded_draw().map_err(|e| fail(&e))?;
        if i < config.warmup {
            warmup_divergences += usize::from(progress.diverging);
            continue;
        }
        let by_name = {
            let math = sampler.math();
            named(&mut s, (&*math).into())
        };
        if i == config.warmup {
            step_size = progress.step_size;
            if let Some(Value::F64(m)) = by_name.get("mass_matrix_inv") {
                inv_metric = Some(m.clone());
            }
        }
        if (i - config.warmup) % config.thin.max(1) != 0 {
            continue;
        }
        let mut row = Vec::new();
        out.row(&position, &mut row);
        rows.push(row);
        stats.push(DrawStats {
            lp: f64_of(&by_name, "logp"),
            accept_stat: f64_of(&by_name, "mean_tree_accept"),
            step_size: progress.step_size,
            tree_depth: f64_of(&by_name, "depth") as u64,
            n_leapfrog: progress.num_steps,
            divergent: progress.diverging,
            energy: f64_of(&by_name, "energy"),
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
