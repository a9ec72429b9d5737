//! Against the real `node fixtures/http.js`, when node and the fixture are present.

use crate::load::{ConnMode, LoadRun, LoadSpec, Protocol, probe};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A node fixture process, killed (by pid) and reaped on drop.
pub struct NodeFixture {
    pub child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for NodeFixture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

/// Starts `node fixtures/<name>` on a free port and waits (polling, with a deadline) until it answers.
pub async fn start(name: &str, protocol: Protocol) -> Option<NodeFixture> {
    start_with(name, protocol, &[]).await
}

/// As [`start`], with extra environment variables.
pub async fn start_with(
    name: &str,
    protocol: Protocol,
    env: &[(&str, String)],
) -> Option<NodeFixture> {
    let script = fixtures_dir().join(name);
    if !script.exists() || Command::new("node").arg("--version").output().is_err() {
        eprintln!("skipped: node or {} missing", script.display());
        return None;
    }
    let port = super::servers::closed_port();
    let dir = tempfile::tempdir().unwrap();
    let child = Command::new("node")
        .arg(&script)
        .env("PORT", port.to_string())
        .env("CONFORM_RECORD", dir.path().join("record.jsonl"))
        .env("NODE_APP_INSTANCE", "0")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let fx = NodeFixture {
        child,
        port,
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let p = probe(protocol, "127.0.0.1", port, "/", Duration::from_secs(2)).await;
        if p.is_ok() {
            return Some(fx);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("node {name} did not answer within 20 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_http_fixture_serves_every_request_from_its_pid() {
    let Some(fx) = start("http.js", Protocol::Http).await else {
        return;
    };
    for mode in [ConnMode::NewConnection, ConnMode::KeepAlive] {
        let spec = LoadSpec {
            protocol: Protocol::Http,
            host: "127.0.0.1".into(),
            port: fx.port,
            path: "/".into(),
            rate: 500,
            duration: Duration::from_secs(1),
            max_requests: 10_000,
            mode,
            timeout: Duration::from_secs(5),
            connections: 0,
        };
        let r = LoadRun::start(spec, Instant::now()).finish().await;
        assert_eq!(r.records.len(), 500, "{mode:?}");
        assert_eq!(r.ok(), 500, "{mode:?}: {:?}", r.outcomes());
        let pid = fx.child.id().to_string();
        assert_eq!(r.per_pid().get(&pid), Some(&500), "{mode:?}");
        assert!(r.records.iter().all(|x| x.instance.as_deref() == Some("0")));
        let lat = r.latency_ms();
        assert!(lat["p50"] <= lat["p99"] && lat["p99"] <= lat["max"]);
    }
}

/// A self-signed certificate and key made with `openssl` in `dir`, or `None` without openssl.
fn self_signed(dir: &std::path::Path) -> Option<(String, String)> {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let ok = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then(|| (cert.display().to_string(), key.display().to_string()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_https_fixture_with_a_self_signed_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let Some((cert, key)) = self_signed(dir.path()) else {
        eprintln!("skipped: openssl missing");
        return;
    };
    let env = [("CONFORM_TLS_CERT", cert), ("CONFORM_TLS_KEY", key)];
    let Some(fx) = start_with("https.js", Protocol::Https, &env).await else {
        return;
    };
    for mode in [ConnMode::NewConnection, ConnMode::KeepAlive] {
        let spec = LoadSpec {
            protocol: Protocol::Https,
            host: "127.0.0.1".into(),
            port: fx.port,
            path: "/".into(),
            rate: 100,
            duration: Duration::from_secs(1),
            max_requests: 10_000,
            mode,
            timeout: Duration::from_secs(10),
            connections: 0,
        };
        let r = LoadRun::start(spec, Instant::now()).finish().await;
        assert_eq!(r.records.len(), 100, "{mode:?}");
        assert_eq!(r.ok(), 100, "{mode:?}: {:?}", r.outcomes());
        assert_eq!(r.per_pid().get(&fx.child.id().to_string()), Some(&100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_slow_request_times_out_or_completes_after_two_seconds() {
    let Some(fx) = start("graceful.js", Protocol::Http).await else {
        return;
    };
    let t = Instant::now();
    let short = probe(
        Protocol::Http,
        "127.0.0.1",
        fx.port,
        "/slow",
        Duration::from_millis(500),
    )
    .await;
    assert_eq!(short, Err(crate::load::Outcome::Timeout));
    assert!(t.elapsed() < Duration::from_secs(10));
    let t = Instant::now();
    let long = probe(
        Protocol::Http,
        "127.0.0.1",
        fx.port,
        "/slow",
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(long.map(|(pid, _)| pid), Ok(fx.child.id()));
    assert!(
        t.elapsed() >= Duration::from_millis(1900),
        "{:?}",
        t.elapsed()
    );
}
