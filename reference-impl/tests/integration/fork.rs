//! Fork mode: start/stop/restart/delete, env and instance variables, kill_timeout escalation,
//! autorestart to errored, scale.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{Home, alive, fixture, poll, status};

fn env_of(p: &Value) -> Value {
    // idle.js prints {"pid":…, "env":{…}} as its first log line.
    let path = p["pm2_env"]["pm_out_log_path"]
        .as_str()
        .unwrap()
        .to_string();
    let pid = p["pid"].as_i64().unwrap();
    poll(10, || {
        let text = std::fs::read_to_string(&path).ok()?;
        text.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|v| v["pid"].as_i64() == Some(pid))
    })
    .unwrap_or_else(|| panic!("no env line for pid {pid} in {path}"))["env"]
        .clone()
}

#[test]
fn fork_start_stop_restart_delete() {
    let h = Home::new();
    let script = fixture("idle.js");
    let out = h.ok(&["start", script.to_str().unwrap(), "--name", "idle"]);
    assert!(
        out.contains("[PM2] Starting") && out.contains("fork_mode"),
        "{out}"
    );
    let l = h.jlist();
    assert_eq!(l.len(), 1);
    assert_eq!(l[0]["pm2_env"]["exec_mode"], "fork_mode");
    assert_eq!(status(&l[0]), "online");
    let pid = l[0]["pid"].as_i64().unwrap() as i32;
    assert!(alive(pid));

    // Same script again without -f.
    let (code, _, err) = h.run(&["start", script.to_str().unwrap(), "--name", "idle"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("Script already launched, add -f option to force re-execution"),
        "{err}"
    );

    h.ok(&["stop", "idle"]);
    let l = h.jlist();
    assert_eq!(status(&l[0]), "stopped");
    assert_eq!(l[0]["pid"], 0);
    assert!(poll(5, || (!alive(pid)).then_some(())).is_some());

    h.ok(&["restart", "idle"]);
    let l = h.jlist();
    assert_eq!(status(&l[0]), "online");
    assert_eq!(
        l[0]["pm2_env"]["restart_time"], 0,
        "restart of a stopped app does not count"
    );
    let pid2 = l[0]["pid"].as_i64().unwrap();
    assert_ne!(pid2 as i32, pid);
    h.ok(&["restart", "0"]);
    let l = h.jlist();
    assert_eq!(l[0]["pm2_env"]["restart_time"], 1);

    // `start <name>` of a known app restarts it.
    h.ok(&["stop", "idle"]);
    let out = h.ok(&["start", "idle"]);
    assert!(out.contains("restartProcessId"), "{out}");
    assert_eq!(status(&h.jlist()[0]), "online");

    h.ok(&["delete", "idle"]);
    assert!(h.jlist().is_empty());
    // An empty table restarts the id counter at 0 (PM2).
    h.ok(&["start", script.to_str().unwrap(), "--name", "again"]);
    assert_eq!(h.jlist()[0]["pm_id"], 0);
}

#[test]
fn env_has_instance_values_and_caller_env_but_jlist_does_not() {
    let h = Home::new();
    let script = fixture("idle.js");
    let (code, out, err) = h.run_env(
        &["start", script.to_str().unwrap(), "--name", "envapp"],
        &[("CALLER_SECRET", "s3cr3t")],
    );
    assert_eq!(code, 0, "{out}{err}");
    let l = h.jlist();
    let env = env_of(&l[0]);
    assert_eq!(env["CALLER_SECRET"], "s3cr3t");
    assert_eq!(env["NODE_APP_INSTANCE"], "0");
    assert_eq!(env["pm_id"], "0");
    assert_eq!(env["name"], "envapp");
    assert_eq!(env["PM2_HOME"], h.path().to_str().unwrap());
    assert_eq!(env["exec_mode"], "fork_mode");
    let text = serde_json::to_string(&l).unwrap();
    assert!(!text.contains("s3cr3t"), "jlist leaks the caller env");
}

#[test]
fn shell_app_runs_in_fork_mode_with_n_instances() {
    let h = Home::new();
    let script = fixture("idle.sh");
    h.ok(&["start", script.to_str().unwrap(), "-i", "3", "--name", "sh"]);
    let l = h.jlist();
    assert_eq!(l.len(), 3);
    let mut values: Vec<i64> = l
        .iter()
        .map(|p| p["pm2_env"]["NODE_APP_INSTANCE"].as_i64().unwrap())
        .collect();
    values.sort();
    assert_eq!(values, vec![0, 1, 2]);
    for p in &l {
        assert_eq!(p["pm2_env"]["exec_mode"], "fork_mode");
        assert_eq!(p["pm2_env"]["instances"], 3);
        assert!(alive(p["pid"].as_i64().unwrap() as i32));
    }
    // Scale down deletes the highest instance values (instance 0 survives, unlike PM2);
    // scale up fills the lowest gaps.
    h.ok(&["scale", "sh", "1"]);
    let l = h.jlist();
    assert_eq!(l.len(), 1);
    assert_eq!(l[0]["pm_id"], 0);
    assert_eq!(l[0]["pm2_env"]["NODE_APP_INSTANCE"], 0);
    h.ok(&["scale", "sh", "+2"]);
    let l = h.jlist();
    // Clones of the source keep its unique_id and its `instances` value (PM2 copies pm2_env).
    assert!(l.iter().all(|p| p["pm2_env"]["instances"] == 3), "{l:?}");
    assert!(
        l.iter()
            .all(|p| p["pm2_env"]["unique_id"] == l[0]["pm2_env"]["unique_id"])
    );
    let mut values: Vec<i64> = l
        .iter()
        .map(|p| p["pm2_env"]["NODE_APP_INSTANCE"].as_i64().unwrap())
        .collect();
    values.sort();
    assert_eq!(values, vec![0, 1, 2]);
    let (code, _, err) = h.run(&["scale", "sh", "3"]);
    assert_eq!(code, 1);
    assert!(err.contains("Nothing to do"), "{err}");
}

#[test]
fn kill_timeout_escalates_to_sigkill_after_the_timeout() {
    let h = Home::new();
    let script = fixture("ignore-sigint.js");
    h.ok(&[
        "start",
        script.to_str().unwrap(),
        "--name",
        "stubborn",
        "--kill-timeout",
        "1500",
    ]);
    let l = h.jlist();
    let pid = l[0]["pid"].as_i64().unwrap() as i32;
    // Let node install its SIGINT handler.
    let log = l[0]["pm2_env"]["pm_out_log_path"]
        .as_str()
        .unwrap()
        .to_string();
    poll(10, || {
        std::fs::read_to_string(&log)
            .ok()
            .filter(|t| t.contains("started"))
    })
    .unwrap();
    let t0 = Instant::now();
    h.ok(&["stop", "stubborn"]);
    let took = t0.elapsed();
    assert!(!alive(pid));
    assert!(
        took >= Duration::from_millis(1400),
        "stopped too early: {took:?}"
    );
    assert!(
        took < Duration::from_millis(6000),
        "stopped too late: {took:?}"
    );
    let l = h.jlist();
    assert_eq!(status(&l[0]), "stopped");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("SIGINT ignored"),
        "the app never saw SIGINT: {text}"
    );
}

#[test]
fn crash_loop_ends_errored_after_max_restarts() {
    let h = Home::new();
    let script = fixture("crash-at-boot.js");
    h.ok(&[
        "start",
        script.to_str().unwrap(),
        "--name",
        "crash",
        "--max-restarts",
        "3",
    ]);
    let l = h.wait_list(30, "errored", |l| {
        l.len() == 1 && status(&l[0]) == "errored"
    });
    assert_eq!(l[0]["pid"], 0);
    assert_eq!(l[0]["pm2_env"]["restart_time"], 2);
    assert_eq!(l[0]["pm2_env"]["exit_code"], 3);
    assert_eq!(l[0]["pm2_env"]["created_at"], Value::Null);
    // That it stays errored (no restart storm) is checked on paused time in `daemon::job_tests`.
}

#[test]
fn restart_delay_shows_waiting_restart() {
    let h = Home::new();
    let script = fixture("crash-at-boot.js");
    h.ok(&[
        "start",
        script.to_str().unwrap(),
        "--name",
        "slowcrash",
        "--restart-delay",
        "3000",
    ]);
    h.wait_list(10, "waiting restart", |l| {
        l.len() == 1 && status(&l[0]) == "waiting restart"
    });
    // stop cancels the pending restart (that it never fires later is checked on paused time in
    // `daemon::job_tests::stop_cancels_a_pending_restart`).
    h.ok(&["stop", "slowcrash"]);
    let l = h.jlist();
    assert_eq!(status(&l[0]), "stopped");
}

#[test]
fn no_autorestart_ends_stopped() {
    let h = Home::new();
    let script = fixture("crash-at-boot.js");
    h.ok(&[
        "start",
        script.to_str().unwrap(),
        "--name",
        "once",
        "--no-autorestart",
    ]);
    let l = h.wait_list(10, "stopped", |l| {
        l.len() == 1 && status(&l[0]) == "stopped"
    });
    assert_eq!(l[0]["pm2_env"]["restart_time"], 0);
    assert_eq!(l[0]["pm2_env"]["autorestart"], false);
}

#[test]
fn logs_nostream_tails_the_app_log() {
    let h = Home::new();
    let script = fixture("ignore-sigint.js");
    h.ok(&["start", script.to_str().unwrap(), "--name", "talker"]);
    let l = h.jlist();
    let log = l[0]["pm2_env"]["pm_out_log_path"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(log.ends_with("/logs/talker-out-0.log"), "{log}");
    poll(10, || {
        std::fs::read_to_string(&log)
            .ok()
            .filter(|t| t.contains("started"))
    })
    .unwrap();
    let out = h.ok(&["logs", "talker", "--nostream", "--lines", "5"]);
    assert!(out.contains("0|talker") && out.contains("started"), "{out}");
    let out = h.ok(&["pid", "talker"]);
    assert_eq!(out.trim(), l[0]["pid"].to_string());
    let out = h.ok(&["describe", "talker"]);
    assert!(
        out.contains("Describing process with id 0 - name talker"),
        "{out}"
    );
    let out = h.ok(&["ls"]);
    assert!(out.contains("talker") && out.contains("online"), "{out}");
}

#[test]
fn exp_backoff_grows_the_delay() {
    let h = Home::new();
    let script = fixture("crash-at-boot.js");
    h.ok(&[
        "start",
        script.to_str().unwrap(),
        "--name",
        "bo",
        "--exp-backoff-restart-delay",
        "200",
    ]);
    let l = h.wait_list(20, "third restart", |l| {
        l[0]["pm2_env"]["restart_time"].as_u64() >= Some(3)
    });
    let prev = l[0]["pm2_env"]["prev_restart_delay"].as_u64().unwrap();
    assert!(prev >= 450, "backoff did not grow: {prev}");
    h.ok(&["stop", "bo"]);
}

#[test]
fn update_env_replaces_the_saved_caller_env() {
    let h = Home::new();
    let script = fixture("idle.js");
    let (code, _, err) = h.run_env(
        &["start", script.to_str().unwrap(), "--name", "ue"],
        &[("FOO", "one")],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(env_of(&h.jlist()[0])["FOO"], "one");
    let (code, _, err) = h.run_env(&["restart", "ue"], &[("FOO", "two")]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        env_of(&h.jlist()[0])["FOO"],
        "one",
        "restart without -a changed the env"
    );
    let (code, _, err) = h.run_env(&["restart", "ue", "--update-env"], &[("FOO", "two")]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(env_of(&h.jlist()[0])["FOO"], "two");
}

#[test]
fn jlist_reports_the_node_version_that_runs_each_app() {
    let out = std::process::Command::new("node")
        .arg("--version")
        .output()
        .expect("node on PATH");
    let want = String::from_utf8_lossy(&out.stdout)
        .trim()
        .trim_start_matches('v')
        .to_string();
    let h = Home::new();
    h.ok(&["start", fixture("idle.js").to_str().unwrap(), "--name", "v"]);
    h.ok(&[
        "start",
        fixture("idle.sh").to_str().unwrap(),
        "--name",
        "sh",
    ]);
    // The version is found in the background: poll until it shows.
    let l = h.wait_list(20, "node_version", |l| {
        l.iter()
            .any(|p| p["name"] == "v" && p["pm2_env"]["node_version"].is_string())
    });
    let node = l.iter().find(|p| p["name"] == "v").unwrap();
    assert_eq!(node["pm2_env"]["node_version"], want.as_str());
    let sh = l.iter().find(|p| p["name"] == "sh").unwrap();
    assert!(sh["pm2_env"].get("node_version").is_none(), "{sh}");
    let desc = h.ok(&["describe", "v"]);
    assert!(desc.contains(&want), "{desc}");
}
