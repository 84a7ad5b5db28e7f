//! Which method fits which model (and the messages when not), the default method, the
//! random increments, and independence of a path's numbers from its batch.

use super::support::*;
use crate::sim::schemes::{
    Increments, Method, Tolerances, Unfit, check_commutative, default_method, draw_increments,
    stepper,
};
use crate::sim::{NoiseKind, SdeSystem};
use std::sync::atomic::Ordering;

fn refusal(method: Method, sys: &TestSys) -> String {
    match stepper(method, sys, Tolerances::default()) {
        Ok(_) => panic!("`{}` accepted the model", method.name()),
        Err(Unfit(m)) => {
            // Shown verbatim by the CLI: one sentence, one line, no final period.
            assert!(
                !m.contains('\n') && !m.contains(". ") && !m.ends_with('.'),
                "{m}"
            );
            assert!(m.starts_with(&format!("`{}`", method.name())), "{m}");
            m
        }
    }
}

fn fits(method: Method, sys: &TestSys) -> bool {
    stepper(method, sys, Tolerances::default()).is_ok()
}

#[test]
fn ode_methods_refuse_noise() {
    for m in [Method::Rk4, Method::Dopri5] {
        assert_eq!(
            refusal(m, &gbm(0.1, 0.2)),
            format!(
                "`{}` integrates ODEs; this model has noise terms — use em, milstein, heun, \
                 sra or sri",
                m.name()
            )
        );
    }
}

#[test]
fn sra_refuses_multiplicative_noise() {
    let m = refusal(Method::Sra, &gbm(0.1, 0.2));
    assert!(m.contains("needs additive noise"), "{m}");
    assert!(m.contains("use sri"), "{m}");
    let m = refusal(Method::Sra, &commutative_general([0.0; 2], [[0.1; 2]; 2]));
    assert!(m.contains("use em or heun"), "{m}");
}

#[test]
fn sri_refuses_general_noise() {
    let m = refusal(Method::Sri, &commutative_general([0.0; 2], [[0.1; 2]; 2]));
    assert!(
        m.contains("needs scalar, diagonal or additive noise"),
        "{m}"
    );
    // Scalar noise on several components, diagonal and additive noise (general pattern)
    // are fine.
    let mut scalar = TestSys::new(2, 1, vec![(0, 0), (1, 0)], NoiseKind::Scalar);
    scalar.g = Box::new(|_, x, o| o.copy_from_slice(x));
    assert!(fits(Method::Sri, &scalar));
    assert!(fits(Method::Sri, &diagonal_gbm([0.0; 2], [0.1; 2])));
    assert!(fits(Method::Sri, &additive_nonlinear()));
}

#[test]
fn methods_needing_noise_derivatives_refuse_without_them() {
    let m = refusal(Method::Milstein, &gbm(0.1, 0.2).without_jvp());
    assert!(
        m.contains("needs the derivatives of the noise terms"),
        "{m}"
    );
    assert!(m.ends_with("use em"), "{m}");
    let strat = || gbm_stratonovich(0.1, 0.2).without_jvp();
    assert!(refusal(Method::Milstein, &strat()).ends_with("use heun"));
    for method in [Method::Em, Method::Sri] {
        let m = refusal(method, &strat());
        assert!(m.contains("this Stratonovich model's noise terms to convert it to Itô form"));
        assert!(m.contains("use heun"), "{m}");
    }
    let m = refusal(Method::Heun, &gbm(0.1, 0.2).without_jvp());
    assert!(
        m.contains("this Itô model's noise terms to convert it to Stratonovich"),
        "{m}"
    );
    // Additive noise needs no derivatives, in either calculus; heun needs none for a
    // Stratonovich model, em and sri none for an Itô one.
    let additive = || additive_nonlinear().without_jvp();
    for method in [
        Method::Em,
        Method::Milstein,
        Method::Heun,
        Method::Sra,
        Method::Sri,
    ] {
        assert!(fits(method, &additive()));
        assert!(fits(method, &additive().stratonovich()));
    }
    assert!(fits(Method::Heun, &strat()));
    assert!(fits(Method::Em, &gbm(0.1, 0.2).without_jvp()));
    assert!(fits(Method::Sri, &gbm(0.1, 0.2).without_jvp()));
}

#[test]
fn adaptive_refuses_state_dependent_noise() {
    let want = "`adaptive` needs additive noise (accepting Euler–Maruyama steps by the noise they \
                drew biases state-dependent noise) — use em, milstein, sri or heun";
    assert_eq!(refusal(Method::Adaptive, &gbm(0.1, 0.2)), want);
    assert_eq!(refusal(Method::Adaptive, &gbm_stratonovich(0.1, 0.2)), want);
    assert_eq!(refusal(Method::Adaptive, &noncommutative_general()), want);
    assert!(fits(Method::Adaptive, &additive_nonlinear().without_jvp()));
    assert!(fits(Method::Adaptive, &additive_nonlinear().stratonovich()));
    assert!(fits(
        Method::Adaptive,
        &TestSys::ode(1, |_, x, o| o[0] = -x[0])
    ));
}

#[test]
fn commutativity_is_checked_at_the_state() {
    let x = [1.0, 2.0, 0.5, -3.0]; // two paths
    for sys in [cross_diagonal(), noncommutative_general()] {
        assert!(fits(Method::Milstein, &sys), "stepper cannot see the state");
        let Err(Unfit(m)) = check_commutative(&sys, 0.0, &x) else {
            panic!("non-commutative noise passed")
        };
        assert!(
            m.starts_with("`milstein` needs commutative noise and the noise terms of this model do not commute (noise components 0 and 1"),
            "{m}"
        );
        assert!(!m.contains('\n') && !m.contains(". "), "{m}");
    }
    // Where the non-commuting terms vanish the check passes: it is a property of the state.
    assert!(check_commutative(&cross_diagonal(), 0.0, &[0.0, 0.0]).is_ok());
    assert!(
        check_commutative(
            &commutative_general([0.1; 2], [[0.3, 0.5], [0.7, 0.2]]),
            0.0,
            &x
        )
        .is_ok()
    );
    assert!(check_commutative(&diagonal_gbm([0.0; 2], [0.3, 0.4]), 0.0, &x).is_ok());
    assert!(check_commutative(&gbm(0.1, 0.2), 0.0, &[1.0, 2.0]).is_ok());
    assert!(check_commutative(&additive_nonlinear().without_jvp(), 0.0, &x).is_ok());
    let Err(Unfit(m)) = check_commutative(&cross_diagonal().without_jvp(), 0.0, &x) else {
        panic!()
    };
    assert!(m.contains("needs the derivatives"), "{m}");
}

#[test]
fn default_methods() {
    let ode = TestSys::ode(1, |_, x, o| o[0] = -x[0]);
    assert_eq!(default_method(&ode), Method::Dopri5);
    assert_eq!(default_method(&additive_nonlinear()), Method::Sra);
    assert_eq!(default_method(&gbm(0.1, 0.2)), Method::Sri);
    assert_eq!(
        default_method(&diagonal_gbm([0.0; 2], [0.1; 2])),
        Method::Sri
    );
    assert_eq!(default_method(&gbm_stratonovich(0.1, 0.2)), Method::Sri);
    assert_eq!(
        default_method(&gbm_stratonovich(0.1, 0.2).without_jvp()),
        Method::Heun
    );
    let general = || commutative_general([0.0; 2], [[0.1; 2]; 2]);
    assert_eq!(default_method(&general()), Method::Em);
    assert_eq!(default_method(&general().stratonovich()), Method::Heun);
    // Every default fits its model.
    for sys in [
        ode,
        additive_nonlinear(),
        gbm(0.1, 0.2),
        general(),
        general().stratonovich(),
    ] {
        assert!(fits(default_method(&sys), &sys));
    }
}

#[test]
fn increments_have_the_right_law() {
    // ΔW ~ N(0, h), I ~ N(0, h³/3), Cov(ΔW, I) = h²/2; each moment within 4.5 standard
    // errors (those of a sample second moment of Gaussians: √(2/n)·σ², and for the
    // covariance √((σ_w²σ_i² + c²)/n)).
    let (h, n) = (0.01, 200_000);
    let mut rngs = rngs(7, 0, n);
    let (mut dw, mut i10) = (vec![0.0; n], vec![0.0; n]);
    draw_increments(h, 1, &mut rngs, &mut dw, Some(&mut i10));
    let mean = |v: &[f64]| v.iter().sum::<f64>() / n as f64;
    let (vw, vi, c) = (h, h * h * h / 3.0, h * h / 2.0);
    let nf = n as f64;
    assert!(mean(&dw).abs() < 4.5 * (vw / nf).sqrt());
    assert!(mean(&i10).abs() < 4.5 * (vi / nf).sqrt());
    let sq: Vec<f64> = dw.iter().map(|w| w * w).collect();
    assert!((mean(&sq) - vw).abs() < 4.5 * (2.0 / nf).sqrt() * vw);
    let sq: Vec<f64> = i10.iter().map(|a| a * a).collect();
    assert!((mean(&sq) - vi).abs() < 4.5 * (2.0 / nf).sqrt() * vi);
    let pr: Vec<f64> = dw.iter().zip(&i10).map(|(w, a)| w * a).collect();
    assert!((mean(&pr) - c).abs() < 4.5 * ((vw * vi + c * c) / nf).sqrt());
}

/// A path's initial state by its index.
type Start = dyn Fn(usize) -> Vec<f64>;

/// Run paths `0..7` of `sys` with `method` for 20 steps from `x0(path)`, as one batch of 7
/// or as 7 batches of 1, drawing increments the runner's way.
fn run_batched(method: Method, sys: &TestSys, x0: &Start, batch: usize) -> Vec<f64> {
    let (nx, nw, h) = (sys.dim(), sys.noise_dim(), 0.05);
    let mut out = Vec::new();
    for first in (0..7).step_by(batch) {
        let mut st = stepper(method, sys, Tolerances::default()).expect("fits");
        let mut rngs = rngs(99, first, batch);
        let mut x: Vec<f64> = (first..first + batch).flat_map(x0).collect();
        let (mut dw, mut i10) = (vec![0.0; batch * nw], vec![0.0; batch * nw]);
        for s in 0..20 {
            let area = st.needs_area().then_some(&mut i10[..]);
            draw_increments(h, nw, &mut rngs, &mut dw, area);
            let inc = Increments { dw: &dw, i10: &i10 };
            st.step(sys, s as f64 * h, h, &mut x, &inc);
        }
        assert_eq!(x.len(), batch * nx);
        out.extend(x);
    }
    out
}

#[test]
fn a_path_does_not_depend_on_its_batch() {
    let x0 = |p: usize| vec![1.0 + 0.1 * p as f64, 2.0 - 0.2 * p as f64];
    let x1 = |p: usize| vec![1.0 + 0.1 * p as f64];
    let cases: Vec<(Method, TestSys, &Start)> = vec![
        (Method::Em, gbm(0.3, 0.5), &x1),
        (Method::Em, gbm_stratonovich(0.3, 0.5), &x1),
        (
            Method::Milstein,
            commutative_general([0.1, 0.2], [[0.3, 0.5], [0.7, 0.2]]),
            &x0,
        ),
        (
            Method::Milstein,
            commutative_general([0.1, 0.2], [[0.3, 0.5], [0.7, 0.2]]).stratonovich(),
            &x0,
        ),
        (Method::Milstein, diagonal_gbm([0.1, 0.2], [0.3, 0.5]), &x0),
        (Method::Heun, gbm(0.3, 0.5), &x1),
        (Method::Sra, additive_nonlinear(), &x0),
        (
            Method::Sri,
            diagonal_gbm([0.1, 0.2], [0.3, 0.5]).stratonovich(),
            &x0,
        ),
        (
            Method::Rk4,
            TestSys::ode(1, |t, x, o| o[0] = t.cos() * x[0]),
            &x1,
        ),
        (
            Method::Dopri5,
            TestSys::ode(1, |t, x, o| o[0] = t.cos() * x[0] - x[0] * x[0] * x[0]),
            &x1,
        ),
        (Method::Adaptive, additive_nonlinear().stratonovich(), &x0),
    ];
    for (method, sys, x0) in cases {
        let one = run_batched(method, &sys, x0, 1);
        let seven = run_batched(method, &sys, x0, 7);
        assert!(one.iter().all(|v| v.is_finite()));
        let same = one
            .iter()
            .zip(&seven)
            .all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(same, "{}: {one:?} vs {seven:?}", method.name());
    }
}

#[test]
fn em_uses_the_fused_step_only_when_it_applies() {
    let mut ito = gbm(0.3, 0.5);
    ito.fused = true;
    let mut strat = gbm_stratonovich(0.3, 0.5);
    strat.fused = true;
    let x = |p: usize| vec![1.0 + p as f64];
    let fused = run_batched(Method::Em, &ito, &x, 7);
    assert_eq!(ito.fused_calls.load(Ordering::Relaxed), 20);
    ito.fused = false;
    let composed = run_batched(Method::Em, &ito, &x, 7);
    for (a, b) in fused.iter().zip(&composed) {
        assert!((a - b).abs() <= 1e-14 * a.abs(), "{a} vs {b}");
    }
    // The fused step knows nothing of the Stratonovich correction.
    run_batched(Method::Em, &strat, &x, 7);
    assert_eq!(strat.fused_calls.load(Ordering::Relaxed), 0);
}

#[test]
fn the_drift_correction_is_half_the_noise_derivative_along_the_noise() {
    // g_ik = s_ik x_i: c_i = ½ Σ_k s_ik² x_i. EM on the zero-drift Stratonovich model for
    // one step with ΔW = 0 moves x by h·c exactly.
    let s = [[0.3, 0.5], [0.7, 0.2]];
    let sys = commutative_general([0.0; 2], s).stratonovich();
    let mut st = stepper(Method::Em, &sys, Tolerances::default()).expect("fits");
    let mut x = vec![1.0, 2.0];
    let h = 0.5;
    st.step(
        &sys,
        0.0,
        h,
        &mut x,
        &Increments {
            dw: &[0.0, 0.0],
            i10: &[],
        },
    );
    for (i, x0) in [1.0, 2.0].into_iter().enumerate() {
        let c = 0.5 * (s[i][0] * s[i][0] + s[i][1] * s[i][1]) * x0;
        assert!(
            (x[i] - (x0 + h * c)).abs() < 1e-15,
            "{i}: {} vs {}",
            x[i],
            x0 + h * c
        );
    }
}
