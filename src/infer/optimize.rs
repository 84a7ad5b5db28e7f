//! The posterior mode (MAP) by L-BFGS (the `argmin` crate, with a Moré–Thuente line search)
//! on the unconstrained scale, without the Jacobian: the mode of the density over the
//! parameters on their own scale, as Stan's `optimize` reports it.

use super::chain::{chain_rng, initial_point};
use super::density::{Density, Evaluator};
use argmin::core::{CostFunction, Error, Executor, Gradient, State, TerminationReason};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use std::cell::RefCell;

/// The mode found, on the parameters' own scale (columns as for draws).
#[derive(Clone, Debug)]
pub struct Mode {
    pub row: Vec<f64>,
    /// The log density there (without the Jacobian).
    pub lp: f64,
    pub iterations: u64,
    /// Why L-BFGS stopped.
    pub reason: String,
    pub converged: bool,
}

/// −log density and its gradient, for a minimiser.
struct NegLogDensity<'a> {
    ev: RefCell<Evaluator<'a>>,
}

impl NegLogDensity<'_> {
    fn eval(&self, u: &[f64], grad: &mut [f64]) -> f64 {
        let lp = self.ev.borrow_mut().logp_grad(u, grad);
        for g in grad.iter_mut() {
            *g = -*g;
        }
        // A minimiser copes with +∞ (it backs off); NaN would poison the line search.
        if lp.is_nan() { f64::INFINITY } else { -lp }
    }
}

impl CostFunction for NegLogDensity<'_> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, u: &Vec<f64>) -> Result<f64, Error> {
        let mut grad = vec![0.0; u.len()];
        Ok(self.eval(u, &mut grad))
    }
}

impl Gradient for NegLogDensity<'_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;

    fn gradient(&self, u: &Vec<f64>) -> Result<Vec<f64>, Error> {
        let mut grad = vec![0.0; u.len()];
        self.eval(u, &mut grad);
        Ok(grad)
    }
}

/// Find the mode, starting from Stan's random initial point for `seed`.
pub fn find_mode(density: &Density, seed: u64, max_iterations: u64) -> Result<Mode, String> {
    let mut ev = density.evaluator();
    ev.jacobian = false;
    let mut rng = chain_rng(seed, 0);
    let init = initial_point(&mut ev, &mut rng)?;
    let problem = NegLogDensity {
        ev: RefCell::new(ev),
    };
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
        .with_tolerance_grad(1e-8)
        .and_then(|s| s.with_tolerance_cost(1e-12))
        .map_err(|e| format!("internal: {e}"))?;
    let result = Executor::new(problem, solver)
        .configure(|state| state.param(init).max_iters(max_iterations))
        .run()
        .map_err(|e| format!("the optimiser failed: {e}"))?;
    let state = result.state();
    let u = state
        .get_best_param()
        .cloned()
        .ok_or("the optimiser found no point with a finite density")?;
    let reason = state.get_termination_reason();
    let converged = matches!(
        reason,
        Some(TerminationReason::SolverConverged | TerminationReason::TargetCostReached)
    );
    let mut out = density.evaluator();
    let mut row = Vec::new();
    out.row(&u, &mut row);
    Ok(Mode {
        row,
        lp: -state.get_best_cost(),
        iterations: state.get_iter(),
        reason: reason.map_or("unknown".to_string(), |r| r.to_string()),
        converged,
    })
}
