//! The documentation cannot drift from the language: every code block marked `sde` in
//! README.md and docs/ is a whole file that checks without errors or warnings, and every
//! block marked `sde error=E0101` fails with exactly that code (among its diagnostics).

use ito::diag::render_all;
use ito::frontend::{Options, compile_source};
use std::path::{Path, PathBuf};

/// A fenced block: where it starts, its info string, its text.
struct Block {
    line: usize,
    info: String,
    text: String,
}

fn blocks(markdown: &str) -> Vec<Block> {
    let mut found = Vec::new();
    let mut open: Option<Block> = None;
    for (i, line) in markdown.lines().enumerate() {
        let fence = line.trim_start().strip_prefix("```");
        match (&mut open, fence) {
            (None, Some(info)) => {
                open = Some(Block {
                    line: i + 1,
                    info: info.trim().to_string(),
                    text: String::new(),
                })
            }
            (Some(_), Some(_)) => found.extend(open.take()),
            (Some(b), None) => {
                b.text.push_str(line);
                b.text.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "a code block is not closed");
    found
}

fn documents() -> Vec<PathBuf> {
    let mut files = vec![PathBuf::from("README.md")];
    for e in std::fs::read_dir("docs").expect("docs/ exists") {
        let p = e.expect("entry").path();
        if p.extension().is_some_and(|x| x == "md") {
            files.push(p);
        }
    }
    files.sort();
    files
}

/// Check one block; a description of what is wrong with it.
fn check(path: &Path, b: &Block) -> Option<String> {
    let mut words = b.info.split_whitespace();
    if words.next() != Some("sde") {
        return None;
    }
    let expected = words.find_map(|w| w.strip_prefix("error="));
    let name = format!("{}:{}", path.display(), b.line);
    let c = compile_source(&name, &b.text, &Options::default());
    let shown = render_all(&c.diagnostics, &c.sources, false);
    match expected {
        None if !c.diagnostics.is_empty() => {
            Some(format!("{name} does not check cleanly:\n{shown}"))
        }
        None => None,
        Some(code) if !c.diagnostics.iter().any(|d| d.code.as_str() == code) => Some(format!(
            "{name} should fail with {code}, but the compiler said:\n{}",
            if shown.is_empty() { "nothing" } else { &shown }
        )),
        Some(_) => None,
    }
}

#[test]
fn every_sde_block_in_the_docs_checks() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for path in documents() {
        let text = std::fs::read_to_string(&path).expect("the document reads");
        for b in blocks(&text) {
            if b.info.starts_with("sde") {
                checked += 1;
                failures.extend(check(&path, &b));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The language reference and the tutorial are made of such blocks.
    assert!(
        checked >= 20,
        "only {checked} `sde` blocks found in the docs"
    );
}

#[test]
fn blocks_are_found_with_their_info_strings() {
    let md = "text\n```sde\nmodel M {}\n```\n```\nplain\n```\n```sde error=E0701\nx\n```\n";
    let b = blocks(md);
    assert_eq!(b.len(), 3);
    assert_eq!((b[0].line, b[0].info.as_str()), (2, "sde"));
    assert_eq!(b[0].text, "model M {}\n");
    assert_eq!(b[2].info, "sde error=E0701");
    let bad = check(Path::new("t.md"), &b[0]).unwrap_or_default();
    assert!(bad.contains("does not check cleanly"), "{bad}");
    let wrong = Block {
        line: 1,
        info: "sde error=E0101".into(),
        text: "model M { state x = 1\n dx = -x dt }\n".into(),
    };
    let said = check(Path::new("t.md"), &wrong).unwrap_or_default();
    assert!(said.contains("should fail with E0101"), "{said}");
}
