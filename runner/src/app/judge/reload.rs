//! `reload`: requests lost during a reload under load, over new and keep-alive connections.

use super::keepalive::{KEEPALIVE_ADVICE, Resets};
use super::{
    Blame, SHUTDOWN_ADVICE, Stopped, answered_late, blame, served_by, signal_events, spans,
};
use crate::app::client::Exchange;
use crate::app::finding::{Finding, FindingVerdict as V};
use crate::app::observe::Observed;
use crate::model::{Level, Throughput, TimelineEvent};
use std::collections::BTreeMap;

/// Everything seen during the reload phase.
#[derive(Debug, Clone, PartialEq)]
pub struct ReloadRound {
    /// Exchanges over new connections.
    pub new_conn: Vec<Exchange>,
    /// Exchanges over keep-alive connections.
    pub keep_alive: Vec<Exchange>,
    /// When `reload` was issued and returned (ms since the origin), and its exit code.
    pub reload: (f64, f64, Option<i32>),
    /// The instances serving before the reload, and when conform saw them gone.
    pub old: Vec<Stopped>,
    /// kill_timeout in ms.
    pub kill_timeout_ms: f64,
}

/// `reload`: 0 requests lost by the app during a reload, over new and keep-alive connections.
/// A request lost because an old instance ended with it in flight is the graceful-shutdown defect:
/// when `shutdown_failed`, it is reported there (and counted here as such), so one defect makes one
/// failed finding; otherwise it fails this one.
pub fn reload(
    r: &ReloadRound,
    obs: &Observed,
    wall0: f64,
    manager: &str,
    shutdown_failed: bool,
) -> Finding {
    let mut ev = Vec::new();
    let mut app_lost = 0u64;
    let mut ended_lost = 0u64;
    let mut late = 0u64;
    let mut manager_lost = 0u64;
    let mut all: Vec<&Exchange> = Vec::new();
    let mut timeline = vec![
        TimelineEvent::step(r.reload.0, "reload"),
        TimelineEvent::step(r.reload.1, "reload returned"),
    ];
    for (label, list) in [
        ("new connections", &r.new_conn),
        ("keep-alive", &r.keep_alive),
    ] {
        let retried = list.iter().filter(|e| e.retried_id.is_some()).count();
        let mut classes: BTreeMap<String, u64> = BTreeMap::new();
        let (mut app, mut mgr) = (0u64, 0u64);
        // a failed request, or a first attempt the app read and never answered (the client's retry
        // on a new connection hid it, but a non-idempotent request would be lost)
        let mut lost: Vec<(&Exchange, Blame, Option<u32>)> = Vec::new();
        for e in list {
            if !e.ok_2xx() {
                if answered_late(e, obs) {
                    late += 1;
                } else {
                    lost.push((e, blame(e, obs, wall0), served_by(e, obs, wall0)));
                }
            } else if let Some(first) = e
                .retried_id
                .as_ref()
                .and_then(|id| obs.requests.get(id))
                .filter(|q| q.finished.is_none())
            {
                lost.push((e, Blame::AppStarted, Some(first.pid)));
            }
        }
        for (e, b, pid) in lost {
            let old = pid
                .and_then(|p| obs.procs.get(&p))
                .is_some_and(|p| p.start < wall0 + r.reload.0);
            let who = match (b, old) {
                (Blame::Manager, _) => "manager",
                (_, true) => "app: an old instance ended with it",
                _ => "app",
            };
            *classes
                .entry(format!(
                    "{} ({who})",
                    e.status
                        .map(|s| s.to_string())
                        .unwrap_or_else(|| e.outcome.to_string())
                ))
                .or_default() += 1;
            match (b, old) {
                (Blame::Manager, _) => mgr += 1,
                (_, true) => {
                    app += 1;
                    ended_lost += 1;
                }
                _ => app += 1,
            }
            timeline.push(TimelineEvent {
                t_ms: e.sent_ms,
                kind: "failure".into(),
                pid,
                detail: format!("{label}: {} — lost by the {who}", e.outcome),
            });
        }
        app_lost += app;
        manager_lost += mgr;
        ev.push(format!(
            "{label}: {} requests, {} failed{}; {retried} retried once on a new connection after a reused one closed before any answer (RFC 9112 §9.3.1)",
            list.len(),
            app + mgr,
            if classes.is_empty() { String::new() } else { format!(" — {}", classes.iter().map(|(k, n)| format!("{k} ×{n}")).collect::<Vec<_>>().join(", ")) }
        ));
        all.extend(list.iter());
    }
    if late > 0 {
        ev.push(format!(
            "{late} request(s) answered by the app after the client's timeout (a loaded machine): not counted as lost"
        ));
    }
    if manager_lost > 0 {
        ev.push(format!("{manager_lost} request(s) never reached the app: the manager ({manager}), not the app, lost them"));
    }
    let resets = Resets::count(&r.keep_alive, obs, wall0, &r.old, r.kill_timeout_ms);
    ev.extend(resets.evidence(manager));
    for e in r.keep_alive.iter().filter(|e| e.retried_id.is_some()) {
        if let Some(c) = super::keepalive::reset_cause(e, obs, wall0, &r.old, r.kill_timeout_ms) {
            timeline.push(TimelineEvent {
                t_ms: e.sent_ms,
                kind: "failure".into(),
                pid: e
                    .retried_port
                    .and_then(|p| obs.conn_at(p, wall0 + e.sent_ms))
                    .map(|c| c.pid),
                detail: format!("keep-alive reset, retried: {}", c.says()),
            });
        }
    }
    // a reload the manager could not finish is not the app's failure, but it leaves nothing judged
    if ended_lost > 0 && shutdown_failed {
        ev.push(format!(
            "{ended_lost} of the app's losses came from old instances ending with requests in flight: the graceful-shutdown defect, failed there"
        ));
    }
    let own = if shutdown_failed {
        app_lost - ended_lost
    } else {
        app_lost
    };
    let verdict = match r.reload.2 {
        _ if own > 0 => V::Fail,
        Some(0) => V::Pass,
        code => {
            ev.push(format!(
                "`reload` did not succeed (exit {code:?}): the app's reload could not be judged"
            ));
            V::Error
        }
    };
    let retried = all.iter().filter(|e| e.retried_id.is_some()).count();
    let mut f = Finding::new("reload", Level::Must, verdict, ev)
        .fig("requests", all.len() as f64)
        .fig("failed_app", app_lost as f64)
        .fig("failed_app_old_instance_ended", ended_lost as f64)
        .fig("failed_manager", manager_lost as f64)
        .fig("answered_after_timeout", late as f64)
        .fig("retried_reused_connection", retried as f64)
        .fig("keepalive_resets_app", resets.by_app() as f64)
        .fig("keepalive_resets_manager", resets.by_manager() as f64)
        .fig("reload_ms", r.reload.1 - r.reload.0);
    // advice on what the app caused: its losses, and the resets a client's retry hid
    f = match (verdict == V::Fail, resets.by_app() > 0) {
        (true, true) => f.advise(format!("{SHUTDOWN_ADVICE} {KEEPALIVE_ADVICE}")),
        (true, false) => f.advise(SHUTDOWN_ADVICE),
        (false, true) => f.advise(KEEPALIVE_ADVICE),
        (false, false) => f,
    };
    let mut outcomes = BTreeMap::new();
    let mut t = Throughput {
        bucket_ms: 100,
        ..Throughput::default()
    };
    for e in &all {
        *outcomes.entry(e.outcome.as_str().to_string()).or_default() += 1;
        let i = (e.sent_ms.max(0.0) / 100.0) as usize;
        if t.ok.len() <= i {
            t.ok.resize(i + 1, 0);
            t.failed.resize(i + 1, 0);
        }
        if e.ok_2xx() {
            t.ok[i] += 1
        } else {
            t.failed[i] += 1
        }
    }
    timeline.extend(signal_events(obs, wall0));
    f.figures.outcomes = outcomes;
    f.figures.throughput = Some(t);
    f.figures.workers = spans(obs, wall0);
    f.figures.timeline = timeline;
    f
}
