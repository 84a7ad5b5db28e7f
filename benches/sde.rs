//! Ensemble SDE speed, side by side with a hand-written Rust Euler–Maruyama loop (the
//! yardstick in `sde_peers/hand.rs`). Run with `cargo bench --bench sde`; prints path-steps per
//! second, median of 5 runs after a warm-up, for 1 and 2 threads:
//!
//! * OU (θ = 1, μ = 0, σ = 0.5, x0 = 2) and stochastic Lorenz-63 (10, 28, 8/3, additive
//!   noise 1), 10,000 paths × 1,000 EM steps, dt = 0.01;
//! * ito: the model compiled from source, run by the ensemble engine with `--summary`'s
//!   recorder (mean, sd, quantiles at 101 times), as `ito run --method em --summary` does;
//! * hand: structure-of-arrays loop over chunks of 256 paths, the same RNG family
//!   (Xoshiro256++ with rand_distr's ziggurat normals), mean and sd at 101 times.
//!
//! Then, when their venv exists (`bash benches/sde_peers/setup.sh` makes it), the numpy and
//! JAX peers on the same workloads, 1 and 2 threads (`sde_peers/run_peers.sh`).

#[path = "sde_peers/hand.rs"]
#[allow(dead_code)]
mod hand;

use ito::frontend::{Options, compile_source};
use ito::sim::data::DataSet;
use ito::sim::ensemble::{self, EnsembleConfig, OnBlowup};
use ito::sim::output::{Recorder, RunInfo, Summary};
use ito::sim::prepare::prepare;
use ito::sim::schemes::{Method, Tolerances};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

const OU: &str = "model OU {
  param theta: real = 1.0
  param mu: real = 0.0
  param sigma: real = 0.5
  state x = 2.0
  dx = theta * (mu - x) dt + sigma dW
}";

const LORENZ: &str = "model Lorenz63 {
  param sigma: real = 10
  param rho: real = 28
  param beta: real = 8.0 / 3.0
  param eps: real = 1.0
  noise W: real[3]
  state x = 1.0
  state y = 1.0
  state z = 1.0
  dx = sigma * (y - x) dt + eps dW[1]
  dy = (x * (rho - z) - y) dt + eps dW[2]
  dz = (x * y - beta * z) dt + eps dW[3]
}";

const PATHS: usize = 10_000;
const STEPS: usize = 1_000;
const DT: f64 = 0.01;
const RUNS: usize = 5;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Seconds per run of `f`, median of RUNS after one warm-up.
fn time(mut f: impl FnMut() -> f64) -> (f64, f64) {
    let check = f();
    let secs = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed().as_secs_f64()
        })
        .collect();
    (median(secs), check)
}

/// One `ito run --method em --summary` over the model in `src`; returns the final mean of
/// the first variable.
fn ito_run(src: &str, threads: usize) -> impl FnMut() -> f64 {
    let c = compile_source("bench.sde", src, &Options::default());
    assert!(!c.has_errors());
    let native = prepare(&c, None, &[], &DataSet::default()).expect("prepares");
    let times: Vec<f64> = (0..=100).map(|k| k as f64 * 0.1).collect();
    // The summary's parallel work runs on a pool of the same size as the engine's.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool");
    move || {
        let sys = native.system();
        pool.install(|| {
            let info = sys.model();
            let cfg = EnsembleConfig {
                paths: PATHS,
                seed: 42,
                threads,
                method: Method::Em,
                tolerances: Tolerances::default(),
                times: times.clone(),
                dt: DT,
                on_blowup: OnBlowup::Stop,
                progress: false,
            };
            let run_info = RunInfo {
                variables: info.variables.clone(),
                times: times.clone(),
                paths: PATHS,
                ..RunInfo::default()
            };
            let summary = Summary::new(times.len(), info.variables.len());
            let mut rec: Recorder = Recorder::new(run_info, summary, None, 0);
            ensemble::run(&sys, &cfg, &AtomicBool::new(false), |i, v| {
                rec.record(i, v).map_err(|e| e.to_string())
            })
            .expect("runs");
            let done = rec.finish().expect("finishes");
            // Writing the summary computes its quantiles: part of the job.
            let mut csv = Vec::new();
            done.summary.to_csv(&mut csv, &done.info).expect("writes");
            std::hint::black_box(csv);
            done.summary.stats(times.len() - 1, 0).mean
        })
    }
}

fn main() {
    let path_steps = (PATHS * STEPS) as f64;
    println!("{PATHS} paths x {STEPS} EM steps, dt = {DT}; path-steps/s, median of {RUNS} runs");
    println!(
        "{:<8} {:>7} {:>14} {:>14} {:>9}",
        "model", "threads", "ito", "hand", "time ratio"
    );
    for (name, src, hand_fn) in [
        (
            "OU",
            OU,
            hand::ou_em_threads as fn(usize, usize, f64, u64, usize) -> hand::Stats,
        ),
        ("Lorenz", LORENZ, hand::lorenz_em_threads),
    ] {
        for threads in [1, 2] {
            let (ito_s, ito_mean) = time(ito_run(src, threads));
            let (hand_s, hand_mean) =
                time(|| hand_fn(PATHS, STEPS, DT, 42, threads).final_mean()[0]);
            println!(
                "{name:<8} {threads:>7} {:>14.3e} {:>14.3e} {:>8.2}   (final mean of first variable: ito {ito_mean:.4}, hand {hand_mean:.4})",
                path_steps / ito_s,
                path_steps / hand_s,
                ito_s / hand_s,
            );
        }
    }
    python_peers();
}

/// The numpy and JAX figures, in the same run, when their venv is installed.
fn python_peers() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    if !root.join("target/bench-venv/bin/python").exists() {
        println!("numpy/JAX: skipped (run `bash benches/sde_peers/setup.sh` first)");
        return;
    }
    let status = std::process::Command::new("bash")
        .arg(root.join("benches/sde_peers/run_peers.sh"))
        .args(["--runs", &RUNS.to_string()])
        .status();
    if !matches!(status, Ok(s) if s.success()) {
        println!("numpy/JAX: the peer script failed ({status:?})");
    }
}
