//! `cargo test` at the root runs every suite against refpm: every MUST scenario must pass, every verdict
//! must be one the committed baseline (`reports/baselines/refpm.json`) accepts, and the normalised shape of
//! the results (ids, levels, checks evaluated — no pids, ports or times) is an insta snapshot, so a scenario
//! or check that silently stops being evaluated fails the test too.

use crate::common::{assert_no_debug_text, assert_no_leftovers, conform_bin, results, workspace};
use assert_cmd::Command;
use std::time::Duration;

#[test]
fn every_suite_against_refpm_matches_its_baseline() {
    let refpm = conform_bin().parent().expect("bin dir").join("refpm");
    assert!(
        refpm.is_file(),
        "{} missing: run `cargo test --workspace` at the root",
        refpm.display()
    );
    let reports = tempfile::Builder::new()
        .prefix("cf-all.")
        .tempdir()
        .expect("tempdir");
    let baseline = workspace().join("reports/baselines/refpm.json");
    let out = Command::new(conform_bin())
        .arg("run")
        .arg("--target")
        .arg(&refpm)
        .arg("--suites")
        .arg(workspace().join("suites"))
        .arg("--fixtures")
        .arg(workspace().join("fixtures"))
        .arg("--baseline")
        .arg(&baseline)
        .arg("--report-dir")
        .arg(reports.path())
        .timeout(Duration::from_secs(1500))
        .output()
        .expect("run conform");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let res = results(reports.path());
    assert_no_leftovers(&res);
    assert_no_debug_text(reports.path());
    let scenarios = res["results"].as_array().expect("results");
    let shape: Vec<serde_json::Value> = scenarios
        .iter()
        .map(|r| {
            let checks: Vec<&serde_json::Value> = r["checks"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| &c["name"])
                .collect();
            serde_json::json!({ "id": r["id"], "level": r["level"], "checks": checks })
        })
        .collect();
    insta::assert_json_snapshot!("refpm_all_suites_shape", shape);
    let must_failures: Vec<String> = scenarios
        .iter()
        .filter(|r| r["level"] == "MUST" && r["verdict"] != "pass")
        .map(|r| format!("{} {}: {}", r["verdict"], r["id"], r["reason"]))
        .collect();
    assert!(
        must_failures.is_empty(),
        "MUST scenarios not passing on refpm:\n{}",
        must_failures.join("\n")
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "verdicts changed against {}:\n{stdout}\n{stderr}",
        baseline.display()
    );
}
