//! `ito sample`: the target samplers against exact answers, the local spin-flip kernel
//! against the energy it stands for, and the command line.
//!
//! Statistical checks use a fixed seed and a tolerance of 4 Monte Carlo standard errors
//! (estimated from the draws, as the summary table does), plus, where a comparison has a
//! known systematic deviation, an a-priori bound on it stated beside the check.

use ito::frontend::{Compilation, Options, compile_file};
use ito::infer::chain::{Config, Method};
use ito::infer::diagnostics::ParamSummary;
use ito::infer::spins::SpinTarget;
use ito::infer::states::StateTarget;
use ito::infer::{report, spins, states};
use ito::ir::eval::{self, Args};
use ito::sim::bind::{self, Bound, Setting};
use ito::sim::data::DataSet;
use ito::sim::prepare;
use std::path::{Path, PathBuf};

#[path = "common/cli.rs"]
mod cli;
use cli::{assert_clean_failure, ito, stderr, stdout};

fn compiled(path: &str) -> Compilation {
    let c = compile_file(Path::new(path), &Options::default());
    assert!(!c.has_errors(), "{path}");
    c
}

fn bound(c: &Compilation, model: Option<&str>, settings: &[(&str, f64)]) -> Bound {
    let m = prepare::pick(c, model).unwrap();
    let lm = prepare::lowered(c, m).unwrap();
    let settings: Vec<Setting> = settings
        .iter()
        .map(|(n, v)| Setting {
            name: n.to_string(),
            value: v.to_string(),
        })
        .collect();
    bind::bind(lm, m, &settings, &DataSet::default()).unwrap()
}

fn config(method: Method, warmup: usize, draws: usize, thin: usize, step: f64) -> Config {
    Config {
        method,
        chains: 4,
        warmup,
        draws,
        seed: 20240611,
        threads: 2,
        max_depth: 10,
        target_accept: 0.8,
        thin,
        step,
        friction: 1.0,
    }
}

fn column<'a>(rows: &'a [(String, ParamSummary)], name: &str) -> &'a ParamSummary {
    &rows.iter().find(|(n, _)| n == name).unwrap().1
}

/// The mean is within 4 MCSE of `mean`, the variance within 4 standard errors of `var`
/// (the variance sd² has standard error ≈ 2·sd·mcse(sd)).
fn check_moments(what: &str, s: &ParamSummary, mean: f64, var: f64) {
    assert!(
        (s.mean - mean).abs() <= 4.0 * s.mcse_mean,
        "{what}: mean {} vs {mean} (mcse {})",
        s.mean,
        s.mcse_mean
    );
    let v = s.sd * s.sd;
    let se = 2.0 * s.sd * s.mcse_sd;
    assert!(
        (v - var).abs() <= 4.0 * se,
        "{what}: variance {v} vs {var} (se {se})"
    );
}

// ---- a correlated Gaussian potential ----

/// Σ = A⁻¹ of tests/models/gauss2.sde.
const SIGMA: [[f64; 2]; 2] = [[1.0, 2.7], [2.7, 9.0]];

fn inverse(m: [[f64; 2]; 2]) -> [[f64; 2]; 2] {
    let det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
    [
        [m[1][1] / det, -m[0][1] / det],
        [-m[1][0] / det, m[0][0] / det],
    ]
}

fn gauss(
    method: Method,
    warmup: usize,
    draws: usize,
    thin: usize,
    step: f64,
) -> Vec<(String, ParamSummary)> {
    let c = compiled("tests/models/gauss2.sde");
    let m = prepare::pick(&c, None).unwrap();
    let lm = prepare::lowered(&c, m).unwrap();
    let b = bound(&c, None, &[]);
    let target = StateTarget::new(m, lm, &b).unwrap();
    assert_eq!(target.density.columns, ["x", "y", "sum_xy"]);
    let results = states::run(
        &target.density,
        &config(method, warmup, draws, thin, step),
        &std::sync::atomic::AtomicBool::new(false),
    )
    .unwrap();
    report::summaries(&target.density.columns, &results)
}

fn check_gauss(what: &str, rows: &[(String, ParamSummary)], cov: [[f64; 2]; 2]) {
    check_moments(&format!("{what} x"), column(rows, "x"), 0.0, cov[0][0]);
    check_moments(&format!("{what} y"), column(rows, "y"), 0.0, cov[1][1]);
    // x + y checks the correlation too.
    let var_sum = cov[0][0] + cov[1][1] + 2.0 * cov[0][1];
    check_moments(&format!("{what} x+y"), column(rows, "sum_xy"), 0.0, var_sum);
}

#[test]
fn exact_samplers_recover_a_correlated_gaussian() {
    check_gauss("nuts", &gauss(Method::Nuts, 1000, 2000, 1, 0.0), SIGMA);
    check_gauss("hmc", &gauss(Method::Hmc, 1000, 4000, 1, 0.0), SIGMA);
    check_gauss("mala", &gauss(Method::Mala, 2000, 20000, 1, 0.0), SIGMA);
}

#[test]
fn ula_matches_the_stationary_law_of_its_discretisation() {
    // x' = (I − hA)x + √(2h)ξ has stationary covariance Σ_h solving
    // Σ_h = (I − hA)Σ_h(I − hA) + 2hI; everything commutes with A, so
    // Σ_h = (A − (h/2)A²)⁻¹ = Σ (I − (h/2)A)⁻¹, biased by O(h) from Σ.
    // h = 0.2 is stable (h λ_max(A) ≈ 1.15 < 2) and makes the bias large: the stiff
    // direction's variance is inflated by 1/(1 − 0.1·5.75) ≈ 2.35.
    let h = 0.2;
    let a = inverse(SIGMA);
    let mut m = [[0.0; 2]; 2];
    for i in 0..2 {
        for j in 0..2 {
            let a2: f64 = (0..2).map(|k| a[i][k] * a[k][j]).sum();
            m[i][j] = a[i][j] - 0.5 * h * a2;
        }
    }
    let sigma_h = inverse(m);
    // The bias is far beyond the tolerance: var x is 1.22 rather than 1.
    assert!(sigma_h[0][0] > 1.2, "{sigma_h:?}");
    // The slowest direction relaxes in 1/(h λ_min(A)) ≈ 50 steps.
    let rows = gauss(Method::Ula, 2000, 200_000, 10, h);
    check_gauss("ula", &rows, sigma_h);
    // … and the unbiased variance is rejected.
    let x = column(&rows, "x");
    assert!((x.sd * x.sd - 1.0).abs() > 4.0 * 2.0 * x.sd * x.mcse_sd);
}

#[test]
fn baoab_positions_are_exact_for_a_gaussian() {
    // BAOAB samples the configurational law of a harmonic system exactly at any stable step
    // (Leimkuhler & Matthews 2013): h = 0.2 < 2/√λ_max(A) ≈ 0.83.
    let rows = gauss(Method::Baoab, 2000, 100_000, 10, 0.2);
    check_gauss("baoab", &rows, SIGMA);
}

// ---- the Ising model ----

/// ln Z of the L×L Ising torus (J = 1, h = 0) at coupling K, by Kaufman's exact formula
/// (B. Kaufman, Phys. Rev. 76:1232, 1949; as written by P. D. Beale, Phys. Rev. Lett.
/// 76:78, 1996): Z = ½ (2 sinh 2K)^{L²/2} Σᵢ Zᵢ with
/// Z₁ = Π 2cosh(Lγ₂ₖ₊₁/2), Z₂ = Π 2sinh(Lγ₂ₖ₊₁/2), Z₃ = Π 2cosh(Lγ₂ₖ/2),
/// Z₄ = Π 2sinh(Lγ₂ₖ/2) (k = 0..L−1), cosh γₗ = cosh 2K coth 2K − cos(πl/L), and
/// γ₀ = 2K + ln tanh K (negative above T_c, which makes Z₄ negative).
fn kaufman_ln_z(l: usize, k: f64) -> f64 {
    let n = l as f64;
    let gamma = |i: usize| {
        if i == 0 {
            2.0 * k + k.tanh().ln()
        } else {
            let c =
                (2.0 * k).cosh() / (2.0 * k).tanh() - (std::f64::consts::PI * i as f64 / n).cos();
            c.acosh()
        }
    };
    // Each Zᵢ as (sign, ln |Zᵢ|).
    let mut parts = Vec::new();
    for (odd, hyperbolic) in [(true, 0), (true, 1), (false, 0), (false, 1)] {
        let mut sign = 1.0;
        let mut ln = 0.0;
        for r in 0..l {
            let g = gamma(2 * r + usize::from(odd));
            let x = n * g / 2.0;
            let v = if hyperbolic == 0 {
                2.0 * x.cosh()
            } else {
                2.0 * x.sinh()
            };
            sign *= v.signum();
            ln += v.abs().ln();
        }
        parts.push((sign, ln));
    }
    let top = parts.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    let sum: f64 = parts.iter().map(|(s, ln)| s * (ln - top).exp()).sum();
    0.5f64.ln() + n * n / 2.0 * (2.0 * (2.0 * k).sinh()).ln() + top + sum.ln()
}

/// Energy per site ⟨H⟩/L² = −(1/L²) d ln Z/dK, by a central difference.
fn kaufman_energy(l: usize, k: f64) -> f64 {
    let d = 1e-5;
    -(kaufman_ln_z(l, k + d) - kaufman_ln_z(l, k - d)) / (2.0 * d) / (l * l) as f64
}

#[test]
fn kaufman_formula_matches_enumeration_on_a_small_torus() {
    let l = 4;
    for k in [0.3f64, 0.6] {
        let (mut z, mut zh) = (0.0, 0.0);
        for conf in 0u32..1 << (l * l) {
            let s = |i: usize, j: usize| {
                if conf >> ((i % l) * l + j % l) & 1 == 1 {
                    1.0
                } else {
                    -1.0
                }
            };
            let mut h = 0.0f64;
            for i in 0..l {
                for j in 0..l {
                    h -= s(i, j) * (s(i + 1, j) + s(i, j + 1));
                }
            }
            let w = (-k * h).exp();
            z += w;
            zh += w * h;
        }
        let exact = zh / z / (l * l) as f64;
        assert!(
            (kaufman_ln_z(l, k) - z.ln()).abs() < 1e-9,
            "ln Z at K = {k}"
        );
        assert!(
            (kaufman_energy(l, k) - exact).abs() < 1e-6,
            "energy at K = {k}"
        );
    }
}

fn ising(method: Method, beta: f64) -> Vec<(String, ParamSummary)> {
    let c = compiled("tests/models/ising16.sde");
    let m = prepare::pick(&c, None).unwrap();
    let lm = prepare::lowered(&c, m).unwrap();
    let b = bound(&c, None, &[("beta", beta)]);
    let target = SpinTarget::new(m, lm, &b, false).unwrap();
    assert!(target.model.terms.iter().all(|t| t.local));
    assert_eq!(target.model.beta, beta);
    let results = spins::run(
        &target.model,
        &config(method, 1000, 10_000, 1, 0.0),
        &std::sync::atomic::AtomicBool::new(false),
    )
    .unwrap();
    report::summaries(&target.model.columns, &results)
}

#[test]
fn single_site_samplers_match_the_exact_ising_torus() {
    // 16×16 torus, J = 1, h = 0, away from β_c ≈ 0.4407. The energy per site is exact for
    // this finite lattice (Kaufman). At β = 0.6 |m| is compared with Yang's infinite-lattice
    // spontaneous magnetisation (1 − sinh(2β)⁻⁴)^{1/8}: below T_c a periodic box has no
    // surface, and the finite-size deviation is of order e^{−L/ξ} with ξ ≤ 1/(2(K − K*)) ≈
    // 1.7 (K* = −½ ln tanh K the dual coupling), so at most ~1e-4 for L = 16, added to the
    // tolerance. The chains start all up and do not tunnel to m < 0 at β = 0.6 (a barrier
    // of ~2·16·σ ≈ 18 kT), so |m| is the magnetisation of the + phase. At β = 0.3,
    // ⟨m⟩ = 0 by symmetry.
    for method in [Method::Gibbs, Method::Metropolis] {
        for beta in [0.3, 0.6] {
            let rows = ising(method, beta);
            let what = format!("{} at β = {beta}", method.name());
            let e = column(&rows, "e");
            let exact = kaufman_energy(16, beta);
            assert!(
                (e.mean - exact).abs() <= 4.0 * e.mcse_mean,
                "{what}: energy per site {} vs {exact} (mcse {})",
                e.mean,
                e.mcse_mean
            );
            if beta > 0.5 {
                let am = column(&rows, "abs_m");
                let yang = (1.0 - (2.0 * beta).sinh().powi(-4)).powf(0.125);
                assert!(
                    (am.mean - yang).abs() <= 4.0 * am.mcse_mean + 1e-4,
                    "{what}: |m| {} vs {yang} (mcse {})",
                    am.mean,
                    am.mcse_mean
                );
            } else {
                let m = column(&rows, "m");
                assert!(m.mean.abs() <= 4.0 * m.mcse_mean, "{what}: m {}", m.mean);
            }
        }
    }
}

// ---- the local flip kernel ----

/// Run a kernel with the reference evaluator.
fn eval_kernel(k: &ito::ir::Kernel, x: &[f64], b: &Bound, aux: &[f64], out_len: usize) -> Vec<f64> {
    let mut out = vec![0.0; out_len];
    let mut x = x.to_vec();
    let mut p = b.p.clone();
    eval::run(
        k,
        &mut Args {
            t: 0.0,
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

#[test]
fn flip_delta_equals_the_change_of_the_energy() {
    use rand::{RngExt, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    for (path, model, whole) in [
        ("examples/ising.sde", "Ising", false),
        ("tests/models/ising16.sde", "Ising16", false),
        ("tests/models/spin_terms.sde", "SpinTerms", true),
        ("tests/models/spin_terms.sde", "Hopfield", true),
    ] {
        let c = compiled(path);
        let m = prepare::pick(&c, Some(model)).unwrap();
        let lm = prepare::lowered(&c, m).unwrap();
        let b = bound(&c, Some(model), &[("beta", 0.8)]);
        assert_eq!(lm.flip_terms.iter().any(|t| !t.local), whole, "{model}");
        let flip = lm.kernel("flip_delta").unwrap();
        let density = lm.kernel("log_density").unwrap();
        let nx = b.sizes[ito::ir::lower::size_index::X];
        for _ in 0..5 {
            let x: Vec<f64> = (0..nx)
                .map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 })
                .collect();
            let lp = eval_kernel(density, &x, &b, &[], 1)[0];
            // Every site of the small models; 64 random ones (and both ends) of large ones.
            let sites: Vec<usize> = if nx <= 64 {
                (0..nx).collect()
            } else {
                let mut s: Vec<usize> = (0..64).map(|_| rng.random_range(0..nx)).collect();
                s.extend([0, nx - 1]);
                s
            };
            for k in sites {
                let dh = eval_kernel(flip, &x, &b, &[k as f64], 1)[0];
                let mut y = x.clone();
                y[k] = -y[k];
                let lp_flipped = eval_kernel(density, &y, &b, &[], 1)[0];
                // log π = −βH with β = 0.8.
                let want = -(lp_flipped - lp) / 0.8;
                assert!(
                    (dh - want).abs() <= 1e-9 * (1.0 + want.abs() + lp.abs()),
                    "{model}: ΔH at site {k} is {dh}, H(flipped) − H = {want}"
                );
            }
        }
    }
}

#[test]
fn flip_kernel_of_the_ising_model_matches_its_snapshot() {
    let c = compiled("examples/ising.sde");
    let lm = &c.lowered[0];
    let mut text: Vec<String> = lm
        .flip_terms
        .iter()
        .map(|t| {
            format!(
                "term: {} ({})",
                t.what,
                if t.local { "local" } else { "whole" }
            )
        })
        .collect();
    text.push(ito::ir::print::print_kernel(
        lm.kernel("flip_delta").unwrap(),
    ));
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots/ir");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!("ising_flip_delta", text.join("\n")));
}

// ---- the command line ----

fn scratch_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("cli_sample")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A CSV file without its timing comments (which differ from run to run).
fn csv_without_timing(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.contains("seconds"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn sample_refuses_what_it_cannot_sample() {
    let o = ito(&[
        "sample",
        "examples/eight_schools.sde",
        "--data",
        "examples/eight_schools.data.json",
    ]);
    assert_clean_failure(&o, "declares no `potential` or `energy`");
    assert!(stderr(&o).contains("ito infer"));
    let o = ito(&["sample", "examples/ou.sde"]);
    assert_clean_failure(&o, "declares no `potential` or `energy`");
    let o = ito(&["sample", "examples/ising.sde", "--method", "nuts"]);
    assert_clean_failure(
        &o,
        "needs the gradient of the target, but its states are spins",
    );
    let o = ito(&[
        "sample",
        "examples/langevin_double_well.sde",
        "--method",
        "gibbs",
    ]);
    assert_clean_failure(
        &o,
        "`gibbs` updates spins, but the target is over real states",
    );
    let o = ito(&[
        "sample",
        "examples/langevin_double_well.sde",
        "--method",
        "ula",
    ]);
    assert_clean_failure(&o, "ula needs --step");
    let o = ito(&[
        "sample",
        "examples/langevin_double_well.sde",
        "--step",
        "0.1",
    ]);
    assert_clean_failure(&o, "--step applies to ula and baoab");
    let o = ito(&[
        "sample",
        "examples/langevin_double_well.sde",
        "--method",
        "baoab",
        "--step",
        "-1",
    ]);
    assert_clean_failure(&o, "--step must be a positive number");
    let o = ito(&["infer", "examples/ising.sde"]);
    assert_clean_failure(&o, "`ito sample`");
}

#[test]
fn sample_runs_spins_and_writes_stan_csv() {
    let dir = scratch_dir("spins");
    let out = dir.join("ising.csv");
    let run = |threads: &str, states: bool| {
        let mut args = vec![
            "sample",
            "examples/ising.sde",
            "--set",
            "beta=0.3",
            "--chains",
            "2",
            "--warmup",
            "20",
            "--draws",
            "30",
            "--seed",
            "9",
            "--threads",
            threads,
            "--out",
            out.to_str().unwrap(),
        ];
        if states {
            args.push("--states");
        }
        let o = ito(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        o
    };
    let o = run("1", false);
    assert!(
        stdout(&o).contains("lp__") && stdout(&o).contains("e "),
        "{}",
        stdout(&o)
    );
    let err = stderr(&o);
    assert!(err.contains("ΔH of a flip is computed locally"), "{err}");
    assert!(
        err.contains("2 chains of 20 warm-up + 30 draws with gibbs, seed 9"),
        "{err}"
    );
    let one = csv_without_timing(&dir.join("ising_1.csv"));
    let header = one.lines().find(|l| l.starts_with("lp__")).unwrap();
    assert_eq!(
        header,
        "lp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__,m,e"
    );
    assert_eq!(one.lines().filter(|l| !l.starts_with('#')).count(), 31);
    assert!(one.contains("algorithm = gibbs"), "{one}");
    // The same draws on two threads.
    run("2", false);
    assert_eq!(csv_without_timing(&dir.join("ising_1.csv")), one);
    // --states adds every spin.
    run("1", true);
    let with = csv_without_timing(&dir.join("ising_2.csv"));
    let header = with.lines().find(|l| l.starts_with("lp__")).unwrap();
    assert!(header.contains(",m,e,s.1.1,s.1.2,"), "{header}");
    assert!(header.ends_with(",s.32.32"), "{header}");
}

#[test]
fn sample_runs_continuous_states_reproducibly() {
    let dir = scratch_dir("continuous");
    let out = dir.join("well.csv");
    let run = |method: &str, threads: &str| {
        let mut args = vec![
            "sample",
            "examples/langevin_double_well.sde",
            "--method",
            method,
            "--chains",
            "3",
            "--warmup",
            "50",
            "--draws",
            "40",
            "--seed",
            "4",
            "--threads",
            threads,
            "--out",
            out.to_str().unwrap(),
        ];
        if method == "ula" || method == "baoab" {
            args.extend(["--step", "0.05"]);
        }
        let o = ito(&args);
        assert_eq!(o.status.code(), Some(0), "{method}: {}", stderr(&o));
        csv_without_timing(&dir.join("well_3.csv"))
    };
    for method in ["nuts", "hmc", "mala", "ula", "baoab"] {
        let a = run(method, "1");
        let header = a.lines().find(|l| l.starts_with("lp__")).unwrap();
        assert!(header.ends_with(",x,well"), "{method}: {header}");
        assert_eq!(a, run(method, "3"), "{method}: depends on the thread count");
    }
}
