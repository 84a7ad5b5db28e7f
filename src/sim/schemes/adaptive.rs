//! Adaptive Euler–Maruyama with an Euler–Heun error estimate and Rejection Sampling with
//! Memory (C. Rackauckas & Q. Nie, "Adaptive methods for stochastic differential equations
//! via natural embeddings and rejection sampling with memory", Discrete Contin. Dyn. Syst.
//! B 22(7), 2017).
//!
//! **Models.** ODEs and additive noise (either calculus). State-dependent noise is refused:
//! the acceptance of a step depends on the ΔW it drew, so accepted steps have |ΔW|² smaller
//! than h on average, and Euler–Maruyama's Itô term (which relies on ΔW² ≈ h) is biased at
//! every tolerance — on GBM the mean came out 7 % high (18 standard errors) and the strong
//! error did not fall with the tolerance. RSwM keeps the Brownian path right; it cannot fix
//! that (a base scheme with the (ΔW² − h) terms, Milstein-type, would be needed).
//!
//! **Step.** From (t, x) with step h and Brownian increment ΔW: the Euler–Maruyama
//! predictor x̃ = x + f(t, x) h + G(t) ΔW is the solution. Its Heun corrector differs from
//! it by ½h(f(x̃) − f(x)) + ½(G(x̃) − G(x))ΔW (the natural embedding, as in Lamba's EM–Heun
//! pair); the local error estimate is, per
//! component, E_i = |½h(f_i(x̃) − f_i(x))| + |½ Σ_k (g_ik(x̃) − g_ik(x)) ΔW_k|, scaled by
//! atol + rtol·max(|x_i|, |x̃_i|), RMS over components. A step is accepted when that is ≤ 1.
//! The next step is h·clamp(0.9·err^(−½), 0.2, 5) (no growth right after a rejection): the
//! exponent ½ is the drift's (E ∝ h² there); where the noise dominates E ∝ h and it
//! under-corrects, which costs an extra rejection now and then, never accuracy.
//!
//! **Brownian path (RSwM).** The path's future is a stack of segments (end time, ΔW), the
//! earliest on top; a step takes segments off the stack up to its end, splits the one that
//! straddles it with the Brownian bridge — over [a, b] with increment D, the part over
//! [a, s] is N(D·(s−a)/(b−a), (s−a)(b−s)/(b−a)) and the rest is what remains of D — and
//! draws fresh N(0, ·) beyond the last segment. A rejected step puts all its pieces back, so
//! every value of W the controller has looked at is kept and the shorter retry only bridges
//! inside them: the path is a Brownian path whatever the rejections (the memory of RSwM3's
//! second stack, which makes combining several segments into one step exact).
//!
//! Increments are kept on dyadic grids (a segment's values are multiples of a power of two
//! 2⁻⁴⁰ below its standard deviation, finer for finer pieces), so a split is exact: the two
//! pieces add up to their parent bit for bit.
//!
//! Each path is controlled on its own, on one-path slices (as `dopri5`), so a path's numbers
//! do not depend on its batch. `step_drawing` integrates exactly from t to t + h drawing from
//! the path's own stream; the accepted step size is kept for the next call when that starts
//! where this one ended. `step`, given only ΔW over [t, t + h], runs the same control
//! inside that interval with ΔW as the bridge's end point (put on its grid: a change below
//! 2⁻⁴⁰ of its standard deviation); the bridge points are drawn from a stream seeded from
//! (t, h, ΔW), so they are reproducible but not independent of the caller's stream.

use super::layout::{Layout, fit, poison};
use super::{Increments, Stepper, Tolerances, Unfit, normal};
use crate::rt::Rng;
use crate::sim::SdeSystem;
use rand::SeedableRng;

/// Attempts one path may make in one call before it is given up as stuck.
const MAX_ATTEMPTS: usize = 10_000_000;
/// Step factor bounds and safety factor of the controller.
const SAFETY: f64 = 0.9;
const MIN_FACTOR: f64 = 0.2;
const MAX_FACTOR: f64 = 5.0;
/// Bits of a segment's grid below its standard deviation.
const GRID_BITS: i32 = 40;

/// A stretch of the Brownian path: it ends at `end` (and starts where the previous one
/// ends); its increments are multiples of `quantum`.
#[derive(Clone, Copy, Debug)]
struct Seg {
    end: f64,
    quantum: f64,
}

/// One path's Brownian future and the pieces of the step being tried.
pub(super) struct Path {
    nw: usize,
    /// Segments after the current time, the earliest last; `stack_dw` holds their
    /// increments, `nw` each, in the same order.
    stack: Vec<Seg>,
    stack_dw: Vec<f64>,
    /// The pieces of the step being tried, in time order.
    cur: Vec<Seg>,
    cur_dw: Vec<f64>,
    /// Scratch for one split: the parent's increments and the first piece.
    parent: Vec<f64>,
    piece: Vec<f64>,
}

/// 2^e for the exponents used here (normal range).
fn pow2(e: i32) -> f64 {
    2f64.powi(e.clamp(-1000, 1000))
}

/// The grid of a segment of length `len`: 2^−GRID_BITS of its standard deviation, rounded
/// up to a power of two.
fn grid(len: f64) -> f64 {
    pow2((0.5 * len.log2()).ceil() as i32 - GRID_BITS)
}

fn on_grid(v: f64, q: f64) -> f64 {
    (v / q).round() * q
}

/// Largest magnitude a multiple of `q` can have and still be exact in an f64.
fn exact_range(q: f64) -> f64 {
    pow2(52) * q
}

/// Split the increment `d` (multiples of `quantum`) of [a, b] at s with the Brownian bridge:
/// `p1` over [a, s], `p2 = d − p1` over [s, b]. Returns the pieces' grid, on which
/// `p1 + p2 == d` exactly (for every component unless one is beyond 2⁵² grid steps, which
/// is then split by plain subtraction).
pub(super) fn bridge_split(
    d: &[f64],
    quantum: f64,
    (a, s, b): (f64, f64, f64),
    rng: &mut Rng,
    p1: &mut [f64],
    p2: &mut [f64],
) -> f64 {
    let (l1, l2, len) = (s - a, b - s, b - a);
    let r = l1 / len;
    let sd = (l1 * l2 / len).sqrt();
    for p in p1.iter_mut() {
        *p = normal(rng);
    }
    // The finer grid of the longer piece, when every value fits on it; else the parent's.
    let fine = quantum.min(grid(l1.max(l2)));
    let raw = |d: f64, z: f64| r * d + sd * z;
    let fits = |q: f64| {
        d.iter().zip(p1.iter()).all(|(&d, &z)| {
            let v = on_grid(raw(d, z), q);
            v.abs() < exact_range(q) && (d - v).abs() < exact_range(q)
        })
    };
    let q = if fits(fine) { fine } else { quantum };
    for ((p1, p2), &d) in p1.iter_mut().zip(p2.iter_mut()).zip(d) {
        let mut v = raw(d, *p1);
        if v.abs() < exact_range(q) && (d - v).abs() < exact_range(q) {
            v = on_grid(v, q);
        }
        *p1 = v;
        *p2 = d - v;
    }
    q
}

/// A fresh increment over a segment of length `len` (N(0, len) per component, on the
/// segment's grid); returns the grid.
pub(super) fn fresh(len: f64, rng: &mut Rng, out: &mut [f64]) -> f64 {
    let q = grid(len);
    let sq = len.sqrt();
    for o in out.iter_mut() {
        *o = on_grid(sq * normal(rng), q);
    }
    q
}

impl Path {
    fn new(nw: usize) -> Path {
        Path {
            nw,
            stack: Vec::new(),
            stack_dw: Vec::new(),
            cur: Vec::new(),
            cur_dw: Vec::new(),
            parent: vec![0.0; nw],
            piece: vec![0.0; nw],
        }
    }

    fn clear(&mut self) {
        self.stack.clear();
        self.stack_dw.clear();
        self.cur.clear();
        self.cur_dw.clear();
    }

    /// Put a segment [now, end] with increments `dw` on top of the stack.
    fn push(&mut self, end: f64, quantum: f64, dw: &[f64]) {
        self.stack.push(Seg { end, quantum });
        self.stack_dw.extend_from_slice(dw);
    }

    /// Gather the pieces of a step from `pos` to `target` into `cur` (bridging a segment
    /// that straddles `target`, drawing beyond the stack) and their sum into `dw`. Returns
    /// where the step ends: `target`, or the end of a segment a hair beyond it (no sliver
    /// is left on the stack).
    fn take(&mut self, mut pos: f64, target: f64, rng: &mut Rng, dw: &mut [f64]) -> f64 {
        let nw = self.nw;
        self.cur.clear();
        self.cur_dw.clear();
        while pos < target {
            match self.stack.last().copied() {
                Some(seg) if seg.end <= target || seg.end - target <= 1e-9 * (seg.end - pos) => {
                    self.stack.pop();
                    let at = self.stack_dw.len() - nw;
                    self.cur.push(seg);
                    self.cur_dw.extend_from_slice(&self.stack_dw[at..]);
                    self.stack_dw.truncate(at);
                    pos = seg.end;
                }
                Some(seg) => {
                    // Bridge the straddling segment: the part up to `target` joins the
                    // step, the rest stays on the stack.
                    let at = self.stack_dw.len() - nw;
                    self.parent.copy_from_slice(&self.stack_dw[at..]);
                    let q = bridge_split(
                        &self.parent,
                        seg.quantum,
                        (pos, target, seg.end),
                        rng,
                        &mut self.piece,
                        &mut self.stack_dw[at..],
                    );
                    if let Some(top) = self.stack.last_mut() {
                        top.quantum = q;
                    }
                    self.cur.push(Seg {
                        end: target,
                        quantum: q,
                    });
                    self.cur_dw.extend_from_slice(&self.piece);
                    pos = target;
                }
                None => {
                    let start = self.cur_dw.len();
                    self.cur_dw.resize(start + nw, 0.0);
                    let q = fresh(target - pos, rng, &mut self.cur_dw[start..]);
                    self.cur.push(Seg {
                        end: target,
                        quantum: q,
                    });
                    pos = target;
                }
            }
        }
        dw.fill(0.0);
        for piece in self.cur_dw.chunks_exact(nw.max(1)) {
            for (d, &p) in dw.iter_mut().zip(piece) {
                *d += p;
            }
        }
        pos
    }

    /// A rejected step: its pieces go back on the stack, the earliest on top.
    fn put_back(&mut self) {
        let nw = self.nw;
        for (k, seg) in self.cur.iter().enumerate().rev() {
            self.stack.push(*seg);
            self.stack_dw
                .extend_from_slice(&self.cur_dw[k * nw..(k + 1) * nw]);
        }
        self.cur.clear();
        self.cur_dw.clear();
    }
}

pub(super) struct Adaptive {
    l: Layout,
    tol: Tolerances,
    /// Per path: where the last call left it and the step size it proposed.
    at_t: Vec<f64>,
    at_x: Vec<f64>,
    h_next: Vec<f64>,
    valid: Vec<bool>,
    /// Per path since the batch was set up: accepted and rejected steps, and the sum of
    /// the Brownian increments of the accepted steps (`nw` each).
    accepted: Vec<u64>,
    rejected: Vec<u64>,
    w: Vec<f64>,
    /// One path's scratch.
    path: Path,
    f0: Vec<f64>,
    f1: Vec<f64>,
    g0: Vec<f64>,
    g1: Vec<f64>,
    y: Vec<f64>,
    /// The noise part of the error estimate, per component.
    nd: Vec<f64>,
    dw: Vec<f64>,
    /// The sum of the accepted increments of the path in this call.
    w_call: Vec<f64>,
}

/// What one call did for one path.
struct Outcome {
    h_next: f64,
    accepted: u64,
    rejected: u64,
}

impl Adaptive {
    pub fn new(sys: &dyn SdeSystem, tol: Tolerances) -> Result<Adaptive, Unfit> {
        let l = Layout::of(sys)?;
        // Steps are accepted by the noise they drew: with state-dependent noise that
        // selects small |ΔW|² against h and biases Euler–Maruyama's Itô term (measured on
        // GBM: the mean 7 % high at any tolerance), so only additive noise is taken.
        if !l.is_additive() {
            return Err(Unfit(
                "`adaptive` needs additive noise (accepting Euler–Maruyama steps by the noise \
                 they drew biases state-dependent noise) — use em, milstein, sri or heun"
                    .into(),
            ));
        }
        let (nx, nw, np) = (l.nx, l.nw, l.np());
        Ok(Adaptive {
            tol,
            at_t: Vec::new(),
            at_x: Vec::new(),
            h_next: Vec::new(),
            valid: Vec::new(),
            accepted: Vec::new(),
            rejected: Vec::new(),
            w: Vec::new(),
            path: Path::new(nw),
            f0: vec![0.0; nx],
            f1: vec![0.0; nx],
            g0: vec![0.0; np],
            g1: vec![0.0; np],
            y: vec![0.0; nx],
            nd: vec![0.0; nx],
            dw: vec![0.0; nw],
            w_call: vec![0.0; nw],
            l,
        })
    }

    /// Accepted and rejected steps of path `j` so far.
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn counts(&self, j: usize) -> (u64, u64) {
        (self.accepted[j], self.rejected[j])
    }

    /// W(t) − W(start) of path `j`: the sum of the increments of its accepted steps.
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn w(&self, j: usize) -> &[f64] {
        let nw = self.l.nw;
        &self.w[j * nw..(j + 1) * nw]
    }

    fn setup(&mut self, nb: usize) {
        if self.valid.len() == nb {
            return;
        }
        self.valid.clear();
        self.valid.resize(nb, false);
        for b in [&mut self.at_t, &mut self.h_next] {
            fit(b, nb);
        }
        fit(&mut self.at_x, nb * self.l.nx);
        self.w.clear();
        self.w.resize(nb * self.l.nw, 0.0);
        self.accepted.clear();
        self.accepted.resize(nb, 0);
        self.rejected.clear();
        self.rejected.resize(nb, 0);
    }

    fn eval(&self, sys: &dyn SdeSystem, t: f64, x: &[f64], f: &mut [f64], g: &mut [f64]) {
        sys.drift(t, x, f);
        if self.l.np() > 0 {
            sys.diffusion(t, x, g);
        }
    }

    /// RMS over components of e / (atol + rtol·max(|a|, |b|)).
    fn norm(&self, v: impl Iterator<Item = (f64, f64, f64)>) -> f64 {
        let mut s = 0.0;
        for (e, a, b) in v {
            let sc = self.tol.atol + self.tol.rtol * a.abs().max(b.abs());
            s += (e / sc) * (e / sc);
        }
        (s / self.l.nx.max(1) as f64).sqrt()
    }

    /// A first step for a path at (t, x) with f0, g0 there: the step whose drift move is
    /// a hundredth of the state's scale and whose noise move (one standard deviation) a
    /// tenth of it, at most `h_max` (the control corrects it either way).
    fn initial_step(&self, x: &[f64], h_max: f64) -> f64 {
        let d0 = self.norm(x.iter().map(|&a| (a, a, a)));
        let d1 = self.norm(self.f0.iter().zip(x).map(|(&f, &a)| (f, a, a)));
        let mut rows = vec![0.0; self.l.nx];
        for (&(i, _), &g) in self.l.entries.iter().zip(&self.g0) {
            rows[i] += g * g;
        }
        let d2 = self.norm(rows.iter().zip(x).map(|(&r, &a)| (r.sqrt(), a, a)));
        let scale = d0.max(1.0);
        let mut h = h_max;
        if d1 > 1e-12 {
            h = h.min(0.01 * scale / d1);
        }
        if d2 > 1e-12 {
            h = h.min((0.1 * scale / d2).powi(2));
        }
        h
    }

    /// Integrate one path from `t` to `t_end`, `f0`, `g0` holding the drift and diffusion
    /// at (t, x), `h` the proposed step. `None` when the path has to be given up.
    fn integrate(
        &mut self,
        sys: &dyn SdeSystem,
        (t, t_end): (f64, f64),
        x: &mut [f64],
        mut h: f64,
        rng: &mut Rng,
    ) -> Option<Outcome> {
        let mut out = Outcome {
            h_next: h,
            accepted: 0,
            rejected: 0,
        };
        let mut t_cur = t;
        let mut after_rejection = false;
        for _ in 0..MAX_ATTEMPTS {
            let remaining = t_end - t_cur;
            if remaining <= 0.0 {
                out.h_next = h;
                return Some(out);
            }
            // Stretch by up to 1% rather than leave a sliver for a last tiny step.
            let last = 1.01 * h >= remaining;
            let target = if last { t_end } else { t_cur + h };
            let hs = target - t_cur;
            if hs.is_nan() || hs < 1e-14 * t_cur.abs().max(t_end.abs()) {
                return None; // the step size underflowed (or is NaN)
            }
            let mut dw = std::mem::take(&mut self.dw);
            let t_new = self.path.take(t_cur, target, rng, &mut dw);
            let hs = t_new - t_cur;
            let err = self.attempt(sys, (t_cur, t_new), x, &dw);
            self.dw = dw;
            if err.is_nan() {
                return None;
            }
            if err <= 1.0 {
                x.copy_from_slice(&self.y);
                std::mem::swap(&mut self.f0, &mut self.f1);
                std::mem::swap(&mut self.g0, &mut self.g1);
                out.accepted += 1;
                for (w, &d) in self.w_call.iter_mut().zip(&self.dw) {
                    *w += d;
                }
                let mut fac = if err == 0.0 {
                    MAX_FACTOR
                } else {
                    (SAFETY * err.powf(-0.5)).clamp(MIN_FACTOR, MAX_FACTOR)
                };
                if after_rejection {
                    fac = fac.min(1.0);
                }
                // A step clipped to land on t_end says little about the natural step size.
                h = if last && hs < h {
                    h.max(hs * fac)
                } else {
                    hs * fac
                };
                t_cur = t_new;
                after_rejection = false;
            } else {
                self.path.put_back();
                out.rejected += 1;
                h = hs * (SAFETY * err.powf(-0.5)).max(MIN_FACTOR);
                after_rejection = true;
            }
        }
        None
    }
}

impl Adaptive {
    /// Try the step (t, x) → t_new with increment `dw`: the predictor goes to `y`, f and G
    /// there to `f1`, `g1`; returns the scaled error.
    fn attempt(
        &mut self,
        sys: &dyn SdeSystem,
        (t, t_new): (f64, f64),
        x: &[f64],
        dw: &[f64],
    ) -> f64 {
        let hs = t_new - t;
        let l = &self.l;
        for ((y, &a), &f) in self.y.iter_mut().zip(x).zip(&self.f0) {
            *y = a + hs * f;
        }
        for (&(i, k), &g) in l.entries.iter().zip(&self.g0) {
            self.y[i] += g * dw[k];
        }
        sys.drift(t_new, &self.y, &mut self.f1);
        if l.np() > 0 {
            sys.diffusion(t_new, &self.y, &mut self.g1);
        }
        // The noise part of the corrector's difference, per component.
        self.nd.fill(0.0);
        for ((&(i, k), &a), &b) in l.entries.iter().zip(&self.g0).zip(&self.g1) {
            self.nd[i] += (b - a) * dw[k];
        }
        let (f0, f1, nd, y) = (&self.f0, &self.f1, &self.nd, &self.y);
        self.norm((0..l.nx).map(|i| {
            let e = (0.5 * hs * (f1[i] - f0[i])).abs() + (0.5 * nd[i]).abs();
            (e, x[i], y[i])
        }))
    }

    /// Advance path `j` (`xs`) from t to t + h. With `given`, the Brownian increment over
    /// the interval is that; otherwise it is drawn as the steps need it.
    fn run_path(
        &mut self,
        sys: &dyn SdeSystem,
        j: usize,
        (t, h): (f64, f64),
        xs: &mut [f64],
        rng: &mut Rng,
        given: Option<&[f64]>,
    ) {
        let nx = self.l.nx;
        let t_end = t + h;
        self.path.clear();
        if let Some(d) = given {
            let q = grid(h);
            let root: Vec<f64> = d.iter().map(|&v| on_grid(v, q)).collect();
            self.path.push(t_end, q, &root);
        }
        let mut f0 = std::mem::take(&mut self.f0);
        let mut g0 = std::mem::take(&mut self.g0);
        self.eval(sys, t, xs, &mut f0, &mut g0);
        self.f0 = f0;
        self.g0 = g0;
        let mem = j * nx..(j + 1) * nx;
        let same_t = (t - self.at_t[j]).abs() <= 1e-12 * t.abs().max(h);
        let h0 = if self.valid[j] && same_t && self.at_x[mem.clone()] == *xs {
            self.h_next[j]
        } else {
            self.initial_step(xs, h)
        };
        self.w_call.fill(0.0);
        match self.integrate(sys, (t, t_end), xs, h0, rng) {
            Some(o) => {
                self.at_t[j] = t_end;
                self.at_x[mem].copy_from_slice(xs);
                self.h_next[j] = o.h_next;
                self.valid[j] = true;
                self.accepted[j] += o.accepted;
                self.rejected[j] += o.rejected;
                let nw = self.l.nw;
                for (w, &d) in self.w[j * nw..(j + 1) * nw].iter_mut().zip(&self.w_call) {
                    *w += d;
                }
            }
            None => {
                poison(xs);
                self.valid[j] = false;
            }
        }
    }
}

/// A stream for the bridge points inside a given increment: SplitMix64 over the bits of
/// (t, h, ΔW).
fn given_stream(t: f64, h: f64, dw: &[f64]) -> Rng {
    let mut z: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut mix = |v: u64| {
        z = (z ^ v).wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
    };
    mix(t.to_bits());
    mix(h.to_bits());
    for d in dw {
        mix(d.to_bits());
    }
    Rng::seed_from_u64(z)
}

impl Stepper for Adaptive {
    fn needs_area(&self) -> bool {
        false
    }

    fn step(&mut self, sys: &dyn SdeSystem, t: f64, h: f64, x: &mut [f64], inc: &Increments) {
        let (nx, nw) = (self.l.nx, self.l.nw);
        if nx == 0 || h.is_nan() || h <= 0.0 {
            return;
        }
        let nb = x.len() / nx;
        self.setup(nb);
        for j in 0..nb {
            let dw = &inc.dw[j * nw..(j + 1) * nw];
            let mut rng = given_stream(t, h, dw);
            self.run_path(
                sys,
                j,
                (t, h),
                &mut x[j * nx..(j + 1) * nx],
                &mut rng,
                Some(dw),
            );
        }
    }

    fn step_drawing(
        &mut self,
        sys: &dyn SdeSystem,
        t: f64,
        h: f64,
        x: &mut [f64],
        rngs: &mut [Rng],
    ) -> bool {
        let nx = self.l.nx;
        if nx == 0 || h.is_nan() || h <= 0.0 {
            return true;
        }
        let nb = x.len() / nx;
        self.setup(nb);
        for (j, rng) in rngs.iter_mut().enumerate().take(nb) {
            self.run_path(sys, j, (t, h), &mut x[j * nx..(j + 1) * nx], rng, None);
        }
        true
    }
}
