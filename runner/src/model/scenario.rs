//! One scenario's result: its checks, figures, timeline and the workers it saw.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::{Level, PromiseSource, Verdict};

/// One evaluated expectation of a scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// The check's name from the suite file (e.g. `zero-failed-requests`).
    pub name: String,
    /// Whether it held.
    pub passed: bool,
    /// What was expected, in words (`0 failed requests`).
    pub expected: String,
    /// What was observed, in words (`3 failed of 4120`).
    pub observed: String,
}

/// A time-stamped point of a scenario's timeline, used by the HTML charts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEvent {
    /// Milliseconds since the scenario's load (or the scenario) started.
    pub t_ms: f64,
    /// `signal`, `spawn`, `exit`, `listening`, `step`, `ready`, ...
    pub kind: String,
    /// Process the event concerns, when known.
    pub pid: Option<u32>,
    /// Free text (`SIGINT`, `reload`, ...).
    pub detail: String,
}

impl TimelineEvent {
    /// A step of the scenario (or of `conform app`'s flow) at `t_ms`, concerning no one process.
    pub fn step(t_ms: f64, detail: impl Into<String>) -> Self {
        TimelineEvent {
            t_ms,
            kind: "step".into(),
            pid: None,
            detail: detail.into(),
        }
    }
}

/// Requests of a load run bucketed in fixed windows (for the reload timeline chart).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Throughput {
    /// Width of one bucket in milliseconds (100 by default).
    pub bucket_ms: u64,
    /// Successful requests per bucket.
    pub ok: Vec<u64>,
    /// Failed requests per bucket (refused, reset, timeout, 5xx, truncated).
    pub failed: Vec<u64>,
    /// The failed requests per bucket by outcome (`reset-reused`, `timeout`, ...); absent when none failed.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub failed_by: std::collections::BTreeMap<String, Vec<u64>>,
}

/// A worker's lifetime as seen by the fixtures' ground-truth record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkerSpan {
    /// OS pid of the worker.
    pub pid: u32,
    /// Its instance variable's value, when it had one.
    pub instance: Option<String>,
    /// Start, ms since the scenario's time origin.
    pub start_ms: f64,
    /// First `listening`, when it listened.
    pub listening_ms: Option<f64>,
    /// Exit, when it exited within the scenario.
    pub end_ms: Option<f64>,
}

/// Reads a map of figures, leaving out entries written as `null` (a NaN or infinite figure).
fn finite_values<'de, D>(d: D) -> Result<BTreeMap<String, f64>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let raw: BTreeMap<String, Option<f64>> = Deserialize::deserialize(d)?;
    Ok(raw.into_iter().filter_map(|(k, v)| Some((k, v?))).collect())
}

/// Everything measured in a scenario; every field is optional because scenarios measure different things.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// Named numbers (`failed_requests`, `reload_ms`, `instances_jlist`, ...). JSON has no NaN or
    /// infinity: serde_json writes them as `null`, and reading drops such entries instead of failing,
    /// so a `results.json` with one undefined figure still loads in `conform diff` and baselines.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "finite_values"
    )]
    pub values: BTreeMap<String, f64>,
    /// Requests served per worker pid (distribution scenarios).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub per_worker: BTreeMap<String, u64>,
    /// Request outcomes counted by kind (`ok`, `refused`, `reset`, `timeout`, `5xx`, `truncated`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub outcomes: BTreeMap<String, u64>,
    /// Latency percentiles in milliseconds (`p50`, `p99`, `max`), coordinated-omission corrected.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub latency_ms: BTreeMap<String, f64>,
    /// Requests per bucket over time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throughput: Option<Throughput>,
    /// Worker lifetimes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workers: Vec<WorkerSpan>,
    /// Signals, spawns, exits and steps on the scenario's time axis.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<TimelineEvent>,
}

/// The result of one scenario on one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioResult {
    /// Hierarchical id, e.g. `reload/under-load/http-4`.
    pub id: String,
    /// Suite the scenario came from (`reload`).
    pub suite: String,
    /// The sentence it checks, quoted verbatim.
    pub quote: String,
    /// Where that sentence is written.
    #[serde(default)]
    pub source: PromiseSource,
    /// Its level.
    pub level: Level,
    /// Its verdict.
    pub verdict: Verdict,
    /// Why, in one line (first failed check, error message, unsupported option...).
    pub reason: String,
    /// Every check evaluated.
    pub checks: Vec<CheckResult>,
    /// What was measured.
    pub figures: Figures,
    /// Wall time of the scenario in milliseconds.
    pub duration_ms: u64,
    /// Verdicts of each repetition when `--repeat` > 1.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repeats: Vec<Verdict>,
}
