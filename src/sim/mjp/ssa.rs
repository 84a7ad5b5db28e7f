//! Gillespie's direct method: the waiting time is exponential with the total propensity,
//! and the channel is chosen in proportion to its propensity. After a firing only the
//! propensities the dependency graph names were recomputed (by the firing kernel).
//!
//! Small networks keep the total up to date from those changes and scan the channels, most
//! frequent first (the "optimised direct method" of Cao, Li and Petzold, J. Chem. Phys.
//! 121:4059, 2004); large ones keep a sum tree, so a firing costs O(log n), not O(n).

use super::path::{Change, Clock, first_invalid};
use super::select::{self, SumTree};
use crate::rt::Rng;
use rand::RngExt as _;
use rand_distr::{Distribution, Exp1};

pub struct Direct {
    tree: Option<SumTree>,
    scan: Scan,
}

/// The scan's state for small networks.
struct Scan {
    /// The total propensity, updated by differences and recomputed exactly every
    /// `EXACT_EVERY` firings (and whenever a choice runs off the end), so rounding never
    /// builds up.
    total: f64,
    since_exact: u32,
    /// Scan order, most frequent channels first: re-sorted every `RESORT` firings from this
    /// path's counts, so a path's numbers depend only on its own history.
    order: Vec<u32>,
    fired: Vec<u32>,
    until_resort: u32,
}

const RESORT: u32 = 4096;
const EXACT_EVERY: u32 = 1024;

impl Direct {
    pub fn new(channels: usize) -> Direct {
        Direct {
            tree: (channels > select::LINEAR_MAX).then(|| SumTree::new(channels)),
            scan: Scan {
                total: 0.0,
                since_exact: 0,
                order: (0..channels as u32).collect(),
                fired: vec![0; channels],
                until_resort: RESORT,
            },
        }
    }
}

impl Scan {
    fn exact(&mut self, a: &[f64]) -> Result<f64, usize> {
        self.total = select::checked_sum(a)?;
        self.since_exact = 0;
        Ok(self.total)
    }

    fn count(&mut self, fired: usize) {
        self.fired[fired] += 1;
        self.until_resort -= 1;
        if self.until_resort == 0 {
            let fired = &self.fired;
            self.order
                .sort_by_key(|&c| (std::cmp::Reverse(fired[c as usize]), c));
            self.until_resort = RESORT;
        }
    }
}

impl Clock for Direct {
    const NEEDS_OLD: bool = false;

    fn start_path(&mut self) {
        let s = &mut self.scan;
        s.fired.fill(0);
        for (i, c) in s.order.iter_mut().enumerate() {
            *c = i as u32;
        }
        s.until_resort = RESORT;
    }

    fn reset(&mut self, _t: f64, a: &[f64], _rng: &mut Rng) -> Result<(), usize> {
        match &mut self.tree {
            Some(tree) => {
                select::checked_sum(a)?;
                tree.rebuild(a);
            }
            None => {
                self.scan.exact(a)?;
            }
        }
        Ok(())
    }

    fn next(&mut self, t: f64, a: &[f64], rng: &mut Rng) -> Result<Option<(f64, usize)>, usize> {
        if let Some(tree) = &self.tree {
            let total = tree.total();
            if total <= 0.0 {
                return Ok(None);
            }
            let wait: f64 = Exp1.sample(rng);
            let c = tree.find(rng.random::<f64>() * total);
            return Ok(Some((t + wait / total, c)));
        }
        let s = &mut self.scan;
        let mut total = s.total;
        if total <= 0.0 {
            // Possibly rounding of a total that is really positive.
            total = s.exact(a)?;
            if total <= 0.0 {
                return Ok(None);
            }
        }
        loop {
            let wait: f64 = Exp1.sample(rng);
            let target = rng.random::<f64>() * total;
            if let Some(c) = select::ordered_find(a, &s.order, target) {
                return Ok(Some((t + wait / total, c)));
            }
            // The running total had drifted above the true one: recompute and draw again.
            total = s.exact(a)?;
            if total <= 0.0 {
                return Ok(None);
            }
        }
    }

    fn fired(
        &mut self,
        _t: f64,
        fired: usize,
        affected: &[u32],
        _old: &[f64],
        change: Change,
        a: &[f64],
        _rng: &mut Rng,
    ) -> Result<(), usize> {
        if change.invalid {
            return Err(first_invalid(affected, a));
        }
        match &mut self.tree {
            Some(tree) => {
                for &c in affected {
                    tree.set(c as usize, a[c as usize]);
                }
            }
            None => {
                let s = &mut self.scan;
                s.total += change.total;
                s.since_exact += 1;
                if s.since_exact >= EXACT_EVERY {
                    s.exact(a)?;
                }
                s.count(fired);
            }
        }
        Ok(())
    }
}
