//! Single-site samplers for an `energy H` over spin states, target exp(−βH) (β the parameter
//! `beta`, 1 without one). One draw is one sweep: every spin is visited once, in the order
//! of the state buffer (row-major), and
//!
//! * **gibbs** (heat bath) sets it from its conditional law: it flips with probability
//!   1 / (1 + e^{βΔH});
//! * **metropolis** proposes the flip and accepts it with probability min(1, e^{−βΔH}).
//!
//! ΔH comes from the `flip_delta` kernel, which evaluates only the terms of H that involve
//! the flipped spin where it can (see `ir::lower::flips`). Each site update leaves the target
//! invariant, so a sweep does; the draws of a chain are exact (correlated) samples once it
//! has forgotten its start. Chain c draws from the stream of (seed, c), so the draws do not
//! depend on the thread count.

use super::chain::{ChainResult, Config, DrawStats, Method, chain_rng};
use super::density::element_names;
use super::states::call;
use crate::check::model::{LetRole, Model};
use crate::check::types::Scalar;
use crate::ir::eval::Args;
use crate::ir::lower::{FlipTerm, LoweredModel, size_index};
use crate::jit::{Jit, KernelFn};
use crate::rt::Rng;
use crate::sim::bind::Bound;
use rand::RngExt;
use rand::rngs::StdRng;
use rayon::prelude::*;
use std::time::{Duration, Instant};

/// The compiled energy of a spin model: owns the native code.
pub struct SpinTarget {
    _jit: Jit,
    pub model: SpinModel,
}

/// Everything a chain needs, shared by the chains.
pub struct SpinModel {
    flip: KernelFn,
    log_density: KernelFn,
    outputs: Option<KernelFn>,
    init: KernelFn,
    p: Vec<f64>,
    d: Vec<f64>,
    nx: usize,
    /// The inverse temperature.
    pub beta: f64,
    /// Positions of the spins in `x`, in sweep order.
    sites: Vec<usize>,
    n_outputs: usize,
    /// Whether each draw also records every spin.
    with_states: bool,
    /// The outputs, then (with `--states`) the spins (`s.1.2`).
    pub columns: Vec<String>,
    /// How `flip_delta` updates each term of H.
    pub terms: Vec<FlipTerm>,
}

impl SpinTarget {
    /// Compile the energy of `m` (lowered as `lm`, bound as `bound`); `with_states` adds the
    /// spins to every draw's columns.
    pub fn new(
        m: &Model,
        lm: &LoweredModel,
        bound: &Bound,
        with_states: bool,
    ) -> Result<SpinTarget, String> {
        let kernel = |name: &str| {
            lm.kernel(name)
                .cloned()
                .ok_or_else(|| format!("model `{}` has no `{name}` kernel", m.name))
        };
        let mut kernels = vec![
            kernel("flip_delta")?,
            kernel("log_density")?,
            kernel("init")?,
        ];
        kernels.extend(lm.kernel("outputs").cloned());
        let jit = Jit::compile(&kernels).map_err(|e| e.to_string())?;
        let nx = bound.sizes[size_index::X];
        let n_outputs = bound.sizes[size_index::OUTPUTS];
        let beta = match bound.p_slots.iter().find(|s| s.name == "beta") {
            Some(s) => bound.p[s.offset],
            None => 1.0,
        };
        if !beta.is_finite() {
            return Err(format!(
                "beta is {beta}; give it a finite value (--set beta=…)"
            ));
        }

        let mut sites = Vec::new();
        let mut columns = Vec::new();
        if lm.kernel("outputs").is_some() {
            columns.extend(super::density::output_names(
                m.lets
                    .iter()
                    .filter(|l| l.role == LetRole::Output)
                    .map(|l| (&l.name, &l.ty)),
                n_outputs,
            ));
        }
        for (state, span) in m.states.iter().zip(&bound.x_slots) {
            if state.ty.scalar != Scalar::Spin {
                continue;
            }
            sites.extend(span.offset..span.offset + span.len());
            if with_states {
                columns.extend(element_names(&span.name, &span.dims));
            }
        }
        if sites.is_empty() {
            return Err(format!("model `{}` has no spin to sample", m.name));
        }

        // Check every kernel once against the buffers the chains use, so that the calls
        // below may skip the check.
        let mut p = bound.p.clone();
        let mut x = vec![0.0; nx];
        let mut rng = crate::rt::rng_from_seed(0);
        let mut check =
            |name: &str, x: &mut [f64], aux: &[f64], rng: Option<&mut Rng>, out: &mut [f64]| {
                jit.call(
                    name,
                    &mut Args {
                        t: 0.0,
                        x,
                        p: &mut p,
                        d: &bound.d,
                        aux,
                        rng,
                        out,
                    },
                )
                .map_err(|e| format!("internal: {e}"))
            };
        check("init", &mut vec![0.0; nx], &[], Some(&mut rng), &mut x)?;
        check("flip_delta", &mut x.clone(), &[0.0], None, &mut [0.0])?;
        check("log_density", &mut x.clone(), &[], None, &mut [0.0])?;
        if lm.kernel("outputs").is_some() {
            check(
                "outputs",
                &mut x.clone(),
                &[],
                None,
                &mut vec![0.0; n_outputs],
            )?;
        }
        let get = |name: &str| {
            jit.get(name)
                .ok_or_else(|| format!("internal: kernel `{name}` was not compiled"))
        };
        let model = SpinModel {
            flip: get("flip_delta")?,
            log_density: get("log_density")?,
            outputs: match lm.kernel("outputs") {
                Some(_) => Some(get("outputs")?),
                None => None,
            },
            init: get("init")?,
            p: bound.p.clone(),
            d: bound.d.clone(),
            nx,
            beta,
            sites,
            n_outputs,
            with_states,
            columns,
            terms: lm.flip_terms.clone(),
        };
        Ok(SpinTarget { _jit: jit, model })
    }
}

/// One chain's state and buffers.
pub struct SpinChain<'a> {
    model: &'a SpinModel,
    pub x: Vec<f64>,
    p: Vec<f64>,
    aux: [f64; 1],
    out: [f64; 1],
}

impl SpinModel {
    /// A chain started from the model's initial state, drawn from `rng` (spins without a
    /// declared value start uniformly at random).
    pub fn chain(&self, rng: &mut Rng) -> SpinChain<'_> {
        let mut x = vec![0.0; self.nx];
        let mut p = self.p.clone();
        // SAFETY: `SpinTarget::new` checked `init` against buffers of these lengths, and the
        // code lives as long as the `SpinTarget` that owns `self`.
        unsafe {
            call(
                self.init,
                &mut vec![0.0; self.nx],
                &mut p,
                &self.d,
                &[],
                Some(rng),
                &mut x,
            )
        };
        SpinChain {
            model: self,
            x,
            p,
            aux: [0.0],
            out: [0.0],
        }
    }

    /// Positions of the spins in the state.
    pub fn sites(&self) -> &[usize] {
        &self.sites
    }
}

impl SpinChain<'_> {
    /// ΔH of flipping the spin at position `k` of the state.
    pub fn delta(&mut self, k: usize) -> f64 {
        let m = self.model;
        self.aux[0] = k as f64;
        // SAFETY: as in `SpinModel::chain`, for `flip_delta` (aux and out one value each).
        unsafe {
            call(
                m.flip,
                &mut self.x,
                &mut self.p,
                &m.d,
                &self.aux,
                None,
                &mut self.out,
            )
        };
        self.out[0]
    }

    /// The log density −βH (plus any constant prior terms) of the current state.
    pub fn log_density(&mut self) -> f64 {
        let m = self.model;
        // SAFETY: as in `SpinModel::chain`, for `log_density`.
        unsafe {
            call(
                m.log_density,
                &mut self.x,
                &mut self.p,
                &m.d,
                &[],
                None,
                &mut self.out,
            )
        };
        self.out[0]
    }

    /// One sweep; returns the number of spins flipped, or the first site where the energy
    /// change is not a number.
    pub fn sweep(&mut self, method: Method, rng: &mut StdRng) -> Result<usize, usize> {
        let beta = self.model.beta;
        let mut flipped = 0;
        for &k in &self.model.sites {
            let dlp = -beta * self.delta(k);
            if dlp.is_nan() {
                return Err(k);
            }
            let flip = match method {
                // Heat bath: P(flip) = π(flipped) / (π(s) + π(flipped)).
                Method::Gibbs => rng.random::<f64>() * (1.0 + (-dlp).exp()) < 1.0,
                _ => dlp >= 0.0 || rng.random::<f64>() < dlp.exp(),
            };
            if flip {
                self.x[k] = -self.x[k];
                flipped += 1;
            }
        }
        Ok(flipped)
    }

    /// The row of output of the current state: outputs, then (with `--states`) the spins.
    pub fn row(&mut self, row: &mut Vec<f64>) {
        let m = self.model;
        row.clear();
        if let Some(f) = m.outputs {
            row.resize(m.n_outputs, f64::NAN);
            // SAFETY: as in `SpinModel::chain`, for `outputs`.
            unsafe { call(f, &mut self.x, &mut self.p, &m.d, &[], None, &mut row[..]) };
        }
        if m.with_states {
            row.extend(m.sites.iter().map(|&k| self.x[k]));
        }
    }
}

/// Run every chain (in parallel on `config.threads` threads); a raised `cancel` stops them
/// within a sweep.
pub fn run(
    model: &SpinModel,
    config: &Config,
    cancel: &std::sync::atomic::AtomicBool,
) -> Result<Vec<ChainResult>, String> {
    if !matches!(config.method, Method::Gibbs | Method::Metropolis) {
        return Err(format!(
            "`{}` needs a gradient; spins are sampled with gibbs or metropolis",
            config.method.name()
        ));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(config.threads.max(1))
        .build()
        .map_err(|e| format!("cannot start {} threads: {e}", config.threads))?;
    pool.install(|| {
        (0..config.chains)
            .into_par_iter()
            .map(|c| run_chain(model, config, c, cancel))
            .collect()
    })
}

fn run_chain(
    model: &SpinModel,
    config: &Config,
    chain: usize,
    cancel: &std::sync::atomic::AtomicBool,
) -> Result<ChainResult, String> {
    let mut rng = chain_rng(config.seed, chain);
    let mut init_rng = crate::rt::rng_from_seed(rng.random());
    let mut c = model.chain(&mut init_rng);
    let n = model.sites.len();
    let thin = config.thin.max(1);
    let mut rows = Vec::with_capacity(config.draws / thin + 1);
    let mut stats = Vec::with_capacity(rows.capacity());
    let start = Instant::now();
    let mut warmup_time = Duration::ZERO;
    for i in 0..config.warmup + config.draws {
        if i == config.warmup {
            warmup_time = start.elapsed();
        }
        if cancel.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(super::chain::INTERRUPTED.to_string());
        }
        let flipped = c.sweep(config.method, &mut rng).map_err(|k| {
            format!(
                "chain {}: the energy change of flipping the spin at position {k} of the state is not a number (β = {}); check the energy for 0/0, ∞ − ∞ or log of a negative number",
                chain + 1,
                model.beta
            )
        })?;
        if i < config.warmup || !(i - config.warmup).is_multiple_of(thin) {
            continue;
        }
        let mut row = Vec::new();
        c.row(&mut row);
        rows.push(row);
        let lp = c.log_density();
        stats.push(DrawStats {
            lp,
            accept_stat: flipped as f64 / n as f64,
            step_size: 1.0,
            tree_depth: 0,
            n_leapfrog: n as u64,
            divergent: false,
            energy: -lp,
            log_likelihood: 0.0,
        });
    }
    if config.draws == 0 {
        warmup_time = start.elapsed();
    }
    Ok(ChainResult {
        rows,
        stats,
        step_size: 1.0,
        inv_metric: None,
        warmup_time,
        sampling_time: start.elapsed() - warmup_time,
        warmup_divergences: 0,
    })
}
