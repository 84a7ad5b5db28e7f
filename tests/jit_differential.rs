//! The JIT against the reference evaluator: every kernel of every example and stdlib model,
//! run by both back ends on the same random inputs, must give the same bits (any NaN equals
//! any NaN) in `out`, and, for effect kernels, in `x` and `p`.

use ito::check::model::Var;
use ito::frontend::{Options, compile_file};
use ito::ir::Kernel;
use ito::ir::eval::{self, Args};
use ito::ir::lower::{LoweredModel, size_index};
use ito::jit::Jit;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

#[path = "common/corpus.rs"]
mod corpus;
use corpus::{buffer_sizes, model_sources};

/// Random input sets per kernel.
const SETS: usize = 50;

/// Equal bits, or both NaN.
fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// Values IEEE treats specially (used in one input set out of five).
const SPECIAL: [f64; 5] = [0.0, -0.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY];

/// A value for a buffer slot: ordinary reals, positive ones, and now and then an integer
/// (and, with `special`, sometimes zeros, NaN or infinities).
fn value(r: &mut StdRng, special: bool) -> f64 {
    if special && r.random_bool(0.1) {
        return SPECIAL[r.random_range(0..SPECIAL.len())];
    }
    match r.random_range(0..10) {
        0..=3 => r.random_range(-3.0..3.0),
        4..=7 => r.random_range(0.1..5.0),
        _ => f64::from(r.random_range(0..=10)),
    }
}

fn values(r: &mut StdRng, n: usize, special: bool) -> Vec<f64> {
    (0..n).map(|_| value(r, special)).collect()
}

/// The buffers of one input set for one model (each kernel gets copies).
struct Inputs {
    t: f64,
    x: Vec<f64>,
    p: Vec<f64>,
    d: Vec<f64>,
    /// Lengths from the `sizes` kernel.
    sizes: [usize; size_index::COUNT],
    /// Whether values may be special (zeros, NaN, infinities).
    special: bool,
    /// Transition groups (reactions, then `jump` declarations).
    groups: usize,
    /// Diffusion entries of the chemical Langevin equation (one per species a reaction
    /// changes).
    cle_entries: usize,
}

fn inputs(m: &LoweredModel, r: &mut StdRng) -> Result<Inputs, String> {
    // Data scalars first (small sizes), then `sizes` on them.
    let scalars = m.layout.d.iter().take_while(|s| s.ty.is_scalar()).count();
    let mut d: Vec<f64> = (0..scalars)
        .map(|_| f64::from(r.random_range(1..=8)))
        .collect();
    let out = buffer_sizes(m, &d);
    let mut sizes = [0usize; size_index::COUNT];
    for (s, &v) in sizes.iter_mut().zip(&out) {
        if !(0.0..=1e6).contains(&v) {
            return Err(format!("`sizes` gave {out:?} for data scalars {d:?}"));
        }
        *s = v as usize;
    }
    let species = m
        .layout
        .x
        .iter()
        .take_while(|s| matches!(s.var, Var::Species(_)))
        .count();
    let special = r.random_bool(0.2);
    let mut x = values(r, sizes[size_index::X], special);
    for v in x.iter_mut().take(species) {
        *v = f64::from(r.random_range(0..=20));
    }
    let p = values(r, sizes[size_index::P], special);
    let rest = sizes[size_index::D].saturating_sub(d.len());
    d.extend(values(r, rest, special));
    Ok(Inputs {
        t: r.random_range(0.0..10.0),
        x,
        p,
        d,
        sizes,
        special,
        groups: m.dependencies.len(),
        cle_entries: m.reactions.iter().map(|r| r.changes.len()).sum(),
    })
}

/// The length of `out` and the contents of `aux` for a kernel.
fn out_and_aux(k: &Kernel, inp: &Inputs, r: &mut StdRng) -> (usize, Vec<f64>) {
    use size_index::*;
    let s = &inp.sizes;
    let sp = inp.special;
    let few = |r: &mut StdRng| values(r, 4, sp);
    match k.name.as_str() {
        "sizes" => (COUNT, few(r)),
        "param_defaults" => (s[P], few(r)),
        "param_bounds" => (2 * s[P], few(r)),
        "init" | "drift" | "rre_drift" | "cle_drift" => (s[X], few(r)),
        "diffusion" => (s[DIFFUSION], few(r)),
        "diffusion_pattern" => (2 * s[DIFFUSION], few(r)),
        "propensities" => (s[CHANNELS], few(r)),
        "channel_starts" => (inp.groups + 1, few(r)),
        "outputs" | "real_outputs" => (s[OUTPUTS], few(r)),
        "cle_diffusion" => (inp.cle_entries, few(r)),
        "cle_diffusion_pattern" => (2 * inp.cle_entries, few(r)),
        "log_density" => (1, few(r)),
        "observe" => (1, values(r, s[OBS].max(1), sp)),
        // Forward derivatives: a direction over `x` in `aux`.
        "drift_jvp" => (s[X], values(r, s[X].max(1), sp)),
        "diffusion_jvp" => (s[DIFFUSION], values(r, s[X].max(1), sp)),
        "cle_diffusion_jvp" => (inp.cle_entries, values(r, s[X].max(1), sp)),
        // Reverse derivatives: the adjoint in `aux[0]`, the gradient laid out like the input,
        // then the density.
        "log_density_grad_p" => (s[P] + 1, few(r)),
        "log_density_grad_x" => (s[X] + 1, few(r)),
        // Firing: the jump body's scratch space, every channel's propensity, and two
        // summaries; the channel within the group in `aux[0]`, as for `jump_` kernels.
        n if n.starts_with("fire_") => {
            let c = f64::from(r.random_range(0..(s[CHANNELS] as i32 + 1).max(1)));
            (s[SCRATCH] + s[CHANNELS] + 2, vec![c])
        }
        n if n.starts_with("jump_") => {
            // The channel number (possibly beyond this jump's channels: then nothing fires).
            let c = f64::from(r.random_range(0..(s[CHANNELS] as i32 + 1).max(1)));
            (s[SCRATCH].max(1), vec![c])
        }
        // Effects keep array values in `out` as scratch space.
        n if n.starts_with("event") && n.ends_with("_effect") => (s[SCRATCH].max(1), few(r)),
        n if n.starts_with("event") => (1, few(r)),
        // A kernel this test does not know: room for anything a layout holds.
        _ => {
            let n = s.iter().copied().max().unwrap_or(1).max(1);
            (n, values(r, n, sp))
        }
    }
}

struct Report {
    model: String,
    runs: usize,
    kernels: usize,
    failures: Vec<String>,
}

fn fmt_buf(v: &[f64]) -> String {
    const MAX: usize = 24;
    let shown: Vec<String> = v.iter().take(MAX).map(|x| format!("{x:?}")).collect();
    let more = if v.len() > MAX { ", …" } else { "" };
    format!("[{}{more}]", shown.join(", "))
}

fn check_model(m: &LoweredModel, seed: u64) -> Report {
    let mut rep = Report {
        model: m.name.clone(),
        runs: 0,
        kernels: m.kernels.len(),
        failures: Vec::new(),
    };
    let jit = match Jit::compile(&m.kernels) {
        Ok(j) => j,
        Err(e) => {
            rep.failures.push(format!("model {}: {e}", m.name));
            return rep;
        }
    };
    let mut r = StdRng::seed_from_u64(seed);
    for set in 0..SETS {
        let inp = match inputs(m, &mut r) {
            Ok(i) => i,
            Err(e) => {
                rep.failures.push(format!("model {}: {e}", m.name));
                return rep;
            }
        };
        for k in &m.kernels {
            let (out_len, aux) = out_and_aux(k, &inp, &mut r);
            let rng_seed = r.random_range(0..u64::MAX);
            let mut results = Vec::new();
            for native in [false, true] {
                let (mut x, mut p, mut out) = (inp.x.clone(), inp.p.clone(), vec![0.0; out_len]);
                let mut rng = ito::rt::rng_from_seed(rng_seed);
                let mut args = Args {
                    t: inp.t,
                    x: &mut x,
                    p: &mut p,
                    d: &inp.d,
                    aux: &aux,
                    rng: Some(&mut rng),
                    out: &mut out,
                };
                if native {
                    if let Err(e) = jit.call(&k.name, &mut args) {
                        rep.failures
                            .push(format!("{}::{} (set {set}): {e}", m.name, k.name));
                    }
                } else {
                    eval::run(k, &mut args);
                }
                results.push((x, p, out));
            }
            rep.runs += 1;
            let (e, j) = (&results[0], &results[1]);
            let effect = !k.writes().iter().all(|b| *b == ito::ir::Buf::Out);
            let mut bufs = vec![("out", &e.2, &j.2)];
            if effect {
                bufs.push(("x", &e.0, &j.0));
                bufs.push(("p", &e.1, &j.1));
            }
            for (what, a, b) in bufs {
                let bad: Vec<usize> = (0..a.len()).filter(|&i| !same(a[i], b[i])).collect();
                if let Some(&i) = bad.first() {
                    rep.failures.push(format!(
                        "{}::{} (set {set}): {what}[{i}] eval {:?} ({:#x}) vs jit {:?} ({:#x}) \
                         ({} elements differ)\n  t = {:?}\n  x = {}\n  p = {}\n  d = {}\n  \
                         aux = {}\n  eval {what} = {}\n  jit  {what} = {}",
                        m.name,
                        k.name,
                        a[i],
                        a[i].to_bits(),
                        b[i],
                        b[i].to_bits(),
                        bad.len(),
                        inp.t,
                        fmt_buf(&inp.x),
                        fmt_buf(&inp.p),
                        fmt_buf(&inp.d),
                        fmt_buf(&aux),
                        fmt_buf(a),
                        fmt_buf(b),
                    ));
                }
            }
        }
    }
    rep
}

#[test]
fn jit_matches_eval_on_every_model() {
    let files = model_sources();
    let reports: Vec<Result<Vec<Report>, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = files
            .iter()
            .enumerate()
            .map(|(i, f)| {
                s.spawn(move || {
                    let c = compile_file(f, &Options::default());
                    if c.has_errors() || c.lowered.is_empty() {
                        return Err(format!("{}: does not compile to kernels", f.display()));
                    }
                    Ok(c.lowered
                        .iter()
                        .enumerate()
                        .map(|(j, m)| check_model(m, 0x1705_0000 + (i * 64 + j) as u64))
                        .collect())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("a thread panicked".into())))
            .collect()
    });
    let (mut models, mut kernels, mut runs) = (0, 0, 0);
    let mut failures = Vec::new();
    for (f, r) in files.iter().zip(reports) {
        match r {
            Ok(reps) => {
                for rep in reps {
                    models += 1;
                    kernels += rep.kernels;
                    runs += rep.runs;
                    eprintln!(
                        "{}: {} — {} kernels × {SETS} input sets",
                        f.display(),
                        rep.model,
                        rep.kernels
                    );
                    failures.extend(rep.failures);
                }
            }
            Err(e) => failures.push(e),
        }
    }
    eprintln!("{models} models, {kernels} kernels, {runs} kernel runs compared");
    assert!(runs >= SETS * kernels && kernels > 0);
    if !failures.is_empty() {
        let n = failures.len();
        failures.truncate(20);
        panic!(
            "{n} mismatches between eval and the JIT (first {}):\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}
