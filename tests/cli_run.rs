//! `ito run` end to end: the files it writes, reproducibility across threads, and clear
//! errors (exit code 1, never a panic) for bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "common/cli.rs"]
mod cli;
use cli::{assert_clean_failure, ito, stderr};

/// A fresh scratch directory under the test target directory.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("cli_run")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn assert_ok(o: &Output) {
    assert_eq!(o.status.code(), Some(0), "stderr:\n{}", stderr(o));
}

#[test]
fn run_prints_a_summary_table_and_what_it_did() {
    let o = ito(&["run", "examples/ou.sde", "--paths", "200", "--seed", "3"]);
    assert_ok(&o);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("mean") && out.contains("sd_stationary"),
        "{out}"
    );
    let err = stderr(&o);
    assert!(err.contains("ran 200 of 200 paths of OU"), "{err}");
    assert!(err.contains("seed 3"), "{err}");
}

#[test]
fn paths_csv_long_wide_and_json() {
    let dir = scratch_dir("formats");
    let long = dir.join("long.csv");
    let wide = dir.join("wide.csv");
    let json = dir.join("paths.json");
    let common = [
        "--paths", "3", "--seed", "1", "--t-end", "1", "--every", "0.5",
    ];
    for (file, extra) in [(&long, None), (&wide, Some("--wide")), (&json, None)] {
        let mut args = vec!["run", "examples/lorenz63.sde", "--out", s(file)];
        args.extend(common);
        args.extend(extra);
        assert_ok(&ito(&args));
    }
    let long = std::fs::read_to_string(&long).unwrap();
    assert!(long.contains("# model: Lorenz63") && long.contains("# seed: 1"));
    let rows: Vec<&str> = long.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(rows[0], "path,time,variable,value");
    // 3 paths × 3 times × 3 variables.
    assert_eq!(rows.len(), 1 + 27);
    assert_eq!(rows[1], "0,0,x,1");
    let wide = std::fs::read_to_string(&wide).unwrap();
    let rows: Vec<&str> = wide.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(rows[0], "path,time,x,y,z");
    assert_eq!(rows.len(), 1 + 9);
    // The same numbers in both layouts: path 2 at t = 1.
    let last: Vec<&str> = rows[9].split(',').collect();
    assert_eq!(&last[..2], &["2", "1"]);
    assert!(long.contains(&format!("2,1,z,{}", last[4])));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(json["meta"]["model"], "Lorenz63");
    assert_eq!(json["paths"].as_array().unwrap().len(), 3);
}

#[test]
fn summary_and_plot_files() {
    let dir = scratch_dir("summary");
    let summary = dir.join("summary.csv");
    let plot = dir.join("ou.svg");
    let o = ito(&[
        "run",
        "examples/ou.sde",
        "--paths",
        "500",
        "--seed",
        "2",
        "--summary",
        "--out",
        s(&summary),
        "--plot",
        s(&plot),
    ]);
    assert_ok(&o);
    let text = std::fs::read_to_string(&summary).unwrap();
    let header = text.lines().find(|l| !l.starts_with('#')).unwrap();
    assert!(header.starts_with("time,variable,n,mean,sd"), "{header}");
    // 101 times × 2 variables.
    assert_eq!(
        text.lines().filter(|l| !l.starts_with('#')).count(),
        1 + 202
    );
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("</svg>"));
    // Nothing else was left in the directory (no temporary files).
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
}

#[test]
fn threads_do_not_change_the_numbers() {
    let dir = scratch_dir("threads");
    let mut files = Vec::new();
    for threads in ["1", "2"] {
        let f = dir.join(format!("t{threads}.csv"));
        let o = ito(&[
            "run",
            "examples/heston.sde",
            "--paths",
            "64",
            "--seed",
            "9",
            "--threads",
            threads,
            "--out",
            s(&f),
        ]);
        assert_ok(&o);
        files.push(std::fs::read(&f).unwrap());
    }
    assert_eq!(files[0], files[1]);
}

#[test]
fn a_failed_run_leaves_no_output_file() {
    let dir = scratch_dir("blowup");
    let model = dir.join("boom.sde");
    std::fs::write(
        &model,
        "model Boom {\n state x = 1.0\n dx = x^2 dt + 0.1 dW\n}\n",
    )
    .unwrap();
    let out = dir.join("paths.csv");
    let o = ito(&[
        "run",
        s(&model),
        "--t-end",
        "2",
        "--method",
        "em",
        "--out",
        s(&out),
    ]);
    assert_clean_failure(&o, "blew up at t = ");
    assert!(stderr(&o).contains("`x` became"));
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "a temporary file was left"
    );
    // Dropping instead: every path blows up, all are reported, the file is written.
    let o = ito(&[
        "run",
        s(&model),
        "--t-end",
        "2",
        "--method",
        "em",
        "--paths",
        "4",
        "--on-blowup",
        "drop",
        "--out",
        s(&out),
    ]);
    assert_ok(&o);
    assert_eq!(stderr(&o).matches("dropped: path").count(), 4);
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .contains("# dropped: 0, 1, 2, 3")
    );
}

#[test]
fn bad_input_gets_a_clear_error() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["run", "examples/ou.sde", "--set", "nope=1"],
            "no parameter or data of that name",
        ),
        (&["run", "examples/ou.sde", "--set", "theta"], "name=value"),
        (
            &["run", "examples/ou.sde", "--set", "theta=abc"],
            "is not a number",
        ),
        (
            &["run", "examples/ou.sde", "--set", "sigma=-1"],
            "below the lower bound 0",
        ),
        (&["run", "examples/ou.sde", "--method", "rk4"], "rk4"),
        (
            &["run", "examples/ou.sde", "--dt", "0"],
            "--dt must be a positive number",
        ),
        (
            &["run", "examples/ou.sde", "--t-end", "-1"],
            "--t-end must be a positive number",
        ),
        (
            &["run", "examples/ou.sde", "--times", "1,0.5"],
            "--times must increase",
        ),
        (
            &["run", "examples/ou.sde", "--paths", "0"],
            "--paths must be at least 1",
        ),
        (
            &["run", "examples/ou.sde", "--threads", "5000"],
            "--threads is at most 1024",
        ),
        (
            &["run", "examples/ou.sde", "--out", "x.txt"],
            "must end in .csv or .json",
        ),
        (
            &["run", "examples/ou.sde", "--out", "x.json", "--wide"],
            "--wide is a CSV layout",
        ),
        (
            &["run", "examples/eight_schools.sde"],
            "simulates SDE, ODE and jump-process models",
        ),
        (
            &["run", "examples/sir.sde", "--method", "rk4"],
            "is a jump process; its methods are ssa, nrm, tau, cle and ode, not rk4",
        ),
        (
            &["run", "examples/ou.sde", "--method", "ssa"],
            "`ssa` simulates jump processes",
        ),
        (
            &["run", "examples/sir.sde", "--max-events", "0"],
            "--max-events must be at least 1",
        ),
        (
            &[
                "run",
                "examples/sir.sde",
                "--max-events",
                "100",
                "--seed",
                "1",
            ],
            "fired more than 100 events",
        ),
        (&["run", "examples/nope.sde"], "nope.sde"),
        (
            &["run", "examples/ou.sde", "--model", "Nope"],
            "no model `Nope`",
        ),
    ];
    for (args, expect) in cases {
        assert_clean_failure(&ito(args), expect);
    }
    // A directory that does not exist: a clear error, not a panic.
    assert_clean_failure(
        &ito(&[
            "run",
            "examples/ou.sde",
            "--paths",
            "2",
            "--out",
            "/nonexistent/dir/x.csv",
        ]),
        "/nonexistent/dir",
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_the_run_and_leaves_no_file() {
    let dir = scratch_dir("interrupt");
    let out = dir.join("big.csv");
    let child = Command::new(env!("CARGO_BIN_EXE_ito"))
        .args([
            "run",
            "examples/lorenz63.sde",
            "--paths",
            "3000000",
            "--seed",
            "1",
        ])
        .args(["--threads", "1", "--out", s(&out)])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("ito starts");
    std::thread::sleep(std::time::Duration::from_millis(800));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let o = child.wait_with_output().expect("ito ends");
    assert_clean_failure(&o, "the run was interrupted");
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "a file was left"
    );
}
