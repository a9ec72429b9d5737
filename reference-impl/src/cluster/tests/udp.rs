//! dgram servers: one SO_REUSEPORT socket per worker, datagrams of distinct clients spread across workers.

use std::collections::HashSet;

use serde_json::Value;

use super::harness::*;
use crate::cluster::{LbPolicy, WorkerEvent};

const UDP_APP: &str = r#"
const dgram = require('dgram');
const s = dgram.createSocket('udp4');
s.on('message', (msg, rinfo) => process.send({ from: rinfo.port, data: msg.toString() }));
s.on('error', (e) => { process.send({ error: e.code }); process.exit(3); });
s.bind(+process.argv[2], () => process.send({ bound: s.address().port }));
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_udp_workers_both_receive_datagrams_from_distinct_clients() {
    let mut rig = Rig::new();
    let app = rig.write("udp.js", UDP_APP);
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut rxs = Vec::new();
    for _ in 0..2 {
        let (_w, mut rx) = rig.spawn(&app, &[port.to_string()], "udp", Some(LbPolicy::Rr));
        let (ev, _) = wait_for(&mut rx, "listening", |e| {
            matches!(e, WorkerEvent::Listening { .. })
        })
        .await;
        assert!(
            matches!(ev, WorkerEvent::Listening { udp: true, port: p, .. } if p == port),
            "{ev:?}"
        );
        rxs.push(rx);
    }
    let mut clients = Vec::new();
    for i in 0..40 {
        let c = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        c.send_to(format!("d{i}").as_bytes(), ("127.0.0.1", port))
            .await
            .unwrap();
        clients.push(c);
    }
    // Every datagram arrives at exactly one worker; each worker gets some.
    let mut per_worker: Vec<HashSet<u64>> = vec![HashSet::new(), HashSet::new()];
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while per_worker.iter().map(HashSet::len).sum::<usize>() < 40 {
        for (i, rx) in rxs.iter_mut().enumerate() {
            while let Ok(ev) = rx.try_recv() {
                if let WorkerEvent::Message(Value::Object(m)) = ev {
                    if let Some(p) = m.get("from").and_then(Value::as_u64) {
                        per_worker[i].insert(p);
                    }
                }
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "datagrams lost: {per_worker:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(per_worker[0].is_disjoint(&per_worker[1]));
    assert!(
        !per_worker[0].is_empty() && !per_worker[1].is_empty(),
        "{per_worker:?}"
    );
}
