//! Running the `ito` binary in tests: its output and the shape of a clean failure.
// Each test crate uses a part of this module.
#![allow(dead_code)]

use std::process::{Command, Output};

pub fn ito(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ito"))
        .args(args)
        .output()
        .expect("the ito binary runs")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Exit code 1, the expected text on stderr, and no sign of a panic.
pub fn assert_clean_failure(o: &Output, expect: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "stderr:\n{err}");
    assert!(err.contains(expect), "expected {expect:?} in:\n{err}");
    assert!(!err.contains("panicked"), "panic:\n{err}");
}
