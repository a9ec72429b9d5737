//! Bun as the worker runtime (see `node_compat`). Run only when `REFPM_TEST_BUN` names a bun binary
//! (e.g. from npm's `@oven/bun-linux-x64`); otherwise each test prints why it skipped.

use serde_json::json;

use super::harness::*;
use crate::cluster::{LbPolicy, WorkerEvent};

/// The bun binary to test, or `None` after printing why the test is skipped.
fn bun() -> Option<String> {
    match std::env::var("REFPM_TEST_BUN") {
        Ok(b) if !b.is_empty() => Some(b),
        _ => {
            eprintln!("skipped: REFPM_TEST_BUN is not set (path to a bun binary)");
            None
        }
    }
}

/// A `node:net` server (Bun routes it through the cluster protocol: `queryServer`, `newconn`).
const NET_APP: &str = r#"
const net = require('net');
const srv = net.createServer((c) => c.end('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n' + process.pid));
srv.listen(+process.argv[2], () => process.send('ready'));
process.on('message', (m) => process.send({ echo: m }));
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bun_fork_child_exchanges_messages() {
    let Some(bun) = bun() else { return };
    let mut rig = Rig::new();
    let app = rig.write(
        "fork.js",
        "process.on('message', (m) => process.send({ echo: m })); process.send('ready');",
    );
    let (w, mut rx) = rig.spawn_with(&bun, &app, &[], "bunfork", None);
    wait_msg(&mut rx, "ready", |v| v == "ready").await;
    w.send(json!({"hello": 1})).unwrap();
    wait_msg(&mut rx, "echo", |v| v == &json!({"echo": {"hello": 1}})).await;
    w.disconnect().unwrap();
    wait_exit(&mut rx).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bun_net_workers_share_round_robin_and_disconnect() {
    let Some(bun) = bun() else { return };
    let mut rig = Rig::new();
    let app = rig.write("net.js", NET_APP);
    let port = free_port();
    let (w1, mut r1) = rig.spawn_with(&bun, &app, &[port.to_string()], "bunrr", Some(LbPolicy::Rr));
    let (w2, mut r2) = rig.spawn_with(&bun, &app, &[port.to_string()], "bunrr", Some(LbPolicy::Rr));
    wait_for(&mut r1, "online 1", |e| *e == WorkerEvent::Online).await;
    wait_msg(&mut r1, "ready 1", |v| v == "ready").await;
    wait_msg(&mut r2, "ready 2", |v| v == "ready").await;
    assert_eq!(
        rig.balancer.open_keys(),
        1,
        "the primary owns the listening socket"
    );
    let mut seen = std::collections::HashSet::new();
    for _ in 0..10 {
        seen.insert(
            http_get(port, "/")
                .await
                .unwrap_or_else(|e| panic!("{e}\n{}", rig.stderr())),
        );
    }
    let pids: std::collections::HashSet<String> =
        [w1.pid(), w2.pid()].iter().map(u32::to_string).collect();
    assert_eq!(seen, pids);
    // `disconnect`: the worker closes its server and gets no more connections. Whether it then exits
    // is not asserted: in a one-connection probe it did; here, after several connections, it neither
    // exited nor closed its channel within the deadline (left open in issue #12's report). The rig
    // SIGKILLs it.
    w1.disconnect().unwrap();
    wait_for(&mut r1, "server closed", |e| {
        *e == WorkerEvent::ServerClosed
    })
    .await;
    for _ in 0..4 {
        assert_eq!(http_get(port, "/").await.unwrap(), w2.pid().to_string());
    }
}

/// Bun's `node:http` server never asks the primary: each worker binds the port itself with
/// `SO_REUSEPORT` and reports `listening`, so connections are spread by the kernel, not by refpm.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bun_http_workers_bind_the_port_themselves() {
    let Some(bun) = bun() else { return };
    let mut rig = Rig::new();
    let app = rig.write(
        "http.js",
        "require('http').createServer((q, r) => r.end(String(process.pid))).listen(+process.argv[2]);",
    );
    let port = free_port();
    let (w, mut rx) = rig.spawn_with(
        &bun,
        &app,
        &[port.to_string()],
        "bunhttp",
        Some(LbPolicy::Rr),
    );
    wait_for(
        &mut rx,
        "listening",
        |e| matches!(e, WorkerEvent::Listening { port: p, .. } if *p == port),
    )
    .await;
    assert_eq!(http_get(port, "/").await.unwrap(), w.pid().to_string());
    assert_eq!(
        rig.balancer.open_keys(),
        0,
        "no queryServer reached the primary"
    );
}
