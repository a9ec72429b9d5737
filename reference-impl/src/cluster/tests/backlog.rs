//! Overload: while every worker is busy, the daemon drains the kernel's accept queue into its own queue
//! (as Node's primary does), so a burst larger than the listen backlog is still accepted, not dropped.

use super::harness::*;
use crate::cluster::{LbPolicy, WorkerEvent};

/// A fake cluster worker in python: asks for the port, reports listening, then never answers a
/// `newconn` (a worker stuck in long work); it exits when its channel closes.
const STUCK_WORKER: &str = r#"
import json, socket, sys
port = int(sys.argv[1])
s = socket.socket(fileno=3)
def send(o):
    s.sendall((json.dumps(o, separators=(',', ':')) + '\n').encode())
send({"cmd": "NODE_CLUSTER", "act": "online", "seq": 0})
q = {"cmd": "NODE_CLUSTER", "act": "queryServer", "index": 0, "data": None, "address": None,
     "port": port, "addressType": 4, "fd": None, "seq": 1}
send(q)
buf = b''
held = []
while True:
    data, fds, _, _ = socket.recv_fds(s, 65536, 4)
    if not data:
        sys.exit(0)
    held.extend(fds)
    buf += data
    while b'\n' in buf:
        line, buf = buf.split(b'\n', 1)
        m = json.loads(line)
        if isinstance(m, dict) and m.get('ack') == 1:
            send(dict(q, act='listening', seq=2))
"#;

/// More connections than the listen backlog (511) plus the old fixed daemon queue (256 + one accept
/// batch) could hold.
const BURST: usize = 1200;

/// Raises the soft fd limit towards the hard one (client and daemon ends share this test process).
fn raise_fd_limit() -> u64 {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return 0;
    };
    let want = hard.min(65536).max(soft);
    if want > soft && setrlimit(Resource::RLIMIT_NOFILE, want, hard).is_ok() {
        return want;
    }
    soft
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_beyond_the_listen_backlog_is_accepted_while_the_worker_is_busy() {
    let limit = raise_fd_limit();
    if limit < (4 * BURST) as u64 {
        eprintln!("skipped: fd limit {limit} too low for {BURST} connections");
        return;
    }
    let mut rig = Rig::new();
    let stuck = rig.write("stuck.py", STUCK_WORKER);
    let port = free_port();
    let (_w, mut rx) = rig.spawn_with(
        "python3",
        &stuck,
        &[port.to_string()],
        "burst",
        Some(LbPolicy::Rr),
    );
    wait_for(&mut rx, "fake listening", |e| {
        matches!(e, WorkerEvent::Listening { .. })
    })
    .await;
    let tasks: Vec<_> = (0..BURST)
        .map(|_| {
            tokio::spawn(async move {
                tokio::time::timeout(
                    DEADLINE,
                    tokio::net::TcpStream::connect(("127.0.0.1", port)),
                )
                .await
            })
        })
        .collect();
    let mut open = Vec::with_capacity(BURST);
    let mut failed = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(Ok(s)) => open.push(s),
            _ => failed += 1,
        }
    }
    // The kernel only completes a handshake while its accept queue has room: had the daemon stopped
    // accepting, the SYNs beyond it would be dropped (and retried) until the deadline.
    assert_eq!(
        failed, 0,
        "{failed} of {BURST} connections were never accepted while the only worker was busy"
    );
    drop(open);
}
