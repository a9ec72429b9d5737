//! Open-loop bounds: count, duration, stop, in-flight behaviour; no tight timing assertions.

use super::servers::{self, Behaviour};
use crate::load::{ConnMode, LoadRun, LoadSpec, Outcome, Protocol};
use std::time::{Duration, Instant};

fn spec(protocol: Protocol, port: u16, rate: u32, duration_ms: u64, max: u64) -> LoadSpec {
    LoadSpec {
        protocol,
        host: "127.0.0.1".into(),
        port,
        path: "/".into(),
        rate,
        duration: Duration::from_millis(duration_ms),
        max_requests: max,
        mode: ConnMode::NewConnection,
        timeout: Duration::from_secs(5),
        connections: 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duration_bounds_the_count_and_all_succeed() {
    let s = servers::http(Behaviour::Json).await;
    let t0 = Instant::now();
    let r = LoadRun::start(spec(Protocol::Http, s.addr.port(), 500, 1000, 100_000), t0)
        .finish()
        .await;
    // requests are scheduled at i/rate for i/rate < duration: exactly rate × duration of them
    assert_eq!(r.records.len(), 500);
    assert_eq!(r.ok(), 500, "{:?}", r.outcomes());
    assert_eq!(r.per_pid().get("4242"), Some(&500));
    assert!(t0.elapsed() < Duration::from_secs(20));
    // intended times follow the schedule exactly; actual sends are never before them
    for (i, rec) in r.records.iter().enumerate() {
        assert!(
            (rec.intended_ms - i as f64 * 2.0).abs() < 50.0,
            "{i}: {rec:?}"
        );
        assert!(rec.sent_ms + 1e-6 >= rec.intended_ms, "{rec:?}");
        assert!(rec.latency_ms >= rec.sent_ms - rec.intended_ms - 1e-6);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_requests_bounds_the_count() {
    let s = servers::tcp_line().await;
    let t0 = Instant::now();
    let r = LoadRun::start(spec(Protocol::Tcp, s.addr.port(), 1000, 60_000, 300), t0)
        .finish()
        .await;
    assert_eq!(r.records.len(), 300);
    assert_eq!(r.ok(), 300, "{:?}", r.outcomes());
    assert!(t0.elapsed() < Duration::from_secs(30));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_new_socket_and_pooled() {
    let s = servers::udp().await;
    for mode in [ConnMode::NewConnection, ConnMode::KeepAlive] {
        let mut sp = spec(Protocol::Udp, s.addr.port(), 400, 500, 10_000);
        sp.mode = mode;
        let r = LoadRun::start(sp, Instant::now()).finish().await;
        assert_eq!(r.records.len(), 200, "{mode:?}");
        // loopback udp under a light load: allow a handful of drops, not more
        assert!(r.ok() >= 190, "{mode:?}: {:?}", r.outcomes());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_ends_early_and_in_flight_requests_time_out() {
    let s = servers::http(Behaviour::Silent).await;
    let mut sp = spec(Protocol::Http, s.addr.port(), 100, 60_000, 100_000);
    sp.timeout = Duration::from_millis(400);
    let t0 = Instant::now();
    let run = LoadRun::start(sp, t0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = run.stop().await;
    let n = r.records.len();
    assert!(n > 0 && n < 3000, "{n}");
    assert!(r.records.iter().all(|x| x.outcome == Outcome::Timeout));
    // every latency is at least the timeout (measured from the intended time)
    assert!(
        r.records.iter().all(|x| x.latency_ms >= 399.0),
        "{:?}",
        r.records[0]
    );
    assert!(t0.elapsed() < Duration::from_secs(30));
}

#[tokio::test]
async fn zero_rate_and_unresolvable_host() {
    let r = LoadRun::start(spec(Protocol::Http, 1, 0, 1000, 10), Instant::now())
        .finish()
        .await;
    assert!(r.records.is_empty());
    let mut sp = spec(Protocol::Http, 1, 100, 100, 5);
    sp.host = "no-such-host.invalid".into();
    let r = LoadRun::start(sp, Instant::now()).finish().await;
    assert_eq!(r.records.len(), 5);
    assert_eq!(r.outcomes().get("other"), Some(&5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_run_stops_the_schedule() {
    let s = servers::http(Behaviour::Json).await;
    let sp = spec(Protocol::Http, s.addr.port(), 200, 60_000, 100_000);
    let run = LoadRun::start(sp, Instant::now());
    let deadline = Instant::now() + Duration::from_secs(20);
    while s.accepted() < 5 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(run);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = s.accepted();
    tokio::time::sleep(Duration::from_millis(500)).await;
    // at 200 req/s a running schedule would add ~100 connections in 500 ms
    let after = s.accepted();
    assert!(before >= 5 && after - before <= 2, "{before} -> {after}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_beyond_the_in_flight_cap_are_other_and_unsent() {
    let s = servers::http(Behaviour::Silent).await;
    let mut sp = spec(Protocol::Http, s.addr.port(), 100, 200, 1000);
    sp.timeout = Duration::from_secs(2);
    let r = LoadRun::start_capped(sp, Instant::now(), 5).finish().await;
    assert_eq!(r.records.len(), 20);
    let o = r.outcomes();
    // the silent server holds the first five until they time out; the other fifteen never go out
    assert_eq!(
        (o.get("timeout"), o.get("other")),
        (Some(&5), Some(&15)),
        "{o:?}"
    );
    assert!(s.accepted() <= 5, "{}", s.accepted());
}
