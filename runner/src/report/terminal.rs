//! The terminal reporter: a progress bar on a TTY, plain lines otherwise, the summary printed last.

use super::{Reporter, fmt};
use crate::model::{Level, PromiseSource, RunEvent, RunReport, ScenarioResult, Summary, Verdict};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};

/// Prints progress and each target's summary (last, after every scenario line) to stdout.
pub struct TerminalReporter {
    out: Box<dyn Write + Send>,
    bar: Option<ProgressBar>,
    tty: bool,
    runs: usize,
}

impl Default for TerminalReporter {
    fn default() -> Self {
        Self::new()
    }
}

impl TerminalReporter {
    /// A reporter on stdout: a progress bar when stdout is a TTY, plain lines otherwise.
    pub fn new() -> Self {
        TerminalReporter {
            out: Box::new(std::io::stdout()),
            bar: None,
            tty: std::io::stdout().is_terminal(),
            runs: 0,
        }
    }

    /// A reporter writing plain lines (no progress bar) to `out`, e.g. a file or a buffer.
    pub fn plain(out: Box<dyn Write + Send>) -> Self {
        TerminalReporter {
            out,
            bar: None,
            tty: false,
            runs: 0,
        }
    }

    fn line(&mut self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => {
                let _ = writeln!(self.out, "{text}");
            }
        }
    }
}

impl Reporter for TerminalReporter {
    fn on_event(&mut self, ev: &RunEvent) {
        match ev {
            RunEvent::RunStarted { target, scenarios } => {
                self.runs += 1;
                let head = format!(
                    "conform: {scenarios} scenarios against {} ({})",
                    target.label, target.version
                );
                self.line(&head);
                if self.tty {
                    let bar = ProgressBar::with_draw_target(
                        Some(*scenarios as u64),
                        ProgressDrawTarget::stdout(),
                    );
                    if let Ok(style) =
                        ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {wide_msg}")
                    {
                        bar.set_style(style);
                    }
                    self.bar = Some(bar);
                }
            }
            RunEvent::ScenarioStarted { id, .. } => {
                if let Some(bar) = &self.bar {
                    bar.set_message(id.clone());
                }
            }
            RunEvent::ScenarioFinished { target, result } => {
                let mut text = scenario_line(result);
                if self.runs > 1 {
                    text = format!("[{target}] {text}");
                }
                self.line(&text);
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
            }
            RunEvent::RunFinished { report } => {
                if let Some(bar) = self.bar.take() {
                    bar.finish_and_clear();
                }
                let _ = write!(self.out, "{}", summary_text(report));
                let _ = self.out.flush();
            }
        }
    }
}

/// `PASS reload/under-load/http-4 (12.3s)`, with the reason after a colon when it did not pass.
pub fn scenario_line(r: &ScenarioResult) -> String {
    let mut s = format!(
        "{} {} ({})",
        r.verdict.as_str().to_uppercase(),
        r.id,
        fmt::secs(r.duration_ms)
    );
    if r.verdict != Verdict::Pass && !r.reason.is_empty() {
        s.push_str(": ");
        s.push_str(&r.reason);
    }
    s
}

/// `3 pass, 1 fail`, in the order of [`Verdict::ALL`].
fn counts_text(counts: &std::collections::BTreeMap<String, u64>) -> String {
    let parts: Vec<String> = Verdict::ALL
        .iter()
        .filter_map(|v| {
            counts
                .get(v.as_str())
                .map(|n| format!("{n} {}", v.as_str()))
        })
        .collect();
    parts.join(", ")
}

fn is_must_failure(r: &ScenarioResult) -> bool {
    // the same MUSTs as `Summary::must_failures` and the exit code: unsupported ones too
    r.level == Level::Must
        && matches!(
            r.verdict,
            Verdict::Fail | Verdict::Error | Verdict::Flaky | Verdict::Unsupported
        )
}

/// The end-of-run summary: counts by verdict and level, then the MUST failures, then the outcome line.
pub fn summary_text(report: &RunReport) -> String {
    let summary = Summary::from_results(&report.results);
    let mut out = format!(
        "\n== summary: {} ({}) ==\n{} scenarios in {}\n",
        report.target.label,
        report.target.version,
        report.results.len(),
        fmt::secs(report.duration_ms)
    );
    if let Some(rt) = &report.runtime {
        out.push_str(&format!("on {} ({})\n", rt.describe(), rt.command));
    }
    if let Some(c) = &report.cpus {
        out.push_str(&format!("cpus: {}\n", c.describe()));
    }
    if let Some(a) = &report.target.adapter {
        out.push_str(&format!("adapter: {a}\n"));
    }
    for v in Verdict::ALL {
        if let Some(n) = summary.by_verdict.get(v.as_str()) {
            out.push_str(&format!("  {:<14} {n}\n", v.as_str()));
        }
    }
    for level in ["MUST", "SHOULD", "INFO"] {
        if let Some(counts) = summary.by_level.get(level) {
            out.push_str(&format!("  {level:<6} {}\n", counts_text(counts)));
        }
    }
    out.push_str("by source:\n");
    for src in PromiseSource::ALL {
        if let Some(counts) = summary.by_source.get(src.as_str()) {
            let n: u64 = counts.values().sum();
            out.push_str(&format!(
                "  {:<10} {n:>3} ({})  {}\n",
                src.as_str(),
                src.title(),
                counts_text(counts)
            ));
        }
    }
    let failures: Vec<&ScenarioResult> = report
        .results
        .iter()
        .filter(|r| is_must_failure(r))
        .collect();
    if failures.is_empty() {
        out.push_str("result: every MUST scenario passed\n");
    } else {
        out.push_str(&format!("MUST failures ({}):\n", failures.len()));
        for r in &failures {
            out.push_str(&format!("  {}\n", scenario_line(r)));
        }
        out.push_str(&format!(
            "result: FAILED ({} MUST scenario{} did not pass)\n",
            failures.len(),
            if failures.len() == 1 { "" } else { "s" }
        ));
    }
    out
}
