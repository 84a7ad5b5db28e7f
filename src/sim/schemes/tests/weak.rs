//! Weak order and distributions: Euler–Maruyama's bias on GBM, and an Itô model against
//! its Stratonovich form.

use super::support::*;
use crate::sim::schemes::{Increments, Method, Tolerances, draw_increments, stepper};

#[test]
fn em_weak_order_one() {
    // For GBM, E[X_h(T)] = x0 (1 + μh)^N exactly (each step multiplies by 1 + μh + σΔW),
    // so the bias at each h is known. Common random numbers: the estimator is the mean of
    // X_h(T) − X(T) over the same paths, with E[X(T)] = x0 e^{μT}; its standard error
    // (~√h/√M) is far below the bias (~h) at these step sizes.
    let (mu, sigma) = (1.0f64, 0.5);
    let m = 20_000;
    let d = Drive {
        m,
        nw: 1,
        n: 64,
        t_end: 1.0,
        seed: 21,
    };
    let f = d.run(&gbm(mu, sigma), &[1.0], Method::Em, &[8, 4, 2, 1], None);
    let exact: Vec<f64> = f
        .w_end
        .iter()
        .map(|w| ((mu - 0.5 * sigma * sigma) + sigma * w).exp())
        .collect();
    let (mut hs, mut biases) = (Vec::new(), Vec::new());
    for (x, &h) in f.x.iter().zip(&f.h) {
        let d: Vec<f64> = x.iter().zip(&exact).map(|(a, b)| a - b).collect();
        let mean = d.iter().sum::<f64>() / m as f64;
        let var = d.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (m - 1) as f64;
        let se = (var / m as f64).sqrt();
        let want = (1.0 + mu * h).powf(1.0 / h) - mu.exp();
        eprintln!("em weak: h {h}: bias {mean:.5} ± {se:.5}, exact {want:.5}");
        assert!(
            (mean - want).abs() < 4.5 * se,
            "h {h}: bias {mean} vs {want} (se {se})"
        );
        assert!(want.abs() > 20.0 * se, "the bias must dominate the noise");
        hs.push(h);
        biases.push(-mean);
    }
    // The exact biases' own slope over these h is 0.955 (the O(h²) term): the band allows
    // for that and the noise.
    let s = slope(&hs, &biases);
    eprintln!("em weak order: {s:.3}");
    assert!((s - 1.0).abs() < 0.1, "weak order {s}");
}

/// Mean, variance and the standard errors of both, of a sample.
fn moments(x: &[f64]) -> (f64, f64, f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let m4 = x.iter().map(|v| (v - mean).powi(4)).sum::<f64>() / n;
    (mean, var, (var / n).sqrt(), ((m4 - var * var) / n).sqrt())
}

/// Run `m` paths of `sys` from 1 over [0, 1] in `n` steps with fresh increments.
fn run(method: Method, sys: &TestSys, m: usize, n: usize, seed: u64) -> Vec<f64> {
    let mut st = stepper(method, sys, Tolerances::default()).expect("fits");
    let mut rngs = rngs(seed, 0, m);
    let (mut dw, mut i10) = (vec![0.0; m], vec![0.0; m]);
    let mut x = vec![1.0; m];
    let h = 1.0 / n as f64;
    for s in 0..n {
        let area = st.needs_area().then_some(&mut i10[..]);
        draw_increments(h, 1, &mut rngs, &mut dw, area);
        let inc = Increments { dw: &dw, i10: &i10 };
        st.step(sys, s as f64 * h, h, &mut x, &inc);
    }
    x
}

#[test]
fn ito_and_stratonovich_forms_agree() {
    // Itô dX = μX dt + σX dW and Stratonovich dX = (μ − σ²/2)X dt + σX∘dW are one process:
    // E X(1) = e^μ, Var X(1) = e^{2μ}(e^{σ²} − 1). Each run uses its own seed, so the runs
    // are independent samples. At h = 1/256 the schemes' biases in the mean are below 3e-4
    // (EM: E[X_h] = (1 + μh)^N; heun on this linear model: (1 + μh + (μ − σ²/2)²h²/2)^N)
    // against a standard error of about 4e-3, and in the variance below 1e-3 against about
    // 3.6e-3: within the noise.
    let (mu, sigma) = (0.3f64, 0.4f64);
    let (m, n) = (20_000, 256);
    let mean = mu.exp();
    let var = (2.0 * mu).exp() * ((sigma * sigma).exp() - 1.0);
    let ito = run(Method::Em, &gbm(mu, sigma), m, n, 31);
    let heun = run(Method::Heun, &gbm_stratonovich(mu, sigma), m, n, 32);
    let em_strat = run(Method::Em, &gbm_stratonovich(mu, sigma), m, n, 33);
    let runs = [
        ("itô em", &ito),
        ("stratonovich heun", &heun),
        ("stratonovich em", &em_strat),
    ];
    let stats: Vec<_> = runs.iter().map(|(_, x)| moments(x)).collect();
    for ((name, _), &(mn, vr, se_m, se_v)) in runs.iter().zip(&stats) {
        eprintln!(
            "{name}: mean {mn:.4} ± {se_m:.4} (exact {mean:.4}), var {vr:.4} ± {se_v:.4} (exact {var:.4})"
        );
        assert!(
            (mn - mean).abs() < 4.5 * se_m,
            "{name}: mean {mn} vs {mean}"
        );
        assert!(
            (vr - var).abs() < 4.5 * se_v,
            "{name}: variance {vr} vs {var}"
        );
    }
    // Pairwise, independent samples: the difference's standard error adds in quadrature.
    for a in 0..3 {
        for b in a + 1..3 {
            let (ma, va, sma, sva) = stats[a];
            let (mb, vb, smb, svb) = stats[b];
            assert!((ma - mb).abs() < 4.5 * sma.hypot(smb), "means {a} {b}");
            assert!((va - vb).abs() < 4.5 * sva.hypot(svb), "variances {a} {b}");
        }
    }
}

#[test]
fn em_drift_correction_reproduces_the_ito_model() {
    // On the same increments, EM on the Stratonovich form (drift + correction) is EM on
    // the Itô form: the correction ½σ²x added to (μ − σ²/2)x gives μx up to rounding.
    let (mu, sigma) = (0.3, 0.4);
    let a = run(Method::Em, &gbm(mu, sigma), 100, 64, 41);
    let b = run(Method::Em, &gbm_stratonovich(mu, sigma), 100, 64, 41);
    for (a, b) in a.iter().zip(&b) {
        assert!((a - b).abs() <= 1e-13 * a.abs(), "{a} vs {b}");
    }
}
