//! Every model of every standard-library module runs, briefly, through the `ito` binary with
//! its default parameters: dynamic models with `ito run`, models with a `potential` or
//! `energy` with `ito sample` (a model with both is run and sampled). The models are found
//! by compiling each module (`ito::stdlib::modules()`), so a new module or model is covered
//! without touching this file, and a model of a kind this test cannot run fails it.
//!
//! Also: every stdlib model and parameter is documented, and all modules' functions can be
//! imported into one file without a name clash.

use ito::check::model::{LetRole, Model, ModelKind};
use ito::diag::render_all;
use ito::frontend::{Options, compile_file, compile_source};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Paths and end time of each `ito run`: short enough that the slowest model (the Kuramoto
/// system, 100 oscillators at 1000 steps) takes a fraction of a second.
const PATHS: &str = "20";
const T_END: &str = "1";

/// Warm-up and kept draws of each `ito sample` (one chain).
const WARMUP: &str = "50";
const DRAWS: usize = 50;

fn scratch_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("stdlib_run");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `ito` and returns an error message (with its stderr) unless it exits with 0.
fn ito(args: &[&str]) -> Result<(), String> {
    let o = Command::new(env!("CARGO_BIN_EXE_ito"))
        .args(args)
        .output()
        .expect("the ito binary runs");
    if o.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`ito {}` exited with {:?}:\n{}",
            args.join(" "),
            o.status.code(),
            String::from_utf8_lossy(&o.stderr)
        ))
    }
}

/// The rows of a CSV file without its `#` comment lines: the header, then the data rows.
fn csv_rows(path: &Path) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut lines = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty());
    let header = lines
        .next()
        .ok_or_else(|| format!("{} has no header", path.display()))?;
    let header = header.split(',').map(str::to_owned).collect();
    let rows = lines
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    Ok((header, rows))
}

fn finite(cell: &str, what: &str) -> Result<f64, String> {
    match cell.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(format!("{what}: `{cell}` is not a finite number")),
    }
}

/// `ito run` with the long CSV output (`path,time,variable,value`): every path is there, at
/// t = 0 and at the end time, and every value is finite.
fn run(module: &str, model: &Model, dir: &Path) -> Result<(), String> {
    let out = dir.join(format!(
        "{}_{}_run.csv",
        module.replace('/', "_"),
        model.name
    ));
    let out_s = out.to_str().unwrap();
    ito(&[
        "run",
        module,
        "--model",
        &model.name,
        "--paths",
        PATHS,
        "--t-end",
        T_END,
        "--seed",
        "1",
        "--threads",
        "1",
        "--out",
        out_s,
    ])?;
    let (header, rows) = csv_rows(&out)?;
    if header != ["path", "time", "variable", "value"] {
        return Err(format!("{out_s}: unexpected header {header:?}"));
    }
    if rows.is_empty() {
        return Err(format!("{out_s}: no rows"));
    }
    let paths: usize = PATHS.parse().unwrap();
    let t_end: f64 = T_END.parse().unwrap();
    let mut seen = vec![false; paths];
    let mut reached_end = false;
    for row in &rows {
        let [path, time, variable, value] = &row[..] else {
            return Err(format!("{out_s}: malformed row {row:?}"));
        };
        let what = format!("{out_s}: path {path}, t = {time}, {variable}");
        let p: usize = path.parse().map_err(|_| format!("{what}: bad path"))?;
        *seen
            .get_mut(p)
            .ok_or_else(|| format!("{what}: path out of range"))? = true;
        reached_end |= finite(time, &what)? == t_end;
        finite(value, &what)?;
    }
    if !seen.iter().all(|&s| s) || !reached_end {
        return Err(format!("{out_s}: some path is missing, or t = {T_END} is"));
    }
    Ok(())
}

/// `ito sample` with one chain, to a Stan CSV: the kept draws are all there and finite.
fn sample(module: &str, model: &Model, dir: &Path) -> Result<(), String> {
    let out = dir.join(format!(
        "{}_{}_sample.csv",
        module.replace('/', "_"),
        model.name
    ));
    let out_s = out.to_str().unwrap();
    let draws = DRAWS.to_string();
    ito(&[
        "sample",
        module,
        "--model",
        &model.name,
        "--chains",
        "1",
        "--warmup",
        WARMUP,
        "--draws",
        &draws,
        "--seed",
        "1",
        "--threads",
        "1",
        "--out",
        out_s,
    ])?;
    let (header, rows) = csv_rows(&out)?;
    if header.first().map(String::as_str) != Some("lp__") {
        return Err(format!("{out_s}: unexpected header {header:?}"));
    }
    if rows.len() != DRAWS {
        return Err(format!("{out_s}: {} draws, expected {DRAWS}", rows.len()));
    }
    for (k, row) in rows.iter().enumerate() {
        if row.len() != header.len() {
            return Err(format!("{out_s}: draw {} has {} columns", k + 1, row.len()));
        }
        for (name, cell) in header.iter().zip(row) {
            finite(cell, &format!("{out_s}: draw {}, {name}", k + 1))?;
        }
    }
    Ok(())
}

fn has_target(m: &Model) -> bool {
    m.lets
        .iter()
        .any(|l| matches!(l.role, LetRole::Potential | LetRole::Energy))
}

/// Every stdlib module checks without a diagnostic; its compilation.
fn compile_module(module: &str) -> ito::frontend::Compilation {
    let c = compile_file(Path::new(module), &Options::default());
    assert!(
        c.diagnostics.is_empty(),
        "{module} has diagnostics:\n{}",
        render_all(&c.diagnostics, &c.sources, false)
    );
    c
}

#[test]
fn every_stdlib_model_runs_or_samples_with_its_defaults() {
    let dir = scratch_dir();
    let mut failures = Vec::new();
    let mut done = Vec::new();
    let start = Instant::now();
    for (module, _) in ito::stdlib::modules() {
        let c = compile_module(module);
        for model in &c.program.models {
            let t = Instant::now();
            let mut how = Vec::new();
            let mut result = Ok(());
            match model.kind {
                ModelKind::Dynamic(_) => {
                    how.push("run");
                    result = run(module, model, &dir);
                }
                ModelKind::Target => {}
                kind => {
                    result = Err(format!(
                        "{module} {}: this test does not know how to run a {kind} model; \
                         teach it (tests/stdlib_run.rs)",
                        model.name
                    ))
                }
            }
            if result.is_ok() && has_target(model) {
                how.push("sample");
                result = sample(module, model, &dir);
            }
            if how.is_empty() && result.is_ok() {
                result = Err(format!("{module} {}: nothing was run", model.name));
            }
            match result {
                Ok(()) => done.push(format!(
                    "{module} {} ({}): {} in {:.2} s",
                    model.name,
                    model.kind,
                    how.join(" + "),
                    t.elapsed().as_secs_f64()
                )),
                Err(e) => failures.push(format!("{module} {}: {e}", model.name)),
            }
        }
    }
    eprintln!("{}", done.join("\n"));
    eprintln!("all in {:.1} s", start.elapsed().as_secs_f64());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(
        done.len() >= 30,
        "expected the standard model library, ran {} models",
        done.len()
    );
    // A guard against a model whose defaults make it slow: the whole library runs in seconds.
    assert!(
        start.elapsed() < Duration::from_secs(120),
        "the stdlib runs took {:.1} s",
        start.elapsed().as_secs_f64()
    );
}

/// Every stdlib model has a `///` doc (its equations and a reference), and so has each of
/// its parameters; every function has one too.
#[test]
fn every_stdlib_model_parameter_and_function_is_documented() {
    let mut missing = Vec::new();
    for (module, _) in ito::stdlib::modules() {
        let c = compile_module(module);
        for f in &c.program.functions {
            if f.doc.is_none() {
                missing.push(format!("{module}: fn {}", f.name));
            }
        }
        for m in &c.program.models {
            if m.doc.as_deref().is_none_or(|d| d.len() < 80) {
                missing.push(format!("{module}: model {} (doc missing or short)", m.name));
            }
            for p in &m.params {
                if p.doc.is_none() {
                    missing.push(format!("{module}: {} param {}", m.name, p.name));
                }
            }
        }
    }
    assert!(missing.is_empty(), "undocumented:\n{}", missing.join("\n"));
}

/// All stdlib modules can be imported into one file at once: no function name is defined
/// by two modules (that would be E0102), and the functions are callable.
#[test]
fn all_stdlib_modules_import_together() {
    let mut text = String::from("// every stdlib module at once\n");
    for (module, _) in ito::stdlib::modules() {
        text.push_str(&format!("import \"{module}\"\n"));
    }
    text.push_str(
        "model Uses {\n  param k: real<lower=0> = 1.0\n  state x = 0.5\n  \
         dx = k * (clamp(hill(x, 1, 2), 0, 1) - hill_repression(x, 1, 2)) dt\n}\n",
    );
    let c = compile_source("all.sde", &text, &Options::default());
    assert!(
        c.diagnostics.is_empty(),
        "{}",
        render_all(&c.diagnostics, &c.sources, false)
    );
    let names: Vec<&str> = c
        .program
        .functions
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    for f in ["hill", "clamp", "hill_repression", "michaelis_menten"] {
        assert!(names.contains(&f), "{f} not imported: {names:?}");
    }
}
