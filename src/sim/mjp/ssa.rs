//! Gillespie's direct method: the waiting time is exponential with the total propensity,
//! and the channel is chosen in proportion to its propensity. After a firing only the
//! propensities the dependency graph names were recomputed (by the firing kernel); small
//! networks then scan the propensities, large ones keep a sum tree so a firing costs
//! O(log n) instead of O(n).

use super::path::Clock;
use super::select::{self, SumTree};
use crate::rt::Rng;
use rand::RngExt as _;
use rand_distr::{Distribution, Exp1};

pub struct Direct {
    tree: Option<SumTree>,
}

impl Direct {
    pub fn new(channels: usize) -> Direct {
        Direct {
            tree: (channels > select::LINEAR_MAX).then(|| SumTree::new(channels)),
        }
    }
}

impl Clock for Direct {
    const NEEDS_OLD: bool = false;

    fn reset(&mut self, _t: f64, a: &[f64], _rng: &mut Rng) -> Result<(), usize> {
        if let Some(tree) = &mut self.tree {
            select::checked_sum(a)?;
            tree.rebuild(a);
        }
        Ok(())
    }

    fn next(&mut self, t: f64, a: &[f64], rng: &mut Rng) -> Result<Option<(f64, usize)>, usize> {
        let total = match &self.tree {
            Some(tree) => tree.total(),
            None => select::checked_sum(a)?,
        };
        if total <= 0.0 {
            return Ok(None);
        }
        let wait: f64 = Exp1.sample(rng);
        let target = rng.random::<f64>() * total;
        let c = match &self.tree {
            Some(tree) => tree.find(target),
            None => select::linear_find(a, target),
        };
        Ok(Some((t + wait / total, c)))
    }

    fn fired(
        &mut self,
        _t: f64,
        _fired: usize,
        affected: &[u32],
        _old: &[f64],
        a: &[f64],
        _rng: &mut Rng,
    ) -> Result<(), usize> {
        if let Some(tree) = &mut self.tree {
            for &c in affected {
                let v = a[c as usize];
                if !(v >= 0.0 && v.is_finite()) {
                    return Err(c as usize);
                }
                tree.set(c as usize, v);
            }
        }
        Ok(())
    }
}
