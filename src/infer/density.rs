//! A graphical model's posterior as samplers see it: the compiled log density and its
//! reverse-mode gradient (one kernel call gives both), evaluated on the unconstrained scale.
//!
//! Which parameters are sampled: those with a prior (`param mu ~ …` or a `mu ~ …`
//! statement) and those with neither prior nor value (a flat prior, as in Stan). A parameter
//! with a value and no prior is a known constant, and `--set` on any parameter fixes it at
//! that value (the posterior is then conditional on it).

use super::transform::{Constrained, Transform};
use crate::check::model::{LetRole, Model, TildeRole, Var};
use crate::ir::eval::{self, Args};
use crate::ir::lower::{LoweredModel, size_index};
use crate::jit::{Jit, KernelFn, KernelHandle};
use crate::sim::bind::{Bound, Setting};

/// The compiled posterior of one model with its data bound: owns the native code.
pub struct Posterior {
    /// Keeps the code `density` calls alive.
    _jit: Jit,
    pub density: Density,
}

/// The posterior's density, shared by every chain (it holds plain function pointers into
/// the code its [`Posterior`] owns, so it is used by reference only).
pub struct Density {
    grad: KernelFn,
    outputs: Option<KernelFn>,
    /// The parameter vector with the fixed parameters' values (sampled ones are overwritten).
    p0: Vec<f64>,
    d: Vec<f64>,
    /// Position in `p` of each sampled element, and its transform.
    free: Vec<(usize, Transform)>,
    n_outputs: usize,
    /// Names of the columns of a draw: sampled parameters (declaration order), then outputs.
    pub columns: Vec<String>,
    /// For each parameter column, its position in `p`.
    param_columns: Vec<usize>,
    pub model: String,
}

/// One chain's working buffers for evaluating a [`Density`].
pub struct Evaluator<'a> {
    post: &'a Density,
    p: Vec<f64>,
    out: Vec<f64>,
    constrained: Vec<Constrained>,
    grad_scratch: Vec<f64>,
    /// Whether the log-Jacobian of the transforms is added (sampling: yes; the posterior
    /// mode on the parameters' own scale, as Stan's optimiser finds it: no).
    pub jacobian: bool,
}

/// A named span of the parameter vector (declaration order), with its shape.
#[derive(Clone, Debug)]
pub struct Span {
    pub name: String,
    pub var: Var,
    pub offset: usize,
    pub dims: Vec<usize>,
}

impl Posterior {
    /// Compile the posterior of `m` (lowered as `lm`, bound as `bound`, with `settings` the
    /// `--set`s that fix parameters).
    pub fn new(
        m: &Model,
        lm: &LoweredModel,
        bound: &Bound,
        spans: &[Span],
        settings: &[Setting],
    ) -> Result<Posterior, String> {
        Posterior::build(m, lm, bound, spans, settings, false)
    }

    /// The prior part of a state-space model's posterior, for PMMH: the density of its
    /// priors (and any `data ~` likelihoods), not of its observations. Its `output let`s
    /// are kept when they are functions of the parameters alone (`R0 = beta / gamma`) and
    /// left out when any of them reads a state (the outputs are one kernel), since a draw of
    /// the parameters has no states.
    pub fn state_space(
        m: &Model,
        lm: &LoweredModel,
        bound: &Bound,
        spans: &[Span],
        settings: &[Setting],
    ) -> Result<Posterior, String> {
        Posterior::build(m, lm, bound, spans, settings, true)
    }

    fn build(
        m: &Model,
        lm: &LoweredModel,
        bound: &Bound,
        spans: &[Span],
        settings: &[Setting],
        drop_state_outputs: bool,
    ) -> Result<Posterior, String> {
        let outputs_kernel = lm.kernel("outputs");
        let Some(grad) = lm.kernel("log_density_grad_p") else {
            return Err(format!(
                "model `{}` has no log density over its parameters: give it priors or likelihoods (`~`)",
                m.name
            ));
        };
        let mut kernels = vec![grad.clone()];
        kernels.extend(outputs_kernel.cloned());
        let bounds = run_setup(lm, "param_bounds", bound, 2 * bound.p.len())?;
        let jit = Jit::compile(&kernels).map_err(|e| e.to_string())?;
        let n_p = bound.p.len();

        let has_prior = |i: usize| {
            m.params[i].prior.is_some()
                || m.tildes
                    .iter()
                    .any(|t| t.role == TildeRole::Prior && t.target == Var::Param(i))
        };
        let mut free = Vec::new();
        let mut columns = Vec::new();
        let mut param_columns = Vec::new();
        for span in spans {
            let Var::Param(i) = span.var else { continue };
            let fixed_by_user = settings.iter().any(|s| s.name == span.name);
            let sampled = !fixed_by_user && (has_prior(i) || m.params[i].default.is_none());
            if !sampled {
                continue;
            }
            for (k, name) in element_names(&span.name, &span.dims)
                .into_iter()
                .enumerate()
            {
                let at = span.offset + k;
                let (lo, hi) = (bounds[at], bounds[n_p + at]);
                if lo.is_nan() || hi.is_nan() {
                    return Err(format!(
                        "parameter `{}`: its bounds depend on sampled parameters, which `ito infer` does not support (bounds may use constants and data)",
                        span.name
                    ));
                }
                let t = Transform::from_bounds(lo, hi)
                    .map_err(|e| format!("parameter `{}`: {e}", span.name))?;
                free.push((at, t));
                columns.push(name);
                param_columns.push(at);
            }
        }
        if free.is_empty() {
            return Err(format!(
                "model `{}` has no parameter to sample: every parameter has a value and no prior",
                m.name
            ));
        }
        let handle = |name: &str| -> Result<(KernelHandle, KernelFn), String> {
            match (jit.kernel(name), jit.get(name)) {
                (Some(h), Some(f)) => Ok((h, f)),
                _ => Err(format!("internal: kernel `{name}` was not compiled")),
            }
        };
        let (grad_handle, grad) = handle("log_density_grad_p")?;
        let mut outputs = match outputs_kernel {
            Some(_) => Some(handle("outputs")?),
            None => None,
        };
        let mut n_outputs = bound.sizes[size_index::OUTPUTS];
        // The buffers' lengths never change: check them once with the safe entry point, so
        // that the calls in `Evaluator` may skip the check.
        let mut p = bound.p.clone();
        let mut out = vec![0.0; n_p + 1];
        let mut check = |h: KernelHandle, out: &mut [f64], aux: &[f64]| {
            jit.call_handle(
                h,
                &mut Args {
                    t: 0.0,
                    x: &mut [],
                    p: &mut p,
                    d: &bound.d,
                    aux,
                    rng: None,
                    out,
                },
            )
            .map_err(|e| format!("internal: {e}"))
        };
        check(grad_handle, &mut out, &[1.0])?;
        if let Some((h, _)) = outputs {
            match check(h, &mut vec![0.0; n_outputs], &[]) {
                Ok(()) => {}
                // Without states the check fails exactly when an output reads one.
                Err(_) if drop_state_outputs => {
                    outputs = None;
                    n_outputs = 0;
                }
                Err(e) => return Err(e),
            }
        }
        if outputs.is_some() {
            let lets = m.lets.iter().filter(|l| l.role == LetRole::Output);
            columns.extend(output_names(lets.map(|l| (&l.name, &l.ty)), n_outputs));
        }
        let density = Density {
            grad,
            outputs: outputs.map(|(_, f)| f),
            p0: bound.p.clone(),
            d: bound.d.clone(),
            free,
            n_outputs,
            columns,
            param_columns,
            model: m.name.clone(),
        };
        Ok(Posterior { _jit: jit, density })
    }
}

impl Density {
    /// Number of unconstrained dimensions.
    pub fn dim(&self) -> usize {
        self.free.len()
    }

    /// Number of sampled parameter elements (the first columns of a draw).
    pub fn n_params(&self) -> usize {
        self.param_columns.len()
    }

    pub fn evaluator(&self) -> Evaluator<'_> {
        Evaluator {
            post: self,
            p: self.p0.clone(),
            out: vec![0.0; self.p0.len() + 1],
            constrained: vec![Transform::Identity.constrain(0.0); self.free.len()],
            grad_scratch: Vec::new(),
            jacobian: true,
        }
    }

    /// The whole parameter vector (laid out as bound) at unconstrained `u`: the fixed
    /// values, and the sampled elements constrained from `u`.
    pub fn params_at(&self, u: &[f64], p: &mut Vec<f64>) {
        p.clear();
        p.extend_from_slice(&self.p0);
        for (&(at, t), &ui) in self.free.iter().zip(u) {
            p[at] = t.constrain(ui).value;
        }
    }

    /// The sampled elements at unconstrained `u` on their own scale, in column order.
    pub fn param_values(&self, u: &[f64]) -> Vec<f64> {
        let mut p = Vec::new();
        self.params_at(u, &mut p);
        self.param_columns.iter().map(|&at| p[at]).collect()
    }

    /// `name = value, …` of the sampled elements at unconstrained `u`, for messages.
    pub fn describe(&self, u: &[f64]) -> String {
        self.columns
            .iter()
            .zip(self.param_values(u))
            .map(|(name, v)| format!("{name} = {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The unconstrained point of the constrained values `theta` (one per sampled element).
    pub fn unconstrain(&self, theta: &[f64]) -> Vec<f64> {
        self.free
            .iter()
            .zip(theta)
            .map(|(&(_, t), &v)| t.unconstrain(v))
            .collect()
    }
}

impl Evaluator<'_> {
    /// Number of unconstrained dimensions.
    pub fn dim(&self) -> usize {
        self.post.free.len()
    }

    /// The log density at unconstrained `u` (Jacobian included), with its gradient in
    /// `grad`. Outside the support the density is −∞ (or NaN for a model that gives NaN).
    pub fn logp_grad(&mut self, u: &[f64], grad: &mut [f64]) -> f64 {
        let post = self.post;
        let mut log_jacobian = 0.0;
        for ((&(at, t), &ui), c) in post.free.iter().zip(u).zip(&mut self.constrained) {
            *c = t.constrain(ui);
            self.p[at] = c.value;
            log_jacobian += c.log_jacobian;
        }
        let n = self.p.len();
        // SAFETY: the buffers have the lengths `Posterior::new` checked the kernel against
        // (p and d as bound, out one longer than p, aux one value), and the code lives as
        // long as the `Posterior` that `post` borrows from.
        unsafe { call(post.grad, &mut self.p, &post.d, &[1.0], &mut self.out) };
        let with = f64::from(u8::from(self.jacobian));
        for ((g, &(at, _)), c) in grad.iter_mut().zip(&post.free).zip(&self.constrained) {
            *g = self.out[at] * c.slope + with * c.log_jacobian_slope;
        }
        self.out[n] + with * log_jacobian
    }

    /// The log density alone (for samplers that need no gradient).
    pub fn logp(&mut self, u: &[f64]) -> f64 {
        let mut grad = std::mem::take(&mut self.grad_scratch);
        grad.resize(u.len(), 0.0);
        let lp = self.logp_grad(u, &mut grad);
        self.grad_scratch = grad;
        lp
    }

    /// One row of output for the draw at `u`: the sampled parameters on their own scale
    /// (in column order), then the model's `output let`s.
    pub fn row(&mut self, u: &[f64], row: &mut Vec<f64>) {
        let post = self.post;
        for (&(at, t), &ui) in post.free.iter().zip(u) {
            self.p[at] = t.constrain(ui).value;
        }
        row.clear();
        row.extend(post.param_columns.iter().map(|&at| self.p[at]));
        if let Some(f) = post.outputs {
            // The outputs are written straight into the row's tail.
            let start = row.len();
            row.resize(start + post.n_outputs, f64::NAN);
            // SAFETY: as in `logp_grad`, with `out` of the length checked for `outputs`.
            unsafe { call(f, &mut self.p, &post.d, &[], &mut row[start..]) };
        }
    }
}

impl super::target::LogDensity for Evaluator<'_> {
    fn dim(&self) -> usize {
        Evaluator::dim(self)
    }

    fn logp_grad(&mut self, u: &[f64], grad: &mut [f64]) -> f64 {
        Evaluator::logp_grad(self, u, grad)
    }

    fn logp(&mut self, u: &[f64]) -> f64 {
        Evaluator::logp(self, u)
    }

    fn row(&mut self, u: &[f64], row: &mut Vec<f64>) {
        Evaluator::row(self, u, row)
    }
}

impl super::target::Target for Density {
    type Eval<'a> = Evaluator<'a>;

    fn evaluator(&self) -> Evaluator<'_> {
        Density::evaluator(self)
    }
}

/// Call a density kernel with no state.
///
/// # Safety
/// The buffers must be as long as the kernel accesses (checked once by `Posterior::new`),
/// and the code alive.
unsafe fn call(f: KernelFn, p: &mut [f64], d: &[f64], aux: &[f64], out: &mut [f64]) {
    // SAFETY: as documented on the function; `x` is never read by these kernels.
    unsafe {
        f(
            0.0,
            std::ptr::NonNull::dangling().as_ptr(),
            p.as_mut_ptr(),
            d.as_ptr(),
            aux.as_ptr(),
            std::ptr::null_mut(),
            out.as_mut_ptr(),
        )
    }
}

/// Run one of the model's set-up kernels with the reference evaluator.
fn run_setup(lm: &LoweredModel, name: &str, bound: &Bound, len: usize) -> Result<Vec<f64>, String> {
    let k = lm
        .kernel(name)
        .ok_or_else(|| format!("internal: the model has no `{name}` kernel"))?;
    let mut out = vec![0.0; len];
    let mut p = bound.p.clone();
    eval::run(
        k,
        &mut Args {
            t: 0.0,
            x: &mut [],
            p: &mut p,
            d: &bound.d,
            aux: &[],
            rng: None,
            out: &mut out,
        },
    );
    Ok(out)
}

/// Stan's column names for the elements of `name` with shape `dims` (row-major here, each
/// name carrying its 1-based indices: `eta.3`, `m.2.1`).
pub fn element_names(name: &str, dims: &[usize]) -> Vec<String> {
    if dims.is_empty() {
        return vec![name.to_string()];
    }
    let count: usize = dims.iter().product();
    (0..count)
        .map(|flat| {
            let mut rest = flat;
            let mut idx = vec![0; dims.len()];
            for (k, &n) in dims.iter().enumerate().rev() {
                idx[k] = rest % n + 1;
                rest /= n;
            }
            let idx: Vec<String> = idx.iter().map(usize::to_string).collect();
            format!("{name}.{}", idx.join("."))
        })
        .collect()
}

/// Names of the outputs, whose total length is `total` (at most one with a size from data,
/// which takes what the fixed ones leave).
pub(crate) fn output_names<'a>(
    lets: impl Iterator<Item = (&'a String, &'a crate::check::types::Type)> + Clone,
    total: usize,
) -> Vec<String> {
    use crate::check::types::Dim;
    let fixed = |ty: &crate::check::types::Type| -> Option<Vec<usize>> {
        ty.dims
            .iter()
            .map(|d| match d {
                Dim::Fixed(n) => Some(*n as usize),
                Dim::Data(_) => None,
            })
            .collect()
    };
    let known: usize = lets
        .clone()
        .filter_map(|(_, t)| fixed(t))
        .map(|d| d.iter().product::<usize>())
        .sum();
    let mut names = Vec::new();
    for (name, ty) in lets {
        let dims = fixed(ty).unwrap_or_else(|| vec![total.saturating_sub(known)]);
        names.extend(element_names(name, &dims));
    }
    names.resize_with(total, || "output".to_string());
    names
}

/// The parameter vector's spans in declaration order (as Stan writes its columns).
pub fn param_spans(m: &Model, bound: &Bound) -> Vec<Span> {
    m.params
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let slot = bound.p_slots.iter().find(|s| s.name == p.name)?;
            Some(Span {
                name: slot.name.clone(),
                var: Var::Param(i),
                offset: slot.offset,
                dims: slot.dims.clone(),
            })
        })
        .collect()
}
