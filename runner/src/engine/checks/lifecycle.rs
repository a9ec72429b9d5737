//! Checks on the time line: listening coverage, replacement order, signals, exit codes and durations.

use super::{res, show, timeline};
use crate::engine::ctx::Ctx;
use crate::engine::record::Worker;
use crate::model::CheckResult;
use crate::suite::Check;

impl Ctx {
    /// Evaluates the checks of this group; `None` for other checks.
    pub(super) fn eval_lifecycle(&mut self, check: &Check, ws: &[Worker]) -> Option<CheckResult> {
        let name = check.kind();
        let r = match check {
            Check::AtLeastOneListening { during } => {
                let Some((a, b)) = self.window(during) else {
                    return Some(res(name, false, format!("a `{during}` step"), "none ran"));
                };
                let (m, at) = timeline::min_listening(ws, a, b);
                self.values.insert("min_listening".into(), m as f64);
                res(
                    name,
                    m >= 1,
                    format!("at least 1 listening during {during} ({a:.0}–{b:.0} ms)"),
                    format!("minimum {m} at {at:.0} ms"),
                )
            }
            Check::OneAtATime { during } => {
                let Some((a, b)) = self.window(during) else {
                    return Some(res(name, false, format!("a `{during}` step"), "none ran"));
                };
                let base = timeline::alive_at(ws, a);
                let (m, at) = timeline::max_alive(ws, a, b);
                self.values.insert("max_alive".into(), m as f64);
                res(
                    name,
                    m <= base + 1,
                    format!("at most {} alive ({base} + 1 being replaced)", base + 1),
                    format!("{m} alive at {at:.0} ms"),
                )
            }
            Check::ExitCode {
                step,
                equals,
                nonzero,
            } => {
                let codes: Vec<Option<i32>> = self
                    .spans
                    .iter()
                    .filter(|s| &s.kind == step)
                    .map(|s| s.exit)
                    .collect();
                let ok = !codes.is_empty()
                    && codes.iter().all(|c| match (equals, nonzero) {
                        (Some(e), _) => *c == Some(*e),
                        (None, true) => c.is_some_and(|c| c != 0),
                        (None, false) => true,
                    });
                let exp = match (equals, nonzero) {
                    (Some(e), _) => format!("`{step}` exits {e}"),
                    _ => format!("`{step}` exits non-zero"),
                };
                res(
                    name,
                    ok,
                    exp,
                    format!(
                        "exit codes {}",
                        show::list(
                            codes
                                .iter()
                                .map(|c| c.map_or("killed".into(), |c| c.to_string()))
                        )
                    ),
                )
            }
            Check::StepDuration {
                step,
                min_ms,
                max_ms,
            } => {
                let d: Vec<f64> = self
                    .spans
                    .iter()
                    .filter(|s| &s.kind == step)
                    .map(|s| s.end - s.start)
                    .collect();
                let lo = min_ms
                    .map(|m| m as f64 - 100.0 * self.scale)
                    .unwrap_or(f64::NEG_INFINITY);
                let hi = max_ms
                    .map(|m| m as f64 * self.scale)
                    .unwrap_or(f64::INFINITY);
                let ok = !d.is_empty() && d.iter().all(|x| *x >= lo && *x <= hi);
                res(
                    name,
                    ok,
                    format!(
                        "`{step}` takes {}–{} ms",
                        min_ms.map_or("0".into(), |m| m.to_string()),
                        max_ms.map_or("∞".into(), |m| m.to_string())
                    ),
                    format!("{} ms", show::list(d.iter().map(|x| x.round() as i64))),
                )
            }
            Check::Signals {
                first,
                kill_after_ms,
                tolerance_ms,
                max_ms,
            } => {
                let tol = *tolerance_ms as f64 * self.scale;
                let signalled: Vec<&Worker> =
                    ws.iter().filter(|w| w.first_signal.is_some()).collect();
                let mut notes = Vec::new();
                let mut ok = !signalled.is_empty();
                for w in &signalled {
                    let (ts, s) = w.first_signal.clone().unwrap_or_default();
                    if &s != first {
                        ok = false;
                    }
                    let after = w.end().map(|e| e - ts);
                    let by_itself = w.exit.is_some();
                    if let Some(k) = kill_after_ms {
                        if !by_itself && after.is_none_or(|a| a < *k as f64 - tol) {
                            ok = false;
                        }
                    }
                    if let (Some(m), Some(a)) = (max_ms, after) {
                        if a > *m as f64 * self.scale {
                            ok = false;
                        }
                    }
                    if let Some(a) = after {
                        self.values
                            .insert(format!("signal_to_death_ms.{}", w.pid), a);
                    }
                    notes.push(format!(
                        "pid {}: {} then {} after {}",
                        w.pid,
                        w.signals.join("+"),
                        if by_itself { "exit" } else { "killed" },
                        after.map_or("?".into(), |a| format!("{a:.0} ms"))
                    ));
                }
                let mut exp = format!("first {first}");
                if let Some(k) = kill_after_ms {
                    exp += &format!(", SIGKILL not before {k} ms (−{tol:.0})");
                }
                if let Some(m) = max_ms {
                    exp += &format!(", dead within {m} ms");
                }
                res(
                    name,
                    ok,
                    exp,
                    if notes.is_empty() {
                        "no process saw a signal".into()
                    } else {
                        notes.join("; ")
                    },
                )
            }
            Check::ReplacedAfterReady { during, on } => {
                let Some((a, b)) = self.window(during) else {
                    return Some(res(name, false, format!("a `{during}` step"), "none ran"));
                };
                let mut notes = Vec::new();
                let mut ok = true;
                // told to stop: its first signal, or its exit when it was stopped another way (cluster disconnect)
                let stop_t = |w: &Worker| w.first_signal.as_ref().map(|s| s.0).or(w.end());
                let old: Vec<&Worker> = ws
                    .iter()
                    .filter(|w| stop_t(w).is_some_and(|t| t >= a && t <= b))
                    .collect();
                for o in &old {
                    let ts = stop_t(o).unwrap_or_default();
                    let ready_of = |w: &Worker| {
                        if on == "listening" {
                            w.listening
                        } else {
                            w.ready
                        }
                    };
                    let new = ws
                        .iter()
                        .filter(|w| w.start > o.start && w.instance == o.instance)
                        .filter_map(ready_of)
                        .fold(f64::INFINITY, f64::min);
                    if new > ts {
                        ok = false;
                        notes.push(format!(
                            "pid {} (instance {}) stopped at {ts:.0} ms, replacement {on} {}",
                            o.pid,
                            o.instance.as_deref().unwrap_or("-"),
                            if new.is_finite() {
                                format!("at {new:.0} ms")
                            } else {
                                "never".to_string()
                            }
                        ));
                    }
                }
                res(
                    name,
                    ok && !old.is_empty(),
                    format!("each old worker signalled only after its replacement was {on}"),
                    if old.is_empty() {
                        "no worker was stopped".into()
                    } else if notes.is_empty() {
                        format!("{} replacements, all in order", old.len())
                    } else {
                        notes.join("; ")
                    },
                )
            }
            _ => return None,
        };
        Some(r)
    }
}
