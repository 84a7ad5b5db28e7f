//! `ito infer`: sample a graphical model's posterior, write Stan CSV, print the summary.

use crate::cmd_common::{self, ChainFlags};
use clap::{Args, ValueEnum};
use ito::check::model::ModelKind;
use ito::frontend::{self, Options};
use ito::infer::chain::{self, Config, Method};
use ito::infer::density::{self, Posterior};
use ito::infer::{report, stan_csv, table};
use ito::sim::bind::{self, Setting};
use ito::sim::data::DataSet;
use ito::sim::prepare;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

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
    /// Langevin) or mh (adaptive random-walk Metropolis).
    #[arg(long, value_enum, default_value_t = MethodArg::Nuts)]
    method: MethodArg,
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
    /// Worker threads (default: all cores, at most one per chain).
    #[arg(long)]
    threads: Option<usize>,
    /// Data file: JSON in the shape Stan uses (names → numbers or nested arrays), or CSV
    /// with one column per vector.
    #[arg(long)]
    data: Option<PathBuf>,
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

#[derive(Clone, Copy, ValueEnum)]
enum MethodArg {
    Nuts,
    Hmc,
    Mala,
    Mh,
}

impl MethodArg {
    fn method(self) -> Method {
        match self {
            MethodArg::Nuts => Method::Nuts,
            MethodArg::Hmc => Method::Hmc,
            MethodArg::Mala => Method::Mala,
            MethodArg::Mh => Method::Mh,
        }
    }
}

pub fn run(args: InferArgs, color: bool) -> ExitCode {
    crate::cmd_common::exit_code(run_inner(args, color))
}

fn run_inner(args: InferArgs, color: bool) -> Result<(), String> {
    let started = Instant::now();
    let config = config(&args)?;
    let c = frontend::compile_file(&args.file, &Options::default());
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(ito::diag::render_all(&c.diagnostics, &c.sources, color).as_bytes());
    if c.has_errors() {
        return Err(String::new());
    }
    let settings: Vec<Setting> = args
        .set
        .iter()
        .map(|s| Setting::parse(s))
        .collect::<Result<_, _>>()?;
    let m = prepare::pick(&c, args.model.as_deref())?;
    if m.kind != ModelKind::Graphical {
        return Err(format!(
            "model `{}` is a {} model; `ito infer` fits graphical models (parameters with priors and likelihoods){}",
            m.name,
            m.kind,
            if ito::ir::lower::has_target(m) {
                "; sample its target over the states with `ito sample`"
            } else {
                match m.kind {
                    ModelKind::Dynamic(_) | ModelKind::StateSpace(_) => {
                        "; simulate it with `ito run`"
                    }
                    _ => "",
                }
            }
        ));
    }
    let data = match &args.data {
        Some(path) => DataSet::read(path)?,
        None => DataSet::default(),
    };
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
    let results = chain::run(density, &config)?;
    let sampling_time = sampling.elapsed();

    if let Some(out) = &args.out {
        let run = stan_csv::RunDescription {
            model: &m.name,
            model_file: &args.file,
            data_file: args.data.as_deref(),
            columns: &density.columns,
            settings: &[],
        };
        for (k, r) in results.iter().enumerate() {
            let path = stan_csv::chain_path(out, k, config.chains);
            stan_csv::write_atomically(&path, &stan_csv::render(&run, &config, k, r))?;
            let _ = writeln!(stderr, "wrote {}", path.display());
        }
    }

    let rows = report::summaries(&density.columns, &results);
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
    for w in report::warnings(&config, &results, &rows) {
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

fn config(args: &InferArgs) -> Result<Config, String> {
    ChainFlags {
        chains: args.chains,
        warmup: args.warmup,
        draws: args.draws,
        thin: args.thin,
        max_depth: args.max_depth,
        target_accept: args.target_accept,
    }
    .check()?;
    let threads = cmd_common::threads(args.threads)?.min(args.chains);
    let seed = cmd_common::seed(args.seed);
    Ok(Config {
        method: args.method.method(),
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
