//! Closure-based test systems and a harness that drives several step sizes with one
//! Brownian path per sample.

use crate::rt::{Rng, rng_from_seed};
use crate::sim::schemes::{Increments, Method, Stepper, Tolerances, draw_increments, stepper};
use crate::sim::{Calculus, NoiseKind, SdeSystem};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

type Field = Box<dyn Fn(f64, &[f64], &mut [f64]) + Sync + Send>;
type Jvp = Box<dyn Fn(f64, &[f64], &[f64], &mut [f64]) + Sync + Send>;

/// A system from per-path closures: `f(t, x, out)`, `g(t, x, entries)`,
/// `dg(t, x, v, dentries)`.
pub struct TestSys {
    pub nx: usize,
    pub nw: usize,
    pub pattern: Vec<(usize, usize)>,
    pub kind: NoiseKind,
    pub calculus: Calculus,
    pub f: Field,
    pub g: Field,
    pub dg: Option<Jvp>,
    /// Offer a fused Euler–Maruyama step.
    pub fused: bool,
    pub fused_calls: AtomicUsize,
    pub drift_calls: AtomicUsize,
    /// Times the drift was called at, when recording.
    pub times: Option<Mutex<Vec<f64>>>,
}

impl TestSys {
    pub fn new(nx: usize, nw: usize, pattern: Vec<(usize, usize)>, kind: NoiseKind) -> TestSys {
        TestSys {
            nx,
            nw,
            pattern,
            kind,
            calculus: Calculus::Ito,
            f: Box::new(|_, _, o| o.fill(0.0)),
            g: Box::new(|_, _, o| o.fill(0.0)),
            dg: None,
            fused: false,
            fused_calls: AtomicUsize::new(0),
            drift_calls: AtomicUsize::new(0),
            times: None,
        }
    }

    pub fn ode(nx: usize, f: impl Fn(f64, &[f64], &mut [f64]) + Sync + Send + 'static) -> Self {
        let mut s = TestSys::new(nx, 0, vec![], NoiseKind::None);
        s.f = Box::new(f);
        s
    }

    pub fn stratonovich(mut self) -> Self {
        self.calculus = Calculus::Stratonovich;
        self
    }

    pub fn without_jvp(mut self) -> Self {
        self.dg = None;
        self
    }
}

impl SdeSystem for TestSys {
    fn dim(&self) -> usize {
        self.nx
    }
    fn noise_dim(&self) -> usize {
        self.nw
    }
    fn pattern(&self) -> &[(usize, usize)] {
        &self.pattern
    }
    fn noise_kind(&self) -> NoiseKind {
        self.kind
    }
    fn calculus(&self) -> Calculus {
        self.calculus
    }
    fn drift(&self, t: f64, x: &[f64], out: &mut [f64]) {
        self.drift_calls.fetch_add(1, Ordering::Relaxed);
        if let Some(times) = &self.times {
            times.lock().unwrap().push(t);
        }
        for (x, o) in x.chunks_exact(self.nx).zip(out.chunks_exact_mut(self.nx)) {
            (self.f)(t, x, o);
        }
    }
    fn diffusion(&self, t: f64, x: &[f64], g: &mut [f64]) {
        let np = self.pattern.len();
        for (x, o) in x.chunks_exact(self.nx).zip(g.chunks_exact_mut(np)) {
            (self.g)(t, x, o);
        }
    }
    fn diffusion_jvp(&self, t: f64, x: &[f64], v: &[f64], dg: &mut [f64]) -> bool {
        let Some(jvp) = &self.dg else { return false };
        let (nx, np) = (self.nx, self.pattern.len());
        let paths = x.chunks_exact(nx).zip(v.chunks_exact(nx));
        for ((x, v), o) in paths.zip(dg.chunks_exact_mut(np)) {
            jvp(t, x, v, o);
        }
        true
    }
    fn has_diffusion_jvp(&self) -> bool {
        self.dg.is_some()
    }
    fn em_step(&self, t: f64, dt: f64, x: &mut [f64], dw: &[f64]) -> bool {
        if !self.fused {
            return false;
        }
        self.fused_calls.fetch_add(1, Ordering::Relaxed);
        let (nx, nw, np) = (self.nx, self.nw, self.pattern.len());
        let mut f = vec![0.0; nx];
        let mut g = vec![0.0; np];
        for (x, dw) in x.chunks_exact_mut(nx).zip(dw.chunks_exact(nw.max(1))) {
            (self.f)(t, x, &mut f);
            (self.g)(t, x, &mut g);
            for (x, f) in x.iter_mut().zip(&f) {
                *x += dt * f;
            }
            for (&(i, k), g) in self.pattern.iter().zip(&g) {
                x[i] += g * dw[k];
            }
        }
        true
    }
}

/// Itô GBM dX = μX dt + σX dW (scalar noise), with ∂g/∂x.
pub fn gbm(mu: f64, sigma: f64) -> TestSys {
    let mut s = TestSys::new(1, 1, vec![(0, 0)], NoiseKind::Scalar);
    s.f = Box::new(move |_, x, o| o[0] = mu * x[0]);
    s.g = Box::new(move |_, x, o| o[0] = sigma * x[0]);
    s.dg = Some(Box::new(move |_, _, v, o| o[0] = sigma * v[0]));
    s
}

/// The Stratonovich form of the same process: dX = (μ − σ²/2)X dt + σX∘dW.
pub fn gbm_stratonovich(mu: f64, sigma: f64) -> TestSys {
    gbm(mu - 0.5 * sigma * sigma, sigma).stratonovich()
}

/// Two independent GBMs, diagonal noise: dX_i = μ_i X_i dt + σ_i X_i dW_i.
pub fn diagonal_gbm(mu: [f64; 2], sigma: [f64; 2]) -> TestSys {
    let mut s = TestSys::new(2, 2, vec![(0, 0), (1, 1)], NoiseKind::Diagonal);
    s.f = Box::new(move |_, x, o| {
        o[0] = mu[0] * x[0];
        o[1] = mu[1] * x[1];
    });
    s.g = Box::new(move |_, x, o| {
        o[0] = sigma[0] * x[0];
        o[1] = sigma[1] * x[1];
    });
    s.dg = Some(Box::new(move |_, _, v, o| {
        o[0] = sigma[0] * v[0];
        o[1] = sigma[1] * v[1];
    }));
    s
}

/// Two GBMs driven by one Wiener process (scalar noise on two components):
/// dX_i = μ_i X_i dt + σ_i X_i dW.
pub fn scalar_pair(mu: [f64; 2], sigma: [f64; 2]) -> TestSys {
    let mut s = diagonal_gbm(mu, sigma);
    s.nw = 1;
    s.pattern = vec![(0, 0), (1, 0)];
    s.kind = NoiseKind::Scalar;
    s
}

/// Commutative general noise: g_ik = s_ik x_i for a full 2×2 pattern (every column is a
/// diagonal linear map of x, so the columns' derivatives commute). Itô.
pub fn commutative_general(mu: [f64; 2], s: [[f64; 2]; 2]) -> TestSys {
    let pattern = vec![(0, 0), (0, 1), (1, 0), (1, 1)];
    let mut sys = TestSys::new(2, 2, pattern, NoiseKind::General);
    sys.f = Box::new(move |_, x, o| {
        o[0] = mu[0] * x[0];
        o[1] = mu[1] * x[1];
    });
    sys.g = Box::new(move |_, x, o| {
        o[0] = s[0][0] * x[0];
        o[1] = s[0][1] * x[0];
        o[2] = s[1][0] * x[1];
        o[3] = s[1][1] * x[1];
    });
    sys.dg = Some(Box::new(move |_, _, v, o| {
        o[0] = s[0][0] * v[0];
        o[1] = s[0][1] * v[0];
        o[2] = s[1][0] * v[1];
        o[3] = s[1][1] * v[1];
    }));
    sys
}

/// Non-commutative noise: dX0 = X1 dW0, dX1 = X0 dW1 (diagonal pattern, but each term
/// depends on the other component: L^1 g_·0 = (x0, 0) ≠ L^0 g_·1 = (0, x1)).
pub fn cross_diagonal() -> TestSys {
    let mut s = TestSys::new(2, 2, vec![(0, 0), (1, 1)], NoiseKind::Diagonal);
    s.g = Box::new(|_, x, o| {
        o[0] = x[1];
        o[1] = x[0];
    });
    s.dg = Some(Box::new(|_, _, v, o| {
        o[0] = v[1];
        o[1] = v[0];
    }));
    s
}

/// Non-commutative general noise: x0 driven by both components, g = [[x1, 1], [0, x0]].
pub fn noncommutative_general() -> TestSys {
    let mut s = TestSys::new(2, 2, vec![(0, 0), (0, 1), (1, 1)], NoiseKind::General);
    s.g = Box::new(|_, x, o| {
        o[0] = x[1];
        o[1] = 1.0;
        o[2] = x[0];
    });
    s.dg = Some(Box::new(|_, _, v, o| {
        o[0] = v[1];
        o[1] = 0.0;
        o[2] = v[0];
    }));
    s
}

/// Additive noise with a nonlinear, time-dependent drift and time-dependent noise, two
/// noise components in a general pattern:
/// dX0 = (X1 − X0³) dt + dW0,
/// dX1 = (−X0 + 0.3 sin t) dt + 0.6 dW0 + 0.8(1 + t) dW1.
pub fn additive_nonlinear() -> TestSys {
    let pattern = vec![(0, 0), (1, 0), (1, 1)];
    let mut s = TestSys::new(2, 2, pattern, NoiseKind::Additive);
    s.f = Box::new(|t, x, o| {
        o[0] = x[1] - x[0] * x[0] * x[0];
        o[1] = -x[0] + 0.3 * t.sin();
    });
    s.g = Box::new(|t, _, o| {
        o[0] = 1.0;
        o[1] = 0.6;
        o[2] = 0.8 * (1.0 + t);
    });
    s.dg = Some(Box::new(|_, _, _, o| o.fill(0.0)));
    s
}

/// Per-path streams as the runner makes them (any fixed derivation will do).
pub fn rngs(seed: u64, first: usize, n: usize) -> Vec<Rng> {
    (first..first + n)
        .map(|p| rng_from_seed(seed.wrapping_mul(1_000_003).wrapping_add(p as u64)))
        .collect()
}

/// One Brownian path per sample, drawn on a fine grid and fed to several step sizes at
/// once (streamed: nothing of size `n` is stored).
pub struct Drive {
    /// Paths, noise components, fine steps, end time.
    pub m: usize,
    pub nw: usize,
    pub n: usize,
    pub t_end: f64,
    pub seed: u64,
}

/// What a drive produced: final states per coarsening factor, of the optional reference
/// run on the fine grid itself, and W(T).
pub struct Finals {
    pub h: Vec<f64>,
    pub x: Vec<Vec<f64>>,
    pub reference: Vec<f64>,
    pub w_end: Vec<f64>,
}

impl Drive {
    /// Integrate `m` paths from `x0` with `method` at step sizes `r·T/n` for each `r` in
    /// `rs` (which divide `n`), and with `reference` on the fine grid if given. Coarse
    /// increments are sums of the fine ones, and over [t, t + 2δ]
    /// I_(1,0) = I_a + I_b + δ ΔW_a (and so on for r sub-steps).
    pub fn run(
        &self,
        sys: &TestSys,
        x0: &[f64],
        method: Method,
        rs: &[usize],
        reference: Option<Method>,
    ) -> Finals {
        let (m, nw) = (self.m, self.nw);
        let delta = self.t_end / self.n as f64;
        let start: Vec<f64> = (0..m).flat_map(|_| x0.iter().copied()).collect();
        let make = |method| stepper(method, sys, Tolerances::default()).expect("method fits");
        struct Level {
            r: usize,
            st: Box<dyn Stepper>,
            x: Vec<f64>,
            dw: Vec<f64>,
            i10: Vec<f64>,
        }
        let mut levels: Vec<Level> = rs
            .iter()
            .map(|&r| Level {
                r,
                st: make(method),
                x: start.clone(),
                dw: vec![0.0; m * nw],
                i10: vec![0.0; m * nw],
            })
            .collect();
        let mut fine = reference.map(|method| (make(method), start.clone()));
        let mut rngs = rngs(self.seed, 0, m);
        let (mut dw, mut i10) = (vec![0.0; m * nw], vec![0.0; m * nw]);
        let mut w_end = vec![0.0; m * nw];
        for s in 0..self.n {
            draw_increments(delta, nw, &mut rngs, &mut dw, Some(&mut i10));
            for (w, d) in w_end.iter_mut().zip(&dw) {
                *w += d;
            }
            if let Some((st, x)) = &mut fine {
                let inc = Increments { dw: &dw, i10: &i10 };
                st.step(sys, s as f64 * delta, delta, x, &inc);
            }
            for l in &mut levels {
                for e in 0..m * nw {
                    l.i10[e] += i10[e] + delta * l.dw[e];
                    l.dw[e] += dw[e];
                }
                if (s + 1) % l.r == 0 {
                    let h = l.r as f64 * delta;
                    let t = ((s + 1) / l.r - 1) as f64 * h;
                    let inc = Increments {
                        dw: &l.dw,
                        i10: &l.i10,
                    };
                    l.st.step(sys, t, h, &mut l.x, &inc);
                    l.dw.fill(0.0);
                    l.i10.fill(0.0);
                }
            }
        }
        Finals {
            h: rs.iter().map(|&r| r as f64 * delta).collect(),
            x: levels.into_iter().map(|l| l.x).collect(),
            reference: fine.map(|f| f.1).unwrap_or_default(),
            w_end,
        }
    }
}

/// Least-squares slope of ln y against ln x.
pub fn slope(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let lx: Vec<f64> = x.iter().map(|v| v.ln()).collect();
    let ly: Vec<f64> = y.iter().map(|v| v.ln()).collect();
    let mx = lx.iter().sum::<f64>() / n;
    let my = ly.iter().sum::<f64>() / n;
    let sxy: f64 = lx.iter().zip(&ly).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = lx.iter().map(|a| (a - mx) * (a - mx)).sum();
    sxy / sxx
}

/// A strong-order measurement: the mean error E|X_h(T) − X(T)| (Euclidean norm over
/// components) at each step size, its fitted log-log slope, and the slope's jackknife
/// standard error over 20 groups of paths.
pub struct Strong {
    pub h: Vec<f64>,
    pub err: Vec<f64>,
    pub slope: f64,
    pub se: f64,
}

/// Strong errors of the runs in `f` against `exact` final states (`paths * nx`).
pub fn strong(f: &Finals, exact: &[f64], nx: usize) -> Strong {
    const GROUPS: usize = 20;
    let paths = exact.len() / nx;
    // Per step size: the error sum of each group of paths.
    let sums: Vec<[f64; GROUPS]> =
        f.x.iter()
            .map(|x| {
                let mut g = [0.0; GROUPS];
                for (j, (a, b)) in x.chunks_exact(nx).zip(exact.chunks_exact(nx)).enumerate() {
                    let e: f64 = a.iter().zip(b).map(|(a, b)| (a - b) * (a - b)).sum();
                    g[j * GROUPS / paths] += e.sqrt();
                }
                g
            })
            .collect();
    let total = |skip: Option<usize>| -> Vec<f64> {
        sums.iter()
            .map(|g| (0..GROUPS).filter(|&i| Some(i) != skip).map(|i| g[i]).sum())
            .collect()
    };
    let err: Vec<f64> = total(None).iter().map(|s| s / paths as f64).collect();
    let full = slope(&f.h, &err);
    let jack: Vec<f64> = (0..GROUPS).map(|g| slope(&f.h, &total(Some(g)))).collect();
    let jm = jack.iter().sum::<f64>() / GROUPS as f64;
    let var =
        jack.iter().map(|s| (s - jm) * (s - jm)).sum::<f64>() * (GROUPS - 1) as f64 / GROUPS as f64;
    Strong {
        h: f.h.clone(),
        err,
        slope: full,
        se: var.sqrt(),
    }
}
