//! The performance goals of refpm (issue 7), evaluated against the medians of the ratio table.
//!
//! A goal compares one subject's median with a factor of another's (`≥ 3× PM2`), or requires a figure
//! to be zero over all samples (failed requests during reloads). A goal whose figures were not
//! measured is `not-measured`, never met.

use super::figures::{
    CLI_JLIST, KEEPALIVE_MAX, NEWCONN_MAX, NEWCONN_WRK, RELOAD_FAILED, RELOAD_KA_FAILED,
    RELOAD_KA_REQUESTS, RELOAD_REQUESTS, RSS_IDLE,
};
use super::table::{FigureTable, format_ratio, format_value};
use serde::{Deserialize, Serialize};

/// Whether a goal holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The measured figures meet the goal.
    Met,
    /// They do not.
    Missed,
    /// A figure it needs is missing (not run, or the measurement failed).
    NotMeasured,
}

/// How the subject's median must compare with the reference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
    /// `value ≥ factor × reference median`.
    AtLeast(f64),
    /// `value ≤ factor × reference median`.
    AtMost(f64),
    /// Every sample of the subject is zero.
    AllZero,
}

/// One goal to evaluate.
#[derive(Debug, Clone, PartialEq)]
pub struct GoalSpec {
    /// Stable id (`newconn-vs-pm2`).
    pub id: String,
    /// The goal in words.
    pub text: String,
    /// Figure compared.
    pub figure: &'static str,
    /// Subject that must meet the goal.
    pub subject: String,
    /// Subject it is compared with (unused for [`Rule::AllZero`]).
    pub reference: Option<String>,
    /// The comparison.
    pub rule: Rule,
    /// A second figure shown next to the verdict as a cross-check (wrk), not part of it.
    pub cross_check: Option<&'static str>,
    /// For [`Rule::AllZero`]: the figure whose sum is the number of chances to fail (requests).
    pub denominator: Option<&'static str>,
}

/// The evaluated goal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoalResult {
    /// Stable id.
    pub id: String,
    /// The goal in words.
    pub text: String,
    /// Subject that must meet it.
    pub subject: String,
    /// Met, missed or not measured.
    pub status: Status,
    /// The subject's median.
    pub value: Option<f64>,
    /// The reference subject's median.
    pub reference_value: Option<f64>,
    /// `value / reference_value`.
    pub ratio: Option<f64>,
    /// What was observed, in words.
    pub observed: String,
    /// The cross-check figure's ratio in words, when measured.
    pub cross_check: Option<String>,
}

/// Who plays which role in the goals.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Roles {
    /// Label of the PM2 target (CLI figures).
    pub pm2: Option<String>,
    /// Label of the refpm target (CLI figures).
    pub refpm: Option<String>,
    /// refpm's throughput subjects per policy: (`rr`|`shared`, label).
    pub refpm_policies: Vec<(String, String)>,
    /// Label of Node's cluster in shared-handle mode (`none`).
    pub node_none: Option<String>,
    /// Label of Node's cluster in rr mode.
    pub node_rr: Option<String>,
}

/// The goals of issue 7 for these roles; none when there is no refpm target.
pub fn specs(roles: &Roles) -> Vec<GoalSpec> {
    let mut g = Vec::new();
    let Some(refpm) = &roles.refpm else { return g };
    let policy = |p: &str| {
        roles
            .refpm_policies
            .iter()
            .find(|(n, _)| n == p)
            .map(|(_, l)| l.clone())
    };
    let spec = |id: &str,
                text: String,
                figure,
                subject: String,
                reference: Option<String>,
                rule,
                cross_check| GoalSpec {
        id: id.to_string(),
        text,
        figure,
        subject,
        reference,
        rule,
        cross_check,
        denominator: None,
    };
    if let Some(shared) = policy("shared") {
        g.push(spec(
            "newconn-vs-pm2",
            "new-connection req/s of the shared policy >= 3x PM2".into(),
            NEWCONN_MAX,
            shared.clone(),
            roles.pm2.clone(),
            Rule::AtLeast(3.0),
            Some(NEWCONN_WRK),
        ));
        g.push(spec(
            "newconn-vs-node-shared",
            "new-connection req/s of the shared policy >= 0.9x Node cluster shared handle (none)"
                .into(),
            NEWCONN_MAX,
            shared,
            roles.node_none.clone(),
            Rule::AtLeast(0.9),
            Some(NEWCONN_WRK),
        ));
    }
    if let Some(rr) = policy("rr") {
        g.push(spec(
            "rr-vs-node-rr",
            "new-connection req/s of the rr policy >= 1.2x Node cluster rr".into(),
            NEWCONN_MAX,
            rr,
            roles.node_rr.clone(),
            Rule::AtLeast(1.2),
            Some(NEWCONN_WRK),
        ));
    }
    for (p, label) in &roles.refpm_policies {
        g.push(spec(
            &format!("keepalive-vs-pm2-{p}"),
            format!("keep-alive req/s ({p}) >= PM2"),
            KEEPALIVE_MAX,
            label.clone(),
            roles.pm2.clone(),
            Rule::AtLeast(1.0),
            None,
        ));
    }
    for (p, label) in &roles.refpm_policies {
        g.push(GoalSpec {
            denominator: Some(RELOAD_REQUESTS),
            ..spec(
                &format!("reload-zero-failed-{p}"),
                format!("0 failed requests during reloads ({p})"),
                RELOAD_FAILED,
                label.clone(),
                None,
                Rule::AllZero,
                None,
            )
        });
    }
    for (p, label) in &roles.refpm_policies {
        g.push(GoalSpec {
            denominator: Some(RELOAD_KA_REQUESTS),
            ..spec(
                &format!("reload-keepalive-zero-failed-{p}"),
                format!("0 failed keep-alive requests during reloads ({p})"),
                RELOAD_KA_FAILED,
                label.clone(),
                None,
                Rule::AllZero,
                None,
            )
        });
    }
    g.push(spec(
        "jlist-vs-pm2",
        "jlist time <= 1/20 of PM2's".into(),
        CLI_JLIST,
        refpm.clone(),
        roles.pm2.clone(),
        Rule::AtMost(1.0 / 20.0),
        None,
    ));
    for (p, label) in &roles.refpm_policies {
        g.push(spec(
            &format!("idle-rss-vs-pm2-{p}"),
            format!("idle supervisor RSS ({p}) <= 1/10 of PM2's"),
            RSS_IDLE,
            label.clone(),
            roles.pm2.clone(),
            Rule::AtMost(0.1),
            None,
        ));
    }
    g
}

fn row<'a>(
    tables: &'a [FigureTable],
    figure: &str,
    subject: &str,
) -> Option<&'a super::table::Row> {
    tables
        .iter()
        .find(|t| t.id == figure)?
        .rows
        .iter()
        .find(|r| r.subject == subject)
}

fn unit(tables: &[FigureTable], figure: &str) -> String {
    tables
        .iter()
        .find(|t| t.id == figure)
        .map(|t| t.unit.clone())
        .unwrap_or_default()
}

/// Evaluates each goal against the table medians.
pub fn evaluate(specs: &[GoalSpec], tables: &[FigureTable]) -> Vec<GoalResult> {
    specs.iter().map(|s| evaluate_one(s, tables)).collect()
}

fn evaluate_one(s: &GoalSpec, tables: &[FigureTable]) -> GoalResult {
    let u = unit(tables, s.figure);
    let subject = row(tables, s.figure, &s.subject);
    let reference = s
        .reference
        .as_deref()
        .and_then(|r| row(tables, s.figure, r));
    let value = subject.map(|r| r.summary.median);
    let reference_value = reference.map(|r| r.summary.median);
    let ratio = match (value, reference_value) {
        (Some(v), Some(r)) => super::stats::ratio(v, r),
        _ => None,
    };
    let (status, observed) = match (s.rule, subject) {
        (_, None) => (
            Status::NotMeasured,
            format!("no {} figure for {}", s.figure, s.subject),
        ),
        (Rule::AllZero, Some(r)) => {
            let total: f64 = r.samples.iter().sum();
            let status = if total == 0.0 {
                Status::Met
            } else {
                Status::Missed
            };
            let of = s
                .denominator
                .and_then(|d| row(tables, d, &s.subject))
                .map(|d| format!(" of {:.0} requests", d.samples.iter().sum::<f64>()))
                .unwrap_or_default();
            (
                status,
                format!("{total:.0} failed{of} over {} reloads", r.samples.len()),
            )
        }
        (Rule::AtLeast(f) | Rule::AtMost(f), Some(r)) => match (reference, ratio) {
            (Some(rf), Some(q)) => {
                let ok = match s.rule {
                    Rule::AtLeast(_) => q >= f,
                    _ => q <= f,
                };
                let status = if ok { Status::Met } else { Status::Missed };
                let text = format!(
                    "{} {u} vs {} {u} ({}): {} (needs {} {})",
                    format_value(r.summary.median, &u),
                    format_value(rf.summary.median, &u),
                    rf.subject,
                    format_ratio(Some(q)),
                    if matches!(s.rule, Rule::AtLeast(_)) {
                        ">="
                    } else {
                        "<="
                    },
                    format_ratio(Some(f)),
                );
                (status, text)
            }
            _ => (
                Status::NotMeasured,
                format!(
                    "no {} figure for the reference {}",
                    s.figure,
                    s.reference.as_deref().unwrap_or("(none)")
                ),
            ),
        },
    };
    let cross_check = s.cross_check.and_then(|fig| {
        let v = row(tables, fig, &s.subject)?.summary.median;
        let r = row(tables, fig, s.reference.as_deref()?)?.summary.median;
        let cu = unit(tables, fig);
        Some(format!(
            "{fig}: {} vs {} {cu} ({})",
            format_value(v, &cu),
            format_value(r, &cu),
            format_ratio(super::stats::ratio(v, r))
        ))
    });
    GoalResult {
        id: s.id.clone(),
        text: s.text.clone(),
        subject: s.subject.clone(),
        status,
        value,
        reference_value,
        ratio,
        observed,
        cross_check,
    }
}

/// The goals section for the terminal: one line per goal.
pub fn render_text(results: &[GoalResult]) -> String {
    let mut out = String::new();
    for g in results {
        let mark = match g.status {
            Status::Met => "met   ",
            Status::Missed => "MISSED",
            Status::NotMeasured => "n/a   ",
        };
        out.push_str(&format!("{mark}  {}: {}", g.text, g.observed));
        if let Some(c) = &g.cross_check {
            out.push_str(&format!("; cross-check {c}"));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests;
