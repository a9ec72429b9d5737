//! Bad inputs: exit code, message fragment, and nothing started (no daemon where none should be).

use rstest::rstest;

use crate::common::{Home, fixture};

#[rstest]
#[case::instances_float(&["-i", "1e9"], "-i/--instances")]
#[case::instances_huge(&["-i", "5000"], "limit")]
#[case::kill_timeout_unit(&["--kill-timeout", "5s"], "--kill-timeout")]
#[case::kill_timeout_negative(&["--kill-timeout", "-5"], "--kill-timeout")]
#[case::listen_timeout_word(&["--listen-timeout", "soon"], "--listen-timeout")]
#[case::lb_policy(&["--lb-policy", "random"], "--lb-policy")]
fn bad_start_flags_start_nothing(#[case] flags: &[&str], #[case] fragment: &str) {
    let h = Home::new();
    let script = fixture("idle.js");
    let mut args = vec!["start", script.to_str().unwrap()];
    args.extend_from_slice(flags);
    let (code, _out, err) = h.run(&args);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(fragment), "stderr lacks {fragment:?}: {err}");
    assert!(h.daemon_pid().is_none(), "a daemon was started");
}

#[test]
fn missing_script_is_an_error() {
    let h = Home::new();
    let (code, _, err) = h.run(&["start", "/tmp/definitely-missing-app.js"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("Script not found: /tmp/definitely-missing-app.js"),
        "{err}"
    );
    assert!(h.daemon_pid().is_none());
}

#[rstest]
#[case("stop")]
#[case("restart")]
#[case("reload")]
#[case("delete")]
fn unknown_app_is_an_error(#[case] verb: &str) {
    let h = Home::new();
    let (code, _, err) = h.run(&[verb, "nosuchapp"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("[PM2][ERROR] Process or Namespace nosuchapp not found"),
        "{err}"
    );
}

#[test]
fn unknown_id_is_an_error() {
    let h = Home::new();
    let (code, _, err) = h.run(&["stop", "99"]);
    assert_eq!(code, 1);
    assert!(err.contains("[PM2][ERROR] 99 : id unknown"), "{err}");
}

#[test]
fn stop_all_with_nothing_running_exits_1() {
    let h = Home::new();
    let (code, _, err) = h.run(&["stop", "all"]);
    assert_eq!(code, 1);
    assert!(err.contains("No process found"), "{err}");
}

#[test]
fn unknown_option_and_command_exit_1() {
    let h = Home::new();
    assert_eq!(h.run(&["start", "x.js", "--bogus"]).0, 1);
    assert_eq!(h.run(&["frobnicate"]).0, 1);
    assert_eq!(h.run(&[]).0, 1);
    assert!(h.daemon_pid().is_none());
}

#[test]
fn scale_unknown_app_and_nothing_to_do() {
    let h = Home::new();
    let (code, _, err) = h.run(&["scale", "ghost", "2"]);
    assert_eq!(code, 1);
    assert!(err.contains("Application ghost not found"), "{err}");
}

#[test]
fn long_home_path_is_refused_quickly() {
    let base = tempfile::Builder::new()
        .prefix("rp.")
        .tempdir_in("/tmp")
        .unwrap();
    let long = base.path().join("x".repeat(110));
    let start = std::time::Instant::now();
    let out = assert_cmd::Command::cargo_bin("refpm")
        .unwrap()
        .env("PM2_HOME", &long)
        .args(["jlist"])
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("too long"), "{err}");
    assert!(out.stdout.is_empty());
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
    assert!(!long.exists(), "the long home was created");
}

#[test]
fn version_and_ping() {
    let h = Home::new();
    let out = h.ok(&["--version"]);
    assert_eq!(out.trim(), env!("CARGO_PKG_VERSION"));
    let out = h.ok(&["ping"]);
    assert!(out.contains("pong"), "{out}");
    assert!(h.daemon_pid().is_some());
}

#[test]
fn jlist_on_a_fresh_home_prints_only_json() {
    let h = Home::new();
    let (code, out, _) = h.run(&["jlist"]);
    assert_eq!(code, 0);
    assert_eq!(out, "[]");
}

#[test]
fn home_and_socket_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let h = Home::new();
    h.ok(&["ping"]);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(h.path()), 0o700);
    assert_eq!(mode(&h.path().join("rpc.sock")), 0o600);
    assert!(h.path().join("logs").is_dir() && h.path().join("pids").is_dir());
}

#[test]
fn second_daemon_on_the_same_home_is_refused() {
    let h = Home::new();
    h.ok(&["ping"]);
    let (code, _, err) = h.run(&["daemon"]);
    assert_eq!(code, 1);
    assert!(err.contains("already running"), "{err}");
    // The first one still answers.
    h.ok(&["ping"]);
}

#[test]
fn kill_without_daemon_exits_0() {
    let h = Home::new();
    let (code, out, _) = h.run(&["kill"]);
    assert_eq!(code, 0);
    assert!(out.contains("PM2 Daemon Stopped"));
}

#[test]
fn protocol_version_mismatch_is_reported() {
    use std::io::{BufRead, BufReader, Write};
    let h = Home::new();
    h.ok(&["ping"]);
    let mut s = std::os::unix::net::UnixStream::connect(h.path().join("rpc.sock")).unwrap();
    s.write_all(b"{\"version\":999,\"cmd\":{\"verb\":\"ping\"}}\n")
        .unwrap();
    let mut line = String::new();
    BufReader::new(s).read_line(&mut line).unwrap();
    assert!(line.contains("protocol version mismatch"), "{line}");
}
