//! conform's suite parser (`suite::load_file`, the path every `suites/*.toml` takes): any bytes must
//! give a suite or a diagnostic naming the file — never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// One file reused for every input (the loader reads from disk).
fn scratch() -> &'static std::path::Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::Builder::new().prefix("fz-suite.").tempdir().expect("temp dir")).path()
}

fuzz_target!(|data: &[u8]| {
    let path = scratch().join("x.toml");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let fixtures: BTreeSet<String> = ["http", "graceful", "wait-ready"].iter().map(|s| s.to_string()).collect();
    if let Err(e) = conform::suite::load_file(&path, Some(&fixtures)) {
        // rendering the diagnostic (spans into the source) must not panic either
        let _ = format!("{e}");
    }
});
