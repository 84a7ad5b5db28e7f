//! Inference: the posterior of a graphical model's parameters, sampled by NUTS, HMC, MALA
//! or random-walk Metropolis on the unconstrained scale, and summarised the way Stan users
//! expect.

pub mod adapt;
pub mod chain;
pub mod density;
pub mod langevin;
pub mod diagnostics;
pub mod nuts;
pub mod report;
pub mod samplers;
pub mod stan_csv;
pub mod table;
pub mod target;
pub mod transform;
