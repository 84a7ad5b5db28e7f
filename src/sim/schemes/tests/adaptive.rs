//! The adaptive method: the Brownian bridge of its rejections, strong error against the
//! exact solution on the Brownian path it used, moments with many rejections, batch
//! independence, ODEs. Statistical tolerances are 4.5 Monte Carlo standard errors.

use super::support::*;
use crate::rt::{Rng, rng_from_seed};
use crate::sim::SdeSystem;
use crate::sim::schemes::adaptive::{Adaptive, bridge_split, fresh};
use crate::sim::schemes::{Increments, Stepper, Tolerances};

const Z: f64 = 4.5;

fn tol(t: f64) -> Tolerances {
    Tolerances { rtol: t, atol: t }
}

/// Run `m` paths from `x0` to `t_end` in calls of `dt` (the runner's way, one batch), each
/// path drawing from its own stream. Returns the final states and the stepper.
fn run(sys: &TestSys, x0: &[f64], m: usize, t_end: f64, dt: f64, tl: f64) -> (Vec<f64>, Adaptive) {
    let mut st = Adaptive::new(sys, tol(tl)).expect("fits");
    let mut rngs = rngs(5, 0, m);
    let mut x: Vec<f64> = (0..m).flat_map(|_| x0.iter().copied()).collect();
    let n = (t_end / dt).round() as usize;
    for i in 0..n {
        assert!(st.step_drawing(sys, i as f64 * dt, dt, &mut x, &mut rngs));
    }
    (x, st)
}

/// Mean, variance and their standard errors (that of the variance from the fourth moment).
fn moments(x: &[f64]) -> (f64, f64, f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let m2 = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    let m4 = x.iter().map(|v| (v - mean).powi(4)).sum::<f64>() / n;
    (
        mean,
        m2 * n / (n - 1.0),
        (m2 / n).sqrt(),
        ((m4 - m2 * m2) / n).sqrt(),
    )
}

#[test]
fn the_bridge_has_the_right_law_and_its_pieces_add_up_exactly() {
    let mut rng = rng_from_seed(41);
    let (h, s) = (0.5, 0.15);
    let mut d = [0.0];
    let q = fresh(h, &mut rng, &mut d);
    let n = 100_000;
    let (mut p1, mut p2) = ([0.0], [0.0]);
    let mut xs = Vec::with_capacity(n);
    for _ in 0..n {
        let qc = bridge_split(&d, q, (0.0, s, h), &mut rng, &mut p1, &mut p2);
        assert!(qc <= q);
        assert_eq!((p1[0] + p2[0]).to_bits(), d[0].to_bits());
        xs.push(p1[0]);
    }
    let (mean, var, se_m, _) = moments(&xs);
    let (want_m, want_v) = (d[0] * s / h, s * (h - s) / h);
    assert!((mean - want_m).abs() < Z * se_m, "{mean} vs {want_m}");
    let se_v = (2.0 / n as f64).sqrt() * want_v;
    assert!((var - want_v).abs() < Z * se_v, "{var} vs {want_v}");

    // Exact at any depth, for any parent the method makes, several components at once.
    let mut parent = [0.0; 3];
    for _ in 0..20_000 {
        let mut len = 10f64.powf(-3.0 * uniform(&mut rng));
        let mut q = fresh(len, &mut rng, &mut parent);
        for _ in 0..12 {
            let s = len * (0.05 + 0.9 * uniform(&mut rng));
            let (mut a, mut b) = ([0.0; 3], [0.0; 3]);
            q = bridge_split(&parent, q, (0.0, s, len), &mut rng, &mut a, &mut b);
            for k in 0..3 {
                assert_eq!((a[k] + b[k]).to_bits(), parent[k].to_bits());
            }
            // Go on with one of the pieces.
            if uniform(&mut rng) < 0.5 {
                (parent, len) = (a, s);
            } else {
                (parent, len) = (b, len - s);
            }
        }
    }
}

fn uniform(rng: &mut Rng) -> f64 {
    use rand::RngExt as _;
    rng.random::<f64>()
}

/// OU dX = θ(μ − X) dt + σ dW.
fn ou(theta: f64, mu: f64, sigma: f64) -> TestSys {
    let mut ou = TestSys::new(1, 1, vec![(0, 0)], crate::sim::NoiseKind::Additive);
    ou.f = Box::new(move |_, x, o| o[0] = theta * (mu - x[0]));
    ou.g = Box::new(move |_, _, o| o[0] = sigma);
    ou
}

#[test]
fn rejections_do_not_bias_the_moments() {
    // OU from 0 to T = 1.
    let (theta, mu, sigma) = (1.0, 1.0, 0.5);
    let ou = ou(theta, mu, sigma);
    let m = 20_000;
    let (x, st) = run(&ou, &[0.0], m, 1.0, 0.25, 1e-4);
    let (acc, rej) = (0..m).fold((0, 0), |(a, r), j| {
        let (aj, rj) = st.counts(j);
        (a + aj, r + rj)
    });
    eprintln!("adaptive/ou: {acc} accepted, {rej} rejected");
    assert!(
        rej * 10 > acc,
        "too few rejections to test anything: {rej} of {acc}"
    );
    let (mean, var, se_m, se_v) = moments(&x);
    let want_m = mu * (1.0 - (-theta).exp());
    let want_v = sigma * sigma / (2.0 * theta) * (1.0 - (-2.0 * theta).exp());
    eprintln!("adaptive/ou: mean {mean} ({want_m}) ± {se_m}, var {var} ({want_v}) ± {se_v}");
    assert!((mean - want_m).abs() < Z * se_m);
    assert!((var - want_v).abs() < Z * se_v);
    // W(T) itself is N(0, T).
    let w: Vec<f64> = (0..m).map(|j| st.w(j)[0]).collect();
    let (wm, wv, se_wm, _) = moments(&w);
    assert!(wm.abs() < Z * se_wm, "{wm}");
    assert!((wv - 1.0).abs() < Z * (2.0 / m as f64).sqrt(), "{wv}");
}

#[test]
fn a_path_does_not_depend_on_its_batch_when_drawing() {
    let sys = additive_nonlinear();
    let x0 = |p: usize| [1.0 + 0.2 * p as f64, -0.5];
    let go = |batch: usize| -> Vec<f64> {
        let mut out = Vec::new();
        for first in (0..5).step_by(batch) {
            let mut st = Adaptive::new(&sys, tol(1e-3)).expect("fits");
            let mut rngs = rngs(17, first, batch);
            let mut x: Vec<f64> = (first..first + batch).flat_map(x0).collect();
            for i in 0..8 {
                st.step_drawing(&sys, i as f64 * 0.125, 0.125, &mut x, &mut rngs);
            }
            out.extend(x);
        }
        out
    };
    let (one, five) = (go(1), go(5));
    assert!(one.iter().all(|v| v.is_finite()));
    assert!(
        one.iter()
            .zip(&five)
            .all(|(a, b)| a.to_bits() == b.to_bits())
    );
}

#[test]
fn given_increments_are_bridged_inside_the_step() {
    // `step` with ΔW over [t, t + h] given: the path uses that increment (on its grid,
    // within 2⁻⁴⁰ of its scale) with internal steps, and the moments stay right.
    let sys = ou(1.0, 1.0, 0.5);
    let m = 4000;
    let mut st = Adaptive::new(&sys, tol(1e-3)).expect("fits");
    let mut rngs = rngs(3, 0, m);
    let (h, n) = (0.25, 4);
    let mut x = vec![0.0; m];
    let mut dw = vec![0.0; m];
    let mut w = vec![0.0; m];
    for i in 0..n {
        crate::sim::schemes::draw_increments(h, 1, &mut rngs, &mut dw, None);
        for (w, d) in w.iter_mut().zip(&dw) {
            *w += d;
        }
        let inc = Increments { dw: &dw, i10: &[] };
        st.step(&sys, i as f64 * h, h, &mut x, &inc);
    }
    for (j, &w) in w.iter().enumerate() {
        assert!((st.w(j)[0] - w).abs() < 1e-10, "{} vs {w}", st.w(j)[0]);
        assert!(st.counts(j).0 > n as u64, "no internal steps");
    }
    let (mean, var, se_m, se_v) = moments(&x);
    let want_m = 1.0 - (-1.0f64).exp();
    let want_v = 0.125 * (1.0 - (-2.0f64).exp());
    assert!((mean - want_m).abs() < Z * se_m, "{mean} vs {want_m}");
    assert!((var - want_v).abs() < Z * se_v, "{var} vs {want_v}");
}

#[test]
fn an_ode_is_integrated_to_its_tolerance() {
    // x' = −x + sin t, x(0) = 1: x = 1.5e^{−t} + (sin t − cos t)/2.
    let sys = TestSys::ode(1, |t, x, o| o[0] = -x[0] + t.sin());
    let exact = |t: f64| 1.5 * (-t).exp() + 0.5 * (t.sin() - t.cos());
    let mut last = f64::INFINITY;
    for tl in [1e-4, 1e-6] {
        let (x, st) = run(&sys, &[1.0], 1, 3.0, 0.5, tl);
        let err = (x[0] - exact(3.0)).abs();
        eprintln!(
            "adaptive/ode tol {tl:e}: error {err:.2e}, steps {:?}",
            st.counts(0)
        );
        // Euler's local error ∝ h² is held at the tolerance, so h ∝ √tol and the global
        // error ∝ √tol: a factor 10 for these two.
        assert!(err < tl.sqrt() && err < last / 5.0, "{err}");
        last = err;
    }
    // A solution that blows up (x' = x², x(0) = 1, at t = 1) ends as NaN.
    let boom = TestSys::ode(1, |_, x, o| o[0] = x[0] * x[0]);
    let (x, _) = run(&boom, &[1.0], 1, 2.0, 0.5, 1e-6);
    assert!(x[0].is_nan());
    assert_eq!(boom.noise_dim(), 0);
}
