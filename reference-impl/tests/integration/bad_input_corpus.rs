//! The shared bad-input corpus (`corpus/bad-input/refpm.toml`) run against the real `refpm` binary:
//! every case must exit with its code, name the culprit, never panic or hang, and start nothing.

#[allow(dead_code)] // the harness serves both crates; each uses part of it
#[path = "../../../corpus/bad-input/harness.rs"]
mod harness;

use std::path::Path;
use std::time::Duration;

/// Runs `refpm` with `home` and returns (code, stdout, stderr), or a hang description.
fn refpm(home: &Path, args: &[&str]) -> Result<(i32, String, String), String> {
    let env = [("PM2_HOME".to_string(), home.display().to_string())]
        .into_iter()
        .collect();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let cwd = std::env::temp_dir();
    harness::run_with_deadline(
        Path::new(env!("CARGO_BIN_EXE_refpm")),
        &args,
        &cwd,
        &env,
        Duration::from_secs(30),
    )
}

/// After a case: when its home is usable (an existing directory), `jlist` must be `[]` (nothing was
/// started), then the daemon is killed.
fn after(home: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    if !home.is_dir() || home.as_os_str().len() > 90 {
        return problems;
    }
    match refpm(home, &["jlist"]) {
        Ok((0, out, _)) => {
            let listed: Result<serde_json::Value, _> = serde_json::from_str(out.trim());
            if !matches!(&listed, Ok(serde_json::Value::Array(a)) if a.is_empty()) {
                problems.push(format!("jlist afterwards is not []: {}", out.trim()));
            }
        }
        Ok((code, _, err)) => {
            problems.push(format!("jlist afterwards exited {code}: {}", err.trim()))
        }
        Err(e) => problems.push(format!("jlist afterwards: {e}")),
    }
    if let Err(e) = refpm(home, &["kill"]) {
        problems.push(format!("kill afterwards: {e}"));
    }
    problems
}

#[test]
fn every_refpm_bad_input_case_fails_cleanly() {
    let cases = harness::load("refpm.toml");
    assert!(
        cases.len() >= 50,
        "the refpm corpus has {} cases, fewer than 50",
        cases.len()
    );
    let bin = Path::new(env!("CARGO_BIN_EXE_refpm"));
    let only = std::env::var("CORPUS_ONLY").unwrap_or_default();
    let queue = std::sync::Mutex::new(
        cases
            .iter()
            .filter(|c| c.id.starts_with(&only))
            .collect::<Vec<_>>(),
    );
    let failures = std::sync::Mutex::new(Vec::new());
    let passed = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                while let Some(case) = queue.lock().unwrap().pop() {
                    match harness::run_case(bin, case, &after) {
                        Ok(_) => {
                            passed.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                        Err(e) if e.starts_with(&case.id) => failures.lock().unwrap().push(e),
                        Err(e) => failures.lock().unwrap().push(format!("{}: {e}", case.id)),
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    let passed = passed.into_inner();
    eprintln!(
        "refpm bad-input corpus: {passed} passed, {} failed",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
