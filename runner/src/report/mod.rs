//! Reporters: they only consume [`crate::model`] data and [`crate::model::RunEvent`]s, never run anything.
//!
//! - [`TerminalReporter`]: a progress bar on a TTY, plain `PASS id (12.3s)` lines otherwise, summary last.
//! - [`write_reports`]: `results.json`, `junit.xml` and a self-contained `index.html` in one directory.
//! - [`baseline`]: expected verdicts per target (several allowed for known-intermittent scenarios).
//! - [`diff_matrix`] / [`write_matrix_html`]: targets × scenarios, in the terminal and in HTML.
//!
//! API additions (beyond the agreed API, nothing removed or changed): [`summary_text`] and
//! [`scenario_line`] (the terminal texts, for tests and for callers printing their own),
//! [`TerminalReporter::plain`] (plain lines to any writer), [`render_junit`] and [`render_html`]
//! (the documents as strings), [`baseline::BASELINE_SCHEMA_VERSION`].

pub mod baseline;
mod error;
mod fmt;
mod html;

#[cfg(test)]
pub(crate) use html::anchor as html_anchor;
/// HTML escaping shared with the bench page.
pub(crate) use html::escape as html_escape;
mod junit;
mod matrix;
mod terminal;

#[cfg(test)]
mod tests;

pub use error::ReportError;
pub use matrix::{diff_matrix, write_matrix_html};
pub use terminal::{TerminalReporter, scenario_line, summary_text};

use crate::model::{RunEvent, RunReport};
use std::path::Path;

/// Something that consumes the engine's events as a run progresses.
pub trait Reporter {
    /// Called for every event, in order.
    fn on_event(&mut self, ev: &RunEvent);
}

/// The `junit.xml` document for one target's run.
pub fn render_junit(report: &RunReport) -> Result<String, quick_junit::SerializeError> {
    junit::render(report)
}

/// The self-contained `index.html` document for one target's run.
pub fn render_html(report: &RunReport) -> String {
    html::render_report(report)
}

/// Writes `results.json`, `junit.xml` and `index.html` for one target's run into `dir` (created if missing).
pub fn write_reports(report: &RunReport, dir: &Path) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let json_path = dir.join("results.json");
    let mut json = serde_json::to_string_pretty(report).map_err(|source| ReportError::Json {
        path: json_path.clone(),
        source,
    })?;
    json.push('\n');
    write_file(&json_path, json.as_bytes())?;
    let junit_path = dir.join("junit.xml");
    let xml = junit::render(report).map_err(|source| ReportError::Junit {
        path: junit_path.clone(),
        source,
    })?;
    write_file(&junit_path, xml.as_bytes())?;
    write_file(
        &dir.join("index.html"),
        html::render_report(report).as_bytes(),
    )
}

/// Writes a file, creating its directory; errors name the file.
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let io = |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    std::fs::write(path, bytes).map_err(io)
}
