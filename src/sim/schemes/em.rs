//! Euler–Maruyama: x' = x + f h + G ΔW (Euler's method for an ODE). Strong order ½, weak
//! order 1, any noise. The scheme is Itô: a Stratonovich model with state-dependent noise
//! gets the drift correction first.

use super::correction::{Correction, needs_jvp};
use super::layout::{Layout, fit, poison};
use super::{Increments, Stepper, Unfit};
use crate::sim::{Calculus, SdeSystem};

pub(super) struct Em {
    l: Layout,
    /// Stratonovich with state-dependent noise: add c to the drift.
    correct: bool,
    /// Still worth trying the system's fused step (it never uses the correction).
    fused: bool,
    corr: Correction,
    f: Vec<f64>,
    g: Vec<f64>,
}

impl Em {
    pub fn new(sys: &dyn SdeSystem) -> Result<Em, Unfit> {
        let l = Layout::of(sys)?;
        let correct = !l.is_additive() && sys.calculus() == Calculus::Stratonovich;
        if correct && !sys.has_diffusion_jvp() {
            return Err(needs_jvp(
                "em",
                Calculus::Stratonovich,
                "heun, which integrates Stratonovich models as written",
            ));
        }
        Ok(Em {
            l,
            correct,
            fused: !correct,
            corr: Correction::new(),
            f: Vec::new(),
            g: Vec::new(),
        })
    }
}

impl Stepper for Em {
    fn needs_area(&self) -> bool {
        false
    }

    fn step(&mut self, sys: &dyn SdeSystem, t: f64, h: f64, x: &mut [f64], inc: &Increments) {
        if self.fused {
            if sys.em_step(t, h, x, inc.dw) {
                return;
            }
            self.fused = false; // the system has none: compose from now on
        }
        let l = &self.l;
        let nb = l.nb(x);
        fit(&mut self.f, nb * l.nx);
        fit(&mut self.g, nb * l.np());
        sys.drift(t, x, &mut self.f);
        if l.np() > 0 {
            sys.diffusion(t, x, &mut self.g);
        }
        if self.correct && !self.corr.add(l, sys, t, x, &self.g, 1.0, &mut self.f) {
            poison(x);
            return;
        }
        for (x, &f) in x.iter_mut().zip(&self.f) {
            *x += h * f;
        }
        l.add_gw(&self.g, inc.dw, 1.0, x);
    }
}
