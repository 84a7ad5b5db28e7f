//! A reaction network seen as a continuous system, for models whose only dynamics are
//! reactions (no `jump`, equations, events or other states):
//!
//! * `rre_drift`: the deterministic rate equations, dx_i/dt = Σ_j ν_ij r_j(x), with the
//!   macroscopic mass-action rate r_j = k_j Π_s x_s^{ν_s} / ν_s! (a `=>` reaction's rate is
//!   used as written);
//! * `cle_drift`, `cle_diffusion`, `cle_diffusion_pattern`: the chemical Langevin equation
//!   (D. T. Gillespie, J. Chem. Phys. 113:297, 2000),
//!   dx_i = Σ_j ν_ij a_j(x) dt + Σ_j ν_ij √max(a_j(x), 0) dW_j, with the exact propensity
//!   a_j = k_j Π_s C(x_s, ν_s) evaluated on real-valued counts, and one Wiener process per
//!   reaction that changes something (numbered in reaction order).
//!
//! The diffusion entries are listed reaction by reaction, each reaction's species in the
//! order of its net change (`ReactionTable::changes`). Counts are real here: rate
//! expressions and `let`s see them untruncated (`Lower::real_counts`), and so does
//! `real_outputs`, the outputs kernel of the views. Rates see max(x, 0)
//! (`Lower::nonnegative_counts`): they are defined for counts ≥ 0, and the CLE's state
//! can dip below 0 where a species runs out.

use super::kernels::species_position;
use super::{Env, Lower};
use crate::check::model::*;
use crate::ir::{Buf, Cmp, MathFn, Val};

/// Whether a model is a reaction network and nothing else: its states are its species and
/// only reactions move them.
pub(super) fn applies(m: &Model) -> bool {
    !m.reactions.is_empty()
        && m.jumps.is_empty()
        && m.events.is_empty()
        && m.equations.is_empty()
        && m.states.is_empty()
}

/// Builds one kernel.
type Build = fn(&mut Lower);

/// The kernels of the two views, by name.
pub(super) const KERNELS: [(&str, Build); 4] = [
    ("rre_drift", rre_drift),
    ("cle_drift", cle_drift),
    ("cle_diffusion", cle_diffusion),
    ("cle_diffusion_pattern", cle_diffusion_pattern),
];

/// How many diffusion entries the CLE has: one per species a reaction changes.
fn cle_entry_count(m: &Model) -> usize {
    m.reactions.iter().map(|r| r.net_change().len()).sum()
}

fn rre_drift(l: &mut Lower) {
    drift(l, true);
}

fn cle_drift(l: &mut Lower) {
    drift(l, false);
}

fn cle_diffusion(l: &mut Lower) {
    diffusion(l, false);
}

fn cle_diffusion_pattern(l: &mut Lower) {
    diffusion(l, true);
}

/// Σ_j ν_ij · rate_j into `out[i]` for every species (0 for one no reaction changes).
fn drift(l: &mut Lower, macroscopic: bool) {
    let m = l.m;
    real_counts(l);
    let nx = l.buf_len(Buf::X);
    l.out_len = Some(nx);
    let mut sums: Vec<Option<Val>> = vec![None; m.species.len()];
    for r in &m.reactions {
        let change = r.net_change();
        if change.is_empty() {
            continue;
        }
        let a = rate(l, r, macroscopic);
        for (s, nu) in change {
            sums[s] = Some(match (sums[s], nu) {
                (None, _) => times(l, nu, a),
                (Some(acc), -1) => l.b.sub(acc, a),
                (Some(acc), _) => {
                    let t = times(l, nu, a);
                    l.b.add(acc, t)
                }
            });
        }
    }
    for (s, sum) in sums.into_iter().enumerate() {
        let v = sum.unwrap_or_else(|| l.b.f(0.0));
        let at = l.b.i(species_position(l.layout, s) as i64);
        l.store_out(at, v);
    }
}

/// The CLE's diffusion entries ν_ij √max(a_j, 0), or with `pattern` their
/// (x position, noise index) pairs.
fn diffusion(l: &mut Lower, pattern: bool) {
    let m = l.m;
    real_counts(l);
    let n = cle_entry_count(m) * if pattern { 2 } else { 1 };
    let len = l.b.i(n as i64);
    l.out_len = Some(len);
    let mut entry = 0i64;
    let mut noise = 0i64;
    for r in &m.reactions {
        let change = r.net_change();
        if change.is_empty() {
            continue;
        }
        let g = (!pattern).then(|| {
            let a = rate(l, r, false);
            sqrt_positive(l, a)
        });
        for (s, nu) in change {
            match g {
                Some(g) => {
                    let v = times(l, nu, g);
                    let at = l.b.i(entry);
                    l.store_out(at, v);
                }
                None => {
                    let pos = l.b.i(species_position(l.layout, s) as i64);
                    let w = l.b.i(noise);
                    let at = l.b.i(2 * entry);
                    l.store_out(at, pos);
                    let at = l.b.i(2 * entry + 1);
                    l.store_out(at, w);
                }
            }
            entry += 1;
        }
        noise += 1;
    }
}

/// Counts are real in these kernels, and rates see them clamped at 0.
fn real_counts(l: &mut Lower) {
    l.real_counts = true;
    l.nonnegative_counts = true;
}

/// √a for a > 0, else 0: the same values as √max(a, 0), but written as a choice so that the
/// derivative kernel gives 0 (not 0/0) where the propensity vanishes.
fn sqrt_positive(l: &mut Lower, a: Val) -> Val {
    let zero = l.b.f(0.0);
    let positive = l.b.fcmp(Cmp::Gt, a, zero);
    let root = l.b.fun(crate::ir::FUn::Sqrt, a);
    l.b.select(positive, root, zero)
}

/// ν · v for a small whole ν (no multiplication for ±1).
fn times(l: &mut Lower, nu: i64, v: Val) -> Val {
    match nu {
        1 => v,
        -1 => l.b.neg(v),
        _ => {
            let c = l.b.f(nu as f64);
            l.b.mul(c, v)
        }
    }
}

/// A reaction's rate in the view: the macroscopic rate (RRE) or the exact propensity (CLE)
/// under mass action; a `=>` reaction's rate as written in both.
fn rate(l: &mut Lower, r: &Reaction, macroscopic: bool) -> Val {
    let k = l.scalar(&r.rate, &Env::default());
    let mut h = l.b.to_f64(k);
    if r.law == RateLaw::Propensity {
        return h;
    }
    for &(s, nu) in &r.reactants {
        let x = l.load_var(Var::Species(s), &[]).expect("species are in x");
        let c = if macroscopic {
            power_over_factorial(l, x, nu)
        } else {
            choose(l, x, nu)
        };
        h = l.b.mul(h, c);
    }
    h
}

/// Small powers are products, as in the language.
const SMALL: u32 = 12;

/// x^ν / ν!.
fn power_over_factorial(l: &mut Lower, x: Val, nu: u32) -> Val {
    if nu <= SMALL {
        let mut acc = x;
        for _ in 1..nu {
            acc = l.b.mul(acc, x);
        }
        return over_factorial(l, acc, nu);
    }
    // (x / (ν!)^{1/ν})^ν: neither factor overflows on its own.
    let root = (ln_factorial(nu) / f64::from(nu)).exp();
    let root = l.b.f(root);
    let y = l.b.div(x, root);
    let nu = l.b.f(f64::from(nu));
    l.b.call(MathFn::Pow, vec![y, nu])
}

/// C(x, ν) = x (x − 1) ⋯ (x − ν + 1) / ν! for real x ≥ ν − 1, and 0 below: the exact
/// propensity's factor at whole counts, continuous in between (the CLE's state is real, and
/// a jump in the drift where x crosses ν would be an artefact).
fn choose(l: &mut Lower, x: Val, nu: u32) -> Val {
    let value = if nu <= SMALL {
        let mut acc = x;
        for j in 1..nu {
            let jj = l.b.f(f64::from(j));
            let t = l.b.sub(x, jj);
            acc = l.b.mul(acc, t);
        }
        over_factorial(l, acc, nu)
    } else {
        // Γ(x + 1) / (Γ(x − ν + 1) ν!), which tends to 0 as x → ν − 1.
        let one = l.b.f(1.0);
        let x1 = l.b.add(x, one);
        let g1 = l.b.call(MathFn::Lgamma, vec![x1]);
        let shift = l.b.f(f64::from(nu) - 1.0);
        let xm = l.b.sub(x, shift);
        let g2 = l.b.call(MathFn::Lgamma, vec![xm]);
        let d = l.b.sub(g1, g2);
        let lf = l.b.f(ln_factorial(nu));
        let d = l.b.sub(d, lf);
        l.b.call(MathFn::Exp, vec![d])
    };
    if nu == 1 {
        return value; // x ≥ 0 already (`nonnegative_counts`)
    }
    let floor = l.b.f(f64::from(nu) - 1.0);
    let enough = l.b.fcmp(Cmp::Gt, x, floor);
    let zero = l.b.f(0.0);
    l.b.select(enough, value, zero)
}

/// v / ν! for ν ≤ `SMALL` (exact in f64).
fn over_factorial(l: &mut Lower, v: Val, nu: u32) -> Val {
    let fact: u64 = (1..=u64::from(nu)).product();
    if fact == 1 {
        return v;
    }
    let f = l.b.f(fact as f64);
    l.b.div(v, f)
}

/// ln ν!, summed (ν is a stoichiometric coefficient: small).
fn ln_factorial(nu: u32) -> f64 {
    (2..=nu).map(|k| f64::from(k).ln()).sum()
}
