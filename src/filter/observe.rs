//! The observation model compiled for a filter: log p(y_k | x) from the `observe` kernel.

use crate::ir::eval::Args;
use crate::ir::lower::LoweredModel;
use crate::jit::{Jit, KernelFn};
use crate::sim::bind::Bound;

/// The compiled `observe` kernel: owns the native code [`Observation`] calls.
pub struct ObservationKernel {
    _jit: Jit,
    pub observation: Observation,
}

/// The observation density with the model's data bound, shared by every chunk of
/// particles (it holds a plain function pointer into the code its [`ObservationKernel`]
/// owns, so it is used by reference only).
pub struct Observation {
    f: KernelFn,
    d: Vec<f64>,
    nx: usize,
    np: usize,
    width: usize,
}

impl ObservationKernel {
    /// Compile the observation model of `lm` for states of `nx` values, parameters and data
    /// as `bound`, and observation rows of `width` values.
    pub fn new(
        lm: &LoweredModel,
        bound: &Bound,
        nx: usize,
        width: usize,
    ) -> Result<ObservationKernel, String> {
        let Some(k) = lm.kernel("observe") else {
            return Err(format!(
                "model `{}` has no observation model: observe a state with `obs y: real` and `y ~ …`",
                lm.name
            ));
        };
        let jit = Jit::compile(std::slice::from_ref(k)).map_err(|e| e.to_string())?;
        let (Some(h), Some(f)) = (jit.kernel("observe"), jit.get("observe")) else {
            return Err("internal: kernel `observe` was not compiled".to_string());
        };
        // The buffers' lengths never change: check them once with the safe entry point, so
        // that `log_density` may skip the check.
        let mut out = [0.0];
        jit.call_handle(
            h,
            &mut Args {
                t: 0.0,
                x: &mut vec![0.0; nx],
                p: &mut bound.p.clone(),
                d: &bound.d,
                aux: &vec![0.0; width],
                rng: None,
                out: &mut out,
            },
        )
        .map_err(|e| format!("internal: {e}"))?;
        Ok(ObservationKernel {
            _jit: jit,
            observation: Observation {
                f,
                d: bound.d.clone(),
                nx,
                np: bound.p.len(),
                width,
            },
        })
    }
}

impl Observation {
    /// log p(`row` | state `x`, parameters `p`) at time `t`; missing values (NaN) are left
    /// out, and a state or density that is not a number gives −∞.
    pub fn log_density(&self, t: f64, x: &[f64], p: &[f64], row: &[f64]) -> f64 {
        assert!(
            x.len() == self.nx && p.len() == self.np && row.len() == self.width,
            "buffers laid out as checked"
        );
        let mut out = 0.0f64;
        // SAFETY: the buffers have the lengths `new` checked the kernel against, the kernel
        // writes one value to `out` and nothing else, and the code lives as long as `self`.
        unsafe {
            (self.f)(
                t,
                x.as_ptr() as *mut f64,
                p.as_ptr() as *mut f64,
                self.d.as_ptr(),
                row.as_ptr(),
                std::ptr::null_mut(),
                &mut out,
            )
        };
        if out.is_nan() { f64::NEG_INFINITY } else { out }
    }
}
