//! `graceful-shutdown`: `stop` with requests in flight and idle keep-alive connections.

use super::{SHUTDOWN_ADVICE, answered_late, signal_events, spans};
use crate::app::client::Exchange;
use crate::app::finding::{Finding, FindingVerdict as V};
use crate::app::observe::Observed;
use crate::model::{Level, TimelineEvent};
use std::collections::BTreeSet;

/// One instance's stop, as watched by conform.
#[derive(Debug, Clone, PartialEq)]
pub struct Stopped {
    /// Its pid.
    pub pid: u32,
    /// When conform saw it gone (ms since the origin), if it went.
    pub gone_ms: Option<f64>,
}

/// Everything seen during the stop phase.
#[derive(Debug, Clone, PartialEq)]
pub struct ShutdownRound {
    /// Slow requests in flight when `stop` was issued (new and keep-alive connections).
    pub in_flight: Vec<Exchange>,
    /// Local ports of the idle keep-alive connections open when `stop` was issued.
    pub idle: Vec<u16>,
    /// When `stop` was issued and returned (ms since the origin).
    pub stop: (f64, f64),
    /// The instances and when they were gone.
    pub instances: Vec<Stopped>,
    /// kill_timeout in ms.
    pub kill_timeout_ms: f64,
}

/// `graceful-shutdown`: on `stop`, every request the app started is answered, the app exits by itself
/// before kill_timeout, and its keep-alive connections are closed by the app, not by its death.
pub fn graceful(s: &ShutdownRound, obs: &Observed, wall0: f64) -> Finding {
    let mut ev = Vec::new();
    // every slow request the app started must be answered; those it never saw were refused by the
    // manager once the app stopped accepting, which is not the app's doing
    // (exchange, the attempt the app started, lost): a first attempt on a reused connection the app
    // read and never answered is lost even when the client's retry got an answer
    let started: Vec<(&Exchange, &str, bool)> = s
        .in_flight
        .iter()
        .filter_map(|e| {
            let dropped = e
                .retried_id
                .as_deref()
                .filter(|id| obs.requests.get(*id).is_some_and(|q| q.finished.is_none()));
            if let Some(first) = dropped {
                return Some((e, first, true));
            }
            obs.requests
                .contains_key(&e.id)
                .then(|| (e, e.id.as_str(), !e.ok_2xx() && !answered_late(e, obs)))
        })
        .collect();
    let lost: Vec<&Exchange> = started.iter().filter(|x| x.2).map(|x| x.0).collect();
    let at_signal = started
        .iter()
        .filter(|(_, id, _)| {
            let r = &obs.requests[*id];
            let sig = obs
                .procs
                .get(&r.pid)
                .and_then(|p| p.signals.first().map(|x| x.0))
                .unwrap_or(wall0 + s.stop.0);
            r.start <= sig && r.finished.is_none_or(|f| f.0 >= sig)
        })
        .count();
    ev.push(format!(
        "{} slow requests sent during `stop`, {} started by the app ({at_signal} in flight when its signal came): {} answered, {} lost{}",
        s.in_flight.len(),
        started.len(),
        started.len() - lost.len(),
        lost.len(),
        if lost.is_empty() {
            String::new()
        } else {
            format!(
                " ({})",
                lost.iter().map(|e| if e.ok_2xx() { "reset, retried".to_string() } else { e.outcome.to_string() }).collect::<BTreeSet<_>>().into_iter().collect::<Vec<_>>().join(", ")
            )
        }
    ));
    let mut by_itself = 0usize;
    let mut exit_ms: Vec<f64> = Vec::new();
    let mut kept_open = 0usize;
    let mut cut = 0usize;
    for i in &s.instances {
        let p = obs.procs.get(&i.pid);
        let sig = p
            .and_then(|p| p.signals.first().map(|x| x.0 - wall0))
            .unwrap_or(s.stop.0);
        let handles = p.is_some_and(|p| p.handles("SIGINT"));
        // connections this instance held at stop that it never closed itself
        let open_at_end = obs
            .conns
            .values()
            .flatten()
            .filter(|c| c.pid == i.pid && c.close.is_none())
            .count();
        kept_open += open_at_end;
        match p.and_then(|p| p.exit) {
            Some((t, code)) if t - wall0 - sig <= s.kill_timeout_ms => {
                by_itself += 1;
                exit_ms.push(t - wall0 - sig);
                if open_at_end > 0 {
                    cut += open_at_end;
                    ev.push(format!("pid {} exited (code {code}) {:.0} ms after SIGINT with {open_at_end} connection(s) still open", i.pid, t - wall0 - sig));
                } else {
                    ev.push(format!(
                        "pid {} exited by itself (code {code}) {:.0} ms after SIGINT",
                        i.pid,
                        t - wall0 - sig
                    ));
                }
            }
            Some((t, code)) => ev.push(format!(
                "pid {} exited (code {code}) {:.0} ms after SIGINT, past kill_timeout ({:.0} ms)",
                i.pid,
                t - wall0 - sig,
                s.kill_timeout_ms
            )),
            None => {
                let gone = i
                    .gone_ms
                    .map(|g| format!("{:.0} ms after SIGINT", g - sig))
                    .unwrap_or_else(|| "never seen gone".into());
                if handles {
                    ev.push(format!("pid {} did not exit by itself: killed {gone} (kill_timeout {:.0} ms) with {open_at_end} connection(s) still open", i.pid, s.kill_timeout_ms));
                } else {
                    ev.push(format!("pid {} has no SIGINT handler: the signal's default action killed it {gone}, with {open_at_end} connection(s) open", i.pid));
                }
            }
        }
    }
    // closed by the app = the recorder saw the connection close before the process ended
    let idle_closed = s
        .idle
        .iter()
        .filter(|&&port| {
            obs.conn_at(port, wall0 + s.stop.1)
                .is_some_and(|c| c.close.is_some())
        })
        .count();
    ev.push(format!(
        "{} idle keep-alive connection(s) at `stop`: {idle_closed} closed by the app, {} cut by its exit or kill",
        s.idle.len(),
        s.idle.len() - idle_closed
    ));
    let pass = lost.is_empty() && by_itself == s.instances.len() && kept_open == 0 && cut == 0;
    let mut f = Finding::new(
        "graceful-shutdown",
        Level::Must,
        if pass { V::Pass } else { V::Fail },
        ev,
    )
    .fig("slow_started", started.len() as f64)
    .fig("in_flight_at_signal", at_signal as f64)
    .fig("in_flight_lost", lost.len() as f64)
    .fig("exited_by_itself", by_itself as f64)
    .fig("instances", s.instances.len() as f64)
    .fig("connections_left_open", kept_open as f64)
    .fig("stop_ms", s.stop.1 - s.stop.0);
    if let Some(m) = exit_ms.iter().copied().reduce(f64::max) {
        f = f.fig("exit_after_sigint_ms_max", m);
    }
    if !pass {
        f = f.advise(SHUTDOWN_ADVICE);
    }
    f.figures.workers = spans(obs, wall0);
    let mut tl = vec![
        TimelineEvent::step(s.stop.0, "stop"),
        TimelineEvent::step(s.stop.1, "stop returned"),
    ];
    tl.extend(signal_events(obs, wall0));
    f.figures.timeline = tl;
    f
}
