//! The daemon itself: apps do not outlive it, stale pid files, SIGTERM stops every app, the state file.

use serde_json::Value;

use crate::common::{Home, alive, fixture, poll};

#[test]
fn fork_apps_do_not_outlive_a_sigkilled_daemon() {
    let h = Home::new();
    let script = fixture("idle.sh");
    h.ok(&["start", script.to_str().unwrap(), "--name", "orphan"]);
    let l = h.jlist();
    let pid = l[0]["pid"].as_i64().unwrap() as i32;
    let daemon = h.daemon_pid().unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(daemon),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    poll(5, || (!alive(daemon)).then_some(())).unwrap();
    // Next command: a new daemon with an empty table, and the app gone (it died with its parent, or
    // the new daemon killed it from its pid file).
    assert!(h.jlist().is_empty());
    assert!(
        poll(5, || (!alive(pid)).then_some(())).is_some(),
        "orphan {pid} still alive"
    );
}

#[test]
fn a_new_daemon_kills_processes_listed_in_stale_pid_files() {
    use std::os::unix::process::CommandExt;
    let h = Home::new();
    std::fs::create_dir_all(h.path().join("pids")).unwrap();
    // An "orphan" in its own process group, as refpm spawns them.
    let mut child = std::process::Command::new("sleep")
        .arg("300")
        .process_group(0)
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    h.saw(pid);
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let start = stat[stat.rfind(')').unwrap() + 2..]
        .split_whitespace()
        .nth(19)
        .unwrap()
        .to_string();
    std::fs::write(h.path().join("pids/app-0.pid"), pid.to_string()).unwrap();
    std::fs::write(h.path().join("pids/app-0.start"), &start).unwrap();
    // A pid file whose start time does not match is left alone (pid reuse).
    let mut other = std::process::Command::new("sleep")
        .arg("300")
        .spawn()
        .unwrap();
    std::fs::write(h.path().join("pids/b-1.pid"), other.id().to_string()).unwrap();
    std::fs::write(h.path().join("pids/b-1.start"), "1").unwrap();
    h.ok(&["ping"]);
    let reaped = poll(5, || child.try_wait().ok().flatten());
    assert!(reaped.is_some(), "the listed orphan {pid} was not killed");
    assert!(
        other.try_wait().unwrap().is_none(),
        "a process with another start time was killed"
    );
    let _ = other.kill();
    let _ = other.wait();
    assert!(!h.path().join("pids/app-0.pid").exists());
}

#[test]
fn daemon_stops_apps_on_sigterm() {
    let h = Home::new();
    let script = fixture("idle.sh");
    h.ok(&["start", script.to_str().unwrap(), "--name", "t", "-i", "2"]);
    let pids: Vec<i32> = h
        .jlist()
        .iter()
        .map(|p| p["pid"].as_i64().unwrap() as i32)
        .collect();
    let daemon = h.daemon_pid().unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(daemon),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    assert!(
        poll(10, || (!alive(daemon)).then_some(())).is_some(),
        "daemon survived SIGTERM"
    );
    for p in pids {
        assert!(!alive(p), "app {p} survived the daemon's SIGTERM");
    }
}

#[test]
fn state_file_is_written() {
    let h = Home::new();
    h.ok(&[
        "start",
        fixture("idle.sh").to_str().unwrap(),
        "--name",
        "st",
    ]);
    let path = h.path().join("state.json");
    let v = poll(5, || {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).ok()?).ok()?;
        (v.as_array()?.len() == 1).then_some(v)
    });
    let v = v.expect("state.json not written");
    // It loads as the typed records, and serialises back to the same JSON.
    let records: Vec<refpm::protocol::record::ProcessRecord> =
        serde_json::from_value(v.clone()).expect("state.json loads as process records");
    assert_eq!(records[0].name, "st");
    assert_eq!(serde_json::to_value(&records).unwrap(), v);
}
