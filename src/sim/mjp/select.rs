//! Choosing the channel that fires, in proportion to the propensities: a linear scan for
//! small networks, and a sum tree (O(log n) per update and per choice) for large ones.

/// Networks with more channels than this use the tree.
pub const LINEAR_MAX: usize = 64;

/// A complete binary tree of partial sums over the propensities: leaf `i` is
/// `node[size + i]`, and every inner node holds the sum of its two children (recomputed
/// from them on every update, so no rounding error accumulates).
#[derive(Clone, Debug)]
pub struct SumTree {
    size: usize,
    node: Vec<f64>,
}

impl SumTree {
    pub fn new(n: usize) -> SumTree {
        let size = n.next_power_of_two().max(1);
        SumTree {
            size,
            node: vec![0.0; 2 * size],
        }
    }

    /// Set every leaf from `a` and rebuild the sums.
    pub fn rebuild(&mut self, a: &[f64]) {
        let size = self.size;
        self.node[size..size + a.len()].copy_from_slice(a);
        self.node[size + a.len()..].fill(0.0);
        for i in (1..size).rev() {
            self.node[i] = self.node[2 * i] + self.node[2 * i + 1];
        }
    }

    /// Set leaf `i` to `v` and update the sums above it.
    pub fn set(&mut self, i: usize, v: f64) {
        let mut at = self.size + i;
        self.node[at] = v;
        while at > 1 {
            at /= 2;
            self.node[at] = self.node[2 * at] + self.node[2 * at + 1];
        }
    }

    pub fn total(&self) -> f64 {
        self.node[1]
    }

    /// The leaf where the running sum passes `target` (0 ≤ target < total), never a leaf
    /// whose value is zero.
    pub fn find(&self, mut target: f64) -> usize {
        let mut at = 1;
        while at < self.size {
            let left = self.node[2 * at];
            // Rounding can leave `target` just past a subtree's sum: step right only into
            // a subtree that has weight.
            if target < left || self.node[2 * at + 1] <= 0.0 {
                at *= 2;
            } else {
                target -= left;
                at = 2 * at + 1;
            }
        }
        at - self.size
    }
}

/// The sum of `a`, or the first channel whose propensity is negative or not a number.
pub fn checked_sum(a: &[f64]) -> Result<f64, usize> {
    // Four running sums (independent chains the CPU overlaps) and one validity flag, with
    // no branch per value; the slow scan below only runs to name a bad channel.
    let mut lanes = [0.0f64; 4];
    let mut ok = true;
    let quads = a.chunks_exact(4);
    let rest = quads.remainder();
    for q in quads {
        for (s, &v) in lanes.iter_mut().zip(q) {
            ok &= v >= 0.0;
            *s += v;
        }
    }
    let mut s = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    for &v in rest {
        ok &= v >= 0.0;
        s += v;
    }
    if ok && s.is_finite() {
        return Ok(s);
    }
    Err(a
        .iter()
        .position(|v| !(*v >= 0.0 && v.is_finite()))
        .unwrap_or(0))
}

/// The channel, taken in the order `order` (a permutation of `0..a.len()`), where the
/// running sum of `a` passes `target` (≥ 0); `None` when `target` is not below the sum. It is
/// never a channel whose propensity is zero: the sum passes `target` only where it grows.
/// Any order gives each channel its exact probability; putting the channels that fire most
/// first shortens the scan.
#[inline]
pub fn ordered_find(a: &[f64], order: &[u32], target: f64) -> Option<usize> {
    assert_eq!(
        a.len(),
        order.len(),
        "the order is a permutation of the channels"
    );
    let mut s = 0.0;
    for &c in order {
        // SAFETY: `order` is a permutation of 0..a.len() (its owner keeps it one).
        s += unsafe { *a.get_unchecked(c as usize) };
        if target < s {
            return Some(c as usize);
        }
    }
    None
}

/// The channel where the running sum of `a` passes `target` (0 ≤ target < Σa), never one
/// whose propensity is zero (rounding at the very end gives the last that can fire).
pub fn pick(a: &[f64], target: f64) -> usize {
    let mut s = 0.0;
    for (j, &v) in a.iter().enumerate() {
        s += v;
        if target < s && v > 0.0 {
            return j;
        }
    }
    a.iter().rposition(|&v| v > 0.0).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linear_find(a: &[f64], target: f64) -> usize {
        let identity: Vec<u32> = (0..a.len() as u32).collect();
        ordered_find(a, &identity, target).unwrap_or(usize::MAX)
    }

    #[test]
    fn tree_and_scan_choose_the_same_channel() {
        let a = [0.5, 0.0, 2.0, 1.5, 0.0, 3.0, 1.0];
        let mut tree = SumTree::new(a.len());
        tree.rebuild(&a);
        assert_eq!(tree.total(), 8.0);
        for k in 0..80 {
            let target = k as f64 * 0.1;
            assert_eq!(
                tree.find(target),
                linear_find(&a, target),
                "target {target}"
            );
        }
        tree.set(5, 0.0);
        assert_eq!(tree.total(), 5.0);
        assert_eq!(tree.find(4.99), 6);
        // A target at the very end picks the last channel with weight (the tree), or
        // nothing (the scan, whose caller recomputes the total).
        assert_eq!(tree.find(5.0), 6);
        assert_eq!(linear_find(&a, 8.0), usize::MAX);
        // Another order: each channel still gets exactly its share of the targets.
        let order = [5, 3, 6, 0, 2, 1, 4];
        let mut hits = [0.0; 7];
        for k in 0..8000 {
            hits[ordered_find(&a, &order, k as f64 * 0.001).unwrap()] += 0.001;
        }
        for (h, v) in hits.iter().zip(a) {
            assert!((h - v).abs() < 1e-9, "{hits:?}");
        }
    }

    #[test]
    fn invalid_propensities_are_found() {
        assert_eq!(checked_sum(&[1.0, 2.0]), Ok(3.0));
        assert_eq!(checked_sum(&[1.0, -2.0]), Err(1));
        assert_eq!(checked_sum(&[f64::NAN, 1.0]), Err(0));
        assert_eq!(checked_sum(&[1.0, f64::INFINITY]), Err(1));
        let many: Vec<f64> = (0..11).map(f64::from).collect();
        assert_eq!(checked_sum(&many), Ok(55.0));
        let mut bad = many.clone();
        bad[9] = -1.0;
        assert_eq!(checked_sum(&bad), Err(9));
    }
}
