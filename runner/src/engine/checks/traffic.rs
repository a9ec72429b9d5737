//! Checks on what clients saw: load results, slow requests and answers.

use super::{fmt_vals, res, show, timeline};
use crate::engine::ctx::Ctx;
use crate::engine::record::Worker;
use crate::engine::stats;
use crate::model::CheckResult;
use crate::suite::Check;
use std::collections::BTreeMap;

impl Ctx {
    /// Evaluates the checks of this group; `None` for other checks.
    pub(super) fn eval_traffic(&mut self, check: &Check, ws: &[Worker]) -> Option<CheckResult> {
        let name = check.kind();
        let r = match check {
            Check::EveryInstanceServes { load } => {
                let Some(r) = self.load_results.get(load) else {
                    return Some(res(
                        name,
                        false,
                        "a finished load",
                        format!("no finished load `{load}`"),
                    ));
                };
                let per = r.per_pid();
                let workers = self.load_workers(load, ws);
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
                self.values.insert("idle_workers".into(), idle as f64);
                let ok = !workers.is_empty() && idle == 0;
                res(
                    name,
                    ok,
                    format!("each of the {} listening workers serves", workers.len()),
                    format!("requests per pid {}", fmt_vals(&counts)),
                )
            }
            Check::Fairness { load, tolerance } => {
                let Some(r) = self.load_results.get(load) else {
                    return Some(res(
                        name,
                        false,
                        "a finished load",
                        format!("no finished load `{load}`"),
                    ));
                };
                let per = r.per_pid();
                let counts: Vec<u64> = self
                    .load_workers(load, ws)
                    .iter()
                    .map(|w| per.get(&w.pid.to_string()).copied().unwrap_or(0))
                    .collect();
                let dev = timeline::max_deviation(&counts);
                if let Some(d) = dev {
                    self.values.insert("fairness_max_deviation".into(), d);
                }
                let power = stats::fairness_power(counts.iter().sum(), counts.len(), *tolerance);
                self.values.extend(power.figures());
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
                let Some(r) = self.load_results.get(load) else {
                    return Some(res(
                        name,
                        false,
                        "a finished load",
                        format!("no finished load `{load}`"),
                    ));
                };
                let (f, total) = (r.failed(), r.records.len());
                self.values.insert("failed_requests".into(), f as f64);
                let reloads = self.spans.iter().filter(|s| s.kind == "reload").count();
                if reloads > 0 {
                    self.values
                        .insert("failed_per_reload".into(), f as f64 / reloads as f64);
                }
                self.values.insert("requests".into(), total as f64);
                let bound = stats::zero_failure_rate_bound(total as u64, stats::CONFIDENCE);
                self.values.insert("failure_rate_bound_999".into(), bound);
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
            Check::RequestCompleted { name: rq, ok } => {
                let Some((r, took)) = self.slow_results.get(rq) else {
                    return Some(res(
                        name,
                        false,
                        format!("request `{rq}` awaited"),
                        "not awaited",
                    ));
                };
                let got = r.is_ok();
                let obs = match r {
                    Ok((pid, _)) => format!("answered by pid {pid} after {took:.0} ms"),
                    Err(o) => format!("{} after {took:.0} ms", o.as_str()),
                };
                res(
                    name,
                    got == *ok,
                    if *ok {
                        "the request is answered"
                    } else {
                        "the request is cut"
                    },
                    obs,
                )
            }
            Check::InFlightCompleted { name: b } => {
                let Some(results) = self.bursts.get(b) else {
                    return Some(res(
                        name,
                        false,
                        format!("a `stop-during-requests` burst `{b}`"),
                        "none ran",
                    ));
                };
                let ev = crate::engine::record::read(&self.record, self.origin_epoch_ms);
                let started = ev.iter().filter(|e| e.event == "request-start").count();
                let ended = ev.iter().filter(|e| e.event == "request-end").count();
                let ok = results.iter().filter(|r| r.is_ok()).count();
                let mut by: BTreeMap<&str, usize> = BTreeMap::new();
                for r in results {
                    *by.entry(match r {
                        Ok(_) => "ok",
                        Err(o) => o.as_str(),
                    })
                    .or_default() += 1;
                }
                self.values
                    .insert("in_flight_started".into(), started as f64);
                self.values.insert("in_flight_answered".into(), ok as f64);
                res(
                    name,
                    started > 0 && ok >= started,
                    "every request the app had started is answered",
                    format!(
                        "app started {started}, finished {ended}; client outcomes {}",
                        show::pairs(&by, " ")
                    ),
                )
            }
            Check::PerInstanceState { name: rq } => {
                let answers = self.answers.get(rq).cloned().unwrap_or_default();
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
                self.values.insert("counter_max".into(), max as f64);
                self.values
                    .insert("counter_requests".into(), ok_answers as f64);
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
        Some(r)
    }
}
