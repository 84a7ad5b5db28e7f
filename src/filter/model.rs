//! A state-space model compiled for filtering: its engine (SDE/ODE system, jump process, or
//! a reaction network's continuous view) and its observation model, with parameters that
//! may change from one filter run to the next (PMMH).

use super::bootstrap::{self, FilterConfig, FilterError, FilterRun};
use super::observe::{Observation, ObservationKernel};
use super::propagate::{JumpParticles, SdeParticles};
use crate::check::model::{Dynamics, Model, ModelKind};
use crate::ir::lower::LoweredModel;
use crate::sim::SdeSystem;
use crate::sim::bind::Bound;
use crate::sim::mjp::MjpModel;
use crate::sim::mjp::model::MjpKernels;
use crate::sim::mjp::run::MjpMethod;
use crate::sim::native::{NativeModel, NativeSystem, ReactionView};
use crate::sim::observations::ObsSeries;
use crate::sim::schemes::{self, Method, Tolerances};
use std::sync::atomic::AtomicBool;

/// How particles move.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// An SDE or ODE scheme (`None`: the scheme `ito run` would pick).
    Continuous(Option<Method>),
    /// A jump process simulated exactly or by tau-leaping.
    Jumps(MjpMethod),
    /// A reaction network's chemical Langevin equation (Euler–Maruyama) or rate equations.
    View(ReactionView),
}

impl Engine {
    /// What `ito run` would use for `m`: the default SDE/ODE scheme, or the SSA.
    pub fn default_for(m: &Model) -> Engine {
        match m.kind {
            ModelKind::Dynamic(Dynamics::Mjp) | ModelKind::StateSpace(Dynamics::Mjp) => {
                Engine::Jumps(MjpMethod::Ssa)
            }
            _ => Engine::Continuous(None),
        }
    }
}

enum Compiled {
    Continuous(Box<NativeModel>, Method),
    Jumps(Box<MjpModel>, MjpMethod),
}

/// Step settings of the engines.
#[derive(Clone, Copy, Debug)]
pub struct Stepping {
    /// SDE/ODE steps are no longer than this (shortened to land on observation times).
    pub dt: f64,
    pub tolerances: Tolerances,
    /// Firings allowed per particle and observation interval.
    pub max_events: u64,
}

/// The compiled model. Owns the native code.
pub struct FilterModel {
    compiled: Compiled,
    observe: ObservationKernel,
    /// The model's name.
    pub name: String,
    /// State components, then outputs.
    pub variables: Vec<String>,
    /// The method's name, for reports.
    pub method: String,
}

impl FilterModel {
    /// Compile `m` (lowered as `lm`, bound as `bound`) for filtering observation rows of
    /// `width` values with `engine`.
    pub fn new(
        m: &Model,
        lm: &LoweredModel,
        bound: Bound,
        engine: Engine,
        width: usize,
    ) -> Result<FilterModel, String> {
        let ModelKind::StateSpace(dynamics) = m.kind else {
            return Err(format!(
                "model `{}` is not a state-space model (its kind: {}); a particle filter needs dynamics observed through `obs` declarations",
                m.name, m.kind
            ));
        };
        let refuse = |what: &str| -> Result<FilterModel, String> {
            Err(format!(
                "model `{}` is a state-space model with {} dynamics, which {what}",
                m.name,
                dynamics.name()
            ))
        };
        let compiled = match (dynamics, engine) {
            (Dynamics::Sde | Dynamics::Ode, Engine::Continuous(method)) => {
                let native = NativeModel::new(m, lm, bound.clone())?;
                let method = method.unwrap_or_else(|| schemes::default_method(&native.system()));
                Compiled::Continuous(Box::new(native), method)
            }
            (Dynamics::Mjp, Engine::Jumps(method)) => {
                Compiled::Jumps(Box::new(MjpModel::new(m, lm, bound.clone())?), method)
            }
            (Dynamics::Mjp, Engine::View(view)) => {
                let native = NativeModel::reaction_view(m, lm, bound.clone(), view)?;
                let method = match view {
                    ReactionView::Cle => Method::Em,
                    ReactionView::Rre => Method::Dopri5,
                };
                Compiled::Continuous(Box::new(native), method)
            }
            (Dynamics::JumpDiffusion, _) => {
                return refuse(
                    "the particle filter does not simulate (jumps and diffusion together)",
                );
            }
            (Dynamics::Sde | Dynamics::Ode, _) => {
                return refuse(
                    "moves by an SDE or ODE scheme (em, milstein, heun, sra, sri, rk4, dopri5, adaptive)",
                );
            }
            (Dynamics::Mjp, Engine::Continuous(_)) => {
                return refuse("moves by ssa, nrm or tau (or its cle / ode views)");
            }
        };
        let (nx, variables, method) = match &compiled {
            Compiled::Continuous(native, method) => (
                native.info.nx,
                native.info.variables.clone(),
                method.name().to_string(),
            ),
            Compiled::Jumps(mjp, method) => {
                let info = mjp.kernels().info;
                (info.nx, info.variables.clone(), method.name().to_string())
            }
        };
        let method = match engine {
            Engine::View(view) => view.name().to_string(),
            _ => method,
        };
        let observe = ObservationKernel::new(lm, &bound, nx, width)?;
        Ok(FilterModel {
            compiled,
            observe,
            name: m.name.clone(),
            variables,
            method,
        })
    }

    /// What runs the filter (shareable between threads; it borrows the native code).
    pub fn view(&self) -> Filter<'_> {
        Filter {
            moves: match &self.compiled {
                Compiled::Continuous(native, method) => Moves::Continuous(native.system(), *method),
                Compiled::Jumps(mjp, method) => Moves::Jumps(mjp.kernels(), *method),
            },
            observation: &self.observe.observation,
        }
    }

    /// Whether particles move by fixed steps of at most `dt` (SDE/ODE schemes other than
    /// the adaptive ones).
    pub fn method_steps(&self) -> bool {
        match &self.compiled {
            Compiled::Continuous(_, m) => !matches!(m, Method::Dopri5 | Method::Adaptive),
            Compiled::Jumps(..) => false,
        }
    }

    /// The bound parameter values.
    pub fn params(&self) -> &[f64] {
        match &self.compiled {
            Compiled::Continuous(native, _) => &native.info.bound.p,
            Compiled::Jumps(mjp, _) => &mjp.kernels().info.bound.p,
        }
    }
}

/// A compiled model's filter, borrowing its native code.
pub struct Filter<'a> {
    moves: Moves<'a>,
    observation: &'a Observation,
}

enum Moves<'a> {
    Continuous(NativeSystem<'a>, Method),
    Jumps(MjpKernels<'a>, MjpMethod),
}

impl Filter<'_> {
    /// Run the bootstrap filter with parameter values `p` (laid out as bound) on `series`,
    /// in parallel on rayon's current pool.
    pub fn run(
        &self,
        p: &[f64],
        series: &ObsSeries,
        stepping: &Stepping,
        cfg: &FilterConfig,
        cancel: &AtomicBool,
    ) -> Result<FilterRun, FilterError> {
        let obs = self.observation;
        match &self.moves {
            Moves::Continuous(sys, method) => {
                let sys = sys.with_params(p);
                let prop =
                    SdeParticles::new(sys, *method, stepping.tolerances, stepping.dt, cancel)
                        .map_err(FilterError::Model)?;
                if *method == Method::Milstein {
                    // Commuting noise, checked at the first particles' initial states.
                    let n = cfg.particles.clamp(1, 64);
                    let mut x0 = vec![0.0; n * sys.dim()];
                    for (i, x) in x0.chunks_mut(sys.dim().max(1)).enumerate() {
                        sys.init(&mut bootstrap::particle_rng(cfg.seed, 0, i), x);
                    }
                    prop.check_commutative(&x0).map_err(FilterError::Model)?;
                }
                bootstrap::run(&prop, obs, series, cfg)
            }
            Moves::Jumps(k, method) => {
                let prop =
                    JumpParticles::new(k.clone(), *method, p.to_vec(), stepping.max_events, cancel)
                        .map_err(FilterError::Model)?;
                bootstrap::run(&prop, obs, series, cfg)
            }
        }
    }
}
