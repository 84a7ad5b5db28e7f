//! Derivative kernels against central finite differences of their primal kernels, for every
//! example and stdlib model (through the reference evaluator).
//!
//! Tolerance: with step h = 1e-5 the central difference has truncation error about
//! h²·|f'''|/6 ≈ 2e-11·|f'''| and rounding error about 2ε·|f|/h ≈ 4e-11·|f|; for the smooth,
//! moderately scaled functions here both are below 1e-8, so |AD − FD| ≤ 1e-6·(1 + |AD|) leaves
//! two orders of margin while still catching any wrong derivative rule (which is off by O(1)).

use ito::check::types::Scalar;
use ito::ir::eval::{Args, run};
use ito::ir::lower::{LoweredModel, size_index};
use ito::ir::{Buf, Kernel};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

#[path = "common/corpus.rs"]
mod corpus;
use corpus::{buffer_sizes, lowered_models};

const H: f64 = 1e-5;
const POINTS: usize = 20;

struct Buffers {
    x: Vec<f64>,
    p: Vec<f64>,
    d: Vec<f64>,
    /// Whether each x / p element is a continuous (real) value that may be perturbed.
    x_real: Vec<bool>,
    p_real: Vec<bool>,
    sizes: Vec<f64>,
}

fn element_kinds(
    slots: &[ito::ir::lower::Slot],
    sizes_of: &dyn Fn(&ito::ir::lower::Slot) -> usize,
) -> Vec<Scalar> {
    slots
        .iter()
        .flat_map(|s| std::iter::repeat_n(s.ty.scalar, sizes_of(s)))
        .collect()
}

/// Random inputs inside the models' typical domains (positive rates, probabilities in (0, 1),
/// whole counts for integer slots, ±1 spins).
fn inputs(m: &LoweredModel, rng: &mut StdRng) -> Buffers {
    // Data sizes first: scalar data slots hold small whole numbers.
    let n_scalar_d = m.layout.d.iter().filter(|s| s.ty.is_scalar()).count();
    // Small whole numbers: sizes of data arrays, and counts for discrete likelihoods.
    let mut d: Vec<f64> = (0..n_scalar_d)
        .map(|_| f64::from(rng.random_range(1..4)))
        .collect();
    let sizes = buffer_sizes(m, &d);
    let len = |i: usize| sizes[i] as usize;
    // Element kinds per buffer, from the layout (arrays expanded by their run-time sizes):
    // reconstruct by walking slots with the data-dependent lengths resolved via `sizes`.
    let fixed_or = |s: &ito::ir::lower::Slot, total: usize, others: usize| -> usize {
        s.fixed_len()
            .map_or(total.saturating_sub(others), |n| n as usize)
    };
    let kinds = |slots: &[ito::ir::lower::Slot], total: usize| -> Vec<Scalar> {
        let fixed: usize = slots
            .iter()
            .filter_map(|s| s.fixed_len())
            .map(|n| n as usize)
            .sum();
        let n_var = slots
            .iter()
            .filter(|s| s.fixed_len().is_none())
            .count()
            .max(1);
        let per_var = total.saturating_sub(fixed) / n_var;
        element_kinds(slots, &|s| {
            fixed_or(s, fixed + per_var, fixed).min(if s.fixed_len().is_none() {
                per_var
            } else {
                usize::MAX
            })
        })
    };
    let x_kinds = kinds(&m.layout.x, len(size_index::X));
    let p_kinds = kinds(&m.layout.p, len(size_index::P));
    let d_kinds = kinds(&m.layout.d, len(size_index::D));
    let value = |s: Scalar, rng: &mut StdRng| match s {
        Scalar::Int => f64::from(rng.random_range(2..20)),
        Scalar::Spin => {
            if rng.random_range(0..2) == 0 {
                1.0
            } else {
                -1.0
            }
        }
        Scalar::Bool => f64::from(rng.random_range(0..2)),
        _ => rng.random_range(0.2..0.9),
    };
    let x: Vec<f64> = (0..len(size_index::X))
        .map(|i| value(x_kinds.get(i).copied().unwrap_or(Scalar::Real), rng))
        .collect();
    let p: Vec<f64> = (0..len(size_index::P))
        .map(|i| value(p_kinds.get(i).copied().unwrap_or(Scalar::Real), rng))
        .collect();
    for i in n_scalar_d..len(size_index::D) {
        d.push(value(d_kinds.get(i).copied().unwrap_or(Scalar::Real), rng));
    }
    Buffers {
        x_real: (0..x.len())
            .map(|i| x_kinds.get(i) == Some(&Scalar::Real))
            .collect(),
        p_real: (0..p.len())
            .map(|i| p_kinds.get(i) == Some(&Scalar::Real))
            .collect(),
        x,
        p,
        d,
        sizes,
    }
}

fn eval(k: &Kernel, b: &Buffers, x: &[f64], p: &[f64], aux: &[f64], out_len: usize) -> Vec<f64> {
    let mut out = vec![0.0; out_len];
    let (mut x, mut p) = (x.to_vec(), p.to_vec());
    run(
        k,
        &mut Args {
            t: 0.5,
            x: &mut x,
            p: &mut p,
            d: &b.d,
            aux,
            rng: None,
            out: &mut out,
        },
    );
    out
}

fn close(ad: f64, fd: f64) -> bool {
    (ad - fd).abs() <= 1e-6 * (1.0 + ad.abs())
}

#[test]
fn forward_mode_matches_finite_differences() {
    let mut rng = StdRng::seed_from_u64(0xd1ff);
    let mut checked = 0;
    for m in lowered_models() {
        for (primal, jvp) in [("drift", "drift_jvp"), ("diffusion", "diffusion_jvp")] {
            let Some(f) = m.kernel(primal) else { continue };
            // Every model here is differentiable: a missing derivative kernel is a bug.
            let df = m
                .kernel(jvp)
                .unwrap_or_else(|| panic!("{}: `{primal}` has no `{jvp}`", m.name));
            for _ in 0..POINTS {
                let b = inputs(&m, &mut rng);
                let out_len = if primal == "drift" {
                    b.x.len()
                } else {
                    b.sizes[size_index::DIFFUSION] as usize
                };
                let v: Vec<f64> = (0..b.x.len())
                    .map(|i| {
                        if b.x_real[i] {
                            rng.random_range(-1.0..1.0)
                        } else {
                            0.0
                        }
                    })
                    .collect();
                let ad = eval(df, &b, &b.x, &b.p, &v, out_len);
                let shift = |s: f64| -> Vec<f64> {
                    b.x.iter().zip(&v).map(|(x, v)| x + s * H * v).collect()
                };
                let plus = eval(f, &b, &shift(1.0), &b.p, &[], out_len);
                let minus = eval(f, &b, &shift(-1.0), &b.p, &[], out_len);
                for j in 0..out_len {
                    let fd = (plus[j] - minus[j]) / (2.0 * H);
                    if !fd.is_finite() || !ad[j].is_finite() {
                        continue;
                    }
                    assert!(
                        close(ad[j], fd),
                        "{}: {jvp}[{j}] = {} but finite differences give {fd}\nx = {:?}\np = {:?}\nv = {:?}",
                        m.name,
                        ad[j],
                        b.x,
                        b.p,
                        v
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(
        checked > 500,
        "only {checked} derivative values were compared"
    );
}

#[test]
fn reverse_mode_matches_finite_differences() {
    let mut rng = StdRng::seed_from_u64(0xb4c4);
    let mut checked = 0;
    for m in lowered_models() {
        let Some(f) = m.kernel("log_density") else {
            continue;
        };
        for (grad, wrt) in [
            ("log_density_grad_p", Buf::P),
            ("log_density_grad_x", Buf::X),
        ] {
            let Some(g) = m.kernel(grad) else {
                // Over x only for targets with continuous states; over p always.
                assert_ne!(wrt, Buf::P, "{}: `log_density` has no `{grad}`", m.name);
                continue;
            };
            let before = checked;
            let mut any_real = false;
            for _ in 0..POINTS {
                // Draw until the point is inside the density's support.
                let b = (0..200)
                    .map(|_| inputs(&m, &mut rng))
                    .find(|b| eval(f, b, &b.x, &b.p, &[], 1)[0].is_finite())
                    .unwrap_or_else(|| panic!("{}: no input with a finite log density", m.name));
                let (vec, real) = if wrt == Buf::P {
                    (&b.p, &b.p_real)
                } else {
                    (&b.x, &b.x_real)
                };
                any_real |= real.iter().any(|&r| r);
                let w = 0.7;
                let (x, p) = (b.x.clone(), b.p.clone());
                // The gradient, then the density itself.
                let ad = eval(g, &b, &x, &p, &[w], vec.len() + 1);
                assert_eq!(
                    ad[vec.len()],
                    eval(f, &b, &x, &p, &[], 1)[0],
                    "{}: {grad} does not end with the density",
                    m.name
                );
                for k in 0..vec.len() {
                    if !real[k] {
                        continue;
                    }
                    let at = |s: f64| {
                        let mut v2 = vec.clone();
                        v2[k] += s * H;
                        if wrt == Buf::P {
                            eval(f, &b, &b.x, &v2, &[], 1)[0]
                        } else {
                            eval(f, &b, &v2, &b.p, &[], 1)[0]
                        }
                    };
                    let fd = w * (at(1.0) - at(-1.0)) / (2.0 * H);
                    if !fd.is_finite() {
                        continue;
                    }
                    assert!(
                        close(ad[k], fd),
                        "{}: {grad}[{k}] = {} but finite differences give {fd}\nx = {:?}\np = {:?}\nd = {:?}",
                        m.name,
                        ad[k],
                        b.x,
                        b.p,
                        b.d
                    );
                    checked += 1;
                }
            }
            // A model without real parameters (a target with no `param`) has nothing to
            // compare over p.
            assert!(
                checked > before || !any_real,
                "{}: no {grad} value was compared",
                m.name
            );
        }
    }
    assert!(
        checked > 200,
        "only {checked} gradient values were compared"
    );
}

/// d(a^y)/dy at a = 0 is 0 (0^y stays 0 as y moves), not 0·ln 0 = NaN.
#[test]
fn power_with_a_zero_base_has_a_finite_gradient_in_its_exponent() {
    let src = "model PowZero {\n  param n: real<lower=0> = 2.0\n  state x = 0.0\n  potential U = x^n + 0.5 * x^2\n}\n";
    let c = ito::frontend::compile_source("pow.sde", src, &ito::frontend::Options::default());
    assert!(c.diagnostics.is_empty(), "{:?}", c.diagnostics);
    let m = &c.lowered[0];
    let g = m.kernel("log_density_grad_p").expect("a gradient over p");
    let (mut x, mut p) = (vec![0.0], vec![2.0]);
    let mut out = vec![f64::NAN; 2];
    run(
        g,
        &mut Args {
            t: 0.0,
            x: &mut x,
            p: &mut p,
            d: &[],
            aux: &[1.0],
            rng: None,
            out: &mut out,
        },
    );
    assert_eq!(out[0], 0.0, "∂/∂n of −(0^n + 0) at n = 2");
    assert_eq!(out[1], 0.0, "the log density −U(0)");
}
