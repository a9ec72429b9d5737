//! Checks over the background `jlist` samples, judged against the record over the same window: instance 0
//! always present, nothing shown online before it was ready. Failed samples are counted and reported.

use super::{Evaluated, res, timeline};
use crate::engine::observed::{Observed, Sample};
use crate::suite::Check;
use crate::target::Proc;
use std::collections::BTreeMap;

fn ok_samples(obs: &Observed) -> impl Iterator<Item = (&Sample, &Vec<Proc>)> {
    obs.samples
        .iter()
        .filter_map(|s| s.procs.as_ref().ok().map(|p| (s, p)))
}

fn failed_note(obs: &Observed) -> (usize, String) {
    let failed: Vec<&String> = obs
        .samples
        .iter()
        .filter_map(|s| s.procs.as_ref().err())
        .collect();
    let note = match failed.first() {
        None => String::new(),
        Some(e) => format!("; {} samples failed (first: {e})", failed.len()),
    };
    (failed.len(), note)
}

/// Evaluates the checks of this group; `None` for other checks.
pub(super) fn eval(check: &Check, obs: &Observed) -> Option<Evaluated> {
    let name = check.kind();
    let (n_failed, failed) = failed_note(obs);
    let r = match check {
        Check::ExactlyOneInstanceZero {} => {
            let ws = &obs.record.workers;
            let window = obs
                .samples
                .first()
                .zip(obs.samples.last())
                .map(|(a, b)| (a.t_start, b.t_end));
            // the record: some process with instance 0 runs at every moment of the sampled window
            let zeros: Vec<_> = ws
                .iter()
                .filter(|w| w.instance.as_deref() == Some("0"))
                .cloned()
                .collect();
            let gap = window.and_then(|(a, b)| {
                let (n, at) = timeline::min_alive(&zeros, a, b);
                (n == 0).then_some(at)
            });
            // the claim: each sample shows exactly one, and it is a process that had instance 0 then
            let by_pid: BTreeMap<u32, _> = ws.iter().map(|w| (w.pid, w)).collect();
            let mut bad = Vec::new();
            let mut n_ok = 0;
            for (s, procs) in ok_samples(obs) {
                n_ok += 1;
                let zero: Vec<&Proc> = procs
                    .iter()
                    .filter(|p| p.name == obs.app && p.instance.as_deref() == Some("0"))
                    .collect();
                if zero.len() != 1 {
                    bad.push(format!(
                        "{} at {:.0}–{:.0} ms",
                        zero.len(),
                        s.t_start,
                        s.t_end
                    ));
                    continue;
                }
                let p = zero[0];
                let truthful = by_pid.get(&p.pid).is_some_and(|w| {
                    w.instance.as_deref() == Some("0")
                        && w.start <= s.t_end
                        && w.end().is_none_or(|e| e >= s.t_start)
                });
                if !truthful {
                    bad.push(format!(
                        "pid {} shown as instance 0 at {:.0} ms, the record disagrees",
                        p.pid, s.t_end
                    ));
                }
            }
            let ok = n_ok > 0 && bad.is_empty() && gap.is_none();
            let mut seen = format!("{n_ok} samples, {} wrong", bad.len());
            if let Some(b) = bad.first() {
                seen += &format!(" (first: {b})");
            }
            if let Some(at) = gap {
                seen += &format!("; record: no process with instance 0 at {at:.0} ms");
            }
            Evaluated::new(res(
                name,
                ok,
                "a process with instance 0 at every moment (record), exactly one in every jlist sample",
                seen + &failed,
            ))
            .fig("samples", n_ok as f64)
            .fig("samples_failed", n_failed as f64)
            .fig("samples_without_one_instance_zero", bad.len() as f64)
        }
        Check::OnlineAfterReady { tolerance_ms } => {
            let ready: BTreeMap<u32, Option<f64>> = obs
                .record
                .workers
                .iter()
                .map(|w| (w.pid, w.ready))
                .collect();
            let mut seen_online = 0;
            let mut n_ok = 0;
            let mut bad = Vec::new();
            for (s, procs) in ok_samples(obs) {
                n_ok += 1;
                for p in procs
                    .iter()
                    .filter(|p| p.name == obs.app && p.status == "online")
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
            Evaluated::new(res(
                name,
                seen_online > 0 && bad.is_empty(),
                "no process shown online before it sent ready",
                if bad.is_empty() {
                    format!(
                        "{seen_online} online observations over {n_ok} samples, all after ready{failed}"
                    )
                } else {
                    format!("{}{failed}", bad[0])
                },
            ))
            .fig("samples", n_ok as f64)
            .fig("samples_failed", n_failed as f64)
        }
        _ => return None,
    };
    Some(r)
}
