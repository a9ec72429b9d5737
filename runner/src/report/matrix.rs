//! Targets × scenarios matrix, for the terminal and as a self-contained HTML page.

use super::ReportError;
use crate::model::RunReport;
use std::path::Path;

/// A plain-text table, one row per scenario and one column per target.
pub fn diff_matrix(reports: &[RunReport]) -> String {
    let _ = reports;
    String::new()
}

/// Writes the same matrix as a self-contained HTML page.
pub fn write_matrix_html(reports: &[RunReport], path: &Path) -> Result<(), ReportError> {
    let _ = (reports, path);
    Ok(())
}
