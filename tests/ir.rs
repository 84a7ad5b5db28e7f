//! `ito check --emit ir` for a representative set of models, snapshot-tested (each snapshot
//! reviewed): an SDE, a diagonal array SDE with a mean-field coupling, a reaction network, a
//! jump process with discrete states, a jump-diffusion with random jump sizes, a hierarchical
//! model with data-dependent sizes, a spin system's energy, a state-space model, and `grad`.

use ito::frontend::{Options, compile_file};

#[test]
fn kernels_match_snapshots() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots/ir");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for name in [
            "ou",
            "mean_field",
            "dimerisation",
            "telegraph",
            "merton",
            "eight_schools",
            "ising",
            "sir_cases",
            "double_well",
        ] {
            let path = format!("examples/{name}.sde");
            let c = compile_file(std::path::Path::new(&path), &Options::default());
            assert!(!c.has_errors(), "{path}");
            let text: Vec<String> = c.lowered.iter().map(ito::ir::print::print_model).collect();
            insta::assert_snapshot!(name, text.join("\n"));
        }
    });
}
