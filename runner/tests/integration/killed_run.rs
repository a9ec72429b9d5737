//! A `conform run` killed with SIGKILL cannot clean up: the next run finds what it left (through the
//! live-sandbox entries in the state directory) and kills it by pid.

use crate::common::{conform_run_cmd, one_scenario, target, temp_tree, wait_until, with_env};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn conform(state: &Path, suites: &Path, reports: &Path, extra: &[&str]) -> Command {
    let mut c = conform_run_cmd(&target(), suites, reports, extra);
    c.env("CONFORM_STATE_DIR", state)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c
}

/// SIGKILLs each pid (the test's own clean-up when an assertion is about to fail).
fn kill_all(pids: &[u32]) {
    for &p in pids {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(p as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

fn entries(state: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(state)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default()
}

#[test]
fn leftovers_of_a_sigkilled_run_are_reaped_by_the_next_run() {
    let tag = format!("CONFORM_TEST_TAG=killed-{}", std::process::id());
    let body = format!(
        "app = {{ instances = 2, env = {{ CONFORM_TEST_TAG = \"killed-{}\" }} }}\nsteps = [\n  {{ do = \"start\" }},\n  {{ do = \"wait-online\", count = 2 }},\n  {{ do = \"sleep\", ms = 60000 }},\n]\nexpect = [\n  {{ check = \"instance-count\", equals = 2 }},\n]\n",
        std::process::id()
    );
    let dir = temp_tree(&[("s/t.toml", &one_scenario("t", "long", &body))]);
    let state = dir.path().join("state");
    let mut child = conform(&state, &dir.path().join("s"), &dir.path().join("r"), &[])
        .spawn()
        .expect("spawn conform");
    // daemon + 2 workers carry the tag once the app is up
    let started = wait_until(Duration::from_secs(60), || with_env(&tag).len() >= 3);
    let _ = child.kill(); // SIGKILL: no clean-up at all
    let _ = child.wait();
    let left = with_env(&tag);
    let live = entries(&state);
    // the precondition: the killed run did leave processes and a live entry behind
    let homes: Vec<String> = live
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter_map(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .filter_map(|v| v["home"].as_str().map(str::to_string))
        .collect();
    let next = conform(
        &state,
        &dir.path().join("s"),
        &dir.path().join("r2"),
        &["--scenario", "no-such-scenario"],
    )
    .output()
    .expect("run conform again");
    let stderr = String::from_utf8_lossy(&next.stderr).into_owned();
    let gone = wait_until(Duration::from_secs(10), || with_env(&tag).is_empty());
    if !gone {
        kill_all(&with_env(&tag));
    }
    assert!(started, "the app never started");
    assert!(
        left.len() >= 3,
        "the killed run left nothing to clean ({left:?}): the test proves nothing"
    );
    assert!(!homes.is_empty(), "no live entry in {}", state.display());
    assert_eq!(
        next.status.code(),
        Some(2),
        "the second run selects nothing: {stderr}"
    );
    assert!(
        stderr.contains("cleaned") && stderr.contains("left by a killed run"),
        "{stderr}"
    );
    assert!(
        gone,
        "processes of the killed run survived the next run: {:?}",
        with_env(&tag)
    );
    for h in &homes {
        assert!(!Path::new(h).exists(), "home {h} not removed");
    }
    assert!(
        entries(&state).is_empty(),
        "entries left: {:?}",
        entries(&state)
    );
}

#[test]
fn a_live_run_is_never_reaped_by_another() {
    let tag = format!("CONFORM_TEST_TAG=alive-{}", std::process::id());
    let body = format!(
        "app = {{ instances = 1, env = {{ CONFORM_TEST_TAG = \"alive-{}\" }} }}\nsteps = [\n  {{ do = \"start\" }},\n  {{ do = \"wait-online\", count = 1 }},\n  {{ do = \"sleep\", ms = 60000 }},\n]\nexpect = [\n  {{ check = \"instance-count\", equals = 1 }},\n]\n",
        std::process::id()
    );
    let dir = temp_tree(&[("s/t.toml", &one_scenario("t", "long", &body))]);
    let state = dir.path().join("state");
    let mut child = conform(&state, &dir.path().join("s"), &dir.path().join("r"), &[])
        .spawn()
        .expect("spawn conform");
    let started = wait_until(Duration::from_secs(60), || with_env(&tag).len() >= 2);
    // settled: the same processes twice 500 ms apart (the CLI calls of `wait-online` have ended)
    let mut before = with_env(&tag);
    wait_until(Duration::from_secs(15), || {
        std::thread::sleep(Duration::from_millis(500));
        let now = with_env(&tag);
        let same = now == before;
        before = now;
        same
    });
    let other = conform(
        &state,
        &dir.path().join("s"),
        &dir.path().join("r2"),
        &["--scenario", "no-such-scenario"],
    )
    .output()
    .expect("run conform again");
    let after = with_env(&tag);
    // end the first run the normal way (SIGINT: it stops what it started)
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    );
    let done = wait_until(Duration::from_secs(60), || {
        matches!(child.try_wait(), Ok(Some(_)))
    });
    if !done {
        let _ = child.kill();
    }
    let _ = child.wait();
    let gone = wait_until(Duration::from_secs(10), || with_env(&tag).is_empty());
    if !gone {
        kill_all(&with_env(&tag));
    }
    assert!(started, "the app never started");
    let stderr = String::from_utf8_lossy(&other.stderr);
    assert!(
        !stderr.contains("left by a killed run"),
        "a live run was reaped: {stderr}"
    );
    assert_eq!(
        before, after,
        "processes of a live run were killed by another run"
    );
    assert!(gone, "the interrupted run left processes");
    assert!(
        entries(&state).is_empty(),
        "entries left after a clean exit: {:?}",
        entries(&state)
    );
}
