//! Milstein: x_i' = x_i + f_i h + Σ_k g_ik ΔW_k + ½ Σ_{j,k} (L^j g_ik)(ΔW_j ΔW_k − δ_jk h),
//! L^j = Σ_l g_lj ∂/∂x_l (the compiler's ∂g/∂x through `diffusion_jvp`). Strong order 1
//! when the noise is commutative (L^j g_·k = L^k g_·j), which makes the iterated integrals
//! I_(j,k) enter only through their symmetric part ½ ΔW_j ΔW_k. For a Stratonovich model
//! the −δ_jk h term is dropped (the Stratonovich form of the same expansion).
//!
//! Additive noise has L^j g = 0: the scheme is Euler–Maruyama, which is what runs.

use super::em::Em;
use super::layout::{Layout, fit, poison};
use super::{Increments, Stepper, Unfit};
use crate::sim::{Calculus, SdeSystem};

pub(super) struct Milstein {
    mode: Mode,
}

enum Mode {
    Additive(Em),
    Full(Box<Full>),
}

/// How the L^j g are obtained.
#[derive(Clone, Copy, PartialEq)]
enum Plan {
    /// At most one entry per state (scalar or diagonal noise): one derivative along the
    /// row sums of G gives Σ_j L^j g_ik = L^k g_ik, the others vanishing by commutativity.
    PerState,
    /// Stratonovich: one derivative along G ΔW gives Σ_j (L^j g_ik) ΔW_j.
    AlongIncrement,
    /// Itô, general commutative noise: one derivative per noise column, for the −h terms.
    PerColumn,
}

struct Full {
    l: Layout,
    plan: Plan,
    /// 1 for Itô (keep the −δ_jk h terms), 0 for Stratonovich.
    ito: f64,
    f: Vec<f64>,
    g: Vec<f64>,
    v: Vec<f64>,
    dg: Vec<f64>,
    acc: Vec<f64>,
}

fn no_jvp(calculus: Calculus) -> Unfit {
    Unfit(format!(
        "`milstein` needs the derivatives of the noise terms and they are not available for \
         this model; use {}",
        instead(calculus)
    ))
}

fn instead(calculus: Calculus) -> &'static str {
    match calculus {
        Calculus::Ito => "em",
        Calculus::Stratonovich => "heun",
    }
}

impl Milstein {
    /// The scheme for `sys`. For diagonal or general noise the runner must also call
    /// [`check_commutative`] at the initial state before the first step.
    pub fn new(sys: &dyn SdeSystem) -> Result<Milstein, Unfit> {
        let l = Layout::of(sys)?;
        if l.is_additive() {
            return Ok(Milstein {
                mode: Mode::Additive(Em::new(sys)?),
            });
        }
        let calculus = sys.calculus();
        if !sys.has_diffusion_jvp() {
            return Err(no_jvp(calculus));
        }
        let plan = if l.one_entry_per_state() {
            Plan::PerState
        } else if calculus == Calculus::Stratonovich {
            Plan::AlongIncrement
        } else {
            Plan::PerColumn
        };
        let ito = if calculus == Calculus::Ito { 1.0 } else { 0.0 };
        Ok(Milstein {
            mode: Mode::Full(Box::new(Full {
                l,
                plan,
                ito,
                f: Vec::new(),
                g: Vec::new(),
                v: Vec::new(),
                dg: Vec::new(),
                acc: Vec::new(),
            })),
        })
    }
}

impl Stepper for Milstein {
    fn needs_area(&self) -> bool {
        false
    }

    fn step(&mut self, sys: &dyn SdeSystem, t: f64, h: f64, x: &mut [f64], inc: &Increments) {
        match &mut self.mode {
            Mode::Additive(em) => em.step(sys, t, h, x, inc),
            Mode::Full(full) => {
                if !full.step(sys, t, h, x, inc.dw) {
                    poison(x);
                }
            }
        }
    }
}

impl Full {
    /// `false` when the derivative kernel fails.
    fn step(&mut self, sys: &dyn SdeSystem, t: f64, h: f64, x: &mut [f64], dw: &[f64]) -> bool {
        let l = &self.l;
        let (nx, nw, np) = (l.nx, l.nw, l.np());
        let nb = l.nb(x);
        fit(&mut self.f, nb * nx);
        fit(&mut self.v, nb * nx);
        fit(&mut self.acc, nb * nx);
        fit(&mut self.g, nb * np);
        fit(&mut self.dg, nb * np);
        sys.drift(t, x, &mut self.f);
        sys.diffusion(t, x, &mut self.g);

        // The Milstein terms, into `acc`, all from the state at t.
        self.acc.fill(0.0);
        match self.plan {
            Plan::PerState => {
                self.v.fill(0.0);
                l.add_rows(&self.g, 1.0, &mut self.v);
                if !sys.diffusion_jvp(t, x, &self.v, &mut self.dg) {
                    return false;
                }
                let paths = self.acc.chunks_exact_mut(nx).zip(self.dg.chunks_exact(np));
                for ((acc, dg), dw) in paths.zip(dw.chunks_exact(nw)) {
                    for (&(i, k), &d) in l.entries.iter().zip(dg) {
                        acc[i] += 0.5 * d * (dw[k] * dw[k] - self.ito * h);
                    }
                }
            }
            Plan::AlongIncrement => {
                self.v.fill(0.0);
                l.add_gw(&self.g, dw, 1.0, &mut self.v);
                if !sys.diffusion_jvp(t, x, &self.v, &mut self.dg) {
                    return false;
                }
                l.add_gw(&self.dg, dw, 0.5, &mut self.acc);
            }
            Plan::PerColumn => {
                for j in 0..nw {
                    if l.column(j).is_empty() {
                        continue;
                    }
                    l.column_vector(j, &self.g, &mut self.v);
                    if !sys.diffusion_jvp(t, x, &self.v, &mut self.dg) {
                        return false;
                    }
                    // dg_e = L^j g_e for every entry e = (i, k).
                    let paths = self.acc.chunks_exact_mut(nx).zip(self.dg.chunks_exact(np));
                    for ((acc, dg), dw) in paths.zip(dw.chunks_exact(nw)) {
                        for (&(i, k), &d) in l.entries.iter().zip(dg) {
                            let delta = if j == k { h } else { 0.0 };
                            acc[i] += 0.5 * d * (dw[j] * dw[k] - delta);
                        }
                    }
                }
            }
        }

        for ((x, &f), &a) in x.iter_mut().zip(&self.f).zip(&self.acc) {
            *x += h * f + a;
        }
        l.add_gw(&self.g, dw, 1.0, x);
        true
    }
}

/// Whether the noise of `sys` commutes at `(t, x)` (a batch: every path is checked), as
/// `milstein` needs: L^j g_·k = L^k g_·j for all noise components j, k, up to rounding
/// (relative 1e-8 of the terms, absolute 1e-12 of the largest term). Scalar and additive
/// noise always commute. The runner calls this at the initial state before using
/// `Method::Milstein`, since `stepper` cannot see the state.
pub fn check_commutative(sys: &dyn SdeSystem, t: f64, x: &[f64]) -> Result<(), Unfit> {
    let l = Layout::of(sys)?;
    if l.is_additive() || l.nw <= 1 {
        return Ok(());
    }
    if !sys.has_diffusion_jvp() {
        return Err(no_jvp(sys.calculus()));
    }
    // Entry lookup by (state, noise) for the L^k g_ij side.
    let mut index: Vec<((usize, usize), usize)> =
        l.entries.iter().enumerate().map(|(e, &p)| (p, e)).collect();
    index.sort_unstable();
    let find = |i: usize, j: usize| {
        index
            .binary_search_by(|probe| probe.0.cmp(&(i, j)))
            .ok()
            .map(|p| index[p].1)
    };
    let (nx, nw, np) = (l.nx, l.nw, l.np());
    // Chunks of paths bound the memory of the nw derivative batches.
    const CHUNK: usize = 64;
    for x in x.chunks(CHUNK * nx) {
        let nb = l.nb(x);
        let mut g = vec![0.0; nb * np];
        let mut v = vec![0.0; nb * nx];
        let mut d = vec![0.0; nw * nb * np]; // d[k][path][e] = L^k g_e
        sys.diffusion(t, x, &mut g);
        for (k, dk) in d.chunks_exact_mut(nb * np).enumerate() {
            l.column_vector(k, &g, &mut v);
            if !sys.diffusion_jvp(t, x, &v, dk) {
                return Err(Unfit(
                    "internal error: the model's noise derivative kernel failed".into(),
                ));
            }
        }
        let scale = d
            .iter()
            .filter(|a| a.is_finite())
            .fold(0.0f64, |m, a| m.max(a.abs()));
        let at = |k: usize, p: usize, e: usize| d[(k * nb + p) * np + e];
        for p in 0..nb {
            for (e, &(i, k)) in l.entries.iter().enumerate() {
                for j in (0..nw).filter(|&j| j != k) {
                    let a = at(j, p, e); // L^j g_ik
                    let b = find(i, j).map_or(0.0, |e2| at(k, p, e2)); // L^k g_ij
                    let tol = 1e-8 * a.abs().max(b.abs()) + 1e-12 * scale;
                    // NaN compares false: a non-finite start is the runner's to report.
                    if (a - b).abs() > tol {
                        let (j, k) = (j.min(k), j.max(k));
                        return Err(Unfit(format!(
                            "`milstein` needs commutative noise and the noise terms of this \
                             model do not commute (noise components {j} and {k}, at the \
                             initial state); use {}",
                            instead(sys.calculus())
                        )));
                    }
                }
            }
        }
    }
    Ok(())
}
