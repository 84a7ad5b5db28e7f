//! Kernels of jump processes: the propensity of every channel, the first channel of each
//! transition group, and one `fire_<g>` kernel per group that applies the group's change
//! and recomputes only the propensities it affects (the dependency graph, compiled in).
//!
//! Channels are numbered reactions first (one each), then each `jump` declaration's
//! iterations, row-major over its binders. A *group* is one reaction or one `jump`
//! declaration (with all its channels).

use super::kernels::{
    binder_count, binder_extents, channel_count, effect_scratch, iteration_position, jump_effect,
};
use super::{Env, Lower};
use crate::check::model::*;
use crate::ir::{Buf, Cmp, MathFn, Val};

/// `propensities`: every channel's propensity into `out[channel]`.
pub(super) fn propensities(l: &mut Lower) {
    let n = channel_count(l);
    l.out_len = Some(n);
    let zero = l.b.i(0);
    store_propensities(l, None, zero, None);
}

/// `channel_starts`: the first channel of each group, then the number of channels.
pub(super) fn channel_starts(l: &mut Lower) {
    let m = l.m;
    let groups = m.reactions.len() + m.jumps.len();
    let len = l.b.i(groups as i64 + 1);
    l.out_len = Some(len);
    let mut start = l.b.i(m.reactions.len() as i64);
    for g in 0..m.reactions.len() {
        let at = l.b.i(g as i64);
        let v = l.b.i(g as i64);
        l.store_out(at, v);
    }
    for (k, j) in m.jumps.iter().enumerate() {
        let at = l.b.i((m.reactions.len() + k) as i64);
        l.store_out(at, start);
        let c = binder_count(l, &j.binders);
        start = l.b.iadd(start, c);
    }
    let at = l.b.i(groups as i64);
    l.store_out(at, start);
}

/// `fire_<g>`: apply group `g`'s change to the state (for a `jump`, the channel within it is
/// `aux[0]`), then store the propensities of the groups in `affected` at
/// `out[scratch + channel]`, after the scratch space jump bodies use. After the `n`
/// propensities come two summaries the engine reads instead of going over the channels
/// itself: `out[scratch + n]` = Σ (new − old) over the recomputed channels, and
/// `out[scratch + n + 1]` = how many of them are negative, infinite or not a number.
pub(super) fn fire(l: &mut Lower, g: usize, affected: &[usize]) {
    let m = l.m;
    let offset = effect_scratch(l);
    if let Some(r) = m.reactions.get(g) {
        for (s, change) in r.net_change() {
            let n = l.load_var(Var::Species(s), &[]).expect("species are in x");
            let d = l.b.f(change as f64);
            let v = l.b.add(n, d);
            l.store_var(Var::Species(s), &[], v);
        }
    } else {
        jump_effect(l, g - m.reactions.len());
    }
    // What the change wrote must be read again, not reused.
    l.effects = true;
    let n = channel_count(l);
    let summary = l.b.iadd(offset, n);
    let two = l.b.i(2);
    l.out_len = Some(l.b.iadd(summary, two));
    // Jump families add to the slots from inside their loops: they start at zero.
    let in_memory = affected
        .iter()
        .filter_map(|&h| h.checked_sub(m.reactions.len()))
        .any(|k| !m.jumps[k].binders.is_empty());
    if in_memory {
        let zero = l.b.f(0.0);
        let one = l.b.i(1);
        let invalid = l.b.iadd(summary, one);
        l.store_out(summary, zero);
        l.store_out(invalid, zero);
    }
    let mut summary = Summary {
        at: summary,
        in_memory,
        change: None,
        invalid: None,
    };
    store_propensities(l, Some(affected), offset, Some(&mut summary));
    summary.finish(l);
}

/// Store the propensities of `groups` (every group for `None`) at `out[offset + channel]`,
/// counted in `summary` when given.
fn store_propensities(
    l: &mut Lower,
    groups: Option<&[usize]>,
    offset: Val,
    mut summary: Option<&mut Summary>,
) {
    let m = l.m;
    let wanted = |g: usize| groups.is_none_or(|gs| gs.contains(&g));
    for (r, reaction) in m.reactions.iter().enumerate() {
        if !wanted(r) {
            continue;
        }
        let h = reaction_propensity(l, reaction);
        let at = l.b.i(r as i64);
        let at = l.b.iadd(offset, at);
        match summary.as_deref_mut() {
            Some(sum) => sum.put(l, at, h, false),
            None => l.store_out(at, h),
        }
    }
    let mut base = l.b.i(m.reactions.len() as i64);
    for (k, j) in m.jumps.iter().enumerate() {
        let count = binder_count(l, &j.binders);
        if wanted(m.reactions.len() + k) {
            let extents = binder_extents(l, &j.binders);
            let start = l.b.iadd(offset, base);
            l.binder_for(&j.binders, &Env::default(), &mut |l, env| {
                let iter = iteration_position(l, &j.binders, &extents, env);
                let at = l.b.iadd(start, iter);
                let rate = l.scalar(&j.rate, env);
                match summary.as_deref_mut() {
                    Some(sum) => sum.put(l, at, rate, !j.binders.is_empty()),
                    None => l.store_out(at, rate),
                }
            });
        }
        base = l.b.iadd(base, count);
    }
}

/// The running summaries of a firing kernel (see `fire`): reactions add to values kept in
/// registers; channels inside a jump family's loop add to the slots in `out` directly.
struct Summary {
    at: Val,
    /// Whether the slots hold partial sums already (else they are written once, at the end).
    in_memory: bool,
    change: Option<Val>,
    invalid: Option<Val>,
}

impl Summary {
    /// Store a recomputed propensity at `out[at]` and count it in the summaries.
    fn put(&mut self, l: &mut Lower, at: Val, new: Val, in_loop: bool) {
        let new = l.b.to_f64(new);
        let len = l.buf_len(Buf::Out);
        let old = l.b.load(Buf::Out, at, len, true);
        l.store_out(at, new);
        let change = l.b.sub(new, old);
        let zero = l.b.f(0.0);
        let inf = l.b.f(f64::INFINITY);
        let nonneg = l.b.fcmp(Cmp::Ge, new, zero);
        let finite = l.b.fcmp(Cmp::Lt, new, inf);
        let ok = l.b.and(nonneg, finite);
        let one = l.b.f(1.0);
        let bad = l.b.select(ok, zero, one);
        if in_loop {
            for (slot, v) in [(0, change), (1, bad)] {
                let k = l.b.i(slot);
                let at = l.b.iadd(self.at, k);
                let sum = l.b.load(Buf::Out, at, len, true);
                let sum = l.b.add(sum, v);
                l.store_out(at, sum);
            }
        } else {
            let add = |l: &mut Lower, acc: Option<Val>, v: Val| match acc {
                Some(a) => l.b.add(a, v),
                None => v,
            };
            self.change = Some(add(l, self.change, change));
            self.invalid = Some(add(l, self.invalid, bad));
        }
    }

    /// Add what was kept in registers to the slots.
    fn finish(self, l: &mut Lower) {
        let len = l.buf_len(Buf::Out);
        for (slot, v) in [(0, self.change), (1, self.invalid)] {
            let k = l.b.i(slot);
            let at = l.b.iadd(self.at, k);
            let v = match (v, self.in_memory) {
                (Some(v), true) => {
                    let sum = l.b.load(Buf::Out, at, len, true);
                    l.b.add(sum, v)
                }
                (Some(v), false) => v,
                (None, true) => continue,
                (None, false) => l.b.f(0.0),
            };
            l.store_out(at, v);
        }
    }
}

/// A reaction's propensity: its rate times C(n, ν) for each reactant under mass action, or
/// the rate itself for `=>` reactions.
pub(super) fn reaction_propensity(l: &mut Lower, reaction: &Reaction) -> Val {
    let rate = l.scalar(&reaction.rate, &Env::default());
    let rate = l.b.to_f64(rate);
    match reaction.law {
        RateLaw::Propensity => rate,
        RateLaw::MassAction => {
            let mut h = rate;
            for &(s, nu) in &reaction.reactants {
                let n = l.load_var(Var::Species(s), &[]).expect("species are in x");
                let c = binomial(l, n, nu);
                h = l.b.mul(h, c);
            }
            h
        }
    }
}
/// C(n, ν) for a count n (f64) and a small whole ν: Π_{j<ν} (n − j) / ν!, which is 0 when
/// n < ν. Large ν use lgamma.
pub(super) fn binomial(l: &mut Lower, n: Val, nu: u32) -> Val {
    if nu == 1 {
        // C(n, 1) = n. Engines keep counts whole and ≥ 0 (a negative one stops the run), so
        // no guard is needed; a negative count would show up as a negative rate.
        return n;
    }
    if nu <= 12 {
        let mut acc = l.b.f(1.0);
        let mut fact = 1.0;
        for j in 0..nu {
            let jj = l.b.f(f64::from(j));
            let t = l.b.sub(n, jj);
            acc = l.b.mul(acc, t);
            fact *= f64::from(j + 1);
        }
        if nu > 1 {
            let f = l.b.f(fact);
            acc = l.b.div(acc, f);
        }
        // A negative count (never in a valid state) must not give a positive propensity.
        let nu_f = l.b.f(f64::from(nu));
        let enough = l.b.fcmp(Cmp::Ge, n, nu_f);
        let zero = l.b.f(0.0);
        return l.b.select(enough, acc, zero);
    }
    let one = l.b.f(1.0);
    let nu_f = l.b.f(f64::from(nu));
    let n1 = l.b.add(n, one);
    let g1 = l.b.call(MathFn::Lgamma, vec![n1]);
    let nm = l.b.sub(n, nu_f);
    let nm1 = l.b.add(nm, one);
    let g2 = l.b.call(MathFn::Lgamma, vec![nm1]);
    let nu1 = l.b.add(nu_f, one);
    let g3 = l.b.call(MathFn::Lgamma, vec![nu1]);
    let d = l.b.sub(g1, g2);
    let d = l.b.sub(d, g3);
    let c = l.b.call(MathFn::Exp, vec![d]);
    let c = l.b.fun(crate::ir::FUn::Round, c);
    let enough = l.b.fcmp(Cmp::Ge, n, nu_f);
    let zero = l.b.f(0.0);
    l.b.select(enough, c, zero)
}
