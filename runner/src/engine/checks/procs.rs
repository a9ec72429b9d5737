//! Checks on processes: counts, modes and statuses. The fixtures' record is the truth; `jlist` is a claim
//! each check cross-checks against it, so a manager whose `jlist` lies fails.

use super::{Evaluated, fmt_vals, live, res, show};
use crate::engine::observed::Observed;
use crate::suite::{Check, Source};
use std::collections::BTreeSet;

/// Evaluates the checks of this group; `None` for other checks.
pub(super) fn eval(check: &Check, obs: &Observed) -> Option<Evaluated> {
    let name = check.kind();
    let r = match check {
        Check::InstanceCount { equals, source } => {
            let n = equals.resolve(obs.cpus) as usize;
            let j = obs
                .snap_app("end", None)
                .iter()
                .filter(|p| p.status == "online")
                .count();
            let r = obs.record.live().count();
            let ok = match source {
                Source::Jlist => j == n,
                Source::Record => r == n,
                Source::Both => j == n && r == n,
            };
            Evaluated::new(res(
                name,
                ok,
                format!("{n} instances"),
                format!("jlist: {j} online, record: {r} running"),
            ))
            .fig("instances_jlist", j as f64)
            .fig("instances_record", r as f64)
        }
        Check::ExecMode { equals } => {
            let procs = obs.snap_app("end", None);
            let modes: BTreeSet<String> = procs
                .iter()
                .filter(|p| live(p))
                .map(|p| p.exec_mode.clone())
                .collect();
            let want_worker = equals == "cluster";
            let rec: BTreeSet<bool> = obs.record.live().map(|w| w.is_worker).collect();
            let ok = !modes.is_empty()
                && !rec.is_empty()
                && modes
                    .iter()
                    .all(|m| m.trim_end_matches("_mode") == equals.as_str())
                && rec.iter().all(|&b| b == want_worker);
            Evaluated::new(res(
                name,
                ok,
                format!("every process in {equals} mode"),
                format!(
                    "jlist exec_mode: {}; record cluster.isWorker: {}",
                    show::list(&modes),
                    show::list(&rec)
                ),
            ))
        }
        Check::Status { equals, count } => {
            let procs = obs.snap_app("end", None);
            let st: Vec<String> = procs.iter().map(|p| p.status.clone()).collect();
            let n_ok = count
                .map(|c| c.resolve(obs.cpus) as usize == procs.len())
                .unwrap_or(!procs.is_empty());
            // the record knows whether processes run: online ones must be the live pids, stopped or
            // errored ones must have none left
            let live: BTreeSet<u32> = obs.record.live().map(|w| w.pid).collect();
            let (rec_ok, rec_note) = match equals.as_str() {
                "online" => {
                    let claimed: BTreeSet<u32> = procs.iter().map(|p| p.pid).collect();
                    (
                        claimed == live,
                        format!(
                            "record: live pids {}; jlist pids {}",
                            show::list(&live),
                            show::list(&claimed)
                        ),
                    )
                }
                "stopped" | "errored" => (
                    live.is_empty(),
                    format!("record: {} processes still running", live.len()),
                ),
                _ => (true, String::new()),
            };
            let ok = n_ok && rec_ok && st.iter().all(|s| s == equals);
            let exp = match count {
                Some(c) => format!("{} processes, all {equals}", c.resolve(obs.cpus)),
                None => format!("every process {equals}"),
            };
            let mut seen = format!("statuses {}", fmt_vals(&st));
            if !rec_note.is_empty() {
                seen = format!("{seen}; {rec_note}");
            }
            Evaluated::new(res(name, ok, exp, seen)).fig("record_live", live.len() as f64)
        }
        Check::VarAbsent { var } => {
            let ws = &obs.record.workers;
            let rec: Vec<String> = if var == "NODE_APP_INSTANCE" {
                ws.iter()
                    .filter_map(|w| w.node_app_instance.clone())
                    .collect()
            } else {
                Vec::new()
            };
            let jl: usize = obs
                .snap_app("end", None)
                .iter()
                .filter(|p| p.env.get(var).is_some())
                .count();
            Evaluated::new(res(
                name,
                !ws.is_empty() && rec.is_empty() && jl == 0,
                format!("`{var}` set in no process"),
                format!(
                    "{} of {} processes saw it (values: {}); {jl} jlist entries carry it",
                    rec.len(),
                    ws.len(),
                    fmt_vals(&rec)
                ),
            ))
        }
        _ => return None,
    };
    Some(r)
}
