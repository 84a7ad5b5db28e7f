//! Ensembles of jump-process paths: each path is simulated on its own stream (derived from
//! (seed, path) as for SDEs), so results do not depend on the number of threads; chunks of
//! paths run in parallel and their recordings are handed on in path order.

use super::jumpdiff::{self, Continuous};
use super::model::MjpKernels;
use super::nrm::NextReaction;
use super::path::{self, PathBuffers, PathConfig, PathError, PathSummary};
use super::ssa::Direct;
use super::tau::{self, TauPlan};
use crate::rt::Rng;
use crate::sim::ensemble::{self, ChunkResult, OnBlowup, RunError, RunShape, path_rng};
use crate::sim::schemes::{self, Method, Tolerances, Unfit};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MjpMethod {
    /// Gillespie's direct method.
    Ssa,
    /// Gibson–Bruck next-reaction method.
    Nrm,
    /// Adaptive tau-leaping (Cao–Gillespie–Petzold).
    Tau,
}

impl MjpMethod {
    pub fn name(self) -> &'static str {
        match self {
            MjpMethod::Ssa => "ssa",
            MjpMethod::Nrm => "nrm",
            MjpMethod::Tau => "tau",
        }
    }
}

#[derive(Clone, Debug)]
pub struct MjpConfig {
    pub paths: usize,
    pub seed: u64,
    pub threads: usize,
    pub method: MjpMethod,
    /// Recording times, increasing, from 0; the last is the end of the run.
    pub times: Vec<f64>,
    /// Firings allowed per path before the run stops.
    pub max_events: u64,
    pub progress: bool,
}

/// Counts over the paths of a run (all sums, so independent of the order paths finish).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MjpReport {
    /// Firings of each transition group, summed over paths.
    pub fired: Vec<u64>,
    /// Fewest and most firings in one path.
    pub min_events: u64,
    pub max_events: u64,
    /// Paths in which every propensity reached zero before the end.
    pub absorbed: usize,
}

impl MjpReport {
    pub fn total_events(&self) -> u64 {
        self.fired.iter().sum()
    }
}

/// Run the ensemble, handing each path's recording (`times × variables`) to `sink` in path
/// order.
pub fn run(
    k: &MjpKernels,
    cfg: &MjpConfig,
    cancel: &AtomicBool,
    sink: impl FnMut(usize, &[f64]) -> Result<(), String> + Send,
) -> Result<MjpReport, RunError> {
    check_fit(k, cfg.method).map_err(RunError::Unfit)?;
    let plan = match cfg.method {
        MjpMethod::Tau => Some(TauPlan::new(k).map_err(RunError::Unfit)?),
        _ => None,
    };
    let channels = k.info.channels;
    ensemble(k, cfg, sink, |a, b, report| match (cfg.method, &plan) {
        (MjpMethod::Tau, Some(plan)) => {
            run_chunk(k, cfg, a, b, cancel, report, |pc, rng, buf, rows, fired| {
                tau::simulate(k, plan, pc, rng, buf, rows, fired)
            })
        }
        (MjpMethod::Nrm, _) => {
            let mut clock = NextReaction::new(channels);
            run_chunk(k, cfg, a, b, cancel, report, |pc, rng, buf, rows, fired| {
                path::simulate(k, &mut clock, pc, rng, buf, rows, fired)
            })
        }
        _ => {
            let mut clock = Direct::new(channels);
            run_chunk(k, cfg, a, b, cancel, report, |pc, rng, buf, rows, fired| {
                path::simulate(k, &mut clock, pc, rng, buf, rows, fired)
            })
        }
    })
}

/// Run an ensemble of a jump-diffusion: `scheme` integrates the continuous part with
/// steps of at most `c.dt` between jumps (`cfg.method` is not used).
pub fn run_jump_diffusion(
    c: &Continuous,
    scheme: Method,
    k: &MjpKernels,
    cfg: &MjpConfig,
    cancel: &AtomicBool,
    sink: impl FnMut(usize, &[f64]) -> Result<(), String> + Send,
) -> Result<MjpReport, RunError> {
    if matches!(scheme, Method::Dopri5 | Method::Adaptive) {
        return Err(RunError::Unfit(format!(
            "`{}` adapts its step to each path, but a jump-diffusion is integrated with fixed steps between jumps; use rk4 (no noise) or em, milstein, heun, sra or sri",
            scheme.name()
        )));
    }
    let tolerances = Tolerances::default();
    let unfit = |u: Unfit| RunError::Unfit(u.0);
    schemes::stepper(scheme, &c.sys, tolerances).map_err(unfit)?;
    if scheme == Method::Milstein {
        // Commuting noise, checked at the first path's initial state.
        let mut x0 = vec![0.0; k.info.nx];
        k.init(&mut path_rng(cfg.seed, 0), &mut x0);
        schemes::check_commutative(&c.sys, 0.0, &x0).map_err(unfit)?;
    }
    ensemble(k, cfg, sink, |a, b, report| {
        let mut stepper = schemes::stepper(scheme, &c.sys, tolerances).map_err(unfit)?;
        run_chunk(k, cfg, a, b, cancel, report, |pc, rng, buf, rows, fired| {
            jumpdiff::simulate(c, &mut *stepper, k, pc, rng, buf, rows, fired)
        })
    })
}

/// Drive chunks of paths (`chunk(first, end, report)`) in parallel and add up the report.
fn ensemble(
    k: &MjpKernels,
    cfg: &MjpConfig,
    sink: impl FnMut(usize, &[f64]) -> Result<(), String> + Send,
    chunk: impl Fn(usize, usize, &Mutex<MjpReport>) -> Result<ChunkResult, RunError> + Sync,
) -> Result<MjpReport, RunError> {
    let info = k.info;
    let report = Mutex::new(MjpReport {
        fired: vec![0; info.group_names.len()],
        min_events: u64::MAX,
        ..MjpReport::default()
    });
    let shape = RunShape {
        paths: cfg.paths,
        threads: cfg.threads,
        values_per_path: cfg.times.len() * info.variables.len(),
        progress: cfg.progress,
    };
    ensemble::drive(&shape, |a, b| chunk(a, b, &report), OnBlowup::Stop, sink)?;
    let mut report = report.into_inner().unwrap_or_else(|e| e.into_inner());
    if report.min_events == u64::MAX {
        report.min_events = 0;
    }
    Ok(report)
}

/// Whether `method` can simulate the process exactly; the reason when it cannot.
pub fn check_fit(k: &MjpKernels, method: MjpMethod) -> Result<(), String> {
    let info = k.info;
    if method == MjpMethod::Tau {
        // Leaps hold rates fixed over each leap anyway.
        return Ok(());
    }
    if let Some(g) = info.time_dependent.iter().position(|&d| d) {
        return Err(format!(
            "the rate of `{}` depends on t, but `{}` simulates exactly only rates that stay constant between firings (`tau` holds rates fixed over each leap)",
            info.group_names[g],
            method.name()
        ));
    }
    Ok(())
}

/// Simulate paths `first..end` one after another with `simulate`.
fn run_chunk(
    k: &MjpKernels,
    cfg: &MjpConfig,
    first: usize,
    end: usize,
    cancel: &AtomicBool,
    report: &Mutex<MjpReport>,
    mut simulate: impl FnMut(
        &PathConfig,
        &mut Rng,
        &mut PathBuffers,
        &mut [f64],
        &mut [u64],
    ) -> Result<PathSummary, PathError>,
) -> Result<ChunkResult, RunError> {
    let info = k.info;
    let per_path = cfg.times.len() * info.variables.len();
    let mut values = vec![f64::NAN; (end - first) * per_path];
    let mut buf = PathBuffers::new(k);
    let mut fired = vec![0u64; info.group_names.len()];
    let (mut least, mut most, mut absorbed) = (u64::MAX, 0, 0);
    let pcfg = PathConfig {
        times: &cfg.times,
        t_end: cfg.times.last().copied().unwrap_or(0.0),
        max_events: cfg.max_events,
        cancel,
    };
    for (j, path) in (first..end).enumerate() {
        // Paths check the flag every so many firings; short paths never get that far.
        if cancel.load(Ordering::Relaxed) {
            return Err(RunError::Cancelled);
        }
        let mut rng = path_rng(cfg.seed, path as u64);
        let rows = &mut values[j * per_path..(j + 1) * per_path];
        let done = simulate(&pcfg, &mut rng, &mut buf, rows, &mut fired)
            .map_err(|e| describe(k, &format!("path {path}"), e))?;
        least = least.min(done.events);
        most = most.max(done.events);
        absorbed += usize::from(done.absorbed);
    }
    let mut r = report.lock().unwrap_or_else(|e| e.into_inner());
    for (total, n) in r.fired.iter_mut().zip(&fired) {
        *total += n;
    }
    r.min_events = r.min_events.min(least);
    r.max_events = r.max_events.max(most);
    r.absorbed += absorbed;
    Ok(ChunkResult {
        first,
        values,
        blowups: vec![None; end - first],
    })
}

/// A path's failure as a message naming the path (`who`: `path 3`, `particle 7`), the time, the channel and the state.
pub(crate) fn describe(k: &MjpKernels, who: &str, e: PathError) -> RunError {
    let info = k.info;
    let state = |x: &[f64]| {
        let shown: Vec<String> = x
            .iter()
            .zip(&info.variables)
            .take(12)
            .map(|(v, name)| format!("{name} = {v}"))
            .collect();
        let more = if x.len() > 12 { ", …" } else { "" };
        format!("{}{more}", shown.join(", "))
    };
    let message = match e {
        PathError::Cancelled => return RunError::Cancelled,
        PathError::Propensity {
            channel,
            value,
            t,
            state: x,
        } => {
            let g = info.group_of[channel] as usize;
            let within = channel - info.group_start[g];
            let family = info.group_start[g + 1] - info.group_start[g] > 1;
            let which = if family {
                format!(
                    " (channel {} of {})",
                    within + 1,
                    info.group_start[g + 1] - info.group_start[g]
                )
            } else {
                String::new()
            };
            format!(
                "{who}: the rate of `{}`{which} is {value} at t = {t}, where {}; rates must be finite and ≥ 0",
                info.group_names[g],
                state(&x)
            )
        }
        PathError::BadState {
            cause,
            variable,
            value,
            t,
        } => {
            let name = &info.variables[variable];
            let rule = if info.species.contains(&variable) {
                "counts must stay whole and ≥ 0"
            } else {
                "states must stay finite"
            };
            format!("{who}, t = {t}: {cause} gives `{name}` = {value} ({rule})")
        }
        PathError::TooManyEvents { max, t } => format!(
            "{who} fired more than {max} events by t = {t} (--max-events); a process that runs away, or a run that needs a higher --max-events"
        ),
        PathError::EventLoop { t } => {
            format!("{who}: `when` events kept setting each other off at t = {t}")
        }
    };
    RunError::Model(message)
}
