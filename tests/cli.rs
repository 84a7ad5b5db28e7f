//! The `ito` binary end to end: exit codes, output streams, JSON diagnostics, and every kind
//! of bad input the issue lists (each must give a clear error and exit code 1, never a panic).

use std::path::PathBuf;

#[path = "common/cli.rs"]
mod cli;
use cli::{assert_clean_failure, ito, stderr, stdout};

/// A scratch file under the test target directory.
fn scratch(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn a_clean_example_exits_zero_and_says_ok() {
    let o = ito(&["check", "examples/ou.sde"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("ok: OU (SDE)"));
}

#[test]
fn emit_typed_and_ast_go_to_stdout() {
    let o = ito(&["check", "examples/vilar.sde", "--emit", "typed"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.contains("kind: MJP"), "{out}");
    assert_eq!(
        out.matches("(mass action").count(),
        16,
        "Vilar has 16 reactions"
    );
    let o = ito(&["check", "examples/ou.sde", "--emit", "ast"]);
    assert!(
        stdout(&o).contains("equation dx = (+ (juxt"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn emit_clif_prints_every_kernel_of_every_model() {
    let o = ito(&["check", "examples/ou.sde", "--emit", "clif"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("; model OU\n"), "{out}");
    for kernel in ["sizes", "drift", "diffusion", "outputs", "drift_jvp"] {
        assert!(
            out.contains(&format!("function %{kernel}(")),
            "{kernel}:\n{out}"
        );
    }
}

#[test]
fn errors_exit_one_and_json_lists_them() {
    let path = scratch(
        "errors.sde",
        b"model M {\n  param sigma = 1\n  state x = 0\n  dx = -x dt + sigam dW\n  y = 2 +\n}\n",
    );
    let o = ito(&["check", path.to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    let items = json.as_array().expect("an array");
    let codes: Vec<&str> = items.iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["E0101", "E0001"], "{json:#}");
    let unknown = &items[0];
    assert_eq!(unknown["severity"], "error");
    assert_eq!(unknown["primary"]["line"], 4);
    assert_eq!(unknown["primary"]["column"], 16);
    assert_eq!(unknown["help"], "did you mean `sigma`?");
}

#[test]
fn emit_with_json_format_keeps_stdout_one_json_object() {
    let o = ito(&[
        "check",
        "examples/ou.sde",
        "--emit",
        "ir",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    assert_eq!(json["emit"], "ir", "{json:#}");
    let text = json["output"].as_str().expect("the IR as a string");
    assert!(text.contains("kernel drift {"), "{text}");
    assert_eq!(json["error"], serde_json::Value::Null);
    assert_eq!(json["diagnostics"], serde_json::json!([]));

    // With errors, nothing is emitted and the diagnostics say why.
    let path = scratch(
        "emit_errors.sde",
        b"model M {\n  state x = 0\n  dx = -y dt\n}\n",
    );
    let o = ito(&[
        "check",
        path.to_str().unwrap(),
        "--emit",
        "clif",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    assert_eq!(json["emit"], "clif");
    assert_eq!(json["output"], serde_json::Value::Null);
    assert_eq!(json["diagnostics"][0]["code"], "E0101", "{json:#}");
}

#[test]
fn several_models_are_selected_with_model_flag() {
    let path = scratch(
        "two.sde",
        b"model A {\n  state x = 1\n  dx = -x dt\n}\nmodel B {\n  species S = 5\n  reactions {\n    S -> 0 @ 1\n  }\n}\n",
    );
    let o = ito(&["check", path.to_str().unwrap()]);
    assert!(
        stderr(&o).contains("ok: A (ODE), B (MJP)"),
        "{}",
        stderr(&o)
    );
    let o = ito(&["check", path.to_str().unwrap(), "--model", "B"]);
    assert!(stderr(&o).contains("ok: B (MJP)"), "{}", stderr(&o));
    let o = ito(&["check", path.to_str().unwrap(), "--model", "b"]);
    assert_clean_failure(&o, "no model named `b`");
    assert!(stderr(&o).contains("did you mean `B`?"));
}

#[test]
fn stdlib_modules_can_be_checked_by_name() {
    let o = ito(&["check", "std/epidemics"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("ok: SIR (MJP), SEIR (MJP)"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn missing_file() {
    assert_clean_failure(&ito(&["check", "no/such/file.sde"]), "no such file");
}

#[test]
fn directory_instead_of_file() {
    assert_clean_failure(&ito(&["check", "examples"]), "it is a directory");
}

#[test]
fn empty_file() {
    let p = scratch("empty.sde", b"");
    assert_clean_failure(&ito(&["check", p.to_str().unwrap()]), "contains no model");
}

#[test]
fn non_utf8_bytes() {
    let p = scratch("latin1.sde", b"model M {\n  param caf\xe9 = 1\n}\n");
    assert_clean_failure(
        &ito(&["check", p.to_str().unwrap()]),
        "not valid UTF-8 (line 2, byte 12 of the line)",
    );
}

#[test]
fn five_megabyte_file() {
    let line = "  param p = 1.0 // padding padding padding padding padding\n";
    let body = line.repeat(5 * 1024 * 1024 / line.len() + 1);
    let p = scratch("huge.sde", format!("model M {{\n{body}}}\n").as_bytes());
    assert_clean_failure(&ito(&["check", p.to_str().unwrap()]), "at most 4 MiB");
}

#[test]
fn ten_thousand_nested_brackets() {
    let deep = format!(
        "model M {{\n  let a = {}1{}\n}}\n",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    let p = scratch("deep.sde", deep.as_bytes());
    assert_clean_failure(&ito(&["check", p.to_str().unwrap()]), "nesting is too deep");
}

#[test]
fn ten_thousand_nested_operators() {
    // No brackets: prefix operators, a right-associative power chain, nested `if`s.
    for (name, expr) in [
        ("neg", format!("{}1", "-".repeat(10_000))),
        ("pow", vec!["x"; 10_000].join("^")),
        (
            "ifs",
            format!(
                "{}1{}",
                "if x > 0 then ".repeat(10_000),
                " else 0".repeat(10_000)
            ),
        ),
        (
            "else_if",
            format!("{}0", "if x > 0 then 1 else ".repeat(10_000)),
        ),
    ] {
        let text = format!("model M {{\n  state x = 1\n  dx = -x dt\n  let a = {expr}\n}}\n");
        let p = scratch(&format!("deep_{name}.sde"), text.as_bytes());
        assert_clean_failure(&ito(&["check", p.to_str().unwrap()]), "too deep");
    }
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let o = ito(&["check", "examples/ou.sde", "--emit", "bytecode"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("invalid value 'bytecode'"));
}
