//! Checks on the time line: listening coverage, replacement order, signals, exit codes and durations.

use super::{Evaluated, res, show, timeline};
use crate::engine::observed::Observed;
use crate::engine::record::Worker;
use crate::suite::Check;

/// Step kinds that tell running processes to stop.
/// The step kinds that tell processes to stop.
pub(super) const STOPPING: [&str; 4] = ["stop", "reload", "restart", "delete"];

fn no_step(name: &str, during: &str) -> Evaluated {
    Evaluated::new(res(name, false, format!("a `{during}` step"), "none ran"))
}

/// Evaluates the checks of this group; `None` for other checks.
pub(super) fn eval(check: &Check, obs: &Observed) -> Option<Evaluated> {
    let name = check.kind();
    let ws = &obs.record.workers;
    let r = match check {
        Check::AtLeastOneListening { during } => {
            let Some((a, b)) = obs.window(during) else {
                return Some(no_step(name, during));
            };
            let (m, at) = timeline::min_listening(ws, a, b);
            Evaluated::new(res(
                name,
                m >= 1,
                format!("at least 1 listening during {during} ({a:.0}–{b:.0} ms)"),
                format!("minimum {m} at {at:.0} ms"),
            ))
            .fig("min_listening", m as f64)
        }
        Check::OneAtATime { during } => {
            let Some((a, b)) = obs.window(during) else {
                return Some(no_step(name, during));
            };
            let base = timeline::alive_at(ws, a);
            let (m, at) = timeline::max_alive(ws, a, b);
            Evaluated::new(res(
                name,
                m <= base + 1,
                format!("at most {} alive ({base} + 1 being replaced)", base + 1),
                format!("{m} alive at {at:.0} ms"),
            ))
            .fig("max_alive", m as f64)
        }
        Check::ExitCode {
            step,
            equals,
            nonzero,
        } => {
            let codes: Vec<Option<i32>> = obs.spans_of(step).map(|s| s.exit).collect();
            let ok = !codes.is_empty()
                && (equals.is_some() || *nonzero)
                && codes.iter().all(|c| match equals {
                    Some(e) => *c == Some(*e),
                    None => c.is_some_and(|c| c != 0),
                });
            let exp = match (equals, nonzero) {
                (Some(e), _) => format!("`{step}` exits {e}"),
                (None, true) => format!("`{step}` exits non-zero"),
                (None, false) => "an expected exit code (`equals` or `nonzero`)".to_string(),
            };
            let codes: Vec<String> = codes
                .iter()
                .map(|c| c.map_or("killed".into(), |c| c.to_string()))
                .collect();
            Evaluated::new(res(
                name,
                ok,
                exp,
                format!("exit codes {}", show::list(&codes)),
            ))
        }
        Check::StepDuration {
            step,
            min_ms,
            max_ms,
        } => {
            let d: Vec<f64> = obs.spans_of(step).map(|s| s.end - s.start).collect();
            let lo = min_ms
                .map(|m| m as f64 - 100.0 * obs.scale)
                .unwrap_or(f64::NEG_INFINITY);
            let hi = max_ms
                .map(|m| m as f64 * obs.scale)
                .unwrap_or(f64::INFINITY);
            let ok = !d.is_empty() && d.iter().all(|x| *x >= lo && *x <= hi);
            Evaluated::new(res(
                name,
                ok,
                format!(
                    "`{step}` takes {}–{} ms",
                    min_ms.map_or("0".into(), |m| m.to_string()),
                    max_ms.map_or("∞".into(), |m| m.to_string())
                ),
                format!("{} ms", show::list(d.iter().map(|x| x.round() as i64))),
            ))
        }
        Check::Signals {
            first,
            kill_after_ms,
            tolerance_ms,
            max_ms,
        } => signals(name, obs, first, *kill_after_ms, *tolerance_ms, *max_ms),
        Check::ReplacedAfterReady { during, on } => {
            let Some((a, b)) = obs.window(during) else {
                return Some(no_step(name, during));
            };
            replaced_after_ready(name, ws, (a, b), on.as_str())
        }
        _ => return None,
    };
    Some(r)
}

/// The processes expected to get a stop signal: those running when the first stopping step began
/// (else, with no such step, those that saw a signal).
fn expected_to_stop(obs: &Observed) -> Vec<&Worker> {
    let ws = &obs.record.workers;
    let first_stop = obs
        .spans
        .iter()
        .filter(|s| STOPPING.contains(&s.kind.as_str()))
        .map(|s| s.start)
        .reduce(f64::min);
    match first_stop {
        Some(t) => ws
            .iter()
            .filter(|w| {
                w.start <= t
                    && w.end().is_none_or(|e| e > t)
                    && w.first_signal.as_ref().is_none_or(|s| s.0 >= t)
            })
            .collect(),
        None => ws.iter().filter(|w| w.first_signal.is_some()).collect(),
    }
}

fn signals(
    name: &str,
    obs: &Observed,
    first: &str,
    kill_after_ms: Option<u64>,
    tolerance_ms: u64,
    max_ms: Option<u64>,
) -> Evaluated {
    let tol = tolerance_ms as f64 * obs.scale;
    let expected = expected_to_stop(obs);
    let mut notes = Vec::new();
    let mut figs = Vec::new();
    let mut ok = !expected.is_empty();
    for w in &expected {
        let Some((ts, s)) = w.first_signal.clone() else {
            ok = false;
            notes.push(format!(
                "pid {}: no signal{}",
                w.pid,
                w.end()
                    .map_or(", still running".into(), |e| format!(", gone at {e:.0} ms"))
            ));
            continue;
        };
        if s != first {
            ok = false;
        }
        let after = w.end().map(|e| e - ts);
        // every later signal, and the end, on the record's clock
        let later: Vec<f64> = obs
            .record
            .events_named("signal")
            .filter(|e| e.pid == w.pid && e.t > ts)
            .map(|e| e.t)
            .collect();
        if let Some(k) = kill_after_ms {
            let floor = ts + k as f64 - tol;
            let early_signal = later.iter().any(|t| *t < floor);
            let early_end = w.end().is_some_and(|e| e < floor);
            if early_signal || early_end {
                ok = false;
            }
        }
        match (max_ms, after) {
            (Some(m), Some(a)) if a > m as f64 * obs.scale => ok = false,
            (Some(_), None) => ok = false,
            _ => {}
        }
        if let Some(a) = after {
            figs.push((format!("signal_to_death_ms.{}", w.pid), a));
        }
        let then: Vec<String> = later.iter().map(|t| format!("+{:.0}", t - ts)).collect();
        notes.push(format!(
            "pid {}: {}{} then {} after {}",
            w.pid,
            w.signals.join("+"),
            if then.is_empty() {
                String::new()
            } else {
                format!(" (later ones at {} ms)", then.join(", "))
            },
            if w.exit.is_some() { "exit" } else { "killed" },
            after.map_or("? (still running)".into(), |a| format!("{a:.0} ms"))
        ));
    }
    let mut exp = format!("every stopped process gets {first} first");
    if let Some(k) = kill_after_ms {
        exp += &format!(", nothing else and no death before {k} ms (−{tol:.0})");
    }
    if let Some(m) = max_ms {
        exp += &format!(", dead within {m} ms");
    }
    Evaluated::new(res(
        name,
        ok,
        exp,
        if notes.is_empty() {
            "no process was running when told to stop".into()
        } else {
            notes.join("; ")
        },
    ))
    .figs(figs)
    .fig("signalled_expected", expected.len() as f64)
}

fn replaced_after_ready(name: &str, ws: &[Worker], (a, b): (f64, f64), on: &str) -> Evaluated {
    let mut notes = Vec::new();
    let mut ok = true;
    // told to stop: its first signal, or its exit when it was stopped another way (cluster disconnect)
    let stop_t = |w: &Worker| w.first_signal.as_ref().map(|s| s.0).or(w.end());
    let old: Vec<&Worker> = ws
        .iter()
        .filter(|w| stop_t(w).is_some_and(|t| t >= a && t <= b))
        .collect();
    let ready_of = |w: &Worker| {
        if on == "listening" {
            w.listening
        } else {
            w.ready
        }
    };
    for o in &old {
        let ts = stop_t(o).unwrap_or_default();
        let Some(value) = o.instance.as_deref() else {
            ok = false;
            notes.push(format!(
                "pid {} has no instance value: its replacement cannot be told apart",
                o.pid
            ));
            continue;
        };
        let new = ws
            .iter()
            .filter(|w| w.start > o.start && w.instance.as_deref() == Some(value))
            .filter_map(ready_of)
            .fold(f64::INFINITY, f64::min);
        if new > ts {
            ok = false;
            notes.push(format!(
                "pid {} (instance {value}) stopped at {ts:.0} ms, replacement {on} {}",
                o.pid,
                if new.is_finite() {
                    format!("at {new:.0} ms")
                } else {
                    "never".to_string()
                }
            ));
        }
    }
    Evaluated::new(res(
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
    ))
}
