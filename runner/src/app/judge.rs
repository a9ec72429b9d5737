//! The findings as pure functions of what was observed: the recorder's [`Observed`] record and the
//! client's [`Exchange`]s. Nothing here runs anything.

use super::client::Exchange;
use super::finding::{Finding, FindingVerdict as V};
use super::observe::Observed;
use crate::model::{Level, Throughput, TimelineEvent, WorkerSpan};
use std::collections::{BTreeMap, BTreeSet};

/// The advice for an app that loses requests when it stops.
pub const SHUTDOWN_ADVICE: &str = "On SIGINT stop accepting (`server.close()`), finish the requests in flight, close idle keep-alive connections with `server.closeIdleConnections()` (again once the last in-flight request is answered, or answer with `Connection: close` while shutting down), then exit — before kill_timeout. The guide: \"A graceful shutdown makes sure to handle all remaining queries before exiting the application and closes all external connections.\"";

/// `cluster-start`: `instances` processes started as cluster workers and every one listens, on one port.
pub fn cluster_start(obs: &Observed, instances: usize, wall0: f64) -> Finding {
    let procs = obs.listening_procs();
    let ports: BTreeSet<u16> = procs
        .iter()
        .flat_map(|p| p.listens.iter().map(|l| l.1))
        .collect();
    let workers = procs.iter().filter(|p| p.worker).count();
    let mut ev = vec![format!(
        "{} of {instances} instances listen ({} as cluster workers), on port(s) {}",
        procs.len(),
        workers,
        ports
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    )];
    let one_port = ports.len() == 1;
    let verdict = if procs.len() >= instances && workers >= instances && one_port {
        V::Pass
    } else {
        V::Fail
    };
    let mut advice = String::new();
    if !one_port {
        for p in &procs {
            ev.push(format!(
                "pid {} listens on {}",
                p.pid,
                p.listens
                    .iter()
                    .map(|l| l.1.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        advice = "Listen on one port in every instance (`server.listen(process.env.PORT || 3000)`), not one port per instance: the manager shares that port and balances connections between the instances. The guide: \"The built-in load-balancer provides networked Node.js applications (http(s)/tcp/udp server) to be scaled across all CPUs available, without any code modifications.\"".into();
    } else if verdict == V::Fail {
        advice =
            "Every instance must start and listen under cluster mode; see the app's log above."
                .into();
    }
    let mut f = Finding::new("cluster-start", Level::Must, verdict, ev)
        .fig("instances_expected", instances as f64)
        .fig("instances_listening", procs.len() as f64)
        .fig("ports", ports.len() as f64)
        .advise(advice);
    f.figures.workers = spans(obs, wall0);
    f
}

/// What one URL got in the distribution phase.
#[derive(Debug, Clone, PartialEq)]
pub struct UrlRound {
    /// The path.
    pub url: String,
    /// Every exchange sent to it.
    pub exchanges: Vec<Exchange>,
}

/// `distribution`: every instance serves every URL with a 2xx.
pub fn distribution(rounds: &[UrlRound], obs: &Observed, pids: &[u32]) -> Finding {
    let mut ev = Vec::new();
    let mut ok = true;
    let mut per_worker: BTreeMap<String, u64> = BTreeMap::new();
    for r in rounds {
        let mut by_pid: BTreeMap<u32, u64> = BTreeMap::new();
        let mut bad: BTreeMap<String, u64> = BTreeMap::new();
        for e in &r.exchanges {
            let pid = obs.requests.get(&e.id).map(|s| s.pid);
            if e.ok_2xx() {
                if let Some(pid) = pid {
                    *by_pid.entry(pid).or_default() += 1;
                    *per_worker.entry(pid.to_string()).or_default() += 1;
                }
            } else {
                let what = e
                    .status
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| e.outcome.to_string());
                *bad.entry(what).or_default() += 1;
            }
        }
        let missing: Vec<u32> = pids
            .iter()
            .copied()
            .filter(|p| !by_pid.contains_key(p))
            .collect();
        let shares = by_pid
            .iter()
            .map(|(p, n)| format!("{n} on pid {p}"))
            .collect::<Vec<_>>()
            .join(", ");
        ev.push(format!(
            "GET {}: {} requests, 2xx {}",
            r.url,
            r.exchanges.len(),
            if shares.is_empty() {
                "none".into()
            } else {
                shares
            }
        ));
        if !bad.is_empty() {
            ok = false;
            ev.push(format!(
                "GET {} answered {}",
                r.url,
                bad.iter()
                    .map(|(k, n)| format!("{k} ×{n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !missing.is_empty() {
            ok = false;
            ev.push(format!("GET {}: no 2xx from pid(s) {:?}", r.url, missing));
        }
    }
    let mut f = Finding::new(
        "distribution",
        Level::Must,
        if ok { V::Pass } else { V::Fail },
        ev,
    )
    .fig("urls", rounds.len() as f64)
    .fig("instances", pids.len() as f64);
    if !ok {
        f = f.advise("Every instance must answer every URL with a 2xx: an instance that fails (a missing file, a connection made only in one process, a route added after listen) breaks the requests the balancer sends it.");
    }
    f.figures.per_worker = per_worker;
    f
}

/// One virtual client's pass through a flow.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientRun {
    /// Its exchanges, one per step (stops at the first failed step).
    pub exchanges: Vec<Exchange>,
    /// Index of the step that failed, if any.
    pub failed_step: Option<usize>,
}

/// A flow replayed by many clients on N instances, and on one instance when it failed on N.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowRound {
    /// Flow name.
    pub name: String,
    /// Step labels (`POST /login`).
    pub steps: Vec<String>,
    /// Runs on N instances.
    pub many: Vec<ClientRun>,
    /// Runs on one instance (only when some run failed on N).
    pub single: Option<Vec<ClientRun>>,
}

/// `stateless`: every flow passes on N instances with consecutive steps landing on different
/// instances; a flow that fails on N and passes on one shows internal state.
pub fn stateless(flows: &[FlowRound], obs: &Observed, instances: usize) -> Finding {
    if flows.is_empty() {
        return Finding::new(
            "stateless",
            Level::Must,
            V::Skipped,
            vec!["no flow given (--flow FILE): nothing to replay across instances".into()],
        )
        .advise("Write a flow (`[[step]]` tables: log in, then read the session) and pass it with --flow, so conform can replay it with consecutive requests on different instances.");
    }
    let mut ev = Vec::new();
    let mut verdict = V::Pass;
    let mut cross_total = 0u64;
    let mut failed_total = 0u64;
    for f in flows {
        let pid = |e: &Exchange| obs.requests.get(&e.id).map(|r| r.pid);
        let (mut cross, mut pairs) = (0u64, 0u64);
        for c in &f.many {
            for w in c.exchanges.windows(2) {
                if let (Some(a), Some(b)) = (pid(&w[0]), pid(&w[1])) {
                    pairs += 1;
                    cross += u64::from(a != b);
                }
            }
        }
        cross_total += cross;
        let failed: Vec<&ClientRun> = f.many.iter().filter(|c| c.failed_step.is_some()).collect();
        failed_total += failed.len() as u64;
        ev.push(format!(
            "flow `{}`: {} clients on {instances} instances, {} failed; {cross} of {pairs} consecutive steps crossed instances",
            f.name,
            f.many.len(),
            failed.len()
        ));
        if let Some(c) = failed.first() {
            let i = c.failed_step.unwrap_or(0);
            let e = &c.exchanges[i];
            let got = e
                .status
                .map(|s| format!("status {s}"))
                .unwrap_or_else(|| e.outcome.to_string());
            let here = pid(e)
                .map(|p| format!("pid {p}"))
                .unwrap_or_else(|| "no instance".into());
            let before = c.exchanges[..i]
                .iter()
                .zip(&f.steps)
                .map(|(e, s)| {
                    format!(
                        "{s} on {}",
                        pid(e)
                            .map(|p| format!("pid {p}"))
                            .unwrap_or_else(|| "?".into())
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            ev.push(format!(
                "first failure: step {} `{}` got {got} on {here}, after {}",
                i + 1,
                f.steps.get(i).cloned().unwrap_or_default(),
                if before.is_empty() {
                    "nothing".into()
                } else {
                    before
                }
            ));
            match &f.single {
                Some(single) if single.iter().all(|c| c.failed_step.is_none()) => {
                    ev.push(format!(
                        "with --instances 1 all {} clients passed: the app keeps state in its processes",
                        single.len()
                    ));
                    verdict = V::Fail;
                }
                Some(single) => {
                    ev.push(format!(
                        "with --instances 1, {} of {} clients failed too: the flow itself fails, not the cluster",
                        single.iter().filter(|c| c.failed_step.is_some()).count(),
                        single.len()
                    ));
                    if verdict == V::Pass {
                        verdict = V::Error;
                    }
                }
                None => verdict = V::Fail,
            }
        } else if instances > 1 && cross == 0 && verdict == V::Pass {
            ev.push("no consecutive steps landed on different instances: statelessness was not exercised".into());
            verdict = V::Error;
        }
    }
    let mut f = Finding::new("stateless", Level::Must, verdict, ev)
        .fig("flows", flows.len() as f64)
        .fig("clients_failed", failed_total as f64)
        .fig("steps_crossing_instances", cross_total as f64);
    f = match verdict {
        V::Fail => f.advise("Keep sessions, caches and per-process rooms out of the process: use Redis or a database (e.g. express-session with connect-redis, @fastify/session with a store, koa-session with an external store) so any instance can answer any request. The guide: \"In the context of clustering, you first need to be sure that your application has no internal state.\""),
        V::Error => f.advise("Fix the flow so it passes against a single instance (check paths, methods, bodies and expect_status)."),
        _ => f,
    };
    f
}

/// Who lost a failed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Blame {
    /// The app started it and did not answer (or answered 5xx).
    AppStarted,
    /// The app accepted the connection and closed it without reading the request.
    AppAccepted,
    /// The request never reached the app: the manager refused, reset or held it.
    Manager,
}

/// Whose fault a failed exchange is, by the record: a request the app saw vs one it never saw.
pub fn blame(e: &Exchange, obs: &Observed, wall0: f64) -> Blame {
    if obs.requests.contains_key(&e.id) {
        return Blame::AppStarted;
    }
    let t = wall0 + e.sent_ms + e.latency_ms;
    match e.local_port.and_then(|p| obs.conn_at(p, t)) {
        Some(c) if c.open >= wall0 + e.sent_ms - 50.0 || e.retried_id.is_none() => {
            Blame::AppAccepted
        }
        _ => Blame::Manager,
    }
}

/// A request the client gave up on (its timeout) that the app did answer, later, below 500: the
/// machine was slow, nothing was lost.
pub fn answered_late(e: &Exchange, obs: &Observed) -> bool {
    e.outcome == crate::load::Outcome::Timeout
        && obs
            .requests
            .get(&e.id)
            .and_then(|r| r.finished)
            .is_some_and(|(_, status)| status < 500)
}

/// The process that had a failed exchange: the one that started its request, else the one that
/// accepted its connection.
pub fn served_by(e: &Exchange, obs: &Observed, wall0: f64) -> Option<u32> {
    if let Some(r) = obs.requests.get(&e.id) {
        return Some(r.pid);
    }
    let t = wall0 + e.sent_ms + e.latency_ms;
    e.local_port.and_then(|p| obs.conn_at(p, t)).map(|c| c.pid)
}

/// Everything seen during the reload phase.
#[derive(Debug, Clone, PartialEq)]
pub struct ReloadRound {
    /// Exchanges over new connections.
    pub new_conn: Vec<Exchange>,
    /// Exchanges over keep-alive connections.
    pub keep_alive: Vec<Exchange>,
    /// When `reload` was issued and returned (ms since the origin), and its exit code.
    pub reload: (f64, f64, Option<i32>),
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
        TimelineEvent {
            t_ms: r.reload.0,
            kind: "step".into(),
            pid: None,
            detail: "reload".into(),
        },
        TimelineEvent {
            t_ms: r.reload.1,
            kind: "step".into(),
            pid: None,
            detail: "reload returned".into(),
        },
    ];
    for (label, list) in [
        ("new connections", &r.new_conn),
        ("keep-alive", &r.keep_alive),
    ] {
        let retried = list.iter().filter(|e| e.retried_id.is_some()).count();
        let mut classes: BTreeMap<String, u64> = BTreeMap::new();
        let (mut app, mut mgr) = (0u64, 0u64);
        for e in list.iter().filter(|e| !e.ok_2xx()) {
            if answered_late(e, obs) {
                late += 1;
                continue;
            }
            let b = blame(e, obs, wall0);
            let old = served_by(e, obs, wall0)
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
                pid: obs.requests.get(&e.id).map(|s| s.pid),
                detail: format!("{label}: {} — lost by the {who}", e.outcome),
            });
        }
        app_lost += app;
        manager_lost += mgr;
        ev.push(format!(
            "{label}: {} requests, {} failed{}; {retried} retried once after the app closed a reused connection (RFC 9112 §9.3.1, not failures)",
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
        .fig("reload_ms", r.reload.1 - r.reload.0);
    if verdict == V::Fail {
        f = f.advise(SHUTDOWN_ADVICE);
    }
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
    let started: Vec<&Exchange> = s
        .in_flight
        .iter()
        .filter(|e| obs.requests.contains_key(&e.id))
        .collect();
    let lost: Vec<&Exchange> = started
        .iter()
        .copied()
        .filter(|e| !e.ok_2xx() && !answered_late(e, obs))
        .collect();
    let at_signal = started
        .iter()
        .filter(|e| {
            let r = &obs.requests[&e.id];
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
                lost.iter().map(|e| e.outcome.to_string()).collect::<BTreeSet<_>>().into_iter().collect::<Vec<_>>().join(", ")
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
        TimelineEvent {
            t_ms: s.stop.0,
            kind: "step".into(),
            pid: None,
            detail: "stop".into(),
        },
        TimelineEvent {
            t_ms: s.stop.1,
            kind: "step".into(),
            pid: None,
            detail: "stop returned".into(),
        },
    ];
    tl.extend(signal_events(obs, wall0));
    f.figures.timeline = tl;
    f
}

/// `wait-ready` (INFO): whether the app sends `ready`, and spawn → listening → ready times.
pub fn wait_ready(obs: &Observed) -> Finding {
    let procs = obs.listening_procs();
    let ready: Vec<_> = procs.iter().filter(|p| p.ready.is_some()).collect();
    let listen_ms: Vec<f64> = procs
        .iter()
        .filter_map(|p| Some(p.listening()? - p.start))
        .collect();
    let ready_ms: Vec<f64> = procs
        .iter()
        .filter_map(|p| Some(p.ready? - p.start))
        .collect();
    let max = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
    let mut ev = vec![format!(
        "{} of {} processes sent `ready`; spawn → listening at most {:.0} ms",
        ready.len(),
        procs.len(),
        max(&listen_ms)
    )];
    if !ready_ms.is_empty() {
        ev.push(format!("spawn → ready at most {:.0} ms", max(&ready_ms)));
    }
    let advice = if ready.is_empty() {
        format!(
            "The app does not send `ready`: the manager counts an instance up once it listens. If it needs time after listen (a database, a cache warm-up), call `process.send('ready')` when it can serve and set `wait_ready: true` with `listen_timeout` above that time (now it listens within {:.0} ms).",
            max(&listen_ms)
        )
    } else {
        format!(
            "The app sends `ready`: start it with `wait_ready: true` and a `listen_timeout` above {:.0} ms, so a reload waits for it.",
            max(&ready_ms)
        )
    };
    Finding::new("wait-ready", Level::Info, V::Info, ev)
        .fig("instances_ready", ready.len() as f64)
        .fig("spawn_to_listen_ms_max", max(&listen_ms))
        .fig("spawn_to_ready_ms_max", max(&ready_ms))
        .advise(advice)
}

/// `instance-var` (INFO): whether the app reads `NODE_APP_INSTANCE`.
pub fn instance_var(obs: &Observed) -> Finding {
    let reads: Vec<_> = obs
        .procs
        .values()
        .filter_map(|p| p.instance_read.as_ref().map(|a| (p.pid, a)))
        .collect();
    let ev = if reads.is_empty() {
        vec!["the app never reads NODE_APP_INSTANCE".to_string()]
    } else {
        let at: BTreeSet<&str> = reads.iter().map(|r| r.1.as_str()).collect();
        vec![format!(
            "{} process(es) read NODE_APP_INSTANCE, {}",
            reads.len(),
            at.into_iter().collect::<Vec<_>>().join("; ")
        )]
    };
    let advice = if reads.is_empty() {
        "To run a job (a cron, a migration) on one instance only, check `process.env.NODE_APP_INSTANCE === '0'` (renamed with `instance_var`)."
    } else {
        "NODE_APP_INSTANCE numbers the instances (0..N-1) and is kept across reloads; use it to pick the one instance that runs a cron job, never to pick a port."
    };
    Finding::new("instance-var", Level::Info, V::Info, ev)
        .fig("processes_reading", reads.len() as f64)
        .advise(advice)
}

/// Worker lifetimes for the timeline charts, relative to the origin.
pub fn spans(obs: &Observed, wall0: f64) -> Vec<WorkerSpan> {
    obs.procs
        .values()
        .map(|p| WorkerSpan {
            pid: p.pid,
            instance: None,
            start_ms: p.start - wall0,
            listening_ms: p.listening().map(|t| t - wall0),
            end_ms: p.exit.map(|e| e.0 - wall0),
        })
        .collect()
}

fn signal_events(obs: &Observed, wall0: f64) -> Vec<TimelineEvent> {
    obs.procs
        .values()
        .flat_map(|p| {
            p.signals.iter().map(move |(t, s)| TimelineEvent {
                t_ms: t - wall0,
                kind: "signal".into(),
                pid: Some(p.pid),
                detail: s.clone(),
            })
        })
        .collect()
}

#[cfg(test)]
#[path = "judge_tests.rs"]
mod tests;
