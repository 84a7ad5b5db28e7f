//! `ito run` on jump processes and jump-diffusions: reproducible for any thread count and
//! path count, events at their times, `--stats`, and clear refusals.

use std::path::PathBuf;
use std::process::Output;

#[path = "common/cli.rs"]
mod cli;
use cli::{assert_clean_failure, ito, stderr, stdout};

fn scratch_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("cli_jumps")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn assert_ok(o: &Output) {
    assert_eq!(o.status.code(), Some(0), "stderr:\n{}", stderr(o));
}

/// A model file in the scratch directory.
fn model(dir: &std::path::Path, name: &str, text: &str) -> String {
    let f = dir.join(name);
    std::fs::write(&f, text).unwrap();
    f.to_str().unwrap().to_string()
}

/// Rows `path,time,variable,value` of a long CSV, without the comment header.
fn rows(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .skip(1)
        .map(str::to_string)
        .collect()
}

#[test]
fn threads_and_path_counts_do_not_change_the_numbers() {
    let dir = scratch_dir("threads");
    let cases: [(&str, &[&str]); 4] = [
        ("examples/vilar.sde", &["--method", "ssa", "--t-end", "5"]),
        ("examples/vilar.sde", &["--method", "nrm", "--t-end", "5"]),
        ("examples/dimerisation.sde", &["--method", "tau"]),
        ("examples/merton.sde", &["--dt", "0.01"]),
    ];
    for (file, extra) in cases {
        let mut outs = Vec::new();
        for (threads, paths) in [("1", "24"), ("2", "24"), ("2", "7")] {
            let f = dir.join(format!("t{threads}_{paths}.csv"));
            let mut args = vec![
                "run",
                file,
                "--paths",
                paths,
                "--seed",
                "5",
                "--threads",
                threads,
                "--every",
                "1",
                "--out",
                f.to_str().unwrap(),
            ];
            args.extend_from_slice(extra);
            assert_ok(&ito(&args));
            outs.push(std::fs::read_to_string(&f).unwrap());
        }
        assert_eq!(
            outs[0], outs[1],
            "{file} {extra:?}: threads changed the file"
        );
        // The first 7 paths of the 24-path run are the 7-path run.
        let first7: Vec<String> = rows(&outs[0])
            .into_iter()
            .filter(|r| r.split(',').next().unwrap().parse::<usize>().unwrap() < 7)
            .collect();
        assert_eq!(
            first7,
            rows(&outs[2]),
            "{file} {extra:?}: path count changed paths"
        );
    }
}

#[test]
fn events_fire_at_their_times_and_change_parameters() {
    let dir = scratch_dir("events");
    // At t = 2 the count jumps by 1000 (whatever it was); when it first exceeds 500, the
    // production stops, so from then on the count only decays.
    let f = model(
        &dir,
        "dose.sde",
        "model Dose {
           param k: real<lower=0> = 10
           param gamma: real<lower=0> = 0.1
           species A = 0
           reactions {
             make: 0 -> A @ k
             decay: A -> 0 @ gamma
           }
           at t = 2 { A += 1000 }
           when A > 500 { k = 0 }
         }",
    );
    for method in ["ssa", "nrm", "tau"] {
        let out = dir.join(format!("{method}.csv"));
        let o = ito(&[
            "run",
            &f,
            "--method",
            method,
            "--paths",
            "20",
            "--seed",
            "2",
            "--times",
            "1.999,2,3",
            "--wide",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_ok(&o);
        let text = std::fs::read_to_string(&out).unwrap();
        let rows: Vec<Vec<f64>> = rows(&text)
            .iter()
            .map(|r| r.split(',').map(|v| v.parse().unwrap()).collect())
            .collect();
        for path in rows.chunks(3) {
            let (before, at, after) = (path[0][2], path[1][2], path[2][2]);
            // Right-continuous: the record at t = 2 includes the dose.
            assert!(
                at >= before + 1000.0 - 5.0 && at <= before + 1000.0 + 5.0,
                "{method}: {path:?}"
            );
            assert!(
                after < at,
                "{method}: production should have stopped: {path:?}"
            );
        }
    }
}

#[test]
fn stats_report_firings_per_reaction() {
    let o = ito(&[
        "run",
        "examples/dimerisation.sde",
        "--paths",
        "50",
        "--seed",
        "1",
        "--stats",
    ]);
    assert_ok(&o);
    let err = stderr(&o);
    assert!(err.contains("events per path: mean"), "{err}");
    assert!(err.contains("dimerise_fwd"), "{err}");
    assert!(stdout(&o).contains("P2"), "the summary table is printed");
}

#[test]
fn refusals_say_why() {
    let dir = scratch_dir("refusals");
    let timed = model(
        &dir,
        "timed.sde",
        "model Timed {
           species A = 0
           reactions { make: 0 -> A @ 1 + sin(t) }
         }",
    );
    assert_clean_failure(
        &ito(&["run", &timed, "--method", "ssa"]),
        "the rate of `make` depends on t",
    );
    assert_clean_failure(
        &ito(&["run", "examples/telegraph.sde", "--method", "tau"]),
        "`jump activate` changes the state by a program",
    );
    assert_clean_failure(
        &ito(&["run", "examples/telegraph.sde", "--method", "cle"]),
        "`cle` needs a reaction network; `jump activate` is a general jump",
    );
    assert_clean_failure(
        &ito(&["run", "examples/merton.sde", "--method", "ssa"]),
        "is a jump-diffusion",
    );
    assert_clean_failure(
        &ito(&["run", "examples/merton.sde", "--method", "dopri5"]),
        "fixed steps between jumps",
    );
    let negative = model(
        &dir,
        "negative.sde",
        "model Negative {
           param k: real = 1
           species A = 2
           reactions { bad: 0 => A @ k * (A - 5) }
         }",
    );
    assert_clean_failure(
        &ito(&["run", &negative, "--seed", "1"]),
        "the rate of `bad` is -3 at t = 0, where A = 2",
    );
}

#[test]
fn a_network_runs_as_its_langevin_equation_and_its_rate_equations() {
    for (method, label) in [("cle", "cle via em"), ("ode", "ode via dopri5")] {
        let o = ito(&[
            "run",
            "examples/immigration_death.sde",
            "--method",
            method,
            "--paths",
            "100",
            "--seed",
            "1",
        ]);
        assert_ok(&o);
        assert!(stderr(&o).contains(label), "{}", stderr(&o));
    }
}
