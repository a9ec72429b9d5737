//! The check vocabulary, evaluated: every check is a pure function of what the scenario observed
//! ([`Observed`]) and returns its result with the figures it measured ([`Evaluated`]).

mod faults;
mod lifecycle;
mod procs;
mod replace;
mod samples;
mod show;
pub mod timeline;
mod traffic;

use super::observed::Observed;
use crate::model::CheckResult;
use crate::suite::Check;
use crate::target::Proc;
use std::collections::BTreeMap;

/// One evaluated check and the figures it measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluated {
    /// The result.
    pub result: CheckResult,
    /// Named figures (`failed_requests`, `min_listening`, ...).
    pub figures: BTreeMap<String, f64>,
}

impl Evaluated {
    /// A result without figures.
    pub fn new(result: CheckResult) -> Self {
        Evaluated {
            result,
            figures: BTreeMap::new(),
        }
    }

    /// Adds a figure.
    pub fn fig(mut self, name: impl Into<String>, v: f64) -> Self {
        self.figures.insert(name.into(), v);
        self
    }

    /// Adds several figures.
    pub fn figs(mut self, figs: impl IntoIterator<Item = (String, f64)>) -> Self {
        self.figures.extend(figs);
        self
    }
}

/// One check result; shared by every check and by the steps that fail a scenario early.
pub(in crate::engine) fn res(
    name: &str,
    passed: bool,
    expected: impl Into<String>,
    observed: impl Into<String>,
) -> CheckResult {
    CheckResult {
        name: name.to_string(),
        passed,
        expected: expected.into(),
        observed: observed.into(),
    }
}

fn live(p: &Proc) -> bool {
    !matches!(p.status.as_str(), "stopped" | "errored") && p.pid != 0
}

/// A list of values as text (`0, 1`, or `none`).
fn fmt_vals(v: &[String]) -> String {
    show::list(v)
}

/// Evaluates one check against what was observed.
pub fn evaluate(check: &Check, obs: &Observed) -> Evaluated {
    procs::eval(check, obs)
        .or_else(|| replace::eval(check, obs))
        .or_else(|| samples::eval(check, obs))
        .or_else(|| traffic::eval(check, obs))
        .or_else(|| lifecycle::eval(check, obs))
        .or_else(|| faults::eval(check, obs))
        .unwrap_or_else(|| {
            // every variant belongs to one group: reaching this is a bug in the grouping
            Evaluated::new(res(check.kind(), false, "a known check", "not evaluated"))
        })
}

#[cfg(test)]
mod tests;
