//! Standalone harness for hand.rs: median of `--runs` timed runs after one warm-up, single
//! thread, path-steps per second. Build it from any Cargo project with rand 0.10 and
//! rand_distr 0.6 whose `[[bin]] path` points at this file (see README.md).
//!
//! Usage: hand_main [--paths 10000] [--steps 1000] [--dt 0.01] [--runs 5] [--seed 42]
//!                  [--only ou|lorenz] [--threads 1,2]   (thread counts, comma-separated)

#[path = "hand.rs"]
#[allow(dead_code)] // the single-thread wrappers are for other callers
mod hand;

use std::time::Instant;

/// A workload run on a number of threads.
type Workload = fn(usize, usize, f64, u64, usize) -> hand::Stats;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

fn main() {
    let (mut paths, mut steps, mut dt, mut runs, mut seed) =
        (10_000usize, 1_000usize, 0.01f64, 5usize, 42u64);
    let mut only: Option<String> = None;
    let mut threads: Vec<usize> = vec![1];
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let v = pair
            .get(1)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("{} needs a value", pair[0]));
        match pair[0].as_str() {
            "--paths" => paths = v.parse().unwrap(),
            "--steps" => steps = v.parse().unwrap(),
            "--dt" => dt = v.parse().unwrap(),
            "--runs" => runs = v.parse().unwrap(),
            "--seed" => seed = v.parse().unwrap(),
            "--only" => only = Some(v.to_string()),
            "--threads" => threads = v.split(',').map(|t| t.parse().unwrap()).collect(),
            other => panic!("unknown argument {other}"),
        }
    }

    let workloads: [(&str, Workload); 2] = [
        ("ou", hand::ou_em_threads),
        ("lorenz", hand::lorenz_em_threads),
    ];
    let mut json = Vec::new();
    for (name, f) in workloads {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        for &th in &threads {
            let f = |p, s, d, sd| f(p, s, d, sd, th);
            std::hint::black_box(f(paths, steps, dt, seed)); // warm-up
            let mut secs = Vec::with_capacity(runs);
            let mut stats = None;
            for _ in 0..runs {
                let t = Instant::now();
                let s = std::hint::black_box(f(paths, steps, dt, seed));
                secs.push(t.elapsed().as_secs_f64());
                stats = Some(s);
            }
            let s = stats.expect("--runs must be at least 1");
            let med = median(secs.clone());
            let rate = (paths * steps) as f64 / med;
            let fmt = |v: &[f64]| {
                v.iter()
                    .map(|x| format!("{x:.6}"))
                    .collect::<Vec<_>>()
                    .join(",")
            };
            println!(
                "hand {name} threads={th} path_steps_per_s={rate:.4e} median_s={med:.4} runs={runs} records={} mean_T={} sd_T={}",
                s.times.len(),
                fmt(s.final_mean()),
                fmt(s.final_sd())
            );
            if name == "ou" && th == threads[0] {
                let t = steps as f64 * dt;
                let (m, sd) = hand::ou_em_exact(t, dt);
                let stat = 0.5 * (dt / (1.0 - (1.0 - dt) * (1.0 - dt))).sqrt();
                println!(
                    "  check: EM at T={t}: mean={m:.3e} sd={sd:.6} (EM stationary sd={stat:.6}, exact SDE sd={:.6}, MC s.e. of mean={:.1e})",
                    0.5 / 2f64.sqrt() * (1.0 - (-2.0 * t).exp()).sqrt(),
                    sd / (paths as f64).sqrt()
                );
            }
            json.push(format!(
            "{{\"tool\":\"hand\",\"workload\":\"{name}\",\"threads\":{th},\"paths\":{paths},\"steps\":{steps},\"dt\":{dt},\
             \"runs\":{runs},\"median_s\":{med},\"path_steps_per_s\":{rate},\"all_s\":[{}],\"mean_T\":[{}],\"sd_T\":[{}]}}",
            fmt(&secs),
            fmt(s.final_mean()),
            fmt(s.final_sd())
        ));
        }
    }
    println!("JSON [{}]", json.join(","));
}
