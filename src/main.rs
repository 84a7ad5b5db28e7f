//! The `ito` command line: a thin layer over the library.

mod cli;
mod cmd_common;
mod filter_cmd;
mod infer_cmd;
mod repl_cmd;
mod run_cmd;
mod sample_cmd;

fn main() -> std::process::ExitCode {
    cli::run()
}
