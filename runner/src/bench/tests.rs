//! Tests of the report as a whole: JSON shape (insta snapshot with redactions), Markdown and HTML.

use super::figures::*;
use super::knobs::Knobs;
use super::plan::{PlanInput, subjects};
use super::report::{self, BenchReport, ConfigEcho};
use super::runner::{Collected, Note, Setup};
use crate::engine::Cancel;
use crate::target::Target;
use std::path::PathBuf;

fn setup() -> Setup {
    let targets = vec![
        Target {
            label: "pm2-7.0.4".into(),
            base_label: "pm2-7.0.4".into(),
            command: PathBuf::from("/x/pm2"),
            version: "7.0.4".into(),
            runtime: None,
            adapter: Default::default(),
        },
        Target {
            label: "refpm".into(),
            base_label: "refpm".into(),
            command: PathBuf::from("/x/refpm"),
            version: "0.1.0".into(),
            runtime: None,
            adapter: Default::default(),
        },
    ];
    let labels: Vec<String> = targets.iter().map(|t| t.label.clone()).collect();
    Setup {
        subjects: subjects(&labels),
        targets,
        knobs: Knobs::full(None),
        plan: PlanInput {
            rounds: 2,
            reloads: 4,
            with_run: false,
        },
        fixtures: PathBuf::from("/x/fixtures"),
        cancel: Cancel::default(),
        auto_reload_rate: true,
    }
}

fn collected() -> Collected {
    let mut c = Collected {
        steps_total: 20,
        steps_done: 20,
        reload_rate: 2000,
        ..Collected::default()
    };
    let s = &mut c.samples;
    for (subject, nc, ka) in [
        ("pm2-7.0.4", [5200.0, 5400.0], [30000.0, 31000.0]),
        ("refpm (rr)", [9000.0, 9400.0], [31000.0, 32000.0]),
        ("refpm (shared)", [16000.0, 17000.0], [33000.0, 34000.0]),
        ("node (1 process)", [15000.0, 15500.0], [35000.0, 36000.0]),
        ("node cluster (rr)", [8800.0, 9200.0], [30000.0, 30500.0]),
        (
            "node cluster (none)",
            [19000.0, 21000.0],
            [36000.0, 37000.0],
        ),
    ] {
        for v in nc {
            s.push(NEWCONN_MAX, subject, v);
            s.push(NEWCONN_WRK, subject, v * 1.1);
            s.push(NEWCONN_FAILED, subject, 0.0);
        }
        for v in ka {
            s.push(KEEPALIVE_MAX, subject, v);
        }
    }
    for (subject, rss) in [
        ("pm2-7.0.4", 63.0),
        ("refpm (rr)", 5.5),
        ("refpm (shared)", 5.4),
    ] {
        s.push(RSS_IDLE, subject, rss);
    }
    for v in [0.0, 0.0, 1.0, 0.0] {
        s.push(RELOAD_FAILED, "pm2-7.0.4", v + 1.0);
        s.push(RELOAD_FAILED, "refpm (rr)", 0.0);
        s.push(RELOAD_FAILED, "refpm (shared)", v);
        s.push(RELOAD_REQUESTS, "refpm (shared)", 4000.0);
    }
    for v in [249.0, 251.0] {
        s.push(CLI_JLIST, "pm2-7.0.4", v);
        s.push(CLI_JLIST, "refpm", v / 30.0);
    }
    c.notes.push(Note {
        section: "reload".into(),
        subject: "refpm (rr)".into(),
        round: 0,
        text: "8000 requests".into(),
    });
    c.errors.push(Note {
        section: "scale".into(),
        subject: "refpm".into(),
        round: 0,
        text: "<boom> & co".into(),
    });
    c
}

fn sample_report() -> BenchReport {
    let s = setup();
    let config = ConfigEcho::new(&s.knobs, &s.plan, false);
    report::build(
        &s,
        collected(),
        config,
        crate::engine::machine_info(),
        "2026-12-01T13:05:09Z".into(),
        123_456,
    )
}

#[test]
fn json_shape() {
    let r = sample_report();
    insta::assert_json_snapshot!(r, {
        ".machine.*" => "[machine]",
        ".started_at" => "[time]",
        ".duration_ms" => "[ms]",
    });
}

#[test]
fn json_round_trips() {
    let r = sample_report();
    let text = serde_json::to_string(&r).unwrap();
    let back: BenchReport = serde_json::from_str(&text).unwrap();
    // every field survives a typed read (floats compared as parsed from the same text)
    let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(serde_json::to_value(&back).unwrap(), parsed);
    assert_eq!(back.goals.len(), r.goals.len());
}

#[test]
fn report_file_names_and_texts() {
    let r = sample_report();
    assert_eq!(report::file_stem(&r.started_at), "2026-12-01T13-05-09");
    let text = report::render_text(&r);
    assert!(text.contains("goals (refpm, issue 7):"));
    assert!(text.contains("errors:\n  scale refpm round 1: <boom> & co"));
    let md = report::render_markdown(&r);
    assert!(md.contains("| figure | subject | median | spread | ratio to first |"));
    assert!(md.contains("- met: new-connection req/s of the shared policy >= 3x PM2"));
    assert!(md.contains("- **missed**: 0 failed requests during reloads (shared)"));
    let dir = tempfile::tempdir().unwrap();
    let json = report::write(&r, dir.path()).unwrap();
    assert_eq!(json.file_name().unwrap(), "2026-12-01T13-05-09.json");
    assert!(dir.path().join("2026-12-01T13-05-09.md").is_file());
    assert!(dir.path().join("index.html").is_file());
}

#[test]
fn html_is_self_contained_with_a_chart_per_measured_figure() {
    let r = sample_report();
    let html = super::html::render(&r);
    let measured = r.figures.iter().filter(|f| !f.rows.is_empty()).count();
    assert_eq!(html.matches("<svg").count(), measured);
    assert!(html.contains("&lt;boom&gt; &amp; co"));
    assert!(!html.contains("<boom>"));
    assert!(!html.contains("<script") && !html.contains("http://") && !html.contains("https://"));
    assert!(html.contains("class=\"missed\""));
}
