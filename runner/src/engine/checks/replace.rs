//! Checks that compare two moments (snapshots `before` and `after`): pids replaced or kept, instance values
//! kept, and the instance values at the end. Each is judged by the record (which processes ran when, told
//! to stop when, with which value) and cross-checks what `jlist` claimed at the same moments.

use super::{Evaluated, fmt_vals, live, res, show};
use crate::engine::observed::{Observed, Snapshot};
use crate::engine::record::Worker;
use crate::suite::{Check, Source};
use std::collections::{BTreeMap, BTreeSet};

/// When the worker was told to stop: its first signal (or `shutdown` message), else its end.
fn stop_time(w: &Worker) -> Option<f64> {
    w.first_signal.as_ref().map(|s| s.0).or(w.end())
}

/// Started by `t` and not yet told to stop.
fn active_at(w: &Worker, t: f64) -> bool {
    w.start <= t && stop_time(w).is_none_or(|s| s > t)
}

fn pids<'a>(ws: impl IntoIterator<Item = &'a Worker>) -> BTreeSet<u32> {
    ws.into_iter().map(|w| w.pid).collect()
}

fn sorted_values<'a>(ws: impl IntoIterator<Item = &'a Worker>) -> Vec<String> {
    let mut v: Vec<String> = ws
        .into_iter()
        .map(|w| w.instance.clone().unwrap_or_else(|| "-".into()))
        .collect();
    v.sort_by_key(|x| (x.parse::<i64>().unwrap_or(i64::MAX), x.clone()));
    v
}

fn missing(name: &str, label: &str) -> Evaluated {
    Evaluated::new(res(
        name,
        false,
        format!("a `{label}` snapshot"),
        "not taken (the steps ended first)",
    ))
}

/// Pids where `jlist` names a process whose instance value differs from the one the process itself saw.
fn value_mismatches(obs: &Observed, label: &str, app: Option<&str>) -> Vec<String> {
    let by_pid: BTreeMap<u32, Option<&String>> = obs
        .record_of(app)
        .workers
        .iter()
        .map(|w| (w.pid, w.instance.as_ref()))
        .collect();
    obs.snap_app(label, app)
        .into_iter()
        .filter(|p| live(p))
        .filter_map(|p| match by_pid.get(&p.pid) {
            Some(v) if v.map(String::as_str) == p.instance.as_deref() => None,
            Some(v) => Some(format!(
                "pid {}: jlist {}, process {}",
                p.pid,
                p.instance.as_deref().unwrap_or("-"),
                v.map_or("-", |s| s.as_str())
            )),
            None => Some(format!("pid {}: no such process in the record", p.pid)),
        })
        .collect()
}

/// The `before` and `after` snapshots, or the label of the first one that was not taken.
fn pair<'a, 'l>(
    obs: &'a Observed,
    before: &'l str,
    after: &'l str,
) -> Result<(&'a Snapshot, &'a Snapshot), &'l str> {
    let sb = obs.snapshots.get(before).ok_or(before)?;
    let sa = obs.snapshots.get(after).ok_or(after)?;
    Ok((sb, sa))
}

/// Evaluates the checks of this group; `None` for other checks.
pub(super) fn eval(check: &Check, obs: &Observed) -> Option<Evaluated> {
    let name = check.kind();
    let r = match check {
        Check::AllPidsReplaced { before, after, app } => {
            let app = app.as_deref();
            let (sb, sa) = match pair(obs, before, after) {
                Ok(p) => p,
                Err(label) => return Some(missing(name, label)),
            };
            replaced(name, obs, sb, sa, (before, after), app)
        }
        Check::PidsUnchanged { before, after, app } => {
            let app = app.as_deref();
            let (sb, sa) = match pair(obs, before, after) {
                Ok(p) => p,
                Err(label) => return Some(missing(name, label)),
            };
            unchanged(name, obs, sb, sa, (before, after), app)
        }
        Check::InstanceValuesKept { before, after } => {
            let (sb, sa) = match pair(obs, before, after) {
                Ok(p) => p,
                Err(label) => return Some(missing(name, label)),
            };
            kept(name, obs, sb, sa, (before, after))
        }
        Check::InstanceValues { equals, source } => {
            let mut j: Vec<String> = obs
                .snap_app("end", None)
                .iter()
                .filter(|p| live(p))
                .map(|p| p.instance.clone().unwrap_or_else(|| "-".into()))
                .collect();
            j.sort_by_key(|v| (v.parse::<i64>().unwrap_or(i64::MAX), v.clone()));
            let r = sorted_values(obs.record.live());
            let want: Vec<String> = match equals {
                Some(v) => v.iter().map(u32::to_string).collect(),
                None => (0..obs.expected_instances).map(|i| i.to_string()).collect(),
            };
            let lies = value_mismatches(obs, "end", None);
            let ok = !want.is_empty()
                && match source {
                    Source::Jlist => j == want,
                    Source::Record => r == want,
                    Source::Both => j == want && r == want && lies.is_empty(),
                };
            let mut seen = format!("jlist {}, record {}", fmt_vals(&j), fmt_vals(&r));
            if !lies.is_empty() && *source == Source::Both {
                seen = format!(
                    "{seen}; jlist disagrees with the record: {}",
                    lies.join("; ")
                );
            }
            Evaluated::new(res(name, ok, format!("values {}", fmt_vals(&want)), seen))
        }
        _ => return None,
    };
    Some(r)
}

fn live_pids(obs: &Observed, label: &str, app: Option<&str>) -> BTreeSet<u32> {
    obs.snap_app(label, app)
        .into_iter()
        .filter(|p| live(p))
        .map(|p| p.pid)
        .collect()
}

fn replaced(
    name: &str,
    obs: &Observed,
    sb: &Snapshot,
    sa: &Snapshot,
    (before, after): (&str, &str),
    app: Option<&str>,
) -> Evaluated {
    let ws = &obs.record_of(app).workers;
    // the record: every process running at `before` was told to stop by `after`, and as many new ones run
    let old: Vec<&Worker> = ws.iter().filter(|w| active_at(w, sb.t_end)).collect();
    let not_told: Vec<u32> = old
        .iter()
        .filter(|w| stop_time(w).is_none_or(|t| t > sa.t_end))
        .map(|w| w.pid)
        .collect();
    let new = pids(
        ws.iter()
            .filter(|w| w.start > sb.t_start && active_at(w, sa.t_start)),
    );
    let rec_ok = !old.is_empty() && not_told.is_empty() && new.len() == old.len();
    // the claim: jlist's pids changed, and they are the new processes
    let (jb, ja) = (live_pids(obs, before, app), live_pids(obs, after, app));
    let kept: Vec<u32> = jb.intersection(&ja).copied().collect();
    let jlist_ok = !jb.is_empty() && kept.is_empty() && ja.len() == jb.len();
    let cross_ok = ja == new;
    let mut notes = vec![format!(
        "record: {} running before, {} new running after",
        old.len(),
        new.len()
    )];
    if !not_told.is_empty() {
        notes.push(format!("never told to stop: {}", show::list(&not_told)));
    }
    notes.push(format!(
        "jlist: before {}; after {}",
        show::list(&jb),
        show::list(&ja)
    ));
    if !cross_ok {
        notes.push(format!(
            "jlist's pids are not the record's new processes ({})",
            show::list(&new)
        ));
    }
    Evaluated::new(res(
        name,
        rec_ok && jlist_ok && cross_ok,
        format!("{} processes, all replaced by new ones", old.len()),
        notes.join("; "),
    ))
    .fig("processes_not_replaced", not_told.len() as f64)
}

fn unchanged(
    name: &str,
    obs: &Observed,
    sb: &Snapshot,
    sa: &Snapshot,
    (before, after): (&str, &str),
    app: Option<&str>,
) -> Evaluated {
    let ws = &obs.record_of(app).workers;
    let old: Vec<&Worker> = ws.iter().filter(|w| active_at(w, sb.t_end)).collect();
    let stopped: Vec<u32> = old
        .iter()
        .filter(|w| !active_at(w, sa.t_end))
        .map(|w| w.pid)
        .collect();
    let started: Vec<u32> = ws
        .iter()
        .filter(|w| w.start > sb.t_start && w.start <= sa.t_end)
        .map(|w| w.pid)
        .collect();
    let rec_ok = !old.is_empty() && stopped.is_empty() && started.is_empty();
    let b: BTreeSet<u32> = obs.snap_app(before, app).iter().map(|p| p.pid).collect();
    let a: BTreeSet<u32> = obs.snap_app(after, app).iter().map(|p| p.pid).collect();
    let cross_ok = b == pids(old.iter().copied());
    let mut notes = vec![format!(
        "jlist: before {}; after {}",
        show::list(&b),
        show::list(&a)
    )];
    if !stopped.is_empty() || !started.is_empty() {
        notes.push(format!(
            "record: stopped {}; started {}",
            show::list(&stopped),
            show::list(&started)
        ));
    }
    if !cross_ok {
        notes.push(format!(
            "jlist's pids are not the processes running ({})",
            show::list(pids(old.iter().copied()))
        ));
    }
    Evaluated::new(res(
        name,
        rec_ok && !b.is_empty() && a == b && cross_ok,
        "the same processes, none stopped or started",
        notes.join("; "),
    ))
}

fn kept(
    name: &str,
    obs: &Observed,
    sb: &Snapshot,
    sa: &Snapshot,
    (before, after): (&str, &str),
) -> Evaluated {
    // the record: the values the processes saw before are the values the running ones see after
    let ws = &obs.record.workers;
    let vb = sorted_values(ws.iter().filter(|w| active_at(w, sb.t_end)));
    let va = sorted_values(ws.iter().filter(|w| active_at(w, sa.t_start)));
    let unique = vb.iter().collect::<BTreeSet<_>>().len() == vb.len();
    let rec_ok = !vb.is_empty() && unique && !vb.iter().any(|v| v == "-") && va == vb;
    // the claim: each pm_id keeps its value, and jlist says what the processes themselves saw
    let map = |label: &str| -> BTreeMap<i64, Option<String>> {
        obs.snap_app(label, None)
            .into_iter()
            .filter_map(|p| Some((p.pm_id?, p.instance.clone())))
            .collect()
    };
    let (b, a) = (map(before), map(after));
    let jlist_ok = !b.is_empty() && a == b && b.values().all(Option::is_some);
    let lies = value_mismatches(obs, after, None);
    let by_id = |m: &BTreeMap<i64, Option<String>>| {
        show::pairs(m.iter().map(|(k, v)| (k, show::opt(v.as_ref()))), " → ")
    };
    let mut seen = format!(
        "record: before {}; after {}; jlist by pm_id: before {}; after {}",
        fmt_vals(&vb),
        fmt_vals(&va),
        by_id(&b),
        by_id(&a)
    );
    if !lies.is_empty() {
        seen = format!(
            "{seen}; jlist disagrees with the record: {}",
            lies.join("; ")
        );
    }
    Evaluated::new(res(
        name,
        rec_ok && jlist_ok && lies.is_empty(),
        format!(
            "each instance value kept (record {}), by pm_id in jlist",
            fmt_vals(&vb)
        ),
        seen,
    ))
}
