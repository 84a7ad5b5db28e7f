//! `ito infer` end to end: eight schools against its exact posterior (computed here by
//! quadrature), the Stan CSV files, reproducibility across threads, and clear errors.

use std::path::{Path, PathBuf};

#[path = "common/cli.rs"]
mod cli;
use cli::{assert_clean_failure, ito, stderr, stdout};

fn scratch_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("cli_infer")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

const Y: [f64; 8] = [28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0];
const SIGMA: [f64; 8] = [15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0];

/// The exact posterior moments of eight schools (mu ~ Normal(0, 5), tau ~ HalfCauchy(5)):
/// given tau, mu is Gaussian and y_j ~ Normal(mu, sigma_j² + tau²), so p(tau | y) is one
/// dimensional and the moments are integrals over tau, done here by the trapezoid rule on
/// a fine grid with the Cauchy tail mapped to a finite interval (tau = 5 tan(θ)).
/// Returns (E mu, sd mu, E tau, sd tau).
fn eight_schools_exact() -> (f64, f64, f64, f64) {
    let n = 400_000;
    let (mut w_sum, mut mu1, mut mu2, mut t1, mut t2) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for k in 1..n {
        let theta = std::f64::consts::FRAC_PI_2 * k as f64 / n as f64;
        let tau = 5.0 * theta.tan();
        // HalfCauchy(5) in θ is uniform: the change of variables absorbs the density.
        let (mut prec, mut lin, mut log_det) = (1.0 / 25.0, 0.0, 0.0);
        let mut quad = 0.0;
        for (y, s) in Y.iter().zip(SIGMA) {
            let v = s * s + tau * tau;
            prec += 1.0 / v;
            lin += y / v;
            quad += y * y / v;
            log_det += v.ln();
        }
        // ∫ N(mu; 0, 25) Π N(y_j; mu, v_j) dmu ∝ exp(−½(quad − lin²/prec)) / √(Π v_j · prec).
        let log_w = -0.5 * (quad - lin * lin / prec) - 0.5 * log_det - 0.5 * prec.ln();
        let w = log_w.exp();
        let (m, var) = (lin / prec, 1.0 / prec);
        w_sum += w;
        mu1 += w * m;
        mu2 += w * (var + m * m);
        t1 += w * tau;
        t2 += w * tau * tau;
    }
    let (mu, tau) = (mu1 / w_sum, t1 / w_sum);
    (
        mu,
        (mu2 / w_sum - mu * mu).sqrt(),
        tau,
        (t2 / w_sum - tau * tau).sqrt(),
    )
}

/// The summary table's row for `name`: (mean, mcse, sd).
fn summary_row(table: &str, name: &str) -> (f64, f64, f64) {
    let line = table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no row `{name}` in:\n{table}"));
    let v: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .map(|x| x.parse().unwrap())
        .collect();
    (v[0], v[1], v[2])
}

/// The rows of a Stan CSV file (comments dropped), header first.
fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

#[test]
fn eight_schools_matches_its_exact_posterior_and_writes_stan_csv() {
    let dir = scratch_dir("eight_schools");
    let out = dir.join("draws.csv");
    let o = ito(&[
        "infer",
        "examples/eight_schools.sde",
        "--data",
        "examples/eight_schools.data.json",
        "--seed",
        "2024",
        "--draws",
        "2500",
        "--out",
        s(&out),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let table = stdout(&o);
    // (The mean of tau has a heavy-tailed posterior, but its MCSE is still the right scale.)
    let (mu, mu_sd, tau, tau_sd) = eight_schools_exact();
    for (name, mean, sd) in [("mu", mu, mu_sd), ("tau", tau, tau_sd)] {
        let (m, mcse, s) = summary_row(&table, name);
        assert!(
            (m - mean).abs() < 4.5 * mcse,
            "{name}: mean {m} vs exact {mean} (MCSE {mcse})"
        );
        // The sd's own error is about sd/√(2 ESS); ESS here is over 2,000.
        assert!(
            (s - sd).abs() < 4.5 * sd / (2.0 * 2000.0f64).sqrt(),
            "{name}: sd {s} vs exact {sd}"
        );
    }

    let mut divergent = 0;
    for chain in 1..=4 {
        let path = dir.join(format!("draws_{chain}.csv"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("# stan_version_major = 2\n"),
            "{text:.200}"
        );
        assert!(text.contains(&format!("# id = {chain}\n")));
        assert!(text.contains("# Adaptation terminated\n# Step size = "));
        assert!(text.contains("seconds (Sampling)"));
        let rows = csv_rows(&path);
        let mut header: Vec<String> = [
            "lp__",
            "accept_stat__",
            "stepsize__",
            "treedepth__",
            "n_leapfrog__",
            "divergent__",
            "energy__",
            "mu",
            "tau",
        ]
        .map(str::to_string)
        .to_vec();
        header.extend((1..=8).map(|j| format!("eta.{j}")));
        header.extend((1..=8).map(|j| format!("theta.{j}")));
        assert_eq!(rows[0], header);
        assert_eq!(rows.len(), 2501);
        for row in &rows[1..] {
            assert_eq!(row.len(), header.len());
            let v: Vec<f64> = row.iter().map(|x| x.parse().unwrap()).collect();
            // theta = mu + tau * eta, written by the model's `output let`.
            for j in 0..8 {
                let theta = v[7] + v[8] * v[9 + j];
                assert!((v[17 + j] - theta).abs() < 1e-9 * (1.0 + theta.abs()));
            }
            assert!(v[8] > 0.0, "tau is positive");
            divergent += v[5] as usize;
        }
    }
    // Non-centred eight schools has rare divergences at Stan's default target acceptance
    // 0.8 (about 1 in 4,000 draws here, as in Stan); more than 0.5 % would mean a broken
    // adaptation or gradient.
    assert!(divergent <= 50, "{divergent} divergent draws of 10,000");
}

#[test]
fn raising_the_target_acceptance_removes_the_divergences() {
    let o = ito(&[
        "infer",
        "examples/eight_schools.sde",
        "--data",
        "examples/eight_schools.data.json",
        "--seed",
        "7",
        "--target-accept",
        "0.9",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("divergent"), "{}", stderr(&o));
}

#[test]
fn draws_do_not_depend_on_threads() {
    let dir = scratch_dir("threads");
    let mut bodies = Vec::new();
    for threads in ["1", "2"] {
        let out = dir.join(format!("t{threads}.csv"));
        let o = ito(&[
            "infer",
            "examples/eight_schools.sde",
            "--data",
            "examples/eight_schools.data.json",
            "--seed",
            "3",
            "--chains",
            "2",
            "--warmup",
            "300",
            "--draws",
            "200",
            "--threads",
            threads,
            "--out",
            s(&out),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let chains: Vec<Vec<Vec<String>>> = (1..=2)
            .map(|c| csv_rows(&dir.join(format!("t{threads}_{c}.csv"))))
            .collect();
        bodies.push(chains);
    }
    assert_eq!(bodies[0], bodies[1]);
}

#[test]
fn a_set_parameter_is_fixed_and_not_sampled() {
    let dir = scratch_dir("fixed");
    let out = dir.join("d.csv");
    let o = ito(&[
        "infer",
        "examples/eight_schools.sde",
        "--data",
        "examples/eight_schools.data.json",
        "--set",
        "tau=0.5",
        "--chains",
        "1",
        "--seed",
        "1",
        "--out",
        s(&out),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let header = &csv_rows(&out)[0];
    assert!(header.contains(&"mu".to_string()));
    assert!(!header.contains(&"tau".to_string()), "{header:?}");
}

#[test]
fn every_sampler_runs_from_the_command_line() {
    for method in ["nuts", "hmc", "mala", "mh"] {
        let o = ito(&[
            "infer",
            "examples/eight_schools.sde",
            "--data",
            "examples/eight_schools.data.json",
            "--method",
            method,
            "--seed",
            "1",
            "--warmup",
            "300",
            "--draws",
            "300",
        ]);
        assert_eq!(o.status.code(), Some(0), "{method}: {}", stderr(&o));
        assert!(stdout(&o).contains("ess_bulk"), "{method}");
        assert!(stderr(&o).contains(&format!("with {method}")), "{method}");
    }
}

#[test]
fn bad_input_is_refused_clearly() {
    let es = [
        "examples/eight_schools.sde",
        "--data",
        "examples/eight_schools.data.json",
    ];
    let with = |extra: &[&str]| {
        let mut args = vec!["infer"];
        args.extend_from_slice(&es);
        args.extend_from_slice(extra);
        ito(&args)
    };
    assert_clean_failure(&with(&["--chains", "0"]), "--chains must be at least 1");
    assert_clean_failure(
        &with(&["--target-accept", "1.5"]),
        "--target-accept must be between 0 and 1",
    );
    assert_clean_failure(&with(&["--max-depth", "0"]), "--max-depth");
    assert_clean_failure(
        &ito(&["infer", "examples/eight_schools.sde"]),
        "data `J` has no value: give a data file with --data",
    );
    assert_clean_failure(
        &ito(&["infer", "examples/ou.sde"]),
        "`ito infer` fits graphical models",
    );
    assert_clean_failure(&with(&["--out", "/nonexistent-dir/x.csv"]), "cannot write");
    // Bounds are evaluated once, so they may not depend on sampled parameters.
    let dir = scratch_dir("bounds");
    let model = dir.join("b.sde");
    std::fs::write(
        &model,
        "model B {\n  param a ~ Normal(0, 1)\n  param b: real<lower=a> ~ Normal(0, 1)\n}\n",
    )
    .unwrap();
    assert_clean_failure(
        &ito(&["infer", s(&model)]),
        "its bounds depend on sampled parameters",
    );
}
