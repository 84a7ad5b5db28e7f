//! What the samplers see of a density, whatever it is over: a log density on ℝⁿ with its
//! gradient, and a way to turn a point into a row of output. The posterior of a graphical
//! model's parameters ([`super::density::Density`]) and the target over a model's
//! continuous states ([`super::states::StateDensity`]) both implement it, so NUTS, HMC,
//! MALA and the Langevin schemes are written once.

/// One chain's view of a log density (it may keep working buffers, hence `&mut self`).
pub trait LogDensity {
    /// Number of dimensions.
    fn dim(&self) -> usize;

    /// The log density at `u`, with its gradient written to `grad` (of length `dim`).
    /// Outside the support the density is −∞ (or NaN for a model that gives NaN).
    fn logp_grad(&mut self, u: &[f64], grad: &mut [f64]) -> f64;

    /// The log density alone (for samplers that need no gradient).
    fn logp(&mut self, u: &[f64]) -> f64 {
        let mut grad = vec![0.0; u.len()];
        self.logp_grad(u, &mut grad)
    }

    /// The row of output for the draw at `u` (its columns are the target's).
    fn row(&mut self, u: &[f64], row: &mut Vec<f64>);
}

/// A density shared by every chain, handing each chain an evaluator of its own.
pub trait Target: Sync {
    type Eval<'a>: LogDensity
    where
        Self: 'a;

    fn evaluator(&self) -> Self::Eval<'_>;
}
