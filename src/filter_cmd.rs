//! `ito filter`: run a bootstrap particle filter on a state-space model's observed series;
//! print the log-likelihood estimate and the filtering distribution, write it as CSV and SVG.

use crate::run_cmd::{MethodArg, interrupt_flag};
use clap::Args;
use ito::check::model::ModelKind;
use ito::filter::{Engine, FilterConfig, FilterModel, FilterRun, Stepping, plot, report};

use ito::sim::bind;
use ito::sim::data::DataSet;
use ito::sim::observations::{ObsSeries, bind_observations};
use ito::sim::output::write_atomic;
use ito::sim::prepare;
use ito::sim::schemes::Tolerances;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// The quantile levels recorded per observation time.
const LEVELS: [f64; 3] = [0.05, 0.5, 0.95];

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct FilterArgs {
    /// The `.sde` file holding the model.
    file: PathBuf,
    /// The model to filter (needed when the file defines several).
    #[arg(long)]
    model: Option<String>,
    /// Data file(s) with the observed series (`t` and each `obs`) and any other data: JSON
    /// or CSV; give --data more than once to combine files.
    #[arg(long, value_name = "FILE")]
    data: Vec<PathBuf>,
    /// Number of particles.
    #[arg(long, default_value_t = 1000)]
    particles: usize,
    /// How particles move (default: the method `ito run` would use — ssa for jump
    /// processes, the default SDE/ODE scheme otherwise).
    #[arg(long, value_enum)]
    method: Option<MethodArg>,
    /// SDE/ODE step size (default: a tenth of the shortest gap between observation times);
    /// steps are shortened to land on the observation times.
    #[arg(long)]
    dt: Option<f64>,
    /// Resample when the effective sample size falls below this fraction of the particles
    /// (1: at every observation).
    #[arg(long = "ess-threshold", default_value_t = 0.5)]
    ess_threshold: f64,
    /// Run the filter this many times (independent streams) and report the spread of the
    /// log-likelihood estimates, to choose --particles for PMMH.
    #[arg(long, default_value_t = 1)]
    repeat: usize,
    /// Random seed (default: drawn from the clock and reported); results do not depend on
    /// --threads.
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Set a parameter or scalar data value: `--set k=0.5`.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    set: Vec<String>,
    /// Write the filtering distribution per observation time (mean, sd, 5/50/95 %
    /// quantiles of every state and output; ESS; log-likelihood increments) as CSV.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Draw the filtering means and 5–95 % bands, and the observations, to an SVG file.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Relative tolerance of the adaptive methods (dopri5, adaptive).
    #[arg(long, default_value_t = 1e-6)]
    rtol: f64,
    /// Absolute tolerance of the adaptive methods (dopri5, adaptive).
    #[arg(long, default_value_t = 1e-9)]
    atol: f64,
    /// Jump processes: stop with an error when a particle fires more than this many times
    /// between two observations.
    #[arg(long = "max-events", default_value_t = 1_000_000_000)]
    max_events: u64,
}

pub fn run(args: FilterArgs, color: bool) -> ExitCode {
    crate::cmd_common::exit_code(run_inner(args, color))
}

fn run_inner(args: FilterArgs, color: bool) -> Result<(), String> {
    check_flags(&args)?;
    let (c, settings) = crate::cmd_common::compile(&args.file, &args.set, color)?;
    let data = DataSet::read_all(&args.data)?;
    let m = prepare::pick(&c, args.model.as_deref())?;
    if !matches!(m.kind, ModelKind::StateSpace(_)) {
        return Err(format!(
            "model `{}` is not a state-space model (its kind: {}); `ito filter` needs dynamics observed through `obs` declarations",
            m.name, m.kind
        ));
    }
    let lm = prepare::lowered(&c, m)?;
    let bound = bind::bind(lm, m, &settings, &data)?;
    let series = bind_observations(lm, m, &bound, &data)?;
    if series.is_empty() {
        return Err(format!("{} holds no observation times", data.source()));
    }
    let dt = match args.dt {
        Some(dt) => dt,
        None => series.default_step(),
    };
    let engine = args
        .method
        .map_or_else(|| Engine::default_for(m), MethodArg::engine);
    let fm = FilterModel::new(m, lm, bound, engine, series.width)?;
    let threads = crate::cmd_common::threads(args.threads)?;
    let seed = crate::cmd_common::seed(args.seed);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| format!("could not start {threads} threads: {e}"))?;
    let stepping = Stepping {
        dt,
        tolerances: Tolerances {
            rtol: args.rtol,
            atol: args.atol,
        },
        max_events: args.max_events,
    };
    let cancel = interrupt_flag();
    let filter = fm.view();
    let params = fm.params();
    let started = Instant::now();
    let runs: Vec<FilterRun> = pool.install(|| {
        (0..args.repeat)
            .map(|r| {
                let cfg = FilterConfig {
                    particles: args.particles,
                    seed: repeat_seed(seed, r),
                    ess_threshold: args.ess_threshold,
                    record: r == 0,
                    quantiles: LEVELS.to_vec(),
                };
                filter
                    .run(params, &series, &stepping, &cfg, cancel)
                    .map_err(|e| e.to_string())
            })
            .collect::<Result<_, _>>()
    })?;
    let elapsed = started.elapsed().as_secs_f64();
    let first = &runs[0];
    if let Some(out) = &args.out {
        let text = report::csv(first, &series, &fm.variables, &LEVELS);
        write_atomic(out, text.as_bytes()).map_err(|e| e.to_string())?;
    }
    if let Some(file) = &args.plot {
        let title = format!("{}: bootstrap filter ({})", fm.name, fm.method);
        plot::write_svg(file, &title, first, &series, &fm.variables, &LEVELS)
            .map_err(|e| e.to_string())?;
    }
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(
        header(
            &args,
            &fm,
            &series,
            first,
            dt,
            seed,
            threads,
            elapsed,
            runs.len(),
        )
        .as_bytes(),
    );
    if args.repeat > 1 {
        let estimates: Vec<f64> = runs.iter().map(|r| r.log_likelihood).collect();
        let _ = out.write_all(report::repeat_summary(&estimates, args.particles).as_bytes());
    }
    if args.out.is_none() {
        let _ = writeln!(out);
        let _ = out.write_all(report::table(first, &series, &fm.variables, &LEVELS).as_bytes());
    }
    Ok(())
}

/// Flags checked before any work.
fn check_flags(args: &FilterArgs) -> Result<(), String> {
    if args.particles == 0 {
        return Err("--particles must be at least 1".to_string());
    }
    if args.particles > 100_000_000 {
        return Err("--particles is at most 10^8".to_string());
    }
    if args.repeat == 0 || args.repeat > 100_000 {
        return Err("--repeat must be between 1 and 100000".to_string());
    }
    if !(0.0..=1.0).contains(&args.ess_threshold) {
        return Err(format!(
            "--ess-threshold is a fraction between 0 and 1, not {}",
            args.ess_threshold
        ));
    }
    if let Some(dt) = args.dt
        && !(dt.is_finite() && dt > 0.0)
    {
        return Err(format!("--dt must be a positive number, not {dt}"));
    }
    for (flag, v) in [("--rtol", args.rtol), ("--atol", args.atol)] {
        if !(v.is_finite() && v > 0.0) {
            return Err(format!("{flag} must be a positive number, not {v}"));
        }
    }
    let extension = |p: &Path, want: &str| {
        p.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case(want))
    };
    if let Some(out) = &args.out
        && !extension(out, "csv")
    {
        return Err(format!(
            "--out {}: the file name must end in .csv",
            out.display()
        ));
    }
    if let Some(p) = &args.plot
        && !extension(p, "svg")
    {
        return Err(format!(
            "--plot {}: the file name must end in .svg",
            p.display()
        ));
    }
    Ok(())
}

/// The seed of repeat `r` (repeat 0 uses the seed itself, so `--repeat` does not change
/// the first run).
fn repeat_seed(seed: u64, r: usize) -> u64 {
    if r == 0 {
        seed
    } else {
        use rand::RngExt as _;
        ito::sim::ensemble::path_rng(seed, (r as u64) << 40).random()
    }
}

#[allow(clippy::too_many_arguments)]
fn header(
    args: &FilterArgs,
    fm: &FilterModel,
    series: &ObsSeries,
    run: &FilterRun,
    dt: f64,
    seed: u64,
    threads: usize,
    elapsed: f64,
    runs: usize,
) -> String {
    let moves = if fm.method_steps() {
        format!("{} (dt {dt})", fm.method)
    } else {
        fm.method.clone()
    };
    let mut s = format!(
        "model {}: bootstrap filter, {} particles, {moves}, {} observation times, seed {seed}\n",
        fm.name,
        args.particles,
        series.len()
    );
    s.push_str(&format!(
        "log-likelihood estimate: {:.4}\n",
        run.log_likelihood
    ));
    let resampled = run.steps.iter().filter(|s| s.resampled).count();
    if let Some(low) = run.steps.iter().min_by(|a, b| a.ess.total_cmp(&b.ess)) {
        s.push_str(&format!(
            "  resampled at {resampled} of {} times; lowest ESS {:.1} (t = {})\n",
            run.steps.len(),
            low.ess,
            low.t
        ));
    }
    if run.nonfinite > 0 {
        s.push_str(&format!(
            "  warning: {} particle state(s) stopped being finite and were given weight zero (a smaller --dt may help)\n",
            run.nonfinite
        ));
    }
    let steps = (args.particles * series.len() * runs) as f64;
    s.push_str(&format!(
        "  {} particle-steps in {elapsed:.3} s ({:.3e}/s), {threads} thread{}\n",
        steps,
        steps / elapsed.max(1e-9),
        if threads == 1 { "" } else { "s" }
    ));
    s
}
