//! One run against a target: what it ran on, the summary, the results, and the events reporters consume.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::{Level, ScenarioResult, Verdict};

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
