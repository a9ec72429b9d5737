//! `reports/bench/index.html`: one self-contained page (inline CSS, inline SVG, no script, no network):
//! the run header, the goals, then one horizontal bar chart per figure (median bar, min–max whisker,
//! value and ratio), grouped by section.

use super::goals::Status;
use super::report::BenchReport;
use super::table::{FigureTable, format_ratio, format_value};

use crate::report::html_escape as esc;

const CSS: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}\
h1{font-size:1.5em}h2{margin-top:2em;border-bottom:1px solid #ccc}h3{font-size:1em;margin:1.2em 0 .3em}\
table{border-collapse:collapse}td,th{padding:3px 8px;border-bottom:1px solid #eee;text-align:left}\
.met{color:#16794a}.missed{color:#b3261e;font-weight:bold}.na{color:#777}\
svg text{font:12px system-ui,sans-serif}svg .v{fill:#222}svg .l{fill:#444}.err{color:#b3261e}";

const COLORS: [&str; 8] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#9c755f",
];

/// One figure as a horizontal bar chart.
pub fn chart(t: &FigureTable, colors: &dyn Fn(&str) -> &'static str) -> String {
    let (label_w, bar_w, row_h, value_w) = (170.0, 520.0, 22.0, 190.0);
    let height = row_h * t.rows.len() as f64 + 8.0;
    let width = label_w + bar_w + value_w;
    let max = t.rows.iter().map(|r| r.summary.max).fold(0.0_f64, f64::max);
    let scale = if max > 0.0 { bar_w / max } else { 0.0 };
    let mut svg = format!(
        "<svg role=\"img\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\"><title>{}</title>",
        esc(&t.title)
    );
    for (i, r) in t.rows.iter().enumerate() {
        let y = 4.0 + i as f64 * row_h;
        let w = (r.summary.median * scale).max(0.0);
        let tip = format!(
            "{}: median {} {}, min {}, max {}, spread ±{:.1}%, n={}",
            r.subject,
            format_value(r.summary.median, &t.unit),
            t.unit,
            format_value(r.summary.min, &t.unit),
            format_value(r.summary.max, &t.unit),
            r.summary.spread_pct,
            r.summary.n
        );
        svg.push_str(&format!(
            "<text class=\"l\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            label_w - 6.0,
            y + 14.0,
            esc(&r.subject)
        ));
        svg.push_str(&format!(
            "<rect x=\"{label_w}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{}</title></rect>",
            y + 2.0,
            row_h - 6.0,
            colors(&r.subject),
            esc(&tip)
        ));
        let (x1, x2) = (
            label_w + r.summary.min * scale,
            label_w + r.summary.max * scale,
        );
        svg.push_str(&format!(
            "<line x1=\"{x1:.1}\" x2=\"{x2:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#222\"/>",
            y + row_h / 2.0 - 1.0,
            y + row_h / 2.0 - 1.0
        ));
        svg.push_str(&format!(
            "<text class=\"v\" x=\"{:.1}\" y=\"{:.1}\">{} {} ({})</text>",
            label_w + bar_w + 6.0,
            y + 14.0,
            esc(&format_value(r.summary.median, &t.unit)),
            esc(&t.unit),
            esc(&format_ratio(r.ratio))
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// The whole page.
pub fn render(r: &BenchReport) -> String {
    let mut subjects: Vec<&str> = Vec::new();
    for t in &r.figures {
        for row in &t.rows {
            if !subjects.contains(&row.subject.as_str()) {
                subjects.push(&row.subject);
            }
        }
    }
    let colors =
        |s: &str| COLORS[subjects.iter().position(|x| *x == s).unwrap_or(0) % COLORS.len()];
    let mut body = format!("<h1>conform bench {}</h1>", esc(&r.started_at));
    body.push_str(&format!(
        "<p>{} ({} CPUs, {}), node {}; {} rounds, {} s samples{}; {} of {} steps{}. Ratios are to the first row of each figure.</p><ul>",
        esc(&r.machine.hostname),
        r.machine.cpus,
        esc(&r.machine.os),
        esc(&r.machine.node_version),
        r.config.rounds,
        r.config.sample_secs,
        if r.config.quick { " (quick)" } else { "" },
        r.steps[0],
        r.steps[1],
        if r.complete { "" } else { " (incomplete)" }
    ));
    for t in &r.targets {
        body.push_str(&format!(
            "<li>{} {} <code>{}</code></li>",
            esc(&t.label),
            esc(&t.version),
            esc(&t.command)
        ));
    }
    body.push_str("</ul>");
    if !r.goals.is_empty() {
        body.push_str(
            "<h2>Goals (refpm)</h2><table><tr><th>goal</th><th>status</th><th>observed</th></tr>",
        );
        for g in &r.goals {
            let (class, word) = match g.status {
                Status::Met => ("met", "met"),
                Status::Missed => ("missed", "missed"),
                Status::NotMeasured => ("na", "not measured"),
            };
            let cross = g
                .cross_check
                .as_ref()
                .map(|c| format!("<br>cross-check {}", esc(c)))
                .unwrap_or_default();
            body.push_str(&format!(
                "<tr><td>{}</td><td class=\"{class}\">{word}</td><td>{}{cross}</td></tr>",
                esc(&g.text),
                esc(&g.observed)
            ));
        }
        body.push_str("</table>");
    }
    let mut section = "";
    for t in r.figures.iter().filter(|t| !t.rows.is_empty()) {
        if t.section != section {
            section = &t.section;
            body.push_str(&format!("<h2>{}</h2>", esc(section)));
        }
        body.push_str(&format!(
            "<h3>{} [{}]</h3>{}",
            esc(&t.title),
            esc(&t.unit),
            chart(t, &colors)
        ));
    }
    if !r.errors.is_empty() {
        body.push_str("<h2>Errors</h2><ul class=\"err\">");
        for e in &r.errors {
            body.push_str(&format!(
                "<li>{} {} round {}: {}</li>",
                esc(&e.section),
                esc(&e.subject),
                e.round + 1,
                esc(&e.text)
            ));
        }
        body.push_str("</ul>");
    }
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>conform bench {}</title><style>{CSS}</style></head><body>{body}</body></html>\n",
        esc(&r.started_at)
    )
}
