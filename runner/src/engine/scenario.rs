//! Running one scenario end to end: sandbox, steps, checks, figures, clean-up, verdict.

use super::background::{Deaths, spawn_watcher};
use super::ctx::{Abort, Ctx};
use super::observed::Observed;
use super::{Cancel, RunConfig};
use crate::model::{
    CheckResult, Figures, Level, ScenarioResult, TimelineEvent, Verdict, WorkerSpan,
};
use crate::suite::Scenario;
use crate::target::{Target, ports};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The verdict for a scenario whose checks all ran.
pub fn verdict_of(level: Level, checks: &[CheckResult]) -> Verdict {
    let failed = checks.iter().any(|c| !c.passed);
    match (level, failed) {
        (Level::Info, _) => Verdict::Informational,
        (_, false) => Verdict::Pass,
        (Level::Must, true) => Verdict::Fail,
        (Level::Should, true) => Verdict::NonStrict,
    }
}

fn base_result(sc: &Scenario) -> ScenarioResult {
    ScenarioResult {
        id: sc.id.clone(),
        suite: sc.suite.clone(),
        quote: sc.quote.clone(),
        source: sc.source,
        level: sc.level,
        verdict: Verdict::Error,
        reason: String::new(),
        checks: Vec::new(),
        figures: Figures::default(),
        duration_ms: 0,
        repeats: Vec::new(),
    }
}

async fn setup(sc: &Scenario, target: &Target, cfg: &RunConfig) -> Result<Ctx, String> {
    let mut sb = target
        .sandbox()
        .map_err(|e| format!("cannot create a home: {e}"))?;
    let port = ports::free_port().map_err(|e| e.to_string())?;
    let record = sb.file("record.jsonl");
    let mut extra_ports = BTreeMap::new();
    let mut extra_records = BTreeMap::new();
    for x in &sc.extra_apps {
        extra_ports.insert(
            x.name.clone(),
            ports::free_port().map_err(|e| e.to_string())?,
        );
        extra_records.insert(x.name.clone(), sb.file(&format!("{}.record.jsonl", x.name)));
    }
    sb.vars
        .push(("CONFORM_RECORD".into(), record.display().to_string()));
    sb.vars.push(("PORT".into(), port.to_string()));
    if let Some(v) = &sc.app.instance_var {
        sb.vars.push(("CONFORM_INSTANCE_VAR".into(), v.clone()));
    }
    for (k, v) in &sc.app.env {
        sb.vars.push((k.clone(), v.clone()));
    }
    let uses_tls = sc.fixture == "https"
        || sc
            .extra_apps
            .iter()
            .any(|x| x.fixture.as_deref() == Some("https"));
    if uses_tls {
        let (cert, key) = cfg.tls().await?;
        sb.vars
            .push(("CONFORM_TLS_CERT".into(), cert.display().to_string()));
        sb.vars
            .push(("CONFORM_TLS_KEY".into(), key.display().to_string()));
    }
    let origin = Instant::now();
    let origin_epoch_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0);
    let ctx = Ctx {
        sc: sc.clone(),
        target: target.command.clone(),
        sb: Arc::new(sb),
        port,
        extra_ports,
        extra_records,
        record,
        origin,
        origin_epoch_ms,
        fixtures: cfg.fixtures_dir.clone(),
        scale: cfg.time_scale,
        cpus: cfg.cpus,
        loads: BTreeMap::new(),
        load_results: BTreeMap::new(),
        slow: BTreeMap::new(),
        slow_results: BTreeMap::new(),
        answers: BTreeMap::new(),
        bursts: BTreeMap::new(),
        snapshots: BTreeMap::new(),
        logs: None,
        daemon: None,
        samples: Arc::new(Mutex::new(Vec::new())),
        sampler: None,
        spans: Vec::new(),
        deaths: Deaths::default(),
        values: BTreeMap::new(),
    };
    ctx.write_stub(&ctx.app_script(), &sc.fixture)
        .map_err(|e| format!("cannot write the app script: {e}"))?;
    Ok(ctx)
}

async fn run_steps(ctx: &mut Ctx) -> Result<(), Abort> {
    let steps = ctx.sc.steps.clone();
    for step in &steps {
        ctx.exec(step).await?;
    }
    ctx.final_snapshot().await
}

/// Runs one scenario once against `target`.
pub async fn run_once(
    sc: &Scenario,
    target: &Target,
    cfg: &RunConfig,
    cancel: &Cancel,
) -> ScenarioResult {
    let started = Instant::now();
    let mut result = base_result(sc);
    let mut ctx = match setup(sc, target, cfg).await {
        Ok(c) => c,
        Err(e) => {
            result.reason = e;
            return result;
        }
    };
    let mut records = vec![ctx.record.clone()];
    records.extend(ctx.extra_records.values().cloned());
    let watcher = spawn_watcher(records, ctx.origin, ctx.origin_epoch_ms, ctx.deaths.clone());

    let deadline = Duration::from_secs_f64(sc.timeout_s as f64 * cfg.time_scale);
    let outcome = tokio::select! {
        r = run_steps(&mut ctx) => Some(r),
        _ = tokio::time::sleep(deadline) => None,
        _ = cancel.cancelled() => Some(Err(Abort::Error("interrupted".into()))),
    };
    let outcome = outcome.unwrap_or_else(|| {
        Err(Abort::Error(format!(
            "scenario did not finish within {} s",
            deadline.as_secs()
        )))
    });

    // stop background work
    if let Some(h) = ctx.sampler.take() {
        h.abort();
    }
    let loads = std::mem::take(&mut ctx.loads);
    for (name, run) in loads {
        let r = run.stop().await;
        ctx.load_results.entry(name).or_insert(r);
    }
    for (_, h) in std::mem::take(&mut ctx.slow) {
        h.abort();
    }
    // let the pid watcher catch up with deaths that just happened
    tokio::time::sleep(Duration::from_millis(60)).await;
    let obs = ctx.observe();
    let mut values = std::mem::take(&mut ctx.values);
    values.extend(super::cpus::scenario_values(sc, &obs));

    match outcome {
        Ok(()) => {
            for c in &sc.expect {
                let e = super::checks::evaluate(c, &obs);
                values.extend(e.figures);
                result.checks.push(e.result);
            }
            result.verdict = verdict_of(sc.level, &result.checks);
            result.reason = result
                .checks
                .iter()
                .find(|c| !c.passed)
                .map(|c| {
                    format!(
                        "{}: expected {}, observed {}",
                        c.name, c.expected, c.observed
                    )
                })
                .unwrap_or_default();
        }
        Err(Abort::Error(e)) => result.reason = e,
        Err(Abort::Unsupported(e)) => {
            result.verdict = Verdict::Unsupported;
            result.reason = e;
        }
        Err(Abort::Failed(c)) => {
            result.reason = format!(
                "{}: expected {}, observed {}",
                c.name, c.expected, c.observed
            );
            result.checks.push(c);
            result.verdict = verdict_of(sc.level, &result.checks);
        }
    }

    let leftovers = ctx.sb.cleanup(&ctx.target, &ctx.recorded_pids()).await;
    watcher.abort();
    values.insert("leftover_processes".into(), leftovers.len() as f64);
    result.figures = figures(values, &obs);
    result.duration_ms = started.elapsed().as_millis() as u64;
    result
}

fn figures(values: BTreeMap<String, f64>, obs: &Observed) -> Figures {
    let mut f = Figures {
        values,
        ..Figures::default()
    };
    if let Some(d) = obs.daemon {
        f.values.insert("daemon.pid".into(), d.pid as f64);
        f.values
            .insert("daemon.workers_before".into(), d.workers_before as f64);
        f.values.insert(
            "daemon.workers_alive_after".into(),
            d.workers_alive_after as f64,
        );
        if let Some(ms) = d.gone_ms {
            f.values.insert("daemon.workers_gone_ms".into(), ms);
        }
    }
    let workers = &obs.record.workers;
    let main = obs.loads.get("main").or_else(|| obs.loads.values().next());
    if let Some(r) = main {
        f.per_worker = r.per_pid();
        f.outcomes = r.outcomes();
        f.latency_ms = r.latency_ms();
        f.throughput = Some(r.throughput(100));
    } else if let Some(a) = obs.answers.values().next() {
        for v in a {
            if let Some(pid) = v.get("pid").and_then(|p| p.as_u64()) {
                *f.per_worker.entry(pid.to_string()).or_default() += 1;
            }
        }
    }
    f.workers = workers
        .iter()
        .map(|w| WorkerSpan {
            pid: w.pid,
            instance: w.instance.clone(),
            start_ms: w.start,
            listening_ms: w.listening,
            end_ms: w.end(),
        })
        .collect();
    let mut tl: Vec<TimelineEvent> = obs
        .spans
        .iter()
        .map(|s| TimelineEvent::step(s.start, span_label(s, &obs.loads)))
        .collect();
    for e in &obs.record.events {
        let (kind, detail) = match e.event.as_str() {
            "start" => ("spawn", String::new()),
            "listening" => ("listening", String::new()),
            "ready-sent" => ("ready", String::new()),
            "signal" => (
                "signal",
                e.raw
                    .get("signal")
                    .and_then(|s| s.as_str())
                    .unwrap_or("")
                    .to_string(),
            ),
            "exit" => (
                "exit",
                e.raw.get("code").map(|c| c.to_string()).unwrap_or_default(),
            ),
            "request-start" | "request-end" => ("request", e.event.clone()),
            _ => continue,
        };
        tl.push(TimelineEvent {
            t_ms: e.t,
            kind: kind.into(),
            pid: Some(e.pid),
            detail,
        });
    }
    for w in workers {
        if w.exit.is_none() {
            if let Some(d) = w.death {
                tl.push(TimelineEvent {
                    t_ms: d,
                    kind: "killed".into(),
                    pid: Some(w.pid),
                    detail: "gone without exit (SIGKILL)".into(),
                });
            }
        }
    }
    tl.sort_by(|a, b| a.t_ms.total_cmp(&b.t_ms));
    f.timeline = tl;
    f
}

/// What a step span did, for the timeline: `reload 723 ms`, `start 1.2 s, exit 1`,
/// `load main 2.8 s: 0 of 2782 failed` (a load's real duration, from its start to its end).
fn span_label(
    s: &super::ctx::StepSpan,
    loads: &std::collections::BTreeMap<String, crate::load::LoadResult>,
) -> String {
    let ms = s.end - s.start;
    let took = if ms >= 1000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else {
        format!("{ms:.0} ms")
    };
    if let Some(name) = s.kind.strip_prefix("load:") {
        return match loads.get(name) {
            Some(r) => format!(
                "load {name} {took}: {} of {} failed",
                r.failed(),
                r.records.len()
            ),
            None => format!("load {name} {took}"),
        };
    }
    match s.exit {
        Some(c) if c != 0 => format!("{} {took}, exit {c}", s.kind),
        _ => format!("{} {took}", s.kind),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn c(passed: bool) -> CheckResult {
        CheckResult {
            name: "x".into(),
            passed,
            expected: String::new(),
            observed: String::new(),
        }
    }

    #[rstest]
    #[case(Level::Must, vec![c(true), c(true)], Verdict::Pass)]
    #[case(Level::Must, vec![c(true), c(false)], Verdict::Fail)]
    #[case(Level::Should, vec![c(false)], Verdict::NonStrict)]
    #[case(Level::Should, vec![c(true)], Verdict::Pass)]
    #[case(Level::Info, vec![c(false)], Verdict::Informational)]
    fn verdicts(#[case] level: Level, #[case] checks: Vec<CheckResult>, #[case] v: Verdict) {
        assert_eq!(verdict_of(level, &checks), v);
    }
}
