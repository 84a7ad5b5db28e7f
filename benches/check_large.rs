//! `ito check` speed on generated large models. Run with `cargo bench --bench check_large`;
//! prints the median of 21 runs of the whole of `ito check` in-process (parse, check, typed
//! model, lowering to optimised kernels) for a 5,000-line reaction network (and of parsing
//! it alone), a 2,000-equation SDE and a 2,000-group hierarchical model. Writes the network
//! to `target/large_network.sde` for timing the CLI (`hyperfine 'target/release/ito check
//! target/large_network.sde'`).

#[path = "../tests/common/large_model.rs"]
mod large_model;

use ito::frontend::{Options, compile_source};
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let text = large_model::large_network();
    let lines = text.lines().count();
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/large_network.sde");
    if let Err(e) = std::fs::write(&out, &text) {
        eprintln!("could not write {}: {e}", out.display());
    }
    let runs = 21;
    let mut total = Vec::new();
    let mut parse = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let c = compile_source("large.sde", &text, &Options::default());
        total.push(t.elapsed());
        assert!(
            c.diagnostics.is_empty(),
            "the generated model must check cleanly"
        );
        let t = Instant::now();
        let _ = ito::syntax::parse(ito::source::FileId(0), &text);
        parse.push(t.elapsed());
    }
    println!(
        "check {lines} lines, 2000 reactions: median {:.1} ms over {runs} runs (parse alone {:.1} ms)",
        median(total).as_secs_f64() * 1e3,
        median(parse).as_secs_f64() * 1e3
    );
    for (what, text) in [
        ("2000-equation SDE", large_model::wide_sde(2000)),
        (
            "2000-group hierarchical model",
            large_model::many_priors(2000),
        ),
    ] {
        let times: Vec<Duration> = (0..runs)
            .map(|_| {
                let t = Instant::now();
                let c = compile_source("large.sde", &text, &Options::default());
                let elapsed = t.elapsed();
                assert!(!c.has_errors() && !c.lowered.is_empty(), "{what} compiles");
                elapsed
            })
            .collect();
        println!(
            "check {what} ({} lines): median {:.1} ms over {runs} runs",
            text.lines().count(),
            median(times).as_secs_f64() * 1e3
        );
    }
}
