//! Itô ↔ Stratonovich drift conversion.
//!
//! The Stratonovich equation dx = f dt + G∘dW is the Itô equation dx = (f + c) dt + G dW
//! with c_i = ½ Σ_k (L^k g_ik), L^k = Σ_l g_lk ∂/∂x_l. L^k g is the derivative of the
//! diffusion entries along noise column k, one `diffusion_jvp` per column. (A single
//! derivative along the sum of the columns would mix L^j g_ik for j ≠ k in unless the noise
//! commutes, and this conversion must be exact, so it pays one call per column.)

use super::layout::{Layout, fit};
use crate::sim::{Calculus, SdeSystem};

pub(super) struct Correction {
    v: Vec<f64>,
    dg: Vec<f64>,
}

impl Correction {
    pub fn new() -> Correction {
        Correction {
            v: Vec::new(),
            dg: Vec::new(),
        }
    }

    /// `out += s · c(t, x)` for every path, given `g = G(t, x)`. `false` when the system's
    /// derivative kernel fails (`out` is then incomplete).
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &mut self,
        l: &Layout,
        sys: &dyn SdeSystem,
        t: f64,
        x: &[f64],
        g: &[f64],
        s: f64,
        out: &mut [f64],
    ) -> bool {
        let (nx, np) = (l.nx, l.np());
        let nb = l.nb(x);
        fit(&mut self.v, nb * nx);
        fit(&mut self.dg, nb * np);
        for k in 0..l.nw {
            let col = l.column(k);
            if col.is_empty() {
                continue;
            }
            l.column_vector(k, g, &mut self.v);
            if !sys.diffusion_jvp(t, x, &self.v, &mut self.dg) {
                return false;
            }
            for (out, dg) in out.chunks_exact_mut(nx).zip(self.dg.chunks_exact(np)) {
                for &e in col {
                    out[l.entries[e].0] += 0.5 * s * dg[e];
                }
            }
        }
        true
    }
}

/// Why `method` cannot convert a model written in `calculus` without the noise
/// derivatives (the one-sentence message the CLI shows), with what to use instead.
pub(super) fn needs_jvp(method: &str, calculus: Calculus, instead: &str) -> super::Unfit {
    let (name, to) = match calculus {
        Calculus::Ito => ("Itô", "Stratonovich"),
        Calculus::Stratonovich => ("Stratonovich", "Itô"),
    };
    super::Unfit(format!(
        "`{method}` needs the derivatives of this {name} model's noise terms to convert it to \
         {to} form, and they are not available for this model; use {instead}"
    ))
}
