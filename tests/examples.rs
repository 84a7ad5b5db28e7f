//! Every example and stdlib model checks cleanly (no errors, no warnings), and its typed
//! summary matches a reviewed snapshot. A few syntax trees are snapshot-tested too.

use ito::check::print::program_summary;
use ito::diag::render_all;
use ito::frontend::{Compilation, Options, compile_file};
use std::path::PathBuf;

fn model_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["examples", "stdlib"] {
        for e in std::fs::read_dir(dir).expect("directory exists") {
            let p = e.expect("entry").path();
            if p.extension().is_some_and(|x| x == "sde") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

fn clean(path: &std::path::Path) -> Compilation {
    let c = compile_file(path, &Options::default());
    assert!(
        c.diagnostics.is_empty(),
        "{} has diagnostics:\n{}",
        path.display(),
        render_all(&c.diagnostics, &c.sources, false)
    );
    c
}

/// The comment block a file starts with (its leading `//` lines).
fn header_comment(path: &std::path::Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .take_while(|l| l.starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn snapshot_name(path: &std::path::Path) -> String {
    let dir = path
        .parent()
        .and_then(|d| d.file_name())
        .unwrap()
        .to_string_lossy();
    format!("{}_{}", dir, path.file_stem().unwrap().to_string_lossy())
}

#[test]
fn examples_and_stdlib_check_cleanly_and_match_typed_snapshots() {
    let files = model_files();
    assert!(
        files.len() >= 12,
        "expected the example set, found {}",
        files.len()
    );
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots/typed");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for path in &files {
            let c = clean(path);
            let file = c.ast.as_ref().expect("parsed").file;
            let text = program_summary(&c.program, file);
            if path.starts_with("examples") && c.program.models.len() != 1 {
                // Several models share a file only when they share its functions (as
                // the three views of score_diffusion.sde do); its header then says how
                // to run each one.
                let header = header_comment(path);
                for m in &c.program.models {
                    assert!(
                        header.contains(&format!("--model {}", m.name)),
                        "{} holds several models; its header must show `--model {}`",
                        path.display(),
                        m.name
                    );
                }
            }
            insta::assert_snapshot!(snapshot_name(path), text);
        }
    });
}

#[test]
fn every_example_says_what_it_models() {
    for path in model_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let first = text.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("//") && first.len() > 10,
            "{} must start with a comment saying what it models",
            path.display()
        );
    }
}

#[test]
fn syntax_trees_match_snapshots() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots/ast");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for name in ["ou", "vilar", "merton", "ising", "heston"] {
            let path = PathBuf::from(format!("examples/{name}.sde"));
            let c = clean(&path);
            let ast = c.ast.as_ref().expect("parsed");
            insta::assert_snapshot!(name, ito::syntax::print::print_file(ast, &c.sources));
        }
    });
}

/// The model kinds the issue names are all represented among the examples.
#[test]
fn examples_cover_every_model_kind() {
    use ito::check::model::{Dynamics, ModelKind};
    let mut kinds = Vec::new();
    for path in model_files() {
        let c = clean(&path);
        kinds.extend(c.program.models.iter().map(|m| m.kind));
    }
    for want in [
        ModelKind::Dynamic(Dynamics::Sde),
        ModelKind::Dynamic(Dynamics::Mjp),
        ModelKind::Dynamic(Dynamics::JumpDiffusion),
        ModelKind::Graphical,
        ModelKind::Target,
    ] {
        assert!(kinds.contains(&want), "no example of kind {want}");
    }
    assert!(kinds.iter().any(|k| matches!(k, ModelKind::StateSpace(_))));
}

#[path = "common/large_model.rs"]
mod large_model;

/// The benchmark's generated network is a valid, warning-free model of the stated size.
#[test]
fn generated_large_network_checks_cleanly() {
    let text = large_model::large_network();
    assert!(text.lines().count() >= 5000);
    let c = ito::frontend::compile_source("large.sde", &text, &Options::default());
    assert!(
        c.diagnostics.is_empty(),
        "{}",
        render_all(&c.diagnostics, &c.sources, false)
    );
    assert_eq!(c.program.models[0].reactions.len(), 2000);
}

/// The benchmark's other generated models check without a diagnostic and compile to the
/// kernels their kind needs.
#[test]
fn generated_wide_models_check_cleanly() {
    for (text, kernels) in [
        (
            large_model::wide_sde(300),
            &["drift", "diffusion", "drift_jvp"][..],
        ),
        (
            large_model::many_priors(300),
            &["log_density", "log_density_grad_p"][..],
        ),
    ] {
        let c = ito::frontend::compile_source("large.sde", &text, &Options::default());
        assert!(
            c.diagnostics.is_empty(),
            "{}",
            render_all(&c.diagnostics, &c.sources, false)
        );
        for k in kernels {
            assert!(c.lowered[0].kernel(k).is_some(), "{k}");
        }
    }
}
