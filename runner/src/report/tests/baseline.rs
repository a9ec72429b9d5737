//! Baseline compare and write.

use super::fixture;
use crate::model::{RunReport, Verdict};
use crate::report::baseline::{compare, write};
use rstest::rstest;
use std::path::Path;

fn baseline_file(dir: &Path, scenarios: &str) -> std::path::PathBuf {
    let p = dir.join("pm2.json");
    std::fs::write(
        &p,
        format!(r#"{{"schema_version":1,"target":"pm2","scenarios":{{{scenarios}}}}}"#),
    )
    .unwrap();
    p
}

/// The fixture's verdicts, as baseline entries, with `id`'s entry replaced by `entry` (or removed).
fn entries(report: &RunReport, id: &str, entry: Option<&str>) -> String {
    let mut v = Vec::new();
    for r in &report.results {
        if r.id == id {
            if let Some(e) = entry {
                v.push(format!("\"{id}\":{e}"));
            }
        } else if r.verdict == Verdict::Flaky {
            v.push(format!("\"{}\":[\"pass\",\"non-strict\"]", r.id));
        } else {
            v.push(format!("\"{}\":\"{}\"", r.id, r.verdict));
        }
    }
    v.join(",")
}

#[rstest]
#[case::same(Some(r#"["fail"]"#), 0)]
#[case::same_as_plain_string(Some(r#""fail""#), 0)]
#[case::changed(Some(r#"["pass"]"#), 1)]
#[case::multi_accepted(Some(r#"["pass","fail"]"#), 0)]
#[case::missing_from_baseline(None, 1)]
fn compare_cases(#[case] entry: Option<&str>, #[case] changes: usize) {
    let dir = tempfile::tempdir().unwrap();
    let report = fixture::report("pm2");
    let p = baseline_file(
        dir.path(),
        &entries(&report, "reload/under-load/http-4", entry),
    );
    let diff = compare(&report, &p).unwrap();
    assert_eq!(diff.changes.len(), changes, "{:?}", diff.changes);
    assert_eq!(diff.is_clean(), changes == 0);
    if let Some(c) = diff.changes.first() {
        assert!(c.contains("reload/under-load/http-4"), "{c}");
    }
}

#[test]
fn scenario_missing_from_the_run_is_a_change() {
    let dir = tempfile::tempdir().unwrap();
    let mut report = fixture::report("pm2");
    let all = entries(&report, "", None);
    report.results.retain(|r| r.id != "stateless/counter");
    let p = baseline_file(dir.path(), &all);
    let diff = compare(&report, &p).unwrap();
    assert_eq!(diff.changes.len(), 1, "{:?}", diff.changes);
    assert!(diff.changes[0].starts_with("missing scenario stateless/counter"));
}

#[test]
fn flaky_matches_only_when_every_repeat_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let report = fixture::report("pm2");
    let id = "reload/one-at-a-time";
    let p = baseline_file(dir.path(), &entries(&report, id, Some(r#"["pass"]"#)));
    let diff = compare(&report, &p).unwrap();
    assert_eq!(diff.changes.len(), 1);
    assert!(
        diff.changes[0].contains("flaky (pass, non-strict)"),
        "{:?}",
        diff.changes
    );
}

#[test]
fn write_keeps_multi_verdict_lists_that_still_accept() {
    let dir = tempfile::tempdir().unwrap();
    let mut report = fixture::report("pm2");
    let p = baseline_file(
        dir.path(),
        r#""reload/under-load/http-4":["pass","fail"],"distribution/http-4":["fail","non-strict"],"gone/x":["pass"]"#,
    );
    write(&report, &p).unwrap();
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    let s = &v["scenarios"];
    assert_eq!(
        s["reload/under-load/http-4"],
        serde_json::json!(["pass", "fail"])
    );
    assert_eq!(s["distribution/http-4"], serde_json::json!(["pass"]));
    assert_eq!(
        s["reload/one-at-a-time"],
        serde_json::json!(["pass", "non-strict"])
    );
    assert!(s.get("gone/x").is_none());
    assert_eq!(v["target"], "pm2");
    // the written file matches the report it came from
    assert!(compare(&report, &p).unwrap().is_clean());
    report.results[1].verdict = Verdict::Error;
    assert!(!compare(&report, &p).unwrap().is_clean());
}

#[test]
fn a_repeated_run_narrows_a_widened_entry_to_what_it_saw() {
    let dir = tempfile::tempdir().unwrap();
    let mut report = fixture::report("pm2");
    let id = "reload/under-load/http-4";
    let p = baseline_file(dir.path(), &format!(r#""{id}":["pass","fail"]"#));
    let r = report.results.iter_mut().find(|r| r.id == id).unwrap();
    assert_eq!(r.verdict, Verdict::Fail);
    r.repeats = vec![Verdict::Fail; 10];
    write(&report, &p).unwrap();
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    assert_eq!(v["scenarios"][id], serde_json::json!(["fail"]));
    // a flaky repeated run still writes every verdict it saw
    let r = report.results.iter_mut().find(|r| r.id == id).unwrap();
    r.verdict = Verdict::Flaky;
    r.repeats[3] = Verdict::Pass;
    write(&report, &p).unwrap();
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    assert_eq!(v["scenarios"][id], serde_json::json!(["pass", "fail"]));
}

#[test]
fn write_creates_a_new_file_and_directory() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("baselines/refpm.json");
    let report = fixture::report("refpm");
    write(&report, &p).unwrap();
    assert!(compare(&report, &p).unwrap().is_clean());
}

#[rstest]
#[case::not_json("{", "invalid json")]
#[case::unknown_verdict(r#"{"scenarios":{"a":"great"}}"#, "invalid json")]
#[case::empty_list(r#"{"scenarios":{"a":[]}}"#, "scenarios.\"a\" accepts no verdict")]
#[case::future_schema(r#"{"schema_version":9,"scenarios":{}}"#, "schema_version 9")]
fn bad_baselines_are_errors_naming_the_file(#[case] text: &str, #[case] needle: &str) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.json");
    std::fs::write(&p, text).unwrap();
    let msg = compare(&fixture::report("pm2"), &p)
        .unwrap_err()
        .to_string();
    assert!(msg.contains(needle) && msg.contains("bad.json"), "{msg}");
    let missing = compare(&fixture::report("pm2"), &dir.path().join("none.json"));
    assert!(missing.unwrap_err().to_string().contains("none.json"));
}
