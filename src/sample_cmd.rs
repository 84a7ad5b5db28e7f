//! `ito sample`: sample a model's target over its states (`potential U`: exp(−U) over real
//! states; `energy H`: exp(−βH) over spins), write Stan CSV, print the summary.

use crate::cmd_common::{self, ChainFlags};
use clap::{Args, ValueEnum};

use ito::infer::chain::{Config, Method};
use ito::infer::spins::{self, SpinTarget};
use ito::infer::states::{self, StateTarget, TargetKind};
use ito::infer::{report, stan_csv, table};
use ito::sim::bind;
use ito::sim::data::DataSet;
use ito::sim::prepare;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct SampleArgs {
    /// The `.sde` file holding the model.
    file: PathBuf,
    /// The model to sample (needed when the file defines several).
    #[arg(long)]
    model: Option<String>,
    /// Sampler. Real states: nuts (default), hmc, mala (adapted, exact), ula or baoab
    /// (unadjusted Langevin, biased by the step; need --step). Spins: gibbs (default,
    /// single-site heat bath) or metropolis (single-site).
    #[arg(long, value_enum)]
    method: Option<MethodArg>,
    /// Number of chains (run in parallel).
    #[arg(long, default_value_t = 4)]
    chains: usize,
    /// Warm-up iterations per chain, not kept (nuts, hmc and mala adapt during them).
    #[arg(long, default_value_t = 1000)]
    warmup: usize,
    /// Draws kept per chain after warm-up (for spins, one draw is one sweep).
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
    /// Data file: JSON in the shape Stan uses, or CSV with one column per vector.
    /// Repeatable: the files' values are merged.
    #[arg(long, value_name = "FILE")]
    data: Vec<PathBuf>,
    /// Give a parameter or scalar data a value: `--set beta=0.3`.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    set: Vec<String>,
    /// ula and baoab: the step size h (required for them; the bias grows with h).
    #[arg(long)]
    step: Option<f64>,
    /// baoab: the friction γ.
    #[arg(long)]
    friction: Option<f64>,
    /// Spins: also record every spin in each draw (by default only the `output let`s).
    #[arg(long)]
    states: bool,
    /// NUTS: the maximum tree depth.
    #[arg(long = "max-depth", default_value_t = 10)]
    max_depth: u64,
    /// NUTS, HMC, MALA: the acceptance rate step-size adaptation aims for (NUTS; HMC and
    /// MALA aim for 0.8 and 0.574).
    #[arg(long = "target-accept", default_value_t = 0.8)]
    target_accept: f64,
    /// Write the draws as Stan CSV: this file for one chain, `NAME_1.csv`, `NAME_2.csv`, …
    /// for several.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum MethodArg {
    Nuts,
    Hmc,
    Mala,
    Ula,
    Baoab,
    Gibbs,
    Metropolis,
}

impl MethodArg {
    fn method(self) -> Method {
        match self {
            MethodArg::Nuts => Method::Nuts,
            MethodArg::Hmc => Method::Hmc,
            MethodArg::Mala => Method::Mala,
            MethodArg::Ula => Method::Ula,
            MethodArg::Baoab => Method::Baoab,
            MethodArg::Gibbs => Method::Gibbs,
            MethodArg::Metropolis => Method::Metropolis,
        }
    }
}

pub fn run(args: SampleArgs, color: bool) -> ExitCode {
    crate::cmd_common::exit_code(run_inner(args, color))
}

fn run_inner(args: SampleArgs, color: bool) -> Result<(), String> {
    let started = Instant::now();
    check_flags(&args)?;
    let (c, settings) = crate::cmd_common::compile(&args.file, &args.set, color)?;
    let mut stderr = std::io::stderr().lock();
    let m = prepare::pick(&c, args.model.as_deref())?;
    let kind = states::target_kind(m)?;
    let config = config(&args, &kind)?;
    let data = DataSet::read_all(&args.data)?;
    let lm = prepare::lowered(&c, m)?;
    let bound = bind::bind(lm, m, &settings, &data)?;
    if !bound.unused_data.is_empty() {
        let names: Vec<String> = bound.unused_data.iter().map(|n| format!("`{n}`")).collect();
        let _ = writeln!(
            stderr,
            "note: the data file's {} not used by model `{}`",
            names.join(", "),
            m.name
        );
    }

    let (columns, results, sampling_time) = match kind {
        TargetKind::Continuous => {
            let target = StateTarget::new(m, lm, &bound)?;
            if !target.fixed.is_empty() {
                let _ = writeln!(
                    stderr,
                    "note: the target does not depend on {}; held at {} initial value{}",
                    target
                        .fixed
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    if target.fixed.len() == 1 {
                        "its"
                    } else {
                        "their"
                    },
                    if target.fixed.len() == 1 { "" } else { "s" }
                );
            }
            announce(&mut stderr, &m.name, &config);
            let density = &target.density;
            let sampling = Instant::now();
            let results = states::run(density, &config, crate::run_cmd::interrupt_flag())?;
            (density.columns.clone(), results, sampling.elapsed())
        }
        TargetKind::Spins => {
            let target = SpinTarget::new(m, lm, &bound, args.states)?;
            let model = &target.model;
            let whole: Vec<&str> = model
                .terms
                .iter()
                .filter(|t| !t.local)
                .map(|t| t.what.as_str())
                .collect();
            let _ = writeln!(
                stderr,
                "note: β = {}; ΔH of a flip is computed {}",
                model.beta,
                if whole.is_empty() {
                    "locally (only the terms that involve the flipped spin)".to_string()
                } else {
                    format!(
                        "by evaluating {} whole (O(N) per flip: no local form was found for {})",
                        if whole.len() == model.terms.len() {
                            "the energy"
                        } else {
                            "some terms"
                        },
                        whole.join("; ")
                    )
                }
            );
            announce(&mut stderr, &m.name, &config);
            let sampling = Instant::now();
            let results = spins::run(model, &config, crate::run_cmd::interrupt_flag())?;
            (model.columns.clone(), results, sampling.elapsed())
        }
    };

    if let Some(out) = &args.out {
        let run = stan_csv::RunDescription {
            model: &m.name,
            model_file: &args.file,
            // Stan CSV has room for one data file: the first.
            data_file: args.data.first().map(PathBuf::as_path),
            columns: &columns,
            settings: &[],
        };
        for (k, r) in results.iter().enumerate() {
            let path = stan_csv::chain_path(out, k, config.chains);
            stan_csv::write_atomically(&path, &stan_csv::render(&run, &config, k, r))?;
            let _ = writeln!(stderr, "wrote {}", path.display());
        }
    }

    let rows = report::summaries(&columns, &results);
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
    if matches!(config.method, Method::Ula | Method::Baoab) {
        let _ = writeln!(
            stderr,
            "note: {} is unadjusted: its draws are biased by the step h = {} (ula: O(h), baoab: O(h²)); halve --step and compare",
            config.method.name(),
            config.step
        );
    }
    Ok(())
}

fn announce(stderr: &mut impl Write, model: &str, config: &Config) {
    let _ = writeln!(
        stderr,
        "{}: {} chain{} of {} warm-up + {} draws with {}, seed {}",
        model,
        config.chains,
        if config.chains == 1 { "" } else { "s" },
        config.warmup,
        config.draws,
        config.method.name(),
        config.seed
    );
}

/// Checks of the flags alone (before the model is read).
fn check_flags(args: &SampleArgs) -> Result<(), String> {
    ChainFlags {
        chains: args.chains,
        warmup: args.warmup,
        draws: args.draws,
        thin: args.thin,
        max_depth: args.max_depth,
        target_accept: args.target_accept,
    }
    .check()?;
    if let Some(h) = args.step
        && !(h > 0.0 && h.is_finite())
    {
        return Err(format!("--step must be a positive number (got {h})"));
    }
    if let Some(g) = args.friction
        && !(g > 0.0 && g.is_finite())
    {
        return Err(format!("--friction must be a positive number (got {g})"));
    }
    Ok(())
}

/// The run's configuration, once the model's kind of target is known.
fn config(args: &SampleArgs, kind: &TargetKind) -> Result<Config, String> {
    let method = match (args.method, kind) {
        (None, TargetKind::Continuous) => Method::Nuts,
        (None, TargetKind::Spins) => Method::Gibbs,
        (Some(m), TargetKind::Continuous)
            if matches!(m, MethodArg::Gibbs | MethodArg::Metropolis) =>
        {
            return Err(format!(
                "`{}` updates spins, but the target is over real states: use nuts, hmc, mala, ula or baoab",
                m.method().name()
            ));
        }
        (Some(m), TargetKind::Spins) if !matches!(m, MethodArg::Gibbs | MethodArg::Metropolis) => {
            return Err(format!(
                "`{}` needs the gradient of the target, but its states are spins: use gibbs or metropolis",
                m.method().name()
            ));
        }
        (Some(m), _) => m.method(),
    };
    let step = match (method, args.step) {
        (Method::Ula | Method::Baoab, Some(h)) => h,
        (Method::Ula | Method::Baoab, None) => {
            return Err(format!(
                "{} needs --step h: it is unadjusted, so its bias grows with h (try a tenth of the target's smallest scale)",
                method.name()
            ));
        }
        (_, Some(_)) => {
            return Err(format!(
                "--step applies to ula and baoab; {} {}",
                method.name(),
                if method.adapts() {
                    "tunes its step during warm-up"
                } else {
                    "has no step"
                }
            ));
        }
        (_, None) => 0.0,
    };
    if args.friction.is_some() && method != Method::Baoab {
        return Err("--friction applies to baoab only".to_string());
    }
    if args.states && *kind != TargetKind::Spins {
        return Err(
            "--states applies to spin models (real states are always recorded)".to_string(),
        );
    }
    let threads = cmd_common::threads(args.threads)?.min(args.chains);
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
        step,
        friction: args.friction.unwrap_or(1.0),
    })
}
