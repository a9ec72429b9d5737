//! Throughput comparison with Node's own cluster primary (ignored; run by hand with wrk installed):
//! `cargo test -p refpm --release --lib cluster::tests::bench -- --ignored --nocapture`.

use std::process::Stdio;
use std::time::Duration;

use super::harness::*;
use crate::cluster::LbPolicy;

const APP: &str = r#"
const http = require('http');
http.createServer((req, res) => res.end('ok')).listen(+process.argv[2], () => process.send('ready'));
"#;

const NODE_PRIMARY: &str = r#"
const cluster = require('cluster');
cluster.schedulingPolicy = process.argv[3] === 'shared' ? cluster.SCHED_NONE : cluster.SCHED_RR;
if (cluster.isPrimary) {
  cluster.setupPrimary({ exec: __dirname + '/app.js', args: [process.argv[2]] });
  let ready = 0;
  for (let i = 0; i < 2; i++) cluster.fork().on('message', (m) => { if (m === 'ready' && ++ready === 2) console.log('ready'); });
}
"#;

fn wrk(port: u16, secs: u32, close: bool) -> f64 {
    let mut cmd = std::process::Command::new("wrk");
    cmd.args(["-t1", "-c32", &format!("-d{secs}s")]);
    if close {
        cmd.args(["-H", "Connection: close"]);
    }
    let out = cmd
        .arg(format!("http://127.0.0.1:{port}/"))
        .stderr(Stdio::null())
        .output()
        .expect("wrk runs");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no wrk result: {text}"))
}

async fn refpm_rate(policy: LbPolicy, close: bool) -> f64 {
    let mut rig = Rig::new();
    let app = rig.write("app.js", APP);
    let port = free_port();
    let (_a, mut ra) = rig.spawn(&app, &[port.to_string()], "b", Some(policy));
    let (_b, mut rb) = rig.spawn(&app, &[port.to_string()], "b", Some(policy));
    wait_msg(&mut ra, "ready", |v| v == "ready").await;
    wait_msg(&mut rb, "ready", |v| v == "ready").await;
    tokio::task::spawn_blocking(move || wrk(port, 5, close))
        .await
        .unwrap()
}

async fn node_rate(policy: LbPolicy, close: bool) -> f64 {
    let rig = Rig::new();
    rig.write("app.js", APP);
    let primary = rig.write("primary.js", NODE_PRIMARY);
    let port = free_port();
    let mode = if policy == LbPolicy::Shared {
        "shared"
    } else {
        "rr"
    };
    let mut child = tokio::process::Command::new("node")
        .arg(&primary)
        .arg(port.to_string())
        .arg(mode)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut out = tokio::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    tokio::time::timeout(
        DEADLINE,
        tokio::io::AsyncBufReadExt::read_line(&mut out, &mut line),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(line.trim(), "ready");
    let rate = tokio::task::spawn_blocking(move || wrk(port, 5, close))
        .await
        .unwrap();
    // Killing the primary closes the workers' channels: they exit.
    let _ = child.kill().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    rate
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: needs wrk, takes ~45 s"]
async fn throughput_against_node_cluster() {
    for close in [true, false] {
        for policy in [LbPolicy::Rr, LbPolicy::Shared] {
            let n1 = node_rate(policy, close).await;
            let r = refpm_rate(policy, close).await;
            let n2 = node_rate(policy, close).await;
            let n = (n1 + n2) / 2.0;
            println!(
                "{policy:?} {}: refpm {r:.0} req/s, node {n:.0} req/s ({n1:.0}/{n2:.0}), ratio {:.2}",
                if close {
                    "new-connection"
                } else {
                    "keep-alive"
                },
                r / n
            );
        }
    }
}
