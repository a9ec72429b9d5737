//! Baselines: `reports/baselines/<target-label>.json` maps scenario id → accepted verdicts.
//!
//! ```json
//! { "schema_version": 1, "target": "pm2-7.0.4",
//!   "scenarios": { "reload/under-load/http-4": ["fail"], "distribution/udp": ["pass", "non-strict"] } }
//! ```
//! Several verdicts may be accepted for a known-intermittent scenario (as WPT expectation files do);
//! a single verdict may also be written as a plain string. A `flaky` result matches when every
//! repeat's verdict is accepted.

use super::ReportError;
use crate::model::{RunReport, ScenarioResult, Verdict};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Version of the baseline file format.
pub const BASELINE_SCHEMA_VERSION: u32 = 1;

/// What changed between a run and its baseline; empty when the run matches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BaselineDiff {
    /// One line per change (verdict not accepted, scenario missing from the run, new scenario).
    pub changes: Vec<String>,
}

impl BaselineDiff {
    /// True when nothing changed.
    pub fn is_clean(&self) -> bool {
        self.changes.is_empty()
    }
}

/// Accepted verdicts of one scenario: one, or a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
enum Accepted {
    One(Verdict),
    Many(Vec<Verdict>),
}

impl Accepted {
    fn list(&self) -> Vec<Verdict> {
        match self {
            Accepted::One(v) => vec![*v],
            Accepted::Many(v) => v.clone(),
        }
    }
}

/// The file's content.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct BaselineFile {
    #[serde(default = "default_version")]
    schema_version: u32,
    #[serde(default)]
    target: String,
    scenarios: BTreeMap<String, Accepted>,
}

fn default_version() -> u32 {
    BASELINE_SCHEMA_VERSION
}

fn read(path: &Path) -> Result<BaselineFile, ReportError> {
    let text = std::fs::read_to_string(path).map_err(|source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let file: BaselineFile = serde_json::from_str(&text).map_err(|source| ReportError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    if file.schema_version != BASELINE_SCHEMA_VERSION {
        return Err(ReportError::Baseline {
            path: path.to_path_buf(),
            message: format!(
                "schema_version {} is not supported (expected {BASELINE_SCHEMA_VERSION})",
                file.schema_version
            ),
        });
    }
    if let Some((id, _)) = file.scenarios.iter().find(|(_, a)| a.list().is_empty()) {
        return Err(ReportError::Baseline {
            path: path.to_path_buf(),
            message: format!("scenarios.\"{id}\" accepts no verdict"),
        });
    }
    Ok(file)
}

fn names(v: &[Verdict]) -> String {
    v.iter()
        .map(|v| v.as_str())
        .collect::<Vec<_>>()
        .join(" or ")
}

/// The verdicts a result stands for: its repeats when flaky, else its verdict.
fn observed(r: &ScenarioResult) -> Vec<Verdict> {
    if r.verdict == Verdict::Flaky && !r.repeats.is_empty() {
        let mut v = r.repeats.clone();
        v.sort();
        v.dedup();
        v
    } else {
        vec![r.verdict]
    }
}

/// Compares a report's verdicts with the baseline file at `path`.
pub fn compare(report: &RunReport, path: &Path) -> Result<BaselineDiff, ReportError> {
    let file = read(path)?;
    let mut changes = Vec::new();
    for r in &report.results {
        match file.scenarios.get(&r.id) {
            None => changes.push(format!(
                "new scenario {}: {} (not in the baseline)",
                r.id, r.verdict
            )),
            Some(acc) => {
                let acc = acc.list();
                let seen = observed(r);
                if !seen.iter().all(|v| acc.contains(v)) {
                    let shown = if r.verdict == Verdict::Flaky {
                        format!("flaky ({})", names(&seen).replace(" or ", ", "))
                    } else {
                        r.verdict.to_string()
                    };
                    changes.push(format!(
                        "{}: {shown}, baseline accepts {}",
                        r.id,
                        names(&acc)
                    ));
                }
            }
        }
    }
    for (id, acc) in &file.scenarios {
        if !report.results.iter().any(|r| &r.id == id) {
            changes.push(format!(
                "missing scenario {id}: not run (baseline accepts {})",
                names(&acc.list())
            ));
        }
    }
    Ok(BaselineDiff { changes })
}

/// Rewrites the baseline file at `path` from a report: one entry per scenario of the report (entries of
/// scenarios not in the report are dropped). The entry becomes the observed verdict(s), except that a
/// single run (no `--repeat`) keeps an existing multi-verdict list that still accepts its result: one
/// run cannot tell a scenario known to be intermittent from a stable one, while a repeated run can,
/// so a repeated run narrows a widened entry to what it saw.
pub fn write(report: &RunReport, path: &Path) -> Result<(), ReportError> {
    write_all(&[report], path)
}

/// [`write`] for several runs sharing one baseline file (one target on several Node lines without a
/// per-line file): each scenario accepts every verdict any of the runs observed.
pub fn write_all(reports: &[&RunReport], path: &Path) -> Result<(), ReportError> {
    let Some(first) = reports.first() else {
        return Ok(());
    };
    let old = if path.exists() {
        Some(read(path)?)
    } else {
        None
    };
    // per scenario: the verdicts seen, and whether any run repeated it
    let mut seen_by_id: BTreeMap<String, (Vec<Verdict>, bool)> = BTreeMap::new();
    for report in reports {
        for r in &report.results {
            let (seen, repeated) = seen_by_id.entry(r.id.clone()).or_default();
            seen.extend(observed(r));
            seen.sort();
            seen.dedup();
            *repeated |= r.repeats.len() > 1;
        }
    }
    let mut scenarios = BTreeMap::new();
    for (id, (seen, repeated)) in seen_by_id {
        let kept = old
            .as_ref()
            .filter(|_| !repeated)
            .and_then(|f| f.scenarios.get(&id))
            .map(Accepted::list)
            .filter(|acc| seen.iter().all(|v| acc.contains(v)));
        scenarios.insert(id, Accepted::Many(kept.unwrap_or(seen)));
    }
    // the target without its `@node-…` suffix: the file may serve several Node lines
    let target = first.target.label.split('@').next().unwrap_or_default();
    let file = BaselineFile {
        schema_version: BASELINE_SCHEMA_VERSION,
        target: target.to_string(),
        scenarios,
    };
    let io = |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut text = serde_json::to_string_pretty(&file).map_err(|source| ReportError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    text.push('\n');
    std::fs::write(path, text).map_err(io)
}
