//! Adaptive Dormand–Prince 5(4) with FSAL, for ODEs.
//!
//! Each path is controlled on its own — the system is called on one-path slices — so a
//! path's result does not depend on the batch it is in. `step(t, h)` lands exactly on
//! t + h with internal substeps; the accepted substep size and the FSAL derivative are kept
//! per path for the next call, and used only when that call starts where this one ended
//! (same time, bitwise the same state): anything else — another batch in the same slots, a
//! state changed by the runner — starts afresh.
//!
//! Error control: the embedded 4th-order solution, RMS over components of
//! err_i / (atol + rtol·max(|x_i|, |x'_i|)); a step is accepted when that is ≤ 1, and the
//! next size is h·clamp(0.9·err^(−1/5), 0.2, 10) (no growth right after a rejection).

use super::layout::fit;
use super::rk4::ode_only;
use super::{Increments, Stepper, Tolerances, Unfit};
use crate::sim::SdeSystem;

const C: [f64; 7] = [0.0, 1.0 / 5.0, 3.0 / 10.0, 4.0 / 5.0, 8.0 / 9.0, 1.0, 1.0];
const A: [[f64; 6]; 7] = [
    [0.0; 6],
    [1.0 / 5.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [3.0 / 40.0, 9.0 / 40.0, 0.0, 0.0, 0.0, 0.0],
    [44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0, 0.0, 0.0, 0.0],
    [
        19372.0 / 6561.0,
        -25360.0 / 2187.0,
        64448.0 / 6561.0,
        -212.0 / 729.0,
        0.0,
        0.0,
    ],
    [
        9017.0 / 3168.0,
        -355.0 / 33.0,
        46732.0 / 5247.0,
        49.0 / 176.0,
        -5103.0 / 18656.0,
        0.0,
    ],
    // The 5th-order weights: stage 7 is f at the new state (FSAL).
    [
        35.0 / 384.0,
        0.0,
        500.0 / 1113.0,
        125.0 / 192.0,
        -2187.0 / 6784.0,
        11.0 / 84.0,
    ],
];
/// 5th-order minus embedded 4th-order weights.
const E: [f64; 7] = [
    71.0 / 57600.0,
    0.0,
    -71.0 / 16695.0,
    71.0 / 1920.0,
    -17253.0 / 339200.0,
    22.0 / 525.0,
    -1.0 / 40.0,
];

/// Substeps one path may take in one `step` call before it is given up as stuck (stiff or
/// singular): set to NaN rather than hang the run.
const MAX_SUBSTEPS: usize = 10_000_000;

pub(super) struct Dopri5 {
    nx: usize,
    tol: Tolerances,
    /// Per path: where the last call left it, the step size it proposed, f there.
    at_t: Vec<f64>,
    at_x: Vec<f64>,
    h_next: Vec<f64>,
    fsal: Vec<f64>,
    valid: Vec<bool>,
    /// One path's scratch: the stages, a stage state, the new state.
    k: [Vec<f64>; 7],
    y: Vec<f64>,
    y_new: Vec<f64>,
}

impl Dopri5 {
    pub fn new(sys: &dyn SdeSystem, tol: Tolerances) -> Result<Dopri5, Unfit> {
        let l = super::layout::Layout::of(sys)?;
        if !l.is_ode() {
            return Err(ode_only("dopri5"));
        }
        let nx = l.nx;
        Ok(Dopri5 {
            nx,
            tol,
            at_t: Vec::new(),
            at_x: Vec::new(),
            h_next: Vec::new(),
            fsal: Vec::new(),
            valid: Vec::new(),
            k: std::array::from_fn(|_| vec![0.0; nx]),
            y: vec![0.0; nx],
            y_new: vec![0.0; nx],
        })
    }

    fn norm(&self, v: impl Iterator<Item = (f64, f64, f64)>) -> f64 {
        norm(self.tol, self.nx, v)
    }

    /// Hairer, Nørsett & Wanner's starting step (Solving ODEs I, II.4), with `k[0] = f(t, x)`
    /// already computed, at most `h_max`.
    fn initial_step(&mut self, sys: &dyn SdeSystem, t: f64, x: &[f64], h_max: f64) -> f64 {
        let d0 = self.norm(x.iter().map(|&a| (a, a, a)));
        let d1 = self.norm(self.k[0].iter().zip(x).map(|(&f, &a)| (f, a, a)));
        let h0 = if d0 < 1e-5 || d1 < 1e-5 {
            1e-6
        } else {
            0.01 * d0 / d1
        }
        .min(h_max);
        for ((y, &a), &f) in self.y.iter_mut().zip(x).zip(&self.k[0]) {
            *y = a + h0 * f;
        }
        let [k0, k1, ..] = &mut self.k;
        sys.drift(t + h0, &self.y, k1);
        let d2 = norm(
            self.tol,
            self.nx,
            k1.iter()
                .zip(k0.iter())
                .zip(x)
                .map(|((&b, &a), &s)| ((b - a) / h0, s, s)),
        );
        let d = d1.max(d2);
        let h1 = if d <= 1e-15 {
            (h0 * 1e-3).max(1e-6)
        } else {
            (0.01 / d).powf(0.2)
        };
        (100.0 * h0).min(h1).min(h_max)
    }

    /// Integrate one path from `t` to `t_end`; `k[0]` holds f(t, x) and `h` the proposed
    /// step. Returns the next proposal, or `None` when the path has to be given up.
    fn integrate(
        &mut self,
        sys: &dyn SdeSystem,
        t: f64,
        t_end: f64,
        x: &mut [f64],
        mut h: f64,
    ) -> Option<f64> {
        let mut t_cur = t;
        let mut rejected = false;
        for _ in 0..MAX_SUBSTEPS {
            let remaining = t_end - t_cur;
            if remaining <= 0.0 {
                return Some(h);
            }
            // Stretch by up to 1% rather than leave a sliver for a last tiny step.
            let last = 1.01 * h >= remaining;
            let hs = if last { remaining } else { h };
            if hs.is_nan() || hs < 1e-14 * t_cur.abs().max(t_end.abs()) {
                return None; // the step size underflowed
            }
            // Stages 2..6; row 6 of A is the 5th-order solution, whose derivative (at
            // exactly t_end on the last substep) is stage 7.
            for s in 1..7 {
                let y = if s == 6 { &mut self.y_new } else { &mut self.y };
                for (i, y) in y.iter_mut().enumerate() {
                    let inc: f64 = (0..s).map(|r| A[s][r] * self.k[r][i]).sum();
                    *y = x[i] + hs * inc;
                }
                if s == 6 {
                    let t_new = if last { t_end } else { t_cur + hs };
                    sys.drift(t_new, &self.y_new, &mut self.k[6]);
                } else {
                    sys.drift(t_cur + C[s] * hs, &self.y, &mut self.k[s]);
                }
            }
            let err = {
                let k = &self.k;
                self.norm((0..self.nx).map(|i| {
                    let e: f64 = (0..7).map(|r| E[r] * k[r][i]).sum();
                    (hs * e, x[i], self.y_new[i])
                }))
            };
            if err.is_nan() {
                return None;
            }
            if err <= 1.0 {
                let mut fac = if err == 0.0 {
                    10.0
                } else {
                    (0.9 * err.powf(-0.2)).clamp(0.2, 10.0)
                };
                if rejected {
                    fac = fac.min(1.0);
                }
                x.copy_from_slice(&self.y_new);
                self.k.swap(0, 6);
                t_cur = if last { t_end } else { t_cur + hs };
                // A step clipped to land on t_end says little about the natural step size.
                h = if last && hs < h {
                    h.max(hs * fac)
                } else {
                    hs * fac
                };
                rejected = false;
                if last {
                    return Some(h);
                }
            } else {
                h = hs * (0.9 * err.powf(-0.2)).max(0.2);
                rejected = true;
            }
        }
        None
    }
}

/// RMS over the components of e / (atol + rtol·max(|a|, |b|)), for (e, a, b) triples.
fn norm(tol: Tolerances, n: usize, v: impl Iterator<Item = (f64, f64, f64)>) -> f64 {
    let mut s = 0.0;
    for (e, a, b) in v {
        let sc = tol.atol + tol.rtol * a.abs().max(b.abs());
        s += (e / sc) * (e / sc);
    }
    (s / n as f64).sqrt()
}

impl Stepper for Dopri5 {
    fn needs_area(&self) -> bool {
        false
    }

    fn step(&mut self, sys: &dyn SdeSystem, t: f64, h: f64, x: &mut [f64], _: &Increments) {
        let nx = self.nx;
        if nx == 0 || h.is_nan() || h <= 0.0 {
            return;
        }
        let nb = x.len() / nx;
        if self.valid.len() != nb {
            self.valid.clear();
            self.valid.resize(nb, false);
            for b in [&mut self.at_t, &mut self.h_next] {
                fit(b, nb);
            }
            fit(&mut self.at_x, nb * nx);
            fit(&mut self.fsal, nb * nx);
        }
        let t_end = t + h;
        for j in 0..nb {
            let xs = &mut x[j * nx..(j + 1) * nx];
            let mem = j * nx..(j + 1) * nx;
            let same_t = (t - self.at_t[j]).abs() <= 1e-12 * t.abs().max(h);
            let h0 = if self.valid[j] && same_t && self.at_x[mem.clone()] == *xs {
                self.k[0].copy_from_slice(&self.fsal[mem.clone()]);
                self.h_next[j]
            } else {
                sys.drift(t, xs, &mut self.k[0]);
                self.initial_step(sys, t, xs, h)
            };
            match self.integrate(sys, t, t_end, xs, h0) {
                Some(h_next) => {
                    self.at_t[j] = t_end;
                    self.at_x[mem.clone()].copy_from_slice(xs);
                    self.fsal[mem].copy_from_slice(&self.k[0]);
                    self.h_next[j] = h_next;
                    self.valid[j] = true;
                }
                None => {
                    xs.fill(f64::NAN);
                    self.valid[j] = false;
                }
            }
        }
    }
}
