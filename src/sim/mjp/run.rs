//! Ensembles of jump-process paths: each path is simulated on its own stream (derived from
//! (seed, path) as for SDEs), so results do not depend on the number of threads; chunks of
//! paths run in parallel and their recordings are handed on in path order.

use super::model::MjpKernels;
use super::nrm::NextReaction;
use super::path::{self, PathBuffers, PathConfig, PathError, PathSummary};
use super::ssa::Direct;
use super::tau::{self, TauPlan};
use crate::rt::Rng;
use crate::sim::ensemble::{self, ChunkResult, OnBlowup, RunError, RunShape, path_rng};
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;

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
    let info = k.info;
    let groups = info.group_names.len();
    let report = Mutex::new(MjpReport {
        fired: vec![0; groups],
        min_events: u64::MAX,
        ..MjpReport::default()
    });
    let shape = RunShape {
        paths: cfg.paths,
        threads: cfg.threads,
        values_per_path: cfg.times.len() * info.variables.len(),
        progress: cfg.progress,
    };
    let chunk = |a: usize, b: usize| match (cfg.method, &plan) {
        (MjpMethod::Tau, Some(plan)) => run_chunk(
            k,
            cfg,
            a,
            b,
            cancel,
            &report,
            |pc, rng, buf, rows, fired| tau::simulate(k, plan, pc, rng, buf, rows, fired),
        ),
        (MjpMethod::Nrm, _) => {
            let mut clock = NextReaction::new(info.channels);
            run_chunk(
                k,
                cfg,
                a,
                b,
                cancel,
                &report,
                |pc, rng, buf, rows, fired| {
                    path::simulate(k, &mut clock, pc, rng, buf, rows, fired)
                },
            )
        }
        _ => {
            let mut clock = Direct::new(info.channels);
            run_chunk(
                k,
                cfg,
                a,
                b,
                cancel,
                &report,
                |pc, rng, buf, rows, fired| {
                    path::simulate(k, &mut clock, pc, rng, buf, rows, fired)
                },
            )
        }
    };
    ensemble::drive(&shape, chunk, OnBlowup::Stop, sink)?;
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
        let mut rng = path_rng(cfg.seed, path as u64);
        let rows = &mut values[j * per_path..(j + 1) * per_path];
        let done = simulate(&pcfg, &mut rng, &mut buf, rows, &mut fired)
            .map_err(|e| describe(k, path, e))?;
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

/// A path's failure as a message naming the path, the time, the channel and the state.
fn describe(k: &MjpKernels, path: usize, e: PathError) -> RunError {
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
                "path {path}: the rate of `{}`{which} is {value} at t = {t}, where {}; rates must be finite and ≥ 0",
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
            format!("path {path}: {cause} at t = {t} left `{name}` = {value} ({rule})")
        }
        PathError::TooManyEvents { max, t } => format!(
            "path {path} fired more than {max} events by t = {t} (--max-events); a process that runs away, or a run that needs a higher --max-events"
        ),
        PathError::EventLoop { t } => {
            format!("path {path}: `when` events kept setting each other off at t = {t}")
        }
    };
    RunError::Model(message)
}
