//! `ito run --data FILE`: models whose data are arrays bind from JSON and CSV files, and bad
//! data files or values get clear errors (exit code 1, never a panic) naming the variable.

use std::path::{Path, PathBuf};

#[path = "common/cli.rs"]
mod cli;
use cli::{assert_clean_failure, ito, stderr};

/// Each of `m` pulls its component of the state: the ODE relaxes `x` to `m`.
const RELAX: &str = "
model Relax {
  data N: int<lower=1>
  data m: real[N]
  data w: real<lower=0>[N]
  param k: real<lower=0>[N] = 1.0
  state x: real[N] = 0
  dx = -k * w * (x - m) dt
}
";

/// A fresh scratch directory under the test target directory, holding the model.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("cli_data")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("relax.sde"), RELAX).unwrap();
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Run the model with `data` (written to `file` in `dir`) and `extra` arguments.
fn run(dir: &Path, file: &str, data: &str, extra: &[&str]) -> std::process::Output {
    let data_path = dir.join(file);
    std::fs::write(&data_path, data).unwrap();
    let model = dir.join("relax.sde");
    let mut args = vec!["run", s(&model), "--data", s(&data_path)];
    args.extend(extra);
    ito(&args)
}

/// The state at the last recording time of a wide CSV file.
fn final_state(csv: &Path) -> Vec<f64> {
    let text = std::fs::read_to_string(csv).unwrap();
    let last = text.lines().rfind(|l| !l.starts_with('#')).unwrap();
    last.split(',')
        .skip(2)
        .map(|v| v.parse().unwrap())
        .collect()
}

fn assert_near(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{got:?}");
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-4, "{got:?} vs {want:?}");
    }
}

#[test]
fn json_data_arrays_drive_the_model() {
    let dir = scratch_dir("json");
    let out = dir.join("paths.csv");
    let data = r#"{"N": 3, "m": [1, 2, 3], "w": [1, 1, 2], "note": 7}"#;
    let o = run(
        &dir,
        "d.json",
        data,
        &["--t-end", "20", "--out", s(&out), "--wide"],
    );
    assert_eq!(o.status.code(), Some(0), "stderr:\n{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("path,time,x[1],x[2],x[3]"), "{text}");
    assert_near(&final_state(&out), &[1.0, 2.0, 3.0]);
    let err = stderr(&o);
    assert!(
        err.contains(
            "note: model `Relax` has no data named `note`; the data file's value is ignored"
        ),
        "{err}"
    );
}

#[test]
fn csv_columns_bind_and_n_comes_from_their_length() {
    let dir = scratch_dir("csv");
    let out = dir.join("paths.csv");
    let o = run(
        &dir,
        "d.csv",
        "m,w\n-1,1\n4,2\n",
        &["--t-end", "20", "--out", s(&out), "--wide"],
    );
    assert_eq!(o.status.code(), Some(0), "stderr:\n{}", stderr(&o));
    assert_near(&final_state(&out), &[-1.0, 4.0]);
}

#[test]
fn set_overrides_the_data_file() {
    let dir = scratch_dir("set");
    let out = dir.join("paths.csv");
    let data = r#"{"N": 2, "m": [1, 2], "w": [1, 1]}"#;
    let args = [
        "--t-end",
        "20",
        "--out",
        s(&out),
        "--wide",
        "--set",
        "m=[5, 6]",
    ];
    let o = run(&dir, "d.json", data, &args);
    assert_eq!(o.status.code(), Some(0), "stderr:\n{}", stderr(&o));
    assert_near(&final_state(&out), &[5.0, 6.0]);
}

#[test]
fn bad_data_gets_a_clear_error() {
    let dir = scratch_dir("errors");
    let cases: &[(&str, &str, &[&str])] = &[
        ("d.json", r#"{"N": 3, "m": [1, 2], "w": [1, 1, 1]}"#, &[]),
        (
            "d.json",
            r#"{"N": 2, "m": [[1, 2], [3, 4]], "w": [1, 1]}"#,
            &[],
        ),
        ("d.json", r#"{"N": 2.5, "m": [1, 2], "w": [1, 1]}"#, &[]),
        ("d.json", r#"{"N": 2, "m": [1, 2], "w": [1, -1]}"#, &[]),
        ("d.json", r#"{"N": 2, "m": [1, 2]}"#, &[]),
        ("d.json", r#"{"N": 2, "m": [1, [2]], "w": [1, 1]}"#, &[]),
        ("d.json", r#"{"N": 2, "m": [1, "x"], "w": [1, 1]}"#, &[]),
        (
            "d.json",
            r#"{"N": 2, "m": [1, 2], "w": [1, 1]}"#,
            &["--set", "k=[1]"],
        ),
        ("d.json", "{\"N\": 2,", &[]),
        ("d.json", r#"{"N": 2, "m": [1, null], "w": [1, 1]}"#, &[]),
        ("d.json", r#"{"N": null, "m": [1, 2], "w": [1, 1]}"#, &[]),
        ("d.csv", "m,w\n1,2\n3,\n", &[]),
        ("d.csv", "m,w\n1,2\n3,x\n", &[]),
        ("d.csv", "m,w\n1,2\nNA,1\n", &[]),
        ("d.txt", "N=2", &[]),
    ];
    let mut seen = String::new();
    for (file, data, extra) in cases {
        let o = run(&dir, file, data, extra);
        let err = stderr(&o);
        let line = err
            .lines()
            .find(|l| l.starts_with("error"))
            .unwrap_or_else(|| panic!("no error for {data}:\n{err}"));
        assert_clean_failure(&o, line);
        let shown = line.replace(&format!("{}/", dir.display()), "");
        let data = data.replace('\n', "\\n");
        seen += &format!("{file}: {data} {extra:?}\n  {shown}\n");
    }
    insta::assert_snapshot!(seen);
}

#[test]
fn missing_data_says_how_to_give_it() {
    let dir = scratch_dir("missing");
    let model = dir.join("relax.sde");
    let o = ito(&["run", s(&model)]);
    assert_clean_failure(
        &o,
        "data `N` has no value: give a data file with --data, or --set N=…",
    );
    let o = ito(&["run", s(&model), "--set", "N=2"]);
    assert_clean_failure(
        &o,
        "data `m` is missing: give the model's data with --data FILE",
    );
    let o = ito(&["run", s(&model), "--data", s(&dir.join("nope.json"))]);
    assert_clean_failure(&o, "cannot read the data file");
}
