//! `flip_delta`: the change ΔH = H(s with s_k flipped) − H(s) of a model's `energy` when the
//! spin at position k of `x` (in `aux[0]`) flips, computed from the terms of H that involve
//! s_k only, so that a sweep of single-spin updates costs O(N) rather than O(N²).
//!
//! H is split into additive terms through `+`, `-`, unary minus, multiplication and division
//! by spin-free factors, and scalar `let`s. Each term is handled by one of:
//!
//! * **a local sum** — `sum(i in a..b, j in c..d) body` (or `mean`), where every spin read
//!   in `body` is a full index `s[e₁, …, e_r]` and each eᵢ is either free of the loop
//!   variables or of the form `i + c`, `i - c`, `c + i`, `(i + c) % M + c₂` in one loop
//!   variable, or `c - i` (c, M free of loop variables and spins). Inverting these forms gives, for each
//!   spin read, the loop values at which it reads site k (a loop variable that no index
//!   determines runs over its whole range). Each candidate is checked (in range, the read
//!   really is site k, and no earlier read of the same term already claimed it, so a term is
//!   counted once), and contributes body(flipped) − body(s). Nested sums are flattened.
//! * **`sum(s)` / `mean(s)`** of a whole spin state: −2 s_k (divided by the size).
//! * **the whole term**, otherwise (a Hopfield energy's squares, products of two spin sums,
//!   spin reads with other indices): term(flipped) − term(s), exact but O(size of the term).
//!
//! Reading "flipped" spins is done by the lowering itself (`Lower::set_flip`): every load of a
//! spin state compares its position with k and negates on a match, so no state is copied.

use super::{Binding, Env, Lower};
use crate::check::builtins::Builtin;
use crate::check::model::{Binder, LetRole, Model, Reduction, TExpr, TKind, Var};
use crate::check::types::Scalar;
use crate::ir::{Buf, Cmp, IBin, RedOp, Val};
use crate::syntax::ast::{BinOp, UnOp};
use std::collections::BTreeSet;

/// How one additive term of the energy is updated after a flip.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlipTerm {
    /// What the term is (`sum over 2 indices, 3 spin reads`).
    pub what: String,
    /// Whether only the parts that involve the flipped spin are evaluated; otherwise the
    /// whole term is, twice.
    pub local: bool,
}

/// Whether a model gets a `flip_delta` kernel: an energy over spin states.
pub(super) fn applies(m: &Model) -> bool {
    m.lets.iter().any(|l| l.role == LetRole::Energy)
        && m.states.iter().any(|s| s.ty.scalar == Scalar::Spin)
}

/// Build `flip_delta`: out[0] = ΔH for flipping the spin at position `aux[0]` of `x`.
/// `terms` receives how each term of H is handled.
pub(super) fn flip_delta(l: &mut Lower, terms: &mut Vec<FlipTerm>) {
    let m = l.m;
    let one = l.b.i(1);
    l.out_len = Some(one);
    let k = l.b.hoist(|b| {
        let zero = b.i(0);
        let one = b.i(1);
        let v = b.load(Buf::Aux, zero, one, true);
        b.ftoi(v)
    });
    let Some(h) = m.lets.iter().find(|x| x.role == LetRole::Energy) else {
        return;
    };
    let mut d = Delta { k, terms };
    let v = match d.delta(l, &h.value) {
        Some(v) => v,
        None => l.b.f(0.0),
    };
    let zero = l.b.i(0);
    l.store_out(zero, v);
}

struct Delta<'t> {
    /// The flipped position in `x` (i64).
    k: Val,
    terms: &'t mut Vec<FlipTerm>,
}

/// One spin read in a term's body: state `state` at `indices` (empty for a scalar state),
/// with each index's form.
struct Access<'e> {
    state: usize,
    indices: &'e [TExpr],
    forms: Vec<Option<Form<'e>>>,
}

/// `((±i + offset) % modulus) + post`, or `±i + offset` without a modulus, in loop
/// variable `local` (`negated` for −i); the parts are signed spin-free expressions without
/// loop variables.
#[derive(Clone)]
struct Form<'e> {
    local: usize,
    negated: bool,
    offset: Vec<(bool, &'e TExpr)>,
    modulus: Option<&'e TExpr>,
    post: Vec<(bool, &'e TExpr)>,
}

/// Where loop variable values come from: `start + r·stride` for r in 0..count.
#[derive(Clone, Copy)]
struct Candidates {
    start: Val,
    count: Val,
    stride: Val,
}

impl Delta<'_> {
    /// ΔH of expression `e` (None: it does not change).
    fn delta(&mut self, l: &mut Lower, e: &TExpr) -> Option<Val> {
        if !reads_spins(l, e) {
            return None;
        }
        let env = Env::default();
        match &e.kind {
            TKind::Binary(op @ (BinOp::Add | BinOp::Sub), a, b) => {
                let da = self.delta(l, a);
                let db = self.delta(l, b);
                match (da, db) {
                    (Some(x), Some(y)) if *op == BinOp::Add => Some(l.b.add(x, y)),
                    (Some(x), Some(y)) => Some(l.b.sub(x, y)),
                    (Some(x), None) => Some(x),
                    (None, Some(y)) if *op == BinOp::Add => Some(y),
                    (None, Some(y)) => Some(l.b.neg(y)),
                    (None, None) => None,
                }
            }
            TKind::Unary(UnOp::Neg, a) => {
                let d = self.delta(l, a)?;
                Some(l.b.neg(d))
            }
            TKind::Unary(UnOp::Plus, a) => self.delta(l, a),
            TKind::Binary(BinOp::Mul, a, b) if !reads_spins(l, a) || !reads_spins(l, b) => {
                let (factor, varying) = if reads_spins(l, a) { (b, a) } else { (a, b) };
                let d = self.delta(l, varying)?;
                let c = l.scalar(factor, &env);
                let c = l.b.to_f64(c);
                Some(l.b.mul(c, d))
            }
            TKind::Binary(BinOp::Div, a, b) if !reads_spins(l, b) => {
                let d = self.delta(l, a)?;
                let c = l.scalar(b, &env);
                let c = l.b.to_f64(c);
                Some(l.b.div(d, c))
            }
            TKind::Var(Var::Let(i)) if l.m.lets[*i].value.ty.is_scalar() => {
                let m = l.m;
                self.delta(l, &m.lets[*i].value)
            }
            TKind::Reduce { op, binders, body }
                if matches!(op, Reduction::Sum | Reduction::Mean) =>
            {
                match self.local_sum(l, *op == Reduction::Mean, binders, body) {
                    Some(v) => Some(v),
                    None => Some(self.whole(l, e)),
                }
            }
            TKind::Var(Var::State(j)) if is_spin(l.m, *j) && e.ty.is_scalar() => {
                Some(self.whole_state_sum(l, *j, false))
            }
            TKind::Call(f @ (Builtin::Sum | Builtin::Mean), args) => {
                match (&args[0].kind, args.len()) {
                    (TKind::Var(Var::State(j)), 1) if is_spin(l.m, *j) => {
                        Some(self.whole_state_sum(l, *j, *f == Builtin::Mean))
                    }
                    _ => Some(self.whole(l, e)),
                }
            }
            _ => Some(self.whole(l, e)),
        }
    }

    /// term(flipped) − term(s), evaluating the whole term twice.
    fn whole(&mut self, l: &mut Lower, e: &TExpr) -> Val {
        let env = Env::default();
        let before = l.scalar(e, &env);
        let before = l.b.to_f64(before);
        l.set_flip(Some(self.k));
        let after = l.scalar(e, &env);
        let after = l.b.to_f64(after);
        l.set_flip(None);
        self.terms.push(FlipTerm {
            what: describe(e),
            local: false,
        });
        l.b.sub(after, before)
    }

    /// Δ of `sum(s)` (or `mean(s)`) over all of spin state `j`: −2 s_k when k lies in it.
    fn whole_state_sum(&mut self, l: &mut Lower, j: usize, mean: bool) -> Val {
        let (in_slot, _) = self.site_in(l, j);
        let len_x = l.buf_len(Buf::X);
        let s = l.b.load(Buf::X, self.k, len_x, true);
        let m2 = l.b.f(-2.0);
        let d = l.b.mul(m2, s);
        let d = if mean {
            let (_, slot) = l.layout.find(Var::State(j)).unwrap_or((Buf::X, 0));
            let n = l.slot_len(Buf::X, slot);
            let n = l.b.itof(n);
            l.b.div(d, n)
        } else {
            d
        };
        let zero = l.b.f(0.0);
        let name = &l.m.states[j].name;
        self.terms.push(FlipTerm {
            what: if l.m.states[j].ty.dims.is_empty() {
                format!("the spin `{name}`")
            } else {
                format!(
                    "{}({name}) of a whole spin state",
                    if mean { "mean" } else { "sum" }
                )
            },
            local: true,
        });
        l.b.select(in_slot, d, zero)
    }

    /// Whether `k` lies in spin state `j`, and its 1-based coordinates there (i64).
    fn site_in(&mut self, l: &mut Lower, j: usize) -> (Val, Vec<Val>) {
        let Some((buf, slot)) = l.layout.find(Var::State(j)) else {
            let no = l.b.b(false);
            return (no, Vec::new());
        };
        let off = l.slot_offset(buf, slot);
        let len = l.slot_len(buf, slot);
        let dims = l.slot_dims(buf, slot);
        let local = l.b.ibin(IBin::Sub, self.k, off);
        let zero = l.b.i(0);
        let ge = l.b.icmp(Cmp::Ge, local, zero);
        let lt = l.b.icmp(Cmp::Lt, local, len);
        let inside = l.b.and(ge, lt);
        let mut coords = vec![zero; dims.len()];
        let mut rest = local;
        let one = l.b.i(1);
        for (d, &n) in dims.iter().enumerate().rev() {
            let r = l.b.ibin(IBin::Rem, rest, n);
            coords[d] = l.b.iadd(r, one);
            rest = l.b.ibin(IBin::Div, rest, n);
        }
        (inside, coords)
    }

    /// Δ of `sum(binders) body` from the iterations that read site k, or None when the body
    /// is not of a form this can invert.
    fn local_sum(
        &mut self,
        l: &mut Lower,
        mean: bool,
        binders: &[Binder],
        body: &TExpr,
    ) -> Option<Val> {
        // Flatten `sum(i …) sum(j …) body` into one sum over (i, j).
        let mut binders = binders.to_vec();
        let mut body = body;
        while let TKind::Reduce {
            op: Reduction::Sum,
            binders: inner,
            body: b,
        } = &body.kind
            && !mean
        {
            binders.extend(inner.iter().cloned());
            body = b;
        }
        let locals: Vec<usize> = binders.iter().map(|b| b.local).collect();
        // Ranges must be free of loop variables and spins.
        for b in &binders {
            for end in [&b.lo, &b.hi] {
                if mentions_locals(end) || reads_spins(l, end) {
                    return None;
                }
            }
        }
        let mut accesses = Vec::new();
        if !collect(l, body, &locals, &mut accesses) || accesses.is_empty() {
            return None;
        }
        let env = Env::default();
        let ranges: Vec<(Val, Val)> = binders
            .iter()
            .map(|b| {
                let lo = l.hoisted_scalar(&b.lo);
                let lo = l.as_int(lo);
                let hi = l.hoisted_scalar(&b.hi);
                let hi = l.as_int(hi);
                (lo, hi)
            })
            .collect();
        let mut total: Option<Val> = None;
        for a in 0..accesses.len() {
            let v = self.access_sum(l, &binders, &ranges, body, &accesses, a, &env);
            total = Some(match total {
                Some(t) => l.b.add(t, v),
                None => v,
            });
        }
        let mut total = total?;
        if mean {
            let mut n = l.b.i(1);
            for &(lo, hi) in &ranges {
                let span = l.b.ibin(IBin::Sub, hi, lo);
                let one = l.b.i(1);
                let span = l.b.iadd(span, one);
                let zero = l.b.i(0);
                let span = l.b.ibin(IBin::Max, span, zero);
                n = l.b.imul(n, span);
            }
            let n = l.b.itof(n);
            total = l.b.div(total, n);
        }
        self.terms.push(FlipTerm {
            what: format!(
                "{} over {} ind{}, {} spin read{}",
                if mean { "mean" } else { "sum" },
                binders.len(),
                if binders.len() == 1 { "ex" } else { "ices" },
                accesses.len(),
                if accesses.len() == 1 { "" } else { "s" }
            ),
            local: true,
        });
        Some(total)
    }

    /// Σ over the iterations at which access `a` reads site k (and no earlier access of the
    /// same state does) of body(flipped) − body(s).
    #[allow(clippy::too_many_arguments)]
    fn access_sum(
        &mut self,
        l: &mut Lower,
        binders: &[Binder],
        ranges: &[(Val, Val)],
        body: &TExpr,
        accesses: &[Access],
        a: usize,
        env: &Env,
    ) -> Val {
        let acc = &accesses[a];
        let (inside, coords) = self.site_in(l, acc.state);
        let zero = l.b.i(0);
        let one = l.b.i(1);
        // Candidate values of each loop variable.
        let cands: Vec<Candidates> = binders
            .iter()
            .zip(ranges)
            .map(|(b, &(lo, hi))| {
                let solved =
                    acc.forms.iter().zip(&coords).find_map(|(f, &c)| {
                        f.as_ref().filter(|f| f.local == b.local).map(|f| (f, c))
                    });
                let c = match solved {
                    Some((form, target)) => solve(l, form, target, lo, hi),
                    None => {
                        let span = l.b.ibin(IBin::Sub, hi, lo);
                        let n = l.b.iadd(span, one);
                        let n = l.b.ibin(IBin::Max, n, zero);
                        Candidates {
                            start: lo,
                            count: n,
                            stride: one,
                        }
                    }
                };
                // No iteration at all when k is not in this state.
                let count = l.b.select(inside, c.count, zero);
                Candidates { count, ..c }
            })
            .collect();
        // Coordinates of k for the earlier reads of the same state (the same as this one's).
        let earlier: Vec<usize> = (0..a).filter(|&e| accesses[e].state == acc.state).collect();
        let k = self.k;
        nest(l, binders, &cands, 0, env, &mut |l, env| {
            let mut ok = l.b.b(true);
            for (b, &(lo, hi)) in binders.iter().zip(ranges) {
                let v = match env.locals.get(&b.local) {
                    Some(Binding::Scalar(v)) => *v,
                    _ => continue,
                };
                let ge = l.b.icmp(Cmp::Ge, v, lo);
                let le = l.b.icmp(Cmp::Le, v, hi);
                let within = l.b.and(ge, le);
                ok = l.b.and(ok, within);
            }
            let hit = reads_site(l, acc, &coords, env);
            ok = l.b.and(ok, hit);
            for &e in &earlier {
                let before = reads_site(l, &accesses[e], &coords, env);
                let not = l.b.not(before);
                ok = l.b.and(ok, not);
            }
            let old = l.scalar(body, env);
            let old = l.b.to_f64(old);
            l.set_flip(Some(k));
            let new = l.scalar(body, env);
            let new = l.b.to_f64(new);
            l.set_flip(None);
            let d = l.b.sub(new, old);
            let z = l.b.f(0.0);
            l.b.select(ok, d, z)
        })
    }
}

/// Nested loops over the candidates of binders `t..`, summing `body`.
fn nest(
    l: &mut Lower,
    binders: &[Binder],
    cands: &[Candidates],
    t: usize,
    env: &Env,
    body: &mut dyn FnMut(&mut Lower, &Env) -> Val,
) -> Val {
    let Some(b) = binders.get(t) else {
        return body(l, env);
    };
    let c = cands[t];
    let zero = l.b.i(0);
    l.reduce_loop(RedOp::Sum, zero, c.count, |l, r| {
        let step = l.b.imul(r, c.stride);
        let v = l.b.iadd(c.start, step);
        let inner = env.with(b.local, Binding::Scalar(v));
        nest(l, binders, cands, t + 1, &inner, body)
    })
}

/// Whether access `acc` at the loop values of `env` reads the site at `coords`.
fn reads_site(l: &mut Lower, acc: &Access, coords: &[Val], env: &Env) -> Val {
    let mut hit = l.b.b(true);
    for (ix, &c) in acc.indices.iter().zip(coords) {
        let v = l.scalar(ix, env);
        let v = l.as_int(v);
        let eq = l.b.icmp(Cmp::Eq, v, c);
        hit = l.b.and(hit, eq);
    }
    hit
}

/// The values of a form's loop variable in [lo, hi] at which it equals `target`.
fn solve(l: &mut Lower, f: &Form, target: Val, lo: Val, hi: Val) -> Candidates {
    let one = l.b.i(1);
    let zero = l.b.i(0);
    let offset = signed_sum(l, &f.offset);
    // ±i stands for σ·i, σ = ±1, and σ·v = w ⇔ v = σ·w.
    let unsign = |l: &mut Lower, w: Val| if f.negated { l.b.ineg(w) } else { w };
    let Some(m) = f.modulus else {
        // σi + c = target
        let w = l.b.ibin(IBin::Sub, target, offset);
        let start = unsign(l, w);
        return Candidates {
            start,
            count: one,
            stride: one,
        };
    };
    // (σi + c) % M + c₂ = target  ⇔  i ≡ σ(target − c₂ − c) (mod M), for M > 0.
    let post = signed_sum(l, &f.post);
    let m = l.hoisted_scalar(m);
    let m = l.as_int(m);
    let r = l.b.ibin(IBin::Sub, target, post);
    let r = l.b.ibin(IBin::Sub, r, offset);
    let r = unsign(l, r);
    let r = l.b.ibin(IBin::Sub, r, lo);
    let r = l.b.ibin(IBin::Rem, r, m);
    let start = l.b.iadd(lo, r);
    let room = l.b.ibin(IBin::Sub, hi, start);
    let n = l.b.ibin(IBin::Div, room, m);
    let n = l.b.iadd(n, one);
    let n = l.b.ibin(IBin::Max, n, zero);
    // A modulus ≤ 0 (x % 0 is 0 at run time): every value of the range.
    let positive = l.b.icmp(Cmp::Gt, m, zero);
    let span = l.b.ibin(IBin::Sub, hi, lo);
    let all = l.b.iadd(span, one);
    let all = l.b.ibin(IBin::Max, all, zero);
    Candidates {
        start: l.b.select(positive, start, lo),
        count: l.b.select(positive, n, all),
        stride: l.b.select(positive, m, one),
    }
}

/// Σ ±e over signed parts (0 for none), as i64.
fn signed_sum(l: &mut Lower, parts: &[(bool, &TExpr)]) -> Val {
    let mut acc = l.b.i(0);
    for &(neg, e) in parts {
        let v = l.hoisted_scalar(e);
        let v = l.as_int(v);
        acc = l.b.ibin(if neg { IBin::Sub } else { IBin::Add }, acc, v);
    }
    acc
}

/// Collect the spin reads of a term's body; false when one is not a full index in forms
/// `parse` understands, or when a `let` that reads spins is used.
fn collect<'e>(l: &Lower, e: &'e TExpr, locals: &[usize], out: &mut Vec<Access<'e>>) -> bool {
    match &e.kind {
        TKind::Index(base, indices) => {
            let TKind::Var(Var::State(j)) = base.kind else {
                return e.children().into_iter().all(|c| collect(l, c, locals, out));
            };
            if !is_spin(l.m, j) {
                return indices.iter().all(|c| collect(l, c, locals, out));
            }
            if indices.len() != l.m.states[j].ty.dims.len() {
                return false;
            }
            let mut forms = Vec::with_capacity(indices.len());
            for ix in indices {
                if reads_spins(l, ix) {
                    return false;
                }
                if !mentions_locals(ix) {
                    forms.push(None);
                    continue;
                }
                match parse(ix, locals) {
                    Some(f) => forms.push(Some(f)),
                    None => return false,
                }
            }
            out.push(Access {
                state: j,
                indices,
                forms,
            });
            true
        }
        TKind::Var(Var::State(j)) if is_spin(l.m, *j) => {
            if !l.m.states[*j].ty.dims.is_empty() {
                return false;
            }
            out.push(Access {
                state: *j,
                indices: &[],
                forms: Vec::new(),
            });
            true
        }
        TKind::Var(Var::Let(_)) => !reads_spins(l, e),
        _ => e.children().into_iter().all(|c| collect(l, c, locals, out)),
    }
}

/// An index expression as a form in one of `locals`.
fn parse<'e>(e: &'e TExpr, locals: &[usize]) -> Option<Form<'e>> {
    let free = |x: &TExpr| !mentions_locals(x);
    match &e.kind {
        TKind::Var(Var::Local(v)) if locals.contains(v) => Some(Form {
            local: *v,
            negated: false,
            offset: Vec::new(),
            modulus: None,
            post: Vec::new(),
        }),
        TKind::Binary(op @ (BinOp::Add | BinOp::Sub), a, b) => {
            let (inner, c, neg) = if free(b) {
                (a, b, *op == BinOp::Sub)
            } else if free(a) {
                (b, a, false)
            } else {
                return None;
            };
            let mut f = parse(inner, locals)?;
            if *op == BinOp::Sub && !free(b) {
                // c − (±i + offset) = ∓i + (c − offset); not through a modulus.
                if f.modulus.is_some() {
                    return None;
                }
                f.negated = !f.negated;
                for part in &mut f.offset {
                    part.0 = !part.0;
                }
            }
            if f.modulus.is_some() {
                f.post.push((neg, c));
            } else {
                f.offset.push((neg, c));
            }
            Some(f)
        }
        TKind::Binary(BinOp::Mod, a, m) if free(m) => {
            let mut f = parse(a, locals)?;
            if f.modulus.is_some() {
                return None;
            }
            f.modulus = Some(m);
            Some(f)
        }
        _ => None,
    }
}

fn is_spin(m: &Model, j: usize) -> bool {
    m.states[j].ty.scalar == Scalar::Spin
}

/// Whether an expression reads a spin state, directly or through `let`s.
fn reads_spins(l: &Lower, e: &TExpr) -> bool {
    let mut vars = BTreeSet::new();
    l.reads
        .vars_of_in(e, Var::State(0)..=Var::State(usize::MAX), &mut vars);
    vars.iter()
        .any(|v| matches!(v, Var::State(j) if is_spin(l.m, *j)))
}

/// Whether an expression uses any local (loop variable, function parameter).
fn mentions_locals(e: &TExpr) -> bool {
    matches!(e.kind, TKind::Var(Var::Local(_))) || e.children().into_iter().any(mentions_locals)
}

/// A short description of a term evaluated whole.
fn describe(e: &TExpr) -> String {
    match &e.kind {
        TKind::Reduce { op, binders, .. } => format!(
            "{} over {} ind{}",
            op.name(),
            binders.len(),
            if binders.len() == 1 { "ex" } else { "ices" }
        ),
        TKind::Binary(op, ..) => format!("a `{}` of spin-dependent values", op.as_str()),
        TKind::Call(f, _) => format!("`{}(…)`", f.name()),
        TKind::Var(Var::State(_)) => "a spin".to_string(),
        _ => "an expression of the spins".to_string(),
    }
}
