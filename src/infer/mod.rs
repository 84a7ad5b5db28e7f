//! Inference: the posterior of a graphical model's parameters, sampled by NUTS, HMC, MALA
//! or random-walk Metropolis on the unconstrained scale (`ito infer`), and a model's target
//! over its states (`ito sample`: the same samplers plus unadjusted Langevin schemes for
//! real states, single-site Gibbs and Metropolis for spins), summarised the way Stan users
//! expect.

pub mod adapt;
pub mod chain;
pub mod density;
pub mod diagnostics;
pub mod langevin;
pub mod nuts;
pub mod optimize;
pub mod pmmh;
pub mod report;
pub mod samplers;
pub mod spins;
pub mod stan_csv;
pub mod states;
pub mod table;
pub mod target;
pub mod transform;
