//! The ODE methods: rk4's order, dopri5's tolerance, landing and guards.

use super::support::*;
use crate::sim::schemes::{Increments, Method, Tolerances, stepper};
use std::sync::Mutex;
use std::sync::atomic::Ordering;

const NONE: Increments = Increments { dw: &[], i10: &[] };

/// Harmonic oscillator x'' = −x from (1, 0): (cos t, −sin t).
fn oscillator() -> TestSys {
    TestSys::ode(2, |_, x, o| {
        o[0] = x[1];
        o[1] = -x[0];
    })
}

/// x' = cos(t)·x from 1: exp(sin t) (checks the stages' times).
fn time_dependent() -> TestSys {
    TestSys::ode(1, |t, x, o| o[0] = t.cos() * x[0])
}

/// Integrate one path over [0, t_end] in `n` outer steps.
fn solve(
    method: Method,
    sys: &TestSys,
    x0: &[f64],
    t_end: f64,
    n: usize,
    tol: Tolerances,
) -> Vec<f64> {
    let mut st = stepper(method, sys, tol).expect("fits");
    let mut x = x0.to_vec();
    let h = t_end / n as f64;
    for s in 0..n {
        st.step(sys, s as f64 * h, h, &mut x, &NONE);
    }
    x
}

fn dist(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(a, b)| (a - b) * (a - b))
        .sum::<f64>()
        .sqrt()
}

#[test]
fn rk4_order_four() {
    // Deterministic: the band only allows for the error curve's pre-asymptotic bend.
    for (name, sys, x0, exact) in [
        (
            "oscillator",
            oscillator(),
            vec![1.0, 0.0],
            vec![2f64.cos(), -2f64.sin()],
        ),
        (
            "cos(t)·x",
            time_dependent(),
            vec![1.0],
            vec![2f64.sin().exp()],
        ),
    ] {
        let ns = [8, 16, 32, 64];
        let hs: Vec<f64> = ns.iter().map(|&n| 2.0 / n as f64).collect();
        let errs: Vec<f64> = ns
            .iter()
            .map(|&n| {
                dist(
                    &solve(Method::Rk4, &sys, &x0, 2.0, n, Tolerances::default()),
                    &exact,
                )
            })
            .collect();
        let s = slope(&hs, &errs);
        eprintln!("rk4/{name}: order {s:.3}, errors {errs:?}");
        assert!((s - 4.0).abs() < 0.15, "{name}: order {s}");
    }
}

#[test]
fn dopri5_meets_its_tolerance() {
    // Local error per unit step is held to tol (mixed norm); over an interval of length
    // ~10 the global error of these non-stiff problems stays within a small multiple of
    // tol·T. Outer steps of 0.7 are not a multiple of anything the controller picks.
    let (n, t_end) = (14, 9.8f64);
    for tol in [1e-4, 1e-6, 1e-8, 1e-10] {
        let t = Tolerances {
            rtol: tol,
            atol: tol,
        };
        for (name, sys, x0, exact) in [
            (
                "oscillator",
                oscillator(),
                vec![1.0, 0.0],
                vec![t_end.cos(), -t_end.sin()],
            ),
            (
                "cos(t)·x",
                time_dependent(),
                vec![1.0],
                vec![t_end.sin().exp()],
            ),
        ] {
            let x = solve(Method::Dopri5, &sys, &x0, t_end, n, t);
            let err = dist(&x, &exact);
            eprintln!("dopri5/{name} tol {tol:e}: error {err:.3e}");
            assert!(err < 10.0 * tol * t_end, "{name}, tol {tol}: error {err}");
        }
    }
}

#[test]
fn dopri5_lands_exactly_on_each_step_end() {
    // A clock component (x' = 1) and recorded call times: the last stage of every call is
    // evaluated at exactly t + h and nothing beyond it.
    let mut sys = TestSys::ode(2, |t, x, o| {
        o[0] = 1.0;
        o[1] = -x[1] + t.sin();
    });
    sys.times = Some(Mutex::new(Vec::new()));
    let mut st = stepper(Method::Dopri5, &sys, Tolerances::default()).expect("fits");
    let mut x = vec![0.0, 1.0];
    let mut t = 0.0;
    for h in [0.3, 0.01, 1.7, 0.25, 2.0] {
        sys.times.as_ref().unwrap().lock().unwrap().clear();
        st.step(&sys, t, h, &mut x, &NONE);
        let times = sys.times.as_ref().unwrap().lock().unwrap().clone();
        let end = t + h;
        assert!(
            times.iter().all(|&s| s >= t && s <= end),
            "stage outside [{t}, {end}]"
        );
        assert_eq!(times.last().copied(), Some(end), "last stage not at t + h");
        assert!((x[0] - end).abs() < 1e-12, "clock {} at {end}", x[0]);
        t = end;
    }
}

#[test]
fn dopri5_reuses_step_size_and_fsal_between_calls() {
    // A fresh start costs f(t, x) and one more evaluation for the starting step size; a
    // continued one costs exactly 6 evaluations per substep (stage 1 is the last call's
    // stage 7).
    let sys = oscillator();
    let mut st = stepper(Method::Dopri5, &sys, Tolerances::default()).expect("fits");
    let mut x = vec![1.0, 0.0];
    st.step(&sys, 0.0, 1.0, &mut x, &NONE);
    assert_eq!(sys.drift_calls.load(Ordering::Relaxed) % 6, 2);
    for k in 1..5 {
        sys.drift_calls.store(0, Ordering::Relaxed);
        st.step(&sys, k as f64, 1.0, &mut x, &NONE);
        let calls = sys.drift_calls.load(Ordering::Relaxed);
        assert!(calls > 0 && calls.is_multiple_of(6), "{calls} calls");
    }
    // A state changed between calls starts afresh.
    x[0] += 0.1;
    sys.drift_calls.store(0, Ordering::Relaxed);
    st.step(&sys, 5.0, 1.0, &mut x, &NONE);
    assert_eq!(sys.drift_calls.load(Ordering::Relaxed) % 6, 2);
}

#[test]
fn dopri5_gives_up_on_blowups_and_nan() {
    // x' = x² from 1 blows up at t = 1: the step size underflows and the path becomes NaN
    // instead of looping.
    let sys = TestSys::ode(1, |_, x, o| o[0] = x[0] * x[0]);
    let mut st = stepper(Method::Dopri5, &sys, Tolerances::default()).expect("fits");
    let mut x = vec![1.0, 0.5];
    st.step(&sys, 0.0, 1.5, &mut x, &NONE);
    assert!(x[0].is_nan(), "{x:?}");
    assert!(
        (x[1] - 0.5 / (1.0 - 0.5 * 1.5)).abs() < 1e-4,
        "the other path is fine: {x:?}"
    );
    // A right-hand side that turns NaN.
    let sys = TestSys::ode(1, |_, x, o| o[0] = if x[0] > 2.0 { f64::NAN } else { 1.0 });
    let mut st = stepper(Method::Dopri5, &sys, Tolerances::default()).expect("fits");
    let mut x = vec![0.0];
    st.step(&sys, 0.0, 5.0, &mut x, &NONE);
    assert!(x[0].is_nan());
}
