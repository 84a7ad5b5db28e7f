//! Which elements of an array a statement reaches: one interval of indices per dimension,
//! for equations (`dx[i] = … for i in 1..N`) and indexed priors (`eta[j] ~ … for j in …`).
//! Overlaps are reported only when they are certain.

use super::checker::Checker;
use super::model::*;
use super::print::expr_string;
use super::types::{Dim, Type, Value};
use std::collections::HashMap;

/// One end of an index interval.
#[derive(Clone, Debug)]
pub(crate) enum Bound {
    Known(i64),
    /// Known once data is bound; two such bounds are equal when written the same way.
    Symbolic(String),
    /// Depends on another loop variable, or cannot be worked out.
    Unknown,
}

impl Bound {
    /// Whether the two bounds are certainly equal.
    fn same(&self, other: &Bound) -> bool {
        match (self, other) {
            (Bound::Known(a), Bound::Known(b)) => a == b,
            (Bound::Symbolic(a), Bound::Symbolic(b)) => a == b,
            _ => false,
        }
    }
}

/// The indices `lo..=hi` of one dimension.
#[derive(Clone, Debug)]
pub(crate) struct Interval {
    lo: Bound,
    hi: Bound,
}

impl Interval {
    fn known(&self) -> Option<(i64, i64)> {
        match (&self.lo, &self.hi) {
            (Bound::Known(lo), Bound::Known(hi)) => Some((*lo, *hi)),
            _ => None,
        }
    }

    fn is_empty(&self) -> bool {
        self.known().is_some_and(|(lo, hi)| lo > hi)
    }

    /// The whole dimension of length `size`.
    fn is_whole(&self, size: &Bound) -> bool {
        self.lo.same(&Bound::Known(1)) && self.hi.same(size)
    }
}

/// The elements a statement reaches: one interval per dimension of the array.
#[derive(Clone, Debug)]
pub(crate) struct Region {
    dims: Vec<Interval>,
    sizes: Vec<Bound>,
}

impl Region {
    /// Whether the two regions (of the same array) certainly share an element.
    pub fn overlaps(&self, other: &Region) -> bool {
        self.dims
            .iter()
            .zip(&other.dims)
            .zip(&self.sizes)
            .all(|((a, b), size)| intervals_overlap(a, b, size))
    }

    /// The element's indices, when the region is one known element.
    fn point(&self) -> Option<Vec<i64>> {
        self.dims
            .iter()
            .map(|d| d.known().filter(|(lo, hi)| lo == hi).map(|(lo, _)| lo))
            .collect()
    }

    /// The number of elements, when every interval is known.
    pub fn volume(&self) -> Option<u128> {
        self.dims.iter().try_fold(1u128, |n, d| {
            let (lo, hi) = d.known()?;
            let len = if lo > hi { 0 } else { (hi - lo) as u128 + 1 };
            n.checked_mul(len)
        })
    }
}

/// The regions of one array, each with a tag (what reaches it), for finding an earlier region
/// a new one overlaps. Single known elements (`dx[3] = …`, possibly thousands of them) are
/// looked up by their indices instead of compared one by one.
pub(crate) struct RegionSet<T> {
    points: HashMap<Vec<i64>, T>,
    others: Vec<(Region, T)>,
    /// Elements reached, while every region's size is known.
    volume: Option<u128>,
}

impl<T: Copy> Default for RegionSet<T> {
    fn default() -> Self {
        RegionSet {
            points: HashMap::new(),
            others: Vec::new(),
            volume: Some(0),
        }
    }
}

impl<T: Copy> RegionSet<T> {
    /// Adds `r`, returning the tag of an earlier region that certainly overlaps it.
    pub fn insert(&mut self, r: Region, tag: T) -> Option<T> {
        self.volume = self
            .volume
            .zip(r.volume())
            .and_then(|(a, b)| a.checked_add(b));
        let mut clash = self
            .others
            .iter()
            .find(|(o, _)| o.overlaps(&r))
            .map(|(_, t)| *t);
        match r.point() {
            Some(p) => {
                clash = clash.or_else(|| self.points.get(&p).copied());
                self.points.entry(p).or_insert(tag);
            }
            None => {
                let element = |p: &[i64]| Region {
                    dims: p.iter().map(|&i| known_interval(i, i)).collect(),
                    sizes: r.sizes.clone(),
                };
                clash = clash.or_else(|| {
                    self.points
                        .iter()
                        .find(|(p, _)| r.overlaps(&element(p)))
                        .map(|(_, t)| *t)
                });
                self.others.push((r, tag));
            }
        }
        clash
    }

    /// The number of elements the regions reach together (when none overlap and every
    /// size is known).
    pub fn volume(&self) -> Option<u128> {
        self.volume
    }
}

fn known_interval(lo: i64, hi: i64) -> Interval {
    Interval {
        lo: Bound::Known(lo),
        hi: Bound::Known(hi),
    }
}

fn intervals_overlap(a: &Interval, b: &Interval, size: &Bound) -> bool {
    if a.is_empty() || b.is_empty() {
        return false;
    }
    if let (Some((alo, ahi)), Some((blo, bhi))) = (a.known(), b.known()) {
        return alo.max(blo) <= ahi.min(bhi);
    }
    a.is_whole(size) || b.is_whole(size) || (a.lo.same(&b.lo) && a.hi.same(&b.hi))
}

impl Checker<'_, '_> {
    /// The elements of an array of type `ty` reached by `indices` (loop variables of
    /// `binders`, or other index expressions); dimensions without an index are whole.
    pub fn region(&mut self, ty: &Type, indices: &[TExpr], binders: &[Binder]) -> Region {
        let sizes: Vec<Bound> = ty
            .dims
            .iter()
            .map(|d| match d {
                Dim::Fixed(n) => i64::try_from(*n).map_or(Bound::Unknown, Bound::Known),
                Dim::Data(s) => Bound::Symbolic(s.text.clone()),
            })
            .collect();
        // `eta[i, i]` reaches a diagonal, not the box of its intervals: a loop variable used
        // in two indices makes those dimensions unknown.
        let local_of = |e: &TExpr| match e.kind {
            TKind::Var(Var::Local(l)) => Some(l),
            _ => None,
        };
        let repeated = |k: usize| {
            local_of(&indices[k]).is_some_and(|l| {
                indices
                    .iter()
                    .enumerate()
                    .any(|(j, e)| j != k && local_of(e) == Some(l))
            })
        };
        let dims = sizes
            .iter()
            .enumerate()
            .map(|(k, size)| match indices.get(k) {
                None => Interval {
                    lo: Bound::Known(1),
                    hi: size.clone(),
                },
                Some(_) if repeated(k) => Interval {
                    lo: Bound::Unknown,
                    hi: Bound::Unknown,
                },
                Some(index) => self.index_interval(index, binders, size),
            })
            .collect();
        Region { dims, sizes }
    }

    fn index_interval(&mut self, index: &TExpr, binders: &[Binder], size: &Bound) -> Interval {
        let binder = match &index.kind {
            TKind::Var(Var::Local(l)) => binders.iter().find(|b| b.local == *l),
            _ => None,
        };
        let Some(b) = binder else {
            let at = self.bound(index);
            return Interval {
                lo: at.clone(),
                hi: at,
            };
        };
        let (mut lo, mut hi) = (self.bound(&b.lo), self.bound(&b.hi));
        // Indices outside the array are reported elsewhere; only those inside count.
        if let Bound::Known(v) = &mut lo {
            *v = (*v).max(1);
        }
        if let (Bound::Known(v), Bound::Known(n)) = (&mut hi, size) {
            *v = (*v).min(*n);
        }
        Interval { lo, hi }
    }

    fn bound(&mut self, e: &TExpr) -> Bound {
        if let Ok(Value::Int(v)) = self.const_eval(e) {
            return Bound::Known(v);
        }
        if uses_local(e) {
            return Bound::Unknown;
        }
        Bound::Symbolic(expr_string(e, &|v| self.var_name(v)))
    }
}

fn uses_local(e: &TExpr) -> bool {
    matches!(e.kind, TKind::Var(Var::Local(_))) || e.children().into_iter().any(uses_local)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(lo: i64, hi: i64) -> Interval {
        Interval {
            lo: Bound::Known(lo),
            hi: Bound::Known(hi),
        }
    }

    fn symbolic(lo: i64, hi: &str) -> Interval {
        Interval {
            lo: Bound::Known(lo),
            hi: Bound::Symbolic(hi.to_string()),
        }
    }

    fn region(dims: Vec<Interval>, sizes: Vec<Bound>) -> Region {
        Region { dims, sizes }
    }

    #[test]
    fn known_intervals_overlap_when_they_intersect() {
        let sizes = vec![Bound::Known(5)];
        let a = region(vec![known(1, 3)], sizes.clone());
        assert!(a.overlaps(&region(vec![known(3, 5)], sizes.clone())));
        assert!(!a.overlaps(&region(vec![known(4, 5)], sizes.clone())));
        assert!(!a.overlaps(&region(vec![known(3, 2)], sizes)));
        assert_eq!(a.volume(), Some(3));
    }

    #[test]
    fn data_sizes_overlap_when_whole_or_written_alike() {
        let n = || vec![Bound::Symbolic("N".to_string())];
        let whole = region(vec![symbolic(1, "N")], n());
        let point = region(vec![known(2, 2)], n());
        let tail = region(vec![symbolic(2, "N - 1")], n());
        assert!(whole.overlaps(&point) && point.overlaps(&whole));
        assert!(tail.overlaps(&tail.clone()));
        // Undecided without data: not reported.
        assert!(!point.overlaps(&tail));
        assert_eq!(whole.volume(), None);
    }

    #[test]
    fn region_sets_find_points_and_boxes() {
        let sizes = vec![Bound::Known(100), Bound::Known(100)];
        let mut set = RegionSet::default();
        for i in 1..=100 {
            assert_eq!(
                set.insert(region(vec![known(i, i), known(1, 1)], sizes.clone()), i),
                None
            );
        }
        // The same element again, and a box over some of them.
        assert_eq!(
            set.insert(region(vec![known(7, 7), known(1, 1)], sizes.clone()), 0),
            Some(7)
        );
        let column = region(vec![known(50, 60), known(1, 2)], sizes.clone());
        assert!(matches!(set.insert(column, 0), Some(50..=60)));
        // A point inside an earlier box.
        let point = region(vec![known(55, 55), known(2, 2)], sizes);
        assert_eq!(set.insert(point, 1), Some(0));
        assert_eq!(set.volume(), Some(100 + 1 + 22 + 1));
    }

    #[test]
    fn bounds_on_other_loop_variables_are_never_equal() {
        let n = vec![Bound::Known(4), Bound::Known(4)];
        let unknown = Interval {
            lo: Bound::Known(1),
            hi: Bound::Unknown,
        };
        let a = region(vec![known(1, 2), unknown.clone()], n.clone());
        let b = region(vec![known(1, 2), unknown], n);
        assert!(!a.overlaps(&b));
    }
}
