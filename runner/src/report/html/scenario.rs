//! One scenario's section: id, quoted guide sentence, level, verdict, reason, checks, figures, charts.

use super::charts::{self, TimelineKind};
use super::escape;
use super::filter::filter_attrs;
use super::page::{anchor, badge, level_name};
use crate::model::{Figures, ScenarioResult};
use crate::report::fmt;
use std::collections::BTreeMap;

/// The `<section>` of one scenario.
pub(crate) fn section(r: &ScenarioResult) -> String {
    let mut out = format!(
        "<section class=\"scenario\" id=\"{}\" {}>\n<h3>{} {} <span class=\"level\">{}</span> <small>{}</small></h3>\n",
        anchor(&r.id),
        filter_attrs(r),
        badge(r.verdict),
        escape(&r.id),
        level_name(r.level),
        fmt::secs(r.duration_ms)
    );
    if !r.quote.is_empty() {
        out.push_str(&format!(
            "<blockquote>“{}” <small>({})</small></blockquote>\n",
            escape(&r.quote),
            escape(r.source.title())
        ));
    }
    if !r.reason.is_empty() {
        out.push_str(&format!("<p class=\"reason\">{}</p>\n", escape(&r.reason)));
    }
    if !r.repeats.is_empty() {
        let v: Vec<String> = r.repeats.iter().map(|v| badge(*v)).collect();
        out.push_str(&format!("<p>repeats: {}</p>\n", v.join(" ")));
    }
    out.push_str(&checks(r));
    out.push_str(&figures(&r.figures));
    out.push_str(&charts_for(r));
    out.push_str("</section>\n");
    out
}

fn checks(r: &ScenarioResult) -> String {
    if r.checks.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "<table class=\"checks\"><tr><th></th><th>check</th><th>expected</th><th>observed</th></tr>\n",
    );
    for c in &r.checks {
        let mark = if c.passed {
            "<span class=\"ok\">✓</span>"
        } else {
            "<span class=\"bad\">✗</span>"
        };
        out.push_str(&format!(
            "<tr><td>{mark}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            escape(&c.name),
            escape(&c.expected),
            escape(&c.observed)
        ));
    }
    out.push_str("</table>\n");
    out
}

fn kv_table<V>(title: &str, m: &BTreeMap<String, V>, show: impl Fn(&V) -> String) -> String {
    if m.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "<table class=\"figures\"><tr><th colspan=\"2\">{}</th></tr>\n",
        escape(title)
    );
    for (k, v) in m {
        out.push_str(&format!(
            "<tr><td>{}</td><td class=\"num\">{}</td></tr>\n",
            escape(k),
            escape(&show(v))
        ));
    }
    out.push_str("</table>\n");
    out
}

fn figures(f: &Figures) -> String {
    let mut out = String::new();
    out.push_str(&kv_table("figures", &f.values, |v| fmt::num(*v)));
    out.push_str(&kv_table("request outcomes", &f.outcomes, u64::to_string));
    out.push_str(&kv_table(
        "latency (ms, from intended send time)",
        &f.latency_ms,
        |v| fmt::num(*v),
    ));
    let per_worker = kv_table("requests per worker", &f.per_worker, u64::to_string);
    if f.per_worker.len() > 4 {
        // the chart shows them; the numbers stay one click away
        out.push_str(&format!(
            "<details><summary>requests per worker ({} workers)</summary>{per_worker}</details>\n",
            f.per_worker.len()
        ));
    } else {
        out.push_str(&per_worker);
    }
    out
}

/// Charts for what the scenario measured: per-worker bars; a reload timeline when requests were
/// bucketed over time (a shutdown timeline for the `graceful` suite); a shutdown timeline when only
/// worker lifetimes or events were recorded.
fn charts_for(r: &ScenarioResult) -> String {
    let f = &r.figures;
    let mut out = String::new();
    if !f.per_worker.is_empty() {
        out.push_str(&charts::workers_bar(&f.per_worker, &f.workers));
        out.push('\n');
    }
    let has_requests = f
        .throughput
        .as_ref()
        .is_some_and(|t| !t.ok.is_empty() || !t.failed.is_empty());
    let has_lifetimes = !f.workers.is_empty() || !f.timeline.is_empty();
    if has_requests || has_lifetimes {
        let kind = if has_requests && r.suite != "graceful" {
            TimelineKind::Reload
        } else {
            TimelineKind::Shutdown
        };
        out.push_str(&charts::timeline(f, kind));
        out.push('\n');
    }
    out
}
