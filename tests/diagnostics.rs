//! Every file in `tests/diagnostics/` is checked and its rendered diagnostics are compared
//! with a reviewed snapshot. Files are named after the code they demonstrate
//! (`e0101_unknown_name.sde`), and every code must have at least one such file whose
//! diagnostics include it.

use ito::diag::{Code, render_all};
use ito::frontend::{Options, compile_file};
use std::path::{Path, PathBuf};

fn corpus() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir("tests/diagnostics")
        .expect("tests/diagnostics exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "sde"))
        .collect();
    files.sort();
    files
}

fn options_for(path: &Path) -> Options {
    // A first line `// --model Name` selects a model, as the CLI flag would.
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let model = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("// --model "))
        .map(|m| m.trim().to_string());
    Options { model }
}

fn rendered(path: &Path) -> (String, Vec<Code>) {
    let c = compile_file(path, &options_for(path));
    let text = render_all(&c.diagnostics, &c.sources, false);
    (text, c.diagnostics.iter().map(|d| d.code).collect())
}

#[test]
fn diagnostics_match_snapshots() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("diagnostics/snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for path in corpus() {
            let name = path.file_stem().unwrap().to_string_lossy().to_string();
            let (text, _) = rendered(&path);
            insta::assert_snapshot!(name, text);
        }
    });
}

/// Codes whose inputs cannot be files in the corpus (a file over 4 MiB, a missing file or a
/// directory); `tests/cli.rs` produces them.
const SHOWN_BY_CLI_TESTS: [Code; 2] = [Code::FileTooLarge, Code::CannotRead];

#[test]
fn every_code_has_a_demonstration() {
    let files = corpus();
    let mut missing = Vec::new();
    for code in Code::ALL.iter().filter(|c| !SHOWN_BY_CLI_TESTS.contains(c)) {
        let prefix = code.as_str().to_lowercase();
        let demos: Vec<&PathBuf> = files
            .iter()
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(&prefix))
            })
            .collect();
        let shown = demos.iter().any(|p| rendered(p).1.contains(code));
        if !shown {
            missing.push(code.as_str());
        }
    }
    assert!(
        missing.is_empty(),
        "codes without a test file that produces them: {missing:?}"
    );
}

/// `docs/errors.md` has a section for every code, and no section for a code that does not
/// exist.
#[test]
fn errors_doc_lists_every_code() {
    let doc = std::fs::read_to_string("docs/errors.md").expect("docs/errors.md exists");
    let documented: Vec<&str> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("## "))
        .filter(|h| h.len() == 5 && (h.starts_with('E') || h.starts_with('W')))
        .collect();
    let codes: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    for c in &codes {
        assert!(
            documented.contains(c),
            "docs/errors.md does not document {c}"
        );
    }
    for d in &documented {
        assert!(
            codes.contains(d),
            "docs/errors.md documents unknown code {d}"
        );
    }
}
