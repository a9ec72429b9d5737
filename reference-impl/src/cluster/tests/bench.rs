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
    // SAFETY: getrusage fills the struct it is given.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(ru.ru_utime) + t(ru.ru_stime)
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

async fn refpm_rate(policy: LbPolicy, close: bool) -> (f64, f64) {
    let mut rig = Rig::new();
    let app = rig.write("app.js", APP);
    let port = free_port();
    let (_a, mut ra) = rig.spawn(&app, &[port.to_string()], "b", Some(policy));
    let (_b, mut rb) = rig.spawn(&app, &[port.to_string()], "b", Some(policy));
    wait_msg(&mut ra, "ready", |v| v == "ready").await;
    wait_msg(&mut rb, "ready", |v| v == "ready").await;
    let c0 = cpu_secs_self();
    let rate = tokio::task::spawn_blocking(move || wrk(port, 5, close))
        .await
        .unwrap();
    (rate, cpu_secs_self() - c0)
}

async fn node_rate(policy: LbPolicy, close: bool) -> (f64, f64) {
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
    let c0 = cpu_secs_of(pid);
    let rate = tokio::task::spawn_blocking(move || wrk(port, 5, close))
        .await
        .unwrap();
    let cpu = cpu_secs_of(pid) - c0;
    // Killing the primary closes the workers' channels: they exit.
    let _ = child.kill().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    (rate, cpu)
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
        let (mut rs, mut ns, mut rc, mut nc) = (vec![], vec![], vec![], vec![]);
        // Alternate the two so background load hits both alike.
        for _ in 0..rounds {
            let (n, c) = node_rate(policy, close).await;
            ns.push(n);
            nc.push(c);
            let (r, c) = refpm_rate(policy, close).await;
            rs.push(r);
            rc.push(c);
        }
        let (r, n) = (median(rs.clone()), median(ns.clone()));
        println!(
            "{policy:?} {}: refpm median {r:.0} req/s {rs:.0?} (cpu-s {rc:.2?}); node median {n:.0} req/s {ns:.0?} (primary cpu-s {nc:.2?}); ratio {:.2}",
            if close {
                "new-connection"
            } else {
                "keep-alive"
            },
            r / n
        );
    }
}
