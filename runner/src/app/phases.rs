//! The phases of `conform app`, each gathering what one finding needs: start, distribution, flows,
//! reload under load, stop with requests in flight. Judging is left to [`super::judge`].

use super::client::{Client, Exchange, Jar, Req};
use super::flow::Flow;
use super::judge::{ClientRun, FlowRound, ReloadRound, ShutdownRound, Stopped, UrlRound};
use super::observe::Observed;
use crate::target::{Sandbox, procs};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Virtual clients per flow.
const FLOW_CLIENTS: usize = 6;
/// Requests per second of each load (new connections, keep-alive) during the reload.
const RELOAD_RATE: f64 = 40.0;

/// The running app and how to reach its record.
pub struct Live<'a> {
    /// The sandbox.
    pub sb: &'a Sandbox,
    /// The target executable.
    pub target: &'a Path,
    /// App name.
    pub name: String,
    /// The recorder's file.
    pub record: PathBuf,
    /// The time origin.
    pub origin: Instant,
    /// Wall-clock ms at the origin.
    pub wall0: f64,
}

/// Wall-clock ms since the epoch.
pub fn wall_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

impl Live<'_> {
    /// The record as it is now.
    pub fn observe(&self) -> Observed {
        Observed::parse(&std::fs::read_to_string(&self.record).unwrap_or_default())
    }

    /// ms since the origin.
    pub fn now_ms(&self) -> f64 {
        self.origin.elapsed().as_secs_f64() * 1000.0
    }

    /// Live processes that listen, with no `exit` recorded.
    pub fn serving(&self, obs: &Observed) -> Vec<u32> {
        obs.listening_procs()
            .into_iter()
            .filter(|p| p.exit.is_none() && procs::alive(p.pid))
            .map(|p| p.pid)
            .collect()
    }

    /// Polls until exactly `n` processes serve (and `extra` holds), or the deadline passes.
    pub async fn wait_serving(
        &self,
        n: usize,
        deadline: Duration,
        extra: impl Fn(&Observed, &[u32]) -> bool,
    ) -> (bool, Vec<u32>) {
        let end = Instant::now() + deadline;
        loop {
            let obs = self.observe();
            let pids = self.serving(&obs);
            if pids.len() == n && extra(&obs, &pids) {
                return (true, pids);
            }
            if Instant::now() >= end {
                return (false, pids);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Runs `<target> args` (deadline `secs`); returns (exit code, started ms, ended ms, output).
    pub async fn cmd(&self, args: &[&str], secs: u64) -> (Option<i32>, f64, f64, String) {
        let a = self.now_ms();
        let out = self
            .sb
            .run(self.target, args, Duration::from_secs(secs))
            .await;
        let b = self.now_ms();
        match out {
            Ok(o) => (o.code, a, b, format!("{}{}", o.stdout, o.stderr)),
            Err(e) => (None, a, b, e.to_string()),
        }
    }
}

/// Distribution: `per_url` sequential requests on new connections to each URL.
pub async fn distribution(client: &Client, urls: &[String], per_url: usize) -> Vec<UrlRound> {
    let mut rounds = Vec::new();
    for u in urls {
        let mut exchanges = Vec::new();
        for _ in 0..per_url {
            exchanges.push(client.once(&Req::get(u)).await);
        }
        rounds.push(UrlRound {
            url: u.clone(),
            exchanges,
        });
    }
    rounds
}

/// The URL whose median answer was slowest.
pub fn slowest(rounds: &[UrlRound]) -> Option<String> {
    rounds
        .iter()
        .map(|r| {
            let mut l: Vec<f64> = r.exchanges.iter().map(|e| e.latency_ms).collect();
            l.sort_by(f64::total_cmp);
            (l.get(l.len() / 2).copied().unwrap_or(0.0), r.url.clone())
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|x| x.1)
}

/// One virtual client through a flow, each step on a new connection, cookies kept.
async fn client_run(client: &Client, flow: &Flow) -> ClientRun {
    let mut jar = Jar::default();
    let mut exchanges = Vec::new();
    for (i, s) in flow.steps.iter().enumerate() {
        let mut headers = s.headers.clone();
        if let Some(c) = jar.header() {
            headers.push(("Cookie".into(), c));
        }
        let req = Req {
            method: s.method.clone(),
            path: s.path.clone(),
            headers,
            body: s.body.clone(),
        };
        let e = client.once(&req).await;
        jar.store(&e.set_cookies);
        let ok = e.status.is_some_and(|st| s.accepts(st));
        exchanges.push(e);
        if !ok {
            return ClientRun {
                exchanges,
                failed_step: Some(i),
            };
        }
    }
    ClientRun {
        exchanges,
        failed_step: None,
    }
}

/// Many virtual clients through a flow, one after another: run at once, an even number of clients in
/// lockstep under round-robin would have every client's steps land on one instance (no step crossing
/// instances, nothing judged); one at a time, consecutive steps alternate instances under round-robin
/// on every run.
pub async fn flow_runs(client: &Client, flow: &Flow) -> Vec<ClientRun> {
    let mut out = Vec::new();
    for _ in 0..FLOW_CLIENTS {
        out.push(client_run(client, flow).await);
    }
    out
}

/// A flow on N instances, and on one instance (scaling down and back) when it failed on N.
pub async fn flow_round(live: &Live<'_>, client: &Arc<Client>, flow: &Flow, n: usize) -> FlowRound {
    let many = flow_runs(client, flow).await;
    let mut single = None;
    if n > 1 && many.iter().any(|c| c.failed_step.is_some()) {
        let one = (n as u64).to_string();
        let _ = live.cmd(&["scale", &live.name, "1"], 60).await;
        let (ok, _) = live
            .wait_serving(1, Duration::from_secs(30), |_, _| true)
            .await;
        if ok {
            single = Some(flow_runs(client, flow).await);
        }
        let _ = live.cmd(&["scale", &live.name, &one], 60).await;
        let _ = live
            .wait_serving(n, Duration::from_secs(30), |_, _| true)
            .await;
    }
    FlowRound {
        name: flow.name.clone(),
        steps: flow.steps.iter().map(|s| s.label()).collect(),
        many,
        single,
    }
}

/// Open-loop load at `rate`/s over `urls`, until `stop` says so (at most 60 s).
fn open_loop(
    client: Arc<Client>,
    urls: Vec<String>,
    keep_alive: bool,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<Vec<Exchange>> {
    tokio::spawn(async move {
        let start = Instant::now();
        let mut set = tokio::task::JoinSet::new();
        for i in 0u64..(60.0 * RELOAD_RATE) as u64 {
            let due = start + Duration::from_secs_f64(i as f64 / RELOAD_RATE);
            tokio::select! {
                _ = tokio::time::sleep_until(due.into()) => {}
                _ = stop.changed() => break,
            }
            if *stop.borrow() {
                break;
            }
            let (c, u) = (Arc::clone(&client), urls[i as usize % urls.len()].clone());
            set.spawn(async move {
                let r = Req::get(&u);
                if keep_alive {
                    c.keep_alive(&r).await
                } else {
                    c.once(&r).await
                }
            });
        }
        let mut out: Vec<Exchange> = Vec::new();
        while let Some(r) = set.join_next().await {
            out.extend(r.ok());
        }
        out.sort_by(|a, b| a.sent_ms.total_cmp(&b.sent_ms));
        out
    })
}

/// Reload under open-loop load over new and keep-alive connections.
pub async fn reload(
    live: &Live<'_>,
    port: u16,
    urls: &[String],
    n: usize,
    kill_timeout_ms: u64,
) -> ReloadRound {
    let timeout = Duration::from_secs(10);
    let nc = Arc::new(Client::new(port, timeout, live.origin, "rl-new"));
    let ka = Arc::new(Client::new(port, timeout, live.origin, "rl-ka"));
    let (tx, rx) = tokio::sync::watch::channel(false);
    let h1 = open_loop(nc, urls.to_vec(), false, rx.clone());
    let h2 = open_loop(ka, urls.to_vec(), true, rx);
    let before: Vec<u32> = live.serving(&live.observe());
    // when each old instance is gone: a keep-alive reset on one the manager killed before its
    // kill_timeout is the manager's doing
    let watcher = watch_gone(before.clone(), live.origin, kill_timeout_ms + 10_000);
    // a steady state before the reload, and after it until every new instance serves
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (code, a, b, _) = live.cmd(&["reload", &live.name], 120).await;
    let _ = live
        .wait_serving(n, Duration::from_secs(20), |_, pids| {
            pids.iter().all(|p| !before.contains(p))
        })
        .await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let _ = tx.send(true);
    let new_conn = h1.await.unwrap_or_default();
    let keep_alive = h2.await.unwrap_or_default();
    let old = watcher.await.unwrap_or_default();
    ReloadRound {
        new_conn,
        keep_alive,
        reload: (a, b, code),
        old,
        kill_timeout_ms: kill_timeout_ms as f64,
    }
}

/// Stop with slow requests in flight (new and keep-alive connections, fed every 150 ms from before
/// `stop` until it returns, so some are in flight whenever the signal lands) and idle keep-alive
/// connections.
pub async fn shutdown(
    live: &Live<'_>,
    port: u16,
    fast: &str,
    slow: &str,
    n: usize,
    kill_timeout_ms: u64,
) -> ShutdownRound {
    let timeout = Duration::from_millis(kill_timeout_ms + 15_000);
    let idle = Client::new(port, timeout, live.origin, "sd-idle");
    idle.warm_pool(&Req::get(fast), 2 * n).await;
    let idle_ports = idle.idle_ports();
    let nc = Arc::new(Client::new(port, timeout, live.origin, "sd-new"));
    let ka = Arc::new(Client::new(port, timeout, live.origin, "sd-ka"));
    let (tx, mut rx) = tokio::sync::watch::channel(false);
    let slow_s = slow.to_string();
    let feeder = tokio::spawn(async move {
        let mut set = tokio::task::JoinSet::new();
        for i in 0..400u32 {
            for keep in [false, true] {
                let c = Arc::clone(if keep { &ka } else { &nc });
                let u = slow_s.clone();
                set.spawn(async move {
                    if keep {
                        c.keep_alive(&Req::get(&u)).await
                    } else {
                        c.once(&Req::get(&u)).await
                    }
                });
            }
            let _ = i;
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(150)) => {}
                _ = rx.changed() => break,
            }
        }
        let mut out = Vec::new();
        while let Some(r) = set.join_next().await {
            out.extend(r.ok());
        }
        out
    });
    // stop once the app has started a slow request on every instance (or after 5 s)
    let pids = live.serving(&live.observe());
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        let obs = live.observe();
        let busy: std::collections::BTreeSet<u32> = obs
            .requests
            .iter()
            .filter(|(k, _)| k.starts_with("sd-new") || k.starts_with("sd-ka"))
            .map(|(_, r)| r.pid)
            .collect();
        if pids.iter().all(|p| busy.contains(p)) || Instant::now() >= end {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let watcher = watch_gone(pids.clone(), live.origin, kill_timeout_ms + 30_000);
    let (_, a, b, _) = live
        .cmd(&["stop", &live.name], kill_timeout_ms / 1000 + 60)
        .await;
    let _ = tx.send(true);
    let in_flight = feeder.await.unwrap_or_default();
    let instances = watcher.await.unwrap_or_default();
    drop(idle);
    ShutdownRound {
        in_flight,
        idle: idle_ports,
        stop: (a, b),
        instances,
        kill_timeout_ms: kill_timeout_ms as f64,
    }
}

/// Watches `pids` until each is gone (or `max_ms` passed); yields when each was seen gone (ms since
/// `origin`), polled every 10 ms.
fn watch_gone(
    pids: Vec<u32>,
    origin: Instant,
    max_ms: u64,
) -> tokio::task::JoinHandle<Vec<Stopped>> {
    tokio::spawn(async move {
        let mut gone: Vec<Stopped> = pids
            .iter()
            .map(|&pid| Stopped { pid, gone_ms: None })
            .collect();
        let end = Instant::now() + Duration::from_millis(max_ms);
        while gone.iter().any(|g| g.gone_ms.is_none()) && Instant::now() < end {
            for g in gone.iter_mut().filter(|g| g.gone_ms.is_none()) {
                if !procs::alive(g.pid) {
                    g.gone_ms = Some(origin.elapsed().as_secs_f64() * 1000.0);
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        gone
    })
}
