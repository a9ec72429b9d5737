//! Connections a worker accepted but dropped unread (Node 26 does so on `server.close()`, see
//! `node_compat`): the primary still holds them and serves them through another worker.

use super::harness::*;
use crate::cluster::LbPolicy;

/// Destroys its first connection without reading it, then exits: what a Node 26 worker does to a
/// connection whose request it had not read yet when `disconnect` closed its server.
const DROPPING_APP: &str = r#"
const http = require('http');
const srv = http.createServer((req, res) => res.end('dropper answered'));
srv.on('connection', (s) => { s.destroy(); process.send('dropped'); setImmediate(() => process.exit(0)); });
srv.listen(+process.argv[2], () => process.send('ready'));
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_dropped_unread_by_an_exiting_worker_is_served_by_the_next() {
    let mut rig = Rig::new();
    let dropping = rig.write("drop.js", DROPPING_APP);
    let app = rig.write("app.js", HTTP_APP);
    let port = free_port();
    let (_d, mut rd) = rig.spawn(&dropping, &[port.to_string()], "unread", Some(LbPolicy::Rr));
    wait_msg(&mut rd, "dropper ready", |v| v == "ready").await;
    // The sole worker gets the request, destroys the connection unread and exits.
    let get = tokio::spawn(http_get(port, "/"));
    wait_msg(&mut rd, "dropped", |v| v == "dropped").await;
    assert_eq!(wait_exit(&mut rd).await, (Some(0), None));
    // The connection waits in the primary until a worker can take it.
    let (ok, mut ro) = rig.spawn(&app, &[port.to_string()], "unread", Some(LbPolicy::Rr));
    wait_msg(&mut ro, "ready", |v| v == "ready").await;
    let body = get
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{e}\n{}", rig.stderr()));
    assert_eq!(body, ok.pid().to_string());
}

/// A worker that read its request and was then killed: the primary must not hand the connection to
/// anyone else (it was taken; a replay could run a request twice).
const READ_THEN_DIE_APP: &str = r#"
const http = require('http');
const srv = http.createServer((req, res) => { process.send('got request'); });
srv.listen(+process.argv[2], () => process.send('ready'));
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_the_worker_read_is_never_replayed() {
    let mut rig = Rig::new();
    let dying = rig.write("die.js", READ_THEN_DIE_APP);
    let app = rig.write("app.js", HTTP_APP);
    let port = free_port();
    let (d, mut rd) = rig.spawn(&dying, &[port.to_string()], "taken", Some(LbPolicy::Rr));
    wait_msg(&mut rd, "ready", |v| v == "ready").await;
    let get = tokio::spawn(http_get(port, "/"));
    wait_msg(&mut rd, "got request", |v| v == "got request").await;
    let (_ok, mut ro) = rig.spawn(&app, &[port.to_string()], "taken", Some(LbPolicy::Rr));
    wait_msg(&mut ro, "ready", |v| v == "ready").await;
    d.signal(nix::sys::signal::Signal::SIGKILL).unwrap();
    wait_exit(&mut rd).await;
    assert!(
        get.await.unwrap().is_err(),
        "a request already read was served again"
    );
}
