//! `junit.xml` through quick-junit: one testsuite per suite, one testcase per scenario.
//!
//! `fail` → `<failure>` (reason, then every check); `error` → `<error>`; `unsupported` → `<skipped>`;
//! `pass`, `non-strict`, `informational` → passed; `flaky` → failure for a MUST scenario, passed otherwise.
//! Every testcase carries properties: verdict, level, and the figures (values, outcomes, latency).

use super::fmt;
use crate::model::{Level, RunReport, ScenarioResult, Verdict};
use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};
use std::time::Duration;

/// Renders the JUnit document for one target's run.
pub(crate) fn render(report: &RunReport) -> Result<String, quick_junit::SerializeError> {
    let mut junit = Report::new(format!("conform {}", report.target.label));
    junit.set_time(Duration::from_millis(report.duration_ms));
    let mut suites: Vec<TestSuite> = Vec::new();
    for r in &report.results {
        let pos = match suites.iter().position(|s| s.name.as_str() == r.suite) {
            Some(p) => p,
            None => {
                suites.push(TestSuite::new(r.suite.as_str()));
                suites.len() - 1
            }
        };
        suites[pos].add_test_case(test_case(r));
    }
    for s in &mut suites {
        let total: Duration = s.test_cases.iter().filter_map(|c| c.time).sum();
        s.set_time(total);
        if let Some(rt) = &report.runtime {
            s.add_property(Property::new("runtime", rt.describe()));
        }
        if let Some(c) = &report.cpus {
            s.add_property(Property::new("cpus", c.describe()));
        }
        if let Some(a) = &report.target.adapter {
            s.add_property(Property::new("adapter", a.as_str()));
        }
    }
    junit.add_test_suites(suites);
    junit.to_string()
}

fn level_name(l: Level) -> &'static str {
    match l {
        Level::Must => "MUST",
        Level::Should => "SHOULD",
        Level::Info => "INFO",
    }
}

fn checks_text(r: &ScenarioResult) -> String {
    let mut out = format!("{}\n", r.reason);
    for c in &r.checks {
        out.push_str(&format!(
            "[{}] {}: expected {}; observed {}\n",
            if c.passed { "ok" } else { "FAILED" },
            c.name,
            c.expected,
            c.observed
        ));
    }
    if !r.repeats.is_empty() {
        let v: Vec<&str> = r.repeats.iter().map(|v| v.as_str()).collect();
        out.push_str(&format!("repeats: {}\n", v.join(", ")));
    }
    out
}

fn status(r: &ScenarioResult) -> TestCaseStatus {
    let failure = |kind| {
        let mut s = TestCaseStatus::non_success(kind);
        s.set_message(r.reason.as_str())
            .set_type(r.verdict.as_str())
            .set_description(checks_text(r));
        s
    };
    match r.verdict {
        Verdict::Fail => failure(NonSuccessKind::Failure),
        Verdict::Flaky if r.level == Level::Must => failure(NonSuccessKind::Failure),
        Verdict::Error => failure(NonSuccessKind::Error),
        Verdict::Unsupported => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(r.reason.as_str());
            s
        }
        Verdict::Pass | Verdict::NonStrict | Verdict::Informational | Verdict::Flaky => {
            TestCaseStatus::success()
        }
    }
}

fn test_case(r: &ScenarioResult) -> TestCase {
    let mut tc = TestCase::new(r.id.as_str(), status(r));
    tc.set_classname(r.suite.as_str())
        .set_time(Duration::from_millis(r.duration_ms));
    let mut props = vec![
        Property::new("verdict", r.verdict.as_str()),
        Property::new("level", level_name(r.level)),
    ];
    if !r.reason.is_empty() {
        props.push(Property::new("reason", r.reason.as_str()));
    }
    if !r.repeats.is_empty() {
        let v: Vec<&str> = r.repeats.iter().map(|v| v.as_str()).collect();
        props.push(Property::new("repeats", v.join(",")));
    }
    let f = &r.figures;
    props.extend(
        f.values
            .iter()
            .map(|(k, v)| Property::new(k.as_str(), fmt::num(*v))),
    );
    props.extend(
        f.outcomes
            .iter()
            .map(|(k, v)| Property::new(format!("outcomes.{k}"), v.to_string())),
    );
    props.extend(
        f.latency_ms
            .iter()
            .map(|(k, v)| Property::new(format!("latency_ms.{k}"), fmt::num(*v))),
    );
    props.extend(
        f.per_worker
            .iter()
            .map(|(k, v)| Property::new(format!("per_worker.{k}"), v.to_string())),
    );
    tc.add_properties(props);
    tc
}
