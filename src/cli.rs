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
    let mut stdout = std::io::stdout().lock();
    let failed = compilation.has_errors();
    // The back end could not produce what `--emit` asked for.
    let mut emit_failed = false;
    if !failed {
        let text = match emit {
            Some(Emit::Ast) => compilation
                .ast
                .as_ref()
                .map(|a| ito::syntax::print::print_file(a, &compilation.sources)),
            Some(Emit::Typed) => compilation
                .ast
                .as_ref()
                .map(|a| ito::check::print::program_summary(&compilation.program, a.file)),
            Some(Emit::Ir) => Some(
                compilation
                    .lowered
                    .iter()
                    .map(ito::ir::print::print_model)
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            Some(Emit::Clif) => match clif(&compilation.lowered) {
                Ok(text) => Some(text),
                Err(e) => {
                    let _ = writeln!(std::io::stderr(), "error: {e}");
                    emit_failed = true;
                    None
                }
            },
            None => None,
        };
        if let Some(text) = text {
            let _ = stdout.write_all(text.as_bytes());
        }
    }
    match format {
        Format::Json => {
            let json = diag::to_json(&compilation.diagnostics, &compilation.sources);
            let _ = writeln!(
                stdout,
                "{}",
                serde_json::to_string_pretty(&json).unwrap_or_default()
            );
        }
        Format::Human => {
            let color = match color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => std::io::stderr().is_terminal(),
            };
            let text = diag::render_all(&compilation.diagnostics, &compilation.sources, color);
            let _ = std::io::stderr().write_all(text.as_bytes());
            if !failed && emit.is_none() {
                let models = &compilation.program.models;
                let summary: Vec<String> = models
                    .iter()
                    .map(|m| format!("{} ({})", m.name, m.kind))
                    .collect();
                let _ = writeln!(
                    std::io::stderr(),
                    "ok: {}",
                    if summary.is_empty() {
                        "no models".to_string()
                    } else {
                        summary.join(", ")
                    }
                );
            }
        }
    }
    if failed || emit_failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
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
