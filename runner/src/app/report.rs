//! `conform app`'s reports: the terminal summary with advice, `results.json` (with `findings`), and
//! JUnit and HTML through the run report's writers (each finding shown as a scenario `app/<id>`).

use super::finding::{Finding, FindingVerdict};
use crate::model::{
    CheckResult, MachineInfo, RESULTS_SCHEMA_VERSION, RunReport, ScenarioResult, Summary,
    TargetInfo, Verdict,
};
use crate::report::ReportError;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// What `results.json` of `conform app` holds: the run report's fields (so `conform diff` reads it)
/// plus the app and its findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppReport {
    /// The findings-as-scenarios report.
    #[serde(flatten)]
    pub run: RunReport,
    /// The app: name, script, instances.
    pub app: AppInfo,
    /// Every finding.
    pub findings: Vec<Finding>,
}

/// The app that was checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppInfo {
    /// Name under the manager.
    pub name: String,
    /// Script path.
    pub script: String,
    /// Instances.
    pub instances: usize,
}

/// A finding as a scenario result (for JUnit, HTML and `conform diff`).
pub fn as_scenario(f: &Finding) -> ScenarioResult {
    let verdict = match f.verdict {
        FindingVerdict::Pass => Verdict::Pass,
        FindingVerdict::Fail => Verdict::Fail,
        FindingVerdict::Info | FindingVerdict::Skipped => Verdict::Informational,
        FindingVerdict::Error => Verdict::Error,
    };
    let reason = match f.verdict {
        FindingVerdict::Skipped => format!("skipped: {}", f.evidence.join("; ")),
        FindingVerdict::Pass => f.evidence.first().cloned().unwrap_or_default(),
        _ => f.advice.clone(),
    };
    ScenarioResult {
        id: format!("app/{}", f.id),
        suite: if f.id == "graceful-shutdown" {
            "graceful".into()
        } else {
            "app".into()
        },
        quote: f.quote.clone(),
        source: crate::model::PromiseSource::Guide,
        level: f.level,
        verdict,
        reason,
        checks: f
            .evidence
            .iter()
            .map(|e| CheckResult {
                name: f.id.clone(),
                passed: f.verdict != FindingVerdict::Fail,
                expected: String::new(),
                observed: e.clone(),
            })
            .collect(),
        figures: f.figures.clone(),
        duration_ms: 0,
        repeats: Vec::new(),
    }
}

/// Builds the report.
pub fn build(
    app: AppInfo,
    findings: Vec<Finding>,
    target: TargetInfo,
    runtime: Option<crate::model::RuntimeInfo>,
    machine: MachineInfo,
    started_at: String,
    duration_ms: u64,
) -> AppReport {
    let results: Vec<ScenarioResult> = findings.iter().map(as_scenario).collect();
    AppReport {
        run: RunReport {
            schema_version: RESULTS_SCHEMA_VERSION,
            conform_version: env!("CARGO_PKG_VERSION").to_string(),
            target,
            runtime,
            machine,
            cpus: None,
            started_at,
            duration_ms,
            summary: Summary::from_results(&results),
            results,
        },
        app,
        findings,
    }
}

/// Writes `junit.xml` and `index.html` (the run report's writers, on the findings as scenarios) and
/// `results.json` with the findings into `dir`.
pub fn write(report: &AppReport, dir: &Path) -> Result<(), ReportError> {
    crate::report::write_reports(&report.run, dir)?;
    // results.json again, with the app and its findings beside the run report's fields
    let json_path = dir.join("results.json");
    let mut json = serde_json::to_string_pretty(report).map_err(|source| ReportError::Json {
        path: json_path.clone(),
        source,
    })?;
    json.push('\n');
    crate::report::write_file(&json_path, json.as_bytes())
}

/// The terminal summary: one block per finding (verdict, evidence, advice when it did not pass), then
/// the overall line.
pub fn terminal(report: &AppReport) -> String {
    let mut s = format!(
        "conform app: {} ({} instances) under {} {}\n\n",
        report.app.script, report.app.instances, report.run.target.label, report.run.target.version
    );
    for f in &report.findings {
        let level = match f.level {
            crate::model::Level::Must => "MUST",
            crate::model::Level::Should => "SHOULD",
            crate::model::Level::Info => "INFO",
        };
        s.push_str(&format!(
            "{:<7} {:<18} {level}\n",
            f.verdict.as_str().to_uppercase(),
            f.id
        ));
        for e in &f.evidence {
            s.push_str(&format!("        - {e}\n"));
        }
        if !f.advice.is_empty() {
            s.push_str(&format!("        advice: {}\n", f.advice));
        }
    }
    let failed: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.fails_run())
        .map(|f| f.id.as_str())
        .collect();
    s.push_str(&format!(
        "\n{} in {:.1} s: {}\n",
        if failed.is_empty() {
            "READY for cluster mode"
        } else {
            "NOT READY for cluster mode"
        },
        report.run.duration_ms as f64 / 1000.0,
        if failed.is_empty() {
            "every MUST finding passed".to_string()
        } else {
            format!("failed: {}", failed.join(", "))
        }
    ));
    s
}
