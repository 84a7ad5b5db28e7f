//! The classic fourth-order Runge–Kutta method, for ODEs.

use super::layout::{Layout, axpy_into, fit};
use super::{Increments, Stepper, Unfit};
use crate::sim::SdeSystem;

pub(super) struct Rk4 {
    l: Layout,
    k: [Vec<f64>; 4],
    y: Vec<f64>,
}

/// The refusal of the ODE-only methods.
pub(super) fn ode_only(method: &str) -> Unfit {
    Unfit(format!(
        "`{method}` integrates ODEs; this model has noise terms — use em, milstein, heun, sra \
         or sri"
    ))
}

impl Rk4 {
    pub fn new(sys: &dyn SdeSystem) -> Result<Rk4, Unfit> {
        let l = Layout::of(sys)?;
        if !l.is_ode() {
            return Err(ode_only("rk4"));
        }
        Ok(Rk4 {
            l,
            k: Default::default(),
            y: Vec::new(),
        })
    }
}

impl Stepper for Rk4 {
    fn needs_area(&self) -> bool {
        false
    }

    fn step(&mut self, sys: &dyn SdeSystem, t: f64, h: f64, x: &mut [f64], _: &Increments) {
        let n = self.l.nb(x) * self.l.nx;
        for b in self.k.iter_mut().chain([&mut self.y]) {
            fit(b, n);
        }
        let [k1, k2, k3, k4] = &mut self.k;
        sys.drift(t, x, k1);
        axpy_into(&mut self.y, x, 0.5 * h, k1);
        sys.drift(t + 0.5 * h, &self.y, k2);
        axpy_into(&mut self.y, x, 0.5 * h, k2);
        sys.drift(t + 0.5 * h, &self.y, k3);
        axpy_into(&mut self.y, x, h, k3);
        sys.drift(t + h, &self.y, k4);
        for (i, x) in x.iter_mut().enumerate() {
            *x += h / 6.0 * (k1[i] + 2.0 * (k2[i] + k3[i]) + k4[i]);
        }
    }
}
