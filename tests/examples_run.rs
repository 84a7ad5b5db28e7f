//! Every example runs. Each model of each file in `examples/` goes through the command its
//! kind calls for, with small settings, and must succeed and write only finite numbers:
//!
//! * dynamics (SDE, ODE, jump process, jump-diffusion): `ito run`, 10 paths to t = 1 (with
//!   `FILE.data.json` when there is one); a model that also declares a target is sampled
//!   too;
//! * a target (`potential`, `energy`): `ito sample`, one chain of 50 + 50 iterations;
//! * a graphical model: `ito infer` on `FILE.data.json`, one chain of 50 + 50 iterations;
//! * a state-space model: `ito filter` on `FILE.data.json` with 50 particles.
//!
//! A model these rules cannot run (a graphical or state-space model without a data file)
//! fails the test, so that no example is added without being run.

use ito::check::model::{LetRole, Model, ModelKind};
use ito::diag::render_all;
use ito::frontend::{Options, compile_file};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn example_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir("examples")
        .expect("examples/ exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "sde"))
        .collect();
    files.sort();
    files
}

/// `examples/NAME.data.json`, if it exists.
fn data_file(path: &Path) -> Option<PathBuf> {
    let data = path.with_extension("data.json");
    data.exists().then_some(data)
}

fn has_target(m: &Model) -> bool {
    m.lets
        .iter()
        .any(|l| matches!(l.role, LetRole::Potential | LetRole::Energy))
}

/// The `ito` invocations that run model `m` of `path`, writing to files in `dir`; an error
/// says why the model cannot be run.
fn invocations(path: &Path, m: &Model, dir: &Path) -> Result<Vec<Vec<String>>, String> {
    let file = path.to_str().unwrap().to_string();
    let stem = path.file_stem().unwrap().to_str().unwrap();
    let out = |what: &str| {
        dir.join(format!("{stem}_{}_{what}.csv", m.name))
            .to_str()
            .unwrap()
            .to_string()
    };
    let data = data_file(path).map(|d| d.to_str().unwrap().to_string());
    let needs_data = |what: &str| {
        data.clone().ok_or_else(|| {
            format!(
                "{what} model `{}` of {file} has no {stem}.data.json to run on",
                m.name
            )
        })
    };
    let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let base = |cmd: &str| args(&[cmd, &file, "--model", &m.name, "--seed", "1"]);
    let iterations = args(&["--draws", "50", "--warmup", "50", "--chains", "1"]);
    let sample = {
        let mut a = base("sample");
        a.extend(iterations.clone());
        a.extend(args(&["--threads", "1", "--out", &out("sample")]));
        a
    };
    let runs = match m.kind {
        ModelKind::Dynamic(_) => {
            let mut run = base("run");
            run.extend(args(&["--paths", "10", "--t-end", "1", "--threads", "1"]));
            run.extend(args(&["--out", &out("run")]));
            if let Some(d) = &data {
                run.extend(args(&["--data", d]));
            }
            let mut runs = vec![run];
            if has_target(m) {
                runs.push(sample);
            }
            runs
        }
        ModelKind::Target => vec![sample],
        ModelKind::Graphical => {
            let d = needs_data("graphical")?;
            let mut infer = base("infer");
            infer.extend(iterations);
            infer.extend(args(&["--data", &d, "--threads", "1"]));
            infer.extend(args(&["--out", &out("infer")]));
            vec![infer]
        }
        ModelKind::StateSpace(_) => {
            let d = needs_data("state-space")?;
            let mut filter = base("filter");
            filter.extend(args(&["--data", &d, "--particles", "50", "--threads", "1"]));
            filter.extend(args(&["--out", &out("filter")]));
            vec![filter]
        }
    };
    Ok(runs)
}

/// The file after `--out`: a CSV whose non-comment cells are all finite numbers (empty
/// cells are allowed: missing observations in a filter's output). Returns the number of
/// data rows.
fn check_finite_csv(path: &str) -> Result<usize, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let mut lines = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty());
    let header: Vec<&str> = lines.next().ok_or("no header")?.split(',').collect();
    let mut rows = 0;
    for (r, line) in lines.enumerate() {
        for (c, cell) in line.split(',').enumerate() {
            if cell.is_empty() {
                continue;
            }
            let column = header.get(c).copied().unwrap_or("?");
            // Long-form `ito run` files have a text column naming the variable.
            if column == "variable" {
                continue;
            }
            match cell.parse::<f64>() {
                Ok(v) if v.is_finite() => {}
                _ => return Err(format!("row {} column `{column}` is {cell:?}", r + 1)),
            }
        }
        rows += 1;
    }
    if rows == 0 {
        return Err(format!("{path} has no rows"));
    }
    Ok(rows)
}

#[test]
fn every_example_runs_with_small_settings() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("examples_run");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    let files = example_files();
    assert!(files.len() >= 40, "found only {} examples", files.len());
    let mut failures = Vec::new();
    let mut timings = Vec::new();
    let mut ran = 0;
    for path in &files {
        let c = compile_file(path, &Options::default());
        assert!(
            c.diagnostics.is_empty(),
            "{}:\n{}",
            path.display(),
            render_all(&c.diagnostics, &c.sources, false)
        );
        for m in &c.program.models {
            let runs = match invocations(path, m, &dir) {
                Ok(runs) => runs,
                Err(why) => {
                    failures.push(why);
                    continue;
                }
            };
            for args in runs {
                let start = Instant::now();
                let o = Command::new(env!("CARGO_BIN_EXE_ito"))
                    .args(&args)
                    .output()
                    .expect("the ito binary runs");
                timings.push((start.elapsed().as_secs_f64(), args.join(" ")));
                let shown = format!("ito {}", args.join(" "));
                if !o.status.success() {
                    failures.push(format!(
                        "{shown}\nexited with {:?}:\n{}",
                        o.status.code(),
                        String::from_utf8_lossy(&o.stderr)
                    ));
                    continue;
                }
                let out = &args[args.iter().position(|a| a == "--out").unwrap() + 1];
                match check_finite_csv(out) {
                    Ok(_) => ran += 1,
                    Err(e) => failures.push(format!("{shown}\nwrote a bad file: {e}")),
                }
            }
        }
    }
    timings.sort_by(|a, b| b.0.total_cmp(&a.0));
    let total: f64 = timings.iter().map(|t| t.0).sum();
    eprintln!("{ran} runs in {total:.1} s; the slowest:");
    for (secs, args) in timings.iter().take(5) {
        eprintln!("  {secs:6.2} s  ito {args}");
    }
    assert!(
        failures.is_empty(),
        "{} of the example runs failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// A graphical or state-space model without a data file cannot be run by these rules, and
/// says so (the test above then fails).
#[test]
fn a_model_without_its_data_file_is_refused() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("examples_run_refused");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text, kind) in [
        (
            "graphical.sde",
            "// g\nmodel G {\n  data y: real\n  param mu ~ Normal(0, 1)\n  y ~ Normal(mu, 1)\n}\n",
            "graphical",
        ),
        (
            "observed.sde",
            "// s\nmodel S {\n  obs y: real\n  state x = 0.0\n  dx = -x dt + dW\n  y ~ Normal(x, 1)\n}\n",
            "state-space",
        ),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let c = compile_file(&path, &Options::default());
        assert!(c.diagnostics.is_empty(), "{name}");
        let why = invocations(&path, &c.program.models[0], &dir).unwrap_err();
        assert!(why.starts_with(kind) && why.contains(".data.json"), "{why}");
    }
}
