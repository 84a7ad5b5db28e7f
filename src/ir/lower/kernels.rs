//! The kernels of a model and the tables beside them.

use super::layout::Layout;
use super::transitions;
use super::{Binding, Env, Lower};
use crate::check::builtins::{Builtin, DistKind};
use crate::check::model::*;
use crate::check::types::Dim;
use crate::diag::Diagnostic;
use crate::ir::{Buf, Cmp, IBin, Kernel, MathFn, RedOp, SampleDist, Val};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;

/// A model compiled to kernels.
#[derive(Clone, Debug)]
pub struct LoweredModel {
    pub name: String,
    pub layout: Layout,
    /// Every kernel, in a fixed order (see `kernel`).
    pub kernels: Vec<Kernel>,
    pub reactions: Vec<ReactionTable>,
    pub jumps: Vec<JumpInfo>,
    pub events: Vec<EventInfo>,
    /// Transition groups (reactions, then jump declarations): for each, the groups whose
    /// propensities must be recomputed after it fires.
    pub dependencies: Vec<Vec<usize>>,
    /// Whether each group's propensity depends on time directly.
    pub time_dependent: Vec<bool>,
    /// How `flip_delta` updates each term of the energy (empty without that kernel).
    pub flip_terms: Vec<super::FlipTerm>,
    /// Kernels that only some commands need and this model cannot have, with why: the
    /// model still compiles, and a command asking for one reports these diagnostics
    /// (`observe_sample` when an observation distribution cannot be drawn from).
    pub refused: Vec<(String, Vec<Diagnostic>)>,
}

/// What firing a reaction does to the state: (position in `x`, change).
#[derive(Clone, Debug)]
pub struct ReactionTable {
    pub name: String,
    pub changes: Vec<(usize, i64)>,
}

#[derive(Clone, Debug)]
pub struct JumpInfo {
    pub name: String,
    /// The effect kernel (its `aux[0]` is the channel number within the jump, from 0).
    pub effect: String,
}

#[derive(Clone, Debug)]
pub struct EventInfo {
    /// `at t = …` (the trigger kernel gives the time) or `when` (it gives 0 or 1).
    pub at_time: bool,
    pub trigger: String,
    pub effect: String,
}

impl LoweredModel {
    pub fn kernel(&self, name: &str) -> Option<&Kernel> {
        self.kernels.iter().find(|k| k.name == name)
    }

    /// Why the model has no kernel `name`, if it was refused (see `refused`).
    pub fn refusal(&self, name: &str) -> Option<&[Diagnostic]> {
        self.refused
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, d)| d.as_slice())
    }
}

/// Positions of the numbers the `sizes` kernel writes.
pub mod size_index {
    pub const X: usize = 0;
    pub const P: usize = 1;
    pub const D: usize = 2;
    pub const OBS: usize = 3;
    pub const CHANNELS: usize = 4;
    pub const DIFFUSION: usize = 5;
    pub const OUTPUTS: usize = 6;
    /// Scratch space the effect kernels (`jump_*`, `event*_effect`) need in `out`.
    pub const SCRATCH: usize = 7;
    pub const COUNT: usize = 8;
}

/// Compile a checked model. Constructs the kernels cannot express yet are diagnostics.
pub fn lower_model(m: &Model, prog: &Program) -> Result<LoweredModel, Vec<Diagnostic>> {
    let layout = Layout::of(m);
    let lets = LetReads::of(m);
    let mut errors = Vec::new();
    let mut kernels = Vec::new();
    let mut build = |name: &str, f: &mut dyn FnMut(&mut Lower)| {
        let mut l = Lower::new(m, prog, &layout, &lets, name);
        f(&mut l);
        errors.append(&mut l.errors);
        kernels.push(l.b.finish());
    };
    build("sizes", &mut |l| sizes(l));
    build("param_defaults", &mut |l| param_defaults(l));
    if !m.params.is_empty() {
        build("param_bounds", &mut |l| param_bounds(l));
    }
    build("init", &mut |l| init(l));
    if !m.equations.is_empty() {
        build("drift", &mut |l| drift(l));
    }
    if m.noise.is_some() {
        build("diffusion", &mut |l| diffusion(l, false));
        build("diffusion_pattern", &mut |l| diffusion(l, true));
    }
    let (dependencies, time_dependent) = dependency_graph(m, &lets);
    if !m.reactions.is_empty() || !m.jumps.is_empty() {
        build("propensities", &mut |l| transitions::propensities(l));
        build("channel_starts", &mut |l| transitions::channel_starts(l));
        for (g, affected) in dependencies.iter().enumerate() {
            build(&format!("fire_{g}"), &mut |l| {
                transitions::fire(l, g, affected)
            });
        }
    }
    let mut jumps = Vec::new();
    for (k, j) in m.jumps.iter().enumerate() {
        let name = format!("jump_{}", j.name);
        build(&name, &mut |l| jump_effect(l, k));
        jumps.push(JumpInfo {
            name: j.name.clone(),
            effect: name,
        });
    }
    let mut events = Vec::new();
    for (k, e) in m.events.iter().enumerate() {
        let trigger = format!("event{k}_trigger");
        let effect = format!("event{k}_effect");
        build(&trigger, &mut |l| event_trigger(l, k));
        build(&effect, &mut |l| event_effect(l, k));
        events.push(EventInfo {
            at_time: matches!(e.trigger, Trigger::At(_)),
            trigger,
            effect,
        });
    }
    if super::reaction_views::applies(m) {
        for (name, f) in super::reaction_views::KERNELS {
            build(name, &mut |l| f(l));
        }
    }
    if m.lets.iter().any(|l| l.role == LetRole::Output) {
        build("outputs", &mut |l| outputs(l));
        // The same for the continuous views of a network, whose counts are real.
        if super::reaction_views::applies(m) {
            build("real_outputs", &mut |l| {
                l.real_counts = true;
                outputs(l);
            });
        }
    }
    let has_density = m.params.iter().any(|p| p.prior.is_some())
        || m.tildes.iter().any(|t| t.role != TildeRole::Observation)
        || has_target(m);
    if has_density {
        build("log_density", &mut |l| log_density(l, false));
    }
    let mut flip_terms = Vec::new();
    if super::flips::applies(m) {
        build("flip_delta", &mut |l| {
            super::flips::flip_delta(l, &mut flip_terms)
        });
    }
    let observed = m.tildes.iter().any(|t| t.role == TildeRole::Observation);
    if observed {
        build("observe", &mut |l| log_density(l, true));
    }
    // Drawing observations is asked for by `ito run --observations` only: a model whose
    // observation distributions cannot be drawn from still compiles, without this kernel.
    let mut refused = Vec::new();
    if observed {
        let mut l = Lower::new(m, prog, &layout, &lets, "observe_sample");
        observe_sample(&mut l);
        if l.errors.is_empty() {
            kernels.push(l.b.finish());
        } else {
            l.errors.sort_by_key(|d| d.sort_key());
            l.errors.dedup();
            refused.push(("observe_sample".to_string(), l.errors));
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|d| d.sort_key());
        errors.dedup();
        return Err(errors);
    }
    for k in &mut kernels {
        crate::ir::opt::optimize(k);
    }
    derivatives(m, prog, &layout, &lets, &mut kernels);
    let reactions = m
        .reactions
        .iter()
        .map(|r| ReactionTable {
            name: r.name.clone(),
            changes: r
                .net_change()
                .into_iter()
                .map(|(s, d)| (species_position(&layout, s), d))
                .collect(),
        })
        .collect();
    Ok(LoweredModel {
        name: m.name.clone(),
        layout,
        kernels,
        reactions,
        jumps,
        events,
        dependencies,
        time_dependent,
        flip_terms,
        refused,
    })
}

/// Whether a model declares a target density over its states (`potential` or `energy`),
/// whatever its kind: a dynamic model may declare the density its dynamics leave invariant.
pub fn has_target(m: &Model) -> bool {
    m.lets
        .iter()
        .any(|l| matches!(l.role, LetRole::Potential | LetRole::Energy))
}

/// Derivative kernels engines need: `drift_jvp`, `diffusion_jvp` and `cle_diffusion_jvp`
/// (forward mode, direction over `x` in `aux`), `log_density_grad_p` and, for targets,
/// `log_density_grad_x` (reverse mode: the gradient, with the adjoint of the density in
/// `aux[0]`, followed by the density itself; over `x` only for targets with continuous
/// states).
fn derivatives(
    m: &Model,
    prog: &Program,
    layout: &Layout,
    lets: &LetReads,
    kernels: &mut Vec<Kernel>,
) {
    let find = |ks: &[Kernel], name: &str| ks.iter().find(|k| k.name == name).cloned();
    let mut made = Vec::new();
    for (primal, name) in [
        ("drift", "drift_jvp"),
        ("diffusion", "diffusion_jvp"),
        ("cle_diffusion", "cle_diffusion_jvp"),
    ] {
        if let Some(k) = find(kernels, primal) {
            let mut b = crate::ir::build::Builder::new(name);
            if crate::ir::diff::jvp_into(&mut b, &k, Buf::X).is_ok() {
                made.push(b.finish());
            }
        }
    }
    if let Some(k) = find(kernels, "log_density") {
        let mut wrts = vec![(Buf::P, "log_density_grad_p")];
        // Over states only when some are continuous (spins have no gradient).
        let continuous = m
            .states
            .iter()
            .any(|s| s.ty.scalar == crate::check::types::Scalar::Real);
        if has_target(m) && continuous {
            wrts.push((Buf::X, "log_density_grad_x"));
        }
        for (wrt, name) in wrts {
            // The gradient is accumulated into `out`, zeroed first; the density follows it.
            let mut l = Lower::new(m, prog, layout, lets, name);
            let len = l.buf_len(wrt);
            let one = l.b.i(1);
            let total = l.b.iadd(len, one);
            l.out_len = Some(total);
            let zero = l.b.i(0);
            let z = l.b.f(0.0);
            l.for_loop(zero, len, |l, i| l.store_out(i, z));
            if crate::ir::diff::vjp_into(&mut l.b, &k, wrt, Some(len)).is_ok() {
                made.push(l.b.finish());
            }
        }
    }
    for mut k in made {
        crate::ir::opt::optimize(&mut k);
        kernels.push(k);
    }
}

/// Species are the first (scalar) slots of `x`, so their position is their slot.
pub(super) fn species_position(layout: &Layout, s: usize) -> usize {
    layout
        .x
        .iter()
        .position(|slot| slot.var == Var::Species(s))
        .unwrap_or(0)
}

fn sizes(l: &mut Lower) {
    let n = l.b.i(size_index::COUNT as i64);
    l.out_len = Some(n);
    let vals = [
        l.buf_len(Buf::X),
        l.buf_len(Buf::P),
        l.buf_len(Buf::D),
        l.buf_len(Buf::Aux),
        channel_count(l),
        diffusion_count(l),
        output_count(l),
        effect_scratch(l),
    ];
    for (k, v) in vals.into_iter().enumerate() {
        let at = l.b.i(k as i64);
        l.store_out(at, v);
    }
}

/// Each binder's lower end and number of values, `hi − lo + 1` (≤ 0 for an empty range).
pub(super) fn binder_extents(l: &mut Lower, binders: &[Binder]) -> Vec<(Val, Val)> {
    binders
        .iter()
        .enumerate()
        .map(|(k, b)| {
            if let Some(end) = dependent_end(binders, k) {
                l.unsupported(end.span, DEPENDENT_RANGE);
                let zero = l.b.i(0);
                return (zero, zero);
            }
            let lo = l.hoisted_scalar(&b.lo);
            let lo = l.as_int(lo);
            let hi = l.hoisted_scalar(&b.hi);
            let hi = l.as_int(hi);
            let one = l.b.i(1);
            let span = l.b.ibin(IBin::Sub, hi, lo);
            (lo, l.b.iadd(span, one))
        })
        .collect()
}

/// Channels and diffusion entries are numbered over a rectangle of index values.
const DEPENDENT_RANGE: &str = "an index range that depends on another index";

/// An end of binder `k`'s range that uses an earlier binder's index, if any.
fn dependent_end(binders: &[Binder], k: usize) -> Option<&TExpr> {
    let outer: Vec<usize> = binders[..k].iter().map(|o| o.local).collect();
    let b = &binders[k];
    [&b.lo, &b.hi]
        .into_iter()
        .find(|e| mentions_local(e, &outer))
}

/// Whether an expression uses one of these locals.
fn mentions_local(e: &TExpr, locals: &[usize]) -> bool {
    matches!(e.kind, TKind::Var(Var::Local(l)) if locals.contains(&l))
        || e.children().into_iter().any(|c| mentions_local(c, locals))
}

/// Product of `hi − lo + 1` over binders (0 for empty ranges).
pub(super) fn binder_count(l: &mut Lower, binders: &[Binder]) -> Val {
    let mut n = l.b.i(1);
    for (_, span) in binder_extents(l, binders) {
        let zero = l.b.i(0);
        let span = l.b.ibin(IBin::Max, span, zero);
        n = l.b.imul(n, span);
    }
    n
}

/// Row-major position of the current iteration of a binder nest among all its
/// iterations (`extents` from `binder_extents`).
pub(super) fn iteration_position(
    l: &mut Lower,
    binders: &[Binder],
    extents: &[(Val, Val)],
    env: &Env,
) -> Val {
    let mut iter = l.b.i(0);
    for (b, &(lo, n)) in binders.iter().zip(extents) {
        let Some(Binding::Scalar(i)) = env.locals.get(&b.local).cloned() else {
            continue;
        };
        let k = l.b.ibin(IBin::Sub, i, lo);
        iter = l.b.imul(iter, n);
        iter = l.b.iadd(iter, k);
    }
    iter
}

pub(super) fn channel_count(l: &mut Lower) -> Val {
    let mut n = l.b.i(l.m.reactions.len() as i64);
    for j in &l.m.jumps {
        let c = binder_count(l, &j.binders);
        n = l.b.iadd(n, c);
    }
    n
}

/// Element count of a type (i64).
fn type_len(l: &mut Lower, dims: &[Dim]) -> Val {
    let mut n = l.b.i(1);
    for d in dims {
        let v = l.dim(d);
        n = l.b.imul(n, v);
    }
    n
}

fn diffusion_count(l: &mut Lower) -> Val {
    let mut n = l.b.i(0);
    for e in &l.m.equations {
        for _ in &e.diffusion {
            let c = term_count(l, e);
            n = l.b.iadd(n, c);
        }
    }
    n
}

/// How many entries of the diffusion matrix one noise term contributes: one per loop
/// iteration and element of the (unindexed part of the) left side.
fn term_count(l: &mut Lower, e: &Equation) -> Val {
    let loops = binder_count(l, &e.binders);
    let lhs_dims = lhs_dims(l.m, e);
    let elems = type_len(l, &lhs_dims);
    l.b.imul(loops, elems)
}

/// Dimensions of an equation's left side that are not indexed.
fn lhs_dims(m: &Model, e: &Equation) -> Vec<Dim> {
    m.states[e.state].ty.dims[e.indices.len()..].to_vec()
}

fn output_count(l: &mut Lower) -> Val {
    let mut n = l.b.i(0);
    for let_ in l.m.lets.iter().filter(|x| x.role == LetRole::Output) {
        let c = type_len(l, &let_.ty.dims);
        n = l.b.iadd(n, c);
    }
    n
}

/// Order declarations so that each comes after those its value uses (by `deps`).
fn topological(n: usize, deps: impl Fn(usize) -> Vec<usize>) -> Result<Vec<usize>, usize> {
    let mut state = vec![0u8; n];
    let mut order = Vec::with_capacity(n);
    fn visit(
        i: usize,
        deps: &dyn Fn(usize) -> Vec<usize>,
        state: &mut [u8],
        order: &mut Vec<usize>,
    ) -> Result<(), usize> {
        match state[i] {
            2 => return Ok(()),
            1 => return Err(i),
            _ => {}
        }
        state[i] = 1;
        for d in deps(i) {
            if d < state.len() {
                visit(d, deps, state, order)?;
            }
        }
        state[i] = 2;
        order.push(i);
        Ok(())
    }
    for i in 0..n {
        visit(i, &deps, &mut state, &mut order)?;
    }
    Ok(order)
}

/// What each of a model's `let`s depends on, directly or through other `let`s: computed once
/// per model, because long `let` chains are read by many declarations.
pub(crate) struct LetReads {
    vars: Vec<BTreeSet<Var>>,
    time: Vec<bool>,
}

impl LetReads {
    pub(crate) fn of(m: &Model) -> LetReads {
        let n = m.lets.len();
        let mut reads = LetReads {
            vars: vec![BTreeSet::new(); n],
            time: vec![false; n],
        };
        // Depth-first, each `let` once (the checker has ruled out cycles; `done` also
        // guards against them).
        let mut done = vec![false; n];
        for i in 0..n {
            reads.visit(m, i, &mut done);
        }
        reads
    }

    fn visit(&mut self, m: &Model, i: usize, done: &mut [bool]) {
        if done[i] {
            return;
        }
        done[i] = true;
        let mut vars = BTreeSet::new();
        let mut time = false;
        let mut stack = vec![&m.lets[i].value];
        while let Some(x) = stack.pop() {
            match &x.kind {
                TKind::Var(Var::Let(j)) => {
                    self.visit(m, *j, done);
                    vars.extend(self.vars[*j].iter().copied());
                    time |= self.time[*j];
                }
                TKind::Var(v) | TKind::Grad(_, v) => {
                    vars.insert(*v);
                }
                TKind::Time => time = true,
                _ => {}
            }
            stack.extend(x.children());
        }
        self.vars[i] = vars;
        self.time[i] = time;
    }

    /// Every declared variable an expression uses (through `let`s; a user function sees
    /// only its arguments).
    pub(crate) fn vars_of(&self, e: &TExpr, out: &mut BTreeSet<Var>) {
        self.vars_of_in(e, Var::Const(0)..=Var::Local(usize::MAX), out);
    }

    /// Those of `vars_of` in a range of the variable order (`State(0)..=Species(MAX)`: the
    /// state), without going through the others: a long `let` may reach thousands.
    pub(crate) fn vars_of_in(
        &self,
        e: &TExpr,
        kinds: RangeInclusive<Var>,
        out: &mut BTreeSet<Var>,
    ) {
        let mut stack = vec![e];
        while let Some(x) = stack.pop() {
            match &x.kind {
                TKind::Var(Var::Let(i)) => out.extend(self.vars[*i].range(kinds.clone()).copied()),
                TKind::Var(v) | TKind::Grad(_, v) if kinds.contains(v) => {
                    out.insert(*v);
                }
                _ => {}
            }
            stack.extend(x.children());
        }
    }

    /// Whether an expression depends on the time, directly or through `let`s.
    fn uses_time(&self, e: &TExpr) -> bool {
        let mut stack = vec![e];
        while let Some(x) = stack.pop() {
            match &x.kind {
                TKind::Time => return true,
                TKind::Var(Var::Let(i)) if self.time[*i] => return true,
                _ => {}
            }
            stack.extend(x.children());
        }
        false
    }
}

fn param_defaults(l: &mut Lower) {
    let m = l.m;
    let len = l.buf_len(Buf::P);
    l.out_len = Some(len);
    // Defaults may use other parameters: those read the defaults already written to `out`.
    let deps = |i: usize| {
        let mut vs = BTreeSet::new();
        if let Some(d) = &m.params[i].default {
            l.reads
                .vars_of_in(d, Var::Param(0)..=Var::Param(usize::MAX), &mut vs);
        }
        vs.into_iter()
            .filter_map(|v| match v {
                Var::Param(j) => Some(j),
                _ => None,
            })
            .collect()
    };
    let Ok(order) = topological(m.params.len(), deps) else {
        l.unsupported(
            m.span,
            "parameter defaults that depend on each other in a cycle",
        );
        return;
    };
    l.read_params_from_out = true;
    for i in order {
        let var = Var::Param(i);
        let p = &m.params[i];
        let dims = l.slot_dims_of(var);
        match &p.default {
            Some(value) => write_elements(l, var, &dims, value, &Env::default()),
            None => {
                let nan = l.b.f(f64::NAN);
                fill(l, var, &dims, nan);
            }
        }
    }
}

/// Each parameter element's declared lower bound (−∞ when none), then each one's upper
/// bound (+∞), laid out like `p` twice: what the unconstrained transforms of inference need.
/// Bounds may use constants, data and parameters (read from `p`).
fn param_bounds(l: &mut Lower) {
    let m = l.m;
    let len = l.buf_len(Buf::P);
    let two = l.b.i(2);
    let total = l.b.imul(len, two);
    l.out_len = Some(total);
    for (i, p) in m.params.iter().enumerate() {
        let var = Var::Param(i);
        let Some((buf, slot)) = l.layout.find(var) else {
            continue;
        };
        let dims = l.slot_dims(buf, slot);
        let start = l.slot_offset(buf, slot);
        for (shift, bound, missing) in [
            (None, &p.bounds.lower, f64::NEG_INFINITY),
            (Some(len), &p.bounds.upper, f64::INFINITY),
        ] {
            each_element(l, &dims, &mut |l, idx| {
                let v = match bound {
                    Some(e) => l.scalar(e, &Env::default()),
                    None => l.b.f(missing),
                };
                let flat = l.flat_index(&dims, idx);
                let mut at = l.b.iadd(start, flat);
                if let Some(len) = shift {
                    at = l.b.iadd(at, len);
                }
                l.store_out(at, v);
            });
        }
    }
}

fn init(l: &mut Lower) {
    let m = l.m;
    let len = l.buf_len(Buf::X);
    l.out_len = Some(len);
    // Species and states may start from others' initial values (those read `out`): nodes
    // 0..S are the species, then the states.
    let n_species = m.species.len();
    let node = |v: Var| match v {
        Var::Species(j) => Some(j),
        Var::State(j) => Some(n_species + j),
        _ => None,
    };
    let deps = |i: usize| {
        let mut vs = BTreeSet::new();
        let state = Var::State(0)..=Var::Species(usize::MAX);
        match i.checked_sub(n_species).map(|j| &m.states[j].init) {
            None => l.reads.vars_of_in(&m.species[i].init, state, &mut vs),
            Some(StateInit::Value(v)) => l.reads.vars_of_in(v, state, &mut vs),
            Some(StateInit::Random(d)) => {
                for a in &d.args {
                    l.reads.vars_of_in(a, state.clone(), &mut vs);
                }
            }
            Some(StateInit::UniformSpin) => {}
        }
        vs.into_iter().filter_map(node).collect()
    };
    let order = match topological(n_species + m.states.len(), deps) {
        Ok(order) => order,
        Err(i) => {
            let span = match i.checked_sub(n_species) {
                None => m.species[i].span,
                Some(j) => m.states[j].span,
            };
            l.unsupported(span, "initial values that depend on each other in a cycle");
            return;
        }
    };
    l.read_state_from_out = true;
    for i in order {
        let Some(j) = i.checked_sub(n_species) else {
            let v = l.scalar(&m.species[i].init, &Env::default());
            l.store_var(Var::Species(i), &[], v);
            continue;
        };
        let s = &m.states[j];
        let var = Var::State(j);
        let dims = l.slot_dims_of(var);
        match &s.init {
            StateInit::Value(v) => write_elements(l, var, &dims, v, &Env::default()),
            StateInit::Random(d) => {
                each_element(l, &dims, &mut |l, idx| {
                    let x = sample_element(l, d, idx, &Env::default());
                    l.store_var(var, idx, x);
                });
            }
            StateInit::UniformSpin => {
                each_element(l, &dims, &mut |l, idx| {
                    let x = l.b.sample(SampleDist::Spin, Vec::new());
                    l.store_var(var, idx, x);
                });
            }
        }
    }
}

/// Run `f` for every element (nested loops over `dims`).
fn each_element(l: &mut Lower, dims: &[Val], f: &mut dyn FnMut(&mut Lower, &[Val])) {
    fn go(l: &mut Lower, dims: &[Val], idx: &mut Vec<Val>, f: &mut dyn FnMut(&mut Lower, &[Val])) {
        match dims.split_first() {
            None => f(l, idx),
            Some((&n, rest)) => {
                let zero = l.b.i(0);
                l.for_loop(zero, n, |l, i| {
                    idx.push(i);
                    go(l, rest, idx, f);
                    idx.pop();
                });
            }
        }
    }
    go(l, dims, &mut Vec::new(), f);
}

/// Store every element of `value` into the variable's slot.
fn write_elements(l: &mut Lower, var: Var, dims: &[Val], value: &TExpr, env: &Env) {
    each_element(l, dims, &mut |l, idx| {
        let x = l.elem(value, idx, env);
        l.store_var(var, idx, x);
    });
}

fn fill(l: &mut Lower, var: Var, dims: &[Val], x: Val) {
    each_element(l, dims, &mut |l, idx| l.store_var(var, idx, x));
}

/// One draw from a distribution for element `idx` of a vectorised declaration.
fn sample_element(l: &mut Lower, d: &DistCall, idx: &[Val], env: &Env) -> Val {
    let which = match d.dist {
        DistKind::Normal => SampleDist::Normal,
        DistKind::LogNormal => SampleDist::LogNormal,
        DistKind::HalfNormal => SampleDist::HalfNormal,
        DistKind::Cauchy => SampleDist::Cauchy,
        DistKind::HalfCauchy => SampleDist::HalfCauchy,
        DistKind::StudentT => SampleDist::StudentT,
        DistKind::Exponential => SampleDist::Exponential,
        DistKind::Gamma => SampleDist::Gamma,
        DistKind::InvGamma => SampleDist::InvGamma,
        DistKind::Beta => SampleDist::Beta,
        DistKind::Uniform => SampleDist::Uniform,
        DistKind::Poisson => SampleDist::Poisson,
        DistKind::Binomial => SampleDist::Binomial,
        DistKind::NegBinomial => SampleDist::NegBinomial,
        DistKind::Bernoulli => SampleDist::Bernoulli,
        DistKind::Categorical | DistKind::Dirichlet | DistKind::MultiNormal => {
            return l.unsupported(d.span, &format!("a random draw from `{}`", d.dist.name()));
        }
    };
    let args: Vec<Val> = d
        .args
        .iter()
        .map(|a| {
            let v = l.elem(a, idx, env);
            l.b.to_f64(v)
        })
        .collect();
    l.b.sample(which, args)
}

fn drift(l: &mut Lower) {
    let m = l.m;
    let len = l.buf_len(Buf::X);
    l.out_len = Some(len);
    // Elements no equation covers drift at rate 0.
    for (slot, s) in l.layout.x.clone().iter().enumerate() {
        let covered = m
            .equations
            .iter()
            .any(|e| Var::State(e.state) == s.var && covers_all(m, e));
        if !covered {
            let off = l.slot_offset(Buf::X, slot);
            let n = l.slot_len(Buf::X, slot);
            let end = l.b.iadd(off, n);
            let zero = l.b.f(0.0);
            l.for_loop(off, end, |l, i| l.store_out(i, zero));
        }
    }
    for e in &m.equations {
        let var = Var::State(e.state);
        let dims = lhs_dims(m, e);
        let dim_vals: Vec<Val> = dims.iter().map(|d| l.dim(d)).collect();
        l.binder_for(&e.binders, &Env::default(), &mut |l, env| {
            let base = lhs_indices(l, e, env);
            each_element(l, &dim_vals, &mut |l, rest| {
                let mut idx = base.clone();
                idx.extend_from_slice(rest);
                let v = match &e.drift {
                    Some(d) => l.elem(d, rest, env),
                    None => l.b.f(0.0),
                };
                store_state_out(l, var, &idx, v);
            });
        });
    }
}

/// Whether an equation covers every element of its state (so no zero-fill is needed).
fn covers_all(m: &Model, e: &Equation) -> bool {
    let ty = &m.states[e.state].ty;
    e.indices.iter().enumerate().all(|(k, idx)| {
        let TKind::Var(Var::Local(loc)) = idx.kind else {
            return false;
        };
        let Some(b) = e.binders.iter().find(|b| b.local == loc) else {
            return false;
        };
        let int = |e: &TExpr| match &e.kind {
            TKind::Int(v) => Some(*v),
            TKind::Var(Var::Const(c)) => m.consts[*c].value.as_i64(),
            _ => None,
        };
        let lo_one = int(&b.lo) == Some(1);
        let hi_full = match (int(&b.hi), &ty.dims[k]) {
            (Some(h), Dim::Fixed(n)) => h >= 0 && h as u64 == *n,
            _ => false,
        };
        lo_one && hi_full
    }) && e.binders.len() == e.indices.len()
}

/// The 0-based indices of an equation's left side, in the loop's environment.
fn lhs_indices(l: &mut Lower, e: &Equation, env: &Env) -> Vec<Val> {
    e.indices.iter().map(|i| l.zero_based(i, env)).collect()
}

/// `out` at the position of element `idx` of a state (out has `x`'s layout).
fn store_state_out(l: &mut Lower, var: Var, idx: &[Val], v: Val) {
    let Some((buf, slot)) = l.layout.find(var) else {
        return;
    };
    let off = l.slot_offset(buf, slot);
    let dims = l.slot_dims(buf, slot);
    let flat = l.flat_index(&dims, idx);
    let at = l.b.iadd(off, flat);
    l.store_out(at, v);
}

/// Each noise's first position among all noise components (a running sum of sizes).
fn noise_offsets(l: &mut Lower) -> Vec<Val> {
    let mut off = l.b.i(0);
    let mut offsets = Vec::with_capacity(l.m.noises.len());
    for n in &l.m.noises {
        offsets.push(off);
        let c = type_len(l, &n.ty.dims);
        off = l.b.iadd(off, c);
    }
    offsets
}

/// The diffusion entries (or with `pattern`, their (x position, noise position) pairs).
fn diffusion(l: &mut Lower, pattern: bool) {
    let m = l.m;
    let count = diffusion_count(l);
    let len = if pattern {
        let two = l.b.i(2);
        l.b.imul(count, two)
    } else {
        count
    };
    l.out_len = Some(len);
    let noise_offsets = noise_offsets(l);
    let mut entry = l.b.i(0);
    for e in &m.equations {
        let var = Var::State(e.state);
        let dims = lhs_dims(m, e);
        let dim_vals: Vec<Val> = dims.iter().map(|d| l.dim(d)).collect();
        let per_loop = type_len(l, &dims);
        for t in &e.diffusion {
            let noise_ty = m.noises[t.noise].ty.clone();
            let noise_dims: Vec<Val> = noise_ty.dims.iter().map(|d| l.dim(d)).collect();
            let n_off = noise_offsets[t.noise];
            let start = entry;
            // Entries of this term: loops over binders (row-major), then left-side elements.
            let extents = binder_extents(l, &e.binders);
            l.binder_for(&e.binders, &Env::default(), &mut |l, env| {
                let iter = iteration_position(l, &e.binders, &extents, env);
                let base = lhs_indices(l, e, env);
                let noise_idx: Vec<Val> = t.index.iter().map(|i| l.zero_based(i, env)).collect();
                let first = l.b.imul(iter, per_loop);
                let first = l.b.iadd(start, first);
                each_element(l, &dim_vals, &mut |l, rest| {
                    let flat_rest = l.flat_index(&dim_vals, rest);
                    let at = l.b.iadd(first, flat_rest);
                    if pattern {
                        let mut idx = base.clone();
                        idx.extend_from_slice(rest);
                        let x_at = x_position(l, var, &idx);
                        // Element-wise array noise pairs element `rest` with the same element.
                        let noise_elem = if !t.index.is_empty() {
                            l.flat_index(&noise_dims, &noise_idx)
                        } else if noise_dims.is_empty() {
                            l.b.i(0)
                        } else {
                            l.flat_index(&noise_dims, rest)
                        };
                        let w_at = l.b.iadd(n_off, noise_elem);
                        let two = l.b.i(2);
                        let at2 = l.b.imul(at, two);
                        l.store_out(at2, x_at);
                        let one = l.b.i(1);
                        let at3 = l.b.iadd(at2, one);
                        l.store_out(at3, w_at);
                    } else {
                        let v = l.elem(&t.coeff, rest, env);
                        l.store_out(at, v);
                    }
                });
            });
            let c = term_count(l, e);
            entry = l.b.iadd(entry, c);
        }
    }
}

fn x_position(l: &mut Lower, var: Var, idx: &[Val]) -> Val {
    let Some((buf, slot)) = l.layout.find(var) else {
        return l.b.i(-1);
    };
    let off = l.slot_offset(buf, slot);
    let dims = l.slot_dims(buf, slot);
    let flat = l.flat_index(&dims, idx);
    l.b.iadd(off, flat)
}

/// The largest scratch space any jump or event effect needs.
pub(super) fn effect_scratch(l: &mut Lower) -> Val {
    let m = l.m;
    let mut most = l.b.i(0);
    let bodies = m.jumps.iter().map(|j| &j.actions);
    for acts in bodies.chain(m.events.iter().map(|e| &e.actions)) {
        let n = scratch_len(l, acts);
        most = l.b.ibin(IBin::Max, most, n);
    }
    most
}

/// Scratch space (at the start of `out`) that a list of actions needs: array `let`s are
/// stored there, and an assignment whose new value reads its own target is computed there
/// in full before any element is overwritten.
fn scratch_len(l: &mut Lower, acts: &[Action]) -> Val {
    let mut n = l.b.i(0);
    for a in acts {
        let Some(dims) = scratch_dims(l, a) else {
            continue;
        };
        let c = type_len(l, &dims);
        n = l.b.iadd(n, c);
    }
    n
}

/// The shape an action keeps in scratch space, if it needs any.
fn scratch_dims(l: &Lower, a: &Action) -> Option<Vec<Dim>> {
    match a {
        Action::Let { value, .. } if !value.ty.is_scalar() => Some(value.ty.dims.clone()),
        Action::Assign {
            target,
            indices,
            value,
            ..
        } => {
            let mut read = BTreeSet::new();
            l.reads.vars_of(value, &mut read);
            for i in indices {
                l.reads.vars_of(i, &mut read);
            }
            let dims = l.m_var_type(*target).dims;
            let rest = dims[indices.len().min(dims.len())..].to_vec();
            (read.contains(target) && !rest.is_empty()).then_some(rest)
        }
        _ => None,
    }
}

/// Decode a channel number (`aux[0]`) into the jump's loop variables and run its actions.
pub(super) fn jump_effect(l: &mut Lower, k: usize) {
    let m = l.m;
    let j = &m.jumps[k];
    if let Some(end) = (0..j.binders.len()).find_map(|k| dependent_end(&j.binders, k)) {
        l.unsupported(end.span, DEPENDENT_RANGE);
        return;
    }
    l.effects = true;
    l.out_len = Some(scratch_len(l, &j.actions));
    let zero = l.b.i(0);
    let one = l.b.i(1);
    let aux = l.b.load(Buf::Aux, zero, one, true);
    let mut channel = l.as_int(aux);
    let mut env = Env::default();
    // Row-major: the last binder varies fastest.
    for b in j.binders.iter().rev() {
        let lo = l.scalar(&b.lo, &env);
        let lo = l.as_int(lo);
        let hi = l.scalar(&b.hi, &env);
        let hi = l.as_int(hi);
        let span = l.b.ibin(IBin::Sub, hi, lo);
        let n = l.b.iadd(span, one);
        let r = l.b.ibin(IBin::Rem, channel, n);
        let i = l.b.iadd(lo, r);
        channel = l.b.ibin(IBin::Div, channel, n);
        env = env.with(b.local, Binding::Scalar(i));
    }
    actions(l, &j.actions, env);
}

/// Run a jump's or event's actions in order. Each sees the state as the previous ones left
/// it; an array assignment computes all its new elements from the old state first.
fn actions(l: &mut Lower, acts: &[Action], mut env: Env) {
    // Next free position of the scratch space in `out` (see `scratch_len`).
    let mut scratch = l.b.i(0);
    for a in acts {
        let stored = scratch_dims(l, a).map(|dims| {
            let dims: Vec<Val> = dims.iter().map(|d| l.dim(d)).collect();
            let n = dims.iter().fold(l.b.i(1), |n, &d| l.b.imul(n, d));
            let start = scratch;
            scratch = l.b.iadd(scratch, n);
            (start, dims)
        });
        match a {
            Action::Draw { local, dist } => {
                let v = sample_element(l, dist, &[], &env);
                env = env.with(*local, Binding::Scalar(v));
            }
            Action::Let { local, value } => {
                let binding = match stored {
                    Some((offset, dims)) => {
                        store_scratch(l, offset, &dims, value, &env);
                        Binding::Stored { offset, dims }
                    }
                    None => Binding::Scalar(l.scalar(value, &env)),
                };
                env = env.with(*local, binding);
            }
            Action::Assign {
                target,
                indices,
                value,
                ..
            } => {
                let idx: Vec<Val> = indices.iter().map(|i| l.zero_based(i, &env)).collect();
                let var = *target;
                let Some((buf, slot)) = l.layout.find(var) else {
                    continue;
                };
                let all_dims = l.slot_dims(buf, slot);
                let rest_dims = all_dims[idx.len().min(all_dims.len())..].to_vec();
                let store = |l: &mut Lower, rest: &[Val], v: Val| {
                    let mut full = idx.clone();
                    full.extend_from_slice(rest);
                    l.store_var(var, &full, v);
                };
                match stored {
                    // The new value reads the target: compute it all, then copy it over.
                    Some((offset, dims)) => {
                        store_scratch(l, offset, &dims, value, &env);
                        let len = l.buf_len(Buf::Out);
                        each_element(l, &dims, &mut |l, rest| {
                            let flat = l.flat_index(&dims, rest);
                            let at = l.b.iadd(offset, flat);
                            let v = l.b.load(Buf::Out, at, len, true);
                            store(l, rest, v);
                        });
                    }
                    None => {
                        let env = env.clone();
                        each_element(l, &rest_dims, &mut |l, rest| {
                            let v = l.elem(value, rest, &env);
                            store(l, rest, v);
                        });
                    }
                }
            }
        }
    }
}

/// Every element of `value` into `out` from `offset`, row-major.
fn store_scratch(l: &mut Lower, offset: Val, dims: &[Val], value: &TExpr, env: &Env) {
    each_element(l, dims, &mut |l, idx| {
        let v = l.elem(value, idx, env);
        let flat = l.flat_index(dims, idx);
        let at = l.b.iadd(offset, flat);
        l.store_out(at, v);
    });
}

fn event_trigger(l: &mut Lower, k: usize) {
    let m = l.m;
    let one = l.b.i(1);
    l.out_len = Some(one);
    let v = match &m.events[k].trigger {
        Trigger::At(t) => l.scalar(t, &Env::default()),
        Trigger::When(c) => {
            let c = l.scalar(c, &Env::default());
            l.b.to_f64(c)
        }
    };
    let zero = l.b.i(0);
    l.store_out(zero, v);
}

fn event_effect(l: &mut Lower, k: usize) {
    let m = l.m;
    l.effects = true;
    l.out_len = Some(scratch_len(l, &m.events[k].actions));
    actions(l, &m.events[k].actions, Env::default());
}

fn outputs(l: &mut Lower) {
    let m = l.m;
    let n = output_count(l);
    l.out_len = Some(n);
    let mut base = l.b.i(0);
    for (i, let_) in m.lets.iter().enumerate() {
        if let_.role != LetRole::Output {
            continue;
        }
        let dims: Vec<Val> = let_.ty.dims.iter().map(|d| l.dim(d)).collect();
        let value = TExpr {
            kind: TKind::Var(Var::Let(i)),
            ty: let_.ty.clone(),
            span: let_.span,
        };
        let start = base;
        each_element(l, &dims, &mut |l, idx| {
            let v = l.elem(&value, idx, &Env::default());
            let flat = l.flat_index(&dims, idx);
            let at = l.b.iadd(start, flat);
            l.store_out(at, v);
        });
        let c = type_len(l, &let_.ty.dims);
        base = l.b.iadd(base, c);
    }
}

/// `log_density`: priors and likelihoods (and −U or −βH for targets). With `observe`, the
/// observation models instead, reading the observation row from `aux`.
fn log_density(l: &mut Lower, observe: bool) {
    let m = l.m;
    let one = l.b.i(1);
    l.out_len = Some(one);
    // The sum of the terms, started from the first (0 + x is not x for x = −0).
    let mut total: Option<Val> = None;
    let mut add = |l: &mut Lower, v: Val| {
        total = Some(match total {
            Some(t) => l.b.add(t, v),
            None => v,
        });
    };
    if !observe {
        for (i, p) in m.params.iter().enumerate() {
            if let Some(d) = &p.prior {
                let target = TExpr {
                    kind: TKind::Var(Var::Param(i)),
                    ty: p.ty.clone(),
                    span: p.span,
                };
                let v = tilde_density(l, &target, d, &Env::default(), false);
                add(l, v);
            }
        }
    }
    for t in &m.tildes {
        if (t.role == TildeRole::Observation) != observe {
            continue;
        }
        let mut target_ty = l.m_var_type(t.target);
        target_ty
            .dims
            .drain(..t.indices.len().min(target_ty.dims.len()));
        let binders = t.binders.clone();
        let indices = t.indices.clone();
        let dist = t.dist.clone();
        let var = t.target;
        let v = l.binder_reduce(RedOp::Sum, &binders, &Env::default(), &mut |l, env| {
            let base = TExpr {
                kind: TKind::Var(var),
                ty: l.m_var_type(var),
                span: dist.span,
            };
            let target = if indices.is_empty() {
                base
            } else {
                TExpr {
                    kind: TKind::Index(Box::new(base), indices.clone()),
                    ty: target_ty.clone(),
                    span: dist.span,
                }
            };
            tilde_density(l, &target, &dist, env, observe)
        });
        add(l, v);
    }
    if !observe && has_target(m) {
        for let_ in &m.lets {
            let scale = match let_.role {
                LetRole::Potential => None,
                LetRole::Energy => m.params.iter().position(|p| p.name == "beta"),
                _ => continue,
            };
            let u = l.scalar(&let_.value, &Env::default());
            let u = l.b.to_f64(u);
            let u = match scale {
                Some(b) => {
                    let beta = l.load_var(Var::Param(b), &[]).expect("beta is a parameter");
                    l.b.mul(beta, u)
                }
                None => u,
            };
            let minus_u = l.b.neg(u);
            add(l, minus_u);
        }
    }
    let total = match total {
        Some(t) => t,
        None => l.b.f(0.0),
    };
    let zero = l.b.i(0);
    l.store_out(zero, total);
}

/// Σ over the elements of `target` of log p(element | args). With `skip_missing` (the
/// observations of `observe`), an element that is missing (NaN in the row) adds 0: for
/// `Dirichlet`, a vector with any missing coordinate.
fn tilde_density(
    l: &mut Lower,
    target: &TExpr,
    d: &DistCall,
    env: &Env,
    skip_missing: bool,
) -> Val {
    match d.dist {
        DistKind::MultiNormal => l.unsupported(d.span, "the `MultiNormal` density"),
        DistKind::Dirichlet => {
            // Leading dimensions of the target vectorise; the last is the simplex.
            let dims = l.expr_dims(target);
            let (lead, _) = dims.split_at(dims.len().saturating_sub(1));
            let lead = lead.to_vec();
            let k_len = *dims.last().expect("a vector");
            let alpha = d.args[0].clone();
            l.reduce_elements(RedOp::Sum, &lead, &mut |l, outer| {
                // lgamma(Σα) − Σ lgamma(α_k) + Σ (α_k − 1) log x_k, for every x_k > 0
                let sum_a = l.sum_over(k_len, &mut |l, k| {
                    let a = l.elem(&alpha, &[k], env);
                    l.b.to_f64(a)
                });
                let g = l.b.call(MathFn::Lgamma, vec![sum_a]);
                let rest = l.sum_over(k_len, &mut |l, k| {
                    let a = l.elem(&alpha, &[k], env);
                    let a = l.b.to_f64(a);
                    let mut idx = outer.to_vec();
                    idx.push(k);
                    let x = l.elem(target, &idx, env);
                    let x = l.b.to_f64(x);
                    let ga = l.b.call(MathFn::Lgamma, vec![a]);
                    let one = l.b.f(1.0);
                    let am1 = l.b.sub(a, one);
                    let lx = l.b.call(MathFn::Log, vec![x]);
                    let t = l.b.mul(am1, lx);
                    let t = l.b.sub(t, ga);
                    // The support is the open simplex: a coordinate ≤ 0 gives −∞ (its log
                    // would make the sum NaN, or +∞ for α_k < 1 at 0). The sum to 1 is not
                    // checked.
                    let zero = l.b.f(0.0);
                    let pos = l.b.fcmp(Cmp::Gt, x, zero);
                    let ninf = l.b.f(f64::NEG_INFINITY);
                    l.b.select(pos, t, ninf)
                });
                let v = l.b.add(g, rest);
                if !skip_missing {
                    return v;
                }
                let gaps = l.sum_over(k_len, &mut |l, k| {
                    let mut idx = outer.to_vec();
                    idx.push(k);
                    let present = present(l, target, &idx, env);
                    let (zero, one) = (l.b.f(0.0), l.b.f(1.0));
                    l.b.select(present, zero, one)
                });
                let zero = l.b.f(0.0);
                let complete = l.b.fcmp(Cmp::Eq, gaps, zero);
                l.b.select(complete, v, zero)
            })
        }
        DistKind::Categorical => {
            let dims = l.expr_dims(target);
            let p = d.args[0].clone();
            let k_len = l.expr_dims(&p)[0];
            l.reduce_elements(RedOp::Sum, &dims, &mut |l, idx| {
                let y = l.elem(target, idx, env);
                let y = l.as_int(y);
                let one = l.b.i(1);
                let k = l.b.ibin(IBin::Sub, y, one);
                let pk = l.elem(&p, &[k], env);
                let lp = l.b.call(MathFn::Log, vec![pk]);
                let zero = l.b.i(0);
                let lo = l.b.icmp(Cmp::Ge, k, zero);
                let hi = l.b.icmp(Cmp::Lt, k, k_len);
                let ok = l.b.and(lo, hi);
                let ninf = l.b.f(f64::NEG_INFINITY);
                let v = l.b.select(ok, lp, ninf);
                unless_missing(l, skip_missing, target, idx, env, v)
            })
        }
        dist if linked_argument(d).is_some() => {
            // A distribution of a link function's value, in the link's own form (see
            // `Lower::linked_log_density`).
            let dims = l.expr_dims(target);
            let eta = linked_argument(d).cloned().expect("matched above");
            l.reduce_elements(RedOp::Sum, &dims, &mut |l, idx| {
                let y = l.elem(target, idx, env);
                let x = l.elem(&eta, idx, env);
                let v = l.linked_log_density(dist, y, x);
                unless_missing(l, skip_missing, target, idx, env, v)
            })
        }
        dist => {
            let dims = l.expr_dims(target);
            let args = d.args.clone();
            l.reduce_elements(RedOp::Sum, &dims, &mut |l, idx| {
                let y = l.elem(target, idx, env);
                let a: Vec<Val> = args.iter().map(|a| l.elem(a, idx, env)).collect();
                let v = l.log_density(dist, y, &a);
                unless_missing(l, skip_missing, target, idx, env, v)
            })
        }
    }
}

/// `v`, or with `skip_missing` 0 where element `idx` of `target` is missing.
fn unless_missing(
    l: &mut Lower,
    skip_missing: bool,
    target: &TExpr,
    idx: &[Val],
    env: &Env,
    v: Val,
) -> Val {
    if !skip_missing {
        return v;
    }
    let present = present(l, target, idx, env);
    let zero = l.b.f(0.0);
    l.b.select(present, v, zero)
}

/// Whether element `idx` of an observed `target` is there (not NaN). It is read as a real:
/// an `int` observation is converted to an integer when read, which would hide a NaN.
fn present(l: &mut Lower, target: &TExpr, idx: &[Val], env: &Env) -> Val {
    let mut raw = target.clone();
    raw.ty.scalar = crate::check::types::Scalar::Real;
    if let TKind::Index(base, _) = &mut raw.kind {
        base.ty.scalar = crate::check::types::Scalar::Real;
    }
    let y = l.elem(&raw, idx, env);
    l.b.fcmp(Cmp::Eq, y, y)
}

/// `observe_sample`: one draw of every observation from its observation model at (t, x),
/// written to `out` laid out as the `observe` kernel reads its `aux` row. Elements that no
/// observation model covers are NaN (missing). Observation models are drawn independently,
/// so one whose arguments read another observation is refused.
fn observe_sample(l: &mut Lower) {
    let m = l.m;
    let len = l.buf_len(Buf::Aux);
    l.out_len = Some(len);
    let zero = l.b.i(0);
    let nan = l.b.f(f64::NAN);
    l.for_loop(zero, len, |l, i| l.store_out(i, nan));
    for t in m.tildes.iter().filter(|t| t.role == TildeRole::Observation) {
        let mut read = BTreeSet::new();
        for e in t.dist.args.iter().chain(&t.indices) {
            l.reads.vars_of(e, &mut read);
        }
        for b in &t.binders {
            l.reads.vars_of(&b.lo, &mut read);
            l.reads.vars_of(&b.hi, &mut read);
        }
        if read.iter().any(|v| matches!(v, Var::Obs(_))) {
            l.unsupported(
                t.dist.span,
                "drawing an observation whose distribution reads another `obs`",
            );
            continue;
        }
        let Some((buf, slot)) = l.layout.find(t.target) else {
            continue;
        };
        let off = l.slot_offset(buf, slot);
        let dims = l.slot_dims(buf, slot);
        let rest_dims = dims[t.indices.len().min(dims.len())..].to_vec();
        l.binder_for(&t.binders, &Env::default(), &mut |l, env| {
            let base: Vec<Val> = t.indices.iter().map(|i| l.zero_based(i, env)).collect();
            each_element(l, &rest_dims, &mut |l, rest| {
                let v = sample_element(l, &t.dist, rest, env);
                let mut idx = base.clone();
                idx.extend_from_slice(rest);
                let flat = l.flat_index(&dims, &idx);
                let at = l.b.iadd(off, flat);
                l.store_out(at, v);
            });
        });
    }
}

/// η when the distribution's argument is its canonical link's inverse applied to η:
/// `Bernoulli(logistic(η))` or `Poisson(exp(η))`.
fn linked_argument(d: &DistCall) -> Option<&TExpr> {
    let link = match d.dist {
        DistKind::Bernoulli => Builtin::Logistic,
        DistKind::Poisson => Builtin::Exp,
        _ => return None,
    };
    match &d.args.first()?.kind {
        TKind::Call(f, args) if *f == link => args.first(),
        _ => None,
    }
}

/// Transition groups (reactions, then jumps) and which groups each one's firing affects.
fn dependency_graph(m: &Model, lets: &LetReads) -> (Vec<Vec<usize>>, Vec<bool>) {
    let mut reads: Vec<BTreeSet<Var>> = Vec::new();
    let mut writes: Vec<BTreeSet<Var>> = Vec::new();
    let mut time = Vec::new();
    for r in &m.reactions {
        let mut rd = BTreeSet::new();
        lets.vars_of(&r.rate, &mut rd);
        if r.law == RateLaw::MassAction {
            rd.extend(r.reactants.iter().map(|&(s, _)| Var::Species(s)));
        }
        reads.push(rd);
        writes.push(
            r.net_change()
                .into_iter()
                .map(|(s, _)| Var::Species(s))
                .collect(),
        );
        time.push(lets.uses_time(&r.rate));
    }
    for j in &m.jumps {
        let mut rd = BTreeSet::new();
        lets.vars_of(&j.rate, &mut rd);
        reads.push(rd);
        let mut wr = BTreeSet::new();
        for a in &j.actions {
            if let Action::Assign { target, .. } = a {
                wr.insert(*target);
            }
        }
        writes.push(wr);
        time.push(lets.uses_time(&j.rate));
    }
    // Group g depends on group f when g reads something f writes: look readers up by variable.
    let mut readers: BTreeMap<Var, Vec<usize>> = BTreeMap::new();
    for (g, rd) in reads.iter().enumerate() {
        for v in rd {
            readers.entry(*v).or_default().push(g);
        }
    }
    let deps = writes
        .iter()
        .map(|w| {
            let mut d: Vec<usize> = w
                .iter()
                .filter_map(|v| readers.get(v))
                .flatten()
                .copied()
                .collect();
            d.sort_unstable();
            d.dedup();
            d
        })
        .collect();
    (deps, time)
}

impl Lower<'_> {
    /// The checker type of a declared variable.
    pub(crate) fn m_var_type(&self, v: Var) -> crate::check::types::Type {
        match v {
            Var::Param(i) => self.m.params[i].ty.clone(),
            Var::Data(i) => self.m.data[i].ty.clone(),
            Var::Obs(i) => self.m.obs[i].ty.clone(),
            Var::State(i) => self.m.states[i].ty.clone(),
            Var::Species(_) => crate::check::types::Type::INT,
            Var::Const(i) => self.m.consts[i].ty.clone(),
            Var::Let(i) => self.m.lets[i].ty.clone(),
            Var::Local(_) => crate::check::types::Type::REAL,
        }
    }

    /// Dimensions of a declared variable's slot.
    pub(crate) fn slot_dims_of(&mut self, v: Var) -> Vec<Val> {
        match self.layout.find(v) {
            Some((buf, slot)) => self.slot_dims(buf, slot),
            None => Vec::new(),
        }
    }
}
