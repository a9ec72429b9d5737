//! Throughput, latency, supervisor memory and CPU of one serving subject.
//!
//! Max throughput is found by stepping the open-loop rate up (×[`RAMP_FACTOR`] per step) until the
//! achieved ok rate stops growing; the figure is the best ok rate any step achieved, with that step's
//! failures.
//! The first step runs at the fixed latency rate for longer and gives the latency figures. The
//! supervisor's CPU time is read before and after the new-connection ramp and its RSS mid-step.
//! Order on one subject: idle RSS, new-connection ramp, wrk cross-check, keep-alive ramp.

use super::Out;
use crate::bench::figures::*;
use crate::bench::knobs::Knobs;
use crate::bench::procinfo;
use crate::load::{ConnMode, LoadResult, LoadRun, LoadSpec, Outcome, Protocol};
use std::time::{Duration, Instant};

/// Rate multiplier between ramp steps.
pub const RAMP_FACTOR: f64 = 1.5;
/// Most steps of one ramp.
pub const RAMP_STEPS: usize = 10;

fn spec(port: u16, mode: ConnMode, rate: u32, duration: Duration, timeout: Duration) -> LoadSpec {
    LoadSpec {
        protocol: Protocol::Http,
        host: "127.0.0.1".into(),
        port,
        path: "/".into(),
        rate,
        duration,
        max_requests: u64::MAX,
        mode,
        timeout,
        // keep-alive: as many persistent connections as wrk's -c64 cross-check uses
        connections: 64,
    }
}

/// Achieved ok rate: ok replies divided by the time from the first intended send to the last ok reply
/// (at least `window`). Under overload the backlog drains after the window at the server's pace, so
/// this is the server's capacity; below capacity it is the offered rate.
pub fn ok_rate(r: &LoadResult, window: Duration) -> f64 {
    let Some(first) = r
        .records
        .iter()
        .map(|x| x.intended_ms)
        .min_by(f64::total_cmp)
    else {
        return 0.0;
    };
    let ok: Vec<_> = r
        .records
        .iter()
        .filter(|x| x.outcome == Outcome::Ok)
        .collect();
    let last = ok
        .iter()
        .map(|x| x.intended_ms + x.latency_ms)
        .fold(first, f64::max);
    let span_s = ((last - first) / 1000.0).max(window.as_secs_f64());
    ok.len() as f64 / span_s
}

/// The rates of a ramp, [`RAMP_STEPS`] of them: `first` (the latency step), then from `2 × first`
/// ×[`RAMP_FACTOR`] each step.
pub fn ramp_rates(first: u32) -> Vec<u32> {
    let base = 2.0 * f64::from(first);
    std::iter::once(first)
        .chain((0..RAMP_STEPS - 1).map(|i| (base * RAMP_FACTOR.powi(i as i32)).round() as u32))
        .collect()
}

/// One step of a ramp.
#[derive(Debug, Clone, PartialEq)]
pub struct RampStep {
    /// Intended rate (req/s).
    pub rate: u32,
    /// Achieved ok replies per second ([`ok_rate`]).
    pub ok_rate: f64,
    /// Requests issued.
    pub sent: u64,
    /// Requests that failed.
    pub failed: u64,
}

/// Whether the ramp stops after `steps`: neither of the last two steps raised the best ok rate of
/// the steps before it by 5 %. A hiccup of a shared machine costs one step, not the ramp; a server at
/// its limit stops improving whatever the offered rate.
pub fn ramp_done(steps: &[RampStep]) -> bool {
    let improves = |j: usize| {
        let best_before = steps[..j].iter().map(|s| s.ok_rate).fold(0.0, f64::max);
        steps[j].ok_rate >= best_before * 1.05
    };
    steps.len() >= 3 && !improves(steps.len() - 1) && !improves(steps.len() - 2)
}

/// The step with the best ok rate.
pub fn best(steps: &[RampStep]) -> Option<&RampStep> {
    steps.iter().max_by(|a, b| a.ok_rate.total_cmp(&b.ok_rate))
}

/// Runs a ramp; the first step (at `k.latency_rate` for `k.latency_sample`) yields the latency figures.
/// Returns the steps and the highest supervisor RSS seen mid-step.
async fn ramp(
    port: u16,
    mode: ConnMode,
    k: &Knobs,
    daemon: Option<u32>,
    out: &mut Out,
    p50: &'static str,
    p99: &'static str,
) -> (Vec<RampStep>, Option<f64>) {
    let mut steps: Vec<RampStep> = Vec::new();
    let mut rss: Option<f64> = None;
    for (i, rate) in ramp_rates(k.latency_rate).into_iter().enumerate() {
        let window = if i == 0 {
            k.latency_sample
        } else {
            k.ramp_step
        };
        let run = LoadRun::start(
            spec(port, mode, rate, window, k.ramp_timeout),
            Instant::now(),
        );
        tokio::time::sleep(window.mul_f64(0.6)).await;
        if let Some(r) = daemon.and_then(procinfo::rss_mb) {
            rss = Some(rss.map_or(r, |m: f64| m.max(r)));
        }
        let r = run.finish().await;
        if i == 0 {
            let l = r.latency_ms();
            if let (Some(a), Some(b)) = (l.get("p50"), l.get("p99")) {
                out.push(p50, *a);
                out.push(p99, *b);
            }
        }
        steps.push(RampStep {
            rate,
            ok_rate: ok_rate(&r, window),
            sent: r.records.len() as u64,
            failed: r.failed(),
        });
        if ramp_done(&steps) {
            if r.failed() > 0 {
                out.note(format!(
                    "{mode:?} ramp, last step {rate}/s: outcomes {:?}",
                    r.outcomes()
                ));
            }
            break;
        }
        // let the previous step's connections drain before the next
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let trace: Vec<String> = steps
        .iter()
        .map(|s| format!("{}/s->{:.0} ok/s ({} failed)", s.rate, s.ok_rate, s.failed))
        .collect();
    out.note(format!("{mode:?} ramp: {}", trace.join(", ")));
    (steps, rss)
}

/// Measures every throughput-section figure of the subject serving on `port`.
pub async fn measure(
    port: u16,
    daemon: Option<u32>,
    k: &Knobs,
    out: &mut Out,
) -> Result<(), String> {
    if let Some(rss) = daemon.and_then(procinfo::rss_mb) {
        out.push(RSS_IDLE, rss);
    }
    let cpu0 = daemon.and_then(procinfo::cpu_seconds);
    let (steps, rss) = ramp(
        port,
        ConnMode::NewConnection,
        k,
        daemon,
        out,
        NEWCONN_P50,
        NEWCONN_P99,
    )
    .await;
    let cpu1 = daemon.and_then(procinfo::cpu_seconds);
    if let Some(b) = best(&steps) {
        out.push(NEWCONN_MAX, b.ok_rate);
        out.push(NEWCONN_FAILED, b.failed as f64);
    }
    if let Some(rss) = rss {
        out.push(RSS_LOAD, rss);
    }
    let answered: u64 = steps.iter().map(|s| s.sent - s.failed).sum();
    if let (Some(a), Some(b)) = (cpu0, cpu1)
        && answered > 0
    {
        out.push(CPU_PER_10K, (b - a) / answered as f64 * 10_000.0);
    }

    if let Some(wrk) = &k.wrk {
        let w = super::wrk::run(wrk, port, k.sample).await?;
        out.push(NEWCONN_WRK, w.rps);
        if w.errors > 0 {
            out.note(format!(
                "{NEWCONN_WRK}: {} socket errors or bad statuses",
                w.errors
            ));
        }
    }

    let (steps, _) = ramp(
        port,
        ConnMode::KeepAlive,
        k,
        None,
        out,
        KEEPALIVE_P50,
        KEEPALIVE_P99,
    )
    .await;
    if let Some(b) = best(&steps) {
        out.push(KEEPALIVE_MAX, b.ok_rate);
        out.push(KEEPALIVE_FAILED, b.failed as f64);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::RequestRecord;

    fn rec(intended_ms: f64, latency_ms: f64, outcome: Outcome) -> RequestRecord {
        RequestRecord {
            intended_ms,
            sent_ms: intended_ms,
            latency_ms,
            outcome,
            pid: Some(1),
            instance: None,
        }
    }

    #[test]
    fn ok_rate_counts_the_drain_of_a_backlog() {
        let r = LoadResult {
            records: vec![
                rec(10.0, 5.0, Outcome::Ok),      // done at 15
                rec(500.0, 400.0, Outcome::Ok),   // done at 900
                rec(900.0, 1110.0, Outcome::Ok),  // done at 2010: the span is 2 s
                rec(20.0, 1.0, Outcome::Refused), // failures never count
                rec(30.0, 5000.0, Outcome::Timeout),
            ],
        };
        assert_eq!(ok_rate(&r, Duration::from_secs(1)), 1.5);
        // the window is a floor
        assert_eq!(ok_rate(&r, Duration::from_secs(3)), 1.0);
        assert_eq!(ok_rate(&LoadResult::default(), Duration::from_secs(1)), 0.0);
    }

    fn step(rate: u32, ok_rate: f64, failed: u64) -> RampStep {
        RampStep {
            rate,
            ok_rate,
            sent: rate as u64,
            failed,
        }
    }

    #[test]
    fn ramp_rates_grow_geometrically() {
        let r = ramp_rates(1000);
        assert_eq!(r.len(), RAMP_STEPS);
        assert_eq!(&r[..5], &[1000, 2000, 3000, 4500, 6750]);
    }

    #[test]
    fn ramp_stops_when_two_steps_in_a_row_do_not_improve() {
        let mut s = vec![step(1000, 1000.0, 0), step(2000, 1300.0, 0)];
        assert!(!ramp_done(&s));
        // a hiccup (no gain) followed by a gain: the ramp goes on
        s.push(step(3000, 1310.0, 0));
        assert!(!ramp_done(&s));
        s.push(step(4500, 4400.0, 0));
        assert!(!ramp_done(&s));
        // saturated: late replies or failures, the ok rate no longer grows by 5 %
        s.push(step(6750, 4500.0, 0));
        assert!(!ramp_done(&s));
        s.push(step(10125, 4300.0, 3000));
        assert!(ramp_done(&s));
        assert_eq!(best(&s).unwrap().rate, 6750);
        assert!(!ramp_done(&[]));
        assert!(!ramp_done(&[step(1000, 10.0, 900), step(2000, 5.0, 900)]));
        assert!(best(&[]).is_none());
    }
}
