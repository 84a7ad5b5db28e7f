//! `ito run` on Markov jump processes against exact answers, end to end through the
//! command line: closed forms (birth–death, immigration–death, the telegraph model's
//! stationary mean, independent ion-channel gates) and distributions computed here by
//! solving the chemical master equation (tests/common/cme.rs) for dimerisation, a dose
//! event and an epidemic on a small network. Seeds are fixed; every tolerance is `Z`
//! standard errors of the estimate, computed from the exact law (mean: sqrt(σ²/n);
//! variance: from the exact fourth central moment), never tuned to the sample.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

#[path = "common/cli.rs"]
mod cli;
#[path = "common/cme.rs"]
mod cme;
#[path = "common/mc.rs"]
mod mc;

use cli::{assert_clean_failure, ito, stderr};
use cme::{Cme, Moments};
use mc::{
    KS_ALPHA, Paths, Stat, Z, check_mean, check_var, ks_against_pmf, ks_critical, ks_two_sample,
    parse_summary, stat, stat_of, var_se,
};

fn scratch_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("run_mjp")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A model file in the scratch directory.
fn model(dir: &Path, name: &str, text: &str) -> String {
    let f = dir.join(name);
    std::fs::write(&f, text).unwrap();
    f.to_str().unwrap().to_string()
}

fn assert_ok(o: &Output) {
    assert_eq!(o.status.code(), Some(0), "stderr:\n{}", stderr(o));
}

/// `ito run FILE ARGS… --summary --out DIR/TAG.csv`, parsed.
fn summary(dir: &Path, tag: &str, file: &str, args: &[&str]) -> Vec<Stat> {
    let out = dir.join(format!("{tag}.csv"));
    let mut all = vec!["run", file];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--summary", "--out", out.to_str().unwrap()]);
    assert_ok(&ito(&all));
    parse_summary(&std::fs::read_to_string(&out).unwrap())
}

/// `ito run FILE ARGS… --out DIR/TAG.csv`: every path, long form.
fn paths(dir: &Path, tag: &str, file: &str, args: &[&str]) -> Paths {
    let out = dir.join(format!("{tag}.csv"));
    let mut all = vec!["run", file];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--out", out.to_str().unwrap()]);
    assert_ok(&ito(&all));
    Paths::parse(&std::fs::read_to_string(&out).unwrap())
}

fn close(what: &str, a: f64, b: f64, rel: f64) {
    assert!(
        (a - b).abs() <= rel * b.abs().max(1.0),
        "{what}: {a} vs {b}"
    );
}

/// Mean, variance and fourth central moment of an affine function a + b·Y of a variable
/// with moments `m`.
fn affine(m: Moments, a: f64, b: f64) -> Moments {
    Moments {
        mean: a + b * m.mean,
        var: b * b * m.var,
        mu4: b.powi(4) * m.mu4,
    }
}

fn check(what: &str, s: &Stat, m: Moments) {
    check_mean(what, s, m.mean, m.var);
    check_var(what, s, m.var, m.mu4);
}

/// The CME solution recorded at `times` (increasing, from 0): `events` are (time, map)
/// pairs applied when the clock reaches their time, before recording at that time (the
/// engine's records are right-continuous).
fn cme_at(cme: &Cme, start: &[i64], times: &[f64], events: &[(f64, cme::Map)]) -> Vec<Vec<f64>> {
    let mut p = cme.point(start);
    let mut now = 0.0;
    let mut pending: Vec<_> = events.to_vec();
    let mut out = Vec::new();
    for &t in times {
        while let Some(&(te, f)) = pending.first() {
            if te > t {
                break;
            }
            cme.evolve(&mut p, te - now);
            now = te;
            p = cme.map(&p, f);
            pending.remove(0);
        }
        cme.evolve(&mut p, t - now);
        now = t;
        let lost = 1.0 - cme.mass(&p);
        assert!(
            lost < 1e-10,
            "the truncated state space lost {lost} by t = {t}"
        );
        out.push(p.clone());
    }
    out
}

fn time_list(times: &[f64]) -> String {
    times
        .iter()
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

// ---------------------------------------------------------------------------------------
// Closed forms.

/// Mean, variance and fourth central moment of the linear birth–death process from `x0`
/// individuals at time t. Each founder's descendants number 0 with probability α and n ≥ 1
/// with probability (1 − α)(1 − β)β^{n−1} (Kendall 1948; Bailey 1964, eq. 8.47), with
/// α = μ(e^{rt} − 1)/(λe^{rt} − μ), β = λ(e^{rt} − 1)/(λe^{rt} − μ), r = λ − μ. The
/// population is the sum of x0 independent founders' lines, so its cumulants are x0
/// times theirs.
fn birth_death_law(lambda: f64, mu: f64, x0: f64, t: f64) -> Moments {
    let e = ((lambda - mu) * t).exp();
    let alpha = mu * (e - 1.0) / (lambda * e - mu);
    let beta = lambda * (e - 1.0) / (lambda * e - mu);
    let mut raw = [0.0f64; 5];
    let mut n = 1.0f64;
    let mut pn = (1.0 - alpha) * (1.0 - beta);
    loop {
        for (r, m) in raw.iter_mut().enumerate() {
            *m += pn * n.powi(r as i32);
        }
        pn *= beta;
        n += 1.0;
        if pn * n.powi(4) < 1e-30 {
            break;
        }
    }
    let (m1, m2, m3, m4) = (raw[1], raw[2], raw[3], raw[4]);
    let k2 = m2 - m1 * m1;
    let k4 = m4 - 4.0 * m3 * m1 - 3.0 * m2 * m2 + 12.0 * m2 * m1 * m1 - 6.0 * m1.powi(4);
    let (mean, var, mu4) = mc::from_cumulants(x0 * m1, x0 * k2, x0 * k4);
    Moments { mean, var, mu4 }
}

#[test]
fn birth_death_mean_and_variance_match_kendall() {
    let dir = scratch_dir("birth_death");
    let (lambda, mu, x0) = (0.1, 0.11, 100.0);
    // About 840 firings per path.
    let rows = summary(
        &dir,
        "bd",
        "examples/birth_death.sde",
        &[
            "--set",
            "lambda=0.1",
            "--set",
            "mu=0.11",
            "--t-end",
            "50",
            "--every",
            "5",
            "--paths",
            "20000",
            "--seed",
            "101",
        ],
    );
    for k in 0..=10 {
        let t = 5.0 * k as f64;
        let e = ((lambda - mu) * t).exp();
        let mean = x0 * e;
        let var = x0 * (lambda + mu) / (lambda - mu) * e * (e - 1.0);
        // The founder-by-founder law reproduces the closed forms.
        let law = birth_death_law(lambda, mu, x0, t);
        close("law mean", law.mean, mean, 1e-9);
        close("law variance", law.var, var, 1e-9);
        let s = stat(&rows, "X", t);
        assert_eq!(s.n, 20000);
        check("birth–death X", s, law);
        close("mean_exact", stat(&rows, "mean_exact", t).mean, mean, 1e-12);
    }
}

#[test]
fn immigration_death_is_poisson_at_every_time() {
    let dir = scratch_dir("immigration_death");
    let (k, gamma) = (10.0, 0.1);
    // About 800 firings per path.
    let rows = summary(
        &dir,
        "id",
        "examples/immigration_death.sde",
        &[
            "--set",
            "k=10",
            "--set",
            "gamma=0.1",
            "--t-end",
            "50",
            "--every",
            "5",
            "--paths",
            "20000",
            "--seed",
            "102",
        ],
    );
    for i in 0..=10 {
        let t = 5.0 * i as f64;
        // From A(0) = 0: Poisson(m), whose variance is m and fourth central moment m + 3m².
        let m = k / gamma * (1.0 - (-gamma * t).exp());
        check(
            "immigration–death A",
            stat(&rows, "A", t),
            Moments {
                mean: m,
                var: m,
                mu4: m + 3.0 * m * m,
            },
        );
        close("mean_exact", stat(&rows, "mean_exact", t).mean, m, 1e-12);
    }
}

#[test]
fn telegraph_mean_reaches_the_closed_form_and_matches_the_cme() {
    let dir = scratch_dir("telegraph");
    let (k_on, k_off, k_tx, k_leak, gamma) = (0.02, 0.2, 5.0, 0.0, 0.05);
    // The stationary mean from examples/telegraph.sde's comment.
    let stationary = (k_tx * k_on / (k_on + k_off) + k_leak * k_off / (k_on + k_off)) / gamma;
    close("closed form", stationary, 9.0909090909, 1e-9);
    let times = [10.0, 25.0, 50.0, 100.0, 300.0, 400.0, 500.0];
    // About 500 firings per path.
    let rows = summary(
        &dir,
        "tg",
        "examples/telegraph.sde",
        &[
            "--times",
            &time_list(&times),
            "--paths",
            "15000",
            "--seed",
            "103",
        ],
    );
    // State (g, m), mRNA truncated at 400 (the stationary sd is about 13).
    let cme = Cme::explore(
        &[vec![0, 0]],
        |s| {
            let (g, m) = (s[0], s[1]);
            vec![
                (k_on * (1 - g) as f64, vec![1, m]),
                (k_off * g as f64, vec![0, m]),
                (if g == 1 { k_tx } else { k_leak }, vec![g, m + 1]),
                (gamma * m as f64, vec![g, m - 1]),
            ]
        },
        |s| s[1] <= 400,
    );
    let dists = cme_at(&cme, &[0, 0], &times, &[]);
    for (&t, p) in times.iter().zip(&dists) {
        let m = cme.moments(p, |s| s[1] as f64);
        let g = cme.moments(p, |s| s[0] as f64);
        if t >= 300.0 {
            // The switch relaxes at k_on + k_off, the mean mRNA at gamma: by t = 300 the
            // start is forgotten to e^{-15}.
            close("CME mean vs closed form", m.mean, stationary, 1e-5);
            check_mean(
                "telegraph m (closed form)",
                stat(&rows, "m", t),
                stationary,
                m.var,
            );
        }
        check("telegraph m", stat(&rows, "m", t), m);
        check("telegraph g", stat(&rows, "g", t), g);
    }
}

#[test]
fn ion_channel_opens_with_probability_n_to_the_fourth() {
    let dir = scratch_dir("ion_channel");
    let v = -40.0f64;
    let alpha = 0.01 * (v + 55.0) / (1.0 - (-(v + 55.0) / 10.0).exp());
    let beta = 0.125 * (-(v + 65.0) / 80.0).exp();
    // A few firings per path.
    let rows = summary(
        &dir,
        "ch",
        "examples/ion_channel.sde",
        &["--every", "1", "--paths", "50000", "--seed", "104"],
    );
    for i in 0..=10 {
        let t = i as f64;
        // Four independent gates, each open with probability n(t): the number open is
        // Binomial(4, n) and the channel is open (all four) with probability n⁴.
        let n = alpha / (alpha + beta) * (1.0 - (-(alpha + beta) * t).exp());
        let pq = n * (1.0 - n);
        let gates = Moments {
            mean: 4.0 * n,
            var: 4.0 * pq,
            mu4: 4.0 * pq * (1.0 + 3.0 * 2.0 * pq),
        };
        check("open gates k", stat(&rows, "k", t), gates);
        let p = n.powi(4);
        let pq = p * (1.0 - p);
        let open = Moments {
            mean: p,
            var: pq,
            mu4: pq * (1.0 - 3.0 * pq),
        };
        check("channel open", stat(&rows, "open", t), open);
        close(
            "p_open_exact",
            stat(&rows, "p_open_exact", t).mean,
            p,
            1e-12,
        );
    }
}

// ---------------------------------------------------------------------------------------
// Against the chemical master equation.

/// The distribution of P2 in examples/dimerisation.sde (2 P <-> P2, P + 2 P2 = 301).
fn dimerisation_cme(c1: f64, c2: f64, total: i64) -> Cme {
    Cme::explore(
        &[vec![0]],
        move |s| {
            let b = s[0];
            let p = (total - 2 * b) as f64;
            vec![
                (c1 * p * (p - 1.0) / 2.0, vec![b + 1]),
                (c2 * b as f64, vec![b - 1]),
            ]
        },
        |_| true,
    )
}

#[test]
fn dimerisation_moments_match_the_cme_for_ssa_and_nrm() {
    let dir = scratch_dir("dimerisation");
    let times = [0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0];
    let cme = dimerisation_cme(1.66e-3, 0.2, 301);
    let dists = cme_at(&cme, &[0], &times, &[]);
    for method in ["ssa", "nrm"] {
        // About 360 firings per path.
        let rows = summary(
            &dir,
            method,
            "examples/dimerisation.sde",
            &[
                "--method",
                method,
                "--times",
                &time_list(&times),
                "--paths",
                "15000",
                "--seed",
                "105",
            ],
        );
        for (&t, p) in times.iter().zip(&dists) {
            let p2 = cme.moments(p, |s| s[0] as f64);
            check(&format!("{method} P2"), stat(&rows, "P2", t), p2);
            check(
                &format!("{method} P"),
                stat(&rows, "P", t),
                affine(p2, 301.0, -2.0),
            );
            check_mean(
                &format!("{method} total"),
                stat(&rows, "total", t),
                301.0,
                0.0,
            );
        }
    }
}

/// Dimerisation with a dozen molecules, where the law is far from normal.
const SMALL_DIMER: &str = "// small-count dimerisation
model SmallDimer {
  param c1: real<lower=0> = 0.1
  param c2: real<lower=0> = 1.0
  species A = 12, B = 0
  reactions {
    dimerise: 2 A <-> B @ c1, c2
  }
}
";

#[test]
fn ssa_and_nrm_agree_in_distribution() {
    let dir = scratch_dir("small_dimer");
    let file = model(&dir, "small_dimer.sde", SMALL_DIMER);
    let times = [0.3, 3.0];
    let n = 10000usize;
    let cme = dimerisation_cme(0.1, 1.0, 12);
    let dists = cme_at(&cme, &[0], &times, &[]);
    let mut samples: BTreeMap<(&str, usize), Vec<f64>> = BTreeMap::new();
    for method in ["ssa", "nrm"] {
        let table = paths(
            &dir,
            method,
            &file,
            &[
                "--method",
                method,
                "--times",
                &time_list(&times),
                "--paths",
                &n.to_string(),
                "--seed",
                "106",
            ],
        );
        for (k, (&t, p)) in times.iter().zip(&dists).enumerate() {
            let b = table.at("B", t).to_vec();
            assert_eq!(b.len(), n);
            // Each method against the exact law: moments and the whole distribution.
            check(
                &format!("{method} B"),
                &stat_of("B", t, &b),
                cme.moments(p, |s| s[0] as f64),
            );
            let d = ks_against_pmf(&b, &cme.pmf(p, |s| s[0]));
            let crit = ks_critical(KS_ALPHA) / (n as f64).sqrt();
            assert!(d <= crit, "{method} at t = {t}: KS distance {d} > {crit}");
            samples.insert((method, k), b);
        }
    }
    // And against each other: two-sample Kolmogorov–Smirnov.
    for (k, &t) in times.iter().enumerate() {
        let d = ks_two_sample(&samples[&("ssa", k)], &samples[&("nrm", k)]);
        let crit = ks_critical(KS_ALPHA) * (2.0 / n as f64).sqrt();
        assert!(d <= crit, "ssa vs nrm at t = {t}: KS distance {d} > {crit}");
    }
}

#[test]
fn a_dose_at_a_fixed_time_matches_the_cme_and_the_closed_form() {
    let dir = scratch_dir("dosing");
    let (k, gamma, dose, t_dose) = (20.0, 0.5, 100i64, 4.0);
    let times = [0.0, 1.0, 2.0, 3.0, 3.999, 4.0, 4.5, 5.0, 6.0, 8.0, 10.0];
    let cme = Cme::explore(
        &[vec![0]],
        |s| vec![(k, vec![s[0] + 1]), (gamma * s[0] as f64, vec![s[0] - 1])],
        |s| s[0] <= 400,
    );
    let bolus: cme::Map = &|s| vec![s[0] + dose];
    let dists = cme_at(&cme, &[0], &times, &[(t_dose, bolus)]);
    let laws: Vec<Moments> = dists
        .iter()
        .map(|p| cme.moments(p, |s| s[0] as f64))
        .collect();
    // Cross-check the CME with the closed form of examples/dosing.sde's comment:
    // Poisson(m) + Binomial(dose, s) after the dose, independent.
    for (&t, law) in times.iter().zip(&laws) {
        let m = k / gamma * (1.0 - (-gamma * t).exp());
        let s = if t >= t_dose {
            (-gamma * (t - t_dose)).exp()
        } else {
            0.0
        };
        let d = dose as f64;
        close("CME mean", law.mean, m + d * s, 1e-9);
        close("CME variance", law.var, m + d * s * (1.0 - s), 1e-9);
        let (_, _, mu4) = mc::from_cumulants(
            m + d * s,
            m + d * s * (1.0 - s),
            m + d * s * (1.0 - s) * (1.0 - 6.0 * s * (1.0 - s)),
        );
        close("CME fourth moment", law.mu4, mu4, 1e-8);
    }
    for method in ["ssa", "nrm"] {
        // About 500 firings per path.
        let rows = summary(
            &dir,
            method,
            "examples/dosing.sde",
            &[
                "--method",
                method,
                "--times",
                &time_list(&times),
                "--paths",
                "15000",
                "--seed",
                "107",
            ],
        );
        for (&t, &law) in times.iter().zip(&laws) {
            check(&format!("{method} A"), stat(&rows, "A", t), law);
            close(
                "mean_exact",
                stat(&rows, "mean_exact", t).mean,
                law.mean,
                1e-9,
            );
        }
    }
}

/// SIR on a five-node network, written as examples/sir_network.sde is: node states
/// S[i], I[i] and an adjacency matrix. Node 1 (a hub) starts infected; node 5 hangs off
/// node 4.
const NETWORK5: &str = "// SIR on a five-node network
model Network5 {
  const N = 5
  const A = [
    [0, 1, 1, 1, 0],
    [1, 0, 1, 0, 0],
    [1, 1, 0, 0, 0],
    [1, 0, 0, 0, 1],
    [0, 0, 0, 1, 0]
  ]
  const seed = [1, 0, 0, 0, 0]
  param beta: real<lower=0> = 0.5
  param gamma: real<lower=0> = 0.25
  state S: int<lower=0, upper=1>[N] = 1 - seed
  state I: int<lower=0, upper=1>[N] = seed
  jump infect[i in 1..N] @ beta * S[i] * sum(j in 1..N) A[i, j] * I[j] {
    S[i] = 0
    I[i] = 1
  }
  jump recover[i in 1..N] @ gamma * I[i] { I[i] = 0 }
  output let infected = sum(I)
  output let recovered = N - sum(S) - sum(I)
}
";

#[test]
fn indexed_jumps_on_a_network_match_the_cme() {
    let dir = scratch_dir("network");
    let file = model(&dir, "network5.sde", NETWORK5);
    let adj = [
        [0, 1, 1, 1, 0],
        [1, 0, 1, 0, 0],
        [1, 1, 0, 0, 0],
        [1, 0, 0, 0, 1],
        [0, 0, 0, 1, 0],
    ];
    let (beta, gamma) = (0.5, 0.25);
    // State: one entry per node, 0 = S, 1 = I, 2 = R (3^5 = 243 states at most).
    let cme = Cme::explore(
        &[vec![1, 0, 0, 0, 0]],
        |s| {
            let mut out = Vec::new();
            for i in 0..5 {
                let mut next = s.to_vec();
                next[i] = s[i] + 1;
                match s[i] {
                    0 => {
                        let infected = (0..5).filter(|&j| adj[i][j] == 1 && s[j] == 1).count();
                        out.push((beta * infected as f64, next));
                    }
                    1 => out.push((gamma, next)),
                    _ => {}
                }
            }
            out
        },
        |_| true,
    );
    let times = [0.5, 1.0, 2.0, 4.0, 8.0, 16.0];
    let dists = cme_at(&cme, &[1, 0, 0, 0, 0], &times, &[]);
    let n = 15000usize;
    let table = paths(
        &dir,
        "ssa",
        &file,
        &[
            "--times",
            &time_list(&times),
            "--paths",
            &n.to_string(),
            "--seed",
            "108",
        ],
    );
    let count = |s: &[i64], v: i64| s.iter().filter(|&&x| x == v).count() as f64;
    for (&t, p) in times.iter().zip(&dists) {
        let infected = table.at("infected", t);
        let recovered = table.at("recovered", t);
        check(
            "infected",
            &stat_of("infected", t, infected),
            cme.moments(p, |s| count(s, 1)),
        );
        check(
            "recovered",
            &stat_of("recovered", t, recovered),
            cme.moments(p, |s| count(s, 2)),
        );
        // Node by node: the probability that node i is still susceptible (this checks
        // which row of A each channel reads).
        for i in 0..5 {
            let var = format!("S[{}]", i + 1);
            check(
                &var,
                &stat_of(&var, t, table.at(&var, t)),
                cme.moments(p, |s| if s[i] == 0 { 1.0 } else { 0.0 }),
            );
        }
        let d = ks_against_pmf(recovered, &cme.pmf(p, |s| count(s, 2) as i64));
        let crit = ks_critical(KS_ALPHA) / (n as f64).sqrt();
        assert!(d <= crit, "recovered at t = {t}: KS distance {d} > {crit}");
    }
}

// ---------------------------------------------------------------------------------------
// Tau-leaping.

/// Immigration–death started at its stationary mean k / gamma = 1000.
const IMMIGRATION_DEATH_1000: &str = "// immigration–death at 1000 copies
model ImmigrationDeath1000 {
  param k: real<lower=0> = 100
  param gamma: real<lower=0> = 0.1
  species A = 1000
  reactions {
    birth: 0 -> A @ k
    death: A -> 0 @ gamma
  }
}
";

#[test]
fn tau_leaping_stays_within_its_bias_in_mean_and_variance() {
    let dir = scratch_dir("tau");
    let file = model(&dir, "id1000.sde", IMMIGRATION_DEATH_1000);
    let (k, gamma, a0) = (100.0f64, 0.1f64, 1000.0f64);
    let n = 20000usize;
    let rows = summary(
        &dir,
        "tau",
        &file,
        &[
            "--method", "tau", "--t-end", "50", "--every", "5", "--paths", "20000", "--seed", "109",
        ],
    );
    // The interval between records bounds every leap.
    let every = 5.0;
    for i in 0..=10 {
        let t = 5.0 * i as f64;
        // Exact: Binomial(1000, e^{-gamma t}) survivors plus Poisson(m) newcomers.
        let s = (-gamma * t).exp();
        let m = k / gamma * (1.0 - s);
        let (mean, var, mu4) = mc::from_cumulants(
            a0 * s + m,
            a0 * s * (1.0 - s) + m,
            a0 * s * (1.0 - s) * (1.0 - 6.0 * s * (1.0 - s)) + m,
        );
        let st = stat(&rows, "A", t);
        assert_eq!(st.n, n);
        if t == 0.0 {
            check("tau A", st, Moments { mean, var, mu4 });
            continue;
        }
        // Variance: with leaps of length τ the stationary variance is
        // (k/gamma) / (1 − gamma τ/2) (the Euler recursion v' = (1 − gamma τ)² v +
        // (k + gamma E A) τ), never below the exact one. Cao–Gillespie–Petzold's rule with
        // ε = 0.03 (src/sim/mjp/tau.rs; g = 1 for first-order consumption) takes, at
        // A = 1000 where the drift vanishes, τ* = (ε A)² / (k + gamma A) = 4.5, inside the
        // records' interval of 5, and shorter leaps far from 1000 (where ε A / |drift| is
        // smaller). So the variance may be inflated by up to 1 / (1 − gamma τ*/2) ≈ 1.29.
        let eps = 0.03f64;
        let tau_star = (eps * a0).powi(2) / (k + gamma * a0);
        assert!(tau_star <= every);
        let inflated = var / (1.0 - gamma * tau_star / 2.0);
        // Mean: a leap of length τ changes E[A] by (k − gamma A) τ, so with a fixed τ the
        // mean follows Euler's recursion for the rate equation, whose fixed point is the
        // exact mean: started there, it stays at 1000. The adaptive leap length depends on
        // the state, though: near A = 1000 it is τ(A) = (ε A)² / (k + gamma A), which grows
        // with A. At stationarity of the leaping chain E[(k − gamma A) τ(A)] = 0, so
        // E[A] = k/gamma − Cov(A, τ(A)) / E[τ] ≈ k/gamma − τ'(1000) Var(A) / τ*: a bias
        // below 1000 of at most about 1.9 copies (0.2 %) with the inflated variance. (In a
        // run of 200,000 paths it was −0.40 ± 0.08.) That is the allowance; the standard
        // error is that of the leaping law, whose variance is at most `inflated`.
        let dtau = eps * eps * a0 * (2.0 * k + gamma * a0) / (k + gamma * a0).powi(2);
        let allowance = dtau * inflated / tau_star;
        let se = (inflated / n as f64).sqrt();
        assert!(
            (st.mean - mean).abs() <= Z * se + allowance,
            "tau mean at t = {t}: {}, exact {mean}, allowed {Z} × {se} + {allowance} (the \
             leap-length bias)",
            st.mean
        );
        // At stationarity (t ≥ 30: the exact variance is within e^{-6} of its limit and
        // the start is forgotten) the variance lies between the exact value and the
        // inflated one, each side with Z standard errors (the upper one from the normal
        // approximation μ4 = 3σ⁴: at 1000 copies the excess kurtosis is about 1e-3).
        if t >= 30.0 {
            let got = st.sd * st.sd;
            let lo = var - Z * var_se(n, var, mu4);
            let hi = inflated + Z * var_se(n, inflated, 3.0 * inflated * inflated);
            assert!(
                got >= lo && got <= hi,
                "tau variance at t = {t}: {got}, exact {var}, allowed [{lo}, {hi}] (the \
                 leap bias inflates it by at most {:.3})",
                inflated / var
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Bad input.

#[test]
fn negative_initial_counts_are_refused() {
    let dir = scratch_dir("negative");
    let constant = model(
        &dir,
        "constant.sde",
        "// negative initial count
model Neg {
  species A = -1
  reactions { decay: A -> 0 @ 1.0 }
}
",
    );
    let o = ito(&["run", &constant, "--seed", "1"]);
    assert_clean_failure(&o, "E0404");
    assert!(stderr(&o).contains("must start at a non-negative whole number"));
    let from_param = model(
        &dir,
        "param.sde",
        "// initial count from a parameter
model NegP {
  param a0: int = 5
  species A = a0
  reactions { decay: A -> 0 @ 1.0 }
}
",
    );
    assert_ok(&ito(&["run", &from_param, "--seed", "1", "--paths", "2"]));
    for method in ["ssa", "nrm", "tau"] {
        assert_clean_failure(
            &ito(&[
                "run",
                &from_param,
                "--set",
                "a0=-1",
                "--seed",
                "1",
                "--method",
                method,
            ]),
            "the initial state gives `A` = -1",
        );
    }
}

#[test]
fn a_negative_end_time_is_refused() {
    assert_clean_failure(
        &ito(&["run", "examples/immigration_death.sde", "--t-end", "-1"]),
        "--t-end must be a positive number",
    );
}

#[test]
fn a_model_whose_rates_are_all_zero_stays_put_and_says_so() {
    let dir = scratch_dir("zero");
    // A -> B with no A: nothing can ever fire.
    let file = model(
        &dir,
        "zero.sde",
        "// nothing can fire
model Zero {
  param k: real<lower=0> = 1.0
  species A = 0, B = 7
  reactions { convert: A -> B @ k }
}
",
    );
    for method in ["ssa", "nrm", "tau"] {
        let out = dir.join(format!("{method}.csv"));
        let o = ito(&[
            "run",
            &file,
            "--method",
            method,
            "--paths",
            "10",
            "--seed",
            "1",
            "--summary",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_ok(&o);
        let err = stderr(&o);
        assert!(
            err.contains("in 10 of 10 paths every rate reached zero before t = 10"),
            "{method}: {err}"
        );
        let rows = parse_summary(&std::fs::read_to_string(&out).unwrap());
        for t in [0.0, 5.0, 10.0] {
            check_mean(method, stat(&rows, "A", t), 0.0, 0.0);
            check_mean(method, stat(&rows, "B", t), 7.0, 0.0);
        }
    }
}

#[test]
fn a_runaway_process_stops_at_max_events() {
    let dir = scratch_dir("runaway");
    // Pure birth from 100: about 100 e^{10} ≈ 2.2 million individuals by t = 10.
    let file = model(
        &dir,
        "yule.sde",
        "// pure birth
model Yule {
  species X = 100
  reactions { birth: X -> 2 X @ 1.0 }
}
",
    );
    for method in ["ssa", "nrm", "tau"] {
        let out = dir.join(format!("{method}.csv"));
        let o = ito(&[
            "run",
            &file,
            "--method",
            method,
            "--max-events",
            "10",
            "--seed",
            "1",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_clean_failure(&o, "fired more than 10 events");
        assert!(stderr(&o).contains("--max-events"), "{}", stderr(&o));
        assert!(!out.exists(), "{method}: a failed run leaves no file");
    }
}

// ---------------------------------------------------------------------------------------
// The examples.

/// Every jump-process example runs with its defaults (a few paths) and gives finite,
/// whole, non-negative counts for its species and integer states.
#[test]
fn every_jump_example_runs_with_its_defaults() {
    let dir = scratch_dir("examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir("examples")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sde"))
        .collect();
    files.sort();
    let mut ran = Vec::new();
    for path in &files {
        let file = path.to_str().unwrap();
        let check = ito(&["check", file]);
        // `ok: Name (MJP)`, not a state-space model's `(state-space (MJP))`.
        if !stderr(&check)
            .lines()
            .any(|l| l.starts_with("ok: ") && l.ends_with(" (MJP)"))
        {
            continue;
        }
        let name = path.file_stem().unwrap().to_str().unwrap();
        // A model with `data` (sir_spatial's graph) reads the data file beside it.
        let data = path.with_extension("data.json");
        let mut args = vec!["--paths", "20", "--seed", "1"];
        if data.exists() {
            args.extend(["--data", data.to_str().unwrap()]);
        }
        let table = paths(&dir, name, file, &args);
        let summary = summary(&dir, name, file, &args);
        for s in &summary {
            assert_eq!(s.nonfinite, 0, "{name}: {s:?}");
            assert_eq!(s.n, 20, "{name}: {s:?}");
        }
        assert!(!table.at(&summary[0].variable, 10.0).is_empty(), "{name}");
        ran.push(name.to_string());
    }
    for want in [
        "birth_death",
        "immigration_death",
        "dimerisation",
        "dosing",
        "ion_channel",
        "lotka_volterra",
        "michaelis_menten",
        "repressilator",
        "seir",
        "sir",
        "sir_network",
        "sir_spatial",
        "flashing_ratchet",
        "telegraph",
    ] {
        assert!(ran.iter().any(|r| r == want), "{want} did not run: {ran:?}");
    }
}
