//! Evaluating the check vocabulary against what a scenario observed.

pub mod timeline;

use super::ctx::Ctx;
use super::record::Worker;
use crate::model::CheckResult;
use crate::suite::{Check, Source};
use crate::target::Proc;
use std::collections::{BTreeMap, BTreeSet};

fn res(name: &str, passed: bool, expected: impl Into<String>, observed: impl Into<String>) -> CheckResult {
    CheckResult { name: name.to_string(), passed, expected: expected.into(), observed: observed.into() }
}

fn live(p: &Proc) -> bool {
    !matches!(p.status.as_str(), "stopped" | "errored") && p.pid != 0
}

fn fmt_vals(v: &[String]) -> String {
    format!("[{}]", v.join(", "))
}

impl Ctx {
    fn snap_app(&self, label: &str, app: Option<&str>) -> Vec<Proc> {
        let name = app.unwrap_or(&self.sc.app.name);
        self.snapshots.get(label).map(|l| l.iter().filter(|p| p.name == name).cloned().collect()).unwrap_or_default()
    }

    fn window(&self, kind: &str) -> Option<(f64, f64)> {
        let spans: Vec<_> = self.spans.iter().filter(|s| s.kind == kind).collect();
        Some((spans.first()?.start, spans.last()?.end))
    }

    /// Workers that listened through the whole of load `name` (else the ones alive at its end).
    fn load_workers<'a>(&self, name: &str, ws: &'a [Worker]) -> Vec<&'a Worker> {
        let Some((a, b)) = self.window(&format!("load:{name}")) else { return Vec::new() };
        let through: Vec<&Worker> =
            ws.iter().filter(|w| w.listening_span().is_some_and(|(la, lb)| la <= a && lb >= b)).collect();
        if !through.is_empty() {
            return through;
        }
        ws.iter().filter(|w| w.listening.is_some() && w.alive_at(b)).collect()
    }

    /// Evaluates one check; adds what it measured to the figures.
    pub fn evaluate(&mut self, check: &Check, ws: &[Worker]) -> CheckResult {
        let name = check.kind();
        match check {
            Check::InstanceCount { equals, source } => {
                let n = equals.resolve(self.cpus) as usize;
                let j = self.snap_app("end", None).iter().filter(|p| p.status == "online").count();
                let r = ws.iter().filter(|w| w.end().is_none()).count();
                self.values.insert("instances_jlist".into(), j as f64);
                self.values.insert("instances_record".into(), r as f64);
                let ok = match source {
                    Source::Jlist => j == n,
                    Source::Record => r == n,
                    Source::Both => j == n && r == n,
                };
                res(name, ok, format!("{n} instances"), format!("jlist: {j} online, record: {r} running"))
            }
            Check::ExecMode { equals } => {
                let procs = self.snap_app("end", None);
                let modes: BTreeSet<String> = procs.iter().filter(|p| live(p)).map(|p| p.exec_mode.clone()).collect();
                let want_worker = equals == "cluster";
                let rec: BTreeSet<bool> = ws.iter().filter(|w| w.end().is_none()).map(|w| w.is_worker).collect();
                let ok = !modes.is_empty()
                    && modes.iter().all(|m| m.trim_end_matches("_mode") == equals.as_str())
                    && rec.iter().all(|&b| b == want_worker);
                res(
                    name,
                    ok,
                    format!("every process in {equals} mode"),
                    format!("jlist exec_mode: {:?}, record cluster.isWorker: {:?}", modes, rec),
                )
            }
            Check::Status { equals, count } => {
                let procs = self.snap_app("end", None);
                let st: Vec<String> = procs.iter().map(|p| p.status.clone()).collect();
                let n_ok = count.map(|c| c.resolve(self.cpus) as usize == procs.len()).unwrap_or(!procs.is_empty());
                let ok = n_ok && st.iter().all(|s| s == equals);
                let exp = match count {
                    Some(c) => format!("{} processes, all {equals}", c.resolve(self.cpus)),
                    None => format!("every process {equals}"),
                };
                res(name, ok, exp, format!("statuses {}", fmt_vals(&st)))
            }
            Check::EveryInstanceServes { load } => {
                let Some(r) = self.load_results.get(load) else {
                    return res(name, false, "a finished load", format!("no finished load `{load}`"));
                };
                let per = r.per_pid();
                let workers = self.load_workers(load, ws);
                let counts: Vec<String> =
                    workers.iter().map(|w| format!("{}:{}", w.pid, per.get(&w.pid.to_string()).copied().unwrap_or(0))).collect();
                let idle = workers.iter().filter(|w| per.get(&w.pid.to_string()).copied().unwrap_or(0) == 0).count();
                self.values.insert("idle_workers".into(), idle as f64);
                let ok = !workers.is_empty() && idle == 0;
                res(name, ok, format!("each of the {} listening workers serves", workers.len()), format!("requests per pid {}", fmt_vals(&counts)))
            }
            Check::Fairness { load, tolerance } => {
                let Some(r) = self.load_results.get(load) else {
                    return res(name, false, "a finished load", format!("no finished load `{load}`"));
                };
                let per = r.per_pid();
                let counts: Vec<u64> =
                    self.load_workers(load, ws).iter().map(|w| per.get(&w.pid.to_string()).copied().unwrap_or(0)).collect();
                let dev = timeline::max_deviation(&counts);
                if let Some(d) = dev {
                    self.values.insert("fairness_max_deviation".into(), d);
                }
                let ok = dev.is_some_and(|d| d <= *tolerance);
                res(
                    name,
                    ok,
                    format!("every worker within ±{:.0}% of the mean share", tolerance * 100.0),
                    match dev {
                        Some(d) => format!("max deviation {:.1}% over counts {:?}", d * 100.0, counts),
                        None => "no workers".to_string(),
                    },
                )
            }
            Check::FailedRequests { load, max } => {
                let Some(r) = self.load_results.get(load) else {
                    return res(name, false, "a finished load", format!("no finished load `{load}`"));
                };
                let (f, total) = (r.failed(), r.records.len());
                self.values.insert("failed_requests".into(), f as f64);
                self.values.insert("requests".into(), total as f64);
                let bad: Vec<String> = r.outcomes().into_iter().filter(|(k, _)| k != "ok").map(|(k, v)| format!("{k} {v}")).collect();
                res(name, f <= *max && total > 0, format!("at most {max} failed requests"), format!("{f} failed of {total} {}", fmt_vals(&bad)))
            }
            Check::AllPidsReplaced { before, after, app } => {
                let b: BTreeSet<u32> = self.snap_app(before, app.as_deref()).iter().filter(|p| live(p)).map(|p| p.pid).collect();
                let a: BTreeSet<u32> = self.snap_app(after, app.as_deref()).iter().filter(|p| live(p)).map(|p| p.pid).collect();
                let kept: Vec<String> = b.intersection(&a).map(u32::to_string).collect();
                let ok = !b.is_empty() && kept.is_empty() && a.len() == b.len();
                res(name, ok, format!("{} pids, all new", b.len()), format!("before {:?}, after {:?}", b, a))
            }
            Check::PidsUnchanged { before, after, app } => {
                let b: BTreeSet<u32> = self.snap_app(before, app.as_deref()).iter().map(|p| p.pid).collect();
                let a: BTreeSet<u32> = self.snap_app(after, app.as_deref()).iter().map(|p| p.pid).collect();
                res(name, !b.is_empty() && a == b, "the same pids", format!("before {:?}, after {:?}", b, a))
            }
            Check::InstanceValuesKept { before, after } => {
                let map = |l: Vec<Proc>| -> BTreeMap<i64, Option<String>> { l.into_iter().filter_map(|p| Some((p.pm_id?, p.instance))).collect() };
                let b = map(self.snap_app(before, None));
                let a = map(self.snap_app(after, None));
                // the record must agree: processes started after `before` carry the values of their pm_ids
                let t_before = self.values.get("snapshot_before_ms").copied().unwrap_or(0.0);
                let mut rec_vals: Vec<String> =
                    ws.iter().filter(|w| w.end().is_none() && w.start >= t_before).filter_map(|w| w.instance.clone()).collect();
                rec_vals.sort();
                let mut want: Vec<String> = b.values().flatten().cloned().collect();
                want.sort();
                let ok = !b.is_empty() && a == b && b.values().all(Option::is_some);
                res(
                    name,
                    ok,
                    format!("instance values by pm_id unchanged {:?}", b),
                    format!("after {:?}; record (live processes) {}", a, fmt_vals(&rec_vals)),
                )
            }
            Check::InstanceValues { equals, source } => {
                let mut j: Vec<String> =
                    self.snap_app("end", None).iter().filter(|p| live(p)).map(|p| p.instance.clone().unwrap_or_else(|| "-".into())).collect();
                j.sort_by_key(|v| v.parse::<i64>().unwrap_or(i64::MAX));
                let mut r: Vec<String> =
                    ws.iter().filter(|w| w.end().is_none()).map(|w| w.instance.clone().unwrap_or_else(|| "-".into())).collect();
                r.sort_by_key(|v| v.parse::<i64>().unwrap_or(i64::MAX));
                let n = match source {
                    Source::Record => r.len(),
                    _ => j.len(),
                };
                let want: Vec<String> = match equals {
                    Some(v) => v.iter().map(u32::to_string).collect(),
                    None => (0..n).map(|i| i.to_string()).collect(),
                };
                let ok = n > 0
                    && match source {
                        Source::Jlist => j == want,
                        Source::Record => r == want,
                        Source::Both => j == want && r == want,
                    };
                res(name, ok, format!("values {}", fmt_vals(&want)), format!("jlist {}, record {}", fmt_vals(&j), fmt_vals(&r)))
            }
            Check::VarAbsent { var } => {
                let rec: Vec<String> = if var == "NODE_APP_INSTANCE" {
                    ws.iter().filter_map(|w| w.node_app_instance.clone()).collect()
                } else {
                    Vec::new()
                };
                let jl: usize = self.snap_app("end", None).iter().filter(|p| p.env.get(var).is_some()).count();
                res(
                    name,
                    !ws.is_empty() && rec.is_empty() && jl == 0,
                    format!("`{var}` set in no process"),
                    format!("{} of {} processes saw it {}; {jl} jlist entries carry it", rec.len(), ws.len(), fmt_vals(&rec)),
                )
            }
            Check::AtLeastOneListening { during } => {
                let Some((a, b)) = self.window(during) else {
                    return res(name, false, format!("a `{during}` step"), "none ran");
                };
                let (m, at) = timeline::min_listening(ws, a, b);
                self.values.insert("min_listening".into(), m as f64);
                res(name, m >= 1, format!("at least 1 listening during {during} ({a:.0}–{b:.0} ms)"), format!("minimum {m} at {at:.0} ms"))
            }
            Check::OneAtATime { during } => {
                let Some((a, b)) = self.window(during) else {
                    return res(name, false, format!("a `{during}` step"), "none ran");
                };
                let base = timeline::alive_at(ws, a);
                let (m, at) = timeline::max_alive(ws, a, b);
                self.values.insert("max_alive".into(), m as f64);
                res(name, m <= base + 1, format!("at most {} alive ({base} + 1 being replaced)", base + 1), format!("{m} alive at {at:.0} ms"))
            }
            Check::ExitCode { step, equals, nonzero } => {
                let codes: Vec<Option<i32>> = self.spans.iter().filter(|s| &s.kind == step).map(|s| s.exit).collect();
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
                res(name, ok, exp, format!("exit codes {:?}", codes.iter().map(|c| c.map_or("killed".into(), |c| c.to_string())).collect::<Vec<_>>()))
            }
            Check::StepDuration { step, min_ms, max_ms } => {
                let d: Vec<f64> = self.spans.iter().filter(|s| &s.kind == step).map(|s| s.end - s.start).collect();
                let lo = min_ms.map(|m| m as f64 - 100.0 * self.scale).unwrap_or(f64::NEG_INFINITY);
                let hi = max_ms.map(|m| m as f64 * self.scale).unwrap_or(f64::INFINITY);
                let ok = !d.is_empty() && d.iter().all(|x| *x >= lo && *x <= hi);
                res(
                    name,
                    ok,
                    format!("`{step}` takes {}–{} ms", min_ms.map_or("0".into(), |m| m.to_string()), max_ms.map_or("∞".into(), |m| m.to_string())),
                    format!("{:?} ms", d.iter().map(|x| x.round() as i64).collect::<Vec<_>>()),
                )
            }
            Check::Signals { first, kill_after_ms, tolerance_ms, max_ms } => {
                let tol = *tolerance_ms as f64 * self.scale;
                let signalled: Vec<&Worker> = ws.iter().filter(|w| w.first_signal.is_some()).collect();
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
                        self.values.insert(format!("signal_to_death_ms.{}", w.pid), a);
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
                res(name, ok, exp, if notes.is_empty() { "no process saw a signal".into() } else { notes.join("; ") })
            }
            Check::RequestCompleted { name: rq, ok } => {
                let Some((r, took)) = self.slow_results.get(rq) else {
                    return res(name, false, format!("request `{rq}` awaited"), "not awaited");
                };
                let got = r.is_ok();
                let obs = match r {
                    Ok((pid, _)) => format!("answered by pid {pid} after {took:.0} ms"),
                    Err(o) => format!("{} after {took:.0} ms", o.as_str()),
                };
                res(name, got == *ok, if *ok { "the request is answered" } else { "the request is cut" }, obs)
            }
            Check::InFlightCompleted { name: b } => {
                let Some(results) = self.bursts.get(b) else {
                    return res(name, false, format!("a `stop-during-requests` burst `{b}`"), "none ran");
                };
                let ev = super::record::read(&self.record, self.origin_epoch_ms);
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
                self.values.insert("in_flight_started".into(), started as f64);
                self.values.insert("in_flight_answered".into(), ok as f64);
                res(
                    name,
                    started > 0 && ok >= started,
                    "every request the app had started is answered",
                    format!("app started {started}, finished {ended}; client outcomes {:?}", by),
                )
            }
            Check::ExactlyOneInstanceZero {} => {
                let samples = self.samples.lock().unwrap().clone();
                let app = self.sc.app.name.clone();
                let bad: Vec<String> = samples
                    .iter()
                    .filter_map(|s| {
                        let k = s.procs.iter().filter(|p| p.name == app && p.instance.as_deref() == Some("0")).count();
                        (k != 1).then(|| format!("{k} at {:.0}–{:.0} ms", s.t_start, s.t_end))
                    })
                    .collect();
                self.values.insert("samples".into(), samples.len() as f64);
                self.values.insert("samples_without_one_instance_zero".into(), bad.len() as f64);
                res(
                    name,
                    !samples.is_empty() && bad.is_empty(),
                    "exactly one process with instance 0 in every jlist sample",
                    format!("{} samples, {} wrong{}", samples.len(), bad.len(), if bad.is_empty() { String::new() } else { format!(" (first: {})", bad[0]) }),
                )
            }
            Check::OnlineAfterReady { tolerance_ms } => {
                let samples = self.samples.lock().unwrap().clone();
                let app = self.sc.app.name.clone();
                let ready: BTreeMap<u32, Option<f64>> = ws.iter().map(|w| (w.pid, w.ready)).collect();
                let mut seen_online = 0;
                let mut bad = Vec::new();
                for s in &samples {
                    for p in s.procs.iter().filter(|p| p.name == app && p.status == "online") {
                        seen_online += 1;
                        match ready.get(&p.pid).copied().flatten() {
                            Some(r) if r <= s.t_end + *tolerance_ms as f64 => {}
                            Some(r) => bad.push(format!("pid {} online at {:.0} ms, ready at {r:.0} ms", p.pid, s.t_end)),
                            None => bad.push(format!("pid {} online at {:.0} ms, never ready", p.pid, s.t_end)),
                        }
                    }
                }
                res(
                    name,
                    seen_online > 0 && bad.is_empty(),
                    "no process shown online before it sent ready",
                    if bad.is_empty() { format!("{} online observations over {} samples, all after ready", seen_online, samples.len()) } else { bad[0].clone() },
                )
            }
            Check::ReplacedAfterReady { during, on } => {
                let Some((a, b)) = self.window(during) else {
                    return res(name, false, format!("a `{during}` step"), "none ran");
                };
                let mut notes = Vec::new();
                let mut ok = true;
                // told to stop: its first signal, or its exit when it was stopped another way (cluster disconnect)
                let stop_t = |w: &Worker| w.first_signal.as_ref().map(|s| s.0).or(w.end());
                let old: Vec<&Worker> = ws.iter().filter(|w| stop_t(w).is_some_and(|t| t >= a && t <= b)).collect();
                for o in &old {
                    let ts = stop_t(o).unwrap_or_default();
                    let ready_of = |w: &Worker| if on == "listening" { w.listening } else { w.ready };
                    let new = ws.iter().filter(|w| w.start > o.start && w.instance == o.instance).filter_map(ready_of).fold(f64::INFINITY, f64::min);
                    if new > ts {
                        ok = false;
                        notes.push(format!(
                            "pid {} (instance {}) stopped at {ts:.0} ms, replacement {on} {}",
                            o.pid,
                            o.instance.as_deref().unwrap_or("-"),
                            if new.is_finite() { format!("at {new:.0} ms") } else { "never".to_string() }
                        ));
                    }
                }
                res(
                    name,
                    ok && !old.is_empty(),
                    format!("each old worker signalled only after its replacement was {on}"),
                    if old.is_empty() { "no worker was stopped".into() } else if notes.is_empty() { format!("{} replacements, all in order", old.len()) } else { notes.join("; ") },
                )
            }
            Check::Restarts { .. } | Check::StartRate { .. } | Check::NoOrphans {} | Check::LogsContain { .. } => {
                self.evaluate_fault(check)
            }
            Check::PerInstanceState { name: rq } => {
                let answers = self.answers.get(rq).cloned().unwrap_or_default();
                let mut max_by_pid: BTreeMap<String, u64> = BTreeMap::new();
                let mut ok_answers = 0u64;
                for a in &answers {
                    if let (Some(pid), Some(c)) = (a.get("pid").and_then(|v| v.as_u64()), a.get("count").and_then(|v| v.as_u64())) {
                        ok_answers += 1;
                        let e = max_by_pid.entry(pid.to_string()).or_default();
                        *e = (*e).max(c);
                    }
                }
                let max = max_by_pid.values().copied().max().unwrap_or(0);
                self.values.insert("counter_max".into(), max as f64);
                self.values.insert("counter_requests".into(), ok_answers as f64);
                res(
                    name,
                    max_by_pid.len() >= 2 && max < ok_answers,
                    "each instance counts only its own hits (state is per process)",
                    format!("{ok_answers} answers; highest counter per pid {:?}", max_by_pid),
                )
            }
        }
    }
}
