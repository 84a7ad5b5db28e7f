//! Command-line parsing and output. Exit codes: 0 clean (warnings allowed), 1 errors, 2 bad
//! usage.

use clap::{Parser, Subcommand, ValueEnum};
use ito::diag;
use ito::frontend::{self, Options};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ito",
    version,
    about = "A language and toolchain for stochastic models"
)]
struct Cli {
    /// When to color diagnostics.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    color: ColorChoice,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse and type-check a model file, reporting every problem found.
    Check {
        /// The `.sde` file to check.
        file: PathBuf,
        /// Check only this model (default: every model in the file).
        #[arg(long)]
        model: Option<String>,
        /// Also print an intermediate form: syntax tree, typed model, kernel IR or Cranelift IR.
        #[arg(long, value_enum)]
        emit: Option<Emit>,
        /// How to print diagnostics.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Simulate a model's dynamics (SDE, ODE, jump process or jump-diffusion): an ensemble
    /// of paths, recorded at chosen times.
    Run(Box<crate::run_cmd::RunArgs>),
    /// Sample the posterior of a model's parameters (a graphical model by NUTS, HMC, MALA or
    /// random-walk Metropolis; a state-space model by PMMH); write Stan CSV and print a
    /// summary.
    Infer(Box<crate::infer_cmd::InferArgs>),
    /// Sample a model's target over its states (`potential`: NUTS, HMC, MALA, ULA, BAOAB;
    /// `energy` over spins: Gibbs or Metropolis sweeps); write Stan CSV and print a summary.
    Sample(Box<crate::sample_cmd::SampleArgs>),
    /// Run a bootstrap particle filter on a state-space model's observed series: the
    /// log-likelihood estimate and the filtering distribution at each observation time.
    Filter(Box<crate::filter_cmd::FilterArgs>),
    /// An interactive session: load a model, change its parameters, run it and plot the
    /// results in the terminal; evaluate expressions and define functions and models.
    /// Reads commands line by line when stdin is not a terminal.
    Repl(crate::repl_cmd::ReplArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum Emit {
    /// The syntax tree with source positions.
    Ast,
    /// The typed model: kinds, types, drift/diffusion split, reactions.
    Typed,
    /// The kernels each model compiles to (the IR, after optimisation).
    Ir,
    /// The Cranelift IR the native back end generates for each kernel.
    Clif,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        Command::Check {
            file,
            model,
            emit,
            format,
        } => check(&file, model, emit, format, cli.color),
        Command::Run(args) => {
            let color = color_of(cli.color);
            crate::run_cmd::run(*args, color)
        }
        Command::Infer(args) => crate::infer_cmd::run(*args, color_of(cli.color)),
        Command::Sample(args) => crate::sample_cmd::run(*args, color_of(cli.color)),
        Command::Filter(args) => crate::filter_cmd::run(*args, color_of(cli.color)),
        Command::Repl(args) => {
            let color = match cli.color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => std::io::stdout().is_terminal(),
            };
            crate::repl_cmd::run(args, color)
        }
    }
}

/// Whether diagnostics on stderr are coloured.
fn color_of(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => std::io::stderr().is_terminal(),
    }
}

fn check(
    file: &std::path::Path,
    model: Option<String>,
    emit: Option<Emit>,
    format: Format,
    color: ColorChoice,
) -> ExitCode {
    let compilation = frontend::compile_file(file, &Options { model });
    let failed = compilation.has_errors();
    // What `--emit` asked for (only for a file without errors), or why the back end could not
    // produce it.
    let emitted = emit.filter(|_| !failed).map(|e| emit_text(e, &compilation));
    let emit_failed = matches!(emitted, Some(Err(_)));
    match format {
        Format::Json => print_json(emit, emitted, &compilation),
        Format::Human => print_human(emit, emitted, &compilation, color),
    }
    if failed || emit_failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// The text of an intermediate form (the file checked without errors).
fn emit_text(emit: Emit, c: &frontend::Compilation) -> Result<String, String> {
    Ok(match emit {
        Emit::Ast => c
            .ast
            .as_ref()
            .map(|a| ito::syntax::print::print_file(a, &c.sources))
            .unwrap_or_default(),
        Emit::Typed => c
            .ast
            .as_ref()
            .map(|a| ito::check::print::program_summary(&c.program, a.file))
            .unwrap_or_default(),
        Emit::Ir => c
            .lowered
            .iter()
            .map(ito::ir::print::print_model)
            .collect::<Vec<_>>()
            .join("\n"),
        Emit::Clif => clif(&c.lowered).map_err(|e| e.to_string())?,
    })
}

/// `--format json`: standard output holds one JSON value. The diagnostics alone are an
/// array; with `--emit`, an object holding the emitted text and the diagnostics.
fn print_json(
    emit: Option<Emit>,
    emitted: Option<Result<String, String>>,
    c: &frontend::Compilation,
) {
    let diagnostics = diag::to_json(&c.diagnostics, &c.sources);
    let json = match emit {
        None => diagnostics,
        Some(e) => {
            let (output, error) = match emitted {
                Some(Ok(text)) => (Some(text), None),
                Some(Err(e)) => (None, Some(e)),
                None => (None, None),
            };
            serde_json::json!({
                "emit": e.to_possible_value().map(|v| v.get_name().to_string()),
                "output": output,
                "error": error,
                "diagnostics": diagnostics,
            })
        }
    };
    let text = serde_json::to_string_pretty(&json).unwrap_or_default();
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

/// Human output: emitted text on standard output, diagnostics and the summary on standard
/// error.
fn print_human(
    emit: Option<Emit>,
    emitted: Option<Result<String, String>>,
    c: &frontend::Compilation,
    color: ColorChoice,
) {
    let mut stderr = std::io::stderr().lock();
    match emitted {
        Some(Ok(text)) => {
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
        }
        Some(Err(e)) => {
            let _ = writeln!(stderr, "error: {e}");
        }
        None => {}
    }
    let color = match color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => stderr.is_terminal(),
    };
    let _ = stderr.write_all(diag::render_all(&c.diagnostics, &c.sources, color).as_bytes());
    if !c.has_errors() && emit.is_none() {
        let summary: Vec<String> = c
            .program
            .models
            .iter()
            .map(|m| format!("{} ({})", m.name, m.kind))
            .collect();
        let summary = if summary.is_empty() {
            "no models".to_string()
        } else {
            summary.join(", ")
        };
        let _ = writeln!(stderr, "ok: {summary}");
    }
}

/// The Cranelift IR of every kernel of every model (one CLIF text; models are `;` comments).
fn clif(models: &[ito::ir::lower::LoweredModel]) -> Result<String, ito::jit::JitError> {
    let printer = ito::jit::ClifPrinter::host()?;
    let mut out = String::new();
    for m in models {
        out.push_str(&format!("; model {}\n\n", m.name));
        for k in &m.kernels {
            out.push_str(&printer.print(k)?);
            out.push('\n');
        }
    }
    Ok(out)
}
