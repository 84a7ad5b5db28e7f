//! `ito filter` end to end: the report, the CSV and plot, reproducibility across threads,
//! jump-process particles (exact methods agree; events fire once across observation times),
//! and clear errors.

use std::path::{Path, PathBuf};

#[path = "common/cli.rs"]
mod cli;
use cli::{assert_clean_failure, ito, stdout};

fn scratch_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("cli_filter")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

const OU: &str = "examples/ou_observed.sde";
const OU_DATA: &str = "examples/ou_observed.data.json";
const SIR: &str = "examples/sir_cases.sde";
const SIR_DATA: &str = "examples/sir_cases.data.json";

/// The printed log-likelihood estimate.
fn estimate(text: &str) -> f64 {
    let line = text
        .lines()
        .find(|l| l.starts_with("log-likelihood estimate:"))
        .unwrap_or_else(|| panic!("no estimate in:\n{text}"));
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

/// The CSV's header and rows.
fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(String::from).collect();
    let rows = lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    (header, rows)
}

fn column(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

#[test]
fn report_table_csv_and_plot() {
    let dir = scratch_dir("report");
    let (csv1, csv2, svg) = (dir.join("a.csv"), dir.join("b.csv"), dir.join("f.svg"));
    let args = |out: &Path, threads: &str| {
        ito(&[
            "filter",
            OU,
            "--data",
            OU_DATA,
            "--particles",
            "400",
            "--seed",
            "9",
            "--threads",
            threads,
            "--out",
            s(out),
        ])
    };
    let one = args(&csv1, "1");
    let two = args(&csv2, "2");
    assert!(one.status.success(), "{}", cli::stderr(&one));
    assert!(two.status.success());
    // The same numbers for any thread count.
    assert_eq!(
        std::fs::read_to_string(&csv1).unwrap(),
        std::fs::read_to_string(&csv2).unwrap()
    );
    let printed = estimate(&stdout(&one));
    assert_eq!(printed, estimate(&stdout(&two)));
    let (header, rows) = read_csv(&csv1);
    assert_eq!(rows.len(), 51, "one row per observation time");
    let (t, ess, ll) = (
        column(&header, "time"),
        column(&header, "ess"),
        column(&header, "log_likelihood"),
    );
    let (q05, q50, q95, mean) = (
        column(&header, "x_q05"),
        column(&header, "x_q50"),
        column(&header, "x_q95"),
        column(&header, "x_mean"),
    );
    column(&header, "y");
    let mut total = 0.0;
    for (k, row) in rows.iter().enumerate() {
        let num = |c: usize| row[c].parse::<f64>().unwrap();
        assert_eq!(num(t), k as f64);
        assert!(num(ess) > 0.0 && num(ess) <= 400.0 + 1e-9);
        assert!(
            num(q05) <= num(q50) && num(q50) <= num(q95),
            "row {k}: {row:?}"
        );
        assert!(num(q05) <= num(mean) && num(mean) <= num(q95));
        total += num(ll);
    }
    // The estimate is the sum of the increments (printed to 4 decimals).
    assert!((total - printed).abs() < 1e-4, "{total} vs {printed}");

    // Without --out: the table on stdout; --plot draws an SVG.
    let o = ito(&[
        "filter",
        OU,
        "--data",
        OU_DATA,
        "--particles",
        "200",
        "--seed",
        "9",
        "--plot",
        s(&svg),
    ]);
    assert!(o.status.success());
    let text = stdout(&o);
    assert!(text.contains("bootstrap filter, 200 particles"), "{text}");
    assert!(text.contains("resampled at"), "{text}");
    assert!(text.contains("x mean [5%, 95%]"), "{text}");
    let picture = std::fs::read_to_string(&svg).unwrap();
    assert!(picture.starts_with("<svg") && picture.contains("filtering mean"));
}

#[test]
fn repeat_reports_the_spread_of_estimates() {
    let o = ito(&[
        "filter",
        OU,
        "--data",
        OU_DATA,
        "--particles",
        "100",
        "--seed",
        "4",
        "--repeat",
        "6",
    ]);
    assert!(o.status.success(), "{}", cli::stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("log-likelihood over 6 runs: mean"), "{text}");
    assert!(text.contains("near sd 1.2"), "{text}");
}

/// Mean and standard error of the estimates of `runs` independent filters.
fn repeated(file: &str, data: &str, method: &str, particles: &str, runs: usize) -> (f64, f64) {
    let o = ito(&[
        "filter",
        file,
        "--data",
        data,
        "--method",
        method,
        "--particles",
        particles,
        "--seed",
        "12",
        "--repeat",
        &runs.to_string(),
    ]);
    assert!(o.status.success(), "{}", cli::stderr(&o));
    let text = stdout(&o);
    let line = text
        .lines()
        .find(|l| l.starts_with("log-likelihood over"))
        .unwrap();
    let field = |name: &str| -> f64 {
        let at = line.find(name).unwrap() + name.len();
        line[at..]
            .split([',', ' '])
            .find(|w| !w.is_empty())
            .unwrap()
            .parse()
            .unwrap()
    };
    (field("mean "), field("sd ") / (runs as f64).sqrt())
}

/// The exact methods simulate the same process: their log-likelihood estimates agree
/// within their Monte Carlo errors (a wrong propagation between observation times would
/// shift one of them).
#[test]
fn exact_jump_methods_agree() {
    let (ssa, se_ssa) = repeated(SIR, SIR_DATA, "ssa", "300", 20);
    let (nrm, se_nrm) = repeated(SIR, SIR_DATA, "nrm", "300", 20);
    let se = (se_ssa * se_ssa + se_nrm * se_nrm).sqrt();
    assert!(
        (ssa - nrm).abs() < 4.5 * se,
        "ssa {ssa} vs nrm {nrm} ± {se}"
    );
    // tau-leaping and the CLE run too (approximations: not compared).
    for method in ["tau", "cle"] {
        let o = ito(&[
            "filter",
            SIR,
            "--data",
            SIR_DATA,
            "--method",
            method,
            "--particles",
            "200",
            "--seed",
            "1",
        ]);
        assert!(o.status.success(), "{method}: {}", cli::stderr(&o));
        assert!(estimate(&stdout(&o)).is_finite());
    }
}

/// A dose at t = 2, an observation time: it fires once, before the observation at 2, and
/// not again when the particles continue from 2.
#[test]
fn events_fire_once_across_observation_times() {
    let dir = scratch_dir("events");
    let model = dir.join("dose.sde");
    std::fs::write(
        &model,
        "model Dose {
           param k = 0.001
           obs y: real
           species A = 10
           reactions { decay: A -> 0 @ k }
           at t = 2 { A += 100 }
           y ~ Normal(A, 1)
         }",
    )
    .unwrap();
    let data = dir.join("dose.json");
    std::fs::write(&data, r#"{"t": [1, 2, 3, 4], "y": [10, 110, 110, 110]}"#).unwrap();
    let out = dir.join("dose.csv");
    let o = ito(&[
        "filter",
        s(&model),
        "--data",
        s(&data),
        "--particles",
        "200",
        "--seed",
        "3",
        "--out",
        s(&out),
    ]);
    assert!(o.status.success(), "{}", cli::stderr(&o));
    let (header, rows) = read_csv(&out);
    let mean = column(&header, "A_mean");
    let means: Vec<f64> = rows.iter().map(|r| r[mean].parse().unwrap()).collect();
    // Decay at rate 0.001 takes about 0.4 molecules over 4 time units.
    for (m, want) in means.iter().zip([10.0, 110.0, 110.0, 110.0]) {
        assert!((m - want).abs() < 1.0, "{means:?}");
    }
}

#[test]
fn clear_errors() {
    let dir = scratch_dir("errors");
    let run = |extra: &[&str]| {
        let mut args = vec!["filter", OU, "--data", OU_DATA];
        args.extend_from_slice(extra);
        ito(&args)
    };
    assert_clean_failure(
        &run(&["--particles", "0"]),
        "--particles must be at least 1",
    );
    assert_clean_failure(&run(&["--ess-threshold", "2"]), "--ess-threshold");
    assert_clean_failure(&run(&["--dt", "0"]), "--dt must be a positive number");
    let bad_out = dir.join("x.txt");
    assert_clean_failure(&run(&["--out", s(&bad_out)]), "must end in .csv");
    assert_clean_failure(&run(&["--method", "ssa"]), "SDE");
    // Not a state-space model.
    assert_clean_failure(
        &ito(&["filter", "examples/ou.sde", "--data", OU_DATA]),
        "is not a state-space model",
    );
    // No series.
    assert_clean_failure(&ito(&["filter", OU]), "`t`");
    // Milstein on noise that does not commute.
    let model = dir.join("noncommuting.sde");
    std::fs::write(
        &model,
        "model NC {
           obs y: real
           state x = 1.0
           state z = 1.0
           noise W: real[2]
           dx = -x dt + x dW[1] + z dW[2]
           dz = -z dt + x dW[2]
           y ~ Normal(x, 1)
         }",
    )
    .unwrap();
    let series = dir.join("nc.json");
    std::fs::write(&series, r#"{"t": [1, 2], "y": [1, 1]}"#).unwrap();
    assert_clean_failure(
        &ito(&[
            "filter",
            s(&model),
            "--data",
            s(&series),
            "--method",
            "milstein",
        ]),
        "needs commutative noise",
    );
    // A series no particle can explain: more reported cases than people.
    let model = dir.join("binomial.sde");
    std::fs::write(
        &model,
        "model Reported {
           param rho = 0.5
           obs cases: int<lower=0>
           species I = 20
           reactions { recovery: I -> 0 @ 0.1 }
           cases ~ Binomial(I, rho)
         }",
    )
    .unwrap();
    let impossible = dir.join("impossible.json");
    std::fs::write(&impossible, r#"{"t": [1, 2], "cases": [5, 30]}"#).unwrap();
    assert_clean_failure(
        &ito(&[
            "filter",
            s(&model),
            "--data",
            s(&impossible),
            "--particles",
            "50",
        ]),
        "every particle has zero weight at observation 2 (t = 2)",
    );
}
