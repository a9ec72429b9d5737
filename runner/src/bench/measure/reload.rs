//! Failed requests per reload: `-i 4` under a fixed load, K reloads one after another, once with a new
//! connection per request and once with keep-alive clients (16 connections, each reused, no retry).
//!
//! The load runs through all reloads; reload `i` owns the failures of requests *intended* between
//! its start and the next reload's start (the last one: until the load stops). Failures before the
//! first reload are reported as a note, not charged to a reload. A window lasts at least
//! `reload_window` (the next reload waits), so fast and slow reloads are judged under similar loads.

use super::Out;
use crate::bench::figures::{
    RELOAD_FAILED, RELOAD_KA_FAILED, RELOAD_KA_REQUESTS, RELOAD_REQUESTS, RELOAD_WALL,
};
use crate::bench::knobs::Knobs;
use crate::bench::live;
use crate::load::{ConnMode, LoadResult, LoadRun, LoadSpec, Outcome, Protocol};
use crate::target::Sandbox;
use std::path::Path;
use std::time::{Duration, Instant};

/// Client connections of the keep-alive reload load.
pub const KEEPALIVE_CONNECTIONS: u32 = 16;

/// Requests and failures per reload window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Windows {
    /// Requests intended in each window.
    pub requests: Vec<u64>,
    /// Failed requests intended in each window.
    pub failed: Vec<u64>,
    /// Failed requests intended before the first window.
    pub failed_before: u64,
}

/// Window `i` is `[starts[i], starts[i+1])` in ms since the load's `t0` (the last one open-ended).
pub fn per_window(r: &LoadResult, starts: &[f64]) -> Windows {
    let mut w = Windows {
        requests: vec![0; starts.len()],
        failed: vec![0; starts.len()],
        failed_before: 0,
    };
    for x in &r.records {
        let failed = x.outcome != Outcome::Ok;
        match starts.iter().rposition(|&s| x.intended_ms >= s) {
            Some(i) => {
                w.requests[i] += 1;
                w.failed[i] += u64::from(failed);
            }
            None => w.failed_before += u64::from(failed),
        }
    }
    w
}

/// Runs `reloads` reloads of the app `bench` (already online with `k.reload_instances` instances on
/// `port`) under new-connection load, then as many under keep-alive load, pushing failed requests per
/// reload of each, and wall time per reload.
pub async fn measure(
    sb: &Sandbox,
    cmd: &Path,
    port: u16,
    reloads: usize,
    k: &Knobs,
    out: &mut Out,
) -> Result<(), String> {
    measure_mode(sb, cmd, port, reloads, k, ConnMode::NewConnection, out).await?;
    measure_mode(sb, cmd, port, reloads, k, ConnMode::KeepAlive, out).await
}

/// [`measure`] with one connection mode.
async fn measure_mode(
    sb: &Sandbox,
    cmd: &Path,
    port: u16,
    reloads: usize,
    k: &Knobs,
    mode: ConnMode,
    out: &mut Out,
) -> Result<(), String> {
    let t0 = Instant::now();
    let spec = LoadSpec {
        protocol: Protocol::Http,
        host: "127.0.0.1".into(),
        port,
        path: "/".into(),
        rate: k.reload_rate,
        duration: Duration::from_secs(60 * reloads as u64 + 30),
        max_requests: u64::MAX,
        mode,
        timeout: k.timeout,
        connections: KEEPALIVE_CONNECTIONS,
    };
    let run = LoadRun::start(spec, t0);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut starts = Vec::new();
    let mut walls = Vec::new();
    let mut error = None;
    for i in 0..reloads {
        starts.push(t0.elapsed().as_secs_f64() * 1000.0);
        match live::timed(sb, cmd, &["reload", "bench"], Duration::from_secs(90)).await {
            Ok(ms) => walls.push(ms),
            Err(e) => {
                error = Some(format!("reload {}: {e}", i + 1));
                break;
            }
        }
        if let Err(e) = live::wait_online(
            sb,
            cmd,
            k.reload_instances as usize,
            Duration::from_secs(30),
        )
        .await
        {
            error = Some(format!("after reload {}: {e}", i + 1));
            break;
        }
        // each reload window lasts at least `reload_window`, so that every reload is judged under
        // a comparable number of requests
        let since = Duration::from_secs_f64(
            (t0.elapsed().as_secs_f64() * 1000.0 - starts[i]).max(0.0) / 1000.0,
        );
        tokio::time::sleep(Duration::from_millis(300).max(k.reload_window.saturating_sub(since)))
            .await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let r = run.stop().await;
    let w = per_window(&r, &starts);
    let before = w.failed_before;
    // a reload that failed to run is not a sample of "failed requests per reload"
    let (failed, requests) = match mode {
        ConnMode::NewConnection => (RELOAD_FAILED, RELOAD_REQUESTS),
        ConnMode::KeepAlive => (RELOAD_KA_FAILED, RELOAD_KA_REQUESTS),
    };
    for (f, n) in w.failed.iter().zip(&w.requests).take(walls.len()) {
        out.push(failed, *f as f64);
        out.push(requests, *n as f64);
    }
    // the wall-time figure stays the new-connection one (comparable across runs); keep-alive walls
    // include the drain of the kept-alive connections and go to the note
    let ka_walls = format!("{walls:.0?}");
    if mode == ConnMode::NewConnection {
        for w in walls {
            out.push(RELOAD_WALL, w);
        }
    }
    out.note(format!(
        "{}: {} requests at {} req/s over {} reloads: {} failed ({:?}){}",
        match mode {
            ConnMode::NewConnection => "new-connection",
            ConnMode::KeepAlive => "keep-alive",
        },
        r.records.len(),
        k.reload_rate,
        starts.len(),
        r.failed(),
        r.outcomes(),
        if before > 0 {
            format!(", {before} of them before the first reload")
        } else {
            String::new()
        } + &if mode == ConnMode::KeepAlive {
            format!("; reload walls {ka_walls} ms")
        } else {
            String::new()
        }
    ));
    match error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::RequestRecord;

    fn rec(intended_ms: f64, outcome: Outcome) -> RequestRecord {
        RequestRecord {
            intended_ms,
            sent_ms: intended_ms,
            latency_ms: 1.0,
            outcome,
            pid: None,
            instance: None,
        }
    }

    #[test]
    fn failures_go_to_the_reload_they_were_intended_in() {
        let r = LoadResult {
            records: vec![
                rec(100.0, Outcome::Refused), // before the first reload
                rec(600.0, Outcome::Ok),
                rec(700.0, Outcome::Reset),
                rec(1500.0, Outcome::Timeout),
                rec(2000.0, Outcome::Reset), // exactly at the third start: third window
                rec(9000.0, Outcome::Status5xx),
            ],
        };
        let w = per_window(&r, &[500.0, 1200.0, 2000.0]);
        assert_eq!(w.failed, vec![1, 1, 2]);
        assert_eq!(w.requests, vec![2, 1, 2]);
        assert_eq!(w.failed_before, 1);
        let w = per_window(&r, &[]);
        assert!(w.failed.is_empty() && w.requests.is_empty());
        assert_eq!(w.failed_before, 5);
    }
}
