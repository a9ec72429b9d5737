//! Measures the highest new-connection rate the generator sustains against a plain node http server.
//! Ignored by default (it is a measurement, not a check):
//! `cargo test --release -p conform --lib load::tests::bench -- --ignored --nocapture`.

use super::node;
use crate::load::{ConnMode, LoadRun, LoadSpec, Protocol};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; run explicitly with --ignored --nocapture"]
async fn max_new_connection_rate_against_node() {
    let Some(fx) = node::start("http.js", Protocol::Http).await else {
        return;
    };
    let mut best = 0;
    for rate in [1000, 2000, 3000, 4000, 5000, 6000, 8000, 10_000, 12_000] {
        let spec = LoadSpec {
            protocol: Protocol::Http,
            host: "127.0.0.1".into(),
            port: fx.port,
            path: "/".into(),
            rate,
            duration: Duration::from_secs(3),
            max_requests: u64::MAX,
            mode: ConnMode::NewConnection,
            timeout: Duration::from_secs(2),
        };
        let t = Instant::now();
        let r = LoadRun::start(spec, Instant::now()).finish().await;
        let wall = t.elapsed().as_secs_f64();
        let lat = r.latency_ms();
        let lag_p99 = {
            let mut lags: Vec<f64> = r
                .records
                .iter()
                .map(|x| x.sent_ms - x.intended_ms)
                .collect();
            lags.sort_by(f64::total_cmp);
            lags.get(lags.len() * 99 / 100).copied().unwrap_or(0.0)
        };
        let achieved = r.ok() as f64 / 3.0;
        let p99 = lat.get("p99").copied().unwrap_or(f64::INFINITY);
        let sustained = r.failed() == 0 && p99 < 100.0 && lag_p99 < 50.0;
        println!(
            "rate {rate:>6}/s: sent {:>6} ok {:>6} failed {:>4} ({:.0} ok/s, wall {wall:.1}s) p50 {:.2} p99 {:.2} max {:.1} ms, send lag p99 {lag_p99:.1} ms -> {}",
            r.records.len(),
            r.ok(),
            r.failed(),
            achieved,
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
    println!("max sustained new-connection rate: {best} req/s");
}
