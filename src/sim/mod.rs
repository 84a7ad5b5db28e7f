//! Simulation of continuous models: SDE and ODE integrators over batches of paths, the
//! ensemble runner, and what a run records.
//!
//! Engines see a model only through [`SdeSystem`]: drift and diffusion evaluated on a
//! **batch** of paths at once (the state of `nb` paths, row-major: path `j`'s state is
//! `x[j*nx .. (j+1)*nx]`), so one call into compiled code advances many paths. The JIT-backed
//! system is [`jit_system::JitSystem`]; tests also implement the trait with plain closures.

pub mod bind;
pub mod data;
pub mod ensemble;
pub mod mjp;
pub mod native;
pub mod observations;
pub mod output;
pub mod prepare;
pub mod schemes;

/// A seed from the clock, for runs not given one (they report it, so they can be repeated).
pub fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// The number of cores: the default thread count of every run.
pub fn all_cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// How the noise enters (schemes pick their formulas by it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoiseKind {
    /// No noise terms: an ODE.
    None,
    /// The diffusion does not depend on the state (any pattern).
    Additive,
    /// One scalar Wiener process drives every component.
    Scalar,
    /// Component `i` is driven by its own noise component only.
    Diagonal,
    /// Anything else.
    General,
}

/// Which stochastic calculus the model's equations are written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Calculus {
    Ito,
    Stratonovich,
}

/// A continuous model `dx = f(t, x) dt + G(t, x) dW` evaluated on batches of paths.
///
/// `G` is sparse: its non-zero entries are listed by [`SdeSystem::pattern`] as
/// (state component, noise component) pairs; `diffusion` computes their values in that
/// order. All slices are batches: `x` holds `nb * dim()` values (`nb` inferred from its
/// length), `g` and `dg` hold `nb * pattern().len()`, `v` holds `nb * dim()`.
pub trait SdeSystem: Sync {
    /// Number of state components `nx`.
    fn dim(&self) -> usize;
    /// Number of independent Wiener components `nw` (0 for an ODE).
    fn noise_dim(&self) -> usize;
    /// The diffusion entries: (state component, noise component), each pair once.
    fn pattern(&self) -> &[(usize, usize)];
    fn noise_kind(&self) -> NoiseKind;
    fn calculus(&self) -> Calculus;
    /// `out = f(t, x)` for every path of the batch.
    fn drift(&self, t: f64, x: &[f64], out: &mut [f64]);
    /// The diffusion entries' values at `(t, x)` for every path of the batch.
    fn diffusion(&self, t: f64, x: &[f64], g: &mut [f64]);
    /// The directional derivative of the diffusion entries along `v`:
    /// `dg[e] = Σ_l ∂g_e/∂x_l · v_l`, per path. `false` when the model has no derivative
    /// kernel (then schemes that need it must refuse before they start).
    fn diffusion_jvp(&self, t: f64, x: &[f64], v: &[f64], dg: &mut [f64]) -> bool;
    /// Whether [`SdeSystem::diffusion_jvp`] is available.
    fn has_diffusion_jvp(&self) -> bool;
    /// A fused Euler–Maruyama step for the batch, `x += f dt + G dw` (with `dw` already
    /// scaled: `nb * noise_dim()` increments), if the system has one. Returns `false` when it
    /// does not (the scheme then composes the step from `drift` and `diffusion`).
    fn em_step(&self, _t: f64, _dt: f64, _x: &mut [f64], _dw: &[f64]) -> bool {
        false
    }
}
