//! The engine: runs scenarios against targets and emits [`RunEvent`]s; it never prints.
//!
//! Each scenario runs in its own sandbox ([`crate::target::Sandbox`]): steps drive the target, a pid
//! watcher and an optional `jlist` sampler run beside them, then checks read the fixtures' record,
//! the snapshots and the load results, and the sandbox is cleaned by pid. `--jobs N` runs up to N
//! scenarios at once, except `exclusive` (timing-sensitive) ones, which run alone.

mod app;
mod background;
pub mod checks;
pub mod cpus;
mod ctx;
mod faults;
mod http;
pub mod observed;
pub mod record;
mod scenario;
pub mod stats;
mod steps;
mod stop_requests;
mod target_cli;

pub use scenario::verdict_of;

use crate::model::{MachineInfo, RunEvent, RunReport, ScenarioResult, Summary, Verdict};
use crate::suite::Scenario;
use crate::target::Target;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::time::Instant;
use tokio::sync::{Notify, OnceCell, Semaphore};

/// A cancellation flag shared by the CLI (SIGINT) and every running scenario.
#[derive(Clone, Default)]
pub struct Cancel(Arc<(AtomicBool, Notify)>);

impl Cancel {
    /// Requests cancellation.
    pub fn cancel(&self) {
        self.0.0.store(true, Ordering::SeqCst);
        self.0.1.notify_waiters();
    }

    /// Whether cancellation was requested.
    pub fn is_cancelled(&self) -> bool {
        self.0.0.load(Ordering::SeqCst)
    }

    /// Resolves once cancellation is requested.
    pub async fn cancelled(&self) {
        loop {
            let n = self.0.1.notified();
            if self.is_cancelled() {
                return;
            }
            n.await;
        }
    }
}

/// How a run is made.
pub struct RunConfig {
    /// Where `<fixture>.js` files are.
    pub fixtures_dir: PathBuf,
    /// Scenarios in parallel (exclusive ones always alone).
    pub jobs: usize,
    /// Runs per scenario (`flaky` when verdicts differ).
    pub repeat: u32,
    /// Multiplier for every deadline and tolerance (slow machines).
    pub time_scale: f64,
    /// CPUs expectations are computed for.
    pub cpus: usize,
    /// Where [`RunConfig::cpus`] came from.
    pub cpus_source: cpus::CpuSource,
    /// Cancellation.
    pub cancel: Cancel,
    tls_dir: tempfile::TempDir,
    tls: OnceCell<Result<(PathBuf, PathBuf), String>>,
}

impl RunConfig {
    /// A configuration with the machine's CPU count and a private directory for per-run certificates.
    pub fn new(
        fixtures_dir: PathBuf,
        jobs: usize,
        repeat: u32,
        time_scale: f64,
    ) -> std::io::Result<Self> {
        Ok(RunConfig {
            fixtures_dir,
            jobs: jobs.max(1),
            repeat: repeat.max(1),
            time_scale: if time_scale > 0.0 { time_scale } else { 1.0 },
            cpus: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            cpus_source: cpus::CpuSource::Machine,
            cancel: Cancel::default(),
            tls_dir: tempfile::Builder::new().prefix("cf-tls.").tempdir()?,
            tls: OnceCell::new(),
        })
    }

    /// Checks `max`, `0` and `-N` against `n` CPUs (`--cpus N`) instead of the CPUs conform may use.
    pub fn with_cpus(mut self, n: usize) -> Self {
        self.cpus = n.max(1);
        self.cpus_source = cpus::CpuSource::Flag;
        self
    }

    /// A self-signed certificate and key for this run (made once with `openssl`, never committed).
    pub async fn tls(&self) -> Result<(PathBuf, PathBuf), String> {
        self.tls
            .get_or_init(|| async {
                let cert = self.tls_dir.path().join("cert.pem");
                let key = self.tls_dir.path().join("key.pem");
                let out = tokio::process::Command::new("openssl")
                    .args([
                        "req",
                        "-x509",
                        "-newkey",
                        "rsa:2048",
                        "-nodes",
                        "-subj",
                        "/CN=localhost",
                        "-days",
                        "1",
                        "-keyout",
                    ])
                    .arg(&key)
                    .arg("-out")
                    .arg(&cert)
                    .stdin(std::process::Stdio::null())
                    .output()
                    .await
                    .map_err(|e| format!("cannot run openssl: {e}"))?;
                if !out.status.success() {
                    return Err(format!(
                        "openssl failed: {}",
                        String::from_utf8_lossy(&out.stderr).trim()
                    ));
                }
                Ok((cert, key))
            })
            .await
            .clone()
    }
}

/// Facts about this machine for the report.
pub fn machine_info() -> MachineInfo {
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    MachineInfo {
        os: format!(
            "{} {}",
            read("/proc/sys/kernel/ostype"),
            read("/proc/sys/kernel/osrelease")
        ),
        cpus: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        node_version: node,
        hostname: read("/proc/sys/kernel/hostname"),
    }
}

/// RFC 3339 UTC text for a system time.
pub fn rfc3339(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // civil-from-days (Howard Hinnant's algorithm)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Folds the verdicts of repeated runs: their common verdict, or `flaky` with a reason when they differ.
pub fn fold_repeats(verdicts: &[Verdict]) -> (Verdict, Option<String>) {
    match verdicts.first() {
        None => (Verdict::Error, Some("not run".to_string())),
        Some(first) if verdicts.iter().all(|v| v == first) => (*first, None),
        Some(_) => {
            let list: Vec<&str> = verdicts.iter().map(|v| v.as_str()).collect();
            (
                Verdict::Flaky,
                Some(format!("verdicts varied: {}", list.join(", "))),
            )
        }
    }
}

async fn run_repeated(sc: &Scenario, target: &Target, cfg: &RunConfig) -> ScenarioResult {
    let repeat = cfg.repeat.max(1);
    let mut verdicts = Vec::new();
    let mut r = scenario::run_once(sc, target, cfg, &cfg.cancel).await;
    verdicts.push(r.verdict);
    // The first repetition that did not pass: when verdicts vary, its checks and figures are the ones
    // a reader needs (the last repetition may well be a passing one).
    let mut first_bad: Option<(usize, ScenarioResult)> = None;
    for n in 1..repeat {
        if cfg.cancel.is_cancelled() {
            // an interrupted repetition says nothing about flakiness: report the interruption
            return r;
        }
        let next = scenario::run_once(sc, target, cfg, &cfg.cancel).await;
        verdicts.push(next.verdict);
        let previous = std::mem::replace(&mut r, next);
        if first_bad.is_none() && previous.verdict != Verdict::Pass {
            first_bad = Some((n as usize, previous));
        }
    }
    if cfg.cancel.is_cancelled() {
        return r;
    }
    if repeat > 1 {
        let (v, why) = fold_repeats(&verdicts);
        if let Some(why) = why {
            let (shown, mut body) = match first_bad {
                Some((n, bad)) => (n, bad),
                None => (repeat as usize, r),
            };
            body.reason = if body.reason.is_empty() {
                why
            } else {
                format!(
                    "{why}; run {shown} ({}): {}",
                    verdicts[shown - 1].as_str(),
                    body.reason
                )
            };
            r = body;
        }
        r.verdict = v;
        r.repeats = verdicts;
    }
    r
}

/// Runs `scenarios` against one target, sending events to `events`; returns the (possibly partial,
/// when cancelled) report.
pub async fn run_target(
    target: &Target,
    scenarios: &[Scenario],
    cfg: Arc<RunConfig>,
    events: &Sender<RunEvent>,
) -> RunReport {
    let started_at = rfc3339(std::time::SystemTime::now());
    let t0 = Instant::now();
    let _ = events.send(RunEvent::RunStarted {
        target: target.info(),
        scenarios: scenarios.len(),
    });
    let jobs = cfg.jobs as u32;
    let sem = Arc::new(Semaphore::new(jobs as usize));
    let mut handles = Vec::new();
    for (i, sc) in scenarios.iter().enumerate() {
        if cfg.cancel.is_cancelled() {
            break;
        }
        let n = if sc.exclusive { jobs } else { 1 };
        let permit = tokio::select! {
            p = sem.clone().acquire_many_owned(n) => p.ok(),
            _ = cfg.cancel.cancelled() => None,
        };
        let Some(permit) = permit else { break };
        let (sc, target, cfg, events) = (sc.clone(), target.clone(), cfg.clone(), events.clone());
        handles.push(tokio::spawn(async move {
            let _ = events.send(RunEvent::ScenarioStarted {
                target: target.label.clone(),
                id: sc.id.clone(),
            });
            let r = run_repeated(&sc, &target, &cfg).await;
            drop(permit);
            let _ = events.send(RunEvent::ScenarioFinished {
                target: target.label.clone(),
                result: Box::new(r.clone()),
            });
            (i, r)
        }));
    }
    let mut results: Vec<(usize, ScenarioResult)> = Vec::new();
    for h in handles {
        if let Ok(r) = h.await {
            results.push(r);
        }
    }
    results.sort_by_key(|(i, _)| *i);
    let results: Vec<ScenarioResult> = results.into_iter().map(|(_, r)| r).collect();
    let report = RunReport {
        schema_version: crate::model::RESULTS_SCHEMA_VERSION,
        conform_version: env!("CARGO_PKG_VERSION").to_string(),
        target: target.info(),
        machine: machine_info(),
        runtime: target.runtime.as_ref().map(crate::target::Runtime::info),
        cpus: Some(cpus::report(
            cfg.cpus,
            cfg.cpus_source,
            results.iter().map(|r| &r.figures.values),
        )),
        started_at,
        duration_ms: t0.elapsed().as_millis() as u64,
        summary: Summary::from_results(&results),
        results,
    };
    let _ = events.send(RunEvent::RunFinished {
        report: Box::new(report.clone()),
    });
    report
}

/// Fixture names (file stems of `*.js`) in a fixtures directory.
pub fn fixture_names(dir: &Path) -> std::collections::BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| {
                e.ok()?
                    .path()
                    .file_name()?
                    .to_str()?
                    .strip_suffix(".js")
                    .map(str::to_string)
            })
            .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use crate::model::Verdict::{Fail, Flaky, Pass};

    #[test]
    fn folds_repeats() {
        assert_eq!(super::fold_repeats(&[Pass, Pass, Pass]), (Pass, None));
        assert_eq!(super::fold_repeats(&[Fail]), (Fail, None));
        let (v, why) = super::fold_repeats(&[Pass, Fail, Pass]);
        assert_eq!(v, Flaky);
        assert_eq!(why.as_deref(), Some("verdicts varied: pass, fail, pass"));
    }

    #[test]
    fn rfc3339_epoch_and_known_date() {
        assert_eq!(
            super::rfc3339(std::time::UNIX_EPOCH),
            "1970-01-01T00:00:00Z"
        );
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_796_123_709);
        assert_eq!(super::rfc3339(t), "2026-12-01T11:15:09Z");
    }
}
