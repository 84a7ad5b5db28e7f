//! One path of a jump process: firings chosen by a [`Clock`] (the exact methods differ only
//! there), events at their times or conditions, and the state recorded at the recording
//! times as the piecewise-constant value it holds there (right-continuous: a change at a
//! recording time is included).

use super::events::Events;
use super::model::MjpKernels;
use crate::rt::Rng;
use std::sync::atomic::{AtomicBool, Ordering};

/// How the next firing is chosen.
pub trait Clock {
    /// Whether [`Clock::fired`] needs the propensities the firing replaced.
    const NEEDS_OLD: bool;
    /// A new path begins (forget what the last one learned).
    fn start_path(&mut self) {}
    /// All propensities are new (start of a path, after an event). `Err(channel)` when one
    /// is negative or not a number.
    fn reset(&mut self, t: f64, a: &[f64], rng: &mut Rng) -> Result<(), usize>;
    /// The next firing after `t`: (time, channel), or `None` when nothing can fire.
    fn next(&mut self, t: f64, a: &[f64], rng: &mut Rng) -> Result<Option<(f64, usize)>, usize>;
    /// `fired` fired at `t`; the channels in `affected` now have propensities `a[c]`
    /// (their previous values in `old`, in the same order, when `NEEDS_OLD`), and
    /// `change` sums up what changed.
    #[allow(clippy::too_many_arguments)]
    fn fired(
        &mut self,
        t: f64,
        fired: usize,
        affected: &[u32],
        old: &[f64],
        change: Change,
        a: &[f64],
        rng: &mut Rng,
    ) -> Result<(), usize>;
}

/// What a firing kernel reports beside the propensities it recomputed.
#[derive(Clone, Copy, Debug)]
pub struct Change {
    /// Σ (new − old) over the recomputed propensities.
    pub total: f64,
    /// Whether any recomputed propensity is negative or not finite.
    pub invalid: bool,
}

/// The first recomputed channel whose propensity is negative or not finite.
pub fn first_invalid(affected: &[u32], a: &[f64]) -> usize {
    affected
        .iter()
        .map(|&c| c as usize)
        .find(|&c| !(a[c] >= 0.0 && a[c].is_finite()))
        .unwrap_or(0)
}

/// What stopped a path.
#[derive(Clone, Debug, PartialEq)]
pub enum PathError {
    /// A propensity became negative or not a number.
    Propensity {
        channel: usize,
        value: f64,
        t: f64,
        state: Vec<f64>,
    },
    /// A firing or event left a count negative, fractional or not finite.
    BadState {
        cause: String,
        variable: usize,
        value: f64,
        t: f64,
    },
    /// More firings than `--max-events`.
    TooManyEvents {
        max: u64,
        t: f64,
    },
    /// `when` events kept triggering each other at one instant.
    EventLoop {
        t: f64,
    },
    Cancelled,
}

/// Fixed settings of every path.
pub struct PathConfig<'a> {
    pub times: &'a [f64],
    pub t_end: f64,
    pub max_events: u64,
    pub cancel: &'a AtomicBool,
}

/// Buffers a path needs, reused across the paths of a chunk.
pub struct PathBuffers {
    pub x: Vec<f64>,
    pub p: Vec<f64>,
    /// Scratch space of the firing kernels, then one propensity per channel.
    pub work: Vec<f64>,
    pub old: Vec<f64>,
    pub outputs: Vec<f64>,
}

impl PathBuffers {
    pub fn new(k: &MjpKernels) -> PathBuffers {
        let i = k.info;
        PathBuffers {
            x: vec![0.0; i.nx],
            p: i.bound.p.clone(),
            // Scratch space, the propensities, and the firing kernels' two summaries.
            work: vec![0.0; i.scratch + i.channels + 2],
            old: Vec::with_capacity(i.channels),
            outputs: vec![0.0; i.n_outputs],
        }
    }
}

/// What a finished path reports.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PathSummary {
    pub events: u64,
    /// Whether every propensity was zero before the end (the state then stays).
    pub absorbed: bool,
}

/// Check the cancellation flag this often (in firings).
pub(super) const CANCEL_EVERY: u64 = 1 << 16;

/// Simulate one path from its initial state, writing `times × variables` into `values`
/// and adding each group's firings to `counts`.
pub fn simulate<C: Clock>(
    k: &MjpKernels,
    clock: &mut C,
    cfg: &PathConfig,
    rng: &mut Rng,
    buf: &mut PathBuffers,
    values: &mut [f64],
    counts: &mut [u64],
) -> Result<PathSummary, PathError> {
    let (mut rec, mut events_due) = start(k, cfg, rng, buf, values)?;
    evolve(
        k,
        clock,
        cfg,
        0.0,
        &mut rec,
        &mut events_due,
        rng,
        buf,
        counts,
    )
}

/// Continue a path from the state in `buf` at `t0` to `cfg.t_end`, recording nothing (what
/// a particle filter does between observations). `first`: the path starts at `t0`, so `at`
/// events due at `t0` fire; otherwise they fired when the path last reached `t0`.
#[allow(clippy::too_many_arguments)]
pub fn advance<C: Clock>(
    k: &MjpKernels,
    clock: &mut C,
    cfg: &PathConfig,
    t0: f64,
    first: bool,
    rng: &mut Rng,
    buf: &mut PathBuffers,
    counts: &mut [u64],
) -> Result<PathSummary, PathError> {
    let (mut rec, mut events) = continuation(k, t0, first, buf);
    evolve(k, clock, cfg, t0, &mut rec, &mut events, rng, buf, counts)
}

/// What a path continued from `t0` starts with: no recording, and its events (see
/// [`advance`] for `first`).
pub(super) fn continuation(
    k: &MjpKernels,
    t0: f64,
    first: bool,
    buf: &mut PathBuffers,
) -> (Recording<'static>, Events) {
    let events = if first {
        Events::start(k, t0, buf)
    } else {
        Events::resume(k, t0, buf)
    };
    (Recording::new(&[], &mut []), events)
}

/// The firings and events of a path from `t0` to `cfg.t_end`.
#[allow(clippy::too_many_arguments)]
fn evolve<C: Clock>(
    k: &MjpKernels,
    clock: &mut C,
    cfg: &PathConfig,
    t0: f64,
    rec: &mut Recording,
    events_due: &mut Events,
    rng: &mut Rng,
    buf: &mut PathBuffers,
    counts: &mut [u64],
) -> Result<PathSummary, PathError> {
    let info = k.info;
    let scratch = info.scratch;
    let rates = scratch..scratch + info.channels;
    let mut t = t0;
    let mut events = 0u64;
    let mut absorbed = false;
    clock.start_path();
    reset(k, clock, t, rng, buf)?;
    loop {
        let next_at = events_due.next_time();
        let horizon = next_at.min(cfg.t_end);
        let a = &buf.work[rates.clone()];
        let next = clock
            .next(t, a, rng)
            .map_err(|c| propensity_error(c, a, t, &buf.x))?;
        match next {
            Some((tn, c)) if tn <= horizon => {
                rec.until(k, tn, &mut buf.x, &mut buf.p, &mut buf.outputs, false);
                t = tn;
                events += 1;
                if events > cfg.max_events {
                    return Err(PathError::TooManyEvents {
                        max: cfg.max_events,
                        t,
                    });
                }
                if events.is_multiple_of(CANCEL_EVERY) && cfg.cancel.load(Ordering::Relaxed) {
                    return Err(PathError::Cancelled);
                }
                let g = info.group_of[c] as usize;
                counts[g] += 1;
                let affected = &info.affected[g];
                if C::NEEDS_OLD {
                    let a = &buf.work[rates.clone()];
                    buf.old.clear();
                    buf.old.extend(affected.iter().map(|&d| a[d as usize]));
                }
                k.fire(c, t, &mut buf.x, &mut buf.p, rng, &mut buf.work);
                if info.check_after[g] {
                    let cause = format!("firing `{}`", info.group_names[g]);
                    check_counts(k, &buf.x, t, &cause, info.changes[g].as_deref())?;
                }
                let change = Change {
                    total: buf.work[rates.end],
                    invalid: buf.work[rates.end + 1] != 0.0,
                };
                let a = &buf.work[rates.clone()];
                clock
                    .fired(t, c, affected, &buf.old, change, a, rng)
                    .map_err(|c| propensity_error(c, a, t, &buf.x))?;
                if events_due.watching() && events_due.after_change(k, t, rng, buf)? {
                    reset(k, clock, t, rng, buf)?;
                }
            }
            next => {
                if next.is_none() && horizon == cfg.t_end {
                    absorbed = true;
                }
                if next_at > cfg.t_end {
                    rec.until(k, cfg.t_end, &mut buf.x, &mut buf.p, &mut buf.outputs, true);
                    break;
                }
                // An `at` event: the state until then is what it was.
                rec.until(k, next_at, &mut buf.x, &mut buf.p, &mut buf.outputs, false);
                t = next_at;
                events_due.fire_due(k, t, rng, buf)?;
                reset(k, clock, t, rng, buf)?;
            }
        }
    }
    Ok(PathSummary { events, absorbed })
}

impl<'a> Recording<'a> {
    /// The next time to record (∞ once every row is written).
    pub(super) fn next_time(&self) -> f64 {
        self.next_time
    }

    pub(super) fn new(times: &'a [f64], values: &'a mut [f64]) -> Recording<'a> {
        Recording {
            times,
            next: 0,
            next_time: times.first().copied().unwrap_or(f64::INFINITY),
            values,
        }
    }
}

/// The start of every path: the bound parameters, the initial state (checked), and the
/// recording and events from t = 0.
pub(super) fn start<'a>(
    k: &MjpKernels,
    cfg: &PathConfig<'a>,
    rng: &mut Rng,
    buf: &mut PathBuffers,
    values: &'a mut [f64],
) -> Result<(Recording<'a>, Events), PathError> {
    buf.p.copy_from_slice(&k.info.bound.p);
    k.init(rng, &mut buf.x);
    check_counts(k, &buf.x, 0.0, "the initial state", None)?;
    Ok((
        Recording::new(cfg.times, values),
        Events::start(k, 0.0, buf),
    ))
}

/// For methods that step (leaps, steps of a diffusion): the time the next step must end
/// at — the next recording or event time, or the end — or `None` when the path is done.
/// Events due at `t` fire first, so the state recorded at their time is the one they leave.
pub(super) fn next_stop(
    k: &MjpKernels,
    t: f64,
    cfg: &PathConfig,
    rec: &mut Recording,
    events: &mut Events,
    rng: &mut Rng,
    buf: &mut PathBuffers,
) -> Result<Option<f64>, PathError> {
    loop {
        let next_at = events.next_time();
        let stop = next_at.min(cfg.t_end).min(rec.next_time().max(t));
        if t < stop {
            return Ok(Some(stop));
        }
        if next_at <= t {
            events.fire_due(k, t, rng, buf)?;
            continue;
        }
        rec.until(k, t, &mut buf.x, &mut buf.p, &mut buf.outputs, true);
        if t >= cfg.t_end {
            return Ok(None);
        }
    }
}

/// Recomputes every propensity and restarts the clock.
fn reset<C: Clock>(
    k: &MjpKernels,
    clock: &mut C,
    t: f64,
    rng: &mut Rng,
    buf: &mut PathBuffers,
) -> Result<(), PathError> {
    let rates = k.info.scratch..k.info.scratch + k.info.channels;
    k.propensities(t, &mut buf.x, &mut buf.p, &mut buf.work[rates.clone()]);
    let a = &buf.work[rates];
    clock
        .reset(t, a, rng)
        .map_err(|c| propensity_error(c, a, t, &buf.x))
}

pub(super) fn propensity_error(channel: usize, a: &[f64], t: f64, x: &[f64]) -> PathError {
    PathError::Propensity {
        channel,
        value: a[channel],
        t,
        state: x.to_vec(),
    }
}

/// Species counts must stay whole and non-negative, and every state finite. `touched`
/// limits the check to a reaction's species.
pub(crate) fn check_counts(
    k: &MjpKernels,
    x: &[f64],
    t: f64,
    cause: &str,
    touched: Option<&[(usize, i64)]>,
) -> Result<(), PathError> {
    let bad = |i: usize, v: f64| PathError::BadState {
        cause: cause.to_string(),
        variable: i,
        value: v,
        t,
    };
    match touched {
        Some(changes) => {
            for &(i, _) in changes {
                if x[i].is_nan() || x[i] < 0.0 {
                    return Err(bad(i, x[i]));
                }
            }
        }
        None => {
            for &i in &k.info.species {
                if !(x[i] >= 0.0 && x[i].fract() == 0.0) {
                    return Err(bad(i, x[i]));
                }
            }
            if let Some(i) = x.iter().position(|v| !v.is_finite()) {
                return Err(bad(i, x[i]));
            }
        }
    }
    Ok(())
}

/// Writes the recording rows as time passes.
pub(super) struct Recording<'a> {
    times: &'a [f64],
    next: usize,
    /// `times[next]`, or ∞ once every row is written.
    next_time: f64,
    values: &'a mut [f64],
}

impl Recording<'_> {
    /// Record the current state at every recording time before `t` (or up to and
    /// including it, with `inclusive`).
    #[inline]
    pub(super) fn until(
        &mut self,
        k: &MjpKernels,
        t: f64,
        x: &mut [f64],
        p: &mut [f64],
        outputs: &mut [f64],
        inclusive: bool,
    ) {
        if t > self.next_time || (t == self.next_time && inclusive) {
            self.write_rows(k, t, x, p, outputs, inclusive);
        }
    }

    #[cold]
    fn write_rows(
        &mut self,
        k: &MjpKernels,
        t: f64,
        x: &mut [f64],
        p: &mut [f64],
        outputs: &mut [f64],
        inclusive: bool,
    ) {
        let info = k.info;
        let nvars = info.nx + info.n_outputs;
        while let Some(&tr) = self.times.get(self.next) {
            if tr > t || (tr == t && !inclusive) {
                break;
            }
            let row = &mut self.values[self.next * nvars..(self.next + 1) * nvars];
            row[..info.nx].copy_from_slice(x);
            if info.n_outputs > 0 {
                k.outputs(tr, x, p, outputs);
                row[info.nx..].copy_from_slice(outputs);
            }
            self.next += 1;
        }
        self.next_time = self.times.get(self.next).copied().unwrap_or(f64::INFINITY);
    }
}
