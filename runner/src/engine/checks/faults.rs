//! The faults suite's checks: restart counts (record, cross-checked with `jlist`), crash-loop start rates,
//! orphans after a daemon kill, log text.

use super::{Evaluated, res};
use crate::engine::observed::Observed;
use crate::suite::Check;
use std::collections::BTreeSet;

/// Evaluates the checks of this group; `None` for other checks.
pub(super) fn eval(check: &Check, obs: &Observed) -> Option<Evaluated> {
    let name = check.kind();
    let r = match check {
        Check::Restarts { min, max } => {
            // the record: every start of an instance value after its first is a restart
            let ws = &obs.record.workers;
            let values: BTreeSet<Option<&str>> = ws.iter().map(|w| w.instance.as_deref()).collect();
            let rec = ws.len() as i64 - values.len() as i64;
            let procs = obs.snap_app("end", None);
            let claimed: i64 = procs.iter().map(|p| p.restart_time).sum();
            let in_range = |n: i64| min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m);
            let ok = !ws.is_empty() && in_range(rec) && claimed == rec;
            let want = match (min, max) {
                (Some(a), Some(b)) if a == b => format!("{a} restarts"),
                (a, b) => format!(
                    "between {} and {} restarts",
                    a.unwrap_or(0),
                    b.map_or("any".into(), |b| b.to_string())
                ),
            };
            Evaluated::new(res(
                name,
                ok,
                format!("{want} (record), and jlist's restart_time agrees"),
                format!(
                    "record: {rec} ({} starts of {} instance values); jlist: {claimed} (restart_time summed over {} processes)",
                    ws.len(),
                    values.len(),
                    procs.len()
                ),
            ))
            .fig("restarts", rec as f64)
            .fig("restarts_jlist", claimed as f64)
        }
        Check::StartRate {
            max_per_s,
            max_total,
            quiet_after,
        } => {
            let mut starts: Vec<f64> = obs.record.events_named("start").map(|e| e.t).collect();
            starts.sort_by(f64::total_cmp);
            let peak = (0..starts.len())
                .map(|i| {
                    starts[i..]
                        .iter()
                        .take_while(|t| **t < starts[i] + 1000.0)
                        .count()
                })
                .max()
                .unwrap_or(0);
            let quiet_from = quiet_after
                .as_ref()
                .and_then(|k| obs.spans_of(k).next())
                .map(|s| s.end + 1000.0);
            let late = quiet_from.map_or(0, |q| starts.iter().filter(|t| **t > q).count());
            let ok = !starts.is_empty()
                && peak <= *max_per_s as usize
                && max_total.is_none_or(|m| starts.len() <= m as usize)
                && late == 0;
            let mut want = format!("at most {max_per_s} starts in any 1 s");
            if let Some(m) = max_total {
                want.push_str(&format!(", at most {m} in all"));
            }
            if let Some(k) = quiet_after {
                want.push_str(&format!(", none after `{k}`"));
            }
            Evaluated::new(res(
                name,
                ok,
                want,
                format!(
                    "{peak} in the busiest second, {} in all, {late} after",
                    starts.len()
                ),
            ))
            .fig("starts.total", starts.len() as f64)
            .fig("starts.peak_per_s", peak as f64)
        }
        Check::NoOrphans {} => match obs.daemon {
            Some(d) => Evaluated::new(res(
                name,
                d.workers_before > 0 && d.workers_alive_after == 0,
                "no app process outlives the killed daemon",
                format!(
                    "{} of {} still running",
                    d.workers_alive_after, d.workers_before
                ),
            )),
            None => Evaluated::new(res(name, false, "a `kill-daemon` step", "none ran")),
        },
        Check::LogsContain { text } => {
            let logs = obs.logs.as_deref().unwrap_or("");
            let ok = logs.to_lowercase().contains(&text.to_lowercase());
            let tail: String = logs.lines().rev().take(3).collect::<Vec<_>>().join(" | ");
            Evaluated::new(res(
                name,
                ok,
                format!("logs mention `{text}`"),
                if ok {
                    format!("found in {} lines", logs.lines().count())
                } else {
                    format!("not found; last lines: {tail}")
                },
            ))
        }
        _ => return None,
    };
    Some(r)
}
