//! Round-robin hand-off edge cases: rejected connections, a worker dying before it accepts,
//! worker-initiated disconnect.

use serde_json::json;

use super::harness::*;

/// Poll interval of the deadline loops.
const POLL: std::time::Duration = std::time::Duration::from_millis(5);
use crate::cluster::{LbPolicy, WorkerEvent};

/// A worker at its `maxConnections` (1, held by the test) answers `accepted:false` to every `newconn`.
const REFUSING_APP: &str = r#"
const http = require('http');
const srv = http.createServer((req, res) => res.end('refuser'));
srv.maxConnections = 1;
srv.on('connection', () => process.send('connection'));
srv.listen(+process.argv[2], () => process.send('ready'));
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_connections_go_to_another_worker() {
    let mut rig = Rig::new();
    let refusing = rig.write("refuse.js", REFUSING_APP);
    let app = rig.write("app.js", HTTP_APP);
    let port = free_port();
    let (_r, mut rr) = rig.spawn(&refusing, &[port.to_string()], "rej", Some(LbPolicy::Rr));
    wait_msg(&mut rr, "refuser ready", |v| v == "ready").await;
    // The only worker gets this idle connection and is then full.
    let _held = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    wait_msg(&mut rr, "held connection", |v| v == "connection").await;
    let (ok, mut ro) = rig.spawn(&app, &[port.to_string()], "rej", Some(LbPolicy::Rr));
    wait_msg(&mut ro, "ready", |v| v == "ready").await;
    for _ in 0..10 {
        assert_eq!(http_get(port, "/").await.unwrap(), ok.pid().to_string());
    }
}

/// A fake cluster worker in python: asks for the port, reports listening, and dies on its first
/// `newconn` without answering (its channel closes with the connection unaccepted).
const DYING_WORKER: &str = r#"
import json, os, socket, sys
port = int(sys.argv[1])
s = socket.socket(fileno=3)
def send(o):
    s.sendall((json.dumps(o, separators=(',', ':')) + '\n').encode())
send({"cmd": "NODE_CLUSTER", "act": "online", "seq": 0})
q = {"cmd": "NODE_CLUSTER", "act": "queryServer", "index": 0, "data": None, "address": None,
     "port": port, "addressType": 4, "fd": None, "seq": 1}
send(q)
buf = b''
while True:
    data, fds, _, _ = socket.recv_fds(s, 65536, 4)
    if not data:
        sys.exit(0)
    if fds:
        os._exit(5)
    buf += data
    while b'\n' in buf:
        line, buf = buf.split(b'\n', 1)
        m = json.loads(line)
        if isinstance(m, dict) and m.get('ack') == 1:
            send(dict(q, act='listening', seq=2))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_of_a_worker_that_died_before_accepting_is_served_by_another() {
    let mut rig = Rig::new();
    let dying = rig.write("dying.py", DYING_WORKER);
    let app = rig.write("app.js", HTTP_APP);
    let port = free_port();
    let (_d, mut rd) = rig.spawn_with(
        "python3",
        &dying,
        &[port.to_string()],
        "die",
        Some(LbPolicy::Rr),
    );
    wait_for(&mut rd, "fake listening", |e| {
        matches!(e, WorkerEvent::Listening { .. })
    })
    .await;
    let (ok, mut ro) = rig.spawn(&app, &[port.to_string()], "die", Some(LbPolicy::Rr));
    wait_msg(&mut ro, "ready", |v| v == "ready").await;
    // The first connection goes to the fake worker (joined first), which dies holding it.
    for _ in 0..6 {
        assert_eq!(http_get(port, "/").await.unwrap(), ok.pid().to_string());
    }
    assert_eq!(wait_exit(&mut rd).await, (Some(5), None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_initiated_disconnect_is_acked_and_the_worker_exits() {
    let mut rig = Rig::new();
    let app = rig.write(
        "self.js",
        r#"
const cluster = require('cluster');
const http = require('http');
http.createServer((q, r) => r.end('x')).listen(+process.argv[2], () => process.send('ready'));
process.on('message', (m) => { if (m === 'bye') cluster.worker.disconnect(); });
"#,
    );
    let port = free_port();
    let (w, mut rx) = rig.spawn(&app, &[port.to_string()], "self", Some(LbPolicy::Rr));
    wait_msg(&mut rx, "ready", |v| v == "ready").await;
    w.send(json!("bye")).unwrap();
    let (ev, seen) = wait_for(&mut rx, "exit", |e| matches!(e, WorkerEvent::Exited { .. })).await;
    assert_eq!(
        ev,
        WorkerEvent::Exited {
            code: Some(0),
            signal: None
        },
        "{seen:?}\n{}",
        rig.stderr()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_load_through_a_reload_loses_no_connection() {
    let mut rig = Rig::new();
    let app = rig.write("app.js", HTTP_APP);
    let port = free_port();
    let (old, mut r_old) = rig.spawn(&app, &[port.to_string()], "load", Some(LbPolicy::Rr));
    let (_b, mut r_b) = rig.spawn(&app, &[port.to_string()], "load", Some(LbPolicy::Rr));
    wait_msg(&mut r_old, "ready", |v| v == "ready").await;
    wait_msg(&mut r_b, "ready", |v| v == "ready").await;
    // 16 clients send new-connection requests until the reload is over (bounded count); they count
    // the answers of the replacement once its pid is known.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let new_pid = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let by_new = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let clients: Vec<_> = (0..16)
        .map(|_| {
            let (stop, new_pid, by_new) = (stop.clone(), new_pid.clone(), by_new.clone());
            tokio::spawn(async move {
                let mut bodies = Vec::new();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) && bodies.len() < 2000 {
                    let body = http_get(port, "/").await;
                    let pid = new_pid.load(std::sync::atomic::Ordering::Relaxed);
                    if pid != 0 && body.as_deref().ok() == Some(pid.to_string().as_str()) {
                        by_new.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    bodies.push(body);
                }
                bodies
            })
        })
        .collect();
    // Replace one worker while the load runs.
    let (new, mut r_new) = rig.spawn(&app, &[port.to_string()], "load", Some(LbPolicy::Rr));
    new_pid.store(new.pid(), std::sync::atomic::Ordering::Relaxed);
    wait_msg(&mut r_new, "ready", |v| v == "ready").await;
    old.disconnect().unwrap();
    assert_eq!(wait_exit(&mut r_old).await, (Some(0), None));
    // The load goes on after the old worker left until the replacement answered 10 more requests.
    let target = by_new.load(std::sync::atomic::Ordering::Relaxed) + 10;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while by_new.load(std::sync::atomic::Ordering::Relaxed) < target {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the replacement answered nothing"
        );
        tokio::time::sleep(POLL).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut served = std::collections::HashMap::<String, usize>::new();
    for c in clients {
        for b in c.await.unwrap() {
            *served
                .entry(b.unwrap_or_else(|e| panic!("request failed: {e}")))
                .or_default() += 1;
        }
    }
    for w in [&old, &new] {
        assert!(served.contains_key(&w.pid().to_string()), "{served:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sole_full_worker_gets_the_connection_once_it_has_room() {
    let mut rig = Rig::new();
    let refusing = rig.write("refuse.js", REFUSING_APP);
    let port = free_port();
    let (_r, mut rr) = rig.spawn(&refusing, &[port.to_string()], "full", Some(LbPolicy::Rr));
    wait_msg(&mut rr, "ready", |v| v == "ready").await;
    let held = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    wait_msg(&mut rr, "held connection", |v| v == "connection").await;
    // Refused while the worker is full: the connection must wait, not be dropped. Once the worker
    // refused it twice (so it was retried after a refusal), it must still be pending.
    let get = tokio::spawn(http_get(port, "/"));
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while rig.balancer.refusals() < 2 {
        assert!(!get.is_finished(), "answered while the worker is full");
        assert!(tokio::time::Instant::now() < deadline, "never refused");
        tokio::time::sleep(POLL).await;
    }
    assert!(!get.is_finished());
    drop(held);
    assert_eq!(get.await.unwrap().unwrap(), "refuser");
}
