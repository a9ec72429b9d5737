//! A running scenario's state: its sandbox, ports, record files, background work and everything the
//! steps observed (snapshots, samples, step spans, load results) for the checks to read.

use super::background::Deaths;
use super::observed::{AppRecord, DaemonKill, Observed, Sample, Snapshot};
pub use super::observed::{SlowResult, StepSpan};
use super::record::{self, Worker};
use crate::load::{LoadResult, LoadRun};
use crate::suite::Scenario;
use crate::target::Sandbox;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// Why the steps stopped early.
#[derive(Debug, Clone)]
pub enum Abort {
    /// Infrastructure: the scenario could not run (verdict `error`).
    Error(String),
    /// The target rejected an option or argument (verdict `unsupported`).
    Unsupported(String),
    /// The target's behaviour made a step impossible (a failed expectation).
    Failed(crate::model::CheckResult),
}

/// Everything a scenario run holds.
pub struct Ctx {
    /// The scenario.
    pub sc: Scenario,
    /// Target executable.
    pub target: PathBuf,
    /// Sandbox (home, env).
    pub sb: Arc<Sandbox>,
    /// The app's port.
    pub port: u16,
    /// Ports of extra apps by name.
    pub extra_ports: BTreeMap<String, u16>,
    /// The app's record file.
    pub record: PathBuf,
    /// Record files of extra apps by name.
    pub extra_records: BTreeMap<String, PathBuf>,
    /// Time origin.
    pub origin: Instant,
    /// The same origin as epoch milliseconds (the record's clock).
    pub origin_epoch_ms: f64,
    /// Fixtures directory.
    pub fixtures: PathBuf,
    /// `--time-scale`.
    pub scale: f64,
    /// CPUs this machine offers.
    pub cpus: usize,
    /// Background loads by name.
    pub loads: BTreeMap<String, LoadRun>,
    /// Finished loads by name.
    pub load_results: BTreeMap<String, LoadResult>,
    /// Background slow requests.
    pub slow: BTreeMap<String, JoinHandle<SlowResult>>,
    /// Finished slow requests and their duration in ms.
    pub slow_results: BTreeMap<String, (SlowResult, f64)>,
    /// Results of `stop-during-requests` bursts.
    pub bursts: BTreeMap<String, Vec<SlowResult>>,
    /// Answers of `requests` steps.
    pub answers: BTreeMap<String, Vec<Value>>,
    /// `jlist` snapshots by label.
    pub snapshots: BTreeMap<String, Snapshot>,
    /// What `capture-logs` captured.
    pub logs: Option<String>,
    /// What `kill-daemon` did.
    pub daemon: Option<DaemonKill>,
    /// `jlist` samples.
    pub samples: Arc<Mutex<Vec<Sample>>>,
    /// The sampler task.
    pub sampler: Option<JoinHandle<()>>,
    /// Step runs.
    pub spans: Vec<StepSpan>,
    /// Death times from the pid watcher.
    pub deaths: Deaths,
    /// Named numbers the steps measured (command times and exit codes, request times) for the figures.
    pub values: BTreeMap<String, f64>,
}

impl Ctx {
    /// Milliseconds since the origin, now.
    pub fn now(&self) -> f64 {
        self.origin.elapsed().as_secs_f64() * 1000.0
    }

    /// Ends the span of load `name` now: it ran until it finished or was stopped, not for the
    /// duration it was started with.
    pub fn end_load_span(&mut self, name: &str) {
        let now = self.now();
        let kind = format!("load:{name}");
        if let Some(s) = self.spans.iter_mut().rev().find(|s| s.kind == kind) {
            s.end = now.max(s.start);
        }
    }

    /// A duration from suite milliseconds, scaled by `--time-scale`.
    pub fn scaled(&self, ms: u64) -> Duration {
        Duration::from_millis((ms as f64 * self.scale) as u64)
    }

    /// The app's workers from its record (with death times).
    pub fn workers(&self) -> Vec<Worker> {
        let deaths = self.deaths.0.lock().unwrap().clone();
        record::workers(&record::read(&self.record, self.origin_epoch_ms), &deaths)
    }

    /// Everything observed, for the checks: each record read once, background work's results moved out.
    pub fn observe(&mut self) -> Observed {
        let deaths = self.deaths.0.lock().unwrap().clone();
        let read = |p: &std::path::Path| {
            let events = record::read(p, self.origin_epoch_ms);
            let workers = record::workers(&events, &deaths);
            AppRecord { events, workers }
        };
        Observed {
            app: self.sc.app.name.clone(),
            expected_instances: super::observed::expected_instances(&self.sc, self.cpus),
            cpus: self.cpus,
            scale: self.scale,
            record: read(&self.record),
            extra: self
                .extra_records
                .iter()
                .map(|(n, p)| (n.clone(), read(p)))
                .collect(),
            snapshots: std::mem::take(&mut self.snapshots),
            samples: std::mem::take(&mut *self.samples.lock().unwrap()),
            loads: std::mem::take(&mut self.load_results),
            slow: std::mem::take(&mut self.slow_results),
            bursts: std::mem::take(&mut self.bursts),
            answers: std::mem::take(&mut self.answers),
            logs: self.logs.take(),
            spans: self.spans.clone(),
            daemon: self.daemon,
        }
    }

    /// Every pid any record file mentions.
    pub fn recorded_pids(&self) -> Vec<u32> {
        let mut pids: Vec<u32> = std::iter::once(&self.record)
            .chain(self.extra_records.values())
            .flat_map(|p| record::read(p, self.origin_epoch_ms))
            .map(|e| e.pid)
            .collect();
        pids.sort_unstable();
        pids.dedup();
        pids
    }

    /// The app script the target runs (a stub requiring the current fixture).
    pub fn app_script(&self) -> PathBuf {
        self.sb.file("app.js")
    }

    /// Writes a stub script at `path` that loads fixture `name`.
    pub fn write_stub(&self, path: &std::path::Path, name: &str) -> std::io::Result<()> {
        let fixture = self.fixtures.join(format!("{name}.js"));
        let js = format!(
            "require({});\n",
            serde_json::to_string(&fixture.display().to_string()).unwrap_or_default()
        );
        // write then rename, so a concurrent (re)spawn never reads half a file
        let tmp = path.with_extension("js.tmp");
        std::fs::write(&tmp, js)?;
        std::fs::rename(tmp, path)
    }
}
