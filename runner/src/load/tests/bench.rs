//! Measures the highest rate the generator sustains against a plain node http server
//! (`fixtures/http.js`), new-connection and keep-alive. Ignored by default (a measurement, not a check):
//! `cargo test --release -p conform --lib load::tests::bench -- --ignored --nocapture --test-threads 1`.
//! "Sustained" = every request ok, p99 latency (from the intended time) < 250 ms and p99 send lag
//! (actual − intended send time) < 100 ms: the schedule is kept and nothing queues up. On a quiet machine
//! the figures are far below these bounds; they are loose so that CPU stolen by other work does not
//! count as a generator limit.

use super::node;
use crate::load::{ConnMode, LoadRun, LoadSpec, Protocol};
use std::time::{Duration, Instant};

const STEP: Duration = Duration::from_secs(3);

async fn ramp(port: u16, mode: ConnMode, rates: &[u32]) -> u32 {
    let mut best = 0;
    for &rate in rates {
        let spec = LoadSpec {
            protocol: Protocol::Http,
            host: "127.0.0.1".into(),
            port,
            path: "/".into(),
            rate,
            duration: STEP,
            max_requests: u64::MAX,
            mode,
            timeout: Duration::from_secs(2),
            connections: 0,
        };
        let r = LoadRun::start(spec, Instant::now()).finish().await;
        let lat = r.latency_ms();
        let mut lags: Vec<f64> = r
            .records
            .iter()
            .map(|x| x.sent_ms - x.intended_ms)
            .collect();
        lags.sort_by(f64::total_cmp);
        let lag_p99 = lags.get(lags.len() * 99 / 100).copied().unwrap_or(0.0);
        let p99 = lat.get("p99").copied().unwrap_or(f64::INFINITY);
        let sustained = r.failed() == 0 && p99 < 250.0 && lag_p99 < 100.0;
        println!(
            "{mode:?} {rate:>6}/s: sent {:>6} ok {:>6} failed {:>4} p50 {:.2} p99 {:.2} max {:.1} ms, send lag p99 {lag_p99:.1} ms -> {}",
            r.records.len(),
            r.ok(),
            r.failed(),
            lat.get("p50").copied().unwrap_or(0.0),
            p99,
            lat.get("max").copied().unwrap_or(0.0),
            if sustained {
                "sustained"
            } else {
                "NOT sustained"
            }
        );
        if !sustained {
            println!("  outcomes at {rate}/s: {:?}", r.outcomes());
            break;
        }
        best = rate;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    best
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; run explicitly with --ignored --nocapture"]
async fn max_rate_against_node() {
    let Some(fx) = node::start("http.js", Protocol::Http).await else {
        return;
    };
    let rates = [
        1000, 2000, 3000, 4000, 5000, 6000, 8000, 10_000, 12_000, 16_000, 20_000,
    ];
    let nc = ramp(fx.port, ConnMode::NewConnection, &rates).await;
    let ka = ramp(fx.port, ConnMode::KeepAlive, &rates).await;
    println!("max sustained: new-connection {nc} req/s, keep-alive {ka} req/s");
}
