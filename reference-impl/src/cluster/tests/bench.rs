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

fn cpu_secs_self() -> f64 {
    use nix::sys::resource::{UsageWho, getrusage};
    let ru = getrusage(UsageWho::RUSAGE_SELF).expect("getrusage");
    let t = |tv: nix::sys::time::TimeVal| tv.tv_sec() as f64 + tv.tv_usec() as f64 / 1e6;
    t(ru.user_time()) + t(ru.system_time())
}

fn cpu_secs_of(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let f: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 (1-based); after the ')' split, state is index 0.
    (ticks(11) + ticks(12)) / 100.0
}

/// One measured run: requests/s, and CPU seconds of the primary and of primary + workers.
struct Run {
    rate: f64,
    primary: f64,
    total: f64,
}

fn children_of(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

const SECS: u32 = 5;

async fn measure(port: u16, close: bool, primary: impl Fn() -> f64, workers: &[u32]) -> Run {
    let cpu_w = || workers.iter().map(|p| cpu_secs_of(*p)).sum::<f64>();
    let (p0, w0) = (primary(), cpu_w());
    let rate = tokio::task::spawn_blocking(move || wrk(port, SECS, close))
        .await
        .unwrap();
    let (p1, w1) = (primary(), cpu_w());
    Run {
        rate,
        primary: p1 - p0,
        total: (p1 - p0) + (w1 - w0),
    }
}

async fn refpm_rate(policy: LbPolicy, close: bool) -> Run {
    let mut rig = Rig::new();
    let app = rig.write("app.js", APP);
    let port = free_port();
    let (_a, mut ra) = rig.spawn(&app, &[port.to_string()], "b", Some(policy));
    let (_b, mut rb) = rig.spawn(&app, &[port.to_string()], "b", Some(policy));
    wait_msg(&mut ra, "ready", |v| v == "ready").await;
    wait_msg(&mut rb, "ready", |v| v == "ready").await;
    let pids: Vec<u32> = rig.workers.iter().map(|w| w.pid()).collect();
    measure(port, close, cpu_secs_self, &pids).await
}

async fn node_rate(policy: LbPolicy, close: bool) -> Run {
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
    let pid = child.id().unwrap();
    let workers = children_of(pid);
    let run = measure(port, close, || cpu_secs_of(pid), &workers).await;
    // Killing the primary closes the workers' channels: they exit (waited for, with a deadline).
    let _ = child.kill().await;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while workers.iter().any(|w| osfacts::alive(*w)) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "node workers outlived their primary"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    run
}

/// `REFPM_BENCH_RT=current` runs the balancer on a current-thread runtime (default: 2 worker threads).
#[test]
#[ignore = "benchmark: needs wrk, takes ~45 s"]
fn throughput_against_node_cluster() {
    let rt = match std::env::var("REFPM_BENCH_RT").as_deref() {
        Ok("current") => tokio::runtime::Builder::new_current_thread(),
        _ => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(2);
            b
        }
    }
    .enable_all()
    .build()
    .unwrap();
    rt.block_on(compare());
}

async fn compare() {
    let modes: Vec<(LbPolicy, bool)> = match std::env::var("REFPM_BENCH_ONLY").as_deref() {
        Ok("rr") => vec![(LbPolicy::Rr, true)],
        Ok("shared") => vec![(LbPolicy::Shared, true)],
        _ => [true, false]
            .into_iter()
            .flat_map(|c| [(LbPolicy::Rr, c), (LbPolicy::Shared, c)])
            .collect(),
    };
    let rounds: usize = std::env::var("REFPM_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    for (policy, close) in modes {
        let (mut refpm, mut node) = (Vec::new(), Vec::new());
        // Alternate the two so background load hits both alike.
        for _ in 0..rounds {
            node.push(node_rate(policy, close).await);
            refpm.push(refpm_rate(policy, close).await);
        }
        let summary = |runs: &[Run]| {
            let rate = median(runs.iter().map(|r| r.rate).collect());
            // CPU per request of primary + workers: what bounds throughput on a saturated machine.
            let us = median(
                runs.iter()
                    .map(|r| r.total / (r.rate * SECS as f64) * 1e6)
                    .collect(),
            );
            let pus = median(
                runs.iter()
                    .map(|r| r.primary / (r.rate * SECS as f64) * 1e6)
                    .collect(),
            );
            (rate, us, pus)
        };
        let (r, rus, rpus) = summary(&refpm);
        let (n, nus, npus) = summary(&node);
        println!(
            "{policy:?} {}: refpm {r:.0} req/s, {rus:.0} us cpu/req (daemon {rpus:.1}); node {n:.0} req/s, {nus:.0} us cpu/req (primary {npus:.1}); rate ratio {:.2}, cpu-efficiency ratio {:.2}",
            if close {
                "new-connection"
            } else {
                "keep-alive"
            },
            r / n,
            nus / rus
        );
    }
}
