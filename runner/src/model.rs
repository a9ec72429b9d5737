//! The result model shared by the engine (which produces it) and the reporters (which only consume it).
//!
//! Everything here is plain data with serde, so `results.json` is a direct serialisation of [`RunReport`].

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the `results.json` schema; bump on any incompatible change. 2 added
/// [`RunReport::runtime`]; version 1 files (without it) still load.
pub const RESULTS_SCHEMA_VERSION: u32 = 2;

/// How binding a scenario is, as in RFC 2119 (`MUST`, `SHOULD`) plus `INFO` for measured-only scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    /// A failed check makes the run fail (exit 1).
    Must,
    /// A failed check gives `non-strict`; the run still passes.
    Should,
    /// Nothing is asserted; figures are recorded.
    Info,
}

/// Where the promise a scenario checks is written.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum PromiseSource {
    /// The cluster-mode guide's own sentence (the quote is from the guide).
    #[default]
    Guide,
    /// PM2's documented behaviour elsewhere: the graceful-shutdown tutorial the guide links, the
    /// ecosystem-file docs (the quote is from those pages).
    Pm2Docs,
    /// A policy of this kit where the docs are silent (the quote says what the kit expects and why).
    KitPolicy,
}

impl PromiseSource {
    /// Every source, in the order reports group them.
    pub const ALL: [PromiseSource; 3] = [
        PromiseSource::Guide,
        PromiseSource::Pm2Docs,
        PromiseSource::KitPolicy,
    ];

    /// The kebab-case name used in suites and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            PromiseSource::Guide => "guide",
            PromiseSource::Pm2Docs => "pm2-docs",
            PromiseSource::KitPolicy => "kit-policy",
        }
    }

    /// A heading for reports.
    pub fn title(self) -> &'static str {
        match self {
            PromiseSource::Guide => "the cluster-mode guide",
            PromiseSource::Pm2Docs => "PM2's documentation elsewhere",
            PromiseSource::KitPolicy => "kit policy",
        }
    }
}

/// The outcome of one scenario against one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Every check held.
    Pass,
    /// A check of a `MUST` scenario failed.
    Fail,
    /// A check of a `SHOULD` scenario failed.
    NonStrict,
    /// An `INFO` scenario ran; its figures are the result.
    Informational,
    /// The target lacks a feature the scenario needs (e.g. an unknown CLI option).
    Unsupported,
    /// The scenario could not run (infrastructure problem, not the target's behaviour).
    Error,
    /// The verdict varied across `--repeat` runs.
    Flaky,
}

impl Verdict {
    /// Every verdict, in the order reports list them.
    pub const ALL: [Verdict; 7] = [
        Verdict::Pass,
        Verdict::Fail,
        Verdict::NonStrict,
        Verdict::Informational,
        Verdict::Unsupported,
        Verdict::Error,
        Verdict::Flaky,
    ];

    /// The kebab-case name used in JSON, JUnit and the terminal.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::NonStrict => "non-strict",
            Verdict::Informational => "informational",
            Verdict::Unsupported => "unsupported",
            Verdict::Error => "error",
            Verdict::Flaky => "flaky",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

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

/// The target a run was made against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetInfo {
    /// Short label used for the report directory (`refpm`, `pm2-7.0.4`).
    pub label: String,
    /// The executable that was driven.
    pub command: String,
    /// What `--version` printed, trimmed.
    pub version: String,
    /// The adapter file the target was driven through (`--adapter`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adapter: Option<String>,
}

/// The JavaScript runtime a run's fixtures, helpers and target ran on (asked of the binary itself).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuntimeInfo {
    /// `node` or `bun`.
    pub name: String,
    /// Its own version without `v`: `26.12.1`, or Bun's `1.4.5`.
    pub version: String,
    /// `process.version` as it reports it (Bun claims a Node version, e.g. `v26.3.0`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub node_compat: String,
    /// The binary.
    pub command: String,
    /// The `--node` argument that chose it; empty for the `node` first on PATH.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub requested: String,
}

impl RuntimeInfo {
    /// `node v26.12.1`, `bun 1.4.5 (node v26.3.0)`.
    pub fn describe(&self) -> String {
        if self.name == "node" {
            format!("node v{}", self.version)
        } else {
            format!("{} {} (node {})", self.name, self.version, self.node_compat)
        }
    }
}

/// Facts about the machine a run was made on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MachineInfo {
    /// `uname -sr`-like text.
    pub os: String,
    /// CPUs this process may use.
    pub cpus: usize,
    /// `node --version`.
    pub node_version: String,
    /// Host name.
    pub hostname: String,
}

/// The CPU count `max`, `0` and `-N` were checked against, where it came from, and the count the
/// target itself used (from the fixtures' record of `max` scenarios).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CpuReport {
    /// The count expectations were computed for.
    pub expected: usize,
    /// Where it came from: `--cpus`, or `affinity/cgroup` (the CPUs conform itself may use).
    pub source: String,
    /// `os.cpus().length` as the fixtures saw it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_cpus: Option<u32>,
    /// `os.availableParallelism()` (affinity-aware) as the fixtures saw it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_parallelism: Option<u32>,
    /// The CPU count the target's `max`/`0` scenarios started workers for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_used: Option<u32>,
    /// Which count `target_used` equals: `os.cpus()`, `availableParallelism()`, both, or neither.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_matches: Option<String>,
}

impl CpuReport {
    /// One line for readers: `checked against 2 CPUs (--cpus); the target used 4 = os.cpus() (os.cpus() 4, availableParallelism() 2)`.
    pub fn describe(&self) -> String {
        let mut s = format!("checked against {} CPUs ({})", self.expected, self.source);
        match (self.target_used, &self.target_matches) {
            (Some(n), Some(m)) => s.push_str(&format!("; the target used {n} = {m}")),
            _ => s.push_str(
                "; the target's own count not seen (no `max`/`-N` scenario started workers)",
            ),
        }
        let seen: Vec<String> = [
            ("os.cpus()", self.os_cpus),
            ("availableParallelism()", self.available_parallelism),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k} {v}")))
        .collect();
        if !seen.is_empty() {
            s.push_str(&format!(" (fixtures saw {})", seen.join(", ")));
        }
        s
    }
}

/// Counts of scenarios by verdict and level.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Scenario count by verdict name.
    pub by_verdict: BTreeMap<String, u64>,
    /// Scenario count by level, then verdict.
    pub by_level: BTreeMap<String, BTreeMap<String, u64>>,
    /// Scenario count by where the promise is written (`guide`, `pm2-docs`, `kit-policy`), then verdict.
    #[serde(default)]
    pub by_source: BTreeMap<String, BTreeMap<String, u64>>,
    /// Number of `MUST` scenarios not passed: failed, errored, flaky, or unsupported by the target.
    pub must_failures: u64,
}

impl Summary {
    /// Builds the counts from a list of results.
    pub fn from_results(results: &[ScenarioResult]) -> Self {
        let mut s = Summary::default();
        for r in results {
            *s.by_verdict
                .entry(r.verdict.as_str().to_string())
                .or_default() += 1;
            let level = serde_json::to_value(r.level)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            *s.by_level
                .entry(level)
                .or_default()
                .entry(r.verdict.as_str().to_string())
                .or_default() += 1;
            *s.by_source
                .entry(r.source.as_str().to_string())
                .or_default()
                .entry(r.verdict.as_str().to_string())
                .or_default() += 1;
            if r.level == Level::Must
                && matches!(
                    r.verdict,
                    Verdict::Fail | Verdict::Error | Verdict::Flaky | Verdict::Unsupported
                )
            {
                s.must_failures += 1;
            }
        }
        s
    }
}

/// The whole run against one target: what `results.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// [`RESULTS_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// conform's own version.
    pub conform_version: String,
    /// The target.
    pub target: TargetInfo,
    /// The machine.
    pub machine: MachineInfo,
    /// The runtime everything ran on (absent in schema 1 files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<RuntimeInfo>,
    /// The CPU count the run checked against and the one the target used (absent before `--cpus`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<CpuReport>,
    /// RFC 3339 start time (UTC).
    pub started_at: String,
    /// Wall time of the whole run in milliseconds.
    pub duration_ms: u64,
    /// Counts.
    pub summary: Summary,
    /// One entry per scenario, in suite order.
    pub results: Vec<ScenarioResult>,
}

/// Events the engine emits while it runs; reporters (terminal, files) only consume these.
#[derive(Debug, Clone)]
pub enum RunEvent {
    /// A run against a target begins.
    RunStarted {
        /// The target.
        target: TargetInfo,
        /// How many scenarios will run.
        scenarios: usize,
    },
    /// A scenario begins.
    ScenarioStarted {
        /// Target label.
        target: String,
        /// Scenario id.
        id: String,
    },
    /// A scenario ended with a result.
    ScenarioFinished {
        /// Target label.
        target: String,
        /// Its result.
        result: Box<ScenarioResult>,
    },
    /// The run against a target ended.
    RunFinished {
        /// The complete report.
        report: Box<RunReport>,
    },
}

#[cfg(test)]
mod tests {
    use super::Figures;

    #[test]
    fn a_nan_figure_round_trips_as_absent_instead_of_breaking_the_file() {
        let mut f = Figures::default();
        f.values.insert("ok".into(), 1.5);
        f.values.insert("undefined".into(), f64::NAN);
        let text = serde_json::to_string(&f).unwrap();
        assert!(text.contains("\"undefined\":null"), "{text}");
        let back: Figures = serde_json::from_str(&text).unwrap();
        assert_eq!(back.values.get("ok"), Some(&1.5));
        assert!(!back.values.contains_key("undefined"));
    }
}
