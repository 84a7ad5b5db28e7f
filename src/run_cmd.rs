//! `ito run`: simulate an SDE or ODE model's ensemble and write what it recorded.

use clap::{Args, ValueEnum};
use ito::check::model::{Action, Dynamics, Model, ModelKind, Var};
use ito::frontend::Compilation;
use ito::ir::lower::LoweredModel;
use ito::sim::bind::Bound;
use ito::sim::data::DataSet;
use ito::sim::ensemble::{self, EnsembleConfig, OnBlowup};
use ito::sim::mjp::jumpdiff::Continuous;
use ito::sim::mjp::run::{MjpConfig, MjpMethod, MjpReport};
use ito::sim::mjp::{self, MjpInfo, MjpModel};
use ito::sim::native::{NativeModel, ReactionView};
use ito::sim::observations::{self, ObsSeries};
use ito::sim::output::{PathFormat, PathWriter, Recorder, RunInfo, Summary, plot};
use ito::sim::schemes::{self, Method, Tolerances};
use ito::sim::{SdeSystem, prepare};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct RunArgs {
    /// The `.sde` file holding the model.
    file: PathBuf,
    /// The model to run (needed when the file defines several).
    #[arg(long)]
    model: Option<String>,
    /// Method (default: ssa for jump processes; for SDEs and ODEs dopri5 for ODEs, sra for
    /// additive noise, sri for scalar or diagonal noise, em otherwise — heun for
    /// Stratonovich general noise).
    #[arg(long, value_enum)]
    method: Option<MethodArg>,
    /// End time (paths start at t = 0).
    #[arg(long = "t-end", default_value_t = 10.0)]
    t_end: f64,
    /// Step size (default: t-end / 1000). Steps are shortened to land on recording times.
    #[arg(long)]
    dt: Option<f64>,
    /// Number of paths (default: 1000 for stochastic models, 1 for deterministic ones).
    #[arg(long)]
    paths: Option<usize>,
    /// Random seed (default: drawn from the clock and reported); paths draw from streams
    /// derived from (seed, path), so results do not depend on --threads.
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Set a parameter or scalar data value: `--set k=0.5`, `--set a=[1,2,3]`.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    set: Vec<String>,
    /// Data file: JSON in the shape Stan uses (names → numbers or nested arrays), or CSV with
    /// one column per vector. Repeatable: the files' values are merged (a name given twice is
    /// an error).
    #[arg(long, value_name = "FILE")]
    data: Vec<PathBuf>,
    /// Record every Δ time units (default: 100 intervals over the run).
    #[arg(long, conflicts_with = "times")]
    every: Option<f64>,
    /// Record at these times (comma-separated, increasing).
    #[arg(long, value_delimiter = ',')]
    times: Option<Vec<f64>>,
    /// Write the results: `.csv` (tidy: path,time,variable,value) or `.json`. With
    /// --summary, the per-time statistics instead of every path.
    #[arg(long)]
    out: Option<PathBuf>,
    /// CSV with one column per variable (path,time,x,y,…).
    #[arg(long)]
    wide: bool,
    /// Write per-time mean, sd and quantiles across paths (streamed: memory does not grow
    /// with the number of paths) instead of every path.
    #[arg(long)]
    summary: bool,
    /// Draw mean, 5–95 % band and a few sample paths to an SVG file.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// When a path's state stops being finite: stop with an error, or drop the path and
    /// report it.
    #[arg(long = "on-blowup", value_enum, default_value_t = BlowupArg::Stop)]
    on_blowup: BlowupArg,
    /// Relative tolerance of the adaptive methods (dopri5, adaptive).
    #[arg(long, default_value_t = 1e-6)]
    rtol: f64,
    /// Absolute tolerance of the adaptive methods (dopri5, adaptive).
    #[arg(long, default_value_t = 1e-9)]
    atol: f64,
    /// Jump processes: report the firings per path and per reaction or jump.
    #[arg(long)]
    stats: bool,
    /// Jump processes: stop with an error when a path fires more than this many times.
    #[arg(long = "max-events", default_value_t = 1_000_000_000)]
    max_events: u64,
    /// State-space models: draw observations at the recording times from the (only) path's
    /// states and write them as a data file (`.json` or `.csv`) for `--data`. Needs --paths 1.
    #[arg(long, value_name = "FILE")]
    observations: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum MethodArg {
    /// Euler–Maruyama: any noise, strong order 0.5, weak order 1.
    Em,
    /// Milstein: scalar, diagonal or commutative noise, strong order 1.
    Milstein,
    /// Stochastic Heun (Euler–Heun): Stratonovich, strong order 1 for commutative noise.
    Heun,
    /// Rößler SRA1: additive noise, strong order 1.5.
    Sra,
    /// Rößler SRIW1: scalar or diagonal noise, strong order 1.5.
    Sri,
    /// Classic Runge–Kutta, order 4 (ODEs).
    Rk4,
    /// Adaptive Dormand–Prince 5(4) (ODEs; --rtol, --atol).
    Dopri5,
    /// Adaptive Euler–Maruyama/Heun pair with error control (RSwM1): steps chosen per path
    /// from --rtol/--atol; --dt is the largest step (additive noise and ODEs).
    Adaptive,
    /// Jump processes: Gillespie's exact direct method (dependency graph; a sum tree for
    /// large networks).
    Ssa,
    /// Jump processes: Gibson–Bruck exact next-reaction method.
    Nrm,
    /// Reaction networks: adaptive tau-leaping (Cao–Gillespie–Petzold step selection;
    /// exact steps when few molecules are involved; counts never go negative).
    Tau,
    /// Reaction networks: the chemical Langevin equation (one noise per reaction), by the
    /// SDE engine (Euler–Maruyama, --dt).
    Cle,
    /// Reaction networks: the deterministic mass-action rate equations, by the ODE engine
    /// (dopri5).
    Ode,
}

/// A method for one engine or the other.
#[derive(Clone, Copy)]
enum Chosen {
    Continuous(Method),
    Jumps(MjpMethod),
    /// A reaction network as an SDE or ODE.
    View(ReactionView),
}

impl MethodArg {
    fn resolve(self) -> Chosen {
        let c = Chosen::Continuous;
        match self {
            MethodArg::Em => c(Method::Em),
            MethodArg::Milstein => c(Method::Milstein),
            MethodArg::Heun => c(Method::Heun),
            MethodArg::Sra => c(Method::Sra),
            MethodArg::Sri => c(Method::Sri),
            MethodArg::Rk4 => c(Method::Rk4),
            MethodArg::Dopri5 => c(Method::Dopri5),
            MethodArg::Adaptive => c(Method::Adaptive),
            MethodArg::Ssa => Chosen::Jumps(MjpMethod::Ssa),
            MethodArg::Nrm => Chosen::Jumps(MjpMethod::Nrm),
            MethodArg::Tau => Chosen::Jumps(MjpMethod::Tau),
            MethodArg::Cle => Chosen::View(ReactionView::Cle),
            MethodArg::Ode => Chosen::View(ReactionView::Rre),
        }
    }

    /// How a particle filter moves particles with this method.
    pub(crate) fn engine(self) -> ito::filter::Engine {
        use ito::filter::Engine as E;
        match self.resolve() {
            Chosen::Continuous(m) => E::Continuous(Some(m)),
            Chosen::Jumps(m) => E::Jumps(m),
            Chosen::View(v) => E::View(v),
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self.resolve() {
            Chosen::Continuous(m) => m.name(),
            Chosen::Jumps(m) => m.name(),
            Chosen::View(v) => v.name(),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BlowupArg {
    Stop,
    Drop,
}

/// An error for the user, printed as `error: …`.
type Fail = String;

pub fn run(args: RunArgs, color: bool) -> ExitCode {
    crate::cmd_common::exit_code(run_inner(args, color))
}

fn run_inner(args: RunArgs, color: bool) -> Result<(), Fail> {
    let (c, settings) = crate::cmd_common::compile(&args.file, &args.set, color)?;
    let data = DataSet::read_all(&args.data)?;
    let m = prepare::pick(&c, args.model.as_deref())?;
    let dynamics = match m.kind {
        ModelKind::Dynamic(d) | ModelKind::StateSpace(d) => Some(d),
        _ => None,
    };
    let common = Common::new(&args)?;
    let draw = match &args.observations {
        Some(path) => Some(ObservationPlan::new(&c, m, path, color)?),
        None => None,
    };
    let draw = draw.as_ref();
    let chosen = args.method.map(MethodArg::resolve);
    let model_name = args.model.as_deref();
    match dynamics {
        Some(Dynamics::Mjp) => {
            let method = match chosen {
                None => MjpMethod::Ssa,
                Some(Chosen::Jumps(m)) => m,
                Some(Chosen::View(view)) => {
                    if draw.is_some() {
                        return Err(format!(
                            "--observations draws from the jump process itself; run it with ssa, nrm or tau, not {}",
                            view.name()
                        ));
                    }
                    let native = prepare::prepare_view(&c, model_name, &settings, &data, view)?;
                    return run_continuous(&args, &common, &native, None, Some(view.name()), None);
                }
                Some(Chosen::Continuous(_)) => {
                    return Err(format!(
                        "model `{}` is a jump process; its methods are ssa, nrm, tau, cle and ode, not {}",
                        m.name,
                        args.method.map_or("", MethodArg::name)
                    ));
                }
            };
            let model = prepare::prepare_jumps(&c, model_name, &settings, &data)?;
            run_jumps(&args, &common, &model, Engine::Jumps(method), draw)
        }
        Some(Dynamics::JumpDiffusion) => {
            let scheme = match chosen {
                None => None,
                Some(Chosen::Continuous(s)) => Some(s),
                Some(Chosen::Jumps(_) | Chosen::View(_)) => {
                    return Err(format!(
                        "model `{}` is a jump-diffusion: its jumps fire at their exact times and --method picks the scheme for its equations (em, milstein, heun, sra, sri, rk4), not {}",
                        m.name,
                        args.method.map_or("", MethodArg::name)
                    ));
                }
            };
            let (continuous, jumps) =
                prepare::prepare_jump_diffusion(&c, model_name, &settings, &data)?;
            let sys = continuous.system();
            let scheme = scheme.unwrap_or_else(|| match schemes::default_method(&sys) {
                // Fixed steps between jumps: the fixed-step counterpart of dopri5.
                Method::Dopri5 => Method::Rk4,
                s => s,
            });
            let dt = step_size(&args, common.t_end)?;
            let c = Continuous { sys, dt };
            run_jumps(
                &args,
                &common,
                &jumps,
                Engine::JumpDiffusion(&c, scheme),
                draw,
            )
        }
        _ => {
            let method = match chosen {
                None => None,
                Some(Chosen::Continuous(m)) => Some(m),
                Some(Chosen::Jumps(_) | Chosen::View(_)) => {
                    return Err(format!(
                        "`{}` simulates jump processes; model `{}` is a {} model",
                        args.method.map_or("", MethodArg::name),
                        m.name,
                        m.kind
                    ));
                }
            };
            let native = prepare::prepare(&c, model_name, &settings, &data)?;
            run_continuous(&args, &common, &native, method, None, draw)
        }
    }
}

/// `--observations FILE`: what drawing a synthetic observed series from the run needs,
/// checked before the run.
struct ObservationPlan<'c> {
    path: PathBuf,
    model: &'c Model,
    lowered: &'c LoweredModel,
}

impl<'c> ObservationPlan<'c> {
    fn new(
        c: &'c Compilation,
        m: &'c Model,
        path: &Path,
        color: bool,
    ) -> Result<ObservationPlan<'c>, Fail> {
        observations::check_observations_path(path)?;
        if m.obs.is_empty() {
            return Err(format!(
                "--observations: model `{}` has no `obs` to draw (it is not a state-space model)",
                m.name
            ));
        }
        let lowered = prepare::lowered(c, m)?;
        if let Some(diags) = lowered.refusal("observe_sample") {
            let _ = std::io::stderr()
                .lock()
                .write_all(ito::diag::render_all(diags, &c.sources, color).as_bytes());
            return Err(format!(
                "--observations: the observations of model `{}` cannot be drawn (see above)",
                m.name
            ));
        }
        if lowered.kernel("observe_sample").is_none() {
            return Err(format!(
                "--observations: model `{}` has no observation model (`{} ~ …`) to draw its `obs` from",
                m.name, m.obs[0].name
            ));
        }
        // The recorded rows hold the state, not the parameters: an event that changes a
        // parameter would go unseen by the observation models.
        let changes_param = m.events.iter().any(|e| {
            e.actions.iter().any(|a| {
                matches!(
                    a,
                    Action::Assign {
                        target: Var::Param(_),
                        ..
                    }
                )
            })
        });
        if changes_param {
            return Err(format!(
                "--observations: an event of model `{}` changes a parameter, and observations are drawn from the recorded states only",
                m.name
            ));
        }
        Ok(ObservationPlan {
            path: path.to_path_buf(),
            model: m,
            lowered,
        })
    }

    /// One data set comes from one path.
    fn check_paths(plan: Option<&Self>, paths: usize) -> Result<(), Fail> {
        match plan {
            Some(_) if paths != 1 => {
                Err("--observations draws one data set from one path: add --paths 1".to_string())
            }
            _ => Ok(()),
        }
    }

    /// Draw the observations from the recording of the run's path (`None`: it was dropped).
    fn draw(
        &self,
        bound: &Bound,
        common: &Common,
        recorded: Option<&[f64]>,
        per_time: usize,
    ) -> Result<ObsSeries, Fail> {
        let recorded = recorded.ok_or_else(|| {
            "--observations: the path was dropped (its state stopped being finite), so no observations were drawn".to_string()
        })?;
        let mut rng = observations::observation_rng(common.seed);
        observations::draw_observations(
            self.lowered,
            self.model,
            bound,
            &common.times,
            recorded,
            per_time,
            &mut rng,
        )
    }

    fn write(
        &self,
        args: &RunArgs,
        bound: &Bound,
        common: &Common,
        series: &ObsSeries,
    ) -> Result<(), Fail> {
        let comments = [
            format!("ito: {}", env!("CARGO_PKG_VERSION")),
            format!(
                "observations of model {} drawn from one simulated path",
                self.model.name
            ),
            format!("file: {}", args.file.display()),
            format!("seed: {}", common.seed),
        ];
        observations::write_observations(&self.path, series, self.lowered, bound, &comments)?;
        let mut stderr = std::io::stderr().lock();
        // A column with nothing in it: no observation model covers that element; a few gaps:
        // draws whose distribution's arguments were invalid there.
        for (c, name) in series.names.iter().enumerate() {
            let gaps = (0..series.len())
                .filter(|&k| series.row(k)[c].is_nan())
                .count();
            if gaps == series.len() {
                let _ = writeln!(
                    stderr,
                    "note: no observation model covers `{name}`; it is missing at every time"
                );
            } else if gaps > 0 {
                let _ = writeln!(
                    stderr,
                    "warning: `{name}` could not be drawn at {gaps} of {} times (the arguments of its distribution were not valid there); written as missing",
                    series.len()
                );
            }
        }
        let _ = writeln!(
            stderr,
            "wrote {} observation{} of {} to {}",
            series.len(),
            plural(series.len()),
            self.model
                .obs
                .iter()
                .map(|o| format!("`{}`", o.name))
                .collect::<Vec<_>>()
                .join(", "),
            self.path.display()
        );
        Ok(())
    }
}

/// The step size: --dt, or t-end / 1000.
fn step_size(args: &RunArgs, t_end: f64) -> Result<f64, Fail> {
    let dt = args.dt.unwrap_or(t_end / 1000.0);
    if !(dt.is_finite() && dt > 0.0) {
        return Err(format!("--dt must be a positive number, not {dt}"));
    }
    if t_end / dt > 1e12 {
        return Err(format!(
            "--dt {dt} over {t_end} time units is more than 10^12 steps per path"
        ));
    }
    Ok(dt)
}

/// What every run needs, from the flags.
struct Common {
    times: Vec<f64>,
    t_end: f64,
    threads: usize,
    seed: u64,
}

impl Common {
    fn new(args: &RunArgs) -> Result<Common, Fail> {
        let times = recording_times(args)?;
        let t_end = times.last().copied().unwrap_or(args.t_end);
        let threads = crate::cmd_common::threads(args.threads)?;
        // Everything parallel in the run (the engine and the summary) uses exactly this many
        // threads.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global();
        Ok(Common {
            times,
            t_end,
            threads,
            seed: crate::cmd_common::seed(args.seed),
        })
    }

    /// What the files and the table say about a run, but for the model's own part (name,
    /// parameters, variables), which the caller fills in.
    fn run_info(&self, args: &RunArgs, paths: usize, method: String, dt: Option<f64>) -> RunInfo {
        RunInfo {
            model: String::new(),
            file: args.file.display().to_string(),
            method,
            dt,
            seed: self.seed,
            paths,
            t_end: self.t_end,
            params: Vec::new(),
            variables: Vec::new(),
            outputs: 0,
            times: self.times.clone(),
            ito_version: env!("CARGO_PKG_VERSION"),
            dropped: Vec::new(),
        }
    }

    fn paths(&self, args: &RunArgs, stochastic: bool) -> Result<usize, Fail> {
        let paths = args.paths.unwrap_or(if stochastic { 1000 } else { 1 });
        if paths == 0 {
            return Err("--paths must be at least 1".to_string());
        }
        Ok(paths)
    }
}

/// Where a run's recordings go: the paths file or the summary, the plot and the table.
struct Outputs {
    recorder: Recorder,
    summary_out: Option<(PathBuf, SummaryFormat)>,
}

impl Outputs {
    /// Decide where results go (refusing bad file names) before the run.
    fn new(args: &RunArgs, info: RunInfo) -> Result<Outputs, Fail> {
        let summary = Summary::new(info.times.len(), info.variables.len());
        let mut summary_out = None;
        let path_writer = match (&args.out, args.summary) {
            (Some(out), false) => Some(
                PathWriter::create(out, path_format(out, args.wide)?, &info)
                    .map_err(|e| e.to_string())?,
            ),
            (Some(out), true) => {
                summary_out = Some((out.clone(), summary_format(out)?));
                None
            }
            (None, _) => None,
        };
        Ok(Outputs {
            recorder: Recorder::new(info, summary, path_writer, plot::MAX_SAMPLES),
            summary_out,
        })
    }

    /// Commit the files and print the table when nothing was written.
    fn finish(self, args: &RunArgs) -> Result<(), Fail> {
        let recorded = self.recorder.finish().map_err(|e| e.to_string())?;
        if let Some((out, format)) = self.summary_out {
            let written = match format {
                SummaryFormat::Csv => recorded.summary.write_csv(&out, &recorded.info),
                SummaryFormat::Json => recorded.summary.write_json(&out, &recorded.info),
            };
            written.map_err(|e| e.to_string())?;
        }
        if let Some(file) = &args.plot {
            plot::write_svg(file, &recorded.info, &recorded.summary, &recorded.samples)
                .map_err(|e| e.to_string())?;
        }
        if args.out.is_none() {
            let table = recorded.summary.table(&recorded.info, 6);
            let _ = std::io::stdout().lock().write_all(table.as_bytes());
        }
        Ok(())
    }
}

/// Commit a run's outputs, with the observations drawn from its path when asked for (drawn
/// first, so that a dropped path fails before any file is committed).
fn finish_outputs(
    args: &RunArgs,
    outputs: Outputs,
    draw: Option<&ObservationPlan>,
    bound: &Bound,
    common: &Common,
    first_path: Option<&[f64]>,
    per_time: usize,
) -> Result<(), Fail> {
    let drawn = draw
        .map(|plan| plan.draw(bound, common, first_path, per_time))
        .transpose()?;
    outputs.finish(args)?;
    if let (Some(plan), Some(series)) = (draw, drawn) {
        plan.write(args, bound, common, &series)?;
    }
    Ok(())
}

/// Ctrl-C stops the engine; the output files, not yet committed, are then removed, so an
/// interrupted run leaves nothing half-written.
pub(crate) fn interrupt_flag() -> &'static AtomicBool {
    static INTERRUPTED: AtomicBool = AtomicBool::new(false);
    let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::Relaxed));
    &INTERRUPTED
}

/// Names in the data file the model does not declare: ignored (as Stan does), but said, since
/// a misspelt name is the usual reason.
fn note_unused_data(bound: &Bound, model: &str) {
    if bound.unused_data.is_empty() {
        return;
    }
    let names: Vec<String> = bound.unused_data.iter().map(|n| format!("`{n}`")).collect();
    eprintln!(
        "note: model `{model}` has no data named {}; the data file's value{} ignored",
        names.join(", "),
        if names.len() == 1 { " is" } else { "s are" }
    );
}

/// Run an SDE or ODE; `view` names the view of a reaction network this is (`cle`, `ode`).
fn run_continuous(
    args: &RunArgs,
    common: &Common,
    native: &NativeModel,
    method: Option<Method>,
    view: Option<&str>,
    draw: Option<&ObservationPlan>,
) -> Result<(), Fail> {
    let sys = native.system();
    let info = sys.model();
    note_unused_data(&info.bound, &info.name);
    let t_end = common.t_end;
    let dt = step_size(args, t_end)?;
    let tolerances = Tolerances {
        rtol: positive("--rtol", args.rtol)?,
        atol: positive("--atol", args.atol)?,
    };
    let method = method.unwrap_or_else(|| schemes::default_method(&sys));
    let paths = common.paths(args, sys.noise_dim() > 0 || native.random_init())?;
    ObservationPlan::check_paths(draw, paths)?;
    let (threads, seed) = (common.threads, common.seed);
    let adaptive = matches!(method, Method::Dopri5 | Method::Adaptive);
    let method_name = match view {
        Some(v) => format!("{v} via {}", method.name()),
        None => method.name().to_string(),
    };
    let run_info = RunInfo {
        model: info.name.clone(),
        params: info.bound.param_values.clone(),
        variables: info.variables.clone(),
        outputs: info.n_outputs,
        ..common.run_info(args, paths, method_name, (!adaptive).then_some(dt))
    };
    let mut outputs = Outputs::new(args, run_info)?;
    let cfg = EnsembleConfig {
        paths,
        seed,
        threads,
        method,
        tolerances,
        times: common.times.clone(),
        dt,
        on_blowup: match args.on_blowup {
            BlowupArg::Stop => OnBlowup::Stop,
            BlowupArg::Drop => OnBlowup::Drop,
        },
        progress: true,
    };
    let started = Instant::now();
    let mut first_path = None;
    let report = ensemble::run(&sys, &cfg, interrupt_flag(), |i, v| {
        if draw.is_some() && i == 0 {
            first_path = Some(v.to_vec());
        }
        outputs.recorder.record(i, v).map_err(|e| e.to_string())
    })
    .map_err(|e| e.to_string())?;
    let elapsed = started.elapsed().as_secs_f64();
    finish_outputs(
        args,
        outputs,
        draw,
        &info.bound,
        common,
        first_path.as_deref(),
        info.variables.len(),
    )?;

    let mut stderr = std::io::stderr().lock();
    for b in &report.dropped {
        let _ = writeln!(stderr, "dropped: {b}");
    }
    let kept = paths - report.dropped.len();
    let step = if method == Method::Adaptive {
        // --dt only caps the step there.
        format!(
            "rtol {}, atol {}, max step {dt}",
            tolerances.rtol, tolerances.atol
        )
    } else if adaptive {
        format!("rtol {}, atol {}", tolerances.rtol, tolerances.atol)
    } else {
        format!("dt {dt}")
    };
    let _ = writeln!(
        stderr,
        "ran {kept} of {paths} paths of {} to t = {t_end} with {} ({step}, seed {seed}, {threads} thread{}) in {elapsed:.3} s",
        info.name,
        match view {
            Some(v) => format!("{v} via {}", method.name()),
            None => method.name().to_string(),
        },
        plural(threads),
    );
    Ok(())
}

/// How a jump process runs: by itself, or between the steps of its continuous part.
enum Engine<'a> {
    Jumps(MjpMethod),
    JumpDiffusion(&'a Continuous<'a>, Method),
}

fn run_jumps(
    args: &RunArgs,
    common: &Common,
    model: &MjpModel,
    engine: Engine,
    draw: Option<&ObservationPlan>,
) -> Result<(), Fail> {
    let k = model.kernels();
    let info = k.info;
    note_unused_data(&info.bound, &info.name);
    let paths = common.paths(args, true)?;
    ObservationPlan::check_paths(draw, paths)?;
    let (threads, seed, t_end) = (common.threads, common.seed, common.t_end);
    if args.max_events == 0 {
        return Err("--max-events must be at least 1".to_string());
    }
    let (method_name, dt) = match &engine {
        Engine::Jumps(m) => (m.name().to_string(), None),
        Engine::JumpDiffusion(c, s) => (format!("{} + exact jumps", s.name()), Some(c.dt)),
    };
    let run_info = RunInfo {
        model: info.name.clone(),
        params: info.bound.param_values.clone(),
        variables: info.variables.clone(),
        outputs: info.n_outputs,
        ..common.run_info(args, paths, method_name, dt)
    };
    let mut outputs = Outputs::new(args, run_info)?;
    let method = match engine {
        Engine::Jumps(m) => m,
        Engine::JumpDiffusion(..) => MjpMethod::Ssa,
    };
    let cfg = MjpConfig {
        paths,
        seed,
        threads,
        method,
        times: common.times.clone(),
        max_events: args.max_events,
        progress: true,
    };
    let started = Instant::now();
    let mut first_path = None;
    let sink = |i: usize, v: &[f64]| {
        if draw.is_some() && i == 0 {
            first_path = Some(v.to_vec());
        }
        outputs.recorder.record(i, v).map_err(|e| e.to_string())
    };
    let report = match engine {
        Engine::Jumps(_) => mjp::run::run(&k, &cfg, interrupt_flag(), sink),
        Engine::JumpDiffusion(c, scheme) => {
            mjp::run::run_jump_diffusion(c, scheme, &k, &cfg, interrupt_flag(), sink)
        }
    }
    .map_err(|e| e.to_string())?;
    let elapsed = started.elapsed().as_secs_f64();
    finish_outputs(
        args,
        outputs,
        draw,
        &info.bound,
        common,
        first_path.as_deref(),
        info.variables.len(),
    )?;

    let mut stderr = std::io::stderr().lock();
    if report.absorbed > 0 {
        let _ = writeln!(
            stderr,
            "note: in {} of {paths} paths every rate reached zero before t = {t_end}; the state then stays as it is",
            report.absorbed
        );
    }
    if args.stats {
        let _ = stderr.write_all(jump_stats(info, &report, paths, elapsed).as_bytes());
    }
    let _ = writeln!(
        stderr,
        "ran {paths} paths of {} to t = {t_end} with {} ({} events, seed {seed}, {threads} thread{}) in {elapsed:.3} s",
        info.name,
        match engine {
            Engine::Jumps(m) => m.name().to_string(),
            Engine::JumpDiffusion(c, s) => format!("{} (dt {}) and exact jumps", s.name(), c.dt),
        },
        report.total_events(),
        plural(threads),
    );
    Ok(())
}

/// The `--stats` table: firings per path overall and per reaction or jump.
fn jump_stats(info: &MjpInfo, r: &MjpReport, paths: usize, elapsed: f64) -> String {
    let total = r.total_events();
    let per_path = total as f64 / paths as f64;
    let mut s = format!(
        "events per path: mean {per_path:.1}, min {}, max {} ({:.3e} events/s)\n",
        r.min_events,
        r.max_events,
        total as f64 / elapsed.max(1e-9)
    );
    // Declaration order; for large networks only the busiest, so the table stays readable.
    let mut rows: Vec<(&String, u64)> = info
        .group_names
        .iter()
        .zip(r.fired.iter().copied())
        .collect();
    let hidden = rows.len().saturating_sub(STATS_ROWS);
    if hidden > 0 {
        rows.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
        rows.truncate(STATS_ROWS);
    }
    let width = rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0).max(10);
    s.push_str(&format!(
        "{:width$}  {:>14}  {:>7}\n",
        "transition", "per path", "share"
    ));
    for (name, n) in rows {
        let share = if total > 0 {
            100.0 * n as f64 / total as f64
        } else {
            0.0
        };
        s.push_str(&format!(
            "{name:width$}  {:>14.1}  {share:>6.2}%\n",
            n as f64 / paths as f64
        ));
    }
    if hidden > 0 {
        s.push_str(&format!(
            "… and {hidden} more (the {STATS_ROWS} busiest are shown)\n"
        ));
    }
    s
}

/// Rows of the `--stats` table at most.
const STATS_ROWS: usize = 20;

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The recording grid: `--times`, or every `--every` from 0 to `--t-end`.
fn recording_times(args: &RunArgs) -> Result<Vec<f64>, Fail> {
    if let Some(times) = &args.times {
        if times.is_empty() {
            return Err("--times needs at least one time".to_string());
        }
        for w in times.windows(2) {
            if w[1] <= w[0] {
                return Err(format!("--times must increase ({} then {})", w[0], w[1]));
            }
        }
        if let Some(t) = times.iter().find(|t| !(t.is_finite() && **t >= 0.0)) {
            return Err(format!("--times: {t} is not a time ≥ 0"));
        }
        return Ok(times.clone());
    }
    let t_end = args.t_end;
    if !(t_end.is_finite() && t_end > 0.0) {
        return Err(format!("--t-end must be a positive number, not {t_end}"));
    }
    let every = args.every.unwrap_or(t_end / 100.0);
    if !(every.is_finite() && every > 0.0) {
        return Err(format!("--every must be a positive number, not {every}"));
    }
    let intervals = (t_end / every - 1e-9).ceil();
    if intervals > 1e6 {
        return Err(format!(
            "--every {every} records {intervals} times; at most 10^6 are allowed (each is summarised for every variable)"
        ));
    }
    let n = intervals as usize;
    // Multiples of Δ (not a running sum, which drifts), then t-end itself.
    let mut times: Vec<f64> = (0..n).map(|k| k as f64 * every).collect();
    times.push(t_end);
    Ok(times)
}

fn positive(flag: &str, v: f64) -> Result<f64, Fail> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(format!("{flag} must be a positive number, not {v}"))
    }
}

fn path_format(out: &Path, wide: bool) -> Result<PathFormat, Fail> {
    match (PathFormat::from_extension(out), wide) {
        (Some(PathFormat::Json), true) => {
            Err("--wide is a CSV layout; write `.csv` or drop --wide".to_string())
        }
        (Some(PathFormat::Json), false) => Ok(PathFormat::Json),
        (Some(_), true) => Ok(PathFormat::CsvWide),
        (Some(_), false) => Ok(PathFormat::CsvLong),
        (None, _) => Err(format!(
            "--out {}: the file name must end in .csv or .json",
            out.display()
        )),
    }
}

enum SummaryFormat {
    Csv,
    Json,
}

fn summary_format(out: &Path) -> Result<SummaryFormat, Fail> {
    match out.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("csv") => Ok(SummaryFormat::Csv),
        Some(e) if e.eq_ignore_ascii_case("json") => Ok(SummaryFormat::Json),
        _ => Err(format!(
            "--out {}: the file name must end in .csv or .json",
            out.display()
        )),
    }
}
