//! docs/cli.md cannot drift from the command line: it has a section for every command
//! `ito --help` lists and names every flag each command's `--help` lists.

use std::process::Command;

fn help(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_ito"))
        .args(args)
        .arg("--help")
        .output()
        .expect("the ito binary runs");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The `--flags` a help text names.
fn flags(text: &str) -> Vec<String> {
    let mut found: Vec<String> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(str::to_string)
        .filter(|w| w != "--help" && w != "--version")
        .collect();
    found.sort();
    found.dedup();
    found
}

/// The subcommands `ito --help` lists (the indented lines under `Commands:`).
fn commands() -> Vec<String> {
    help(&[])
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect()
}

#[test]
fn cli_md_documents_every_command_and_flag() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/cli.md"))
        .expect("docs/cli.md reads");
    let commands = commands();
    assert!(commands.len() >= 6, "{commands:?}");
    let mut missing = Vec::new();
    for c in &commands {
        if !doc.contains(&format!("## `ito {c}`")) {
            missing.push(format!("a section for `ito {c}`"));
        }
        for f in flags(&help(&[c])) {
            if !doc.contains(&f) {
                missing.push(format!("`ito {c} {f}`"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "docs/cli.md lacks {}",
        missing.join(", ")
    );
}

#[test]
fn flags_are_read_from_help_text() {
    let text = "  --t-end <T_END>  End time\n  -h, --help  Print help\n      --set <NAME=VALUE>\n";
    assert_eq!(flags(text), vec!["--set", "--t-end"]);
}
