//! Gibson and Bruck's next-reaction method: every channel keeps an absolute firing time in
//! an indexed priority queue. After a firing, the fired channel draws a new time, and each
//! channel whose propensity changed rescales its remaining wait by old/new propensity
//! (Gibson & Bruck, J. Phys. Chem. A 104:1876, 2000), so a firing costs one exponential
//! draw and O(log n) per affected channel.

use super::heap::IndexedHeap;
use super::path::{Change, Clock, first_invalid};
use crate::rt::Rng;
use rand_distr::{Distribution, Exp1};

pub struct NextReaction {
    heap: IndexedHeap,
}

impl NextReaction {
    pub fn new(channels: usize) -> NextReaction {
        NextReaction {
            heap: IndexedHeap::new(vec![f64::INFINITY; channels]),
        }
    }
}

/// A fresh firing time after `t` for propensity `a`.
fn draw(t: f64, a: f64, rng: &mut Rng) -> f64 {
    if a > 0.0 {
        let e: f64 = Exp1.sample(rng);
        t + e / a
    } else {
        f64::INFINITY
    }
}

fn valid(a: f64) -> bool {
    a >= 0.0 && a.is_finite()
}

impl Clock for NextReaction {
    const NEEDS_OLD: bool = true;

    fn reset(&mut self, t: f64, a: &[f64], rng: &mut Rng) -> Result<(), usize> {
        // Exponential clocks are memoryless: after every propensity changed, fresh draws
        // are as exact as rescaled ones.
        let mut keys = Vec::with_capacity(a.len());
        for (c, &v) in a.iter().enumerate() {
            if !valid(v) {
                return Err(c);
            }
            keys.push(draw(t, v, rng));
        }
        self.heap = IndexedHeap::new(keys);
        Ok(())
    }

    fn next(&mut self, _t: f64, _a: &[f64], _rng: &mut Rng) -> Result<Option<(f64, usize)>, usize> {
        Ok(self.heap.top().filter(|(tn, _)| tn.is_finite()))
    }

    fn fired(
        &mut self,
        t: f64,
        fired: usize,
        affected: &[u32],
        old: &[f64],
        change: Change,
        a: &[f64],
        rng: &mut Rng,
    ) -> Result<(), usize> {
        if change.invalid {
            return Err(first_invalid(affected, a));
        }
        for (&c, &before) in affected.iter().zip(old) {
            let c = c as usize;
            let now = a[c];
            if c == fired {
                continue;
            }
            let key = self.heap.key(c);
            let time = if before > 0.0 && now > 0.0 && key.is_finite() {
                t + (before / now) * (key - t)
            } else {
                draw(t, now, rng)
            };
            self.heap.update(c, time);
        }
        // The fired channel's clock ran out: a new one, at its current propensity.
        self.heap.update(fired, draw(t, a[fired], rng));
        Ok(())
    }
}
