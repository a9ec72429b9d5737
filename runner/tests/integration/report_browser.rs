//! The HTML report in a real browser: headless Chromium renders `index.html`, the charts are drawn as SVG
//! and the page logs no console error. Chromium comes from Debian (`.ci/run` installs it); without it the
//! test fails under CI and is skipped, loudly, elsewhere.

use conform::model::{
    CheckResult, Figures, Level, MachineInfo, RunReport, ScenarioResult, Summary, TargetInfo, Throughput,
    TimelineEvent, Verdict, WorkerSpan,
};
use std::path::Path;
use std::process::Command;

fn chromium() -> Option<&'static str> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"].into_iter().find(|p| Path::new(p).exists())
}

fn scenario(id: &str, verdict: Verdict, figures: Figures) -> ScenarioResult {
    ScenarioResult {
        id: id.to_string(),
        suite: id.split('/').next().unwrap().to_string(),
        quote: "With reload, pm2 restarts all processes one by one, always keeping at least one process running".into(),
        level: Level::Must,
        verdict,
        reason: if verdict == Verdict::Fail { "3 failed requests".into() } else { String::new() },
        checks: vec![CheckResult {
            name: "failed-requests".into(),
            passed: verdict == Verdict::Pass,
            expected: "0".into(),
            observed: "3 <script>alert(1)</script>".into(),
        }],
        figures,
        duration_ms: 4200,
        repeats: vec![],
    }
}

fn sample_report() -> RunReport {
    let mut dist = Figures::default();
    dist.per_worker.insert("1001".into(), 210);
    dist.per_worker.insert("1002".into(), 190);
    let mut reload = Figures::default();
    reload.throughput = Some(Throughput { bucket_ms: 100, ok: vec![200, 198, 150, 201, 199], failed: vec![0, 0, 3, 0, 0] });
    reload.workers = vec![
        WorkerSpan { pid: 1001, instance: Some("0".into()), start_ms: 0.0, listening_ms: Some(40.0), end_ms: Some(260.0) },
        WorkerSpan { pid: 1003, instance: Some("0".into()), start_ms: 180.0, listening_ms: Some(230.0), end_ms: None },
    ];
    reload.timeline = vec![TimelineEvent { t_ms: 240.0, kind: "signal".into(), pid: Some(1001), detail: "SIGINT".into() }];
    let results = vec![
        scenario("distribution/http-2", Verdict::Pass, dist),
        scenario("reload/under-load/http-2", Verdict::Fail, reload),
    ];
    RunReport {
        schema_version: conform::model::RESULTS_SCHEMA_VERSION,
        conform_version: "test".into(),
        target: TargetInfo { label: "sample".into(), command: "/bin/sample".into(), version: "1.0".into() },
        machine: MachineInfo { os: "Linux".into(), cpus: 2, node_version: "v20".into(), hostname: "h".into() },
        started_at: "2026-12-01T00:00:00Z".into(),
        duration_ms: 8400,
        summary: Summary::from_results(&results),
        results,
    }
}

#[test]
fn html_report_renders_charts_without_console_errors() {
    let Some(browser) = chromium() else {
        assert!(std::env::var_os("CI").is_none(), "chromium is not installed but CI is set: .ci/run must install it");
        eprintln!("SKIPPED: chromium not installed (apt-get install chromium)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    conform::report::write_reports(&sample_report(), dir.path()).unwrap();
    let page = dir.path().join("index.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("<script>alert(1)</script>"), "text must be escaped");
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--log-level=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
    let dom = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let console: Vec<&str> = stderr.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
    let svgs = dom.matches("<svg").count();
    assert!(svgs >= 2, "expected a worker chart and a reload timeline, found {svgs} <svg> in the DOM");
    assert!(dom.contains("<rect"), "charts draw bars as <rect>");
    assert!(dom.contains("reload/under-load/http-2") && dom.contains("distribution/http-2"));
    for needle in ["src=\"http", "href=\"http", "url(http"] {
        assert!(!dom.contains(needle), "the report must be self-contained, found {needle}");
    }
}
