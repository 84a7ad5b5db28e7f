//! A model's target over its states (`potential U`: exp(−U); `energy H`: exp(−βH)) as the
//! samplers see it. Continuous states are sampled directly ([`StateTarget`], a
//! [`Target`] for NUTS, HMC, MALA, ULA and BAOAB); spin states by single-site updates
//! (`super::spins`). Both start every chain from the model's `init` kernel (the states'
//! declared initial values, drawn from the chain's own stream where they are random).

use super::chain::{ChainResult, Config, Method};
use super::density::element_names;
use super::target::{LogDensity, Target};
use crate::check::model::{LetRole, Model, TildeRole, Var};
use crate::check::types::Scalar;
use crate::ir::eval::Args;
use crate::ir::lower::{LetReads, LoweredModel, size_index};
use crate::jit::{Jit, KernelFn};
use crate::rt::Rng;
use crate::sim::bind::Bound;
use rand::RngExt;
use rand::rngs::StdRng;
use std::collections::BTreeSet;

/// What kind of target a model has, and why it cannot be sampled when it cannot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetKind {
    /// Real states: gradient-based and Langevin samplers.
    Continuous,
    /// Spin states with an `energy`: single-site Gibbs or Metropolis.
    Spins,
}

/// Which samplers suit model `m`'s target, or why `ito sample` cannot sample it.
pub fn target_kind(m: &Model) -> Result<TargetKind, String> {
    let Some(target) = m
        .lets
        .iter()
        .find(|l| matches!(l.role, LetRole::Potential | LetRole::Energy))
    else {
        return Err(format!(
            "model `{}` declares no `potential` or `energy`, so it has no target over its states{}",
            m.name,
            match m.kind {
                crate::check::model::ModelKind::Graphical =>
                    "; fit its parameters with `ito infer`",
                crate::check::model::ModelKind::Dynamic(_)
                | crate::check::model::ModelKind::StateSpace(_) => "; simulate it with `ito run`",
                _ => "",
            }
        ));
    };
    if let Some(sp) = m.species.first() {
        return Err(format!(
            "model `{}` has species (`{}`); `ito sample` samples real or spin states",
            m.name, sp.name
        ));
    }
    let spins = m
        .states
        .iter()
        .filter(|s| s.ty.scalar == Scalar::Spin)
        .count();
    let reals = m
        .states
        .iter()
        .filter(|s| s.ty.scalar == Scalar::Real)
        .count();
    if let Some(s) = m
        .states
        .iter()
        .find(|s| !matches!(s.ty.scalar, Scalar::Spin | Scalar::Real))
    {
        return Err(format!(
            "state `{}: {}` is neither real nor a spin; `ito sample` samples real or spin states",
            s.name, s.ty
        ));
    }
    match (spins, reals) {
        (0, 0) => Err(format!("model `{}` has no state to sample", m.name)),
        (0, _) => {
            if let Some(s) = m
                .states
                .iter()
                .find(|s| s.bounds.lower.is_some() || s.bounds.upper.is_some())
            {
                return Err(format!(
                    "state `{}` has bounds; `ito sample` samples unbounded real states for now (write the potential over an unconstrained state, e.g. log x)",
                    s.name
                ));
            }
            Ok(TargetKind::Continuous)
        }
        (_, 0) if target.role == LetRole::Energy => {
            let lets = LetReads::of(m);
            for t in &m.tildes {
                let mut vars = BTreeSet::new();
                for a in &t.dist.args {
                    lets.vars_of(a, &mut vars);
                }
                if t.role == TildeRole::Observation
                    || vars.iter().any(|v| matches!(v, Var::State(_)))
                {
                    return Err(format!(
                        "model `{}` has `~` statements that depend on its spins; `ito sample` samples exp(−βH) alone",
                        m.name
                    ));
                }
            }
            Ok(TargetKind::Spins)
        }
        (_, 0) => Err(format!(
            "the target of model `{}` is over spins: declare it as `energy {} = …` (exp(−βH)), which single-site samplers update locally",
            m.name, target.name
        )),
        _ => Err(format!(
            "model `{}` mixes spin and real states; `ito sample` samples models whose states are all real or all spins",
            m.name
        )),
    }
}

/// The target over a model's real states, compiled: owns the native code.
pub struct StateTarget {
    _jit: Jit,
    pub density: StateDensity,
    /// States the target does not depend on: held at their initial values.
    pub fixed: Vec<String>,
}

/// The density over the sampled state elements, shared by every chain.
pub struct StateDensity {
    grad: KernelFn,
    outputs: Option<KernelFn>,
    init: KernelFn,
    p: Vec<f64>,
    d: Vec<f64>,
    /// The state with every element at its initial value (the fixed ones stay so).
    x0: Vec<f64>,
    /// Position in `x` of each sampled element.
    free: Vec<usize>,
    n_outputs: usize,
    /// Sampled state elements (`x.1.2`), then the outputs.
    pub columns: Vec<String>,
}

/// One chain's buffers.
pub struct StateEvaluator<'a> {
    dens: &'a StateDensity,
    x: Vec<f64>,
    p: Vec<f64>,
    out: Vec<f64>,
}

impl StateTarget {
    /// Compile the target of `m` (lowered as `lm`, bound as `bound`).
    pub fn new(m: &Model, lm: &LoweredModel, bound: &Bound) -> Result<StateTarget, String> {
        let kernel = |name: &str| {
            lm.kernel(name)
                .cloned()
                .ok_or_else(|| format!("model `{}` has no `{name}` kernel", m.name))
        };
        let mut kernels = vec![kernel("log_density_grad_x")?, kernel("init")?];
        kernels.extend(lm.kernel("outputs").cloned());
        let jit = Jit::compile(&kernels).map_err(|e| e.to_string())?;
        let nx = bound.sizes[size_index::X];
        let n_outputs = bound.sizes[size_index::OUTPUTS];

        // The states the density reads are sampled; the others keep their initial values.
        let lets = LetReads::of(m);
        let mut read = BTreeSet::new();
        for l in m
            .lets
            .iter()
            .filter(|l| matches!(l.role, LetRole::Potential | LetRole::Energy))
        {
            lets.vars_of(&l.value, &mut read);
        }
        for t in m.tildes.iter().filter(|t| t.role != TildeRole::Observation) {
            read.insert(t.target);
            for a in &t.dist.args {
                lets.vars_of(a, &mut read);
            }
        }
        let mut free = Vec::new();
        let mut columns = Vec::new();
        let mut fixed = Vec::new();
        for (slot, span) in lm.layout.x.iter().zip(&bound.x_slots) {
            if !read.contains(&slot.var) {
                fixed.push(span.name.clone());
                continue;
            }
            free.extend(span.offset..span.offset + span.len());
            columns.extend(element_names(&span.name, &span.dims));
        }
        if free.is_empty() {
            return Err(format!(
                "the target of model `{}` depends on none of its states",
                m.name
            ));
        }
        let output_names = super::density::output_names(
            m.lets
                .iter()
                .filter(|l| l.role == LetRole::Output)
                .map(|l| (&l.name, &l.ty)),
            n_outputs,
        );
        if lm.kernel("outputs").is_some() {
            columns.extend(output_names);
        }

        // Check every kernel once against the buffers the chains will use, so that the
        // calls below may skip the check.
        let mut p = bound.p.clone();
        let mut x0 = vec![0.0; nx];
        let mut rng = crate::rt::rng_from_seed(0);
        let internal = |e: crate::jit::JitError| format!("internal: {e}");
        let mut call =
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
                .map_err(internal)
            };
        call("init", &mut vec![0.0; nx], &[], Some(&mut rng), &mut x0)?;
        call(
            "log_density_grad_x",
            &mut x0.clone(),
            &[1.0],
            None,
            &mut vec![0.0; nx + 1],
        )?;
        if lm.kernel("outputs").is_some() {
            call(
                "outputs",
                &mut x0.clone(),
                &[],
                None,
                &mut vec![0.0; n_outputs],
            )?;
        }
        let get = |name: &str| {
            jit.get(name)
                .ok_or_else(|| format!("internal: kernel `{name}` was not compiled"))
        };
        let density = StateDensity {
            grad: get("log_density_grad_x")?,
            outputs: match lm.kernel("outputs") {
                Some(_) => Some(get("outputs")?),
                None => None,
            },
            init: get("init")?,
            p: bound.p.clone(),
            d: bound.d.clone(),
            x0,
            free,
            n_outputs,
            columns,
        };
        Ok(StateTarget {
            _jit: jit,
            density,
            fixed,
        })
    }
}

impl StateDensity {
    /// The sampled elements of a fresh initial state, drawn from `rng` where the model's
    /// initial values are random.
    pub fn initial(&self, rng: &mut Rng) -> Vec<f64> {
        let mut x = vec![0.0; self.x0.len()];
        let mut p = self.p.clone();
        // SAFETY: `StateTarget::new` checked `init` against buffers of these lengths (x and
        // out of the state's length, p and d as bound), and the code lives as long as the
        // `StateTarget` that owns `self`.
        unsafe {
            call(
                self.init,
                &mut vec![0.0; self.x0.len()],
                &mut p,
                &self.d,
                &[],
                Some(rng),
                &mut x,
            )
        };
        self.free.iter().map(|&i| x[i]).collect()
    }
}

impl Target for StateDensity {
    type Eval<'a> = StateEvaluator<'a>;

    fn evaluator(&self) -> StateEvaluator<'_> {
        StateEvaluator {
            dens: self,
            x: self.x0.clone(),
            p: self.p.clone(),
            out: vec![0.0; self.x0.len() + 1],
        }
    }
}

impl LogDensity for StateEvaluator<'_> {
    fn dim(&self) -> usize {
        self.dens.free.len()
    }

    fn logp_grad(&mut self, u: &[f64], grad: &mut [f64]) -> f64 {
        let dens = self.dens;
        for (&i, &v) in dens.free.iter().zip(u) {
            self.x[i] = v;
        }
        // SAFETY: as in `StateDensity::initial`, for `log_density_grad_x` (out one longer
        // than the state, aux one value).
        unsafe {
            call(
                dens.grad,
                &mut self.x,
                &mut self.p,
                &dens.d,
                &[1.0],
                None,
                &mut self.out,
            )
        };
        for (g, &i) in grad.iter_mut().zip(&dens.free) {
            *g = self.out[i];
        }
        self.out[dens.x0.len()]
    }

    fn row(&mut self, u: &[f64], row: &mut Vec<f64>) {
        let dens = self.dens;
        for (&i, &v) in dens.free.iter().zip(u) {
            self.x[i] = v;
        }
        row.clear();
        row.extend_from_slice(u);
        if let Some(f) = dens.outputs {
            let start = row.len();
            row.resize(start + dens.n_outputs, f64::NAN);
            // SAFETY: as in `StateDensity::initial`, for `outputs`.
            unsafe {
                call(
                    f,
                    &mut self.x,
                    &mut self.p,
                    &dens.d,
                    &[],
                    None,
                    &mut row[start..],
                )
            };
        }
    }
}

/// Run every chain of the target (in parallel on `config.threads` threads), each started
/// from the model's initial state drawn from the chain's own stream.
pub fn run(
    density: &StateDensity,
    config: &Config,
    cancel: &std::sync::atomic::AtomicBool,
) -> Result<Vec<ChainResult>, String> {
    let nuts = config.method == Method::Nuts;
    super::chain::run_target(
        density,
        config,
        &|ev, rng| {
            let mut stream = crate::rt::rng_from_seed(rng.random());
            initial_state(ev, density.initial(&mut stream), nuts, rng)
        },
        cancel,
    )
}

/// Check a chain's initial state. NUTS (nuts-rs) also needs a gradient without zeros to
/// start its metric from: a start at a stationary point of the target (a mode, a saddle) is
/// nudged by about 10⁻⁶ of its scale until it has one.
pub fn initial_state(
    ev: &mut dyn LogDensity,
    mut u: Vec<f64>,
    nuts: bool,
    rng: &mut StdRng,
) -> Result<Vec<f64>, String> {
    let mut grad = vec![0.0; u.len()];
    let lp = ev.logp_grad(&u, &mut grad);
    if !lp.is_finite() || grad.iter().any(|g| !g.is_finite()) {
        return Err(format!(
            "the initial state has log density {lp} (or a gradient that is not finite); give the states initial values where the target is positive"
        ));
    }
    if !nuts {
        return Ok(u);
    }
    for _ in 0..100 {
        if grad.iter().all(|&g| g != 0.0) {
            return Ok(u);
        }
        let nudged: Vec<f64> = u
            .iter()
            .zip(&grad)
            .map(|(&x, &g)| {
                if g == 0.0 {
                    x + 1e-6 * x.abs().max(1.0) * rng.random_range(-1.0..1.0)
                } else {
                    x
                }
            })
            .collect();
        let lp = ev.logp_grad(&nudged, &mut grad);
        if lp.is_finite() && grad.iter().all(|g| g.is_finite()) {
            u = nudged;
        }
    }
    Err(
        "the target's gradient is zero at the initial state and nearby: NUTS cannot start there (does the target depend on every state element?)"
            .to_string(),
    )
}

/// Call a kernel.
///
/// # Safety
/// The buffers must be as long as the kernel accesses (checked once with the safe entry
/// point for these lengths), and the code alive.
pub(crate) unsafe fn call(
    f: KernelFn,
    x: &mut [f64],
    p: &mut [f64],
    d: &[f64],
    aux: &[f64],
    rng: Option<&mut Rng>,
    out: &mut [f64],
) {
    let rng = rng.map_or(std::ptr::null_mut(), |r| r as *mut Rng);
    // SAFETY: as documented on the function.
    unsafe {
        f(
            0.0,
            x.as_mut_ptr(),
            p.as_mut_ptr(),
            d.as_ptr(),
            aux.as_ptr(),
            rng,
            out.as_mut_ptr(),
        )
    }
}
