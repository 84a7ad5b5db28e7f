//! Ensembles of paths, in parallel and reproducible.
//!
//! Paths are split into chunks; a chunk is integrated as one batch (one call into native
//! code per step advances all its paths). Every path draws from its own stream, derived
//! from (seed, path index), and schemes treat the paths of a batch independently, so a
//! path's numbers do not depend on the chunking, the number of threads or the scheduling:
//! `--threads 1` and `--threads 2` give identical results. Chunks run in parallel in waves
//! of bounded memory, and their recordings are handed to the caller strictly in path order.

use super::SdeSystem;
use super::native::NativeSystem;
use super::schemes::{self, Increments, Method, Tolerances};
use crate::rt::Rng;
use rand::SeedableRng;
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};

/// What to do when a path's state stops being finite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnBlowup {
    /// Stop the run and report the first path that blew up.
    Stop,
    /// Leave the path out of the results, count it and go on.
    Drop,
}

#[derive(Clone, Debug)]
pub struct EnsembleConfig {
    pub paths: usize,
    pub seed: u64,
    pub threads: usize,
    pub method: Method,
    pub tolerances: Tolerances,
    /// Times to record, increasing, from 0.
    pub times: Vec<f64>,
    /// The step size (steps are shortened to land exactly on the recording times).
    pub dt: f64,
    pub on_blowup: OnBlowup,
    /// Show a progress bar on stderr.
    pub progress: bool,
}

/// A path whose state stopped being finite.
#[derive(Clone, Debug, PartialEq)]
pub struct Blowup {
    pub path: usize,
    /// The end of the step that produced the non-finite value.
    pub time: f64,
    pub variable: String,
    pub value: f64,
}

impl std::fmt::Display for Blowup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "path {} blew up at t = {}: `{}` became {}",
            self.path, self.time, self.variable, self.value
        )
    }
}

#[derive(Debug, PartialEq)]
pub enum RunError {
    /// The method does not fit the model.
    Unfit(String),
    /// A path blew up (with `OnBlowup::Stop`).
    Blowup(Blowup),
    /// The cancellation flag was raised.
    Cancelled,
    /// The consumer of the recordings failed (e.g. writing a file).
    Sink(String),
    /// A path reached a state the model does not allow (the message says where and when).
    Model(String),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Unfit(m) => f.write_str(m),
            RunError::Blowup(b) => write!(
                f,
                "{b} (a smaller --dt, another --method, or --on-blowup drop may help)"
            ),
            RunError::Cancelled => f.write_str("the run was interrupted"),
            RunError::Sink(m) | RunError::Model(m) => f.write_str(m),
        }
    }
}

/// What a finished run reports beside its recordings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunReport {
    /// Paths left out (`OnBlowup::Drop`), in path order.
    pub dropped: Vec<Blowup>,
    /// Integration steps taken per path (the recording grid's, with `dt`).
    pub steps_per_path: u64,
}

/// The stream of path `path` for `seed`.
pub fn path_rng(seed: u64, path: u64) -> Rng {
    // SplitMix64 finaliser over a combination of both, so nearby seeds and paths give
    // unrelated streams.
    let mut z = seed
        ^ path
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(0x632B_E59B_D9B4_E019);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    Rng::seed_from_u64(z ^ (z >> 31))
}

/// The steps between consecutive recording times: (number of steps, step size) per
/// interval, each interval split into equal steps no longer than `dt`.
fn step_plan(times: &[f64], dt: f64) -> Vec<(u64, f64)> {
    let mut t = 0.0;
    times
        .iter()
        .map(|&tr| {
            let span = tr - t;
            t = tr;
            if span <= 0.0 {
                return (0, 0.0);
            }
            // The small slack keeps 0.1 / 0.01 from becoming 11 steps.
            let n = ((span / dt) - 1e-9).ceil().max(1.0) as u64;
            (n, span / n as f64)
        })
        .collect()
}

/// The recording of one chunk: `values[(j * ntimes + k) * nvars + v]`, and what blew up.
pub(crate) struct ChunkResult {
    pub first: usize,
    pub values: Vec<f64>,
    pub blowups: Vec<Option<Blowup>>,
}

/// Run the ensemble, handing each kept path's recording (`times × variables`, row-major by
/// time) to `sink` in path order.
pub fn run(
    sys: &NativeSystem,
    cfg: &EnsembleConfig,
    cancel: &AtomicBool,
    sink: impl FnMut(usize, &[f64]) -> Result<(), String> + Send,
) -> Result<RunReport, RunError> {
    // Refuse a method that does not fit before any work.
    schemes::stepper(cfg.method, sys, cfg.tolerances).map_err(|u| RunError::Unfit(u.0))?;
    if cfg.method == Method::Milstein {
        check_commutative_at_start(sys, cfg)?;
    }
    let plan = step_plan(&cfg.times, cfg.dt);
    let shape = RunShape {
        paths: cfg.paths,
        threads: cfg.threads,
        values_per_path: cfg.times.len() * sys.model().variables.len(),
        progress: cfg.progress,
    };
    let dropped = drive(
        &shape,
        |a, b| run_chunk(sys, cfg, &plan, a, b, cancel),
        cfg.on_blowup,
        sink,
    )?;
    Ok(RunReport {
        dropped,
        steps_per_path: plan.iter().map(|p| p.0).sum(),
    })
}

/// The size of an ensemble, for [`drive`].
pub(crate) struct RunShape {
    pub paths: usize,
    pub threads: usize,
    /// Recorded values per path (times × variables).
    pub values_per_path: usize,
    pub progress: bool,
}

/// Run `compute` over chunks of paths in parallel, in waves of bounded memory, handing each
/// kept path's recording to `sink` in path order (one wave's while the next is computed).
/// Returns the paths dropped under `OnBlowup::Drop`.
pub(crate) fn drive(
    shape: &RunShape,
    compute_chunk: impl Fn(usize, usize) -> Result<ChunkResult, RunError> + Sync,
    on_blowup: OnBlowup,
    mut sink: impl FnMut(usize, &[f64]) -> Result<(), String> + Send,
) -> Result<Vec<Blowup>, RunError> {
    let threads = shape.threads.max(1);
    let per_path_values = shape.values_per_path;
    // Bytes of one path's recording: a chunk holds at most 32 MB of them (but one path).
    let per_path = (per_path_values * 8).max(1);
    let chunk = shape
        .paths
        .div_ceil(threads * 8)
        .clamp(1, 256)
        .min(((32usize << 20) / per_path).max(1));
    // Waves of chunks: the recordings of one wave are handed on (on one thread) while the
    // next is computed, so a wave is an eighth of the run, at least a round of chunks for
    // every thread, and at most about 128 MB of recordings (but one chunk).
    let wave_paths = shape
        .paths
        .div_ceil(8)
        .max(chunk * threads)
        .min(((128usize << 20) / per_path).max(chunk));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| RunError::Sink(format!("could not start {threads} threads: {e}")))?;
    let bar = progress_bar(shape);
    let mut dropped = Vec::new();
    let compute = |start: usize| -> Vec<Result<ChunkResult, RunError>> {
        let end = (start + wave_paths).min(shape.paths);
        let chunks: Vec<(usize, usize)> = (start..end)
            .step_by(chunk)
            .map(|a| (a, (a + chunk).min(end)))
            .collect();
        chunks
            .par_iter()
            .map(|&(a, b)| {
                let r = compute_chunk(a, b);
                if let Some(bar) = &bar {
                    advance(bar, b - a);
                }
                r
            })
            .collect()
    };
    // Hands one wave's recordings on, in path order.
    let mut consume = |results: Vec<Result<ChunkResult, RunError>>| -> Result<(), RunError> {
        for r in results {
            let r = r?;
            for (j, blowup) in r.blowups.into_iter().enumerate() {
                let path = r.first + j;
                match (blowup, on_blowup) {
                    (Some(b), OnBlowup::Stop) => return Err(RunError::Blowup(b)),
                    (Some(b), OnBlowup::Drop) => dropped.push(b),
                    (None, _) => {
                        let at = j * per_path_values;
                        sink(path, &r.values[at..at + per_path_values]).map_err(RunError::Sink)?;
                    }
                }
            }
        }
        Ok(())
    };
    let mut previous = Vec::new();
    pool.install(|| -> Result<(), RunError> {
        for start in (0..shape.paths).step_by(wave_paths) {
            let (current, handed_on) = rayon::join(|| compute(start), || consume(previous));
            handed_on?;
            previous = current;
        }
        consume(previous)
    })?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(dropped)
}

/// Milstein needs commuting noise: checked at the initial states of the first paths (the
/// same states the run starts from).
fn check_commutative_at_start(sys: &NativeSystem, cfg: &EnsembleConfig) -> Result<(), RunError> {
    let nx = sys.dim();
    let n = cfg.paths.min(64);
    let mut x = vec![0.0; n * nx];
    for (j, state) in x.chunks_mut(nx.max(1)).enumerate().take(n) {
        sys.init(&mut path_rng(cfg.seed, j as u64), state);
    }
    schemes::check_commutative(sys, 0.0, &x).map_err(|u| RunError::Unfit(u.0))
}

/// A progress bar for a run on a terminal; it stays hidden until the run has taken
/// [`PROGRESS_AFTER`], so short runs print nothing.
fn progress_bar(shape: &RunShape) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !shape.progress || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::hidden();
    bar.set_length(shape.paths as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} {bar:40} {pos}/{len} paths  {elapsed} (eta {eta})",
    ) {
        bar.set_style(style);
    }
    Some(bar)
}

const PROGRESS_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// Count `n` more paths done, showing the bar once the run has lasted long enough.
fn advance(bar: &indicatif::ProgressBar, n: usize) {
    if bar.is_hidden() && bar.elapsed() >= PROGRESS_AFTER {
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    }
    bar.inc(n as u64);
}

/// Integrate paths `first..end` as one batch.
fn run_chunk(
    sys: &NativeSystem,
    cfg: &EnsembleConfig,
    plan: &[(u64, f64)],
    first: usize,
    end: usize,
    cancel: &AtomicBool,
) -> Result<ChunkResult, RunError> {
    let info = sys.model();
    let (nx, nw, nout) = (info.nx, info.nw, info.n_outputs);
    let nvars = nx + nout;
    let nb = end - first;
    let ntimes = cfg.times.len();
    let mut stepper =
        schemes::stepper(cfg.method, sys, cfg.tolerances).map_err(|u| RunError::Unfit(u.0))?;
    let mut rngs: Vec<Rng> = (first..end).map(|p| path_rng(cfg.seed, p as u64)).collect();
    let mut x = vec![0.0; nb * nx];
    for (j, rng) in rngs.iter_mut().enumerate() {
        sys.init(rng, &mut x[j * nx..(j + 1) * nx]);
    }
    let mut values = vec![f64::NAN; nb * ntimes * nvars];
    let mut blowups: Vec<Option<Blowup>> = vec![None; nb];
    let mut dw = vec![0.0; nb * nw];
    let mut outputs = vec![0.0; nb * nout];
    let mut i10 = vec![0.0; if stepper.needs_area() { nb * nw } else { 0 }];
    let stop = cfg.on_blowup == OnBlowup::Stop;
    if check_finite(sys, &x, 0.0, first, &mut blowups) && stop {
        // An initial state that is not finite (a parameter that makes it NaN).
        return Ok(ChunkResult {
            first,
            values,
            blowups,
        });
    }
    let mut t = 0.0;
    for (k, (&tr, &(steps, h))) in cfg.times.iter().zip(plan).enumerate() {
        for i in 0..steps {
            if cancel.load(Ordering::Relaxed) {
                return Err(RunError::Cancelled);
            }
            let ti = t + i as f64 * h;
            if !stepper.step_drawing(sys, ti, h, &mut x, &mut rngs) {
                let area = stepper.needs_area().then_some(&mut i10[..]);
                schemes::draw_increments(h, nw, &mut rngs, &mut dw, area);
                let inc = Increments { dw: &dw, i10: &i10 };
                stepper.step(sys, ti, h, &mut x, &inc);
            }
            let t_after = if i + 1 == steps {
                tr
            } else {
                t + (i + 1) as f64 * h
            };
            if check_finite(sys, &x, t_after, first, &mut blowups) && stop {
                // The first path of this chunk to blow up is reported; the rest is moot.
                return Ok(ChunkResult {
                    first,
                    values,
                    blowups,
                });
            }
        }
        t = tr;
        if nout > 0 {
            sys.outputs(tr, &x, &mut outputs);
        }
        for j in 0..nb {
            let at = (j * ntimes + k) * nvars;
            values[at..at + nx].copy_from_slice(&x[j * nx..(j + 1) * nx]);
            values[at + nx..at + nvars].copy_from_slice(&outputs[j * nout..(j + 1) * nout]);
        }
    }
    Ok(ChunkResult {
        first,
        values,
        blowups,
    })
}

/// Record paths whose state has a non-finite value now (the first time only); whether a
/// path blew up now.
fn check_finite(
    sys: &NativeSystem,
    x: &[f64],
    t: f64,
    first: usize,
    blowups: &mut [Option<Blowup>],
) -> bool {
    let nx = sys.dim();
    if nx == 0 {
        return false;
    }
    // A sum of finite values is finite (unless it overflows, when the scan below finds
    // nothing): four running sums, which the compiler keeps in vector registers, decide the
    // common case without a branch per value.
    let mut sums = [0.0f64; 4];
    let quads = x.chunks_exact(4);
    let rest: f64 = quads.remainder().iter().sum();
    for q in quads {
        for (s, v) in sums.iter_mut().zip(q) {
            *s += v;
        }
    }
    if (sums.iter().sum::<f64>() + rest).is_finite() {
        return false;
    }
    let mut found = false;
    for (j, state) in x.chunks(nx).enumerate() {
        if blowups[j].is_some() {
            continue;
        }
        if let Some(v) = state.iter().position(|v| !v.is_finite()) {
            found = true;
            blowups[j] = Some(Blowup {
                path: first + j,
                time: t,
                variable: sys.model().variables[v].clone(),
                value: state[v],
            });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_land_on_recording_times() {
        let plan = step_plan(&[0.0, 0.1, 0.25, 0.25, 1.0], 0.01);
        assert_eq!(plan[0].0, 0);
        assert_eq!(plan[1].0, 10);
        assert_eq!(plan[2].0, 15);
        assert_eq!(plan[3].0, 0);
        assert_eq!(plan[4].0, 75);
        assert!((plan[2].1 - 0.01).abs() < 1e-15);
        // An interval that is not a multiple of dt gets equal, shorter steps.
        let plan = step_plan(&[0.105], 0.01);
        assert_eq!(plan[0].0, 11);
        assert!(plan[0].1 <= 0.01);
    }

    #[test]
    fn path_streams_differ() {
        use rand::RngExt as _;
        let a: u64 = path_rng(1, 0).random();
        let b: u64 = path_rng(1, 1).random();
        let c: u64 = path_rng(2, 0).random();
        assert!(a != b && a != c && b != c);
    }
}
