//! What the commands share: the exit code of a command's result, the thread count and the
//! seed flags, and the checks of the chain flags of `ito infer` and `ito sample`.

use ito::frontend::{self, Compilation, Options};
use ito::sim::bind::Setting;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

/// Upper limits on flags, so a typo cannot ask for absurd allocations.
const MAX_THREADS: usize = 1024;
const MAX_ITERATIONS: usize = 100_000_000;
const MAX_CHAINS: usize = 10_000;

/// Exit code 0, or 1 with the message (an empty one: the diagnostics said it all).
pub fn exit_code(result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            if !message.is_empty() {
                let _ = writeln!(std::io::stderr().lock(), "error: {message}");
            }
            ExitCode::FAILURE
        }
    }
}

/// Compile `file`, print its diagnostics on stderr, and parse the `--set`s. A file with
/// errors gives an empty message (the diagnostics said it all).
pub fn compile(
    file: &Path,
    set: &[String],
    color: bool,
) -> Result<(Compilation, Vec<Setting>), String> {
    let c = frontend::compile_file(file, &Options::default());
    let _ = std::io::stderr()
        .lock()
        .write_all(ito::diag::render_all(&c.diagnostics, &c.sources, color).as_bytes());
    if c.has_errors() {
        return Err(String::new());
    }
    let settings = set
        .iter()
        .map(|s| Setting::parse(s))
        .collect::<Result<_, _>>()?;
    Ok((c, settings))
}

/// `--threads` (default: all cores), checked.
pub fn threads(flag: Option<usize>) -> Result<usize, String> {
    match flag {
        Some(0) => Err("--threads must be at least 1".to_string()),
        Some(n) if n > MAX_THREADS => Err(format!("--threads is at most {MAX_THREADS}")),
        Some(n) => Ok(n),
        None => Ok(ito::sim::all_cores()),
    }
}

/// `--seed`, or one drawn from the clock (the commands report it).
pub fn seed(flag: Option<u64>) -> u64 {
    flag.unwrap_or_else(ito::sim::clock_seed)
}

/// The chain flags of `ito infer` and `ito sample`.
pub struct ChainFlags {
    pub chains: usize,
    pub warmup: usize,
    pub draws: usize,
    pub thin: usize,
    pub max_depth: u64,
    pub target_accept: f64,
}

impl ChainFlags {
    pub fn check(&self) -> Result<(), String> {
        if self.chains == 0 {
            return Err("--chains must be at least 1".to_string());
        }
        if self.draws == 0 {
            return Err("--draws must be at least 1".to_string());
        }
        if self.thin == 0 {
            return Err("--thin must be at least 1".to_string());
        }
        if self.warmup > MAX_ITERATIONS || self.draws > MAX_ITERATIONS || self.chains > MAX_CHAINS {
            return Err(format!(
                "--warmup and --draws are at most {MAX_ITERATIONS}, --chains at most {MAX_CHAINS}"
            ));
        }
        if !(self.target_accept > 0.0 && self.target_accept < 1.0) {
            return Err("--target-accept must be between 0 and 1 (exclusive)".to_string());
        }
        if !(1..=30).contains(&self.max_depth) {
            return Err("--max-depth must be between 1 and 30".to_string());
        }
        Ok(())
    }
}
