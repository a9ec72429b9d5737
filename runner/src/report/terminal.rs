//! The terminal reporter: progress bar on a TTY, plain lines otherwise, the summary printed last.

use super::Reporter;
use crate::model::{RunEvent, RunReport};

/// Prints progress and the final summary to the terminal.
#[derive(Default)]
pub struct TerminalReporter {}

impl TerminalReporter {
    /// A reporter that detects whether stdout is a TTY.
    pub fn new() -> Self {
        TerminalReporter {}
    }
}

impl Reporter for TerminalReporter {
    fn on_event(&mut self, ev: &RunEvent) {
        let _ = ev;
    }
}

/// The end-of-run summary: counts by verdict and the MUST failures, as printed last.
pub fn summary_text(report: &RunReport) -> String {
    let _ = report;
    String::new()
}
