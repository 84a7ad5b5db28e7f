//! Integration schemes: one step of every path of a batch.
//!
//! One module per scheme; `correction` converts drifts between Itô and Stratonovich form,
//! `layout` holds what the schemes share about the diffusion's sparsity pattern. Every
//! scheme keeps its scratch buffers in its stepper (resized when the batch size changes),
//! so the hot loops do not allocate.

use super::{Calculus, NoiseKind, SdeSystem};
use crate::rt::Rng;
use rand_distr::{Distribution, StandardNormal};

mod adaptive;
mod correction;
mod dopri5;
mod em;
mod heun;
mod layout;
mod milstein;
mod rk4;
mod sra;
mod sri;
#[cfg(test)]
mod tests;

pub use milstein::check_commutative;

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
    /// Adaptive Euler–Maruyama with an Euler–Heun error estimate and rejection sampling
    /// with memory (Itô models, additive noise in either calculus, ODEs).
    Adaptive,
}

impl Method {
    pub const ALL: [Method; 8] = [
        Method::Em,
        Method::Milstein,
        Method::Heun,
        Method::Sra,
        Method::Sri,
        Method::Rk4,
        Method::Dopri5,
        Method::Adaptive,
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
            Method::Adaptive => "adaptive",
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
    /// Advance every path of the batch `x` from `t` to `t + h` (`h > 0`).
    ///
    /// A path whose step cannot be computed (a derivative kernel that fails, an adaptive
    /// step size that underflows) is set to NaN: the runner reports non-finite states.
    fn step(&mut self, sys: &dyn SdeSystem, t: f64, h: f64, x: &mut [f64], inc: &Increments);
    /// The same step drawing its own random numbers from `rngs` (path `j` from `rngs[j]`),
    /// for schemes that need more than the step's increments (adaptive steps); `false` when
    /// the scheme does not (then the runner draws the increments and calls `step`).
    fn step_drawing(
        &mut self,
        _sys: &dyn SdeSystem,
        _t: f64,
        _h: f64,
        _x: &mut [f64],
        _rngs: &mut [Rng],
    ) -> bool {
        false
    }
}

/// Draw the increments of one step of length `h` for a batch, path `j` from `rngs[j]`
/// (components in order, then the areas), so a path's numbers do not depend on the batch it
/// is in.
///
/// Per path, the draw order is fixed: `nw` standard normals z1 (ΔW_k = √h·z1_k, k = 0..nw),
/// then, only when `i10` is given, `nw` more z2 with I_(k,0) = ½h(ΔW_k + √h·z2_k/√3) — the
/// pair (ΔW, I_(1,0)) then has the exact joint Gaussian law (Var I = h³/3, Cov = h²/2).
/// The batch size is `rngs.len()`; `dw` (and `i10`) hold `rngs.len() * nw` values.
pub fn draw_increments(
    h: f64,
    nw: usize,
    rngs: &mut [Rng],
    dw: &mut [f64],
    i10: Option<&mut [f64]>,
) {
    if nw == 0 {
        return;
    }
    let sq = h.sqrt();
    match i10 {
        // One noise component (the common case) without the inner loop.
        None if nw == 1 => {
            for (rng, d) in rngs.iter_mut().zip(dw.iter_mut()) {
                *d = sq * normal(rng);
            }
        }
        None => {
            for (rng, dw) in rngs.iter_mut().zip(dw.chunks_exact_mut(nw)) {
                for d in dw.iter_mut() {
                    *d = sq * normal(rng);
                }
            }
        }
        Some(i10) => {
            let scale = sq / 3f64.sqrt();
            let paths = rngs.iter_mut().zip(dw.chunks_exact_mut(nw));
            for ((rng, dw), i10) in paths.zip(i10.chunks_exact_mut(nw)) {
                for d in dw.iter_mut() {
                    *d = sq * normal(rng);
                }
                for (a, &d) in i10.iter_mut().zip(dw.iter()) {
                    *a = 0.5 * h * (d + scale * normal(rng));
                }
            }
        }
    }
}

fn normal(rng: &mut Rng) -> f64 {
    StandardNormal.sample(rng)
}

/// The stepper for `method` on `sys`, or why the method does not fit the model.
///
/// `Method::Milstein` on diagonal or general noise is exact only when the noise is
/// commutative, which depends on the state: before stepping, the runner must also call
/// [`check_commutative`] at the initial time and state (it refuses with an [`Unfit`] too).
pub fn stepper(
    method: Method,
    sys: &dyn SdeSystem,
    tol: Tolerances,
) -> Result<Box<dyn Stepper>, Unfit> {
    Ok(match method {
        Method::Em => Box::new(em::Em::new(sys)?),
        Method::Milstein => Box::new(milstein::Milstein::new(sys)?),
        Method::Heun => Box::new(heun::Heun::new(sys)?),
        Method::Sra => Box::new(sra::Sra1::new(sys)?),
        Method::Sri => Box::new(sri::Sriw1::new(sys)?),
        Method::Rk4 => Box::new(rk4::Rk4::new(sys)?),
        Method::Dopri5 => Box::new(dopri5::Dopri5::new(sys, tol)?),
        Method::Adaptive => Box::new(adaptive::Adaptive::new(sys, tol)?),
    })
}

/// The method used when `--method` is not given: the highest-order scheme that fits
/// without needing the noise derivatives where a scheme that needs none fits too.
pub fn default_method(sys: &dyn SdeSystem) -> Method {
    let Ok(l) = layout::Layout::of(sys) else {
        return Method::Em; // `stepper` explains what is wrong with the model
    };
    match l.kind {
        NoiseKind::None => Method::Dopri5,
        NoiseKind::Additive => Method::Sra,
        NoiseKind::Scalar | NoiseKind::Diagonal if l.one_entry_per_state() => {
            match sys.calculus() {
                Calculus::Ito => Method::Sri,
                Calculus::Stratonovich if sys.has_diffusion_jvp() => Method::Sri,
                Calculus::Stratonovich => Method::Heun,
            }
        }
        _ => match sys.calculus() {
            Calculus::Ito => Method::Em,
            Calculus::Stratonovich => Method::Heun,
        },
    }
}
