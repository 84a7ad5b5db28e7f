//! Reaction networks run as continuous systems (`prepare_view`): the deterministic rate
//! equations against closed forms, the chemical Langevin equation against the linear-noise
//! approximation (tolerances a number of Monte Carlo standard errors, fixed seeds), the
//! view kernels' values and derivatives, and the models the views refuse.

use ito::frontend::{Compilation, Options, compile_source};
use ito::ir::Kernel;
use ito::ir::eval::{self, Args};
use ito::sim::SdeSystem;
use ito::sim::bind::Setting;
use ito::sim::data::DataSet;
use ito::sim::ensemble::{self, EnsembleConfig, OnBlowup};
use ito::sim::prepare::{ReactionView, prepare_view};
use ito::sim::schemes::{Method, Tolerances};
use ito::sim::{Calculus, NoiseKind};
use std::sync::atomic::AtomicBool;

fn compile(src: &str) -> Compilation {
    let c = compile_source("test.sde", src, &Options::default());
    assert!(!c.has_errors(), "{:?}", c.diagnostics);
    c
}

/// Every path's recording (`times × variables`, row-major by time), in path order.
fn simulate(
    src: &str,
    view: ReactionView,
    method: Method,
    paths: usize,
    times: &[f64],
    dt: f64,
) -> Vec<Vec<f64>> {
    let c = compile(src);
    let native =
        prepare_view(&c, None, &[], &DataSet::default(), view).expect("the network prepares");
    let sys = native.system();
    let cfg = EnsembleConfig {
        paths,
        seed: 20260417,
        threads: 2,
        method,
        tolerances: Tolerances {
            rtol: 1e-10,
            atol: 1e-12,
        },
        times: times.to_vec(),
        dt,
        on_blowup: OnBlowup::Stop,
        progress: false,
    };
    let mut out = Vec::new();
    ensemble::run(&sys, &cfg, &AtomicBool::new(false), |_, v| {
        out.push(v.to_vec());
        Ok(())
    })
    .expect("the run succeeds");
    out
}

/// Immigration–death: 0 -> A at rate k, A -> A − 1 at rate γ A.
fn immigration_death(a0: f64) -> String {
    format!(
        "model ImmigrationDeath {{
  param k: real = 100.0
  param gamma: real = 1.0
  species A = {a0}
  reactions {{
    birth: 0 -> A @ k
    death: A -> 0 @ gamma
  }}
}}"
    )
}

#[test]
fn rate_equations_of_immigration_death_match_the_closed_form() {
    let (k, gamma, a0) = (100.0f64, 1.0f64, 7.0f64);
    let times = [0.1, 0.5, 1.0, 2.0, 5.0];
    let rec = simulate(
        &immigration_death(a0),
        ReactionView::Rre,
        Method::Dopri5,
        2,
        &times,
        0.1,
    );
    for path in &rec {
        for (i, &t) in times.iter().enumerate() {
            let e = (-gamma * t).exp();
            let want = a0 * e + k / gamma * (1.0 - e);
            let got = path[i];
            assert!(
                (got - want).abs() <= 1e-7 * want,
                "A({t}) = {got}, exact {want}"
            );
        }
    }
}

#[test]
fn rate_equations_of_dimerisation_match_the_closed_form() {
    // 2 A -> B @ k. The exact propensity k C(A, 2) = k A (A − 1) / 2 becomes, for large
    // counts, the macroscopic rate r = k A² / 2 firings per unit time. Each firing removes
    // two A and makes one B, so dA/dt = −2 r = −k A² and dB/dt = r = k A² / 2. Hence
    // 1/A(t) = 1/A0 + k t, i.e. A(t) = A0 / (1 + k A0 t), and B(t) = B0 + (A0 − A(t)) / 2.
    let src = "model Dimer {
  param k: real = 0.002
  species A = 300, B = 10
  reactions {
    dimerise: 2 A -> B @ k
  }
  output let total = A + 2 * B
}";
    let (k, a0, b0) = (0.002f64, 300.0f64, 10.0f64);
    let times = [0.5, 1.0, 3.0, 10.0];
    let rec = simulate(src, ReactionView::Rre, Method::Dopri5, 1, &times, 0.5);
    let nvars = 3;
    for (i, &t) in times.iter().enumerate() {
        let a = a0 / (1.0 + k * a0 * t);
        let b = b0 + (a0 - a) / 2.0;
        let row = &rec[0][i * nvars..(i + 1) * nvars];
        assert!(
            (row[0] - a).abs() <= 1e-7 * a,
            "A({t}) = {}, exact {a}",
            row[0]
        );
        assert!(
            (row[1] - b).abs() <= 1e-7 * b,
            "B({t}) = {}, exact {b}",
            row[1]
        );
        // The output sees the same state: A + 2 B is conserved.
        assert!((row[2] - (a0 + 2.0 * b0)).abs() <= 1e-7 * row[2]);
    }
}

/// Sample mean and variance of column `var` at time index `k`.
fn mean_var(rec: &[Vec<f64>], nvars: usize, k: usize, var: usize) -> (f64, f64) {
    let xs: Vec<f64> = rec.iter().map(|v| v[k * nvars + var]).collect();
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let s2 = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, s2)
}

const Z: f64 = 4.0;

#[test]
fn cle_of_immigration_death_has_the_linear_noise_moments() {
    // The network is linear, so the linear-noise approximation is exact for the CLE's first
    // two moments (while A stays positive, which from A0 = 0 with k = 100 it does after the
    // first few hundredths): from A0 = 0 both the mean and the variance are the Poisson
    // mean m(t) = k/γ (1 − e^{−γt}).
    let (k, gamma) = (100.0f64, 1.0f64);
    let times = [0.25, 0.5, 1.0, 2.0, 4.0];
    let paths = 4000;
    let rec = simulate(
        &immigration_death(0.0),
        ReactionView::Cle,
        Method::Em,
        paths,
        &times,
        0.002,
    );
    assert_eq!(rec.len(), paths);
    let n = paths as f64;
    for (i, &t) in times.iter().enumerate() {
        let m = k / gamma * (1.0 - (-gamma * t).exp());
        let (mean, s2) = mean_var(&rec, 1, i, 0);
        // Standard errors: sd/√n for the mean; for the variance, the Gaussian
        // approximation var(s²) ≈ 2σ⁴/(n − 1).
        let se_mean = (s2 / n).sqrt();
        let se_var = (2.0 * m * m / (n - 1.0)).sqrt();
        assert!(
            (mean - m).abs() <= Z * se_mean,
            "mean at {t}: got {mean}, LNA {m}, tolerance {Z} × {se_mean}"
        );
        assert!(
            (s2 - m).abs() <= Z * se_var,
            "variance at {t}: got {s2}, LNA {m}, tolerance {Z} × {se_var}"
        );
    }
}

/// Reversible dimerisation with a `=>` reaction (its rate used as written in both views).
const DIMER: &str = "model Dimer {
  param c1: real = 0.003
  param c2: real = 0.4
  param d: real = 0.05
  species P = 0, P2 = 0
  reactions {
    dimerise: 2 P <-> P2 @ c1, c2
    decay: P2 => 0 @ d * P2
  }
}";

fn run_kernel(k: &Kernel, x: &[f64], p: &[f64], aux: &[f64], out_len: usize) -> Vec<f64> {
    let mut out = vec![f64::NAN; out_len];
    eval::run(
        k,
        &mut Args {
            t: 0.0,
            x: &mut x.to_vec(),
            p: &mut p.to_vec(),
            d: &[],
            aux,
            rng: None,
            out: &mut out,
        },
    );
    out
}

#[test]
fn view_kernels_compute_the_rate_equations_and_the_langevin_terms() {
    let c = compile(DIMER);
    let lm = &c.lowered[0];
    let kernel = |name: &str| lm.kernel(name).unwrap_or_else(|| panic!("no `{name}`"));
    let p = [0.003, 0.4, 0.05];
    let (c1, c2, d) = (p[0], p[1], p[2]);
    // Real-valued counts, one below the dimerisation's threshold (P ≤ 1: no pair), and a
    // negative one, which rates see as 0.
    for x in [[30.5f64, 4.25], [0.6, 2.0], [-0.5, 2.0]] {
        let (pp, p2) = (x[0], x[1]);
        let close = |got: &[f64], want: &[f64], what: &str| {
            for (g, w) in got.iter().zip(want) {
                assert!(
                    (g - w).abs() <= 1e-12 * (1.0 + w.abs()),
                    "{what} at {x:?}: {got:?}, want {want:?}"
                );
            }
        };
        // Macroscopic: c1 P² / 2 per firing (P read as max(P, 0)); exact: c1 P (P − 1) / 2,
        // 0 for P ≤ 1.
        let r = [c1 * pp.max(0.0).powi(2) / 2.0, c2 * p2, d * p2];
        let rre = run_kernel(kernel("rre_drift"), &x, &p, &[], 2);
        close(
            &rre,
            &[-2.0 * r[0] + 2.0 * r[1], r[0] - r[1] - r[2]],
            "rre_drift",
        );
        let a0 = if pp > 1.0 {
            c1 * pp * (pp - 1.0) / 2.0
        } else {
            0.0
        };
        let a = [a0, c2 * p2, d * p2];
        let cle = run_kernel(kernel("cle_drift"), &x, &p, &[], 2);
        close(
            &cle,
            &[-2.0 * a[0] + 2.0 * a[1], a[0] - a[1] - a[2]],
            "cle_drift",
        );
        let g = run_kernel(kernel("cle_diffusion"), &x, &p, &[], 5);
        let s = a.map(f64::sqrt);
        // Each reaction's species in the order of its net change: reactants first.
        close(
            &g,
            &[-2.0 * s[0], s[0], -s[1], 2.0 * s[1], -s[2]],
            "cle_diffusion",
        );
    }
    let pattern = run_kernel(kernel("cle_diffusion_pattern"), &[0.0; 2], &p, &[], 10);
    assert_eq!(pattern, [0., 0., 1., 0., 1., 1., 0., 1., 1., 2.]);

    let native = prepare_view(&c, None, &[], &DataSet::default(), ReactionView::Cle).unwrap();
    let sys = native.system();
    assert_eq!(sys.pattern(), [(0, 0), (1, 0), (1, 1), (0, 1), (1, 2)]);
    assert_eq!(
        (sys.noise_dim(), sys.noise_kind(), sys.calculus()),
        (3, NoiseKind::General, Calculus::Ito)
    );
    assert!(sys.has_diffusion_jvp());
    let native = prepare_view(&c, None, &[], &DataSet::default(), ReactionView::Rre).unwrap();
    let sys = native.system();
    assert_eq!((sys.noise_dim(), sys.noise_kind()), (0, NoiseKind::None));
}

/// The example reaction networks with the views' kernels, and values for the parameters
/// that have none.
const NETWORKS: [(&str, &[(&str, &str)]); 7] = [
    ("examples/birth_death.sde", &[]),
    ("examples/dimerisation.sde", &[]),
    ("examples/schlogl.sde", &[]),
    ("examples/sir.sde", &[]),
    (
        "examples/sir_cases.sde",
        &[("beta", "1.7"), ("gamma", "0.5"), ("rho", "0.8")],
    ),
    ("examples/toggle_switch.sde", &[]),
    ("examples/vilar.sde", &[]),
];

#[test]
fn cle_diffusion_jvp_matches_finite_differences() {
    use rand::{RngExt as _, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(0xc1e);
    let h = 1e-6;
    let mut compared = 0;
    for (file, sets) in NETWORKS {
        let c = ito::frontend::compile_file(std::path::Path::new(file), &Options::default());
        assert!(!c.has_errors(), "{file}");
        let settings: Vec<Setting> = sets
            .iter()
            .map(|(n, v)| Setting::parse(&format!("{n}={v}")).unwrap())
            .collect();
        let native = prepare_view(&c, None, &settings, &DataSet::default(), ReactionView::Cle)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let sys = native.system();
        let info = sys.model();
        let (p, nx, nd) = (&info.bound.p, info.nx, info.pattern.len());
        let lm = &c.lowered[0];
        let (g, jvp) = (
            lm.kernel("cle_diffusion").unwrap(),
            lm.kernel("cle_diffusion_jvp").unwrap(),
        );
        for _ in 0..20 {
            // Counts away from the propensities' kinks (x = ν − 1, a = 0).
            let x: Vec<f64> = (0..nx).map(|_| rng.random_range(3.5..60.5)).collect();
            let v: Vec<f64> = (0..nx).map(|_| rng.random_range(-1.0..1.0)).collect();
            let ad = run_kernel(jvp, &x, p, &v, nd);
            let at =
                |s: f64| -> Vec<f64> { x.iter().zip(&v).map(|(x, v)| x + s * h * v).collect() };
            let plus = run_kernel(g, &at(1.0), p, &[], nd);
            let minus = run_kernel(g, &at(-1.0), p, &[], nd);
            for e in 0..nd {
                let fd = (plus[e] - minus[e]) / (2.0 * h);
                assert!(
                    (ad[e] - fd).abs() <= 1e-6 * (1.0 + fd.abs()),
                    "{file}: entry {e} at {x:?} along {v:?}: jvp {}, finite differences {fd}",
                    ad[e]
                );
                compared += 1;
            }
        }
    }
    assert!(compared > 500, "only {compared} derivatives compared");
    // Where a propensity vanishes the entry's derivative is taken as 0, not 0/0.
    let c = compile(DIMER);
    let jvp = c.lowered[0].kernel("cle_diffusion_jvp").unwrap();
    let ad = run_kernel(jvp, &[30.0, 0.0], &[0.003, 0.4, 0.05], &[1.0, 1.0], 5);
    assert!(ad.iter().all(|d| d.is_finite()), "{ad:?}");
}

fn refusal(src: &str, view: ReactionView) -> String {
    match prepare_view(&compile(src), None, &[], &DataSet::default(), view) {
        Ok(_) => panic!("the model should be refused"),
        Err(e) => e,
    }
}

#[test]
fn views_refuse_models_that_are_not_reaction_networks() {
    let jump = "model Flip {
  param k: real = 1.0
  species A = 0
  state s: int = 0
  reactions {
    make: 0 -> A @ k
  }
  jump flip @ k { s = 1 - s }
}";
    assert_eq!(
        refusal(jump, ReactionView::Cle),
        "`cle` needs a reaction network; `jump flip` is a general jump"
    );
    let states = "model Spins {
  param k: real = 1.0
  species A = 0
  state s: spin
  state n: int = 0
  reactions {
    make: 0 -> A @ k
  }
}";
    assert_eq!(
        refusal(states, ReactionView::Cle),
        "`cle` needs a reaction network; state `s: spin` is not a species"
    );
    assert_eq!(
        refusal(states, ReactionView::Rre),
        "`ode` needs a reaction network; state `s: spin` is not a species"
    );
    let sde = "model OU {
  state x = 1.0
  dx = -x dt + 0.5 dW
}";
    assert_eq!(
        refusal(sde, ReactionView::Cle),
        "`cle` needs a reaction network; `dx = …` is a differential equation"
    );
    let event = "model Pulse {
  param k: real = 1.0
  species A = 0
  reactions {
    make: 0 -> A @ k
  }
  at t = 1.0 { A = 0 }
}";
    assert_eq!(
        refusal(event, ReactionView::Cle),
        "`cle` needs a reaction network; model `Pulse` has events, which change the state outside the reactions"
    );
}

#[test]
fn every_example_network_runs_briefly_in_both_views() {
    for (file, sets) in NETWORKS {
        let c = ito::frontend::compile_file(std::path::Path::new(file), &Options::default());
        let settings: Vec<Setting> = sets
            .iter()
            .map(|(n, v)| Setting::parse(&format!("{n}={v}")).unwrap())
            .collect();
        for (view, method) in [
            (ReactionView::Cle, Method::Em),
            (ReactionView::Rre, Method::Dopri5),
        ] {
            let native = prepare_view(&c, None, &settings, &DataSet::default(), view)
                .unwrap_or_else(|e| panic!("{file}: {e}"));
            let sys = native.system();
            let cfg = EnsembleConfig {
                paths: 50,
                seed: 7,
                threads: 2,
                method,
                tolerances: Tolerances::default(),
                times: vec![0.5, 1.0],
                dt: 0.01,
                on_blowup: OnBlowup::Stop,
                progress: false,
            };
            let mut finite = true;
            ensemble::run(&sys, &cfg, &AtomicBool::new(false), |_, v| {
                finite &= v.iter().all(|x| x.is_finite());
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{file} as `{}`: {e}", view.name()));
            assert!(finite, "{file} as `{}`", view.name());
        }
    }
}
