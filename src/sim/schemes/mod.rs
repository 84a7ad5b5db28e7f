//! Integration schemes: one step of every path of a batch.
//!
//! (Interface fixed here; the schemes themselves live in one module each.)

use super::SdeSystem;
use crate::rt::Rng;

/// The integration methods `ito run --method` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// Euler–Maruyama (any noise; Euler's method for an ODE).
    Em,
    /// Milstein (scalar, diagonal or commutative noise), with the compiler's ∂g/∂x.
    Milstein,
    /// Stochastic Heun (Euler–Heun), a Stratonovich scheme.
    Heun,
    /// Rößler's SRA1: strong order 1.5 for additive noise.
    Sra,
    /// Rößler's SRIW1: strong order 1.5 for diagonal (or scalar) noise.
    Sri,
    /// Classic fourth-order Runge–Kutta (ODEs).
    Rk4,
    /// Adaptive Dormand–Prince 5(4) (ODEs).
    Dopri5,
}

impl Method {
    pub const ALL: [Method; 7] = [
        Method::Em,
        Method::Milstein,
        Method::Heun,
        Method::Sra,
        Method::Sri,
        Method::Rk4,
        Method::Dopri5,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Method::Em => "em",
            Method::Milstein => "milstein",
            Method::Heun => "heun",
            Method::Sra => "sra",
            Method::Sri => "sri",
            Method::Rk4 => "rk4",
            Method::Dopri5 => "dopri5",
        }
    }

    pub fn parse(s: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.name() == s)
    }
}

/// Settings of the adaptive methods.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerances {
    pub rtol: f64,
    pub atol: f64,
}

impl Default for Tolerances {
    fn default() -> Self {
        Tolerances {
            rtol: 1e-6,
            atol: 1e-9,
        }
    }
}

/// The random input of one step for every path of a batch: `dw[j*nw + k]` is ΔW_k of path
/// `j` (N(0, h)), and, for schemes that need it (`Stepper::needs_area`), `i10[j*nw + k]` is
/// I_(k,0) = ∫_t^{t+h} (W_k(s) − W_k(t)) ds. Tests build these from finer increments to
/// drive several step sizes with one Brownian path.
pub struct Increments<'a> {
    pub dw: &'a [f64],
    pub i10: &'a [f64],
}

/// Why a method cannot run a model (shown to the user as is).
#[derive(Clone, Debug, PartialEq)]
pub struct Unfit(pub String);

/// One scheme, set up for one system.
pub trait Stepper: Send {
    /// Whether `step` reads `Increments::i10`.
    fn needs_area(&self) -> bool;
    /// Advance every path of the batch `x` from `t` to `t + h`.
    fn step(&mut self, sys: &dyn SdeSystem, t: f64, h: f64, x: &mut [f64], inc: &Increments);
}

/// Draw the increments of one step of length `h` for a batch, path `j` from `rngs[j]`
/// (components in order, then the areas), so a path's numbers do not depend on the batch it
/// is in.
pub fn draw_increments(
    h: f64,
    nw: usize,
    rngs: &mut [Rng],
    dw: &mut [f64],
    i10: Option<&mut [f64]>,
) {
    let _ = (h, nw, rngs, dw, i10);
    unimplemented!("filled in by the schemes module")
}

/// The stepper for `method` on `sys`, or why the method does not fit the model.
pub fn stepper(
    method: Method,
    sys: &dyn SdeSystem,
    tol: Tolerances,
) -> Result<Box<dyn Stepper>, Unfit> {
    let _ = (sys, tol);
    Err(Unfit(format!("`{}` is not available yet", method.name())))
}

/// The method used when `--method` is not given.
pub fn default_method(sys: &dyn SdeSystem) -> Method {
    let _ = sys;
    Method::Em
}
