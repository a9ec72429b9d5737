//! The HTML report: self-contained, one `<svg` per chart kind, all text escaped.

use super::fixture;
use crate::report::{render_html, render_junit, write_matrix_html, write_reports};

fn no_network(html: &str) {
    let lower = html.to_ascii_lowercase();
    for bad in [
        "http://",
        "https://",
        "<script src",
        "<link",
        "@import",
        "url(",
        "fetch(",
        "xmlhttprequest",
    ] {
        assert!(!lower.contains(bad), "html contains {bad}");
    }
    // at most the one inline filter script
    assert!(lower.matches("<script").count() <= 1);
}

/// What a reader must never see: Rust debug text and empty brackets.
pub(super) fn assert_no_debug_text(html: &str) {
    for bad in ["Some(", "None", "[]", "{}", "\\\"", "BTreeMap", "BTreeSet"] {
        assert!(
            !html.contains(bad),
            "the page shows `{bad}`: …{}…",
            html.find(bad)
                .map(|i| &html[i.saturating_sub(120)..(i + 60).min(html.len())])
                .unwrap_or("")
        );
    }
}

#[test]
fn the_page_shows_no_debug_text() {
    for n in [2, 4, 16, 64] {
        assert_no_debug_text(&render_html(&fixture::report_with_workers(n)));
    }
}

#[test]
fn failures_are_summarised_at_the_top_with_links() {
    let html = render_html(&fixture::report("refpm"));
    let top = html.find("id=\"failures\"").expect("failures box");
    assert!(
        top < html.find("<table class=\"meta\"").unwrap(),
        "not at the top"
    );
    let bx = &html[top..top + html[top..].find("</div>").unwrap()];
    // fail, error, non-strict and flaky link to their sections; pass and informational do not show
    for id in [
        "reload/under-load/http-4",
        "graceful/stop-in-flight",
        "distribution/udp",
        "reload/one-at-a-time",
    ] {
        let href = format!("href=\"#{}\"", super::super::html_anchor(id));
        assert!(bx.contains(&href), "{id} not linked in {bx}");
        assert!(html.contains(&format!("id=\"{}\"", &href[7..href.len() - 1])));
    }
    assert!(!bx.contains("distribution/http-4") && !bx.contains("stateless/counter"));
    assert!(bx.contains("4 of 7 scenarios"), "{bx}");

    let mut ok = fixture::report("refpm");
    ok.results
        .retain(|r| r.verdict == crate::model::Verdict::Pass);
    assert!(render_html(&ok).contains("No failures</strong> in 1 scenarios"));
}

#[test]
fn every_scenario_and_row_carries_what_the_filter_reads() {
    let report = fixture::report("refpm");
    let html = render_html(&report);
    for r in &report.results {
        let attrs = format!(
            "data-verdict=\"{}\" data-level=\"{}\"",
            r.verdict.as_str(),
            match r.level {
                crate::model::Level::Must => "MUST",
                crate::model::Level::Should => "SHOULD",
                crate::model::Level::Info => "INFO",
            }
        );
        // the section and its table-of-contents row
        assert!(html.matches(&attrs).count() >= 2, "{attrs}");
        let cb = format!("name=\"verdict\" value=\"{}\"", r.verdict.as_str());
        assert!(html.contains(&cb), "no checkbox {cb}");
    }
    assert!(html.contains("<form id=\"filter\">"));
    assert!(html.contains("name=\"level\" value=\"INFO\""));
}

#[test]
fn worker_bars_are_labelled_by_instance_and_thin_out_when_many() {
    let labels = |n: u32| {
        let html = render_html(&fixture::report_with_workers(n));
        let start = html.find("chart-workers").unwrap();
        let svg = &html[start..start + html[start..].find("</svg>").unwrap()];
        (
            svg.matches("class=\"label\"").count(),
            svg.contains("rotate("),
            svg.contains(">instance (NODE_APP_INSTANCE)"),
        )
    };
    assert_eq!(labels(2), (2, false, true));
    assert_eq!(labels(16), (16, false, true));
    let (n64, rotated, by_instance) = labels(64);
    assert!(rotated && by_instance);
    assert!((32..64).contains(&n64), "{n64} labels for 64 bars");
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

#[test]
fn results_are_grouped_by_where_their_promise_is_written() {
    use crate::model::PromiseSource;
    let mut report = fixture::report("refpm");
    // the fixture's first result is from the guide; make one pm2-docs and one kit-policy, out of order
    let n = report.results.len();
    report.results[n - 1].source = PromiseSource::Pm2Docs;
    report.results[1].source = PromiseSource::KitPolicy;
    let (docs_id, kit_id) = (
        report.results[n - 1].id.clone(),
        report.results[1].id.clone(),
    );
    let html = render_html(&report);
    let at = |needle: &str| {
        html.find(needle)
            .unwrap_or_else(|| panic!("{needle} missing"))
    };
    let (guide, docs, kit) = (
        at("id=\"source-guide\""),
        at("id=\"source-pm2-docs\""),
        at("id=\"source-kit-policy\""),
    );
    assert!(guide < docs && docs < kit, "groups out of order");
    let section = |id: &str| at(&format!("id=\"{}\"", super::super::html_anchor(id)));
    assert!(section(&docs_id) > docs && section(&docs_id) < kit);
    assert!(section(&kit_id) > kit);
    assert!(
        html.contains("(PM2&#39;s documentation elsewhere)")
            || html.contains("(PM2's documentation elsewhere)")
    );
    let s = crate::model::Summary::from_results(&report.results);
    assert_eq!(s.by_source["pm2-docs"].values().sum::<u64>(), 1);
    assert_eq!(s.by_source["kit-policy"].values().sum::<u64>(), 1);
    assert_eq!(s.by_source["guide"].values().sum::<u64>(), n as u64 - 2);
    let text = crate::report::terminal::summary_text(&report);
    assert!(text.contains("by source:\n  guide"), "{text}");
    assert!(text.contains("kit-policy   1 (kit policy)"), "{text}");
}
