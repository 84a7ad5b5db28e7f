//! Particle marginal Metropolis–Hastings against exact posteriors.
//!
//! An OU process observed with Gaussian noise and moved by Euler–Maruyama steps: the Kalman
//! filter gives the exact likelihood of that discretisation, so the exact posterior of the
//! mean-reversion rate θ and the observation noise τ follows by quadrature on a grid, and
//! PMMH (with a bootstrap filter's noisy likelihood) must agree with it: posterior means and
//! standard deviations within 4.5 Monte Carlo standard errors (from the chains' ESS), with
//! fixed seeds. The data are simulated inside the test.

use ito::filter::{Engine, FilterModel, Stepping};
use ito::frontend::{Options, compile_source};
use ito::infer::chain::{ChainResult, Config, Method};
use ito::infer::density::{Posterior, param_spans};
use ito::infer::diagnostics::{self, ParamSummary};
use ito::infer::pmmh::{self, PmmhSettings};
use ito::rt::rng_from_seed;
use ito::sim::bind;
use ito::sim::data::DataSet;
use ito::sim::mjp::run::MjpMethod;
use ito::sim::observations::ObsSeries;
use ito::sim::prepare;
use ito::sim::schemes::{Method as Scheme, Tolerances};
use rand_distr::Distribution;
use std::sync::atomic::AtomicBool;

#[path = "common/ou_kalman.rs"]
mod ou_kalman;
use ou_kalman::OuEm;

const Z: f64 = 4.5;

const SRC: &str = "
model OUObserved {
  param theta: real<lower=0> ~ LogNormal(-0.7, 0.5)
  param mu = 1.0
  param sigma = 0.8
  param tau: real<lower=0> ~ LogNormal(-0.5, 0.5)
  obs y: real
  state x ~ Normal(0, 1)
  dx = theta * (mu - x) dt + sigma dW
  y ~ Normal(x, tau)
  output let x2 = x * x
}
";

const THETA: f64 = 0.5;
const MU: f64 = 1.0;
const SIGMA: f64 = 0.8;
const TAU: f64 = 0.7;
/// Euler–Maruyama step; observations every 1 time unit, so 10 steps between them.
const DT: f64 = 0.1;
const STEPS: usize = 10;
const T: usize = 40;

const PRIOR_THETA: (f64, f64) = (-0.7, 0.5);
const PRIOR_TAU: (f64, f64) = (-0.5, 0.5);

/// The model of `SRC` at mean-reversion rate `theta`, as the Kalman filter sees it.
fn ou(theta: f64) -> OuEm {
    OuEm {
        theta,
        mu: MU,
        sigma: SIGMA,
        dt: DT,
        steps: STEPS,
    }
}

/// Observations at t = 1, …, T of a path simulated from the same discretisation, with one
/// value missing.
fn data(seed: u64) -> ObsSeries {
    ou(THETA).simulate(seed, T, TAU, 15)
}

/// The exact log-likelihood of the EM discretisation at (θ, τ) (x₀ ~ Normal(0, 1)).
fn kalman(series: &ObsSeries, theta: f64, tau: f64) -> f64 {
    ou(theta).kalman(series, tau).0
}

/// log of the LogNormal(μ, s) density at `v`.
fn log_lognormal(v: f64, (mu, s): (f64, f64)) -> f64 {
    let z = (v.ln() - mu) / s;
    -0.5 * z * z - (s * v * (2.0 * std::f64::consts::PI).sqrt()).ln()
}

/// Exact posterior mean and sd of θ and τ, by quadrature on a grid over (log θ, log τ).
fn exact_posterior(series: &ObsSeries) -> [(f64, f64); 2] {
    const N: usize = 400;
    // Eight prior sds either way of the prior's centre in log θ and log τ.
    let span = |(mu, s): (f64, f64)| (mu - 8.0 * s, mu + 8.0 * s);
    let ((lo_t, hi_t), (lo_s, hi_s)) = (span(PRIOR_THETA), span(PRIOR_TAU));
    let at = |lo: f64, hi: f64, i: usize| lo + (hi - lo) * (i as f64 + 0.5) / N as f64;
    let mut logw = Vec::with_capacity(N * N);
    for i in 0..N {
        let theta = at(lo_t, hi_t, i).exp();
        for j in 0..N {
            let tau = at(lo_s, hi_s, j).exp();
            // The density over (log θ, log τ): the Jacobian is θτ.
            logw.push(
                kalman(series, theta, tau)
                    + log_lognormal(theta, PRIOR_THETA)
                    + log_lognormal(tau, PRIOR_TAU)
                    + theta.ln()
                    + tau.ln(),
            );
        }
    }
    let max = logw.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let mut moments = [[0.0; 3]; 2];
    for i in 0..N {
        let theta = at(lo_t, hi_t, i).exp();
        for j in 0..N {
            let tau = at(lo_s, hi_s, j).exp();
            let w = (logw[i * N + j] - max).exp();
            for (m, v) in moments.iter_mut().zip([theta, tau]) {
                m[0] += w;
                m[1] += w * v;
                m[2] += w * v * v;
            }
        }
    }
    // The grid must hold the whole posterior: the edges carry no weight.
    for i in 0..N {
        for edge in [i, i * N, (N - 1) * N + i, i * N + N - 1] {
            assert!(logw[edge] - max < -30.0, "the grid cuts the posterior");
        }
    }
    moments.map(|[w, s, s2]| {
        let mean = s / w;
        (mean, (s2 / w - mean * mean).sqrt())
    })
}

struct Fitted {
    columns: Vec<String>,
    results: Vec<ChainResult>,
}

impl Fitted {
    fn column(&self, name: &str) -> Vec<Vec<f64>> {
        let k = self.columns.iter().position(|c| c == name).unwrap();
        self.results
            .iter()
            .map(|r| r.rows.iter().map(|row| row[k]).collect())
            .collect()
    }

    fn summary(&self, name: &str) -> ParamSummary {
        let chains = self.column(name);
        let refs: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
        diagnostics::summarize(&refs)
    }
}

fn config(seed: u64, threads: usize, warmup: usize, draws: usize) -> Config {
    Config {
        method: Method::Pmmh,
        chains: 4,
        warmup,
        draws,
        seed,
        threads,
        max_depth: 10,
        target_accept: 0.8,
        thin: 1,
        step: 0.0,
        friction: 1.0,
    }
}

fn fit(series: &ObsSeries, particles: usize, config: &Config) -> Result<Fitted, String> {
    let c = compile_source("ou_observed.sde", SRC, &Options::default());
    assert!(!c.has_errors(), "{:?}", c.diagnostics);
    let m = prepare::pick(&c, None).unwrap();
    let lm = prepare::lowered(&c, m).unwrap();
    let bound = bind::bind_partial(lm, m, &[], &DataSet::default()).unwrap();
    let post = Posterior::state_space(m, lm, &bound, &param_spans(m, &bound), &[]).unwrap();
    let fm = FilterModel::new(m, lm, bound, Engine::Continuous(Some(Scheme::Em)), 1).unwrap();
    let settings = PmmhSettings {
        particles,
        ess_threshold: 0.5,
        stepping: Stepping {
            dt: DT,
            tolerances: Tolerances {
                rtol: 1e-6,
                atol: 1e-9,
            },
            max_events: u64::MAX,
        },
    };
    let cancel = AtomicBool::new(false);
    let results = pmmh::run(
        &post.density,
        &fm.view(),
        series,
        &settings,
        config,
        &cancel,
    )?;
    Ok(Fitted {
        columns: post.density.columns.clone(),
        results,
    })
}

/// PMMH's posterior of (θ, τ) is the exact one.
#[test]
fn ou_posterior_matches_quadrature() {
    let series = data(11);
    let exact = exact_posterior(&series);
    let fitted = fit(&series, 60, &config(5, 2, 500, 2500)).unwrap();
    // The output reads the state, which a draw of the parameters does not have: left out.
    assert_eq!(fitted.columns, ["theta", "tau"]);
    for ((name, (mean, sd)), truth) in ["theta", "tau"].into_iter().zip(exact).zip([THETA, TAU]) {
        let s = fitted.summary(name);
        eprintln!(
            "{name}: exact {mean:.4} ± {sd:.4}; PMMH {:.4} ± {:.4} (MCSE {:.4}, {:.4}; ESS {:.0}; R-hat {:.3}; 5–95 % {:.3}–{:.3})",
            s.mean, s.sd, s.mcse_mean, s.mcse_sd, s.ess_bulk, s.rhat, s.q5, s.q95
        );
        assert!(s.rhat < 1.05, "{name}: R-hat {}", s.rhat);
        assert!(
            (s.mean - mean).abs() < Z * s.mcse_mean,
            "{name}: mean {} vs exact {mean} (MCSE {})",
            s.mean,
            s.mcse_mean
        );
        assert!(
            (s.sd - sd).abs() < Z * s.mcse_sd,
            "{name}: sd {} vs exact {sd} (MCSE {})",
            s.sd,
            s.mcse_sd
        );
        // The data-generating value is inside the central 95 % interval.
        let mut all: Vec<f64> = fitted.column(name).concat();
        all.sort_by(f64::total_cmp);
        let (lo, hi) = (
            diagnostics::quantile(&all, 0.025),
            diagnostics::quantile(&all, 0.975),
        );
        assert!(
            lo < truth && truth < hi,
            "{name}: true value {truth} outside the 95 % interval {lo}–{hi}"
        );
    }
    let draws: Vec<_> = fitted.results.iter().flat_map(|r| &r.stats).collect();
    let acceptance = draws.iter().map(|s| s.accept_stat).sum::<f64>() / draws.len() as f64;
    eprintln!("mean acceptance {acceptance:.3}");
    // lp__ is the log prior with the Jacobian (of log θ and log τ) plus the kept
    // log-likelihood estimate.
    for r in &fitted.results {
        for (row, st) in r.rows.iter().zip(&r.stats) {
            let (theta, tau) = (row[0], row[1]);
            let prior = log_lognormal(theta, PRIOR_THETA)
                + log_lognormal(tau, PRIOR_TAU)
                + theta.ln()
                + tau.ln();
            assert!(st.log_likelihood.is_finite());
            assert!(
                (st.lp - st.log_likelihood - prior).abs() < 1e-9 * st.lp.abs().max(1.0),
                "lp {} − loglik {} vs log prior {prior}",
                st.lp,
                st.log_likelihood
            );
        }
    }
}

/// The draws do not depend on the number of threads (the chains share the pool with their
/// filters).
#[test]
fn same_draws_for_any_thread_count() {
    let series = data(11);
    let one = fit(&series, 40, &config(9, 1, 60, 40)).unwrap();
    let two = fit(&series, 40, &config(9, 2, 60, 40)).unwrap();
    for (a, b) in one.results.iter().zip(&two.results) {
        assert_eq!(a.rows, b.rows);
        assert_eq!(a.stats, b.stats);
        assert_eq!(a.step_size, b.step_size);
    }
    // Chains differ from one another, and proposals were both accepted and rejected.
    assert_ne!(one.results[0].rows, one.results[1].rows);
    let accepted = |r: &ChainResult| r.rows.windows(2).filter(|w| w[0] != w[1]).count();
    assert!(one.results.iter().all(|r| (1..39).contains(&accepted(r))));
}

#[test]
fn bad_filter_settings_are_refused() {
    let series = data(11);
    let err = fit(&series, 0, &config(1, 1, 10, 10)).err().unwrap();
    assert!(err.contains("at least one particle"), "{err}");
}

/// Data impossible under every parameter value: every filter degenerates, and the run stops
/// with a message instead of sampling the prior.
#[test]
fn impossible_data_give_a_clear_error() {
    let src = "
model Impossible {
  param theta: real<lower=0> ~ LogNormal(0, 1)
  obs y: real
  state x ~ Normal(0, 1)
  dx = -theta * x dt + dW
  y ~ Uniform(x + 10, x + 11)
}
";
    let c = compile_source("impossible.sde", src, &Options::default());
    assert!(!c.has_errors(), "{:?}", c.diagnostics);
    let m = prepare::pick(&c, None).unwrap();
    let lm = prepare::lowered(&c, m).unwrap();
    let bound = bind::bind_partial(lm, m, &[], &DataSet::default()).unwrap();
    let post = Posterior::state_space(m, lm, &bound, &param_spans(m, &bound), &[]).unwrap();
    let fm = FilterModel::new(m, lm, bound, Engine::Continuous(Some(Scheme::Em)), 1).unwrap();
    let series = ObsSeries {
        times: vec![1.0, 2.0],
        rows: vec![0.0, 0.0],
        width: 1,
        names: vec!["y".to_string()],
    };
    let settings = PmmhSettings {
        particles: 50,
        ess_threshold: 0.5,
        stepping: Stepping {
            dt: 0.1,
            tolerances: Tolerances {
                rtol: 1e-6,
                atol: 1e-9,
            },
            max_events: u64::MAX,
        },
    };
    let err = pmmh::run(
        &post.density,
        &fm.view(),
        &series,
        &settings,
        &config(1, 2, 10, 10),
        &AtomicBool::new(false),
    )
    .err()
    .unwrap();
    assert!(
        err.contains("no starting point with a non-zero likelihood estimate in 20 tries"),
        "{err}"
    );
    assert!(err.contains("theta = "), "{err}");
}

const SIR: &str = "
model SIRCases {
  const N = 100
  param beta: real<lower=0> ~ LogNormal(0, 1)
  param gamma = 0.5
  param rho = 0.8
  obs cases: int<lower=0>
  species S = N - 5, I = 5, R = 0
  reactions {
    infection: S + I -> 2 I @ beta / N
    recovery:  I -> R       @ gamma
  }
  cases ~ Poisson(rho * I)
  output let R0 = beta / gamma
}
";

const SIR_N: u64 = 100;
const SIR_BETA: f64 = 1.5;
const SIR_GAMMA: f64 = 0.5;
const SIR_RHO: f64 = 0.8;
const SIR_DAYS: usize = 15;

/// Daily case counts of one epidemic, simulated here by Gillespie's direct method
/// (independently of the engine) and reported as Poisson(ρ I).
fn sir_cases(seed: u64) -> ObsSeries {
    use rand::RngExt as _;
    let mut rng = rng_from_seed(seed);
    let (mut s, mut i) = (SIR_N - 5, 5u64);
    let mut t = 0.0;
    let mut rows = Vec::new();
    for day in 1..=SIR_DAYS {
        let until = day as f64;
        loop {
            let infect = SIR_BETA * (s * i) as f64 / SIR_N as f64;
            let recover = SIR_GAMMA * i as f64;
            let total = infect + recover;
            if total == 0.0 {
                break;
            }
            let u: f64 = rng.random();
            let wait = -(1.0 - u).ln() / total;
            if t + wait > until {
                break;
            }
            t += wait;
            if rng.random::<f64>() * total < infect {
                s -= 1;
                i += 1;
            } else {
                i -= 1;
            }
        }
        // Memorylessness: the next wait may start afresh at the day's end.
        t = until;
        let count: f64 = if i == 0 {
            0.0
        } else {
            rand_distr::Poisson::new(SIR_RHO * i as f64)
                .unwrap()
                .sample(&mut rng)
        };
        rows.push(count);
    }
    ObsSeries {
        times: (1..=SIR_DAYS).map(|d| d as f64).collect(),
        rows,
        width: 1,
        names: vec!["cases".to_string()],
    }
}

/// A stochastic SIR epidemic (exact SSA particles) observed through Poisson case counts:
/// PMMH recovers its infection rate.
#[test]
fn sir_infection_rate_is_recovered() {
    let series = sir_cases(3);
    eprintln!("cases: {:?}", series.rows);
    let c = compile_source("sir_cases.sde", SIR, &Options::default());
    assert!(!c.has_errors(), "{:?}", c.diagnostics);
    let m = prepare::pick(&c, None).unwrap();
    let lm = prepare::lowered(&c, m).unwrap();
    let bound = bind::bind_partial(lm, m, &[], &DataSet::default()).unwrap();
    let post = Posterior::state_space(m, lm, &bound, &param_spans(m, &bound), &[]).unwrap();
    let fm = FilterModel::new(m, lm, bound, Engine::Jumps(MjpMethod::Ssa), 1).unwrap();
    let settings = PmmhSettings {
        particles: 50,
        ess_threshold: 0.5,
        stepping: Stepping {
            dt: 0.1,
            tolerances: Tolerances {
                rtol: 1e-6,
                atol: 1e-9,
            },
            max_events: 1_000_000,
        },
    };
    let mut cfg = config(21, 2, 500, 1500);
    cfg.chains = 2;
    let results = pmmh::run(
        &post.density,
        &fm.view(),
        &series,
        &settings,
        &cfg,
        &AtomicBool::new(false),
    )
    .unwrap();
    let fitted = Fitted {
        columns: post.density.columns.clone(),
        results,
    };
    // An output of the parameters alone is kept.
    assert_eq!(fitted.columns, ["beta", "R0"]);
    for row in fitted.results.iter().flat_map(|r| &r.rows) {
        assert_eq!(row[1], row[0] / SIR_GAMMA);
    }
    let s = fitted.summary("beta");
    let mut all = fitted.column("beta").concat();
    all.sort_by(f64::total_cmp);
    let (lo, hi) = (
        diagnostics::quantile(&all, 0.025),
        diagnostics::quantile(&all, 0.975),
    );
    let draws: Vec<_> = fitted.results.iter().flat_map(|r| &r.stats).collect();
    let acceptance = draws.iter().map(|s| s.accept_stat).sum::<f64>() / draws.len() as f64;
    eprintln!(
        "beta: {:.3} ± {:.3}, 95 % {lo:.3}–{hi:.3} (ESS {:.0}, R-hat {:.3}); acceptance {acceptance:.3}",
        s.mean, s.sd, s.ess_bulk, s.rhat
    );
    assert!(s.rhat < 1.05, "R-hat {}", s.rhat);
    assert!(
        lo < SIR_BETA && SIR_BETA < hi,
        "true beta {SIR_BETA} outside the 95 % interval {lo}–{hi}"
    );
    // The counts inform it: the prior's 95 % interval is 0.14–7.1.
    assert!(hi - lo < 2.0, "95 % interval {lo}–{hi}");
}

#[path = "common/cli.rs"]
mod cli;

mod command_line {
    use super::cli::{assert_clean_failure, ito, stderr, stdout};
    use super::{SRC, data};
    use std::path::PathBuf;

    fn scratch(name: &str) -> PathBuf {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("pmmh")
            .join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// The OU model and its observed series (one value missing, written as null).
    fn files(dir: &std::path::Path) -> (String, String) {
        let model = dir.join("ou.sde");
        std::fs::write(&model, SRC).unwrap();
        let series = data(11);
        let num = |v: &f64| {
            if v.is_nan() {
                "null".to_string()
            } else {
                format!("{v:?}")
            }
        };
        let t: Vec<String> = series.times.iter().map(num).collect();
        let y: Vec<String> = series.rows.iter().map(num).collect();
        let obs = dir.join("obs.json");
        std::fs::write(
            &obs,
            format!("{{\"t\": [{}], \"y\": [{}]}}", t.join(", "), y.join(", ")),
        )
        .unwrap();
        (
            model.to_str().unwrap().to_string(),
            obs.to_str().unwrap().to_string(),
        )
    }

    /// Data rows of a Stan CSV file (no comments: they hold the timing).
    fn rows(path: &std::path::Path) -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn pmmh_writes_stan_csv_and_does_not_depend_on_threads() {
        let dir = scratch("end_to_end");
        let (model, obs) = files(&dir);
        let run = |threads: &str, out: &str| {
            let out = dir.join(out);
            let o = ito(&[
                "infer",
                &model,
                "--data",
                &obs,
                "--particles",
                "40",
                "--sim-method",
                "em",
                "--chains",
                "2",
                "--warmup",
                "60",
                "--draws",
                "40",
                "--seed",
                "3",
                "--threads",
                threads,
                "--out",
                out.to_str().unwrap(),
            ]);
            assert!(o.status.success(), "{}", stderr(&o));
            (o, out)
        };
        let (o, out) = run("2", "two.csv");
        let err = stderr(&o);
        // The state space model defaults to pmmh; the state-reading output is not drawn.
        assert!(
            err.contains("with pmmh (40 particles, em (dt 0.1), 40 observation times)"),
            "{err}"
        );
        assert!(
            err.contains("`output let`s of model `OUObserved` are not in the draws"),
            "{err}"
        );
        let table = stdout(&o);
        for row in ["lp__", "loglik__", "theta", "tau"] {
            assert!(table.lines().any(|l| l.starts_with(row)), "{table}");
        }
        let first = dir.join("two_1.csv");
        let text = std::fs::read_to_string(&first).unwrap();
        assert!(
            text.contains("#     algorithm = pmmh\n#       particles = 40\n"),
            "{text}"
        );
        assert!(
            text.contains("#       sim_method = em\n#       dt = 0.1\n"),
            "{text}"
        );
        let lines = rows(&first);
        assert_eq!(
            lines[0],
            "lp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__,loglik__,theta,tau"
        );
        assert_eq!(lines.len(), 41);
        let (_, _) = run("1", "one.csv");
        let _ = out;
        for k in 1..=2 {
            assert_eq!(
                rows(&dir.join(format!("one_{k}.csv"))),
                rows(&dir.join(format!("two_{k}.csv")))
            );
        }
    }

    #[test]
    fn pmmh_refusals_are_clear() {
        let dir = scratch("refusals");
        let (model, obs) = files(&dir);
        let graphical = dir.join("normal.sde");
        std::fs::write(
            &graphical,
            "model Normal {\n  param mu ~ Normal(0, 1)\n  data y: real\n  y ~ Normal(mu, 1)\n}\n",
        )
        .unwrap();
        let graphical = graphical.to_str().unwrap();
        let dynamic = dir.join("ou_only.sde");
        std::fs::write(
            &dynamic,
            "model OU {\n  param theta = 1\n  state x = 0\n  dx = -theta * x dt + dW\n}\n",
        )
        .unwrap();
        let dynamic = dynamic.to_str().unwrap();
        let cases: [(&[&str], &str); 11] = [
            (
                &["infer", &model, "--data", &obs, "--particles", "0"],
                "--particles must be between 1 and",
            ),
            (
                &["infer", &model, "--data", &obs, "--ess-threshold", "1.5"],
                "--ess-threshold is a fraction of the particles between 0 and 1, not 1.5",
            ),
            (
                &["infer", &model, "--data", &obs, "--dt", "0"],
                "--dt must be a positive number",
            ),
            (
                &["infer", &model, "--data", &obs, "--max-events", "0"],
                "--max-events must be at least 1",
            ),
            (
                &["infer", graphical, "--set", "y=1", "--rtol", "1e-3"],
                "--rtol sets the particle filter of --method pmmh; it does not apply to nuts",
            ),
            (
                &["infer", graphical, "--set", "y=1", "--method", "pmmh"],
                "model `Normal` is a graphical model; --method pmmh fits state-space models",
            ),
            (
                &["infer", graphical, "--set", "y=1", "--particles", "100"],
                "--particles sets the particle filter of --method pmmh; it does not apply to nuts",
            ),
            (
                &["infer", &model, "--data", &obs, "--method", "nuts"],
                "is fitted with --method pmmh (the default for state-space models), not nuts",
            ),
            (
                &["infer", &model, "--data", &obs, "--optimize"],
                "so it has no --optimize",
            ),
            (
                &["infer", dynamic],
                "declare what is observed of it with `obs` to fit it",
            ),
            (
                &["infer", &model, "--sim-method", "ssa", "--data", &obs],
                "moves by an SDE or ODE scheme",
            ),
        ];
        for (args, expect) in cases {
            assert_clean_failure(&ito(args), expect);
        }
        // No observed series at all.
        let o = ito(&["infer", &model]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    }
}
