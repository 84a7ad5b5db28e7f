//! Inference: the posterior of a graphical model's parameters, sampled by NUTS, HMC, MALA
//! or random-walk Metropolis on the unconstrained scale, and summarised the way Stan users
//! expect.

pub mod diagnostics;
pub mod table;
