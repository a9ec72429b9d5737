//! The shared bad-input corpus (`corpus/bad-input/conform.toml`) run against the real `conform` binary:
//! every case must exit with its code (2 = usage), name the culprit, never panic or hang, and leave
//! nothing running.

#[allow(dead_code)] // the harness serves both crates; each uses part of it
#[path = "../../../corpus/bad-input/harness.rs"]
mod harness;

use std::path::Path;

#[test]
fn every_conform_bad_input_case_fails_cleanly() {
    let cases = harness::load("conform.toml");
    let refpm_cases = harness::load("refpm.toml");
    assert!(
        cases.len() + refpm_cases.len() >= 50,
        "the corpus has fewer than 50 cases"
    );
    let bin = Path::new(env!("CARGO_BIN_EXE_conform"));
    let mut failures = Vec::new();
    for case in &cases {
        // conform starts no daemon of its own in these cases: nothing to ask afterwards
        match harness::run_case(bin, case, &|_| Vec::new()) {
            Ok(_) => {}
            Err(e) if e.starts_with(&case.id) => failures.push(e),
            Err(e) => failures.push(format!("{}: {e}", case.id)),
        }
    }
    eprintln!(
        "conform bad-input corpus: {} passed, {} failed",
        cases.len() - failures.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
