//! The models of the rebop side (src/main.rs is the harness). A library of its own so that
//! editing the harness does not re-expand rebop's macro on the 1,000-reaction ring (about
//! 4 minutes).

// rebop's `_choice!` recurses once per reaction: the generated rings need a deep limit.
#![recursion_limit = "12000"]

pub mod macro_models;
pub mod params;
pub mod ring;
pub mod runtime_models;

/// One simulator of one model, reset and reseeded for every trajectory.
pub trait Sim {
    fn reset(&mut self, seed: u64);
    fn advance_until(&mut self, t: f64);
    fn record(&self, out: &mut Vec<i64>);
}
