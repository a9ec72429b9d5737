//! Cluster mode: instance counts, round-robin evenness (http, tcp), UDP reaching every worker,
//! wait_ready.

use std::collections::BTreeMap;
use std::time::Duration;

use rstest::rstest;

use crate::common::{Home, fixture, free_port, http_pid, poll, status, tcp_pid, udp_pid};

fn cpus() -> usize {
    // The same rule as refpm: affinity capped by the cgroup quota.
    refpm::instances::usable_cpus()
}

#[rstest]
#[case("4", 4)]
#[case("max", 0)]
#[case("0", 0)]
#[case("-1", -1)]
#[case("-1000", -1000)]
fn instance_counts(#[case] flag: &str, #[case] raw: i64) {
    let h = Home::new();
    let port = free_port();
    let script = fixture("http.js");
    let (code, out, err) = h.run_env(
        &[
            "start",
            script.to_str().unwrap(),
            "-i",
            flag,
            "--name",
            "web",
        ],
        &[("PORT", &port.to_string())],
    );
    assert_eq!(code, 0, "{out}{err}");
    let expected = refpm::instances::resolve(raw, cpus());
    let l = h.wait_list(20, "all online", |l| {
        l.len() == expected && l.iter().all(|p| status(p) == "online")
    });
    for p in &l {
        assert_eq!(p["pm2_env"]["exec_mode"], "cluster_mode");
        assert_eq!(p["pm2_env"]["instances"], expected);
    }
    let mut values: Vec<i64> = l
        .iter()
        .map(|p| p["pm2_env"]["NODE_APP_INSTANCE"].as_i64().unwrap())
        .collect();
    values.sort();
    assert_eq!(values, (0..expected as i64).collect::<Vec<_>>());
}

fn spread(counts: &BTreeMap<i64, usize>) -> String {
    format!("{counts:?}")
}

#[test]
fn http_round_robin_is_even_and_env_matches() {
    let h = Home::new();
    let port = free_port();
    let script = fixture("http.js");
    let (code, out, err) = h.run_env(
        &["start", script.to_str().unwrap(), "-i", "2", "--name", "rr"],
        &[("PORT", &port.to_string())],
    );
    assert_eq!(code, 0, "{out}{err}");
    let l = h.jlist();
    let pids: BTreeMap<i64, i64> = l
        .iter()
        .map(|p| {
            (
                p["pid"].as_i64().unwrap(),
                p["pm2_env"]["NODE_APP_INSTANCE"].as_i64().unwrap(),
            )
        })
        .collect();
    let mut counts = BTreeMap::new();
    for _ in 0..40 {
        let (pid, inst) = http_pid(port).expect("request failed");
        assert_eq!(
            pids.get(&pid).map(|v| v.to_string()),
            Some(inst.clone()),
            "pid {pid} reported {inst}"
        );
        *counts.entry(pid).or_insert(0) += 1;
    }
    assert_eq!(counts.len(), 2, "{}", spread(&counts));
    for c in counts.values() {
        assert!((16..=24).contains(c), "uneven: {}", spread(&counts));
    }
}

#[test]
fn tcp_round_robin_is_even() {
    let h = Home::new();
    let port = free_port();
    let script = fixture("tcp.js");
    let (code, out, err) = h.run_env(
        &[
            "start",
            script.to_str().unwrap(),
            "-i",
            "2",
            "--name",
            "tcp",
        ],
        &[("PORT", &port.to_string())],
    );
    assert_eq!(code, 0, "{out}{err}");
    h.jlist();
    let mut counts = BTreeMap::new();
    for _ in 0..40 {
        *counts
            .entry(tcp_pid(port).expect("tcp exchange"))
            .or_insert(0) += 1;
    }
    assert_eq!(counts.len(), 2, "{}", spread(&counts));
    for c in counts.values() {
        assert!((16..=24).contains(c), "uneven: {}", spread(&counts));
    }
}

#[test]
fn udp_reaches_every_worker() {
    let h = Home::new();
    let port = free_port();
    let script = fixture("udp.js");
    let (code, out, err) = h.run_env(
        &[
            "start",
            script.to_str().unwrap(),
            "-i",
            "2",
            "--name",
            "udp",
        ],
        &[("PORT", &port.to_string())],
    );
    assert_eq!(code, 0, "{out}{err}");
    let l = h.wait_list(10, "online", |l| {
        l.len() == 2 && l.iter().all(|p| status(p) == "online")
    });
    let mut seen = BTreeMap::new();
    for _ in 0..60 {
        if let Ok(pid) = udp_pid(port) {
            *seen.entry(pid).or_insert(0) += 1;
        }
    }
    for p in &l {
        let pid = p["pid"].as_i64().unwrap();
        assert!(
            seen.contains_key(&pid),
            "worker {pid} got no datagram: {seen:?}"
        );
    }
}

#[test]
fn wait_ready_stays_launching_until_ready() {
    let h = Home::new();
    let port = free_port();
    let script = fixture("wait-ready.js");
    let t0 = std::time::Instant::now();
    let (code, out, err) = h.run_env(
        &[
            "start",
            script.to_str().unwrap(),
            "-i",
            "2",
            "--wait-ready",
            "--listen-timeout",
            "10000",
            "--name",
            "wr",
        ],
        &[("PORT", &port.to_string()), ("READY_DELAY", "1500")],
    );
    assert_eq!(code, 0, "{out}{err}");
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(1400),
        "start returned before ready: {took:?}"
    );
    assert!(
        took < Duration::from_millis(9000),
        "instances not started in parallel: {took:?}"
    );
    let l = h.jlist();
    assert!(l.iter().all(|p| status(p) == "online"));

    // Never ready: launching until listen_timeout, then online anyway.
    let h = Home::new();
    let port = free_port();
    let (code, _, err) = h.run_env(
        &[
            "start",
            script.to_str().unwrap(),
            "--wait-ready",
            "--listen-timeout",
            "3000",
            "-i",
            "1",
            "--name",
            "nr",
        ],
        &[("PORT", &port.to_string()), ("READY_DELAY", "never")],
    );
    assert_eq!(code, 0, "{err}");
    let l = h.jlist();
    assert_eq!(status(&l[0]), "online");
    let _ = poll(1, || Some(()));
}

#[test]
fn wait_ready_launching_is_visible() {
    let h = Home::new();
    let port = free_port();
    let script = fixture("wait-ready.js");
    // Start from another thread, observe launching from here.
    let home = h.path().to_path_buf();
    let s = script.clone();
    let t = std::thread::spawn(move || {
        assert_cmd::Command::cargo_bin("refpm")
            .unwrap()
            .env("PM2_HOME", &home)
            .env("PORT", port.to_string())
            .env("READY_DELAY", "3000")
            .args([
                "start",
                s.to_str().unwrap(),
                "-i",
                "1",
                "--wait-ready",
                "--listen-timeout",
                "10000",
            ])
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap()
    });
    let seen = poll(10, || {
        let l = h.jlist();
        (l.len() == 1 && status(&l[0]) == "launching" && l[0]["pid"].as_i64().unwrap_or(0) > 0)
            .then_some(())
    });
    let out = t.join().unwrap();
    assert!(out.status.success());
    assert!(seen.is_some(), "never saw launching");
    let l = h.jlist();
    assert_eq!(status(&l[0]), "online");
}

#[test]
fn node_shebang_script_without_extension_runs_in_cluster_mode() {
    use std::os::unix::fs::PermissionsExt;
    let h = Home::new();
    let port = free_port();
    let app = h.path().join("webapp");
    let code = std::fs::read_to_string(fixture("http.js")).unwrap();
    std::fs::write(&app, format!("#!/usr/bin/env node\n{code}")).unwrap();
    std::fs::set_permissions(&app, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (rc, out, err) = h.run_env(
        &["start", app.to_str().unwrap(), "-i", "2"],
        &[("PORT", &port.to_string())],
    );
    assert_eq!(rc, 0, "{out}{err}");
    let l = h.wait_list(20, "online", |l| {
        l.len() == 2 && l.iter().all(|p| status(p) == "online")
    });
    assert!(
        l.iter()
            .all(|p| p["pm2_env"]["exec_mode"] == "cluster_mode" && p["name"] == "webapp")
    );
    http_pid(port).expect("the shebang app serves");
}
