//! A continuous model compiled for a run: its kernels and batch kernels in native code, with
//! the model's inputs bound. [`NativeModel::system`] gives the [`SdeSystem`] the schemes
//! integrate.

use super::bind::Bound;
use super::{Calculus, NoiseKind, SdeSystem};
use crate::check::model::{self, LetRole, Model, NoiseShape};
use crate::check::types::{Dim, Scalar, Type};
use crate::ir::Kernel;
use crate::ir::batch::{self, BatchShape};
use crate::ir::eval::{self, Args};
use crate::ir::lower::{LoweredModel, size_index};
use crate::jit::{Jit, KernelFn};
use crate::rt::Rng;
use std::marker::PhantomData;

/// The compiled model. Owns the native code; everything handed out borrows it.
pub struct NativeModel {
    jit: Jit,
    pub info: ModelInfo,
}

/// What a run needs to know about the compiled model.
pub struct ModelInfo {
    /// The model's name.
    pub name: String,
    pub bound: Bound,
    pub nx: usize,
    pub nw: usize,
    pub pattern: Vec<(usize, usize)>,
    pub noise: NoiseKind,
    pub calculus: Calculus,
    /// Names of the recorded variables: state components, then outputs.
    pub variables: Vec<String>,
    /// How many of `variables` are outputs (they follow the `nx` state components).
    pub n_outputs: usize,
    /// Whether the initial state is drawn at random.
    random_init: bool,
}

/// Why a model cannot be prepared for a continuous run.
pub type Error = String;

/// Which of a lowered model's kernels make up the system, and how its noise enters.
struct SystemKernels<'a> {
    drift: &'a str,
    /// `diffusion`, `diffusion_pattern` and `diffusion_jvp` (absent kernels are left out).
    diffusion: Option<[&'a str; 3]>,
    /// Number of diffusion entries.
    ndiff: usize,
    outputs: &'a str,
    noise: NoiseKind,
    calculus: Calculus,
}

/// A reaction network as a continuous system (see `ir::lower::reaction_views`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReactionView {
    /// The chemical Langevin equation: an Itô SDE with one noise per reaction.
    Cle,
    /// The deterministic rate equations (macroscopic mass action): an ODE.
    Rre,
}

impl ReactionView {
    /// The view's name as a run method (`cle`, `ode`).
    pub fn name(self) -> &'static str {
        match self {
            ReactionView::Cle => "cle",
            ReactionView::Rre => "ode",
        }
    }
}

impl NativeModel {
    /// Compile the kernels a continuous run needs for `m` (lowered as `lm`) with `bound`.
    pub fn new(m: &Model, lm: &LoweredModel, bound: Bound) -> Result<NativeModel, Error> {
        let noise = match m.noise {
            None => NoiseKind::None,
            Some(n) if n.additive => NoiseKind::Additive,
            Some(n) => match n.shape {
                NoiseShape::Scalar => NoiseKind::Scalar,
                NoiseShape::Diagonal => NoiseKind::Diagonal,
                NoiseShape::General => NoiseKind::General,
            },
        };
        let calculus = match m.calculus {
            model::Calculus::Ito => Calculus::Ito,
            model::Calculus::Stratonovich => Calculus::Stratonovich,
        };
        let kernels = SystemKernels {
            drift: "drift",
            diffusion: Some(["diffusion", "diffusion_pattern", "diffusion_jvp"]),
            ndiff: bound.sizes[size_index::DIFFUSION],
            outputs: "outputs",
            noise,
            calculus,
        };
        Self::with_kernels(m, lm, bound, &kernels)
    }

    /// The reaction network `m` (lowered as `lm`, which must have the view's kernels) in
    /// `view`.
    pub fn reaction_view(
        m: &Model,
        lm: &LoweredModel,
        bound: Bound,
        view: ReactionView,
    ) -> Result<NativeModel, Error> {
        let drift = match view {
            ReactionView::Cle => "cle_drift",
            ReactionView::Rre => "rre_drift",
        };
        if lm.kernel(drift).is_none() {
            return Err(format!(
                "internal: model `{}` has no `{drift}` kernel",
                m.name
            ));
        }
        // One noise per reaction that changes something; its entries, one per species changed.
        let changing = lm.reactions.iter().filter(|r| !r.changes.is_empty());
        let nw = changing.clone().count();
        let ndiff = changing.map(|r| r.changes.len()).sum();
        let (diffusion, noise) = match view {
            ReactionView::Rre => (None, NoiseKind::None),
            ReactionView::Cle => {
                let names = [
                    "cle_diffusion",
                    "cle_diffusion_pattern",
                    "cle_diffusion_jvp",
                ];
                let noise = match nw {
                    0 => NoiseKind::None,
                    1 => NoiseKind::Scalar,
                    _ => NoiseKind::General,
                };
                (Some(names), noise)
            }
        };
        let kernels = SystemKernels {
            drift,
            diffusion,
            ndiff: if diffusion.is_some() { ndiff } else { 0 },
            outputs: "real_outputs",
            noise,
            calculus: Calculus::Ito,
        };
        Self::with_kernels(m, lm, bound, &kernels)
    }

    /// Compile the batch kernels of the system `which` describes, with `bound`.
    fn with_kernels(
        m: &Model,
        lm: &LoweredModel,
        bound: Bound,
        which: &SystemKernels,
    ) -> Result<NativeModel, Error> {
        let nx = bound.sizes[size_index::X];
        let ndiff = which.ndiff;
        let n_outputs = bound.sizes[size_index::OUTPUTS];
        let [diffusion, pattern, jvp] = match which.diffusion {
            Some(names) => names.map(|n| lm.kernel(n)),
            None => [None; 3],
        };
        let pattern = diffusion_pattern(pattern, &bound, ndiff)?;
        let nw = pattern.iter().map(|&(_, w)| w + 1).max().unwrap_or(0);
        let shape = BatchShape {
            nx,
            nw,
            pattern: pattern.clone(),
        };

        let drift = lm.kernel(which.drift);
        let mut kernels: Vec<Kernel> = Vec::new();
        let internal = |e: batch::BatchError| format!("internal: {}", e.0);
        // Without equations (not a model `ito run` accepts) nothing moves: no drift kernel,
        // and the system's drift is zero.
        if let Some(f) = drift {
            kernels.push(batch::map_paths(f, "drift_batch", nx, None, nx).map_err(internal)?);
        }
        if let Some(g) = diffusion {
            kernels
                .push(batch::map_paths(g, "diffusion_batch", nx, None, ndiff).map_err(internal)?);
        }
        if let Some(j) = jvp {
            kernels.push(
                batch::map_paths(j, "diffusion_jvp_batch", nx, Some(nx), ndiff)
                    .map_err(internal)?,
            );
        }
        // The fused step exists only where the kernels allow it (see `ir::batch`).
        kernels.extend(drift.and_then(|f| batch::em_step(f, diffusion, &shape).ok()));
        if let Some(k) = lm.kernel("init") {
            kernels.push(k.clone());
        }
        if let Some(k) = lm.kernel(which.outputs) {
            kernels
                .push(batch::map_paths(k, "outputs_batch", nx, None, n_outputs).map_err(internal)?);
        }
        let jit = Jit::compile(&kernels).map_err(|e| e.to_string())?;
        let mut variables = state_names(&bound, nx);
        let outputs = m.lets.iter().filter(|l| l.role == LetRole::Output);
        variables.extend(flat_names(outputs.map(|l| (&l.name, &l.ty)), n_outputs));
        Ok(NativeModel {
            info: ModelInfo {
                name: m.name.clone(),
                bound,
                nx,
                nw,
                pattern,
                noise: which.noise,
                calculus: which.calculus,
                variables,
                n_outputs,
                random_init: lm.kernel("init").is_some_and(Kernel::samples),
            },
            jit,
        })
    }

    /// Whether paths start from random initial states.
    pub fn random_init(&self) -> bool {
        self.info.random_init
    }

    /// The system the schemes integrate (borrows the native code).
    pub fn system(&self) -> NativeSystem<'_> {
        let get = |name: &str| self.jit.get(name);
        NativeSystem {
            model: &self.info,
            params: &self.info.bound.p,
            drift: get("drift_batch"),
            diffusion: get("diffusion_batch"),
            jvp: get("diffusion_jvp_batch"),
            em: get("em_step"),
            init: get("init"),
            outputs: get("outputs_batch"),
            _jit: PhantomData,
        }
    }
}

/// The diffusion entries' (state, noise) positions, from a pattern kernel.
fn diffusion_pattern(
    kernel: Option<&Kernel>,
    bound: &Bound,
    ndiff: usize,
) -> Result<Vec<(usize, usize)>, Error> {
    let Some(k) = kernel else {
        return Ok(Vec::new());
    };
    let nx = bound.sizes[size_index::X];
    let mut out = vec![f64::NAN; 2 * ndiff];
    let mut p = bound.p.clone();
    eval::run(
        k,
        &mut Args {
            t: 0.0,
            x: &mut vec![0.0; nx],
            p: &mut p,
            d: &bound.d,
            aux: &[],
            rng: None,
            out: &mut out,
        },
    );
    out.chunks(2)
        .map(|pair| {
            let ok = |v: f64| v >= 0.0 && v.fract() == 0.0;
            if ok(pair[0]) && ok(pair[1]) && (pair[0] as usize) < nx {
                Ok((pair[0] as usize, pair[1] as usize))
            } else {
                Err(format!(
                    "internal: a diffusion entry is at ({}, {})",
                    pair[0], pair[1]
                ))
            }
        })
        .collect()
}

/// The state's component names, from the sizes binding worked out for every state.
pub(crate) fn state_names(bound: &Bound, nx: usize) -> Vec<String> {
    let typed: Vec<(String, Type)> = bound
        .x_slots
        .iter()
        .map(|s| {
            let dims = s.dims.iter().map(|&n| Dim::Fixed(n as u64)).collect();
            (s.name.clone(), Type::array(Scalar::Real, dims))
        })
        .collect();
    flat_names(typed.iter().map(|(n, t)| (n, t)), nx)
}

/// Component names: `x`, or `v[1]`, `v[2]`, … (`m[1,2]` for matrices) for arrays, 1-based
/// like the language; `total` is the number of components. A slot whose size depends on data
/// takes what the others leave when it is the only one; with several such slots every
/// component is named by its position (`#7` for the 7th), since where each ends is not
/// known here.
pub(crate) fn flat_names<'a>(
    slots: impl Iterator<Item = (&'a String, &'a Type)> + Clone,
    total: usize,
) -> Vec<String> {
    let fixed_dims = |ty: &Type| -> Option<Vec<u64>> {
        ty.dims
            .iter()
            .map(|d| match d {
                Dim::Fixed(n) => Some(*n),
                Dim::Data(_) => None,
            })
            .collect()
    };
    let unknown = slots
        .clone()
        .filter(|(_, t)| fixed_dims(t).is_none())
        .count();
    let known: u64 = slots
        .clone()
        .filter_map(|(_, t)| fixed_dims(t))
        .map(|d| d.iter().product::<u64>())
        .sum();
    let mut names = Vec::with_capacity(total);
    for (name, ty) in slots {
        match fixed_dims(ty) {
            Some(dims) if dims.is_empty() => names.push(name.clone()),
            Some(dims) => {
                let count: u64 = dims.iter().product();
                for flat in 0..count {
                    let mut rest = flat;
                    let mut idx = vec![0; dims.len()];
                    for (k, &n) in dims.iter().enumerate().rev() {
                        idx[k] = rest % n + 1;
                        rest /= n;
                    }
                    let idx: Vec<String> = idx.iter().map(u64::to_string).collect();
                    names.push(format!("{name}[{}]", idx.join(",")));
                }
            }
            None if unknown == 1 => {
                let len = (total as u64).saturating_sub(known);
                names.extend((1..=len).map(|i| format!("{name}[{i}]")));
            }
            // Several data-sized arrays: where one ends is not known here.
            None => {}
        }
    }
    if unknown > 1 || names.len() != total {
        return (1..=total).map(|i| format!("#{i}")).collect();
    }
    names
}

thread_local! {
    static AUX: std::cell::RefCell<Vec<f64>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The compiled model as an [`SdeSystem`], plus per-path set-up and outputs.
#[derive(Clone, Copy)]
pub struct NativeSystem<'a> {
    model: &'a ModelInfo,
    /// The parameter values the kernels read (the bound ones, or a path's own when events
    /// change them).
    params: &'a [f64],
    drift: Option<KernelFn>,
    diffusion: Option<KernelFn>,
    jvp: Option<KernelFn>,
    em: Option<KernelFn>,
    init: Option<KernelFn>,
    outputs: Option<KernelFn>,
    _jit: PhantomData<&'a ()>,
}

/// Call a kernel on buffers whose lengths the caller has matched to the kernel's accesses.
///
/// # Safety
/// Every buffer must be as long as the kernel reads or writes for the batch size it is given
/// (the callers below size them from the model's `sizes` and the batch), and the kernel
/// must not write `p` or `d` (none of the kernels run here do).
#[allow(clippy::too_many_arguments)]
unsafe fn call(
    f: KernelFn,
    t: f64,
    x: *mut f64,
    p: &[f64],
    d: &[f64],
    aux: &[f64],
    rng: Option<&mut Rng>,
    out: *mut f64,
) {
    let rng = rng.map_or(std::ptr::null_mut(), |r| r as *mut Rng);
    // SAFETY: as documented on the function.
    unsafe {
        f(
            t,
            x,
            p.as_ptr() as *mut f64,
            d.as_ptr(),
            aux.as_ptr(),
            rng,
            out,
        )
    }
}

impl<'a> NativeSystem<'a> {
    /// The same system reading parameter values `p` (laid out like the bound ones).
    pub fn with_params<'b>(&self, p: &'b [f64]) -> NativeSystem<'b>
    where
        'a: 'b,
    {
        assert_eq!(p.len(), self.params.len(), "parameters laid out as bound");
        NativeSystem { params: p, ..*self }
    }

    /// The parameter values the kernels read.
    pub fn params(&self) -> &'a [f64] {
        self.params
    }

    /// Number of paths in a batch `x` (its length must be a multiple of the state size).
    fn batch(&self, x: &[f64]) -> usize {
        let nx = self.model.nx.max(1);
        assert_eq!(x.len() % nx, 0, "a batch holds whole states");
        x.len() / nx
    }

    /// A batched kernel `f` with `aux = [nb, extra…]` and `out` of `nb * out_stride`.
    fn map(&self, f: KernelFn, t: f64, x: &[f64], extra: &[f64], out: &mut [f64], stride: usize) {
        let nb = self.batch(x);
        assert!(out.len() >= nb * stride, "output buffer too short");
        let b = &self.model.bound;
        let mut run = |aux: &[f64]| {
            // SAFETY: x holds nb states, out nb * stride values, aux the header and the
            // extras the batch kernel reads (nb * nx for the jvp's direction, checked by the
            // caller).
            unsafe {
                call(
                    f,
                    t,
                    x.as_ptr() as *mut f64,
                    self.params,
                    &b.d,
                    aux,
                    None,
                    out.as_mut_ptr(),
                )
            }
        };
        if extra.is_empty() {
            run(&[nb as f64]);
            return;
        }
        // The header and the extras must be contiguous: a per-thread buffer, not an
        // allocation per call.
        AUX.with_borrow_mut(|aux| {
            aux.clear();
            aux.push(nb as f64);
            aux.extend_from_slice(extra);
            run(aux);
        });
    }

    /// Initial state of one path (drawn from its stream where the model says so).
    pub fn init(&self, rng: &mut Rng, x: &mut [f64]) {
        let nx = self.model.nx;
        assert_eq!(x.len(), nx);
        let Some(f) = self.init else {
            x.fill(0.0);
            return;
        };
        let mut dummy = vec![0.0; nx];
        let b = &self.model.bound;
        // SAFETY: `init` writes the nx state values to out and reads p, d.
        unsafe {
            call(
                f,
                0.0,
                dummy.as_mut_ptr(),
                self.params,
                &b.d,
                &[],
                Some(rng),
                x.as_mut_ptr(),
            )
        }
    }

    /// The `output let` values of a batch of states: `out[j * n_outputs..]` for path `j`.
    pub fn outputs(&self, t: f64, x: &[f64], out: &mut [f64]) {
        if let Some(f) = self.outputs {
            self.map(f, t, x, &[], out, self.model.n_outputs);
        }
    }

    pub fn model(&self) -> &ModelInfo {
        self.model
    }
}

impl SdeSystem for NativeSystem<'_> {
    fn dim(&self) -> usize {
        self.model.nx
    }
    fn noise_dim(&self) -> usize {
        self.model.nw
    }
    fn pattern(&self) -> &[(usize, usize)] {
        &self.model.pattern
    }
    fn noise_kind(&self) -> NoiseKind {
        self.model.noise
    }
    fn calculus(&self) -> Calculus {
        self.model.calculus
    }
    fn drift(&self, t: f64, x: &[f64], out: &mut [f64]) {
        match self.drift {
            Some(f) => self.map(f, t, x, &[], out, self.model.nx),
            None => out.fill(0.0),
        }
    }
    fn diffusion(&self, t: f64, x: &[f64], g: &mut [f64]) {
        if let Some(f) = self.diffusion {
            self.map(f, t, x, &[], g, self.model.pattern.len());
        }
    }
    fn diffusion_jvp(&self, t: f64, x: &[f64], v: &[f64], dg: &mut [f64]) -> bool {
        let Some(f) = self.jvp else {
            return false;
        };
        assert_eq!(v.len(), x.len(), "one direction per path");
        self.map(f, t, x, v, dg, self.model.pattern.len());
        true
    }
    fn has_diffusion_jvp(&self) -> bool {
        self.jvp.is_some()
    }
    fn em_step(&self, t: f64, dt: f64, x: &mut [f64], dw: &[f64]) -> bool {
        let Some(f) = self.em else {
            return false;
        };
        let nb = self.batch(x);
        assert_eq!(
            dw.len(),
            nb * self.model.nw,
            "one increment per path and noise"
        );
        let b = &self.model.bound;
        // SAFETY: x holds nb states (updated in place), aux the header, and `out` the nb * nw
        // increments, which `em_step` only reads.
        unsafe {
            call(
                f,
                t,
                x.as_mut_ptr(),
                self.params,
                &b.d,
                &[nb as f64, dt],
                None,
                dw.as_ptr() as *mut f64,
            )
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::types::Scalar;

    fn ty(dims: Vec<Dim>) -> Type {
        Type {
            scalar: Scalar::Real,
            dims,
        }
    }

    #[test]
    fn component_names() {
        let n = |s: &str| s.to_string();
        let (x, v, m) = (n("x"), n("v"), n("m"));
        let (scalar, vec2, mat) = (
            ty(vec![]),
            ty(vec![Dim::Fixed(2)]),
            ty(vec![Dim::Fixed(2), Dim::Fixed(2)]),
        );
        let slots = [(&x, &scalar), (&v, &vec2), (&m, &mat)];
        assert_eq!(
            flat_names(slots.iter().copied(), 7),
            ["x", "v[1]", "v[2]", "m[1,1]", "m[1,2]", "m[2,1]", "m[2,2]"]
        );
        // Sizes from data: the types of a checked model's states.
        let src = "model M {
          data N: int
          state x = 0.0
          state v: real[N] = 0.0
          state w: real[N] = 0.0
          dx = 1 dt
          dv[i] = 1 dt for i in 1..N
          dw[i] = 1 dt for i in 1..N
        }";
        let c = crate::frontend::compile_source("m.sde", src, &Default::default());
        assert!(!c.has_errors(), "{:?}", c.diagnostics);
        let states = &c.program.models[0].states;
        let slot = |i: usize| (&states[i].name, &states[i].ty);
        assert_eq!(
            flat_names([slot(0), slot(1)].into_iter(), 4),
            ["x", "v[1]", "v[2]", "v[3]"]
        );
        assert_eq!(
            flat_names([slot(1), slot(2)].into_iter(), 3),
            ["#1", "#2", "#3"]
        );
    }
}
