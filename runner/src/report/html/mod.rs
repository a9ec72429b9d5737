//! The self-contained HTML report: one file, inline CSS, charts as inline SVG, no network resource.
//!
//! - [`escape`]: text and attribute escaping (every piece of data goes through it).
//! - [`svg`]: a tiny SVG builder; [`charts`]: requests-per-worker bars and the reload/shutdown timelines.
//! - [`page`]: the document shell, CSS and the run summary; [`scenario`]: one scenario's section.
//! - [`matrix`]: the targets × scenarios page.

mod charts;
mod escape;
mod matrix;
mod page;
mod scenario;
mod svg;

pub(crate) use escape::escape;
pub(crate) use matrix::render_matrix;

use crate::model::RunReport;

/// Renders the whole `index.html` for one target's run.
pub(crate) fn render_report(report: &RunReport) -> String {
    let mut body = page::summary(report);
    body.push_str(&page::toc(report));
    for r in &report.results {
        body.push_str(&scenario::section(r));
    }
    page::document(&format!("conform report: {}", report.target.label), &body)
}
