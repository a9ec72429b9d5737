//! Targets × scenarios matrix, for the terminal and as a self-contained HTML page.

use super::ReportError;
use crate::model::{RunReport, Verdict};
use std::path::Path;

/// The matrix: target labels, then one row per scenario (in order of first appearance).
pub(crate) struct Matrix {
    /// Column headers.
    pub targets: Vec<String>,
    /// One row per scenario id.
    pub rows: Vec<Row>,
}

/// One scenario across targets.
pub(crate) struct Row {
    /// Scenario id.
    pub id: String,
    /// Verdict per target (`None`: not run there).
    pub verdicts: Vec<Option<Verdict>>,
    /// True when the targets disagree.
    pub differs: bool,
}

pub(crate) fn build(reports: &[RunReport]) -> Matrix {
    let targets = reports.iter().map(|r| r.target.label.clone()).collect();
    let mut ids: Vec<&str> = Vec::new();
    for rep in reports {
        for r in &rep.results {
            if !ids.contains(&r.id.as_str()) {
                ids.push(&r.id);
            }
        }
    }
    let rows = ids
        .into_iter()
        .map(|id| {
            let verdicts: Vec<Option<Verdict>> = reports
                .iter()
                .map(|rep| rep.results.iter().find(|r| r.id == id).map(|r| r.verdict))
                .collect();
            let differs = verdicts.windows(2).any(|w| w[0] != w[1]);
            Row {
                id: id.to_string(),
                verdicts,
                differs,
            }
        })
        .collect();
    Matrix { targets, rows }
}

/// A plain-text table, one row per scenario and one column per target; `*` marks rows that differ,
/// `-` a scenario a target did not run.
pub fn diff_matrix(reports: &[RunReport]) -> String {
    let m = build(reports);
    let id_w = m
        .rows
        .iter()
        .map(|r| r.id.chars().count())
        .max()
        .unwrap_or(0)
        .max("scenario".len());
    let col_w: Vec<usize> = m
        .targets
        .iter()
        .map(|t| t.chars().count().max("informational".len()))
        .collect();
    let mut out = format!("  {:<id_w$}", "scenario");
    for (t, w) in m.targets.iter().zip(&col_w) {
        out.push_str(&format!("  {t:<w$}"));
    }
    out = out.trim_end().to_string();
    out.push('\n');
    for row in &m.rows {
        let mut line = format!("{} {:<id_w$}", if row.differs { '*' } else { ' ' }, row.id);
        for (v, w) in row.verdicts.iter().zip(&col_w) {
            let s = v.map(|v| v.as_str()).unwrap_or("-");
            line.push_str(&format!("  {s:<w$}"));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    let differing = m.rows.iter().filter(|r| r.differs).count();
    out.push_str(&format!(
        "{} scenarios, {differing} differ between targets\n",
        m.rows.len()
    ));
    out
}

/// Writes the same matrix as a self-contained HTML page.
pub fn write_matrix_html(reports: &[RunReport], path: &Path) -> Result<(), ReportError> {
    let html = super::html::render_matrix(reports);
    super::write_file(path, html.as_bytes())
}
