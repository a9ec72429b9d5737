//! Throughput, latency, supervisor memory and CPU of one serving subject.
//!
//! Throughput is the knee of a stepped open-loop ramp (see [`super::knee`]): the highest rate sustained
//! with < 0.1 % failed requests and a bounded p99, reported beside the peak ok rate and its failures.
//! The first step runs at the fixed latency rate for longer and gives the latency figures. The
//! supervisor's CPU time is read before and after the new-connection ramp and its RSS mid-step.
//! Order on one subject: idle RSS, new-connection ramp, wrk cross-check, keep-alive ramp.

use super::Out;
use super::knee::{RampStep, bisect, knee, peak, ramp_done, ramp_rates, trace};
use crate::bench::figures::*;
use crate::bench::knobs::Knobs;
use crate::bench::procinfo;
use crate::load::{ConnMode, LoadResult, LoadRun, LoadSpec, Outcome, Protocol};
use std::time::{Duration, Instant};

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

/// Latency percentiles of the requests due before `head` (cold: the keep-alive pool is still opening
/// connections) and after it (warm).
pub fn split_latency(
    r: &LoadResult,
    head: Duration,
) -> (
    std::collections::BTreeMap<String, f64>,
    std::collections::BTreeMap<String, f64>,
) {
    let cut = head.as_secs_f64() * 1000.0;
    let (cold, warm): (Vec<_>, Vec<_>) =
        r.records.iter().cloned().partition(|x| x.intended_ms < cut);
    (
        LoadResult { records: cold }.latency_ms(),
        LoadResult { records: warm }.latency_ms(),
    )
}

/// One ramp step at `rate` for `window`; samples the supervisor's RSS mid-step into `rss`.
async fn run_step(
    port: u16,
    mode: ConnMode,
    rate: u32,
    window: Duration,
    k: &Knobs,
    daemon: Option<u32>,
    rss: &mut Option<f64>,
) -> (RampStep, LoadResult) {
    let run = LoadRun::start(
        spec(port, mode, rate, window, k.ramp_timeout),
        Instant::now(),
    );
    tokio::time::sleep(window.mul_f64(0.6)).await;
    if let Some(r) = daemon.and_then(procinfo::rss_mb) {
        *rss = Some(rss.map_or(r, |m: f64| m.max(r)));
    }
    let r = run.finish().await;
    let step = RampStep {
        rate,
        ok_rate: ok_rate(&r, window),
        sent: r.records.len() as u64,
        failed: r.failed(),
        p99_ms: r.latency_ms().get("p99").copied(),
    };
    (step, r)
}

/// Runs a ramp, then bisects towards its knee; the first step (at `k.latency_rate` for
/// `k.latency_sample`) yields the latency figures. Returns the steps and the highest supervisor RSS
/// seen mid-step.
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
            k.warmup + k.latency_sample
        } else {
            k.ramp_step
        };
        let (step, r) = run_step(port, mode, rate, window, k, daemon, &mut rss).await;
        if i == 0 {
            let (cold, warm) = split_latency(&r, k.warmup);
            if let (Some(a), Some(b)) = (warm.get("p50"), warm.get("p99")) {
                out.push(p50, *a);
                out.push(p99, *b);
            }
            if let (Some(a), Some(b)) = (cold.get("p50"), cold.get("p99")) {
                out.note(format!(
                    "{mode:?} latency at {rate}/s: first {} ms (connections opening) p50 {a:.1} / p99 {b:.1} ms, then p50 {:.1} / p99 {:.1} ms",
                    k.warmup.as_millis(),
                    warm.get("p50").copied().unwrap_or(f64::NAN),
                    warm.get("p99").copied().unwrap_or(f64::NAN),
                ));
            }
        }
        steps.push(step);
        if r.failed() > 0 && ramp_done(&steps) {
            out.note(format!(
                "{mode:?} ramp, last step {rate}/s: outcomes {:?}",
                r.outcomes()
            ));
        }
        // let the previous step's connections drain before the next
        tokio::time::sleep(Duration::from_millis(200)).await;
        if ramp_done(&steps) {
            break;
        }
    }
    // nothing sustained even at the first rate: halve it (bounded) so the knee is a real rate
    while let Some(rate) = super::knee::descend(&steps, k.latency_rate) {
        let (step, _) = run_step(port, mode, rate, k.ramp_step, k, daemon, &mut rss).await;
        steps.push(step);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for _ in 0..super::knee::BISECT_STEPS {
        let Some(rate) = bisect(&steps) else { break };
        let (step, _) = run_step(port, mode, rate, k.ramp_step, k, daemon, &mut rss).await;
        steps.push(step);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    out.note(format!("{mode:?} ramp: {}", trace(&steps)));
    (steps, rss)
}

/// Pushes the knee (0 with a note when no step was sustained), the peak and its failed share.
fn push_throughput(out: &mut Out, steps: &[RampStep], mode: ConnMode, figs: [&'static str; 3]) {
    let [max, peak_rps, failed] = figs;
    match knee(steps) {
        Some(s) => out.push(max, f64::from(s.rate)),
        None if !steps.is_empty() => {
            out.push(max, 0.0);
            out.note(format!(
                "{mode:?} ramp: no step was sustained (lowest rate tried {}/s)",
                steps[0].rate
            ));
        }
        None => {}
    }
    if let Some(p) = peak(steps) {
        out.push(peak_rps, p.ok_rate);
        out.push(failed, p.failed_share() * 100.0);
    }
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
    push_throughput(
        out,
        &steps,
        ConnMode::NewConnection,
        [NEWCONN_MAX, NEWCONN_PEAK, NEWCONN_FAILED],
    );
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
    push_throughput(
        out,
        &steps,
        ConnMode::KeepAlive,
        [KEEPALIVE_MAX, KEEPALIVE_PEAK, KEEPALIVE_FAILED],
    );
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
    fn latency_splits_at_the_warm_up() {
        let r = LoadResult {
            records: vec![
                rec(10.0, 300.0, Outcome::Ok),
                rec(20.0, 320.0, Outcome::Ok),
                rec(600.0, 1.0, Outcome::Ok),
                rec(700.0, 2.0, Outcome::Ok),
            ],
        };
        let (cold, warm) = split_latency(&r, Duration::from_millis(500));
        assert!(cold["p50"] >= 300.0);
        assert!(warm["p99"] <= 2.0);
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
}
