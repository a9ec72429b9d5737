//! `cluster-start`, `distribution`, `wait-ready` and `instance-var`, and the worker spans and signal
//! events the timelines share.

use crate::app::client::Exchange;
use crate::app::finding::{Finding, FindingVerdict as V};
use crate::app::observe::Observed;
use crate::model::{Level, TimelineEvent, WorkerSpan};
use std::collections::{BTreeMap, BTreeSet};

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

/// The signals the app handled, as timeline events.
pub fn signal_events(obs: &Observed, wall0: f64) -> Vec<TimelineEvent> {
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
