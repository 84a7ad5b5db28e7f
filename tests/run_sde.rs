//! `ito run`'s engine end to end (source text → kernels → native code → schemes → ensemble)
//! against exact answers. Tolerances are a number of Monte Carlo standard errors (estimated
//! from the same sample), with fixed seeds.

use ito::frontend::{Options, compile_source};
use ito::sim::bind::Setting;
use ito::sim::data::DataSet;
use ito::sim::ensemble::{self, EnsembleConfig, OnBlowup, RunError};
use ito::sim::prepare::prepare;
use ito::sim::schemes::{Method, Tolerances};
use std::sync::atomic::AtomicBool;

/// Every kept path's recording, by path index.
fn simulate(
    src: &str,
    method: Method,
    paths: usize,
    times: &[f64],
    dt: f64,
    threads: usize,
    sets: &[(&str, &str)],
) -> Result<Vec<(usize, Vec<f64>)>, RunError> {
    let c = compile_source("test.sde", src, &Options::default());
    assert!(!c.has_errors(), "{:?}", c.diagnostics);
    let settings: Vec<Setting> = sets
        .iter()
        .map(|(n, v)| Setting {
            name: n.to_string(),
            value: v.to_string(),
        })
        .collect();
    let native = prepare(&c, None, &settings, &DataSet::default()).expect("the model prepares");
    let sys = native.system();
    let cfg = EnsembleConfig {
        paths,
        seed: 20261123,
        threads,
        method,
        tolerances: Tolerances::default(),
        times: times.to_vec(),
        dt,
        on_blowup: OnBlowup::Stop,
        progress: false,
    };
    let mut out = Vec::new();
    ensemble::run(&sys, &cfg, &AtomicBool::new(false), |i, v| {
        out.push((i, v.to_vec()));
        Ok(())
    })?;
    Ok(out)
}

/// Sample mean, variance, and their standard errors for variable `var` at time index `k`.
struct Moments {
    mean: f64,
    var: f64,
    se_mean: f64,
    se_var: f64,
}

fn moments(rec: &[(usize, Vec<f64>)], nvars: usize, k: usize, var: usize) -> Moments {
    let xs: Vec<f64> = rec.iter().map(|(_, v)| v[k * nvars + var]).collect();
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let m2 = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    let m4 = xs.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / n;
    Moments {
        mean,
        var: m2 * n / (n - 1.0),
        se_mean: (m2 / n).sqrt(),
        // The sampling variance of the sample variance: (μ4 − σ⁴) / n.
        se_var: ((m4 - m2 * m2) / n).sqrt(),
    }
}

const Z: f64 = 4.0;

fn assert_close(what: &str, got: f64, want: f64, se: f64) {
    assert!(
        (got - want).abs() <= Z * se,
        "{what}: got {got}, exact {want}, tolerance {Z} × {se}"
    );
}

const OU: &str = "model OU {
  param theta: real = 1.0
  param mu: real = 0.5
  param sigma: real = 0.6
  state x = 2.0
  dx = theta * (mu - x) dt + sigma dW
}";

#[test]
fn ou_mean_and_variance_match_the_exact_transition() {
    let times = [0.25, 0.5, 1.0, 2.0, 5.0];
    for method in [Method::Em, Method::Sra, Method::Milstein] {
        let dt = if method == Method::Em { 0.001 } else { 0.01 };
        let rec = simulate(OU, method, 4000, &times, dt, 2, &[]).unwrap();
        assert_eq!(rec.len(), 4000);
        let (theta, mu, sigma, x0) = (1.0f64, 0.5, 0.6, 2.0);
        for (k, &t) in times.iter().enumerate() {
            let m = moments(&rec, 1, k, 0);
            let mean = mu + (x0 - mu) * (-theta * t).exp();
            let var = sigma * sigma / (2.0 * theta) * (1.0 - (-2.0 * theta * t).exp());
            assert_close(&format!("{method:?} mean at {t}"), m.mean, mean, m.se_mean);
            assert_close(&format!("{method:?} variance at {t}"), m.var, var, m.se_var);
        }
    }
}

const GBM: &str = "model GBM {
  param mu: real = 0.3
  param sigma: real = 0.4
  state S = 1.0
  dS = mu * S dt + sigma * S dW
  output let logS = log(S)
}";

/// GBM in Stratonovich form: the same process in distribution.
const GBM_STRAT: &str = "model GBMs {
  calculus stratonovich
  param mu: real = 0.3
  param sigma: real = 0.4
  state S = 1.0
  dS = (mu - sigma^2 / 2) * S dt + sigma * S dW
  output let logS = log(S)
}";

#[test]
fn gbm_mean_variance_and_log_moments_match_the_exact_solution() {
    let times = [0.5, 1.0];
    let (mu, sigma) = (0.3f64, 0.4f64);
    for (src, method) in [
        (GBM, Method::Em),
        (GBM, Method::Milstein),
        (GBM, Method::Sri),
        (GBM_STRAT, Method::Heun),
        (GBM_STRAT, Method::Em),
        (GBM_STRAT, Method::Milstein),
    ] {
        let dt = if method == Method::Em { 0.0005 } else { 0.005 };
        let rec = simulate(src, method, 4000, &times, dt, 2, &[]).unwrap();
        for (k, &t) in times.iter().enumerate() {
            let m = moments(&rec, 2, k, 0);
            let mean = (mu * t).exp();
            let var = (2.0 * mu * t).exp() * ((sigma * sigma * t).exp() - 1.0);
            let what = format!("{method:?} on {}", &src[6..10]);
            assert_close(&format!("{what}: mean at {t}"), m.mean, mean, m.se_mean);
            assert_close(&format!("{what}: variance at {t}"), m.var, var, m.se_var);
            // log S is Normal((mu − σ²/2) t, σ² t): the output kernel sees the same paths.
            let l = moments(&rec, 2, k, 1);
            assert_close(
                &format!("{what}: mean of log S at {t}"),
                l.mean,
                (mu - sigma * sigma / 2.0) * t,
                l.se_mean,
            );
            assert_close(
                &format!("{what}: variance of log S at {t}"),
                l.var,
                sigma * sigma * t,
                l.se_var,
            );
        }
    }
}

#[test]
fn results_do_not_depend_on_threads_or_on_the_number_of_paths() {
    let src = "model L {
      param s: real = 10
      noise W: real[3]
      state x = 1.0
      state y = 1.0
      state z ~ Normal(1, 0.1)
      dx = s * (y - x) dt + dW[1]
      dy = (x * (28 - z) - y) dt + dW[2]
      dz = (x * y - 8.0 / 3.0 * z) dt + dW[3]
    }";
    let times = [0.5, 1.0];
    for method in [Method::Em, Method::Sra, Method::Heun] {
        let one = simulate(src, method, 300, &times, 0.01, 1, &[]).unwrap();
        let two = simulate(src, method, 300, &times, 0.01, 2, &[]).unwrap();
        let fewer = simulate(src, method, 37, &times, 0.01, 2, &[]).unwrap();
        let bits = |r: &[(usize, Vec<f64>)]| -> Vec<(usize, Vec<u64>)> {
            r.iter()
                .map(|(i, v)| (*i, v.iter().map(|x| x.to_bits()).collect()))
                .collect()
        };
        assert_eq!(bits(&one), bits(&two), "{method:?}: 1 vs 2 threads");
        assert_eq!(
            bits(&one[..37]),
            bits(&fewer),
            "{method:?}: path i is path i"
        );
        // And the paths are not all the same path.
        assert_ne!(one[0].1, one[1].1);
    }
}

#[test]
fn odes_match_their_closed_forms() {
    // A damped oscillator x'' = −ω² x − 2ζω x' with ζ < 1, and logistic growth.
    let src = "model Osc {
      param w: real = 2.0
      param zeta: real = 0.1
      state x = 1.0
      state v = 0.0
      dx = v dt
      dv = (-w^2 * x - 2 * zeta * w * v) dt
    }";
    let (w, zeta) = (2.0f64, 0.1f64);
    let exact = |t: f64| {
        let wd = w * (1.0 - zeta * zeta).sqrt();
        (-zeta * w * t).exp() * ((wd * t).cos() + zeta * w / wd * (wd * t).sin())
    };
    let times = [1.0, 2.5, 5.0];
    for (method, dt, tol) in [
        (Method::Rk4, 0.01, 1e-8),
        (Method::Dopri5, 0.5, 1e-5),
        (Method::Em, 1e-4, 1e-3),
    ] {
        let rec = simulate(src, method, 1, &times, dt, 1, &[]).unwrap();
        for (k, &t) in times.iter().enumerate() {
            let got = rec[0].1[k * 2];
            assert!(
                (got - exact(t)).abs() < tol,
                "{method:?} at {t}: {got} vs {}",
                exact(t)
            );
        }
    }
    let logistic = "model Logistic {
      param r: real = 1.5
      param K: real = 10
      state n = 0.5
      dn = r * n * (1 - n / K) dt
    }";
    let rec = simulate(logistic, Method::Dopri5, 1, &[2.0, 6.0], 0.1, 1, &[]).unwrap();
    for (k, t) in [2.0f64, 6.0].into_iter().enumerate() {
        let want = 10.0 / (1.0 + (10.0 / 0.5 - 1.0) * (-1.5 * t).exp());
        assert!((rec[0].1[k] - want).abs() < 1e-5 * want, "logistic at {t}");
    }
}

#[test]
fn set_overrides_a_default() {
    let rec = simulate(OU, Method::Sra, 2000, &[3.0], 0.01, 2, &[("mu", "-1")]).unwrap();
    let m = moments(&rec, 1, 0, 0);
    let want = -1.0 + 3.0 * (-3.0f64).exp();
    assert_close("mean with mu = -1", m.mean, want, m.se_mean);
}

#[test]
fn a_blow_up_is_reported_with_path_time_and_variable() {
    let src = "model Boom {
      state x = 1.0
      state y = 0.0
      dx = x^2 dt
      dy = 1 dt + 0.1 dW
    }";
    // x = 1 / (1 − t) explodes at t = 1.
    let err = simulate(src, Method::Em, 10, &[2.0], 0.01, 2, &[]).unwrap_err();
    let RunError::Blowup(b) = err else {
        panic!("expected a blow-up, got {err:?}");
    };
    assert_eq!(b.path, 0);
    assert_eq!(b.variable, "x");
    assert!(b.time > 1.0 && b.time < 2.0, "blew up at {}", b.time);
}

#[test]
fn methods_that_do_not_fit_say_why() {
    let err = simulate(OU, Method::Rk4, 1, &[1.0], 0.1, 1, &[]).unwrap_err();
    assert!(
        matches!(&err, RunError::Unfit(m) if m.contains("rk4")),
        "{err:?}"
    );
    let err = simulate(GBM, Method::Sra, 1, &[1.0], 0.1, 1, &[]).unwrap_err();
    assert!(
        matches!(&err, RunError::Unfit(m) if m.contains("additive")),
        "{err:?}"
    );
}

#[test]
fn milstein_refuses_noise_that_does_not_commute() {
    // Two noises acting on two states through each other's state: L^1 g_·2 ≠ L^2 g_·1.
    let src = "model NonCommuting {
      noise W1, W2
      state x = 1.0
      state y = 1.0
      dx = 0.1 dt + 0.3 * y dW1 + 0.2 dW2
      dy = 0.1 dt + 0.1 dW1 + 0.3 * x dW2
    }";
    let err = simulate(src, Method::Milstein, 4, &[1.0], 0.1, 1, &[]).unwrap_err();
    assert!(
        matches!(&err, RunError::Unfit(m) if m.contains("commut")),
        "{err:?}"
    );
    // EM runs it.
    assert!(simulate(src, Method::Em, 4, &[1.0], 0.1, 1, &[]).is_ok());
}

#[test]
fn every_continuous_example_runs_briefly_with_its_default_method() {
    use ito::check::model::{Dynamics, ModelKind};
    use ito::frontend::compile_file;
    let mut ran = Vec::new();
    for entry in std::fs::read_dir("examples").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("sde") {
            continue;
        }
        let c = compile_file(&path, &Options::default());
        assert!(!c.has_errors(), "{}", path.display());
        for m in &c.program.models {
            let continuous = matches!(
                m.kind,
                ModelKind::Dynamic(Dynamics::Sde | Dynamics::Ode)
                    | ModelKind::StateSpace(Dynamics::Sde | Dynamics::Ode)
            );
            // Models whose parameters have priors but no values (to be fitted) need --set.
            if !continuous || m.params.iter().any(|p| p.default.is_none()) {
                continue;
            }
            let native = prepare(&c, Some(&m.name), &[], &DataSet::default())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let sys = native.system();
            let cfg = EnsembleConfig {
                paths: 20,
                seed: 1,
                threads: 2,
                method: ito::sim::schemes::default_method(&sys),
                tolerances: Tolerances::default(),
                times: vec![0.0, 0.5, 1.0],
                dt: 0.01,
                on_blowup: OnBlowup::Stop,
                progress: false,
            };
            let mut paths = 0;
            ensemble::run(&sys, &cfg, &AtomicBool::new(false), |_, v| {
                assert!(v.iter().all(|x| x.is_finite()), "{}: {v:?}", m.name);
                paths += 1;
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{}: {e}", m.name));
            assert_eq!(paths, 20);
            ran.push(m.name.clone());
        }
    }
    // The examples the issue names are among them.
    for name in [
        "OU",
        "GBM",
        "Lorenz63",
        "OverdampedDoubleWell",
        "DoubleWell",
        "CIR",
        "MeanField",
        "ReflectedBM",
    ] {
        assert!(ran.iter().any(|r| r == name), "{name} did not run: {ran:?}");
    }
}

#[test]
fn a_raised_cancellation_flag_stops_the_run() {
    let c = compile_source("test.sde", OU, &Options::default());
    let native = prepare(&c, None, &[], &DataSet::default()).unwrap();
    let cfg = EnsembleConfig {
        paths: 100,
        seed: 1,
        threads: 2,
        method: Method::Em,
        tolerances: Tolerances::default(),
        times: vec![1.0],
        dt: 0.01,
        on_blowup: OnBlowup::Stop,
        progress: false,
    };
    let mut delivered = 0;
    let err = ensemble::run(&native.system(), &cfg, &AtomicBool::new(true), |_, _| {
        delivered += 1;
        Ok(())
    })
    .unwrap_err();
    assert_eq!(err, RunError::Cancelled);
    assert_eq!(delivered, 0);
}

#[test]
fn adaptive_steps_match_the_ou_transition_and_refuse_multiplicative_noise() {
    // OU with the default tolerances (1e-6, 1e-9); --dt = 0.5 is only the largest step.
    let times = [0.5, 2.0];
    let rec = simulate(OU, Method::Adaptive, 1000, &times, 0.5, 2, &[]).unwrap();
    let (theta, mu, sigma, x0) = (1.0f64, 0.5, 0.6, 2.0);
    for (k, &t) in times.iter().enumerate() {
        let m = moments(&rec, 1, k, 0);
        let mean = mu + (x0 - mu) * (-theta * t).exp();
        let var = sigma * sigma / (2.0 * theta) * (1.0 - (-2.0 * theta * t).exp());
        assert_close(&format!("adaptive mean at {t}"), m.mean, mean, m.se_mean);
        assert_close(&format!("adaptive variance at {t}"), m.var, var, m.se_var);
    }
    let Err(RunError::Unfit(msg)) = simulate(GBM, Method::Adaptive, 10, &[1.0], 0.1, 1, &[]) else {
        panic!("adaptive accepted multiplicative noise")
    };
    assert!(msg.contains("needs additive noise"), "{msg}");
}
