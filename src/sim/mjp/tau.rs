//! Adaptive explicit tau-leaping with the step selection of Cao, Gillespie and Petzold
//! (J. Chem. Phys. 124:044109, 2006): each leap fires Poisson(a_j τ) of every
//! non-critical reaction, with τ chosen so that no propensity changes by more than a
//! fraction ε of itself; *critical* reactions (fewer than `N_CRITICAL` firings from
//! exhausting a reactant) fire at most once per leap, chosen exactly; a leap that would
//! make a count negative is halved and redrawn, so counts never go negative; and when
//! leaping would gain little (τ < 10/a₀) the path takes exact SSA steps instead.

use super::events::Events;
use super::model::MjpKernels;
use super::path::{
    self, CANCEL_EVERY, PathBuffers, PathConfig, PathError, PathSummary, Recording,
    propensity_error,
};
use super::select;
use crate::rt::Rng;
use rand::RngExt as _;
use rand_distr::{Distribution, Exp1, Poisson};
use std::sync::atomic::Ordering;

/// The error-control parameter ε: the largest relative change of a propensity in a leap.
pub const EPSILON: f64 = 0.03;
/// A reaction this close (in firings) to exhausting a reactant is critical.
const N_CRITICAL: f64 = 10.0;
/// Exact steps taken when leaping does not pay.
const SSA_STEPS: usize = 100;

/// Tables for leaping, fixed for a model.
pub struct TauPlan {
    /// Each reaction's net change: (position in `x`, change).
    changes: Vec<Vec<(usize, i64)>>,
    /// Each reaction's consumed species: (position, how many one firing consumes).
    consumed: Vec<Vec<(usize, f64)>>,
    /// Species that some reaction consumes, with the g of CGP eq. (27): (position, highest
    /// order of a reaction consuming it, its coefficient there).
    watched: Vec<(usize, u32, u32)>,
}

impl TauPlan {
    /// The plan for a network of reactions only; why not otherwise.
    pub fn new(k: &MjpKernels) -> Result<TauPlan, String> {
        let info = k.info;
        let mut changes = Vec::new();
        for (g, c) in info.changes.iter().enumerate() {
            match c {
                Some(c) => changes.push(c.clone()),
                None => {
                    return Err(format!(
                        "`tau` leaps over reactions, whose changes are fixed; `jump {}` changes the state by a program",
                        info.group_names[g]
                    ));
                }
            }
        }
        let consumed: Vec<Vec<(usize, f64)>> = changes
            .iter()
            .map(|c| {
                c.iter()
                    .filter(|&&(_, d)| d < 0)
                    .map(|&(i, d)| (i, -d as f64))
                    .collect()
            })
            .collect();
        let mut watched: Vec<(usize, u32, u32)> = Vec::new();
        for r in &info.reactants {
            let order: u32 = r.iter().map(|&(_, nu)| nu).sum();
            for &(i, nu) in r {
                match watched.iter_mut().find(|w| w.0 == i) {
                    Some(w) if (order, nu) > (w.1, w.2) => *w = (i, order, nu),
                    Some(_) => {}
                    None => watched.push((i, order, nu)),
                }
            }
        }
        Ok(TauPlan {
            changes,
            consumed,
            watched,
        })
    }
}

/// CGP's g_i: how much a relative change of species i moves the propensities of the
/// highest-order reaction consuming it.
fn g(order: u32, nu: u32, x: f64) -> f64 {
    let inv = |d: f64| 1.0 / (x - d).max(1.0);
    match (order, nu) {
        (1, _) => 1.0,
        (2, 2) => 2.0 + inv(1.0),
        (3, 2) => 1.5 * (2.0 + inv(1.0)),
        (3, 3) => 3.0 + inv(1.0) + 2.0 * inv(2.0),
        (o, _) => f64::from(o),
    }
}

/// Simulate one path by tau-leaping.
pub fn simulate(
    k: &MjpKernels,
    plan: &TauPlan,
    cfg: &PathConfig,
    rng: &mut Rng,
    buf: &mut PathBuffers,
    values: &mut [f64],
    counts: &mut [u64],
) -> Result<PathSummary, PathError> {
    let (mut rec, mut events) = path::start(k, cfg, rng, buf, values)?;
    leap(k, plan, cfg, 0.0, &mut rec, &mut events, rng, buf, counts)
}

/// Continue a path by tau-leaping from the state in `buf` at `t0` to `cfg.t_end`, recording
/// nothing (see [`path::advance`]).
#[allow(clippy::too_many_arguments)]
pub fn advance(
    k: &MjpKernels,
    plan: &TauPlan,
    cfg: &PathConfig,
    t0: f64,
    first: bool,
    rng: &mut Rng,
    buf: &mut PathBuffers,
    counts: &mut [u64],
) -> Result<PathSummary, PathError> {
    let (mut rec, mut events) = path::continuation(k, t0, first, buf);
    leap(k, plan, cfg, t0, &mut rec, &mut events, rng, buf, counts)
}

/// The leaps of a path from `t0` to `cfg.t_end`.
#[allow(clippy::too_many_arguments)]
fn leap(
    k: &MjpKernels,
    plan: &TauPlan,
    cfg: &PathConfig,
    t0: f64,
    rec: &mut Recording,
    events: &mut Events,
    rng: &mut Rng,
    buf: &mut PathBuffers,
    counts: &mut [u64],
) -> Result<PathSummary, PathError> {
    let info = k.info;
    let n = info.channels;
    let mut t = t0;
    let mut fired_total = 0u64;
    let mut absorbed = false;
    let mut a = vec![0.0; n];
    let mut critical = vec![false; n];
    let mut fires = vec![0u64; n];
    let mut trial = vec![0.0; info.nx];
    let mut leaps = 0u64;
    // Leaps end on recording and event times, so every recorded state is exact to the
    // method and events happen when they should.
    while let Some(stop) = path::next_stop(k, t, cfg, rec, events, rng, buf)? {
        k.propensities(t, &mut buf.x, &mut buf.p, &mut a);
        let a0 = select::checked_sum(&a).map_err(|c| propensity_error(c, &a, t, &buf.x))?;
        if a0 <= 0.0 {
            // Nothing can fire: the state holds until the next event or the end.
            if events.next_time() > cfg.t_end {
                absorbed = true;
            }
            t = stop;
            continue;
        }
        leaps += 1;
        if leaps.is_multiple_of(CANCEL_EVERY) && cfg.cancel.load(Ordering::Relaxed) {
            return Err(PathError::Cancelled);
        }
        let x = &buf.x;
        for j in 0..n {
            let exhausted = plan.consumed[j]
                .iter()
                .map(|&(i, c)| (x[i] / c).floor())
                .fold(f64::INFINITY, f64::min);
            critical[j] = a[j] > 0.0 && exhausted < N_CRITICAL;
        }
        let tau1 = leap_bound(plan, x, &a, &critical);
        if tau1 < 10.0 / a0 {
            // Leaping would take few firings at a time: exact steps instead.
            let before = fired_total;
            for _ in 0..SSA_STEPS {
                let total =
                    select::checked_sum(&a).map_err(|c| propensity_error(c, &a, t, &buf.x))?;
                if total <= 0.0 {
                    break;
                }
                let wait: f64 = Exp1.sample(rng);
                let tn = t + wait / total;
                if tn > stop {
                    t = stop;
                    break;
                }
                rec.until(k, tn, &mut buf.x, &mut buf.p, &mut buf.outputs, false);
                t = tn;
                let j = select::pick(&a, total * rng.random::<f64>());
                apply(&plan.changes[j], &mut buf.x, 1.0);
                counts[info.group_of[j] as usize] += 1;
                fired_total += 1;
                if events.watching() && events.after_change(k, t, rng, buf)? {
                    break;
                }
                k.propensities(t, &mut buf.x, &mut buf.p, &mut a);
            }
            if fired_total == before && t < stop {
                t = stop;
            }
        } else {
            let a0c: f64 = (0..n).filter(|&j| critical[j]).map(|j| a[j]).sum();
            let mut tau1 = tau1;
            loop {
                let tau2 = if a0c > 0.0 {
                    let e: f64 = Exp1.sample(rng);
                    e / a0c
                } else {
                    f64::INFINITY
                };
                let tau = tau1.min(tau2).min(stop - t);
                let one_critical = tau2 <= tau1 && tau2 <= stop - t;
                fires.fill(0);
                for j in 0..n {
                    if !critical[j] && a[j] > 0.0 {
                        fires[j] = poisson(a[j] * tau, rng);
                    }
                }
                if one_critical {
                    let target = a0c * rng.random::<f64>();
                    fires[pick_where(&a, &critical, target)] = 1;
                }
                trial.copy_from_slice(&buf.x);
                for (change, &f) in plan.changes.iter().zip(&fires) {
                    if f > 0 {
                        apply(change, &mut trial, f as f64);
                    }
                }
                if plan.watched.iter().all(|&(i, _, _)| trial[i] >= 0.0) {
                    // No recording time lies inside the leap (it ends at the next one).
                    buf.x.copy_from_slice(&trial);
                    t = if tau == stop - t { stop } else { t + tau };
                    for j in 0..n {
                        counts[info.group_of[j] as usize] += fires[j];
                        fired_total += fires[j];
                    }
                    break;
                }
                // A count would go negative: halve the leap and draw again.
                tau1 = tau / 2.0;
            }
            if events.watching() {
                events.after_change(k, t, rng, buf)?;
            }
        }
        if fired_total > cfg.max_events {
            return Err(PathError::TooManyEvents {
                max: cfg.max_events,
                t,
            });
        }
    }
    Ok(PathSummary {
        events: fired_total,
        absorbed,
    })
}

/// CGP's τ′ (eq. 33): the longest leap over which the expected change and the standard
/// deviation of every consumed species stay within ε x_i / g_i (at least 1).
fn leap_bound(plan: &TauPlan, x: &[f64], a: &[f64], critical: &[bool]) -> f64 {
    let mut tau = f64::INFINITY;
    for &(i, order, nu) in &plan.watched {
        let (mut mu, mut var) = (0.0, 0.0);
        for (j, change) in plan.changes.iter().enumerate() {
            if critical[j] || a[j] <= 0.0 {
                continue;
            }
            if let Some(&(_, d)) = change.iter().find(|c| c.0 == i) {
                let d = d as f64;
                mu += d * a[j];
                var += d * d * a[j];
            }
        }
        let bound = (EPSILON * x[i] / g(order, nu, x[i])).max(1.0);
        if mu != 0.0 {
            tau = tau.min(bound / mu.abs());
        }
        if var > 0.0 {
            tau = tau.min(bound * bound / var);
        }
    }
    tau
}

fn apply(change: &[(usize, i64)], x: &mut [f64], times: f64) {
    for &(i, d) in change {
        x[i] += d as f64 * times;
    }
}

/// Like [`select::pick`], among the channels marked in `among`.
fn pick_where(a: &[f64], among: &[bool], target: f64) -> usize {
    let mut s = 0.0;
    let mut last = 0;
    for (j, (&v, &m)) in a.iter().zip(among).enumerate() {
        if m && v > 0.0 {
            s += v;
            last = j;
            if target < s {
                return j;
            }
        }
    }
    last
}

fn poisson(mean: f64, rng: &mut Rng) -> u64 {
    if mean <= 0.0 {
        return 0;
    }
    match Poisson::new(mean) {
        Ok(d) => {
            let k: f64 = d.sample(rng);
            k as u64
        }
        // Beyond the sampler's range (≈ 1.8e19): the count is its mean to any precision.
        Err(_) => mean.round() as u64,
    }
}
