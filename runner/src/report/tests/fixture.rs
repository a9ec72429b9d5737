//! A synthetic run report covering every verdict and every chart kind.

use crate::model::*;
use std::collections::BTreeMap;

fn check(name: &str, passed: bool, expected: &str, observed: &str) -> CheckResult {
    CheckResult {
        name: name.into(),
        passed,
        expected: expected.into(),
        observed: observed.into(),
    }
}

fn result(id: &str, level: Level, verdict: Verdict, reason: &str) -> ScenarioResult {
    ScenarioResult {
        id: id.into(),
        suite: id.split('/').next().unwrap_or("").into(),
        quote: "Reload is <zero-downtime> & \"safe\".".into(),
        source: crate::model::PromiseSource::Guide,
        level,
        verdict,
        reason: reason.into(),
        checks: vec![],
        figures: Figures::default(),
        duration_ms: 1234,
        repeats: vec![],
    }
}

fn span(pid: u32, inst: &str, start: f64, listening: Option<f64>, end: Option<f64>) -> WorkerSpan {
    WorkerSpan {
        pid,
        instance: Some(inst.into()),
        start_ms: start,
        listening_ms: listening,
        end_ms: end,
    }
}

fn event(t_ms: f64, kind: &str, pid: Option<u32>, detail: &str) -> TimelineEvent {
    TimelineEvent {
        t_ms,
        kind: kind.into(),
        pid,
        detail: detail.into(),
    }
}

/// A report for target `label` with one scenario of each verdict.
pub fn report(label: &str) -> RunReport {
    let mut dist = result("distribution/http-4", Level::Must, Verdict::Pass, "");
    dist.checks = vec![check("every-instance-serves", true, "4 pids", "4 pids")];
    dist.figures.per_worker = BTreeMap::from([
        ("101".into(), 250),
        ("102".into(), 251),
        ("103".into(), 249),
        ("104".into(), 250),
    ]);
    dist.figures.outcomes = BTreeMap::from([("ok".into(), 1000)]);
    dist.figures.latency_ms = BTreeMap::from([("p50".into(), 1.25), ("p99".into(), 4.5)]);
    dist.figures.workers = vec![span(101, "0", 0.0, Some(40.0), None)];

    let mut reload = result(
        "reload/under-load/http-4",
        Level::Must,
        Verdict::Fail,
        "3 failed requests of 4120 <during reload>",
    );
    reload.checks = vec![
        check(
            "zero-failed-requests",
            false,
            "0 failed requests",
            "3 failed of 4120",
        ),
        check("all-pids-replaced", true, "4 new pids", "4 new pids"),
    ];
    reload.figures.values =
        BTreeMap::from([("failed_requests".into(), 3.0), ("reload_ms".into(), 812.5)]);
    reload.figures.outcomes = BTreeMap::from([("ok".into(), 4117), ("reset".into(), 3)]);
    reload.figures.throughput = Some(Throughput {
        bucket_ms: 100,
        ok: vec![200, 200, 198, 200, 199],
        failed: vec![0, 0, 2, 0, 1],
        failed_by: BTreeMap::new(),
    });
    reload.figures.workers = vec![
        span(201, "0", 0.0, Some(30.0), Some(260.0)),
        span(202, "0", 220.0, Some(250.0), None),
    ];
    reload.figures.timeline = vec![
        event(200.0, "step", None, "reload"),
        event(240.0, "signal", Some(201), "SIGINT"),
    ];

    let mut graceful = result(
        "graceful/stop-in-flight",
        Level::Must,
        Verdict::Error,
        "node not found on PATH",
    );
    graceful.figures.workers = vec![span(301, "0", 0.0, Some(35.0), Some(2100.0))];
    graceful.figures.timeline = vec![
        event(100.0, "signal", Some(301), "SIGINT"),
        event(2100.0, "exit", Some(301), "code 0"),
    ];

    let mut udp = result(
        "distribution/udp",
        Level::Should,
        Verdict::NonStrict,
        "share 91% on one worker, bound 40%",
    );
    udp.checks = vec![check("fair-share", false, "max share ≤ 40%", "91%")];
    let mut info = result(
        "stateless/counter",
        Level::Info,
        Verdict::Informational,
        "each instance counts alone",
    );
    info.figures.values = BTreeMap::from([("distinct_counters".into(), 2.0)]);
    let unsupported = result(
        "env/instance-var",
        Level::Must,
        Verdict::Unsupported,
        "unknown option --instance-var",
    );
    let mut flaky = result(
        "reload/one-at-a-time",
        Level::Should,
        Verdict::Flaky,
        "verdict varied",
    );
    flaky.repeats = vec![Verdict::Pass, Verdict::NonStrict, Verdict::Pass];

    let results = vec![dist, reload, graceful, udp, info, unsupported, flaky];
    RunReport {
        schema_version: RESULTS_SCHEMA_VERSION,
        conform_version: "0.1.0".into(),
        target: TargetInfo {
            label: label.into(),
            command: format!("/opt/{label}/bin/pm2"),
            version: "7.0.4".into(),
            adapter: None,
        },
        machine: MachineInfo {
            os: "Linux 6.1".into(),
            cpus: 2,
            node_version: "v20.0.0".into(),
            hostname: "ci".into(),
        },
        runtime: None,
        cpus: Some(crate::model::CpuReport {
            expected: 2,
            source: "--cpus".into(),
            os_cpus: Some(4),
            available_parallelism: Some(2),
            target_used: Some(2),
            target_matches: Some("availableParallelism()".into()),
        }),
        started_at: "2026-12-01T12:00:00Z".into(),
        duration_ms: 98_765,
        summary: Summary::from_results(&results),
        results,
    }
}

/// A report of a `-i n` run: a passing distribution scenario (requests per worker) and a failing
/// reload under load (2n worker lifetimes, requests per 100 ms, the steps and signals).
pub fn report_with_workers(n: u32) -> RunReport {
    let mut r = report("refpm");
    let mut dist = result(
        &format!("distribution/http-{n}"),
        Level::Must,
        Verdict::Pass,
        "",
    );
    dist.figures.per_worker = (0..n)
        .map(|i| ((40_000 + i * 37).to_string(), 5000 + u64::from(i * 7 % 113)))
        .collect();
    dist.figures.workers = (0..n)
        .map(|i| span(40_000 + i * 37, &i.to_string(), 0.0, Some(300.0), None))
        .collect();
    let mut reload = result(
        &format!("reload/under-load/http-{n}"),
        Level::Must,
        Verdict::Fail,
        "2 failed requests of 2782",
    );
    reload.figures.throughput = Some(Throughput {
        bucket_ms: 100,
        ok: (0..40).map(|i| 100 + i % 7).collect(),
        failed: (0..40).map(|i| u64::from(i == 23) * 2).collect(),
        failed_by: [(
            "reset-reused".to_string(),
            (0..40).map(|i| u64::from(i == 23) * 2).collect(),
        )]
        .into_iter()
        .collect(),
    });
    let per = 2400.0 / f64::from(n);
    reload.figures.workers = (0..n)
        .flat_map(|i| {
            let t = 500.0 + f64::from(i) * per;
            [
                span(
                    50_000 + i,
                    &i.to_string(),
                    0.0,
                    Some(200.0),
                    Some(t + 150.0),
                ),
                span(60_000 + i, &i.to_string(), t, Some(t + 120.0), None),
            ]
        })
        .collect();
    reload.figures.timeline = vec![
        event(0.0, "step", None, "start 1.2 s"),
        event(300.0, "step", None, "load main 3.3 s: 2 of 2782 failed"),
        event(480.0, "step", None, "reload 2.4 s"),
        event(3600.0, "step", None, "load-stop main 4 ms"),
    ];
    reload.figures.timeline.extend((0..n).map(|i| {
        event(
            500.0 + f64::from(i) * per + 10.0,
            "signal",
            Some(50_000 + i),
            "SIGINT",
        )
    }));
    r.results.insert(0, reload);
    r.results.insert(0, dist);
    r.summary = Summary::from_results(&r.results);
    r
}
