//! Particle filters for state-space models: a dynamic model (SDE, ODE or jump process) whose
//! states are observed through `obs` declarations at the times of a data series.
//!
//! The bootstrap filter ([`bootstrap`]) moves particles between observation times with the
//! model's own engine ([`propagate`]: any SDE scheme, or the exact SSA, next-reaction method
//! or tau-leaping for jump processes), weights them by the compiled `observe` kernel
//! ([`observe`]) and resamples systematically when the effective sample size falls low
//! ([`resample`]). Its likelihood estimate is unbiased, which is what PMMH needs.
//!
//! Every particle draws from its own stream, derived from (seed, observation interval,
//! particle), and resampling from one per interval, so a filter's result does not depend
//! on the number of threads.

pub mod bootstrap;
pub mod model;
pub mod observe;
pub mod plot;
pub mod propagate;
pub mod report;
pub mod resample;

pub use bootstrap::{FilterConfig, FilterError, FilterRun, Filtered, run};
pub use model::{Engine, Filter, FilterModel, Stepping};
pub use observe::{Observation, ObservationKernel};
pub use propagate::{JumpParticles, Propagator, SdeParticles};
