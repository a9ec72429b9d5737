//! Evaluating the check vocabulary against what a scenario observed.

mod lifecycle;
mod procs;
mod show;
pub mod timeline;
mod traffic;

use super::ctx::Ctx;
use super::record::Worker;
use crate::model::CheckResult;
use crate::suite::Check;
use crate::target::Proc;

/// One evaluated check; shared by every check and by the steps that fail a scenario early.
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

impl Ctx {
    fn snap_app(&self, label: &str, app: Option<&str>) -> Vec<Proc> {
        let name = app.unwrap_or(&self.sc.app.name);
        self.snapshots
            .get(label)
            .map(|l| l.iter().filter(|p| p.name == name).cloned().collect())
            .unwrap_or_default()
    }

    fn window(&self, kind: &str) -> Option<(f64, f64)> {
        let spans: Vec<_> = self.spans.iter().filter(|s| s.kind == kind).collect();
        Some((spans.first()?.start, spans.last()?.end))
    }

    /// Workers that listened through the whole of load `name` (else the ones alive at its end).
    fn load_workers<'a>(&self, name: &str, ws: &'a [Worker]) -> Vec<&'a Worker> {
        let Some((a, b)) = self.window(&format!("load:{name}")) else {
            return Vec::new();
        };
        let through: Vec<&Worker> = ws
            .iter()
            .filter(|w| {
                w.listening_span()
                    .is_some_and(|(la, lb)| la <= a && lb >= b)
            })
            .collect();
        if !through.is_empty() {
            return through;
        }
        ws.iter()
            .filter(|w| w.listening.is_some() && w.alive_at(b))
            .collect()
    }

    /// Evaluates one check; adds what it measured to the figures.
    pub fn evaluate(&mut self, check: &Check, ws: &[Worker]) -> CheckResult {
        if let Some(r) = self.eval_procs(check, ws) {
            return r;
        }
        if let Some(r) = self.eval_traffic(check, ws) {
            return r;
        }
        if let Some(r) = self.eval_lifecycle(check, ws) {
            return r;
        }
        match check {
            Check::Restarts { .. }
            | Check::StartRate { .. }
            | Check::NoOrphans {}
            | Check::LogsContain { .. } => self.evaluate_fault(check),
            other => res(other.kind(), false, "a known check", "not evaluated"),
        }
    }
}
