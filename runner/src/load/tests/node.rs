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
