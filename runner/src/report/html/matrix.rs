//! The targets × scenarios matrix page.

use super::escape;
use super::page::{badge, document};
use crate::model::RunReport;
use crate::report::matrix::{Matrix, build};

/// A self-contained page with one row per scenario and one column per target; rows whose verdicts
/// differ between targets are marked.
pub(crate) fn render_matrix(reports: &[RunReport]) -> String {
    let Matrix { targets, rows } = build(reports);
    let mut body = String::from(
        "<h1>conform: targets × scenarios</h1>\n<table class=\"diff\">\n<tr><th>scenario</th>",
    );
    for t in &targets {
        body.push_str(&format!("<th>{}</th>", escape(t)));
    }
    body.push_str("</tr>\n");
    for row in &rows {
        let cls = if row.differs {
            " class=\"cell-differs\""
        } else {
            ""
        };
        body.push_str(&format!("<tr><td{cls}>{}</td>", escape(&row.id)));
        for v in &row.verdicts {
            match v {
                Some(v) => body.push_str(&format!("<td>{}</td>", badge(*v))),
                None => body.push_str("<td>—</td>"),
            }
        }
        body.push_str("</tr>\n");
    }
    body.push_str("</table>\n");
    document("conform: targets × scenarios", &body)
}
