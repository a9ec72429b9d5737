//! Measures keep-alive requests lost across reloads of a real app under a real manager. Ignored by
//! default (a measurement, not a check); configured by environment:
//!
//! ```sh
//! KA_MANAGER=target/debug/refpm KA_APP=fixtures/drain/express.js KA_INSTANCES=4 KA_POLICY=shared \
//!   KA_RATE=1000 KA_RELOADS=10 KA_WINDOW_MS=10000 KA_CONNECTIONS=16 [KA_MODE=new] \
//!   cargo test -p conform --lib load::tests::reload_keepalive -- --ignored --nocapture
//! ```
//!
//! Prints one JSON line: requests, failed, outcomes, reload walls, keep-alive p50/p99.

use crate::load::{ConnMode, LoadRun, LoadSpec, Protocol};
use std::time::{Duration, Instant};

fn var<T: std::str::FromStr>(k: &str, d: T) -> T {
    std::env::var(k)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(d)
}

async fn manager(bin: &str, home: &std::path::Path, port: u16, args: &[&str]) -> (bool, String) {
    let out = tokio::process::Command::new(bin)
        .args(args)
        .env("PM2_HOME", home)
        .env("PORT", port.to_string())
        .output()
        .await
        .expect("manager runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: set KA_MANAGER and KA_APP"]
async fn reload_keepalive() {
    let (Ok(bin), Ok(app)) = (std::env::var("KA_MANAGER"), std::env::var("KA_APP")) else {
        eprintln!("KA_MANAGER and KA_APP not set");
        return;
    };
    let instances: u32 = var("KA_INSTANCES", 2);
    let policy: String = var("KA_POLICY", "rr".to_string());
    let rate: u32 = var("KA_RATE", 1000);
    let reloads: usize = var("KA_RELOADS", 10);
    let window = Duration::from_millis(var("KA_WINDOW_MS", 10_000));
    let connections: u32 = var("KA_CONNECTIONS", 16);
    let home = tempfile::Builder::new()
        .prefix("ka.")
        .tempdir_in("/tmp")
        .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let n = instances.to_string();
    let mut start = vec![
        "start",
        app.as_str(),
        "-i",
        n.as_str(),
        "--name",
        "ka",
        "--listen-timeout",
        "15000",
    ];
    if bin.contains("refpm") {
        start.extend(["--lb-policy", policy.as_str()]);
    }
    let (ok, err) = manager(&bin, home.path(), port, &start).await;
    assert!(ok, "{err}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while crate::load::probe(
        Protocol::Http,
        "127.0.0.1",
        port,
        "/",
        Duration::from_secs(2),
    )
    .await
    .is_err()
    {
        assert!(Instant::now() < deadline, "app never served");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let spec = LoadSpec {
        protocol: Protocol::Http,
        host: "127.0.0.1".into(),
        port,
        path: "/".into(),
        rate,
        duration: window * (reloads as u32 + 1) + Duration::from_secs(120),
        max_requests: u64::MAX,
        mode: if var("KA_MODE", "keep-alive".to_string()) == "new" {
            ConnMode::NewConnection
        } else {
            ConnMode::KeepAlive
        },
        timeout: Duration::from_secs(5),
        connections,
    };
    let t0 = Instant::now();
    let run = LoadRun::start(spec, t0);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut walls = Vec::new();
    for _ in 0..reloads {
        let s = Instant::now();
        let (ok, err) = manager(&bin, home.path(), port, &["reload", "ka"]).await;
        walls.push(s.elapsed().as_millis() as u64);
        assert!(ok, "{err}");
        tokio::time::sleep(window.saturating_sub(s.elapsed())).await;
    }
    let r = run.stop().await;
    let _ = manager(&bin, home.path(), port, &["kill"]).await;
    if let Ok(dir) = std::env::var("KA_KEEP_LOGS") {
        // the daemon's logs (e.g. REFPM_TRACE_RR lines) outlive the temporary home
        for entry in std::fs::read_dir(home.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            if entry.path().extension().is_some_and(|e| e == "log") {
                let _ = std::fs::copy(
                    entry.path(),
                    std::path::Path::new(&dir).join(entry.file_name()),
                );
            }
        }
    }
    let lat = r.latency_ms();
    println!(
        "{}",
        serde_json::json!({
            "manager": bin, "app": app, "instances": instances, "policy": policy, "rate": rate,
            "connections": connections, "reloads": reloads, "requests": r.records.len(),
            "failed": r.failed(), "outcomes": r.outcomes(), "reload_walls_ms": walls,
            "p50_ms": lat.get("p50"), "p99_ms": lat.get("p99"),
        })
    );
}
