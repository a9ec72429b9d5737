//! The HTML report: self-contained, one `<svg` per chart kind, all text escaped.

use super::fixture;
use crate::report::{render_html, render_junit, write_matrix_html, write_reports};

fn no_network(html: &str) {
    let lower = html.to_ascii_lowercase();
    for bad in ["http://", "https://", "<script", "<link", "@import", "url("] {
        assert!(!lower.contains(bad), "html contains {bad}");
    }
}

#[test]
fn report_has_every_chart_kind_and_no_network_resource() {
    let html = render_html(&fixture::report("refpm"));
    for kind in ["chart-workers", "chart-reload", "chart-shutdown"] {
        assert!(
            html.contains(&format!("<svg class=\"chart {kind}\"")),
            "missing {kind}"
        );
    }
    // one bar chart (distribution), one reload timeline, one shutdown timeline
    assert_eq!(
        html.matches("<svg").count(),
        4,
        "distribution has a lifetime chart too"
    );
    no_network(&html);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<style>"));
}

#[test]
fn summary_and_scenarios_are_shown() {
    let html = render_html(&fixture::report("refpm"));
    for needle in [
        "Linux 6.1",
        "2026-12-01T12:00:00Z",
        "reload/under-load/http-4",
        "class=\"badge v-fail\"",
        "class=\"badge v-non-strict\"",
        "zero-failed-requests",
        "812.5",
        "pid 201 (i=0)",
    ] {
        assert!(html.contains(needle), "missing {needle}");
    }
}

#[test]
fn text_is_escaped() {
    let html = render_html(&fixture::report("a<b>"));
    assert!(!html.contains("<zero-downtime>"));
    assert!(html.contains("&lt;zero-downtime&gt; &amp; &quot;safe&quot;"));
    assert!(html.contains("a&lt;b&gt;"));
    assert!(!html.contains("<during reload>"));
}

#[test]
fn write_reports_writes_three_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("refpm");
    let report = fixture::report("refpm");
    write_reports(&report, &out).unwrap();
    let json = std::fs::read_to_string(out.join("results.json")).unwrap();
    let back: crate::model::RunReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back, report);
    assert!(json.contains(&format!(
        "\"schema_version\": {}",
        crate::model::RESULTS_SCHEMA_VERSION
    )));
    let xml = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(xml.contains("<testsuites"));
    no_network(&std::fs::read_to_string(out.join("index.html")).unwrap());
}

#[test]
fn a_schema_1_results_json_without_runtime_still_loads_and_the_runtime_round_trips() {
    let mut report = fixture::report("refpm");
    let mut v = serde_json::to_value(&report).unwrap();
    v["schema_version"] = 1.into();
    v.as_object_mut().unwrap().remove("runtime");
    let old: crate::model::RunReport = serde_json::from_value(v).unwrap();
    assert_eq!(old.runtime, None);
    report.runtime = Some(crate::model::RuntimeInfo {
        name: "node".into(),
        version: "26.12.1".into(),
        node_compat: "v26.12.1".into(),
        command: "/n/node".into(),
        requested: "26".into(),
    });
    let text = serde_json::to_string(&report).unwrap();
    let back: crate::model::RunReport = serde_json::from_str(&text).unwrap();
    assert_eq!(back, report);
    assert!(render_html(&report).contains("node v26.12.1 <code>/n/node</code>"));
    assert!(
        render_junit(&report)
            .unwrap()
            .contains("value=\"node v26.12.1\"")
    );
}

#[test]
fn write_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "x").unwrap();
    let err = write_reports(&fixture::report("refpm"), &blocker.join("sub")).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("file/sub"), "{msg}");
    assert!(msg.starts_with("cannot"), "{msg}");
}

#[test]
fn matrix_page_marks_differences() {
    let a = fixture::report("refpm");
    let mut b = fixture::report("pm2-7.0.4");
    b.results[0].verdict = crate::model::Verdict::Fail;
    b.results.pop();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("matrix.html");
    write_matrix_html(&[a.clone(), b.clone()], &path).unwrap();
    let html = std::fs::read_to_string(&path).unwrap();
    no_network(&html);
    assert_eq!(
        html.matches("cell-differs\"").count(),
        2,
        "changed + missing row"
    );
    let text = crate::report::diff_matrix(&[a, b]);
    insta::assert_snapshot!("matrix", text);
}
