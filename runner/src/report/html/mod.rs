//! The self-contained HTML report: one file, inline CSS, charts as inline SVG, no network resource.
//!
//! - [`escape`]: text and attribute escaping (every piece of data goes through it).
//! - [`svg`]: a tiny SVG builder; [`charts`]: requests-per-worker bars and the reload/shutdown timelines.
//! - [`page`]: the document shell, CSS and the run summary; [`scenario`]: one scenario's section.
//! - [`filter`]: the failures summary at the top and the filter by verdict and level (a few lines
//!   of inline script; without script every scenario shows).
//! - [`matrix`]: the targets × scenarios page.

mod charts;
mod escape;
mod filter;
mod matrix;
mod page;
mod scenario;
mod svg;

pub(crate) use escape::escape;
pub(crate) use matrix::render_matrix;
#[cfg(test)]
pub(crate) use page::anchor;

use crate::model::RunReport;

/// Renders the whole `index.html` for one target's run.
pub(crate) fn render_report(report: &RunReport) -> String {
    let mut body = page::summary(report);
    // the failures come right under the title, before the run's details
    let at = body.find("</h1>\n").map_or(0, |i| i + "</h1>\n".len());
    body.insert_str(at, &filter::failures(report));
    body.push_str(&page::toc(report));
    for (src, results) in page::by_source(report) {
        body.push_str(&format!(
            "<h2 id=\"source-{}\">Promises of {}</h2>\n",
            src.as_str(),
            escape(src.title())
        ));
        for r in results {
            body.push_str(&scenario::section(r));
        }
    }
    page::document(&format!("conform report: {}", report.target.label), &body)
}
