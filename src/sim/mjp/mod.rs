//! Markov jump processes: reaction networks, general jumps and events, simulated exactly
//! (`ssa`, `nrm`) or by leaping (`tau`), path by path, in parallel ensembles.

pub mod events;
pub mod heap;
pub mod jumpdiff;
pub mod model;
pub mod nrm;
pub mod path;
pub mod run;
pub mod select;
pub mod ssa;
pub mod tau;

pub use model::{MjpInfo, MjpKernels, MjpModel};
