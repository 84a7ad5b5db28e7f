//! Observed series of state-space models: `t` and the `obs` bound from JSON and CSV data files
//! (missing values kept as NaN, every error naming the variable, element and time), several
//! `--data` files merged, and `ito run --observations` drawing a series that reads back, with
//! the law its observation models say.

use ito::frontend::{Compilation, Options, compile_source};
use ito::sim::bind;
use ito::sim::data::DataSet;
use ito::sim::observations::{ObsSeries, bind_observations};
use ito::sim::prepare;
use std::path::{Path, PathBuf};

#[path = "common/cli.rs"]
mod cli;
use cli::{assert_clean_failure, ito, stderr};

/// Scalar observations (one `int` with a bound), and an array one whose size is data.
const SERIES: &str = "
model Series {
  data K: int<lower=1>
  param s = 0.5
  obs n: int<lower=0>
  obs y: real[K]
  obs z: real
  state x = 1
  dx = -x dt + s dW
  n ~ Poisson(exp(x))
  y ~ Normal(x, s)
  z ~ Normal(x, s)
}
";

/// A fresh scratch directory under the test target directory.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("cli_observations")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn compile(src: &str) -> Compilation {
    let c = compile_source("test.sde", src, &Options::default());
    assert!(
        !c.has_errors(),
        "{}",
        ito::diag::render_all(&c.diagnostics, &c.sources, false)
    );
    c
}

/// Write each `(name, text)` to `dir` and read them all as one data set.
fn data_files(dir: &Path, files: &[(&str, &str)]) -> Result<DataSet, String> {
    let paths: Vec<PathBuf> = files
        .iter()
        .map(|(name, text)| {
            let p = dir.join(name);
            std::fs::write(&p, text).unwrap();
            p
        })
        .collect();
    DataSet::read_all(&paths)
}

/// Bind the only model of `c` to `data` and its observed series.
fn series(c: &Compilation, data: &DataSet) -> Result<ObsSeries, String> {
    let m = prepare::pick(c, None)?;
    let lm = prepare::lowered(c, m)?;
    let bound = bind::bind(lm, m, &[], data)?;
    bind_observations(lm, m, &bound, data)
}

/// A row with NaN shown as `None`, so rows compare with `assert_eq!`.
fn opt(row: &[f64]) -> Vec<Option<f64>> {
    row.iter().map(|v| (!v.is_nan()).then_some(*v)).collect()
}

#[test]
fn json_series_binds_in_the_observe_layout() {
    let dir = scratch("json");
    let c = compile(SERIES);
    let data = data_files(
        &dir,
        &[(
            "d.json",
            r#"{"K": 2, "t": [0.5, 1, 2.25], "n": [3, null, 5],
                "y": [[1.5, 2], [null, 4], null], "z": [0.1, 0.2, null]}"#,
        )],
    )
    .unwrap();
    let got = series(&c, &data).unwrap();
    assert_eq!(got.times, [0.5, 1.0, 2.25]);
    // Scalars first (n, z), then y: the `observe` kernel's layout.
    assert_eq!(got.names, ["n", "z", "y[1]", "y[2]"]);
    assert_eq!(got.width, 4);
    assert_eq!(got.len(), 3);
    assert_eq!(
        opt(got.row(0)),
        [Some(3.0), Some(0.1), Some(1.5), Some(2.0)]
    );
    assert_eq!(opt(got.row(1)), [None, Some(0.2), None, Some(4.0)]);
    assert_eq!(opt(got.row(2)), [Some(5.0), None, None, None]);
    assert_eq!(got.rows.len(), 12);
}

#[test]
fn csv_series_binds_like_json() {
    let dir = scratch("csv");
    let c = compile(SERIES);
    let csv = "# a comment\nt,n,y[1],y[2],z\n0.5,3,1.5,2,0.1\n1,NA,,4,0.2\n2.25,5,NA,NA,\n";
    // K from a JSON file, the series from a CSV file.
    let data = data_files(&dir, &[("k.json", r#"{"K": 2}"#), ("series.csv", csv)]).unwrap();
    let from_csv = series(&c, &data).unwrap();
    let data = data_files(
        &dir,
        &[(
            "d.json",
            r#"{"K": 2, "t": [0.5, 1, 2.25], "n": [3, null, 5],
                "y": [[1.5, 2], [null, 4], null], "z": [0.1, 0.2, null]}"#,
        )],
    )
    .unwrap();
    let from_json = series(&c, &data).unwrap();
    assert_eq!(from_csv.times, from_json.times);
    assert_eq!(from_csv.names, from_json.names);
    for k in 0..3 {
        assert_eq!(opt(from_csv.row(k)), opt(from_json.row(k)), "row {k}");
    }
    // `time` is accepted for `t`.
    let data = data_files(
        &dir,
        &[
            ("d.csv", "time,n,y[1],y[2],z\n0,1,2,3,4\n"),
            ("k.json", r#"{"K": 2}"#),
        ],
    )
    .unwrap();
    let got = series(&c, &data).unwrap();
    assert_eq!(got.times, [0.0]);
    assert_eq!(got.row(0), [1.0, 4.0, 2.0, 3.0]);
}

/// Every way an observed series can be wrong, each with a message naming what and where.
#[test]
fn series_errors_name_the_variable_and_the_time() {
    let dir = scratch("errors");
    let c = compile(SERIES);
    let ok_y = r#""y": [[1, 2], [3, 4], [5, 6]]"#;
    let cases: Vec<(&str, String)> = vec![
        ("d.json", format!(r#"{{"K": 2, "n": [1, 2, 3], {ok_y}, "z": [1, 2, 3]}}"#)),
        ("d.json", format!(r#"{{"K": 2, "t": [1, 2, 2], "n": [1, 2, 3], {ok_y}, "z": [1, 2, 3]}}"#)),
        ("d.json", format!(r#"{{"K": 2, "t": [-1, 2, 3], "n": [1, 2, 3], {ok_y}, "z": [1, 2, 3]}}"#)),
        ("d.json", format!(r#"{{"K": 2, "t": [1, null, 3], "n": [1, 2, 3], {ok_y}, "z": [1, 2, 3]}}"#)),
        ("d.json", format!(r#"{{"K": 2, "t": 3, "n": [1, 2, 3], {ok_y}, "z": [1, 2, 3]}}"#)),
        ("d.json", format!(r#"{{"K": 2, "t": [[1, 2, 3]], "n": [1, 2, 3], {ok_y}, "z": [1, 2, 3]}}"#)),
        ("d.json", r#"{"K": 2, "t": [], "n": [], "y": [], "z": []}"#.to_string()),
        ("d.json", format!(r#"{{"K": 2, "t": [1, 2, 3], "time": [1, 2, 3], "n": [1, 2, 3], {ok_y}, "z": [1, 2, 3]}}"#)),
        ("d.json", format!(r#"{{"K": 2, "t": [1, 2, 3], "n": [1, 2, 3], {ok_y}}}"#)),
        ("d.json", format!(r#"{{"K": 2, "t": [1, 2, 3], "n": [1, 2], {ok_y}, "z": [1, 2, 3]}}"#)),
        ("d.json", format!(r#"{{"K": 2, "t": [1, 2, 3], "n": 1, {ok_y}, "z": [1, 2, 3]}}"#)),
        ("d.json", r#"{"K": 2, "t": [1, 2, 3], "n": [1, 2, 3], "y": [[1, 2, 0], [3, 4, 0], [5, 6, 0]], "z": [1, 2, 3]}"#.to_string()),
        ("d.json", r#"{"K": 2, "t": [1, 2, 3], "n": [1, 2, 3], "y": [1, 2, 3], "z": [1, 2, 3]}"#.to_string()),
        ("d.json", format!(r#"{{"K": 2, "t": [1, 2, 3], "n": [[1], [2], [3]], {ok_y}, "z": [1, 2, 3]}}"#)),
        ("d.json", format!(r#"{{"K": 2, "t": [1, 2, 3], "n": [1, 2.5, 3], {ok_y}, "z": [1, 2, 3]}}"#)),
        ("d.json", format!(r#"{{"K": 2, "t": [1, 2, 3], "n": [1, null, -3], {ok_y}, "z": [1, 2, 3]}}"#)),
        ("d.json", format!(r#"{{"K": null, "t": [1, 2, 3], "n": [1, 2, 3], {ok_y}, "z": [1, 2, 3]}}"#)),
        ("d.csv", "t,n,y.1,y.2,z\n1,1,2,3,4\n".to_string()),
    ];
    let mut seen = String::new();
    for (file, text) in &cases {
        // K for the CSV case comes from a second file.
        let files: Vec<(&str, &str)> = if file.ends_with(".csv") {
            vec![(file, text), ("k.json", r#"{"K": 2}"#)]
        } else {
            vec![(file, text)]
        };
        let e = data_files(&dir, &files)
            .and_then(|d| series(&c, &d))
            .expect_err(text);
        let e = e.replace(&format!("{}/", dir.display()), "");
        seen += &format!("{}\n  {e}\n", text.replace('\n', "\\n"));
    }
    // No data file at all: for the data, then (a model without data) for the series; a model
    // without `obs`.
    let e = series(&c, &DataSet::default()).unwrap_err();
    seen += &format!("no data file\n  {e}\n");
    let no_data = compile(&SERIES.replace("data K: int<lower=1>", "const K = 2"));
    let e = series(&no_data, &DataSet::default()).unwrap_err();
    seen += &format!("no data file, no data declared\n  {e}\n");
    let plain = compile("model Plain { state x = 1\n dx = -x dt }");
    let e = series(&plain, &DataSet::default()).unwrap_err();
    seen += &format!("model without obs\n  {e}\n");
    insta::assert_snapshot!(seen);
}

#[test]
fn data_files_merge_and_a_name_given_twice_is_an_error() {
    let dir = scratch("merge");
    let model = dir.join("series.sde");
    std::fs::write(&model, SERIES).unwrap();
    std::fs::write(dir.join("k.json"), r#"{"K": 2}"#).unwrap();
    std::fs::write(dir.join("obs.csv"), "t,n,y[1],y[2],z\n1,1,2,3,4\n2,NA,,,\n").unwrap();
    std::fs::write(dir.join("again.json"), r#"{"K": 3, "s2": 1}"#).unwrap();
    let run = |files: &[&str]| {
        let mut args: Vec<String> = [
            "run",
            s(&model),
            "--paths",
            "3",
            "--seed",
            "1",
            "--t-end",
            "1",
        ]
        .map(String::from)
        .to_vec();
        for f in files {
            args.push("--data".into());
            args.push(s(&dir.join(f)).to_string());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        ito(&args)
    };
    // A simulation with the series in its data runs, and says nothing of `t`, `n`, `y`, `z`
    // as unused: they are the model's observations.
    let o = run(&["k.json", "obs.csv"]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(!err.contains("note:"), "{err}");
    // A name the model does not know still gets the note.
    std::fs::write(dir.join("extra.json"), r#"{"K": 2, "kk": 1}"#).unwrap();
    let o = run(&["extra.json", "obs.csv"]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("note: model `Series` has no data named `kk`"),
        "{err}"
    );
    let o = run(&["k.json", "obs.csv", "again.json"]);
    assert_clean_failure(
        &o,
        &format!(
            "error: `K` is given twice: by the data file {} and by the data file {}",
            dir.join("k.json").display(),
            dir.join("again.json").display()
        ),
    );
    // Without the scalars: the message names the file, or both files.
    let o = run(&["obs.csv"]);
    assert_clean_failure(
        &o,
        &format!(
            "error: data `K` is missing: the data file {} has no `K`",
            dir.join("obs.csv").display()
        ),
    );
    std::fs::write(dir.join("s.json"), r#"{"s2": 1}"#).unwrap();
    let o = run(&["s.json", "obs.csv"]);
    assert_clean_failure(
        &o,
        &format!(
            "error: data `K` is missing: none of the data files {}, {} has `K`",
            dir.join("s.json").display(),
            dir.join("obs.csv").display()
        ),
    );
}

/// A series as `bind_observations` reads it back from data files, for model text `src`.
fn read_back(src: &str, files: &[PathBuf]) -> ObsSeries {
    let c = compile(src);
    let data = DataSet::read_all(files).unwrap();
    series(&c, &data).unwrap_or_else(|e| panic!("{e}"))
}

/// Run `ito` with `args`, which must succeed; its stderr.
fn ok(args: &[&str]) -> String {
    let o = ito(args);
    let err = stderr(&o);
    assert!(o.status.success(), "{args:?}:\n{err}");
    err
}

/// The recording times of `--every` over `--t-end` (multiples of Δ, then t-end).
fn grid(every: f64, t_end: f64) -> Vec<f64> {
    let n = (t_end / every - 1e-9).ceil() as usize;
    let mut t: Vec<f64> = (0..n).map(|k| k as f64 * every).collect();
    t.push(t_end);
    t
}

/// `ito run --observations`: JSON and CSV files of the same draw read back as the same
/// series at the recording times, integers as integers, an element no observation model
/// covers as missing; the same seed draws the same file, another seed another; `--out`
/// still writes the latent path beside it.
#[test]
fn drawn_observations_read_back() {
    let dir = scratch("round_trip");
    let src = SERIES.replace("y ~ Normal(x, s)", "y[1] ~ Normal(x, s)");
    let model = dir.join("series.sde");
    std::fs::write(&model, &src).unwrap();
    let k = dir.join("k.json");
    std::fs::write(&k, r#"{"K": 2}"#).unwrap();
    let run = |out: &Path, seed: &str| {
        let truth = dir.join("truth.csv");
        let err = ok(&[
            "run",
            s(&model),
            "--data",
            s(&k),
            "--paths",
            "1",
            "--seed",
            seed,
            "--every",
            "0.5",
            "--t-end",
            "3",
            "--observations",
            s(out),
            "--out",
            s(&truth),
        ]);
        assert!(truth.exists());
        err
    };
    let json = dir.join("o.json");
    let csv = dir.join("o.csv");
    let err = run(&json, "5");
    assert!(
        err.contains("note: no observation model covers `y[2]`; it is missing at every time"),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "wrote 7 observations of `n`, `y`, `z` to {}",
            json.display()
        )),
        "{err}"
    );
    run(&csv, "5");
    let a = read_back(&src, &[k.clone(), json.clone()]);
    let b = read_back(&src, &[k.clone(), csv.clone()]);
    assert_eq!(a.times, grid(0.5, 3.0));
    assert_eq!(a.times, b.times);
    assert_eq!(a.names, ["n", "z", "y[1]", "y[2]"]);
    for i in 0..a.len() {
        let (ra, rb) = (a.row(i), b.row(i));
        assert_eq!(opt(ra), opt(rb), "row {i}");
        assert!(ra[0] >= 0.0 && ra[0].fract() == 0.0, "n is a count: {ra:?}");
        assert!(ra[1].is_finite() && ra[2].is_finite(), "{ra:?}");
        assert!(ra[3].is_nan(), "y[2] is missing: {ra:?}");
    }
    // Counts are written as integers, missing values as null / an empty cell.
    let text = std::fs::read_to_string(&json).unwrap();
    let n_line = text.lines().find(|l| l.contains("\"n\"")).unwrap();
    assert!(!n_line.contains('.'), "{n_line}");
    assert!(text.contains(", null]"), "{text}");
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.contains("t,n,z,y[1],y[2]\n"), "{text}");
    assert!(
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .skip(1)
            .all(|l| l.ends_with(','))
    );
    // Reproducible from the seed; another seed draws other values.
    let again = dir.join("again.json");
    run(&again, "5");
    assert_eq!(
        std::fs::read(&json).unwrap(),
        std::fs::read(&again).unwrap()
    );
    let other = dir.join("other.json");
    run(&other, "6");
    assert_ne!(
        std::fs::read(&json).unwrap(),
        std::fs::read(&other).unwrap()
    );
}

/// Observations drawn from a known latent path have the law of their observation model:
/// an ODE with x(t) = t exactly, `y ~ Normal(x, 0.5)` and `c ~ Poisson(2 + x)` at 2001 times.
/// Means and second moments within 4.5 standard errors (fixed seed).
#[test]
fn drawn_observations_have_the_declared_law() {
    let dir = scratch("law");
    let src = "
model Known {
  obs y: real
  obs c: int<lower=0>
  state x = 0
  dx = 1 dt
  y ~ Normal(x, 0.5)
  c ~ Poisson(2 + x)
}
";
    let model = dir.join("known.sde");
    std::fs::write(&model, src).unwrap();
    let out = dir.join("o.json");
    ok(&[
        "run",
        s(&model),
        "--seed",
        "17",
        "--every",
        "0.01",
        "--t-end",
        "20",
        "--observations",
        s(&out),
    ]);
    let got = read_back(src, &[out]);
    let n = got.len() as f64;
    assert_eq!(got.len(), 2001);
    // Columns: y, c (declaration order among scalars).
    assert_eq!(got.names, ["y", "c"]);
    let resid: Vec<f64> = (0..got.len())
        .map(|k| got.row(k)[0] - got.times[k])
        .collect();
    let mean = resid.iter().sum::<f64>() / n;
    let sd = (resid.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    assert!(mean.abs() < 4.5 * 0.5 / n.sqrt(), "mean residual {mean}");
    assert!(
        (sd - 0.5).abs() < 4.5 * 0.5 / (2.0 * (n - 1.0)).sqrt(),
        "sd of the residuals {sd}"
    );
    let z: Vec<f64> = (0..got.len())
        .map(|k| {
            let lambda = 2.0 + got.times[k];
            (got.row(k)[1] - lambda) / lambda.sqrt()
        })
        .collect();
    let zm = z.iter().sum::<f64>() / n;
    let z2 = z.iter().map(|v| v * v).sum::<f64>() / n;
    assert!(zm.abs() < 4.5 / n.sqrt(), "standardised count mean {zm}");
    // Var(z²) = 2 + 1/λ ≤ 2.5 for a Poisson count with λ ≥ 2.
    assert!(
        (z2 - 1.0).abs() < 4.5 * (2.5 / n).sqrt(),
        "standardised count variance {z2}"
    );
}

/// The counts of a jump process observed binomially, against the path `--out` records at
/// the same times: standardised (c − 0.3 n) / √(0.3 · 0.7 · n) has mean 0 and variance 1.
#[test]
fn drawn_counts_of_a_jump_process_follow_its_recorded_path() {
    let dir = scratch("jumps");
    let src = "
model Counted {
  obs c: int<lower=0>
  species n = 50
  reactions {
    birth: 0 -> n @ 10
    death: n -> 0 @ 0.2
  }
  c ~ Binomial(n, 0.3)
}
";
    let model = dir.join("counted.sde");
    std::fs::write(&model, src).unwrap();
    let out = dir.join("o.csv");
    let truth = dir.join("truth.csv");
    ok(&[
        "run",
        s(&model),
        "--paths",
        "1",
        "--seed",
        "23",
        "--every",
        "0.5",
        "--t-end",
        "1000",
        "--observations",
        s(&out),
        "--out",
        s(&truth),
        "--wide",
    ]);
    let got = read_back(src, &[out]);
    let text = std::fs::read_to_string(&truth).unwrap();
    let mut rows = text.lines().filter(|l| !l.starts_with('#'));
    assert_eq!(rows.next(), Some("path,time,n"));
    let path: Vec<(f64, f64)> = rows
        .map(|l| {
            let v: Vec<f64> = l.split(',').map(|x| x.parse().unwrap()).collect();
            (v[1], v[2])
        })
        .collect();
    assert_eq!(path.len(), got.len());
    let mut z = Vec::new();
    for (k, &(t, count)) in path.iter().enumerate() {
        assert_eq!(t, got.times[k]);
        let c = got.row(k)[0];
        assert!(
            c >= 0.0 && c <= count && c.fract() == 0.0,
            "c = {c} of n = {count}"
        );
        z.push((c - 0.3 * count) / (0.21 * count).sqrt());
    }
    let n = z.len() as f64;
    let zm = z.iter().sum::<f64>() / n;
    let z2 = z.iter().map(|v| v * v).sum::<f64>() / n;
    assert!(zm.abs() < 4.5 / n.sqrt(), "mean {zm}");
    // Var(z²) = 2 + (1 − 6pq)/(npq) < 2.5 for n ≥ 10 (n stays near 50).
    assert!((z2 - 1.0).abs() < 4.5 * (2.5 / n).sqrt(), "variance {z2}");
}

/// Every SDE scheme and every exact jump-process method can draw observations.
#[test]
fn observations_from_every_method() {
    let dir = scratch("methods");
    let sde = dir.join("sde.sde");
    std::fs::write(
        &sde,
        "model S { param s = 0.3\n obs y: real\n state x = 1\n dx = -x dt + s dW\n y ~ Normal(x, 0.1) }",
    )
    .unwrap();
    let mjp = dir.join("mjp.sde");
    std::fs::write(
        &mjp,
        "model M { obs c: int\n species n = 20\n reactions { b: 0 -> n @ 5\n d: n -> 0 @ 0.25 }\n c ~ Poisson(n) }",
    )
    .unwrap();
    for (model, methods) in [
        (
            &sde,
            &["em", "milstein", "heun", "sra", "sri", "adaptive"][..],
        ),
        (&mjp, &["ssa", "nrm", "tau"][..]),
    ] {
        for method in methods {
            let out = dir.join(format!("{method}.json"));
            ok(&[
                "run",
                s(model),
                "--method",
                method,
                "--paths",
                "1",
                "--seed",
                "3",
                "--every",
                "0.25",
                "--t-end",
                "2",
                "--observations",
                s(&out),
            ]);
            let text = std::fs::read_to_string(&out).unwrap();
            let src = std::fs::read_to_string(model).unwrap();
            let got = read_back(&src, &[out]);
            assert_eq!(got.times, grid(0.25, 2.0), "{method}");
            assert!(got.rows.iter().all(|v| v.is_finite()), "{method}: {text}");
        }
    }
}

/// What `--observations` refuses, with the reason.
#[test]
fn observations_flag_errors() {
    let dir = scratch("flag_errors");
    let write = |name: &str, src: &str| {
        let p = dir.join(name);
        std::fs::write(&p, src).unwrap();
        p
    };
    let sde = write(
        "sde.sde",
        "model S { param s = 0.3\n obs y: real\n state x = 1\n dx = -x dt + s dW\n y ~ Normal(x, 0.1) }",
    );
    let plain = write("plain.sde", "model P { state x = 1\n dx = -x dt + 0.1 dW }");
    let unobserved = write(
        "unobserved.sde",
        "model U { obs y: real\n state x = 1\n dx = -x dt + 0.1 dW }",
    );
    let network = write(
        "network.sde",
        "model N { obs c: int\n species n = 20\n reactions { b: 0 -> n @ 5\n d: n -> 0 @ 0.25 }\n c ~ Poisson(n) }",
    );
    let categorical = write(
        "categorical.sde",
        "model C { obs g: int\n state x = 1\n dx = -x dt + 0.1 dW\n g ~ Categorical([0.5, 0.5]) }",
    );
    let event = write(
        "event.sde",
        "model E { param k = 1.0\n obs y: real\n state x = 1\n dx = -k * x dt + 0.1 dW\n at t = 1 { k = 2 }\n y ~ Normal(k * x, 0.1) }",
    );
    let out = dir.join("o.json");
    let o = s(&out);
    let txt = dir.join("o.txt");
    let cases: Vec<Vec<&str>> = vec![
        vec![s(&sde), "--paths", "2", "--observations", o],
        vec![s(&sde), "--observations", o],
        vec![s(&sde), "--paths", "1", "--observations", s(&txt)],
        vec![s(&plain), "--paths", "1", "--observations", o],
        vec![s(&unobserved), "--paths", "1", "--observations", o],
        vec![
            s(&network),
            "--paths",
            "1",
            "--method",
            "cle",
            "--observations",
            o,
        ],
        vec![s(&event), "--paths", "1", "--observations", o],
        vec![s(&categorical), "--paths", "1", "--observations", o],
    ];
    let mut seen = String::new();
    for args in cases {
        let mut full = vec!["run", "--seed", "1"];
        full.extend(&args);
        let o = ito(&full);
        let err = stderr(&o);
        let line = err
            .lines()
            .find(|l| l.starts_with("error"))
            .unwrap_or_else(|| panic!("no error for {args:?}:\n{err}"));
        assert_clean_failure(&o, line);
        let shown = |t: &str| t.replace(&format!("{}/", dir.display()), "");
        seen += &format!("{}\n  {}\n", shown(&args.join(" ")), shown(line));
        assert!(!out.exists(), "nothing is written on failure");
    }
    // The refusal shows where the model cannot be drawn from; `ito check` passes.
    let o = ito(&[
        "run",
        "--seed",
        "1",
        s(&categorical),
        "--paths",
        "1",
        "--observations",
        o,
    ]);
    let err = stderr(&o).replace(&format!("{}/", dir.display()), "");
    seen += &format!("--- categorical, in full:\n{err}");
    let o = ito(&["check", s(&categorical)]);
    assert!(o.status.success(), "{}", stderr(&o));
    insta::assert_snapshot!(seen);
}

/// A matrix `obs` is written as nested arrays in JSON and quoted `"m[1,2]"` columns in CSV,
/// and both read back as the same series.
#[test]
fn matrix_observations_round_trip() {
    let dir = scratch("matrix");
    let src = "model Mat { obs m: real[2, 3]\n state x = 1\n dx = -x dt + 0.2 dW\n m[i, j] ~ Normal(10 * i + j + x, 0.01) for i in 1..2, j in 1..3 }";
    let model = dir.join("mat.sde");
    std::fs::write(&model, src).unwrap();
    let (json, csv) = (dir.join("m.json"), dir.join("m.csv"));
    for out in [&json, &csv] {
        ok(&[
            "run",
            s(&model),
            "--paths",
            "1",
            "--seed",
            "9",
            "--times",
            "0.5,1,1.5",
            "--observations",
            s(out),
        ]);
    }
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(
        text.contains("t,\"m[1,1]\",\"m[1,2]\",\"m[1,3]\",\"m[2,1]\""),
        "{text}"
    );
    let a = read_back(src, &[json]);
    let b = read_back(src, &[csv]);
    assert_eq!(a.times, [0.5, 1.0, 1.5]);
    assert_eq!(
        a.names,
        ["m[1,1]", "m[1,2]", "m[1,3]", "m[2,1]", "m[2,2]", "m[2,3]"]
    );
    assert_eq!(a.names, b.names);
    assert_eq!(a.rows, b.rows);
    // Row-major: element (i, j) is near 10 i + j + x with x ∈ (0, 3) here.
    for k in 0..a.len() {
        for (e, v) in a.row(k).iter().enumerate() {
            let (i, j) = (e / 3 + 1, e % 3 + 1);
            let centre = (10 * i + j) as f64;
            assert!(*v > centre - 1.0 && *v < centre + 4.0, "m[{i},{j}] = {v}");
        }
    }
}
