//! The open-loop scheduler: spawns one task per request at its intended time and collects records.

use super::reply::Reply;
use super::requester::Requester;
use super::{ConnMode, LoadResult, LoadSpec, Outcome, Protocol, RequestRecord};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// Requests allowed in flight at once; beyond this a scheduled request is recorded as `Other` unsent.
pub const MAX_IN_FLIGHT: usize = 10_000;

/// A load run in progress, spawned on the current tokio runtime.
pub struct LoadRun {
    stop: watch::Sender<bool>,
    collector: JoinHandle<Vec<RequestRecord>>,
}

impl LoadRun {
    /// Starts issuing requests now; times in the records are measured from `t0`.
    /// Must be called inside a tokio runtime (it spawns the scheduler there).
    pub fn start(spec: LoadSpec, t0: Instant) -> LoadRun {
        Self::start_capped(spec, t0, MAX_IN_FLIGHT)
    }

    /// As [`LoadRun::start`] with another in-flight cap (tests use a small one).
    pub(crate) fn start_capped(spec: LoadSpec, t0: Instant, cap: usize) -> LoadRun {
        let (stop, stop_rx) = watch::channel(false);
        let (tx, mut rx) = mpsc::unbounded_channel::<RequestRecord>();
        tokio::spawn(schedule(spec, t0, cap, tx, stop_rx));
        let collector = tokio::spawn(async move {
            let mut records = Vec::new();
            while let Some(r) = rx.recv().await {
                records.push(r);
            }
            records.sort_by(|a, b| a.intended_ms.total_cmp(&b.intended_ms));
            records
        });
        LoadRun { stop, collector }
    }

    /// Stops issuing requests now; requests in flight finish or time out, then the records are returned.
    pub async fn stop(self) -> LoadResult {
        let _ = self.stop.send(true);
        self.finish_inner().await
    }

    /// Waits until `duration` has elapsed or `max_requests` were issued, then for requests in flight.
    pub async fn finish(self) -> LoadResult {
        self.finish_inner().await
    }

    async fn finish_inner(self) -> LoadResult {
        // keep the stop sender alive until the end: dropping it would stop the scheduler
        let LoadRun { stop, collector } = self;
        let records = collector.await.unwrap_or_default();
        drop(stop);
        LoadResult { records }
    }
}

/// Signed milliseconds from `t0` to `t`.
fn ms_since(t0: Instant, t: Instant) -> f64 {
    if t >= t0 {
        t.duration_since(t0).as_secs_f64() * 1000.0
    } else {
        -(t0.duration_since(t).as_secs_f64() * 1000.0)
    }
}

/// Issues the requests on schedule; returns (dropping its sender) when done or told to stop.
async fn schedule(
    spec: LoadSpec,
    t0: Instant,
    cap: usize,
    tx: mpsc::UnboundedSender<RequestRecord>,
    mut stop: watch::Receiver<bool>,
) {
    if spec.rate == 0 || spec.max_requests == 0 {
        return;
    }
    let requester = Requester::new(&spec).await.map(Arc::new);
    let in_flight = Arc::new(AtomicUsize::new(0));
    let t_start = Instant::now();
    let end = t_start + spec.duration;
    let rate = f64::from(spec.rate);
    for i in 0..spec.max_requests {
        let intended = t_start + Duration::from_secs_f64(i as f64 / rate);
        // a dropped LoadRun (sender gone) stops the schedule like an explicit stop
        if intended >= end || *stop.borrow() || stop.has_changed().is_err() {
            break;
        }
        if intended > Instant::now() {
            tokio::select! {
                _ = tokio::time::sleep_until(intended.into()) => {}
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        break;
                    }
                }
            }
        }
        let intended_ms = ms_since(t0, intended);
        let requester = match &requester {
            Ok(r) if in_flight.load(Ordering::Relaxed) < cap => Arc::clone(r),
            _ => {
                let now = ms_since(t0, Instant::now());
                let _ = tx.send(failed_unsent(intended_ms, now));
                continue;
            }
        };
        in_flight.fetch_add(1, Ordering::Relaxed);
        let (tx, in_flight, timeout) = (tx.clone(), Arc::clone(&in_flight), spec.timeout);
        tokio::spawn(async move {
            let sent = Instant::now();
            let reply: Reply = tokio::time::timeout(timeout, requester.send())
                .await
                .unwrap_or(Err(Outcome::Timeout));
            let done = Instant::now();
            in_flight.fetch_sub(1, Ordering::Relaxed);
            let (outcome, pid, instance) = match reply {
                Ok((pid, instance)) => (Outcome::Ok, Some(pid), instance),
                Err(o) => (o, None, None),
            };
            let _ = tx.send(RequestRecord {
                intended_ms,
                sent_ms: ms_since(t0, sent),
                latency_ms: done.saturating_duration_since(intended).as_secs_f64() * 1000.0,
                outcome,
                pid,
                instance,
            });
        });
    }
}

/// The record of a request that could not be sent (in-flight cap reached, or no usable address).
fn failed_unsent(intended_ms: f64, now_ms: f64) -> RequestRecord {
    RequestRecord {
        intended_ms,
        sent_ms: now_ms,
        latency_ms: (now_ms - intended_ms).max(0.0),
        outcome: Outcome::Other,
        pid: None,
        instance: None,
    }
}

/// Sends one request over a new connection and returns the serving pid and instance, or why it failed.
pub async fn probe(
    protocol: Protocol,
    host: &str,
    port: u16,
    path: &str,
    timeout: Duration,
) -> Result<(u32, Option<String>), Outcome> {
    let spec = LoadSpec {
        protocol,
        host: host.to_string(),
        port,
        path: path.to_string(),
        rate: 1,
        duration: timeout,
        max_requests: 1,
        mode: ConnMode::NewConnection,
        timeout,
        connections: 0,
    };
    tokio::time::timeout(timeout, async {
        let requester = Requester::new(&spec).await?;
        requester.send().await
    })
    .await
    .unwrap_or(Err(Outcome::Timeout))
}
