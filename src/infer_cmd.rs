//! `ito infer`: sample a graphical model's posterior, write Stan CSV, print the summary.

use crate::cmd_common::{self, ChainFlags};
use crate::run_cmd::{MethodArg as SimMethod, interrupt_flag};
use clap::{Args, ValueEnum};
use ito::check::model::{Model, ModelKind};
use ito::filter::{Engine, FilterModel, Stepping};

use ito::infer::chain::{self, ChainResult, Config, Method};
use ito::infer::density::{self, Posterior};
use ito::infer::diagnostics::{self, ParamSummary};
use ito::infer::pmmh::{self, PmmhSettings};
use ito::infer::{report, stan_csv, table};
use ito::ir::lower::LoweredModel;
use ito::sim::bind::{self, Bound};
use ito::sim::data::DataSet;
use ito::sim::observations::bind_observations;
use ito::sim::prepare;
use ito::sim::schemes::Tolerances;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Particles per filter run of PMMH unless `--particles` says otherwise.
const DEFAULT_PARTICLES: usize = 256;
/// Upper limit on `--particles`, so a typo cannot ask for an absurd allocation.
const MAX_PARTICLES: usize = 100_000_000;

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct InferArgs {
    /// The `.sde` file holding the model.
    file: PathBuf,
    /// The model to fit (needed when the file defines several).
    #[arg(long)]
    model: Option<String>,
    /// Sampler: nuts (the No-U-Turn sampler of nuts-rs, with step-size and diagonal
    /// mass-matrix adaptation), hmc (static trajectory length), mala (Metropolis-adjusted
    /// Langevin) or mh (adaptive random-walk Metropolis) for graphical models; pmmh
    /// (particle marginal Metropolis–Hastings) for state-space models. Default: nuts, or
    /// pmmh for a state-space model.
    #[arg(long, value_enum)]
    method: Option<MethodArg>,
    /// PMMH: particles of the filter that estimates the likelihood at each proposal
    /// [default: 256]. Choose it with `ito filter --repeat`: an sd of the log-likelihood
    /// estimate of about 1–1.5 is most efficient.
    #[arg(long)]
    particles: Option<usize>,
    /// PMMH: how particles move (default: the method `ito run` would use — ssa for jump
    /// processes, the default SDE/ODE scheme otherwise).
    #[arg(long = "sim-method", value_enum)]
    sim_method: Option<SimMethod>,
    /// PMMH: SDE/ODE step size (default: a tenth of the shortest gap between observation
    /// times); steps are shortened to land on the observation times.
    #[arg(long)]
    dt: Option<f64>,
    /// PMMH: the filter resamples when the effective sample size falls below this fraction
    /// of the particles [default: 0.5].
    #[arg(long = "ess-threshold")]
    ess_threshold: Option<f64>,
    /// PMMH: relative tolerance of the adaptive methods (dopri5, adaptive) [default: 1e-6].
    #[arg(long)]
    rtol: Option<f64>,
    /// PMMH: absolute tolerance of the adaptive methods (dopri5, adaptive) [default: 1e-9].
    #[arg(long)]
    atol: Option<f64>,
    /// PMMH, jump processes: stop with an error when a particle fires more than this many
    /// times between two observations [default: 1000000000].
    #[arg(long = "max-events")]
    max_events: Option<u64>,
    /// Number of chains (run in parallel).
    #[arg(long, default_value_t = 4)]
    chains: usize,
    /// Warm-up (adaptation) iterations per chain; their draws are not kept.
    #[arg(long, default_value_t = 1000)]
    warmup: usize,
    /// Draws kept per chain after warm-up.
    #[arg(long, default_value_t = 1000)]
    draws: usize,
    /// Keep every n-th draw.
    #[arg(long, default_value_t = 1)]
    thin: usize,
    /// Random seed (default: drawn from the clock and reported); chain c draws from a stream
    /// derived from (seed, c), so results do not depend on --threads.
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads (default: all cores; at most one per chain, except for pmmh, whose
    /// filters share them).
    #[arg(long)]
    threads: Option<usize>,
    /// Data file: JSON in the shape Stan uses (names → numbers or nested arrays), or CSV
    /// with one column per vector; for a state-space model it holds the observed series
    /// (`t` and each `obs`). Repeatable: the files' values are merged.
    #[arg(long, value_name = "FILE")]
    data: Vec<PathBuf>,
    /// Fix a parameter at a value (it is then not sampled), or give scalar data:
    /// `--set sigma=1.5`.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    set: Vec<String>,
    /// NUTS: the maximum tree depth (at most 2^depth leapfrog steps per draw).
    #[arg(long = "max-depth", default_value_t = 10)]
    max_depth: u64,
    /// NUTS: the acceptance rate step-size adaptation aims for.
    #[arg(long = "target-accept", default_value_t = 0.8)]
    target_accept: f64,
    /// Instead of sampling, find the posterior mode (MAP) by L-BFGS: the parameters' values
    /// that maximise the density on their own scale, as a quick estimate.
    #[arg(long)]
    optimize: bool,
    /// Write the draws as Stan CSV: this file for one chain, `NAME_1.csv`, `NAME_2.csv`, …
    /// for several (as CmdStan names them).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum MethodArg {
    Nuts,
    Hmc,
    Mala,
    Mh,
    Pmmh,
}

impl MethodArg {
    fn method(self) -> Method {
        match self {
            MethodArg::Nuts => Method::Nuts,
            MethodArg::Hmc => Method::Hmc,
            MethodArg::Mala => Method::Mala,
            MethodArg::Mh => Method::Mh,
            MethodArg::Pmmh => Method::Pmmh,
        }
    }
}

pub fn run(args: InferArgs, color: bool) -> ExitCode {
    crate::cmd_common::exit_code(run_inner(args, color))
}

fn run_inner(args: InferArgs, color: bool) -> Result<(), String> {
    let started = Instant::now();
    let (c, settings) = crate::cmd_common::compile(&args.file, &args.set, color)?;
    let mut stderr = std::io::stderr().lock();
    let m = prepare::pick(&c, args.model.as_deref())?;
    let method = method_for(&args, m)?;
    let config = config(&args, method)?;
    let data = DataSet::read_all(&args.data)?;
    let lm = prepare::lowered(&c, m)?;
    let bound = bind::bind_partial(lm, m, &settings, &data)?;
    if !bound.unused_data.is_empty() {
        let _ = writeln!(
            stderr,
            "note: the data file's {} not used by model `{}`",
            match bound.unused_data.as_slice() {
                [one] => format!("`{one}` is"),
                many => format!(
                    "{} are",
                    many.iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            },
            m.name
        );
    }
    let spans = density::param_spans(m, &bound);
    if method == Method::Pmmh {
        let post = Posterior::state_space(m, lm, &bound, &spans, &settings)?;
        return run_pmmh(&args, config, m, lm, bound, &data, &post, started);
    }
    let post = Posterior::new(m, lm, &bound, &spans, &settings)?;
    let density = &post.density;

    if args.optimize {
        return optimize(&args, density, config.seed, &mut stderr);
    }
    let _ = writeln!(
        stderr,
        "{}: {} chain{} of {} warm-up + {} draws with {}, seed {}",
        m.name,
        config.chains,
        if config.chains == 1 { "" } else { "s" },
        config.warmup,
        config.draws,
        config.method.name(),
        config.seed
    );
    let sampling = Instant::now();
    let results = chain::run(density, &config, interrupt_flag())?;
    let sampling_time = sampling.elapsed();
    let rows = report::summaries(&density.columns, &results);
    finish(
        &args,
        &config,
        m,
        density,
        &[],
        &results,
        rows,
        sampling_time,
        started,
    )
}

/// The sampler for model `m`: `--method`, checked against the model's kind, or the
/// default (nuts for a graphical model, pmmh for a state-space one).
fn method_for(args: &InferArgs, m: &Model) -> Result<Method, String> {
    let filter_flags = [
        ("--particles", args.particles.is_some()),
        ("--sim-method", args.sim_method.is_some()),
        ("--dt", args.dt.is_some()),
        ("--ess-threshold", args.ess_threshold.is_some()),
        ("--rtol", args.rtol.is_some()),
        ("--atol", args.atol.is_some()),
        ("--max-events", args.max_events.is_some()),
    ];
    let method = match (m.kind, args.method) {
        (ModelKind::Graphical, Some(MethodArg::Pmmh)) => {
            return Err(format!(
                "model `{}` is a graphical model; --method pmmh fits state-space models (dynamics observed through `obs` declarations), whose likelihood a particle filter estimates. Sample this one with nuts (the default), hmc, mala or mh",
                m.name
            ));
        }
        (ModelKind::Graphical, chosen) => chosen.unwrap_or(MethodArg::Nuts).method(),
        (ModelKind::StateSpace(_), None | Some(MethodArg::Pmmh)) => Method::Pmmh,
        (ModelKind::StateSpace(_), Some(other)) => {
            return Err(format!(
                "model `{}` is a {} model: its likelihood is an integral over the latent path, which only a particle filter estimates, so it is fitted with --method pmmh (the default for state-space models), not {}",
                m.name,
                m.kind,
                other.method().name()
            ));
        }
        _ => {
            return Err(format!(
                "model `{}` is a {} model; `ito infer` fits graphical models (parameters with priors and likelihoods) and state-space models (dynamics observed through `obs`, by pmmh){}",
                m.name,
                m.kind,
                if ito::ir::lower::has_target(m) {
                    "; sample its target over the states with `ito sample`"
                } else {
                    match m.kind {
                        ModelKind::Dynamic(_) => {
                            "; simulate it with `ito run`, or declare what is observed of it with `obs` to fit it"
                        }
                        _ => "",
                    }
                }
            ));
        }
    };
    if method == Method::Pmmh {
        if args.optimize {
            return Err(format!(
                "--optimize finds the mode of a density it can evaluate exactly; the likelihood of state-space model `{}` is only estimated (by a particle filter), so it has no --optimize: sample it with pmmh",
                m.name
            ));
        }
    } else if let Some((flag, _)) = filter_flags.iter().find(|(_, given)| *given) {
        return Err(format!(
            "{flag} sets the particle filter of --method pmmh; it does not apply to {}",
            method.name()
        ));
    }
    Ok(method)
}

/// PMMH: compile the filter, bind the observed series, run the chains.
#[allow(clippy::too_many_arguments)]
fn run_pmmh(
    args: &InferArgs,
    config: Config,
    m: &Model,
    lm: &LoweredModel,
    bound: Bound,
    data: &DataSet,
    post: &Posterior,
    started: Instant,
) -> Result<(), String> {
    let mut stderr = std::io::stderr().lock();
    let density = &post.density;
    let particles = args.particles.unwrap_or(DEFAULT_PARTICLES);
    let ess_threshold = args.ess_threshold.unwrap_or(0.5);
    let series = bind_observations(lm, m, &bound, data)?;
    if series.is_empty() {
        return Err(format!("{} holds no observation times", data.source()));
    }
    let dt = args.dt.unwrap_or_else(|| series.default_step());
    let engine = args
        .sim_method
        .map_or_else(|| Engine::default_for(m), SimMethod::engine);
    let fm = FilterModel::new(m, lm, bound, engine, series.width)?;
    if lm.kernel("outputs").is_some() && density.columns.len() == density.n_params() {
        let _ = writeln!(
            stderr,
            "note: the `output let`s of model `{}` are not in the draws: some read the states, which PMMH does not sample (`ito filter` gives their filtering distribution)",
            m.name
        );
    }
    let settings = PmmhSettings {
        particles,
        ess_threshold,
        stepping: Stepping {
            dt,
            tolerances: Tolerances {
                rtol: args.rtol.unwrap_or(1e-6),
                atol: args.atol.unwrap_or(1e-9),
            },
            max_events: args.max_events.unwrap_or(1_000_000_000),
        },
    };
    let moves = if fm.method_steps() {
        format!("{} (dt {dt})", fm.method)
    } else {
        fm.method.clone()
    };
    let _ = writeln!(
        stderr,
        "{}: {} chain{} of {} warm-up + {} draws with pmmh ({particles} particles, {moves}, {} observation times), seed {}",
        m.name,
        config.chains,
        if config.chains == 1 { "" } else { "s" },
        config.warmup,
        config.draws,
        series.len(),
        config.seed
    );
    drop(stderr);
    let sampling = Instant::now();
    let results = pmmh::run(
        density,
        &fm.view(),
        &series,
        &settings,
        &config,
        interrupt_flag(),
    )?;
    let sampling_time = sampling.elapsed();
    let mut rows = report::summaries(&density.columns, &results);
    // The kept log-likelihood estimates, after lp__.
    let loglik: Vec<Vec<f64>> = results
        .iter()
        .map(|r| r.stats.iter().map(|s| s.log_likelihood).collect())
        .collect();
    rows.insert(
        1,
        (
            stan_csv::LOG_LIKELIHOOD_COLUMN.to_string(),
            summarize(&loglik),
        ),
    );
    let filter_settings = [
        ("particles".to_string(), particles.to_string()),
        ("filter".to_string(), "bootstrap".to_string()),
        ("sim_method".to_string(), fm.method.clone()),
        ("dt".to_string(), format!("{dt:?}")),
        ("ess_threshold".to_string(), format!("{ess_threshold:?}")),
    ];
    finish(
        args,
        &config,
        m,
        density,
        &filter_settings,
        &results,
        rows,
        sampling_time,
        started,
    )
}

fn summarize(chains: &[Vec<f64>]) -> ParamSummary {
    let refs: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
    diagnostics::summarize(&refs)
}

/// Write the Stan CSV files, print the summary table, the timing and the warnings.
#[allow(clippy::too_many_arguments)]
fn finish(
    args: &InferArgs,
    config: &Config,
    m: &Model,
    density: &ito::infer::density::Density,
    settings: &[(String, String)],
    results: &[ChainResult],
    rows: Vec<(String, ParamSummary)>,
    sampling_time: std::time::Duration,
    started: Instant,
) -> Result<(), String> {
    let mut stderr = std::io::stderr().lock();
    if let Some(out) = &args.out {
        let run = stan_csv::RunDescription {
            model: &m.name,
            model_file: &args.file,
            // Stan CSV has room for one data file: the first.
            data_file: args.data.first().map(PathBuf::as_path),
            columns: &density.columns,
            settings,
        };
        for (k, r) in results.iter().enumerate() {
            let path = stan_csv::chain_path(out, k, config.chains);
            stan_csv::write_atomically(&path, &stan_csv::render(&run, config, k, r))?;
            let _ = writeln!(stderr, "wrote {}", path.display());
        }
    }
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(table::render(&rows).as_bytes());
    let warm: f64 = results.iter().map(|r| r.warmup_time.as_secs_f64()).sum();
    let samp: f64 = results.iter().map(|r| r.sampling_time.as_secs_f64()).sum();
    let _ = writeln!(
        stdout,
        "\nchains took {warm:.3} s of warm-up and {samp:.3} s of sampling ({:.3} s wall clock on {} thread{}); {:.3} s in all",
        sampling_time.as_secs_f64(),
        config.threads,
        if config.threads == 1 { "" } else { "s" },
        started.elapsed().as_secs_f64()
    );
    for w in report::warnings(config, results, &rows) {
        let _ = writeln!(stderr, "warning: {w}");
    }
    Ok(())
}

/// `--optimize`: the mode, printed as a table (and written like CmdStan's optimiser output).
fn optimize(
    args: &InferArgs,
    density: &ito::infer::density::Density,
    seed: u64,
    stderr: &mut impl Write,
) -> Result<(), String> {
    let mode = ito::infer::optimize::find_mode(density, seed, 10_000)?;
    let _ = writeln!(
        stderr,
        "{}: L-BFGS from a random start (seed {seed}) stopped after {} iterations: {}",
        density.model, mode.iterations, mode.reason
    );
    if !mode.converged {
        let _ = writeln!(
            stderr,
            "warning: the optimiser did not report convergence; the values below may not be the mode"
        );
    }
    let width = density
        .columns
        .iter()
        .map(String::len)
        .max()
        .unwrap_or(4)
        .max(4);
    let mut out = format!("{:<width$}  {:>12}\n", "name", "mode");
    out.push_str(&format!("{:<width$}  {:>12.6}\n", "lp__", mode.lp));
    for (name, v) in density.columns.iter().zip(&mode.row) {
        out.push_str(&format!("{name:<width$}  {v:>12.6}\n"));
    }
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    if let Some(path) = &args.out {
        let mut text = format!(
            "# model = {}\n# method = optimize\n#   optimize\n#     algorithm = lbfgs\n#     jacobian = 0\n#     iter = {}\n# random\n#   seed = {seed}\n",
            density.model, mode.iterations
        );
        text.push_str("lp__,");
        text.push_str(&density.columns.join(","));
        text.push('\n');
        let values: Vec<String> = std::iter::once(mode.lp)
            .chain(mode.row.iter().copied())
            .map(|v| format!("{v:?}"))
            .collect();
        text.push_str(&values.join(","));
        text.push('\n');
        stan_csv::write_atomically(path, &text)?;
        let _ = writeln!(stderr, "wrote {}", path.display());
    }
    Ok(())
}

fn config(args: &InferArgs, method: Method) -> Result<Config, String> {
    ChainFlags {
        chains: args.chains,
        warmup: args.warmup,
        draws: args.draws,
        thin: args.thin,
        max_depth: args.max_depth,
        target_accept: args.target_accept,
    }
    .check()?;
    if let Some(p) = args.particles
        && !(1..=MAX_PARTICLES).contains(&p)
    {
        return Err(format!(
            "--particles must be between 1 and {MAX_PARTICLES}, not {p}"
        ));
    }
    if let Some(e) = args.ess_threshold
        && !(0.0..=1.0).contains(&e)
    {
        return Err(format!(
            "--ess-threshold is a fraction of the particles between 0 and 1, not {e}"
        ));
    }
    if let Some(dt) = args.dt
        && !(dt.is_finite() && dt > 0.0)
    {
        return Err(format!("--dt must be a positive number, not {dt}"));
    }
    for (flag, v) in [("--rtol", args.rtol), ("--atol", args.atol)] {
        if let Some(v) = v
            && !(v.is_finite() && v > 0.0)
        {
            return Err(format!("{flag} must be a positive number, not {v}"));
        }
    }
    if args.max_events == Some(0) {
        return Err("--max-events must be at least 1".to_string());
    }
    let threads = cmd_common::threads(args.threads)?;
    // Chains run one per thread; PMMH's filters also spread their particles over them.
    let threads = if method == Method::Pmmh {
        threads
    } else {
        threads.min(args.chains)
    };
    let seed = cmd_common::seed(args.seed);
    Ok(Config {
        method,
        chains: args.chains,
        warmup: args.warmup,
        draws: args.draws,
        seed,
        threads,
        max_depth: args.max_depth,
        target_accept: args.target_accept,
        thin: args.thin,
        step: 0.0,
        friction: 1.0,
    })
}
