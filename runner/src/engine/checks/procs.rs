//! Checks on processes: counts, modes, statuses, pids and instance values (jlist and record).

use super::{fmt_vals, live, res, show};
use crate::engine::ctx::Ctx;
use crate::engine::record::Worker;
use crate::model::CheckResult;
use crate::suite::{Check, Source};
use crate::target::Proc;
use std::collections::{BTreeMap, BTreeSet};

impl Ctx {
    /// Evaluates the checks of this group; `None` for other checks.
    pub(super) fn eval_procs(&mut self, check: &Check, ws: &[Worker]) -> Option<CheckResult> {
        let name = check.kind();
        let r = match check {
            Check::InstanceCount { equals, source } => {
                let n = equals.resolve(self.cpus) as usize;
                let j = self
                    .snap_app("end", None)
                    .iter()
                    .filter(|p| p.status == "online")
                    .count();
                let r = ws.iter().filter(|w| w.end().is_none()).count();
                self.values.insert("instances_jlist".into(), j as f64);
                self.values.insert("instances_record".into(), r as f64);
                let ok = match source {
                    Source::Jlist => j == n,
                    Source::Record => r == n,
                    Source::Both => j == n && r == n,
                };
                res(
                    name,
                    ok,
                    format!("{n} instances"),
                    format!("jlist: {j} online, record: {r} running"),
                )
            }
            Check::ExecMode { equals } => {
                let procs = self.snap_app("end", None);
                let modes: BTreeSet<String> = procs
                    .iter()
                    .filter(|p| live(p))
                    .map(|p| p.exec_mode.clone())
                    .collect();
                let want_worker = equals == "cluster";
                let rec: BTreeSet<bool> = ws
                    .iter()
                    .filter(|w| w.end().is_none())
                    .map(|w| w.is_worker)
                    .collect();
                let ok = !modes.is_empty()
                    && modes
                        .iter()
                        .all(|m| m.trim_end_matches("_mode") == equals.as_str())
                    && rec.iter().all(|&b| b == want_worker);
                res(
                    name,
                    ok,
                    format!("every process in {equals} mode"),
                    format!(
                        "jlist exec_mode: {}; record cluster.isWorker: {}",
                        show::list(&modes),
                        show::list(&rec)
                    ),
                )
            }
            Check::Status { equals, count } => {
                let procs = self.snap_app("end", None);
                let st: Vec<String> = procs.iter().map(|p| p.status.clone()).collect();
                let n_ok = count
                    .map(|c| c.resolve(self.cpus) as usize == procs.len())
                    .unwrap_or(!procs.is_empty());
                let ok = n_ok && st.iter().all(|s| s == equals);
                let exp = match count {
                    Some(c) => format!("{} processes, all {equals}", c.resolve(self.cpus)),
                    None => format!("every process {equals}"),
                };
                res(name, ok, exp, format!("statuses {}", fmt_vals(&st)))
            }
            Check::AllPidsReplaced { before, after, app } => {
                let b: BTreeSet<u32> = self
                    .snap_app(before, app.as_deref())
                    .iter()
                    .filter(|p| live(p))
                    .map(|p| p.pid)
                    .collect();
                let a: BTreeSet<u32> = self
                    .snap_app(after, app.as_deref())
                    .iter()
                    .filter(|p| live(p))
                    .map(|p| p.pid)
                    .collect();
                let kept: Vec<String> = b.intersection(&a).map(u32::to_string).collect();
                let ok = !b.is_empty() && kept.is_empty() && a.len() == b.len();
                res(
                    name,
                    ok,
                    format!("{} pids, all new", b.len()),
                    format!("before {}; after {}", show::list(&b), show::list(&a)),
                )
            }
            Check::PidsUnchanged { before, after, app } => {
                let b: BTreeSet<u32> = self
                    .snap_app(before, app.as_deref())
                    .iter()
                    .map(|p| p.pid)
                    .collect();
                let a: BTreeSet<u32> = self
                    .snap_app(after, app.as_deref())
                    .iter()
                    .map(|p| p.pid)
                    .collect();
                res(
                    name,
                    !b.is_empty() && a == b,
                    "the same pids",
                    format!("before {}; after {}", show::list(&b), show::list(&a)),
                )
            }
            Check::InstanceValuesKept { before, after } => {
                let map = |l: Vec<Proc>| -> BTreeMap<i64, Option<String>> {
                    l.into_iter()
                        .filter_map(|p| Some((p.pm_id?, p.instance)))
                        .collect()
                };
                let b = map(self.snap_app(before, None));
                let a = map(self.snap_app(after, None));
                // the record must agree: processes started after `before` carry the values of their pm_ids
                let t_before = self
                    .values
                    .get("snapshot_before_ms")
                    .copied()
                    .unwrap_or(0.0);
                let mut rec_vals: Vec<String> = ws
                    .iter()
                    .filter(|w| w.end().is_none() && w.start >= t_before)
                    .filter_map(|w| w.instance.clone())
                    .collect();
                rec_vals.sort();
                let mut want: Vec<String> = b.values().flatten().cloned().collect();
                want.sort();
                let ok = !b.is_empty() && a == b && b.values().all(Option::is_some);
                res(
                    name,
                    ok,
                    format!(
                        "instance values by pm_id unchanged: {}",
                        show::pairs(b.iter().map(|(k, v)| (k, show::opt(v.as_ref()))), " → ")
                    ),
                    format!(
                        "after {}; record (live processes) {}",
                        show::pairs(a.iter().map(|(k, v)| (k, show::opt(v.as_ref()))), " → "),
                        fmt_vals(&rec_vals)
                    ),
                )
            }
            Check::InstanceValues { equals, source } => {
                let mut j: Vec<String> = self
                    .snap_app("end", None)
                    .iter()
                    .filter(|p| live(p))
                    .map(|p| p.instance.clone().unwrap_or_else(|| "-".into()))
                    .collect();
                j.sort_by_key(|v| v.parse::<i64>().unwrap_or(i64::MAX));
                let mut r: Vec<String> = ws
                    .iter()
                    .filter(|w| w.end().is_none())
                    .map(|w| w.instance.clone().unwrap_or_else(|| "-".into()))
                    .collect();
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
                res(
                    name,
                    ok,
                    format!("values {}", fmt_vals(&want)),
                    format!("jlist {}; record {}", fmt_vals(&j), fmt_vals(&r)),
                )
            }
            Check::VarAbsent { var } => {
                let rec: Vec<String> = if var == "NODE_APP_INSTANCE" {
                    ws.iter()
                        .filter_map(|w| w.node_app_instance.clone())
                        .collect()
                } else {
                    Vec::new()
                };
                let jl: usize = self
                    .snap_app("end", None)
                    .iter()
                    .filter(|p| p.env.get(var).is_some())
                    .count();
                res(
                    name,
                    !ws.is_empty() && rec.is_empty() && jl == 0,
                    format!("`{var}` set in no process"),
                    format!(
                        "{} of {} processes saw it (values: {}); {jl} jlist entries carry it",
                        rec.len(),
                        ws.len(),
                        fmt_vals(&rec)
                    ),
                )
            }
            Check::ExactlyOneInstanceZero {} => {
                let samples = self.samples.lock().unwrap().clone();
                let app = self.sc.app.name.clone();
                let bad: Vec<String> = samples
                    .iter()
                    .filter_map(|s| {
                        let k = s
                            .procs
                            .iter()
                            .filter(|p| p.name == app && p.instance.as_deref() == Some("0"))
                            .count();
                        (k != 1).then(|| format!("{k} at {:.0}–{:.0} ms", s.t_start, s.t_end))
                    })
                    .collect();
                self.values.insert("samples".into(), samples.len() as f64);
                self.values
                    .insert("samples_without_one_instance_zero".into(), bad.len() as f64);
                res(
                    name,
                    !samples.is_empty() && bad.is_empty(),
                    "exactly one process with instance 0 in every jlist sample",
                    format!(
                        "{} samples, {} wrong{}",
                        samples.len(),
                        bad.len(),
                        if bad.is_empty() {
                            String::new()
                        } else {
                            format!(" (first: {})", bad[0])
                        }
                    ),
                )
            }
            Check::OnlineAfterReady { tolerance_ms } => {
                let samples = self.samples.lock().unwrap().clone();
                let app = self.sc.app.name.clone();
                let ready: BTreeMap<u32, Option<f64>> =
                    ws.iter().map(|w| (w.pid, w.ready)).collect();
                let mut seen_online = 0;
                let mut bad = Vec::new();
                for s in &samples {
                    for p in s
                        .procs
                        .iter()
                        .filter(|p| p.name == app && p.status == "online")
                    {
                        seen_online += 1;
                        match ready.get(&p.pid).copied().flatten() {
                            Some(r) if r <= s.t_end + *tolerance_ms as f64 => {}
                            Some(r) => bad.push(format!(
                                "pid {} online at {:.0} ms, ready at {r:.0} ms",
                                p.pid, s.t_end
                            )),
                            None => bad.push(format!(
                                "pid {} online at {:.0} ms, never ready",
                                p.pid, s.t_end
                            )),
                        }
                    }
                }
                res(
                    name,
                    seen_online > 0 && bad.is_empty(),
                    "no process shown online before it sent ready",
                    if bad.is_empty() {
                        format!(
                            "{} online observations over {} samples, all after ready",
                            seen_online,
                            samples.len()
                        )
                    } else {
                        bad[0].clone()
                    },
                )
            }
            _ => return None,
        };
        Some(r)
    }
}
