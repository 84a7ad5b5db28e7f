//! A jump process compiled for a run: its propensity, firing and event kernels in native
//! code, with the model's inputs bound, and the tables the methods need beside them.

use crate::check::model::{LetRole, Model, RateLaw, Var};
use crate::ir::Kernel;
use crate::ir::eval::{self, Args};
use crate::ir::lower::{LoweredModel, size_index};
use crate::jit::{Jit, KernelFn};
use crate::rt::Rng;
use crate::sim::bind::Bound;
use crate::sim::native::{flat_names, state_names};

/// The compiled jump process. Owns the native code; [`MjpModel::kernels`] borrows it.
pub struct MjpModel {
    jit: Jit,
    pub info: MjpInfo,
}

/// What the methods need to know about the process.
pub struct MjpInfo {
    pub name: String,
    pub bound: Bound,
    pub nx: usize,
    pub n_outputs: usize,
    /// Recorded variables: state components, then outputs.
    pub variables: Vec<String>,
    /// Scratch space jump bodies use at the start of the firing kernels' `out`.
    pub scratch: usize,
    /// Number of channels.
    pub channels: usize,
    /// Transition groups (reactions, then `jump` declarations): names, and channel ranges
    /// (`group_start[g]..group_start[g + 1]`).
    pub group_names: Vec<String>,
    pub group_start: Vec<usize>,
    /// The group of each channel.
    pub group_of: Vec<u32>,
    /// For each group, the channels whose propensities its firing recomputes.
    pub affected: Vec<Vec<u32>>,
    /// Reactions' state changes (position in `x`, change), for leaping methods; `None` for
    /// `jump` groups, whose change is a program.
    pub changes: Vec<Option<Vec<(usize, i64)>>>,
    /// Reactions' reactants (position in `x`, coefficient), for leaping methods.
    pub reactants: Vec<Vec<(usize, u32)>>,
    /// Groups whose firing must be followed by a check of the state: `jump`s (their body
    /// can set anything) and `=>` reactions (nothing stops a propensity written out from
    /// firing with too few molecules).
    pub check_after: Vec<bool>,
    /// Groups whose propensity reads the time `t` directly.
    pub time_dependent: Vec<bool>,
    /// Positions in `x` of the species (counts must stay whole and non-negative).
    pub species: Vec<usize>,
    pub events: Vec<EventKind>,
    random_init: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// `at t = …`: fires once at the time its trigger kernel gives.
    At,
    /// `when cond`: fires when its condition becomes true.
    When,
}

/// Why a model cannot be prepared as a jump process.
pub type Error = String;

impl MjpModel {
    pub fn new(m: &Model, lm: &LoweredModel, bound: Bound) -> Result<MjpModel, Error> {
        let nx = bound.sizes[size_index::X];
        let n_outputs = bound.sizes[size_index::OUTPUTS];
        let channels = bound.sizes[size_index::CHANNELS];
        let scratch = bound.sizes[size_index::SCRATCH];
        let groups = m.reactions.len() + m.jumps.len();
        let group_start = channel_starts(lm, &bound, groups, channels)?;
        let mut group_of = vec![0u32; channels];
        for g in 0..groups {
            group_of[group_start[g]..group_start[g + 1]].fill(g as u32);
        }
        let affected = lm
            .dependencies
            .iter()
            .map(|deps| {
                deps.iter()
                    .flat_map(|&h| group_start[h]..group_start[h + 1])
                    .map(|c| c as u32)
                    .collect()
            })
            .collect();
        let mut kernels: Vec<Kernel> = Vec::new();
        let mut want = |name: &str| -> Result<(), Error> {
            let k = lm
                .kernel(name)
                .ok_or_else(|| format!("internal: kernel `{name}` is missing"))?;
            kernels.push(k.clone());
            Ok(())
        };
        want("propensities")?;
        for g in 0..groups {
            want(&format!("fire_{g}"))?;
        }
        for e in &lm.events {
            want(&e.trigger)?;
            want(&e.effect)?;
        }
        for optional in ["init", "outputs"] {
            if lm.kernel(optional).is_some() {
                want(optional)?;
            }
        }
        let jit = Jit::compile(&kernels).map_err(|e| e.to_string())?;
        let mut variables = state_names(&bound, nx);
        let outputs = m.lets.iter().filter(|l| l.role == LetRole::Output);
        variables.extend(flat_names(outputs.map(|l| (&l.name, &l.ty)), n_outputs));
        let group_names = m
            .reactions
            .iter()
            .map(|r| r.name.clone())
            .chain(m.jumps.iter().map(|j| j.name.clone()))
            .collect();
        let changes = (0..groups)
            .map(|g| lm.reactions.get(g).map(|r| r.changes.clone()))
            .collect();
        let position = |s: usize| {
            lm.layout
                .x
                .iter()
                .position(|slot| slot.var == Var::Species(s))
                .unwrap_or(0)
        };
        let reactants = m
            .reactions
            .iter()
            .map(|r| {
                r.reactants
                    .iter()
                    .map(|&(s, nu)| (position(s), nu))
                    .collect()
            })
            .collect();
        let check_after = (0..groups)
            .map(|g| {
                m.reactions
                    .get(g)
                    .is_none_or(|r| r.law == RateLaw::Propensity)
            })
            .collect();
        let species = lm
            .layout
            .x
            .iter()
            .enumerate()
            .filter(|(_, s)| matches!(s.var, Var::Species(_)))
            .map(|(i, _)| i)
            .collect();
        let events = lm
            .events
            .iter()
            .map(|e| {
                if e.at_time {
                    EventKind::At
                } else {
                    EventKind::When
                }
            })
            .collect();
        Ok(MjpModel {
            info: MjpInfo {
                name: m.name.clone(),
                nx,
                n_outputs,
                variables,
                scratch,
                channels,
                group_names,
                group_start,
                group_of,
                affected,
                changes,
                check_after,
                reactants,
                time_dependent: lm.time_dependent.clone(),
                species,
                events,
                random_init: lm.kernel("init").is_some_and(Kernel::samples),
                bound,
            },
            jit,
        })
    }

    /// Whether paths start from random initial states.
    pub fn random_init(&self) -> bool {
        self.info.random_init
    }

    /// The native kernels (borrowing the compiled code).
    pub fn kernels(&self) -> MjpKernels<'_> {
        let get = |name: &str| self.jit.get(name);
        let groups = self.info.group_names.len();
        let must = |name: String| get(&name).expect("compiled in `new`");
        MjpKernels {
            info: &self.info,
            propensities: must("propensities".into()),
            channels: {
                let fire: Vec<KernelFn> = (0..groups).map(|g| must(format!("fire_{g}"))).collect();
                let i = &self.info;
                (0..i.channels)
                    .map(|c| {
                        let g = i.group_of[c] as usize;
                        Channel {
                            fire: fire[g],
                            within: [(c - i.group_start[g]) as f64],
                        }
                    })
                    .collect()
            },
            triggers: (0..self.info.events.len())
                .map(|k| must(format!("event{k}_trigger")))
                .collect(),
            effects: (0..self.info.events.len())
                .map(|k| must(format!("event{k}_effect")))
                .collect(),
            init: get("init"),
            outputs: get("outputs"),
        }
    }
}

/// The first channel of each group, from the `channel_starts` kernel.
fn channel_starts(
    lm: &LoweredModel,
    bound: &Bound,
    groups: usize,
    channels: usize,
) -> Result<Vec<usize>, Error> {
    let k = lm
        .kernel("channel_starts")
        .ok_or("internal: kernel `channel_starts` is missing")?;
    let mut out = vec![f64::NAN; groups + 1];
    let mut p = bound.p.clone();
    eval::run(
        k,
        &mut Args {
            t: 0.0,
            x: &mut vec![0.0; bound.sizes[size_index::X]],
            p: &mut p,
            d: &bound.d,
            aux: &[],
            rng: None,
            out: &mut out,
        },
    );
    let starts: Vec<usize> = out.iter().map(|&v| v as usize).collect();
    let whole = out.iter().all(|v| *v >= 0.0 && v.fract() == 0.0);
    if !whole || starts.windows(2).any(|w| w[0] > w[1]) || starts[groups] != channels {
        return Err(format!(
            "internal: channel ranges {out:?} for {channels} channels"
        ));
    }
    Ok(starts)
}

/// A channel's firing kernel and its number within its group (the kernel's `aux`).
#[derive(Clone, Copy)]
struct Channel {
    fire: KernelFn,
    within: [f64; 1],
}

/// The compiled kernels of a jump process, callable on one path's buffers.
#[derive(Clone)]
pub struct MjpKernels<'a> {
    pub info: &'a MjpInfo,
    propensities: KernelFn,
    /// Per channel, what firing it calls (one load on the hot path).
    channels: Vec<Channel>,
    triggers: Vec<KernelFn>,
    effects: Vec<KernelFn>,
    init: Option<KernelFn>,
    outputs: Option<KernelFn>,
}

// SAFETY (for every call below): buffers are sized from the model's `sizes` — `x` holds
// `nx` values, `p` and `d` the bound parameters and data, `work` the scratch space and one
// propensity per channel — which is exactly what the kernels address, and the `Jit` that
// compiled them outlives `self`.
impl MjpKernels<'_> {
    /// Every channel's propensity into `a` (`channels` values).
    pub fn propensities(&self, t: f64, x: &mut [f64], p: &mut [f64], a: &mut [f64]) {
        debug_assert!(a.len() >= self.info.channels);
        unsafe { self.call(self.propensities, t, x, p, &[], None, a.as_mut_ptr()) }
    }

    /// Fire `channel`: apply its change to `x` (and `p`), then recompute the propensities
    /// of the channels `affected[group]` lists in `work[scratch..scratch + channels]`, and
    /// after them the change of their sum and how many are invalid.
    #[inline]
    pub fn fire(
        &self,
        channel: usize,
        t: f64,
        x: &mut [f64],
        p: &mut [f64],
        rng: &mut Rng,
        work: &mut [f64],
    ) {
        let ch = &self.channels[channel];
        debug_assert!(work.len() >= self.info.scratch + self.info.channels + 2);
        unsafe { self.call(ch.fire, t, x, p, &ch.within, Some(rng), work.as_mut_ptr()) }
    }

    /// Event `k`'s trigger: the time of an `at` event, or 1.0 / 0.0 for a `when` condition.
    pub fn trigger(&self, k: usize, t: f64, x: &mut [f64], p: &mut [f64]) -> f64 {
        let mut out = [f64::NAN];
        unsafe { self.call(self.triggers[k], t, x, p, &[], None, out.as_mut_ptr()) }
        out[0]
    }

    /// Run event `k`'s body on the state (and parameters); `work` is scratch space.
    pub fn effect(
        &self,
        k: usize,
        t: f64,
        x: &mut [f64],
        p: &mut [f64],
        rng: &mut Rng,
        work: &mut [f64],
    ) {
        debug_assert!(work.len() >= self.info.scratch);
        unsafe { self.call(self.effects[k], t, x, p, &[], Some(rng), work.as_mut_ptr()) }
    }

    /// A path's initial state (drawn from its stream where the model says so).
    pub fn init(&self, rng: &mut Rng, x: &mut [f64]) {
        let mut p = self.info.bound.p.clone();
        self.init_with(rng, &mut p, x);
    }

    /// The initial state with parameter values `p` (laid out as the bound ones).
    pub fn init_with(&self, rng: &mut Rng, p: &mut [f64], x: &mut [f64]) {
        let Some(f) = self.init else {
            x.fill(0.0);
            return;
        };
        assert_eq!(
            p.len(),
            self.info.bound.p.len(),
            "parameters laid out as bound"
        );
        let mut dummy = vec![0.0; self.info.nx];
        unsafe { self.call(f, 0.0, &mut dummy, p, &[], Some(rng), x.as_mut_ptr()) }
    }

    /// The `output let` values at `(t, x)` with parameters `p`.
    pub fn outputs(&self, t: f64, x: &mut [f64], p: &mut [f64], out: &mut [f64]) {
        if let Some(f) = self.outputs {
            debug_assert!(out.len() >= self.info.n_outputs);
            unsafe { self.call(f, t, x, p, &[], None, out.as_mut_ptr()) }
        }
    }

    /// # Safety
    /// As stated above the `impl`: `out` must hold what the kernel writes.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    unsafe fn call(
        &self,
        f: KernelFn,
        t: f64,
        x: &mut [f64],
        p: &mut [f64],
        aux: &[f64],
        rng: Option<&mut Rng>,
        out: *mut f64,
    ) {
        debug_assert_eq!(x.len(), self.info.nx);
        let rng = rng.map_or(std::ptr::null_mut(), |r| r as *mut Rng);
        let d = &self.info.bound.d;
        // SAFETY: see the comment above the `impl`.
        unsafe {
            f(
                t,
                x.as_mut_ptr(),
                p.as_mut_ptr(),
                d.as_ptr(),
                aux.as_ptr(),
                rng,
                out,
            )
        }
    }
}
