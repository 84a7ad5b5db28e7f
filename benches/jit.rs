//! Native back end speed. Run with `cargo bench --bench jit`; prints
//!
//! * the whole pipeline from source text (front end, lowering, optimisation and Cranelift
//!   compilation of every kernel) for two examples, median of 21 runs (target: < 20 ms);
//! * one OU drift evaluation through the JIT's function pointer against a hand-written Rust
//!   function doing the same arithmetic, both called through a pointer, 10⁸ calls, median of
//!   5 runs (target: the JIT within 2× of Rust);
//! * the same kernel through the safe, length-checked entry points (`Jit::call_handle` and
//!   `Jit::call` by name), 10⁸ calls, median of 5 runs.

use ito::frontend::{Options, compile_source};
use ito::ir::eval::Args;
use ito::jit::{Jit, KernelFn};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn pipeline(file: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let text = std::fs::read_to_string(&path).expect("example source");
    let (mut total, mut front, mut jit) = (Vec::new(), Vec::new(), Vec::new());
    let mut kernels = 0;
    for _ in 0..21 {
        let t0 = Instant::now();
        let c = compile_source(file, &text, &Options::default());
        let t1 = Instant::now();
        assert!(!c.has_errors() && !c.lowered.is_empty(), "{file} compiles");
        kernels = 0;
        for m in &c.lowered {
            let j = Jit::compile(&m.kernels).expect("the JIT compiles every kernel");
            kernels += m.kernels.len();
            black_box(&j);
        }
        let t2 = Instant::now();
        total.push(t2 - t0);
        front.push(t1 - t0);
        jit.push(t2 - t1);
    }
    println!(
        "pipeline {file:<24} {:7.2} ms  (front end + lowering {:.2} ms, Cranelift {:.2} ms \
         for {kernels} kernels; median of 21)",
        ms(median(total)),
        ms(median(front)),
        ms(median(jit)),
    );
}

/// The OU drift written by hand: `out[0] = theta * (mu - x[0])`.
unsafe extern "C" fn ou_drift_rust(
    _t: f64,
    x: *mut f64,
    p: *mut f64,
    _d: *const f64,
    _aux: *const f64,
    _rng: *mut ito::rt::Rng,
    out: *mut f64,
) {
    // SAFETY: called below with x, p and out of lengths 1, 3 and 1.
    unsafe { *out = *p * (*p.add(1) - *x) };
}

const CALLS: u64 = 100_000_000;

/// Nanoseconds per call of `f` (median of 5 runs of `CALLS` calls).
fn per_call(f: KernelFn) -> f64 {
    let mut x = [2.0];
    let mut p = [1.0, 0.5, 0.7];
    let mut out = [0.0];
    let runs: Vec<Duration> = (0..5)
        .map(|_| {
            let t = Instant::now();
            for i in 0..CALLS {
                let f = black_box(f);
                // SAFETY: buffers as the OU drift kernel needs them (x: 1, p: 3, out: 1).
                unsafe {
                    f(
                        black_box(i as f64),
                        black_box(x.as_mut_ptr()),
                        black_box(p.as_mut_ptr()),
                        std::ptr::null(),
                        std::ptr::null(),
                        std::ptr::null_mut(),
                        black_box(out.as_mut_ptr()),
                    )
                };
            }
            t.elapsed()
        })
        .collect();
    black_box(out);
    median(runs).as_secs_f64() * 1e9 / CALLS as f64
}

/// Nanoseconds per call of `call` on the OU drift's buffers (median of 5 runs of `CALLS`).
fn per_safe_call(call: impl Fn(&mut Args)) -> f64 {
    let mut x = [2.0];
    let mut p = [1.0, 0.5, 0.7];
    let mut out = [0.0];
    let runs: Vec<Duration> = (0..5)
        .map(|_| {
            let t = Instant::now();
            for i in 0..CALLS {
                let mut args = Args {
                    t: black_box(i as f64),
                    x: black_box(&mut x),
                    p: black_box(&mut p),
                    d: &[],
                    aux: &[],
                    rng: None,
                    out: black_box(&mut out),
                };
                call(&mut args);
            }
            t.elapsed()
        })
        .collect();
    black_box(out);
    median(runs).as_secs_f64() * 1e9 / CALLS as f64
}

fn ou_drift() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ou.sde");
    let text = std::fs::read_to_string(path).expect("examples/ou.sde");
    let c = compile_source("ou.sde", &text, &Options::default());
    let m = c.lowered.first().expect("the OU model");
    let jit = Jit::compile(&m.kernels).expect("compiles");
    let drift = jit.get("drift").expect("a drift kernel");
    // Both compute the same numbers.
    let (mut x, mut p, mut a, mut b) = ([2.0], [1.3, 0.5, 0.7], [0.0], [0.0]);
    // SAFETY: buffer lengths as above.
    unsafe {
        let (xp, pp) = (x.as_mut_ptr(), p.as_mut_ptr());
        drift(
            0.0,
            xp,
            pp,
            [].as_ptr(),
            [].as_ptr(),
            std::ptr::null_mut(),
            a.as_mut_ptr(),
        );
        ou_drift_rust(
            0.0,
            xp,
            pp,
            [].as_ptr(),
            [].as_ptr(),
            std::ptr::null_mut(),
            b.as_mut_ptr(),
        );
    }
    assert_eq!(a[0].to_bits(), b[0].to_bits(), "same arithmetic");
    let native = per_call(drift);
    let rust = per_call(ou_drift_rust);
    println!(
        "OU drift, 10^8 calls through a pointer: JIT {native:.2} ns/call, Rust {rust:.2} ns/call, \
         ratio {:.2} (median of 5)",
        native / rust
    );
    let handle = jit.kernel("drift").expect("a drift kernel");
    let by_handle = per_safe_call(|a| jit.call_handle(handle, a).expect("buffers fit"));
    let by_name = per_safe_call(|a| jit.call("drift", a).expect("buffers fit"));
    println!(
        "OU drift, 10^8 safe calls: by handle {by_handle:.2} ns/call, by name {by_name:.2} \
         ns/call (raw pointer {native:.2}; median of 5)"
    );
}

fn main() {
    pipeline("examples/vilar.sde");
    pipeline("examples/lorenz63.sde");
    ou_drift();
}
