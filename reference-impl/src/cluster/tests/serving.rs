//! Unmodified HTTP/net servers behind the balancer: rr and shared, spreading, EADDRINUSE, port 0.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::harness::*;
use crate::cluster::{LbPolicy, WorkerEvent};

async fn serves_three_gets(policy: LbPolicy) {
    let mut rig = Rig::new();
    let app = rig.write("app.js", HTTP_APP);
    let port = free_port();
    let (w, mut rx) = rig.spawn(&app, &[port.to_string()], "web", Some(policy));
    let (_, before) = wait_for(&mut rx, "online", |e| *e == WorkerEvent::Online).await;
    assert!(before.is_empty(), "online comes first: {before:?}");
    // The app's own listen callback and the cluster's `listening` report race: accept either order.
    let (ev, seen) = wait_for(&mut rx, "listening", |e| {
        matches!(e, WorkerEvent::Listening { .. })
    })
    .await;
    assert_eq!(
        ev,
        WorkerEvent::Listening {
            address: "::".into(),
            port,
            udp: false
        }
    );
    let report =
        |e: &WorkerEvent| matches!(e, WorkerEvent::Message(v) if v.get("isWorker").is_some());
    let info = match seen.into_iter().find(report) {
        Some(e) => e,
        None => wait_for(&mut rx, "isWorker report", report).await.0,
    };
    assert_eq!(
        info,
        WorkerEvent::Message(json!({"isWorker": true, "id": 1, "port": port}))
    );
    for _ in 0..3 {
        let body = http_get(port, "/")
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}", rig.stderr()));
        assert_eq!(body, w.pid().to_string());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_worker_serves_under_rr() {
    serves_three_gets(LbPolicy::Rr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_worker_serves_under_shared() {
    serves_three_gets(LbPolicy::Shared).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rr_spreads_forty_connections_evenly_over_two_workers() {
    let mut rig = Rig::new();
    let app = rig.write("app.js", HTTP_APP);
    let port = free_port();
    let (w1, mut rx1) = rig.spawn(&app, &[port.to_string()], "web", Some(LbPolicy::Rr));
    let (w2, mut rx2) = rig.spawn(&app, &[port.to_string()], "web", Some(LbPolicy::Rr));
    wait_msg(&mut rx1, "ready 1", |v| v == "ready").await;
    wait_msg(&mut rx2, "ready 2", |v| v == "ready").await;
    let mut count: HashMap<String, usize> = HashMap::new();
    for _ in 0..40 {
        let body = http_get(port, "/").await.unwrap();
        *count.entry(body).or_default() += 1;
    }
    let a = count.get(&w1.pid().to_string()).copied().unwrap_or(0);
    let b = count.get(&w2.pid().to_string()).copied().unwrap_or(0);
    assert_eq!(a + b, 40, "{count:?}");
    assert!((18..=22).contains(&a), "uneven spread {count:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_routing_sends_new_connections_to_the_other_worker() {
    let mut rig = Rig::new();
    let app = rig.write("app.js", HTTP_APP);
    let port = free_port();
    let (w1, mut rx1) = rig.spawn(&app, &[port.to_string()], "web", Some(LbPolicy::Rr));
    let (w2, mut rx2) = rig.spawn(&app, &[port.to_string()], "web", Some(LbPolicy::Rr));
    wait_msg(&mut rx1, "ready 1", |v| v == "ready").await;
    wait_msg(&mut rx2, "ready 2", |v| v == "ready").await;
    w1.stop_routing();
    w1.stop_routing();
    use crate::cluster::route::RouteState;
    assert_eq!(rig.balancer.route_state(1), vec![RouteState::Draining]);
    assert_eq!(rig.balancer.route_state(2), vec![RouteState::Routable]);
    for _ in 0..10 {
        assert_eq!(http_get(port, "/").await.unwrap(), w2.pid().to_string());
    }
    assert!(w1.is_alive());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_port_gives_eaddrinuse_in_both_policies() {
    let mut rig = Rig::new();
    let app = rig.write("app.js", HTTP_APP);
    let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = other.local_addr().unwrap().port();
    for policy in [LbPolicy::Rr, LbPolicy::Shared] {
        let (_w, mut rx) = rig.spawn(&app, &[port.to_string()], "busy", Some(policy));
        let err = wait_msg(&mut rx, "listen error", |v| v.get("error").is_some()).await;
        assert_eq!(err, json!({"error": "EADDRINUSE"}), "{policy:?}");
        assert_eq!(wait_exit(&mut rx).await, (Some(3), None));
    }
    assert_eq!(rig.balancer.open_keys(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_zero_is_one_random_port_per_group() {
    let mut rig = Rig::new();
    let app = rig.write("app.js", HTTP_APP);
    let mut ports = Vec::new();
    let mut rxs = Vec::new();
    for policy in [LbPolicy::Rr, LbPolicy::Rr] {
        let (_w, rx) = rig.spawn(&app, &["0".into()], "zero", Some(policy));
        rxs.push(rx);
    }
    for rx in &mut rxs {
        let info = wait_msg(rx, "port report", |v| v.get("port").is_some()).await;
        ports.push(info["port"].as_u64().unwrap());
    }
    assert_ne!(ports[0], 0);
    assert_eq!(ports[0], ports[1]);
    let body = http_get(ports[0] as u16, "/").await.unwrap();
    assert!(body.parse::<u32>().is_ok());
}

/// A plain `net` echo server (tcp) behind rr.
const NET_APP: &str = r#"
const net = require('net');
net.createServer((c) => c.pipe(c)).listen(+process.argv[2], '127.0.0.1', () => process.send('ready'));
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn net_server_on_given_address_is_reachable() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut rig = Rig::new();
    let app = rig.write("net.js", NET_APP);
    let port = free_port();
    let (_w, mut rx) = rig.spawn(&app, &[port.to_string()], "net", Some(LbPolicy::Rr));
    let (ev, seen) = wait_for(&mut rx, "listening", |e| {
        matches!(e, WorkerEvent::Listening { .. })
    })
    .await;
    assert_eq!(
        ev,
        WorkerEvent::Listening {
            address: "127.0.0.1".into(),
            port,
            udp: false
        }
    );
    if !seen.contains(&WorkerEvent::Message(Value::from("ready"))) {
        wait_msg(&mut rx, "ready", |v| v == &Value::from("ready")).await;
    }
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    s.write_all(b"ping").await.unwrap();
    let mut buf = [0u8; 4];
    tokio::time::timeout(DEADLINE, s.read_exact(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&buf, b"ping");
}

/// An http server on a Unix socket path relative to the app's cwd.
const PIPE_APP: &str = r#"
const http = require('http');
http.createServer((q, r) => r.end(String(process.pid))).listen('app.sock', () => process.send('ready'));
"#;

async fn get_over_unix(path: &std::path::Path) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::UnixStream::connect(path).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut buf = String::new();
    tokio::time::timeout(DEADLINE, s.read_to_string(&mut buf))
        .await
        .unwrap()
        .unwrap();
    buf.split_once("\r\n\r\n").unwrap().1.to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unix_socket_servers_work_in_both_policies_and_the_path_goes_on_release() {
    for policy in [LbPolicy::Rr, LbPolicy::Shared] {
        let mut rig = Rig::new();
        let app = rig.write("pipe.js", PIPE_APP);
        let (w, mut rx) = rig.spawn(&app, &[], "pipe", Some(policy));
        wait_msg(&mut rx, "ready", |v| v == "ready").await;
        let path = rig.dir.path().join("app.sock");
        for _ in 0..3 {
            assert_eq!(
                get_over_unix(&path).await,
                w.pid().to_string(),
                "{policy:?}"
            );
        }
        w.disconnect().unwrap();
        assert_eq!(wait_exit(&mut rx).await, (Some(0), None));
        rig.balancer.release_group("pipe");
        assert!(!path.exists(), "{policy:?}: socket file left behind");
    }
}
