//! Failed requests per reload: `-i 4` under a fixed new-connection load, K reloads one after another.
//!
//! The load runs through all reloads; reload `i` owns the failures of requests *intended* between
//! its start and the next reload's start (the last one: until the load stops). Failures before the
//! first reload are reported as a note, not charged to a reload.

use super::Out;
use crate::bench::figures::{RELOAD_FAILED, RELOAD_WALL};
use crate::bench::knobs::Knobs;
use crate::bench::live;
use crate::load::{ConnMode, LoadResult, LoadRun, LoadSpec, Outcome, Protocol};
use crate::target::Sandbox;
use std::path::Path;
use std::time::{Duration, Instant};

/// Failures per window: window `i` is `[starts[i], starts[i+1])` in ms (the last one open-ended);
/// returns (failures per window, failures before the first window).
pub fn failures_per_window(r: &LoadResult, starts: &[f64]) -> (Vec<u64>, u64) {
    let mut per = vec![0u64; starts.len()];
    let mut before = 0;
    for x in r.records.iter().filter(|x| x.outcome != Outcome::Ok) {
        match starts.iter().rposition(|&s| x.intended_ms >= s) {
            Some(i) => per[i] += 1,
            None => before += 1,
        }
    }
    (per, before)
}

/// Runs `reloads` reloads of the app `bench` (already online with `k.reload_instances` instances on
/// `port`) under load, pushing failed requests and wall time per reload.
pub async fn measure(
    sb: &Sandbox,
    cmd: &Path,
    port: u16,
    reloads: usize,
    k: &Knobs,
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
        mode: ConnMode::NewConnection,
        timeout: k.timeout,
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
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let r = run.stop().await;
    let (per, before) = failures_per_window(&r, &starts);
    // a reload that failed to run is not a sample of "failed requests per reload"
    for f in per.iter().take(walls.len()) {
        out.push(RELOAD_FAILED, *f as f64);
    }
    for w in walls {
        out.push(RELOAD_WALL, w);
    }
    out.note(format!(
        "{} requests at {} req/s over {} reloads: {} failed ({:?}){}",
        r.records.len(),
        k.reload_rate,
        starts.len(),
        r.failed(),
        r.outcomes(),
        if before > 0 {
            format!(", {before} of them before the first reload")
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
        let (per, before) = failures_per_window(&r, &[500.0, 1200.0, 2000.0]);
        assert_eq!(per, vec![1, 1, 2]);
        assert_eq!(before, 1);
        let (per, before) = failures_per_window(&r, &[]);
        assert!(per.is_empty());
        assert_eq!(before, 5);
    }
}
