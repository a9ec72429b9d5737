//! The document shell (inline CSS, no external resource), the run summary and the table of contents.

use super::escape;
use crate::model::{PromiseSource, RunReport, ScenarioResult, Summary, Verdict};
use crate::report::fmt;

const CSS: &str = r#"
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:980px;padding:16px;color:#222}
h1{font-size:1.5em}h2{font-size:1.25em;margin-top:2em}h3{font-size:1.05em;margin:0}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:.85em;font-weight:600}
.v-pass{background:#2e7d32}.v-fail{background:#c62828}.v-non-strict{background:#ef6c00}.v-informational{background:#1565c0}
.v-unsupported{background:#757575}.v-error{background:#6a1b9a}.v-flaky{background:#b28704}
.level{font-weight:600;font-size:.85em;border:1px solid #999;border-radius:3px;padding:0 4px}
section.scenario{border-top:1px solid #ccc;padding:12px 0}
blockquote{margin:6px 0;padding:4px 12px;border-left:4px solid #bbb;color:#444;font-style:italic}
.reason{margin:4px 0}.ok{color:#2e7d32}.bad{color:#c62828;font-weight:600}
svg.chart{display:block;margin:8px 0;max-width:100%;height:auto}
svg text{font-size:11px;fill:#333}svg text.event{fill:#e67e00}
.diff td.cell-differs{outline:2px solid #ef6c00}
[hidden]{display:none!important}
.failures{border:1px solid #e0b4b4;background:#fff6f6;padding:6px 12px;border-radius:4px}
.failures.none{border-color:#b5d6b7;background:#f4fbf4}.failures ul{margin:4px 0;padding-left:20px}
#filter{margin:8px 0;padding:6px 10px;background:#f7f7f7;border-radius:4px}#filter fieldset{display:inline-block;border:0;margin:0 12px 0 0;padding:0}
#filter legend{float:left;font-weight:600;margin-right:6px}#filter label{margin-right:8px;white-space:nowrap}
"#;

/// A complete HTML document around `body`.
pub(crate) fn document(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n{}</body>\n</html>\n",
        escape(title),
        if body.contains("<form id=\"filter\"") {
            super::filter::SCRIPT
        } else {
            ""
        }
    )
}

/// A coloured verdict badge.
pub(crate) fn badge(v: Verdict) -> String {
    format!("<span class=\"badge v-{0}\">{0}</span>", v.as_str())
}

/// The anchor id of a scenario section.
pub(crate) fn anchor(id: &str) -> String {
    let slug: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("s-{slug}")
}

/// Target, version, machine, date, and the counts by verdict and by level.
pub(crate) fn summary(report: &RunReport) -> String {
    let s = Summary::from_results(&report.results);
    let t = &report.target;
    let m = &report.machine;
    let runtime = report
        .runtime
        .as_ref()
        .map(|rt| {
            format!(
                "<tr><th>runtime</th><td>{} <code>{}</code></td></tr>\n",
                escape(&rt.describe()),
                escape(&rt.command)
            )
        })
        .unwrap_or_default();
    let runtime = format!(
        "{runtime}{}{}",
        report
            .cpus
            .as_ref()
            .map(|c| format!("<tr><th>cpus</th><td>{}</td></tr>\n", escape(&c.describe())))
            .unwrap_or_default(),
        t.adapter
            .as_ref()
            .map(|a| format!(
                "<tr><th>adapter</th><td><code>{}</code></td></tr>\n",
                escape(a)
            ))
            .unwrap_or_default()
    );
    let mut out = format!(
        "<h1>conform report: {}</h1>\n<table class=\"meta\">\n<tr><th>target</th><td>{} <code>{}</code></td></tr>\n<tr><th>version</th><td>{}</td></tr>\n<tr><th>machine</th><td>{} · {} CPUs · node {} · {}</td></tr>\n{runtime}<tr><th>date</th><td>{}</td></tr>\n<tr><th>duration</th><td>{}</td></tr>\n<tr><th>conform</th><td>{} (results schema {})</td></tr>\n</table>\n",
        escape(&t.label),
        escape(&t.label),
        escape(&t.command),
        escape(&t.version),
        escape(&m.os),
        m.cpus,
        escape(&m.node_version),
        escape(&m.hostname),
        escape(&report.started_at),
        fmt::secs(report.duration_ms),
        escape(&report.conform_version),
        report.schema_version
    );
    out.push_str("<h2>Summary</h2>\n<table class=\"counts\">\n<tr><th>level</th>");
    let used: Vec<Verdict> = Verdict::ALL
        .iter()
        .copied()
        .filter(|v| s.by_verdict.contains_key(v.as_str()))
        .collect();
    for v in &used {
        out.push_str(&format!("<th>{}</th>", badge(*v)));
    }
    out.push_str("</tr>\n");
    for level in ["MUST", "SHOULD", "INFO"] {
        let Some(counts) = s.by_level.get(level) else {
            continue;
        };
        out.push_str(&format!("<tr><th>{}</th>", escape(level)));
        for v in &used {
            let n = counts.get(v.as_str()).copied().unwrap_or(0);
            out.push_str(&format!("<td class=\"num\">{n}</td>"));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("<tr><th>all</th>");
    for v in &used {
        out.push_str(&format!(
            "<td class=\"num\">{}</td>",
            s.by_verdict[v.as_str()]
        ));
    }
    out.push_str("</tr>\n</table>\n");
    out.push_str("<table class=\"counts\">\n<tr><th>where the promise is written</th>");
    for v in &used {
        out.push_str(&format!("<th>{}</th>", badge(*v)));
    }
    out.push_str("</tr>\n");
    for src in PromiseSource::ALL {
        let Some(counts) = s.by_source.get(src.as_str()) else {
            continue;
        };
        out.push_str(&format!(
            "<tr><th><a href=\"#source-{}\">{}</a></th>",
            src.as_str(),
            escape(src.title())
        ));
        for v in &used {
            let n = counts.get(v.as_str()).copied().unwrap_or(0);
            out.push_str(&format!("<td class=\"num\">{n}</td>"));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    out.push_str(&format!(
        "<p>{} scenarios; {} MUST failure{}.</p>\n",
        report.results.len(),
        s.must_failures,
        if s.must_failures == 1 { "" } else { "s" }
    ));
    out
}

/// The results grouped by where their promise is written, in [`PromiseSource::ALL`] order (suite
/// order within a group); empty groups are left out.
pub(crate) fn by_source(report: &RunReport) -> Vec<(PromiseSource, Vec<&ScenarioResult>)> {
    PromiseSource::ALL
        .iter()
        .map(|src| {
            let rs: Vec<&ScenarioResult> =
                report.results.iter().filter(|r| r.source == *src).collect();
            (*src, rs)
        })
        .filter(|(_, rs)| !rs.is_empty())
        .collect()
}

/// A list of every scenario with its verdict, linking to its section, grouped by source.
pub(crate) fn toc(report: &RunReport) -> String {
    let mut out = String::from("<h2>Scenarios</h2>\n");
    out.push_str(&super::filter::controls(report));
    out.push_str("<table class=\"toc\">\n");
    for (src, results) in by_source(report) {
        out.push_str(&format!(
            "<tr><th colspan=\"4\">{} ({})</th></tr>\n",
            escape(src.title()),
            results.len()
        ));
        toc_rows(&mut out, &results);
    }
    out.push_str("</table>\n");
    out
}

fn toc_rows(out: &mut String, results: &[&ScenarioResult]) {
    for r in results {
        out.push_str(&format!(
            "<tr {}><td>{}</td><td><span class=\"level\">{}</span></td><td><a href=\"#{}\">{}</a></td><td>{}</td></tr>\n",
            super::filter::filter_attrs(r),
            badge(r.verdict),
            level_name(r.level),
            anchor(&r.id),
            escape(&r.id),
            escape(&r.reason)
        ));
    }
}

/// `MUST`, `SHOULD` or `INFO`.
pub(crate) fn level_name(l: crate::model::Level) -> &'static str {
    match l {
        crate::model::Level::Must => "MUST",
        crate::model::Level::Should => "SHOULD",
        crate::model::Level::Info => "INFO",
    }
}
