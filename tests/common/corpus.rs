//! What the kernel tests run over: every example, the standard-library modules that define
//! models, and the test models; and the buffer lengths a model's `sizes` kernel reports.
// Each test crate uses a part of this module.
#![allow(dead_code)]

use ito::frontend::{Options, compile_file};
use ito::ir::eval::{Args, run};
use ito::ir::lower::{LoweredModel, size_index};
use std::path::{Path, PathBuf};

/// Every model source, examples first, in a fixed order.
pub fn model_sources() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sde_files = |dir: &str| {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
            .map(|d| {
                d.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|e| e == "sde"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
    };
    let mut files = sde_files("examples");
    // The standard modules that define models (`std/math` holds only functions).
    files.extend(
        ito::stdlib::modules()
            .filter(|(_, text)| text.lines().any(|l| l.starts_with("model ")))
            .map(|(path, _)| PathBuf::from(path)),
    );
    // Test models written to exercise the kernels (every math function, for one).
    files.extend(sde_files("tests/models"));
    files
}

/// Every model of every source, lowered; panics naming a source that does not compile.
pub fn lowered_models() -> Vec<LoweredModel> {
    model_sources()
        .iter()
        .flat_map(|path| {
            let c = compile_file(path, &Options::default());
            assert!(
                !c.has_errors() && !c.lowered.is_empty(),
                "{} must compile to kernels",
                path.display()
            );
            c.lowered
        })
        .collect()
}

/// The `sizes` kernel's answer (indexed by `size_index`) for the given data scalars.
pub fn buffer_sizes(m: &LoweredModel, data_scalars: &[f64]) -> Vec<f64> {
    let mut sizes = vec![0.0; size_index::COUNT];
    let k = m.kernel("sizes").expect("every model has a `sizes` kernel");
    run(
        k,
        &mut Args {
            t: 0.0,
            x: &mut [],
            p: &mut [],
            d: data_scalars,
            aux: &[],
            rng: None,
            out: &mut sizes,
        },
    );
    sizes
}
