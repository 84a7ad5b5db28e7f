//! Hand-written Euler–Maruyama loops: the yardstick an ensemble SDE engine is compared with.
//!
//! Layout: structure of arrays. Paths are advanced in chunks of `CHUNK`; within a chunk the
//! loop is "for each step, for each path: draw normal(s), update", so the chunk's state and
//! its generators stay in L1. Each path has its own `Xoshiro256PlusPlus`, seeded by
//! `seed_from_u64(seed ^ mix(path))`, drawing `rand_distr::StandardNormal`, so results do not
//! depend on the chunk size or the thread count (up to rounding in the merge of moments).
//!
//! Bookkeeping matches a summary recorder: every `RECORD_EVERY` steps (and at t = 0 and at the
//! end) the mean and sd (n − 1) across paths of each state component. A chunk's moments are
//! computed in two plain passes and merged into the running totals by Chan et al.'s pairwise
//! update (Welford's algorithm a chunk at a time), so there is no division per path value.
//! Nothing allocates inside the step loop; the inner loops are iterator zips (no bounds checks).

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rand_distr::{Distribution, StandardNormal};

/// Paths advanced together (64..1024 all measure the same here).
pub const CHUNK: usize = 256;
/// Record the summary every this many steps.
pub const RECORD_EVERY: usize = 10;

type Rng = Xoshiro256PlusPlus;

/// Mean and sd across paths at each recorded time, `dims` components each.
#[derive(Debug, Clone)]
pub struct Stats {
    pub dims: usize,
    pub times: Vec<f64>,
    /// `mean[r * dims + d]`: component `d` at `times[r]`.
    pub mean: Vec<f64>,
    pub sd: Vec<f64>,
}

impl Stats {
    pub fn final_mean(&self) -> &[f64] {
        &self.mean[self.mean.len() - self.dims..]
    }
    pub fn final_sd(&self) -> &[f64] {
        &self.sd[self.sd.len() - self.dims..]
    }
}

/// The per-path stream: `seed` mixed with the path index (a SplitMix64-style odd multiplier).
#[inline]
pub fn path_rng(seed: u64, path: usize) -> Rng {
    Rng::seed_from_u64(
        seed ^ (path as u64)
            .wrapping_add(1)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15),
    )
}

/// Ornstein–Uhlenbeck dx = θ(μ − x)dt + σ dW, θ = 1, μ = 0, σ = 0.5, x0 = 2. One thread.
pub fn ou_em(paths: usize, steps: usize, dt: f64, seed: u64) -> Stats {
    ou_em_threads(paths, steps, dt, seed, 1)
}

/// `ou_em` with the paths split into `threads` contiguous blocks (scoped std threads).
pub fn ou_em_threads(paths: usize, steps: usize, dt: f64, seed: u64, threads: usize) -> Stats {
    const THETA: f64 = 1.0;
    const MU: f64 = 0.0;
    const SIGMA: f64 = 0.5;
    let sdt = SIGMA * dt.sqrt();
    simulate(
        paths,
        steps,
        dt,
        seed,
        threads,
        [2.0],
        move |[x]: [&mut [f64]; 1], rngs: &mut [Rng]| {
            for (x, r) in x.iter_mut().zip(rngs) {
                let w: f64 = StandardNormal.sample(r);
                *x += THETA * (MU - *x) * dt + sdt * w;
            }
        },
    )
}

/// Stochastic Lorenz-63 with additive noise ε on each component: σ = 10, ρ = 28, β = 8/3,
/// ε = 1, x0 = y0 = z0 = 1. Three draws per path-step, in the order dW1, dW2, dW3. One thread.
pub fn lorenz_em(paths: usize, steps: usize, dt: f64, seed: u64) -> Stats {
    lorenz_em_threads(paths, steps, dt, seed, 1)
}

/// `lorenz_em` with the paths split into `threads` contiguous blocks (scoped std threads).
pub fn lorenz_em_threads(paths: usize, steps: usize, dt: f64, seed: u64, threads: usize) -> Stats {
    const SIGMA: f64 = 10.0;
    const RHO: f64 = 28.0;
    const BETA: f64 = 8.0 / 3.0;
    const EPS: f64 = 1.0;
    let edt = EPS * dt.sqrt();
    let step = move |[xs, ys, zs]: [&mut [f64]; 3], rngs: &mut [Rng]| {
        for (((x, y), z), r) in xs
            .iter_mut()
            .zip(ys.iter_mut())
            .zip(zs.iter_mut())
            .zip(rngs)
        {
            let w1: f64 = StandardNormal.sample(r);
            let w2: f64 = StandardNormal.sample(r);
            let w3: f64 = StandardNormal.sample(r);
            let (x0, y0, z0) = (*x, *y, *z);
            *x = x0 + SIGMA * (y0 - x0) * dt + edt * w1;
            *y = y0 + (x0 * (RHO - z0) - y0) * dt + edt * w2;
            *z = z0 + (x0 * y0 - BETA * z0) * dt + edt * w3;
        }
    };
    simulate(paths, steps, dt, seed, threads, [1.0; 3], step)
}

/// OU check values at time `t` for EM with step `dt` (θ = 1, μ = 0, σ = 0.5, x0 = 2):
/// mean x0·aⁿ and sd² = σ²dt(1 − a²ⁿ)/(1 − a²), a = 1 − θdt, n = t/dt. As n → ∞ the variance
/// tends to σ²dt/(1 − (1 − θdt)²) (sd 0.354441 at dt = 0.01), not the SDE's σ²/(2θ) (0.353553).
pub fn ou_em_exact(t: f64, dt: f64) -> (f64, f64) {
    let (theta, sigma, x0) = (1.0f64, 0.5f64, 2.0f64);
    let a = 1.0 - theta * dt;
    let n = (t / dt).round() as i32;
    let var = sigma * sigma * dt * (1.0 - a.powi(2 * n)) / (1.0 - a * a);
    (x0 * a.powi(n), var.sqrt())
}

/// The steps at which the summary is taken: 0, RECORD_EVERY, 2·RECORD_EVERY, …, and `steps`.
fn record_steps(steps: usize) -> Vec<usize> {
    let mut r: Vec<usize> = (0..=steps).step_by(RECORD_EVERY).collect();
    if r.last() != Some(&steps) {
        r.push(steps);
    }
    r
}

/// Runs `step` (one EM step for a chunk's paths) over all paths, `threads` blocks of paths.
fn simulate<const D: usize, F>(
    paths: usize,
    steps: usize,
    dt: f64,
    seed: u64,
    threads: usize,
    x0: [f64; D],
    step: F,
) -> Stats
where
    F: Fn([&mut [f64]; D], &mut [Rng]) + Sync,
{
    let recs = record_steps(steps);
    let threads = threads.clamp(1, paths.max(1));
    let mom = if threads == 1 {
        block::<D, F>(0, paths, seed, x0, &recs, &step)
    } else {
        let per = paths.div_ceil(threads);
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let (lo, hi) = ((t * per).min(paths), ((t + 1) * per).min(paths));
                    let (recs, step) = (&recs, &step);
                    s.spawn(move || block::<D, F>(lo, hi, seed, x0, recs, step))
                })
                .collect();
            let mut parts = handles
                .into_iter()
                .map(|h| h.join().expect("worker panicked"));
            let first = parts.next().expect("at least one thread");
            parts.fold(first, Moments::merge)
        })
    };
    mom.finish(D, recs.iter().map(|&s| s as f64 * dt).collect())
}

/// Paths `lo..hi`, a chunk at a time: moments at each recorded step.
fn block<const D: usize, F>(
    lo: usize,
    hi: usize,
    seed: u64,
    x0: [f64; D],
    recs: &[usize],
    step: &F,
) -> Moments
where
    F: Fn([&mut [f64]; D], &mut [Rng]),
{
    let mut mom = Moments::new(recs.len() * D);
    let mut state = [[0.0f64; CHUNK]; D];
    let mut rngs = vec![path_rng(seed, 0); CHUNK];
    for start in (lo..hi).step_by(CHUNK) {
        let n = CHUNK.min(hi - start);
        for (i, r) in rngs[..n].iter_mut().enumerate() {
            *r = path_rng(seed, start + i);
        }
        for (s, v) in state.iter_mut().zip(x0) {
            s[..n].fill(v);
        }
        let record = |mom: &mut Moments, slot: usize, state: &[[f64; CHUNK]; D]| {
            for (d, s) in state.iter().enumerate() {
                mom.add(slot * D + d, &s[..n]);
            }
        };
        record(&mut mom, 0, &state);
        let mut done = 0;
        for (slot, &until) in recs.iter().enumerate().skip(1) {
            for _ in done..until {
                step(state.each_mut().map(|s| &mut s[..n]), &mut rngs[..n]);
            }
            done = until;
            record(&mut mom, slot, &state);
        }
        mom.n += n as f64;
    }
    mom
}

/// Count, mean and sum of squared deviations for each (record, component) slot.
struct Moments {
    n: f64,
    mean: Vec<f64>,
    m2: Vec<f64>,
}

impl Moments {
    fn new(slots: usize) -> Self {
        Moments {
            n: 0.0,
            mean: vec![0.0; slots],
            m2: vec![0.0; slots],
        }
    }

    /// Folds one chunk's values of one slot in (Chan et al.); the caller advances `n` once
    /// the chunk's slots are all added.
    #[inline]
    fn add(&mut self, slot: usize, v: &[f64]) {
        let nc = v.len() as f64;
        let mc = v.iter().sum::<f64>() / nc;
        let m2c: f64 = v.iter().map(|&x| (x - mc) * (x - mc)).sum();
        let n = self.n + nc;
        let delta = mc - self.mean[slot];
        self.mean[slot] += delta * nc / n;
        self.m2[slot] += m2c + delta * delta * self.n * nc / n;
    }

    /// Two disjoint sets of paths combined (same pairwise update, every slot).
    fn merge(mut self, o: Moments) -> Moments {
        let n = self.n + o.n;
        if o.n == 0.0 {
            return self;
        }
        for ((m, m2), (om, om2)) in self
            .mean
            .iter_mut()
            .zip(&mut self.m2)
            .zip(o.mean.iter().zip(&o.m2))
        {
            let delta = om - *m;
            *m += delta * o.n / n;
            *m2 += om2 + delta * delta * self.n * o.n / n;
        }
        self.n = n;
        self
    }

    fn finish(self, dims: usize, times: Vec<f64>) -> Stats {
        let denom = (self.n - 1.0).max(1.0);
        let sd = self.m2.iter().map(|m2| (m2 / denom).sqrt()).collect();
        Stats {
            dims,
            times,
            mean: self.mean,
            sd,
        }
    }
}
