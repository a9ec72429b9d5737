//! Checks on what clients saw: load results, slow requests and answers.

use super::{Evaluated, fmt_vals, res, show, timeline};
use crate::engine::observed::Observed;
use crate::engine::stats;
use crate::suite::Check;
use std::collections::BTreeMap;

/// Requests the app had started and not finished (record) when the first stopping command
/// (`stop`, `reload`, …) began: what that command's shutdown must let finish. `None` without one.
fn in_flight_at_command(obs: &Observed) -> Option<usize> {
    let t = obs
        .spans
        .iter()
        .filter(|s| super::lifecycle::STOPPING.contains(&s.kind.as_str()))
        .map(|s| s.start)
        .reduce(f64::min)?;
    let before = |ev: &'static str| obs.record.events_named(ev).filter(|e| e.t < t).count();
    Some(before("request-start").saturating_sub(before("request-end")))
}

fn no_load(name: &str, load: &str) -> Evaluated {
    Evaluated::new(res(
        name,
        false,
        "a finished load",
        format!("no finished load `{load}`"),
    ))
}

/// Evaluates the checks of this group; `None` for other checks.
pub(super) fn eval(check: &Check, obs: &Observed) -> Option<Evaluated> {
    let name = check.kind();
    let mut figs: Vec<(String, f64)> = Vec::new();
    let r = match check {
        Check::EveryInstanceServes { load } => {
            let Some(r) = obs.loads.get(load) else {
                return Some(no_load(name, load));
            };
            let per = r.per_pid();
            let workers = obs.load_workers(load);
            let counts: Vec<String> = workers
                .iter()
                .map(|w| {
                    format!(
                        "{}:{}",
                        w.pid,
                        per.get(&w.pid.to_string()).copied().unwrap_or(0)
                    )
                })
                .collect();
            let idle = workers
                .iter()
                .filter(|w| per.get(&w.pid.to_string()).copied().unwrap_or(0) == 0)
                .count();
            figs.push(("idle_workers".into(), idle as f64));
            let ok = !workers.is_empty() && idle == 0;
            res(
                name,
                ok,
                format!("each of the {} listening workers serves", workers.len()),
                format!("requests per pid {}", fmt_vals(&counts)),
            )
        }
        Check::Fairness { load, tolerance } => {
            let Some(r) = obs.loads.get(load) else {
                return Some(no_load(name, load));
            };
            let per = r.per_pid();
            let counts: Vec<u64> = obs
                .load_workers(load)
                .iter()
                .map(|w| per.get(&w.pid.to_string()).copied().unwrap_or(0))
                .collect();
            let dev = timeline::max_deviation(&counts);
            if let Some(d) = dev {
                figs.push(("fairness_max_deviation".into(), d));
            }
            let power = stats::fairness_power(counts.iter().sum(), counts.len(), *tolerance);
            figs.extend(power.figures());
            let ok = dev.is_some_and(|d| d <= power.allowed + 1e-9);
            res(
                name,
                ok,
                format!(
                    "every worker within ±{:.0}% of the mean share (wider only when too few requests were answered to keep a fair manager's false alarms under 0.1%)",
                    tolerance * 100.0
                ),
                match dev {
                    Some(d) => format!(
                        "max deviation {:.1}% over counts {}; {}",
                        d * 100.0,
                        show::list(&counts),
                        power
                    ),
                    None => "no workers".to_string(),
                },
            )
        }
        Check::FailedRequests { load, max } => {
            let Some(r) = obs.loads.get(load) else {
                return Some(no_load(name, load));
            };
            let (f, total) = (r.failed(), r.records.len());
            figs.push(("failed_requests".into(), f as f64));
            let reloads = obs.spans_of("reload").count();
            if reloads > 0 {
                figs.push(("failed_per_reload".into(), f as f64 / reloads as f64));
            }
            figs.push(("requests".into(), total as f64));
            let bound = stats::zero_failure_rate_bound(total as u64, stats::CONFIDENCE);
            figs.push(("failure_rate_bound_999".into(), bound));
            let bad: Vec<String> = r
                .outcomes()
                .into_iter()
                .filter(|(k, _)| k != "ok")
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            let claim = if f == 0 {
                format!(
                    "; at 99.9% confidence the failure rate is below {:.2e}{}",
                    bound,
                    if reloads > 0 {
                        format!(
                            " and a loss of one request per reload would have shown with p = {:.4}",
                            1.0 - stats::zero_loss_by_luck(1.0, reloads as u64)
                        )
                    } else {
                        String::new()
                    }
                )
            } else {
                String::new()
            };
            res(
                name,
                f <= *max && total > 0,
                format!("at most {max} failed requests"),
                if bad.is_empty() {
                    format!("{f} failed of {total}{claim}")
                } else {
                    format!("{f} failed of {total} ({}){claim}", fmt_vals(&bad))
                },
            )
        }
        Check::InFlightCompleted { name: b } => {
            let Some(results) = obs.bursts.get(b) else {
                return Some(Evaluated::new(res(
                    name,
                    false,
                    format!("a `stop-during-requests` or `reload-during-requests` burst `{b}`"),
                    "none ran",
                )));
            };
            let started = obs.record.events_named("request-start").count();
            let ended = obs.record.events_named("request-end").count();
            let ok = results.iter().filter(|r| r.is_ok()).count();
            let mut by: BTreeMap<&str, usize> = BTreeMap::new();
            for r in results {
                *by.entry(match r {
                    Ok(_) => "ok",
                    Err(o) => o.as_str(),
                })
                .or_default() += 1;
            }
            let at_command = in_flight_at_command(obs);
            figs.push(("in_flight_started".into(), started as f64));
            figs.push(("in_flight_answered".into(), ok as f64));
            if let Some(n) = at_command {
                figs.push(("in_flight_at_command".into(), n as f64));
            }
            // with nothing in flight when the processes were told to stop, the shutdown was not tested
            res(
                name,
                started > 0 && ok >= started && at_command.is_some_and(|n| n > 0),
                "every request the app had started is answered (at least one in flight when told to stop)",
                format!(
                    "app started {started} ({} in flight when told to stop), finished {ended}; client outcomes {}",
                    at_command.map_or("no stopping command ran".into(), |n| n.to_string()),
                    show::pairs(&by, " ")
                ),
            )
        }
        Check::PerInstanceState { name: rq } => {
            let answers = obs.answers.get(rq).cloned().unwrap_or_default();
            let mut max_by_pid: BTreeMap<String, u64> = BTreeMap::new();
            let mut ok_answers = 0u64;
            for a in &answers {
                if let (Some(pid), Some(c)) = (
                    a.get("pid").and_then(|v| v.as_u64()),
                    a.get("count").and_then(|v| v.as_u64()),
                ) {
                    ok_answers += 1;
                    let e = max_by_pid.entry(pid.to_string()).or_default();
                    *e = (*e).max(c);
                }
            }
            let max = max_by_pid.values().copied().max().unwrap_or(0);
            figs.push(("counter_max".into(), max as f64));
            figs.push(("counter_requests".into(), ok_answers as f64));
            res(
                name,
                max_by_pid.len() >= 2 && max < ok_answers,
                "each instance counts only its own hits (state is per process)",
                format!(
                    "{ok_answers} answers; highest counter per pid {}",
                    show::pairs(&max_by_pid, ": ")
                ),
            )
        }
        _ => return None,
    };
    Some(Evaluated::new(r).figs(figs))
}
