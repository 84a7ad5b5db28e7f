//! Events of a path: `at t = …` fire once at their time (scheduled between firings), and
//! `when cond` fire when their condition becomes true (checked after every change of the
//! state). An event's body may change the state and the parameters; the times of the `at`
//! events still to come are then worked out again, since they may use a parameter.

use super::model::{EventKind, MjpKernels};
use super::path::{PathBuffers, PathError, check_counts};
use crate::rt::Rng;

/// `when` events may set each other off at most this many times in a row at one instant.
const MAX_CASCADE: usize = 1000;

pub struct Events {
    /// `at` events still to come: (time, event), the earliest last (ties in declaration
    /// order).
    pending: Vec<(f64, usize)>,
    /// Whether each `when` condition held after the last check (false for `at` events).
    held: Vec<bool>,
    any_when: bool,
}

impl Events {
    /// The events of a path starting at `t` (a `when` condition true at the start does not
    /// fire: it has not become true).
    pub fn start(k: &MjpKernels, t: f64, buf: &mut PathBuffers) -> Events {
        Events::new(k, t, true, buf)
    }

    /// The events of a path that continues from `t`, where it has already been: `at`
    /// events due at `t` have fired, and `when` conditions that hold now held already.
    pub fn resume(k: &MjpKernels, t: f64, buf: &mut PathBuffers) -> Events {
        Events::new(k, t, false, buf)
    }

    /// `at_start`: `at` events due at `t` are still to fire.
    fn new(k: &MjpKernels, t: f64, at_start: bool, buf: &mut PathBuffers) -> Events {
        let kinds = &k.info.events;
        let held = (0..kinds.len())
            .map(|e| kinds[e] == EventKind::When && k.trigger(e, t, &mut buf.x, &mut buf.p) != 0.0)
            .collect();
        let all: Vec<usize> = (0..kinds.len())
            .filter(|&e| kinds[e] == EventKind::At)
            .collect();
        Events {
            pending: schedule(k, &all, t, at_start, buf),
            held,
            any_when: kinds.contains(&EventKind::When),
        }
    }

    /// The time of the next `at` event (∞ when none is left).
    #[inline]
    pub fn next_time(&self) -> f64 {
        self.pending.last().map_or(f64::INFINITY, |&(te, _)| te)
    }

    /// Whether any `when` condition needs checking after changes of the state.
    #[inline]
    pub fn watching(&self) -> bool {
        self.any_when
    }

    /// Fire the `at` events due at `t`, then the `when`s they set off.
    pub fn fire_due(
        &mut self,
        k: &MjpKernels,
        t: f64,
        rng: &mut Rng,
        buf: &mut PathBuffers,
    ) -> Result<(), PathError> {
        while let Some(&(te, e)) = self.pending.last() {
            if te > t {
                break;
            }
            self.pending.pop();
            fire(k, e, t, rng, buf)?;
        }
        self.whens(k, t, rng, buf)?;
        self.reschedule(k, t, buf);
        Ok(())
    }

    /// After the state changed at `t`: fire the `when`s whose condition became true.
    /// Whether any fired (the caller then recomputes what depends on the state).
    pub fn after_change(
        &mut self,
        k: &MjpKernels,
        t: f64,
        rng: &mut Rng,
        buf: &mut PathBuffers,
    ) -> Result<bool, PathError> {
        let fired = self.whens(k, t, rng, buf)?;
        if fired {
            self.reschedule(k, t, buf);
        }
        Ok(fired)
    }

    fn whens(
        &mut self,
        k: &MjpKernels,
        t: f64,
        rng: &mut Rng,
        buf: &mut PathBuffers,
    ) -> Result<bool, PathError> {
        if !self.any_when {
            return Ok(false);
        }
        let mut any = false;
        for _ in 0..MAX_CASCADE {
            let mut fired = false;
            for e in 0..k.info.events.len() {
                if k.info.events[e] != EventKind::When {
                    continue;
                }
                let now = k.trigger(e, t, &mut buf.x, &mut buf.p) != 0.0;
                let rising = now && !self.held[e];
                self.held[e] = now;
                if rising {
                    fire(k, e, t, rng, buf)?;
                    fired = true;
                }
            }
            if !fired {
                return Ok(any);
            }
            any = true;
        }
        Err(PathError::EventLoop { t })
    }

    /// Work out the times of the pending `at` events again.
    fn reschedule(&mut self, k: &MjpKernels, t: f64, buf: &mut PathBuffers) {
        let still: Vec<usize> = self.pending.iter().map(|&(_, e)| e).collect();
        self.pending = schedule(k, &still, t, false, buf);
    }
}

/// The times of `at` events `which`, those not yet past (`at_start`: a time equal to `t`
/// still counts), the earliest last.
fn schedule(
    k: &MjpKernels,
    which: &[usize],
    t: f64,
    at_start: bool,
    buf: &mut PathBuffers,
) -> Vec<(f64, usize)> {
    let mut v: Vec<(f64, usize)> = which
        .iter()
        .map(|&e| (k.trigger(e, t, &mut buf.x, &mut buf.p), e))
        .filter(|&(te, _)| te > t || (at_start && te == t))
        .collect();
    v.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
    v
}

/// Run event `e`'s body at `t` and check the state it leaves.
fn fire(
    k: &MjpKernels,
    e: usize,
    t: f64,
    rng: &mut Rng,
    buf: &mut PathBuffers,
) -> Result<(), PathError> {
    k.effect(e, t, &mut buf.x, &mut buf.p, rng, &mut buf.work);
    check_counts(k, &buf.x, t, &format!("event {}", e + 1), None)
}
