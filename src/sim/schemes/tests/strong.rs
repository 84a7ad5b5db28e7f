//! Strong convergence orders: each scheme against the exact solution (or a much finer
//! run) driven by the same Brownian path, at five step sizes a factor 2 apart.
//!
//! The asserted band is ±0.15 around the theoretical order: it allows for pre-asymptotic
//! curvature of the error curve at the coarse end. Monte Carlo noise in the slope is kept
//! well inside it: each test also asserts that the slope's jackknife standard error is
//! below 0.03, so the band is at least 5 standard errors wide.

use super::support::*;
use crate::sim::schemes::Method;

const BAND: f64 = 0.15;
const MAX_SE: f64 = 0.03;
/// Step sizes T/16 … T/256 from a fine grid of 256 steps.
const RS: [usize; 5] = [16, 8, 4, 2, 1];

fn check(name: &str, s: &Strong, order: f64) {
    eprintln!(
        "{name}: slope {:.3} ± {:.3} (errors {:?} at h {:?})",
        s.slope, s.se, s.err, s.h
    );
    assert!(s.se < MAX_SE, "{name}: slope too noisy ({:.3})", s.se);
    assert!(
        (s.slope - order).abs() < BAND,
        "{name}: strong order {:.3}, expected {order}",
        s.slope
    );
}

/// Exact finals of independent GBM components x_i(T) = x0_i exp((μ_i − ½Σ_k s_ik²)T +
/// Σ_k s_ik W_k(T)), Itô drifts μ, noise loadings s[i][k].
fn gbm_exact<const N: usize, const W: usize>(
    x0: [f64; N],
    mu: [f64; N],
    s: [[f64; W]; N],
    t: f64,
    w_end: &[f64],
) -> Vec<f64> {
    w_end
        .chunks_exact(W)
        .flat_map(|w| {
            (0..N).map(move |i| {
                let v: f64 = s[i].iter().map(|a| a * a).sum();
                let sw: f64 = s[i].iter().zip(w).map(|(a, b)| a * b).sum();
                x0[i] * ((mu[i] - 0.5 * v) * t + sw).exp()
            })
        })
        .collect()
}

const MU: f64 = 0.5;
const SIGMA: f64 = 0.8;

fn scalar_gbm(method: Method, sys: &TestSys, seed: u64) -> Strong {
    let d = Drive {
        m: 4000,
        nw: 1,
        n: 256,
        t_end: 1.0,
        seed,
    };
    let f = d.run(sys, &[1.0], method, &RS, None);
    strong(&f, &gbm_exact([1.0], [MU], [[SIGMA]], 1.0, &f.w_end), 1)
}

#[test]
fn em_gbm_order_half() {
    let s = scalar_gbm(Method::Em, &gbm(MU, SIGMA), 11);
    check("em/gbm", &s, 0.5);
}

#[test]
fn milstein_gbm_order_one() {
    let s = scalar_gbm(Method::Milstein, &gbm(MU, SIGMA), 12);
    check("milstein/gbm", &s, 1.0);
    let s = scalar_gbm(Method::Milstein, &gbm_stratonovich(MU, SIGMA), 13);
    check("milstein/stratonovich gbm", &s, 1.0);
}

#[test]
fn heun_stratonovich_gbm_order_one() {
    let s = scalar_gbm(Method::Heun, &gbm_stratonovich(MU, SIGMA), 15);
    check("heun/stratonovich gbm", &s, 1.0);
}

#[test]
fn milstein_commutative_general_order_one() {
    let sg = [[0.5, 0.3], [0.2, 0.6]];
    let x0 = [1.0, 2.0];
    let d = Drive {
        m: 4000,
        nw: 2,
        n: 256,
        t_end: 1.0,
        seed: 14,
    };
    let mu = [0.3, -0.2];
    let f = d.run(
        &commutative_general(mu, sg),
        &x0,
        Method::Milstein,
        &RS,
        None,
    );
    let s = strong(&f, &gbm_exact(x0, mu, sg, 1.0, &f.w_end), 2);
    check("milstein/commutative general (itô)", &s, 1.0);
    // Stratonovich with zero drift: the Itô drift is ½Σ_k s_ik² x_i.
    let half = |i: usize| 0.5 * (sg[i][0] * sg[i][0] + sg[i][1] * sg[i][1]);
    let strat = commutative_general([0.0; 2], sg).stratonovich();
    let f = d.run(&strat, &x0, Method::Milstein, &RS, None);
    let s = strong(&f, &gbm_exact(x0, [half(0), half(1)], sg, 1.0, &f.w_end), 2);
    check("milstein/commutative general (stratonovich)", &s, 1.0);
}

#[test]
fn sriw1_diagonal_gbm_order_three_halves() {
    let (mu, sg) = ([0.5, -0.3], [0.6, 0.4]);
    let x0 = [1.0, 1.5];
    let loads = [[sg[0], 0.0], [0.0, sg[1]]];
    // T/32 … T/512: at coarser steps the local slopes are still near 1.4.
    let d = Drive {
        m: 4000,
        nw: 2,
        n: 512,
        t_end: 1.0,
        seed: 16,
    };
    let f = d.run(&diagonal_gbm(mu, sg), &x0, Method::Sri, &RS, None);
    let s = strong(&f, &gbm_exact(x0, mu, loads, 1.0, &f.w_end), 2);
    check("sri/diagonal gbm", &s, 1.5);
    // The Stratonovich form of the same model goes through the drift correction.
    let strat = diagonal_gbm(
        [mu[0] - 0.5 * sg[0] * sg[0], mu[1] - 0.5 * sg[1] * sg[1]],
        sg,
    );
    let f = d.run(&strat.stratonovich(), &x0, Method::Sri, &RS, None);
    let s = strong(&f, &gbm_exact(x0, mu, loads, 1.0, &f.w_end), 2);
    check("sri/stratonovich diagonal gbm", &s, 1.5);
}

#[test]
fn sra1_additive_order_three_halves() {
    // No closed form: the reference is SRA1 itself at h = T/16384 on the same paths, whose
    // error is (16384/1024)^1.5 = 64 times below the finest step tested. On this problem
    // the drift's deterministic second-order error dominates at coarse steps (local slopes
    // near 1.8 above h = 1/32), so the step sizes are T/64 … T/1024, where the stochastic
    // h^1.5 terms lead.
    let d = Drive {
        m: 1000,
        nw: 2,
        n: 16384,
        t_end: 1.0,
        seed: 17,
    };
    let x0 = [0.5, -0.5];
    let sys = additive_nonlinear();
    let f = d.run(
        &sys,
        &x0,
        Method::Sra,
        &[256, 128, 64, 32, 16],
        Some(Method::Sra),
    );
    let s = strong(&f, &f.reference, 2);
    check("sra/additive", &s, 1.5);
}

#[test]
fn scalar_noise_on_two_components() {
    // One Wiener process drives both components: the noise column is a vector, SRIW1 and
    // Milstein take their derivatives along it.
    let (mu, sg) = ([0.4, -0.2], [0.5, 0.7]);
    let x0 = [1.0, 0.5];
    let loads = [[sg[0]], [sg[1]]];
    let sys = scalar_pair(mu, sg);
    let d = Drive {
        m: 4000,
        nw: 1,
        n: 512,
        t_end: 1.0,
        seed: 18,
    };
    let f = d.run(&sys, &x0, Method::Sri, &RS, None);
    check(
        "sri/scalar pair",
        &strong(&f, &gbm_exact(x0, mu, loads, 1.0, &f.w_end), 2),
        1.5,
    );
    let f = d.run(&sys, &x0, Method::Milstein, &RS, None);
    check(
        "milstein/scalar pair",
        &strong(&f, &gbm_exact(x0, mu, loads, 1.0, &f.w_end), 2),
        1.0,
    );
}
