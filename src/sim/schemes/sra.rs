//! Rößler's SRA1 (SIAM J. Numer. Anal. 48(3), 2010) for additive noise: strong order 1.5,
//! weak order 2, two drift evaluations per step. Tableau: c0 = (0, 3/4), A0 = [[0,0],[3/4,0]],
//! B0 = [[0,0],[3/2,0]], α = (1/3, 2/3), c1 = (1, 0), β1 = (1, 0), β2 = (−1, 1); since G does
//! not depend on the state, its stages are G at t + c1 h. With χ = I_(1,0)/h:
//!   y  = x + ¾ h f(t, x) + 3/2 G(t+h) χ
//!   x' = x + h (f(t, x) + 2 f(t + ¾h, y))/3 + G(t+h) (ΔW − χ) + G(t) χ
//! (the same as DifferentialEquations.jl's SRA1). An ODE gets Ralston's second-order method.

use super::layout::{Layout, axpy_into, fit};
use super::{Increments, Stepper, Unfit};
use crate::sim::{NoiseKind, SdeSystem};

pub(super) struct Sra1 {
    l: Layout,
    f1: Vec<f64>,
    f2: Vec<f64>,
    y: Vec<f64>,
    g0: Vec<f64>,
    g1: Vec<f64>,
    chi: Vec<f64>,
    rest: Vec<f64>,
}

impl Sra1 {
    pub fn new(sys: &dyn SdeSystem) -> Result<Sra1, Unfit> {
        let l = Layout::of(sys)?;
        if !l.is_additive() {
            let instead = if l.kind != NoiseKind::General && l.one_entry_per_state() {
                "sri, milstein, em or heun"
            } else {
                "em or heun (or milstein if the noise is commutative)"
            };
            return Err(Unfit(format!(
                "`sra` needs additive noise (noise terms that do not depend on the state) and \
                 this model's noise terms depend on the state; use {instead}"
            )));
        }
        Ok(Sra1 {
            l,
            f1: Vec::new(),
            f2: Vec::new(),
            y: Vec::new(),
            g0: Vec::new(),
            g1: Vec::new(),
            chi: Vec::new(),
            rest: Vec::new(),
        })
    }
}

impl Stepper for Sra1 {
    fn needs_area(&self) -> bool {
        true
    }

    fn step(&mut self, sys: &dyn SdeSystem, t: f64, h: f64, x: &mut [f64], inc: &Increments) {
        let l = &self.l;
        let nb = l.nb(x);
        let (n, np, nn) = (nb * l.nx, nb * l.np(), nb * l.nw);
        for b in [&mut self.f1, &mut self.f2, &mut self.y] {
            fit(b, n);
        }
        fit(&mut self.g0, np);
        fit(&mut self.g1, np);
        fit(&mut self.chi, nn);
        fit(&mut self.rest, nn);
        for (((c, r), &a), &d) in self
            .chi
            .iter_mut()
            .zip(&mut self.rest)
            .zip(inc.i10)
            .zip(inc.dw)
        {
            *c = a / h;
            *r = d - *c;
        }

        sys.drift(t, x, &mut self.f1);
        if np > 0 {
            sys.diffusion(t, x, &mut self.g0);
            sys.diffusion(t + h, x, &mut self.g1); // state-independent: any state will do
        }
        axpy_into(&mut self.y, x, 0.75 * h, &self.f1);
        l.add_gw(&self.g1, &self.chi, 1.5, &mut self.y);
        sys.drift(t + 0.75 * h, &self.y, &mut self.f2);

        for ((x, &a), &b) in x.iter_mut().zip(&self.f1).zip(&self.f2) {
            *x += h * (a + 2.0 * b) / 3.0;
        }
        l.add_gw(&self.g1, &self.rest, 1.0, x);
        l.add_gw(&self.g0, &self.chi, 1.0, x);
    }
}
