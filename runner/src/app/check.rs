//! `conform app`'s driver: start the user's app under the target in a sandbox, run the phases, judge,
//! and always clean up (nothing left running).

use super::finding::{Finding, FindingVerdict};
use super::flow::Flow;
use super::phases::{self, Live};
use super::setup::{self, AppSpec};
use super::{client::Client, judge};
use crate::target::{Sandbox, Target};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What to check.
#[derive(Debug, Clone)]
pub struct AppCheck {
    /// The app to start.
    pub app: AppSpec,
    /// URLs (paths) to load.
    pub urls: Vec<String>,
    /// Flows to replay.
    pub flows: Vec<Flow>,
    /// The port, when known; else found from the record.
    pub port: Option<u16>,
    /// The URL kept in flight during `stop`; else the slowest of `urls`.
    pub slow_url: Option<String>,
    /// How long the app may take to listen.
    pub listen_timeout: Duration,
}

/// Why the check could not run (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The sandbox or a file in it could not be made.
    #[error("cannot prepare the sandbox: {0}")]
    Io(#[from] std::io::Error),
    /// The target refused to start the app.
    #[error("`{target} start` failed (exit {code:?}):\n{output}\n{logs}")]
    StartFailed {
        /// Target label.
        target: String,
        /// Its exit code.
        code: Option<i32>,
        /// What it printed.
        output: String,
        /// The app's log tail.
        logs: String,
    },
    /// The app did not listen in time.
    #[error(
        "the app did not start: {listening} of {instances} instances listened within {secs} s\n{logs}"
    )]
    NotStarted {
        /// Instances listening.
        listening: usize,
        /// Instances expected.
        instances: usize,
        /// The deadline.
        secs: u64,
        /// The app's log tail.
        logs: String,
    },
}

/// What a check produced.
#[derive(Debug, Clone)]
pub struct AppOutcome {
    /// Every finding, in the order.
    pub findings: Vec<Finding>,
    /// Wall time in ms.
    pub duration_ms: u64,
    /// Processes that had to be killed at the end.
    pub leftovers: Vec<u32>,
    /// The recorder's raw record (JSON lines), written beside the report as `record.jsonl`.
    pub record: String,
}

/// Runs the whole check against `target`.
pub async fn run(check: &AppCheck, target: &Target) -> Result<AppOutcome, AppError> {
    let t0 = Instant::now();
    let sb = Sandbox::new()?;
    let record = sb.file("app-record.jsonl");
    let eco = setup::write_files(sb.path(), &check.app, &record)?;
    let live = Live {
        sb: &sb,
        target: &target.command,
        name: check.app.name.clone(),
        record,
        origin: Instant::now(),
        wall0: phases::wall_ms(),
    };
    let result = phases_all(check, target, &live, &eco).await;
    let extra: Vec<u32> = live.observe().procs.keys().copied().collect();
    let leftovers = sb.cleanup(&target.command, &extra).await;
    let record = std::fs::read_to_string(&live.record).unwrap_or_default();
    let findings = result?;
    Ok(AppOutcome {
        findings,
        duration_ms: t0.elapsed().as_millis() as u64,
        leftovers,
        record,
    })
}

async fn phases_all(
    check: &AppCheck,
    target: &Target,
    live: &Live<'_>,
    eco: &std::path::Path,
) -> Result<Vec<Finding>, AppError> {
    let n = check.app.instances;
    let eco_s = eco.display().to_string();
    let (code, _, _, output) = live.cmd(&["start", &eco_s], 90).await;
    if code != Some(0) {
        return Err(AppError::StartFailed {
            target: target.label.clone(),
            code,
            output: output.trim().to_string(),
            logs: setup::log_tail(live.sb.path(), 15),
        });
    }
    let (ok, pids) = live
        .wait_serving(n, check.listen_timeout, |_, _| true)
        .await;
    if !ok && pids.len() < n {
        return Err(AppError::NotStarted {
            listening: pids.len(),
            instances: n,
            secs: check.listen_timeout.as_secs(),
            logs: setup::log_tail(live.sb.path(), 15),
        });
    }
    let obs = live.observe();
    let start = judge::cluster_start(&obs, n, live.wall0);
    let ports: std::collections::BTreeSet<u16> = obs
        .listening_procs()
        .iter()
        .flat_map(|p| p.listens.iter().map(|l| l.1))
        .collect();
    let port = check
        .port
        .or_else(|| (ports.len() == 1).then(|| *ports.iter().next().unwrap_or(&0)));
    let mut findings = vec![start.clone()];
    let Some(port) = port.filter(|_| start.verdict == FindingVerdict::Pass) else {
        for id in ["distribution", "stateless", "reload", "graceful-shutdown"] {
            findings.push(skipped(id));
        }
        findings.push(judge::wait_ready(&obs));
        findings.push(judge::instance_var(&obs));
        return Ok(findings);
    };

    let client = Arc::new(Client::new(port, Duration::from_secs(10), live.origin, "d"));
    let rounds = phases::distribution(&client, &check.urls, (4 * n).max(8)).await;
    findings.push(judge::distribution(&rounds, &live.observe(), &pids));

    let fc = Arc::new(Client::new(port, Duration::from_secs(10), live.origin, "f"));
    let mut flows = Vec::new();
    for f in &check.flows {
        flows.push(phases::flow_round(live, &fc, f, n).await);
    }
    findings.push(judge::stateless(&flows, &live.observe(), n));

    let r = phases::reload(live, port, &check.urls, n, check.app.kill_timeout_ms).await;

    let slow = check
        .slow_url
        .clone()
        .or_else(|| phases::slowest(&rounds))
        .unwrap_or_else(|| "/".into());
    let (ok, _) = live
        .wait_serving(n, Duration::from_secs(20), |_, _| true)
        .await;
    if ok {
        let s = phases::shutdown(
            live,
            port,
            &check.urls[0],
            &slow,
            n,
            check.app.kill_timeout_ms,
        )
        .await;
        let obs = live.observe();
        let g = judge::graceful(&s, &obs, live.wall0);
        let failed = g.verdict == FindingVerdict::Fail;
        findings.push(judge::reload(&r, &obs, live.wall0, &target.label, failed));
        findings.push(g);
    } else {
        findings.push(judge::reload(
            &r,
            &live.observe(),
            live.wall0,
            &target.label,
            false,
        ));
        findings.push(Finding::new(
            "graceful-shutdown",
            crate::model::Level::Must,
            FindingVerdict::Error,
            vec![format!(
                "after the reload, {n} instances did not serve again within 20 s"
            )],
        ));
    }
    let obs = live.observe();
    findings.push(judge::wait_ready(&obs));
    findings.push(judge::instance_var(&obs));
    Ok(findings)
}

fn skipped(id: &str) -> Finding {
    Finding::new(
        id,
        crate::model::Level::Must,
        FindingVerdict::Skipped,
        vec!["not judged: cluster-start failed".into()],
    )
}
