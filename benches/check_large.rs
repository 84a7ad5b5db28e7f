//! `ito check` speed on a generated 5,000-line model (2,000 reactions). Run with
//! `cargo bench --bench check_large`; prints the median of 21 runs of the whole front end
//! (parse, check, typed model) and of parsing alone, and writes the model to
//! `target/large_network.sde` for timing the CLI (`hyperfine 'target/release/ito check
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
}
