//! `:run`: simulate the current model with the session's settings and options, with the
//! engine its kind calls for, keeping the per-time summary and a few sample paths.

use super::options::RunOptions;
use crate::check::model::{Dynamics, ModelKind};
use crate::sim::ensemble::{self, EnsembleConfig, OnBlowup};
use crate::sim::mjp::jumpdiff::Continuous;
use crate::sim::mjp::run::{self as mjp_run, MjpConfig, MjpMethod};
use crate::sim::native::{NativeModel, ReactionView};
use crate::sim::output::{Recorded, Recorder, RunInfo, Summary, plot};
use crate::sim::schemes::{self, Method, Tolerances};
use crate::sim::{SdeSystem, prepare};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

/// Firings allowed per path (as `ito run`'s default).
const MAX_EVENTS: u64 = 1_000_000_000;

/// A finished run: what was recorded, and a line saying what ran.
pub struct Run {
    pub recorded: Recorded,
    pub report: String,
}

/// How the run's method moves the model.
#[derive(Clone, Copy)]
enum Engine {
    Continuous(Option<Method>),
    Jumps(MjpMethod),
    View(ReactionView),
}

fn engine_named(name: &str) -> Option<Engine> {
    if let Some(m) = Method::parse(name) {
        return Some(Engine::Continuous(Some(m)));
    }
    let jumps = [MjpMethod::Ssa, MjpMethod::Nrm, MjpMethod::Tau];
    if let Some(m) = jumps.into_iter().find(|m| m.name() == name) {
        return Some(Engine::Jumps(m));
    }
    [ReactionView::Cle, ReactionView::Rre]
        .into_iter()
        .find(|v| v.name() == name)
        .map(Engine::View)
}

/// Every method name `:run` takes.
pub fn method_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = Method::ALL.iter().map(|m| m.name()).collect();
    names.extend(["ssa", "nrm", "tau", "cle", "ode"]);
    names
}

/// What a run needs from the session.
pub struct Request<'a> {
    pub current: super::Current<'a>,
    pub options: &'a RunOptions,
    pub cancel: &'a AtomicBool,
    pub progress: bool,
}

/// Simulate the request's model.
pub fn simulate(r: &Request) -> Result<Run, String> {
    let c = r.current.compilation;
    let m = prepare::pick(c, Some(r.current.model))?;
    let engine = match r.options.method.as_deref() {
        None => None,
        Some(name) => Some(engine_named(name).ok_or_else(|| {
            let names = method_names();
            let hint = crate::check::suggest::did_you_mean(name, names.iter().copied())
                .map_or_else(String::new, |s| format!("; did you mean `{s}`?"));
            format!(
                "unknown method `{name}`{hint} (the methods are {})",
                names.join(", ")
            )
        })?),
    };
    let dynamics = match m.kind {
        ModelKind::Dynamic(d) | ModelKind::StateSpace(d) => d,
        kind => {
            return Err(format!(
                "model `{}` is a {kind} model; :run simulates SDE, ODE and jump-process models (`ito infer` and `ito sample` fit and sample the others)",
                m.name
            ));
        }
    };
    let model = Some(r.current.model);
    match (dynamics, engine) {
        (Dynamics::Mjp, None | Some(Engine::Jumps(_))) => {
            let method = match engine {
                Some(Engine::Jumps(j)) => j,
                _ => MjpMethod::Ssa,
            };
            let jumps = prepare::prepare_jumps(c, model, r.current.settings, r.current.data)?;
            run_jumps(r, &jumps, method, None)
        }
        (Dynamics::Mjp, Some(Engine::View(view))) => {
            let native = prepare::prepare_view(c, model, r.current.settings, r.current.data, view)?;
            run_continuous(r, &native, None, Some(view))
        }
        (Dynamics::JumpDiffusion, None | Some(Engine::Continuous(_))) => {
            let (continuous, jumps) =
                prepare::prepare_jump_diffusion(c, model, r.current.settings, r.current.data)?;
            let sys = continuous.system();
            let scheme = match engine {
                Some(Engine::Continuous(Some(s))) => s,
                _ => match schemes::default_method(&sys) {
                    // Fixed steps between jumps: the fixed-step counterpart of dopri5.
                    Method::Dopri5 => Method::Rk4,
                    s => s,
                },
            };
            let dt = step(r.options)?;
            run_jumps(
                r,
                &jumps,
                MjpMethod::Ssa,
                Some((&Continuous { sys, dt }, scheme)),
            )
        }
        (Dynamics::Sde | Dynamics::Ode, None | Some(Engine::Continuous(_))) => {
            let method = match engine {
                Some(Engine::Continuous(m)) => m,
                _ => None,
            };
            let native = prepare::prepare(c, model, r.current.settings, r.current.data)?;
            run_continuous(r, &native, method, None)
        }
        (_, Some(_)) => Err(format!(
            "method `{}` does not fit model `{}`, a {} model: {}",
            r.options.method.as_deref().unwrap_or_default(),
            m.name,
            m.kind,
            match dynamics {
                Dynamics::Mjp => "its methods are ssa, nrm, tau, cle and ode",
                Dynamics::JumpDiffusion =>
                    "its jumps fire at their exact times and the method picks the scheme for its equations (em, milstein, heun, sra, sri, rk4)",
                _ => "its methods are em, milstein, heun, sra, sri, rk4, dopri5 and adaptive",
            }
        )),
    }
}

fn step(o: &RunOptions) -> Result<f64, String> {
    let dt = o.dt.unwrap_or(o.t_end / 1000.0);
    if o.t_end / dt > 1e12 {
        return Err(format!(
            "dt={dt} over t_end={} is more than 10^12 steps per path",
            o.t_end
        ));
    }
    Ok(dt)
}

/// The paths, seed and threads of a run.
struct Shape {
    paths: usize,
    seed: u64,
    threads: usize,
    times: Vec<f64>,
}

impl Shape {
    fn of(o: &RunOptions, stochastic: bool) -> Result<Shape, String> {
        Ok(Shape {
            paths: o.paths.unwrap_or(if stochastic { 1000 } else { 1 }),
            seed: o.seed.unwrap_or_else(crate::sim::clock_seed),
            threads: o.threads.unwrap_or_else(crate::sim::all_cores),
            times: o.times()?,
        })
    }

    fn info(&self, r: &Request, method: String, dt: Option<f64>) -> RunInfo {
        RunInfo {
            model: r.current.model.to_string(),
            file: String::new(),
            method,
            dt,
            seed: self.seed,
            paths: self.paths,
            t_end: r.options.t_end,
            params: Vec::new(),
            variables: Vec::new(),
            outputs: 0,
            times: self.times.clone(),
            ito_version: env!("CARGO_PKG_VERSION"),
            dropped: Vec::new(),
        }
    }
}

fn recorder(info: RunInfo) -> Recorder {
    let summary = Summary::new(info.times.len(), info.variables.len());
    Recorder::new(info, summary, None, plot::MAX_SAMPLES)
}

fn run_continuous(
    r: &Request,
    native: &NativeModel,
    method: Option<Method>,
    view: Option<ReactionView>,
) -> Result<Run, String> {
    let sys = native.system();
    let model = sys.model();
    let method = method.unwrap_or_else(|| schemes::default_method(&sys));
    let shape = Shape::of(r.options, sys.noise_dim() > 0 || native.random_init())?;
    let dt = step(r.options)?;
    let adaptive = matches!(method, Method::Dopri5 | Method::Adaptive);
    let name = match view {
        Some(v) => format!("{} via {}", v.name(), method.name()),
        None => method.name().to_string(),
    };
    let info = RunInfo {
        params: model.bound.param_values.clone(),
        variables: model.variables.clone(),
        outputs: model.n_outputs,
        ..shape.info(r, name.clone(), (!adaptive).then_some(dt))
    };
    let mut recorder = recorder(info);
    let cfg = EnsembleConfig {
        paths: shape.paths,
        seed: shape.seed,
        threads: shape.threads,
        method,
        tolerances: Tolerances::default(),
        times: shape.times.clone(),
        dt,
        on_blowup: OnBlowup::Drop,
        progress: r.progress,
    };
    let started = Instant::now();
    let report = in_pool(shape.threads, || {
        ensemble::run(&sys, &cfg, r.cancel, |i, v| {
            recorder.record(i, v).map_err(|e| e.to_string())
        })
    })?
    .map_err(|e| e.to_string())?;
    let elapsed = started.elapsed().as_secs_f64();
    let recorded = recorder.finish().map_err(|e| e.to_string())?;
    let kept = shape.paths - report.dropped.len();
    let mut text = format!(
        "ran {kept} of {} paths of {} to t = {} with {name} ({}, seed {}) in {elapsed:.2} s",
        shape.paths,
        r.current.model,
        r.options.t_end,
        if adaptive {
            "adaptive steps".to_string()
        } else {
            format!("dt {dt}")
        },
        shape.seed,
    );
    if let Some(first) = report.dropped.first() {
        text.push_str(&format!(
            "\nwarning: {} path{} blew up and {} left out; the first: {first}",
            report.dropped.len(),
            if report.dropped.len() == 1 { "" } else { "s" },
            if report.dropped.len() == 1 {
                "was"
            } else {
                "were"
            },
        ));
    }
    Ok(Run {
        recorded,
        report: text,
    })
}

fn run_jumps(
    r: &Request,
    model: &crate::sim::mjp::MjpModel,
    method: MjpMethod,
    continuous: Option<(&Continuous, Method)>,
) -> Result<Run, String> {
    let k = model.kernels();
    let shape = Shape::of(r.options, true)?;
    let (name, dt) = match continuous {
        None => (method.name().to_string(), None),
        Some((c, s)) => (format!("{} + exact jumps", s.name()), Some(c.dt)),
    };
    let info = RunInfo {
        params: k.info.bound.param_values.clone(),
        variables: k.info.variables.clone(),
        outputs: k.info.n_outputs,
        ..shape.info(r, name.clone(), dt)
    };
    let mut recorder = recorder(info);
    let cfg = MjpConfig {
        paths: shape.paths,
        seed: shape.seed,
        threads: shape.threads,
        method,
        times: shape.times.clone(),
        max_events: MAX_EVENTS,
        progress: r.progress,
    };
    let started = Instant::now();
    let sink = |i: usize, v: &[f64]| recorder.record(i, v).map_err(|e| e.to_string());
    let report = in_pool(shape.threads, || match continuous {
        None => mjp_run::run(&k, &cfg, r.cancel, sink),
        Some((c, scheme)) => mjp_run::run_jump_diffusion(c, scheme, &k, &cfg, r.cancel, sink),
    })?
    .map_err(|e| e.to_string())?;
    let elapsed = started.elapsed().as_secs_f64();
    let recorded = recorder.finish().map_err(|e| e.to_string())?;
    let mut text = format!(
        "ran {} path{} of {} to t = {} with {name} ({} events, seed {}) in {elapsed:.2} s",
        shape.paths,
        if shape.paths == 1 { "" } else { "s" },
        r.current.model,
        r.options.t_end,
        report.total_events(),
        shape.seed
    );
    if report.absorbed > 0 {
        text.push_str(&format!(
            "\nnote: in {} of {} paths every rate reached zero before t = {}; the state then stays as it is",
            report.absorbed, shape.paths, r.options.t_end
        ));
    }
    Ok(Run {
        recorded,
        report: text,
    })
}

/// Run `f` on a pool of `threads` threads (each run may ask for its own count).
fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> Result<T, String> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| format!("cannot start {threads} threads: {e}"))?;
    Ok(pool.install(f))
}
