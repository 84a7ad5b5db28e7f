//! Robustness: thousands of randomly corrupted variants of every example (tokens deleted,
//! duplicated, swapped, replaced) go through the whole front end. Whatever the input, the
//! result must be diagnostics, never a panic; and a variant reported clean must really be
//! free of errors.

use ito::frontend::{Options, compile_source};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::panic::{AssertUnwindSafe, catch_unwind};

const VARIANTS_PER_FILE: usize = 150;

/// Split text into tokens that keep every character (words, numbers, whitespace runs,
/// single punctuation), so that joining them gives the text back.
fn tokens(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut prev_class = 0u8;
    for c in text.chars() {
        let class = if c.is_alphanumeric() || c == '_' || c == '.' {
            1
        } else if c.is_whitespace() {
            2
        } else {
            3
        };
        match out.last_mut() {
            Some(last) if class == prev_class && class != 3 => last.push(c),
            _ => out.push(c.to_string()),
        }
        prev_class = class;
    }
    out
}

/// The example without its comment lines, so that mutations land in code.
fn code_only(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn mutate(toks: &[String], rng: &mut StdRng) -> String {
    let mut t = toks.to_vec();
    let edits = rng.random_range(1..=3);
    for _ in 0..edits {
        // Mutate a token that is not whitespace.
        let code: Vec<usize> = (0..t.len()).filter(|&k| !t[k].trim().is_empty()).collect();
        if code.is_empty() {
            break;
        }
        let i = code[rng.random_range(0..code.len())];
        match rng.random_range(0..5) {
            0 => {
                t.remove(i);
            }
            1 => {
                let dup = t[i].clone();
                t.insert(i, dup);
            }
            2 if i + 1 < t.len() => t.swap(i, i + 1),
            3 => {
                let j = rng.random_range(0..t.len());
                t[i] = t[j].clone();
            }
            _ => {
                const JUNK: [&str; 12] = [
                    "(", ")", "{", "}", "[", "]", "dt", "dW", "~", "->", "\n", "if",
                ];
                t[i] = JUNK[rng.random_range(0..JUNK.len())].to_string();
            }
        }
    }
    t.concat()
}

#[test]
fn corrupted_examples_never_panic() {
    let mut files: Vec<_> = std::fs::read_dir("examples")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sde"))
        .collect();
    files.sort();
    let mut rng = StdRng::seed_from_u64(0x1705);
    let mut total = 0;
    let mut rejected = 0;
    for path in &files {
        let text = code_only(&std::fs::read_to_string(path).unwrap());
        let toks = tokens(&text);
        assert_eq!(toks.concat(), text, "tokenising keeps the text");
        for _ in 0..VARIANTS_PER_FILE {
            let variant = mutate(&toks, &mut rng);
            let result = catch_unwind(AssertUnwindSafe(|| {
                compile_source("variant.sde", &variant, &Options::default())
            }));
            match result {
                Ok(c) => {
                    total += 1;
                    if c.has_errors() {
                        rejected += 1;
                        assert!(
                            c.program.models.is_empty()
                                || c.diagnostics.iter().any(|d| d.is_error())
                        );
                    }
                }
                Err(_) => panic!(
                    "the front end panicked on a variant of {}:\n{variant}",
                    path.display()
                ),
            }
        }
    }
    assert_eq!(total, files.len() * VARIANTS_PER_FILE);
    // Most corruptions must be caught; if almost none are, the mutator is not mutating.
    assert!(
        rejected * 2 > total,
        "only {rejected} of {total} variants were rejected"
    );
}
