//! Jump-diffusions: SDE (or ODE) terms integrated by a fixed-step scheme between jumps,
//! and jumps at their exact times for rates that stay constant between them.
//!
//! A path keeps the integrated intensity left until its next jump, an Exp(1) draw. Each
//! step consumes Λ(t) h of it, with the total rate Λ of every channel taken at the start of
//! the step; the step that would overdraw it is cut where it runs out, the diffusion is
//! integrated to that instant, and one channel fires, chosen in proportion to its rate at
//! the new state. With constant rates (Merton's compound Poisson jumps) the jump times are
//! exact; with state-dependent rates the error is that of the left-point rule, O(h).

use super::model::MjpKernels;
use super::path::{
    self, CANCEL_EVERY, PathBuffers, PathConfig, PathError, PathSummary, check_counts,
    propensity_error,
};
use super::select;
use crate::rt::Rng;
use crate::sim::SdeSystem;
use crate::sim::native::NativeSystem;
use crate::sim::schemes::{self, Increments, Stepper};
use rand::RngExt as _;
use rand_distr::{Distribution, Exp1};
use std::sync::atomic::Ordering;

/// The continuous part of a jump-diffusion: the system, its scheme and the step size.
pub struct Continuous<'a> {
    pub sys: NativeSystem<'a>,
    pub dt: f64,
}

/// Simulate one path of a jump-diffusion.
#[allow(clippy::too_many_arguments)]
pub fn simulate(
    c: &Continuous,
    stepper: &mut dyn Stepper,
    k: &MjpKernels,
    cfg: &PathConfig,
    rng: &mut Rng,
    buf: &mut PathBuffers,
    values: &mut [f64],
    counts: &mut [u64],
) -> Result<PathSummary, PathError> {
    let info = k.info;
    let nw = c.sys.noise_dim();
    let (mut rec, mut events) = path::start(k, cfg, rng, buf, values)?;
    let mut a = vec![0.0; info.channels];
    let mut dw = vec![0.0; nw];
    let mut area = vec![0.0; if stepper.needs_area() { nw } else { 0 }];
    let mut t = 0.0;
    let mut budget: f64 = Exp1.sample(rng);
    let (mut jumps, mut steps) = (0u64, 0u64);
    while let Some(stop) = path::next_stop(k, t, cfg, &mut rec, &mut events, rng, buf)? {
        steps += 1;
        if steps.is_multiple_of(CANCEL_EVERY) && cfg.cancel.load(Ordering::Relaxed) {
            return Err(PathError::Cancelled);
        }
        let h = c.dt.min(stop - t);
        k.propensities(t, &mut buf.x, &mut buf.p, &mut a);
        let total = select::checked_sum(&a).map_err(|ch| propensity_error(ch, &a, t, &buf.x))?;
        let jump = total * h >= budget;
        let step = if jump { budget / total } else { h };
        if step > 0.0 {
            let sys = c.sys.with_params(&buf.p);
            let rngs = std::slice::from_mut(rng);
            if !stepper.step_drawing(&sys, t, step, &mut buf.x, rngs) {
                let i10 = (!area.is_empty()).then_some(&mut area[..]);
                schemes::draw_increments(step, nw, rngs, &mut dw, i10);
                let inc = Increments {
                    dw: &dw,
                    i10: &area,
                };
                stepper.step(&sys, t, step, &mut buf.x, &inc);
            }
        }
        t = if !jump && h == stop - t {
            stop
        } else {
            t + step
        };
        check_counts(k, &buf.x, t, "a step of the diffusion", None)?;
        if jump {
            budget = Exp1.sample(rng);
            k.propensities(t, &mut buf.x, &mut buf.p, &mut a);
            let total =
                select::checked_sum(&a).map_err(|ch| propensity_error(ch, &a, t, &buf.x))?;
            if total > 0.0 {
                let ch = select::pick(&a, total * rng.random::<f64>());
                let g = info.group_of[ch] as usize;
                k.fire(ch, t, &mut buf.x, &mut buf.p, rng, &mut buf.work);
                check_counts(
                    k,
                    &buf.x,
                    t,
                    &format!("firing `{}`", info.group_names[g]),
                    None,
                )?;
                counts[g] += 1;
                jumps += 1;
                if jumps > cfg.max_events {
                    return Err(PathError::TooManyEvents {
                        max: cfg.max_events,
                        t,
                    });
                }
            }
        } else {
            budget -= total * step;
        }
        if events.watching() {
            events.after_change(k, t, rng, buf)?;
        }
    }
    Ok(PathSummary {
        events: jumps,
        absorbed: false,
    })
}
