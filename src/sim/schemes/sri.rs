//! Rößler's SRIW1 (SIAM J. Numer. Anal. 48(3), 2010): strong order 1.5 for scalar and
//! diagonal noise (and additive noise), weak order 2 for scalar noise. An Itô scheme: a
//! Stratonovich model with state-dependent noise gets the drift correction f + c.
//!
//! Tableau (as in DifferentialEquations.jl's SRIW1): drift stages H0_1 = x,
//! H0_2 = x + ¾ h f(H0_1) + 3/2 G(H1_1) χ2 at t + ¾h, α = (1/3, 2/3); diffusion stages at
//! c1 = (0, ¼, 1, ¼) with
//!   H1_1 = x,  H1_2 = x + ¼ h f1 + ½√h G1,  H1_3 = x + h f1 − √h G1,
//!   H1_4 = x + ¼ h f1 + √h (−5 G1 + 3 G2 + ½ G3)
//! (G_s the diffusion at stage s, applied as row sums) and weights
//!   β1 = (−1, 4/3, 2/3, 0) on ΔW,   β2 = (−1, 4/3, −1/3, 0) on χ1 = I_(1,1)/√h,
//!   β3 = (2, −4/3, −2/3, 0) on χ2 = I_(1,0)/h,   β4 = (−2, 5/3, −2/3, 1) on χ3 = I_(1,1,1)/h,
//! with I_(1,1) = (ΔW² − h)/2 and I_(1,1,1) = (ΔW³ − 3hΔW)/6 per noise component.
//!
//! The diffusion stages perturb every state component at once, which is the per-noise
//! stage of the paper when each state has one noise term and that term depends only on
//! its own component (diagonal noise in the strict sense); otherwise no scheme without
//! Lévy areas gets above strong order ½ anyway.

use super::correction::{Correction, needs_jvp};
use super::layout::{Layout, axpy_into, fit, poison};
use super::{Increments, Stepper, Unfit};
use crate::sim::{Calculus, NoiseKind, SdeSystem};

const BETA: [[f64; 4]; 4] = [
    [-1.0, 4.0 / 3.0, 2.0 / 3.0, 0.0],
    [-1.0, 4.0 / 3.0, -1.0 / 3.0, 0.0],
    [2.0, -4.0 / 3.0, -2.0 / 3.0, 0.0],
    [-2.0, 5.0 / 3.0, -2.0 / 3.0, 1.0],
];

pub(super) struct Sriw1 {
    l: Layout,
    /// Stratonovich with state-dependent noise: add c to the drift.
    correct: bool,
    corr: Correction,
    f1: Vec<f64>,
    f2: Vec<f64>,
    y: Vec<f64>,
    /// The four diffusion stages, `nb * np` each.
    g: [Vec<f64>; 4],
    /// Diffusion at the second drift stage (for the correction only).
    gc: Vec<f64>,
    /// χ2 per noise component, then the weight of each diffusion stage.
    chi2: Vec<f64>,
    w: [Vec<f64>; 4],
}

impl Sriw1 {
    pub fn new(sys: &dyn SdeSystem) -> Result<Sriw1, Unfit> {
        let l = Layout::of(sys)?;
        let fits =
            matches!(l.kind, NoiseKind::Scalar | NoiseKind::Diagonal) && l.one_entry_per_state();
        if !l.is_additive() && !fits {
            return Err(Unfit(
                "`sri` needs scalar, diagonal or additive noise and this model's noise is \
                 general (state-dependent, and neither scalar nor diagonal); use em, heun or \
                 milstein"
                    .into(),
            ));
        }
        let correct = !l.is_additive() && sys.calculus() == Calculus::Stratonovich;
        if correct && !sys.has_diffusion_jvp() {
            return Err(needs_jvp(
                "sri",
                Calculus::Stratonovich,
                "heun, which integrates Stratonovich models as written",
            ));
        }
        Ok(Sriw1 {
            l,
            correct,
            corr: Correction::new(),
            f1: Vec::new(),
            f2: Vec::new(),
            y: Vec::new(),
            g: Default::default(),
            gc: Vec::new(),
            chi2: Vec::new(),
            w: Default::default(),
        })
    }

    /// The Itô drift at `(t, x)` into `out` (`g` is scratch for the correction).
    fn drift(&mut self, sys: &dyn SdeSystem, t: f64, x: &[f64], which: usize) -> bool {
        let out = if which == 1 {
            &mut self.f1
        } else {
            &mut self.f2
        };
        sys.drift(t, x, out);
        if !self.correct {
            return true;
        }
        sys.diffusion(t, x, &mut self.gc);
        self.corr.add(&self.l, sys, t, x, &self.gc, 1.0, out)
    }
}

impl Stepper for Sriw1 {
    fn needs_area(&self) -> bool {
        true
    }

    fn step(&mut self, sys: &dyn SdeSystem, t: f64, h: f64, x: &mut [f64], inc: &Increments) {
        let (nx, nw, np) = (self.l.nx, self.l.nw, self.l.np());
        let nb = self.l.nb(x);
        for b in [&mut self.f1, &mut self.f2, &mut self.y] {
            fit(b, nb * nx);
        }
        for b in self.g.iter_mut().chain([&mut self.gc]) {
            fit(b, nb * np);
        }
        for b in self.w.iter_mut().chain([&mut self.chi2]) {
            fit(b, nb * nw);
        }
        // Stage weights per noise component: Σ over β rows of β_r[s] · (ΔW, χ1, χ2, χ3)_r.
        let sq = h.sqrt();
        for (m, (&dw, &a)) in inc.dw.iter().zip(inc.i10).enumerate() {
            let chi = [
                dw,
                0.5 * (dw * dw - h) / sq,
                a / h,
                (dw * dw * dw - 3.0 * h * dw) / (6.0 * h),
            ];
            self.chi2[m] = chi[2];
            for (s, w) in self.w.iter_mut().enumerate() {
                w[m] = (0..4).map(|r| BETA[r][s] * chi[r]).sum();
            }
        }

        if !self.drift(sys, t, x, 1) {
            poison(x);
            return;
        }
        let l = &self.l;
        let [g1, g2, g3, g4] = &mut self.g;
        if np > 0 {
            sys.diffusion(t, x, g1);
            axpy_into(&mut self.y, x, 0.25 * h, &self.f1);
            l.add_rows(g1, 0.5 * sq, &mut self.y);
            sys.diffusion(t + 0.25 * h, &self.y, g2);
            axpy_into(&mut self.y, x, h, &self.f1);
            l.add_rows(g1, -sq, &mut self.y);
            sys.diffusion(t + h, &self.y, g3);
            axpy_into(&mut self.y, x, 0.25 * h, &self.f1);
            l.add_rows(g1, -5.0 * sq, &mut self.y);
            l.add_rows(g2, 3.0 * sq, &mut self.y);
            l.add_rows(g3, 0.5 * sq, &mut self.y);
            sys.diffusion(t + 0.25 * h, &self.y, g4);
        }
        axpy_into(&mut self.y, x, 0.75 * h, &self.f1);
        l.add_gw(g1, &self.chi2, 1.5, &mut self.y);
        let y = std::mem::take(&mut self.y);
        let ok = self.drift(sys, t + 0.75 * h, &y, 2);
        self.y = y;
        if !ok {
            poison(x);
            return;
        }

        for ((x, &a), &b) in x.iter_mut().zip(&self.f1).zip(&self.f2) {
            *x += h * (a + 2.0 * b) / 3.0;
        }
        for (g, w) in self.g.iter().zip(&self.w) {
            self.l.add_gw(g, w, 1.0, x);
        }
    }
}
