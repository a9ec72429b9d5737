//! A running scenario's state: its sandbox, ports, record files, background work and everything the
//! steps observed (snapshots, samples, step spans, load results) for the checks to read.

use super::background::{Deaths, Sample};
use super::record::{self, Worker};
use crate::load::{LoadResult, LoadRun, Outcome};
use crate::suite::Scenario;
use crate::target::{Proc, Sandbox};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// One run of a step, on the scenario's time axis.
#[derive(Debug, Clone)]
pub struct StepSpan {
    /// Step kind (`reload`).
    pub kind: String,
    /// Start, ms since origin.
    pub start: f64,
    /// End, ms since origin.
    pub end: f64,
    /// Exit code when the step ran a command.
    pub exit: Option<i32>,
}

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

/// Result of a background slow request: the serving pid, or the failure outcome.
pub type SlowResult = Result<(u32, Option<String>), Outcome>;

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
    pub snapshots: BTreeMap<String, Vec<Proc>>,
    /// `jlist` samples.
    pub samples: Arc<Mutex<Vec<Sample>>>,
    /// The sampler task.
    pub sampler: Option<JoinHandle<()>>,
    /// Step runs.
    pub spans: Vec<StepSpan>,
    /// Death times from the pid watcher.
    pub deaths: Deaths,
    /// Named numbers for the figures.
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
