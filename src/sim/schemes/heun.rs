//! Stochastic Heun (Euler–Heun), a Stratonovich scheme:
//! x̃ = x + f h + G ΔW, x' = x + ½(f(x) + f(x̃)) h + ½(G(x) + G(x̃)) ΔW.
//! Strong order 1 for commutative noise, ½ in general; weak order 1. An Itô model with
//! state-dependent noise is integrated in its Stratonovich form (drift f − c).

use super::correction::{Correction, needs_jvp};
use super::layout::{Layout, axpy_into, fit, poison};
use super::{Increments, Stepper, Unfit};
use crate::sim::{Calculus, SdeSystem};

pub(super) struct Heun {
    l: Layout,
    /// Itô with state-dependent noise: subtract c from the drift.
    correct: bool,
    corr: Correction,
    f0: Vec<f64>,
    f1: Vec<f64>,
    g0: Vec<f64>,
    g1: Vec<f64>,
    y: Vec<f64>,
}

impl Heun {
    pub fn new(sys: &dyn SdeSystem) -> Result<Heun, Unfit> {
        let l = Layout::of(sys)?;
        let correct = !l.is_additive() && sys.calculus() == Calculus::Ito;
        if correct && !sys.has_diffusion_jvp() {
            return Err(needs_jvp("heun", Calculus::Ito, "em"));
        }
        Ok(Heun {
            l,
            correct,
            corr: Correction::new(),
            f0: Vec::new(),
            f1: Vec::new(),
            g0: Vec::new(),
            g1: Vec::new(),
            y: Vec::new(),
        })
    }
}

impl Stepper for Heun {
    fn needs_area(&self) -> bool {
        false
    }

    fn step(&mut self, sys: &dyn SdeSystem, t: f64, h: f64, x: &mut [f64], inc: &Increments) {
        let l = &self.l;
        let nb = l.nb(x);
        let (n, np) = (nb * l.nx, nb * l.np());
        for b in [&mut self.f0, &mut self.f1, &mut self.y] {
            fit(b, n);
        }
        fit(&mut self.g0, np);
        fit(&mut self.g1, np);

        // Predictor.
        sys.drift(t, x, &mut self.f0);
        if np > 0 {
            sys.diffusion(t, x, &mut self.g0);
        }
        if self.correct && !self.corr.add(l, sys, t, x, &self.g0, -1.0, &mut self.f0) {
            poison(x);
            return;
        }
        axpy_into(&mut self.y, x, h, &self.f0);
        l.add_gw(&self.g0, inc.dw, 1.0, &mut self.y);

        // Corrector: the trapezoid over both ends.
        let t1 = t + h;
        sys.drift(t1, &self.y, &mut self.f1);
        if np > 0 {
            sys.diffusion(t1, &self.y, &mut self.g1);
        }
        if self.correct
            && !self
                .corr
                .add(l, sys, t1, &self.y, &self.g1, -1.0, &mut self.f1)
        {
            poison(x);
            return;
        }
        for ((x, &a), &b) in x.iter_mut().zip(&self.f0).zip(&self.f1) {
            *x += 0.5 * h * (a + b);
        }
        for (a, &b) in self.g0.iter_mut().zip(&self.g1) {
            *a += b;
        }
        l.add_gw(&self.g0, inc.dw, 0.5, x);
    }
}
