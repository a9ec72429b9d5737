//! `conform run` end to end against a real target (refpm, else the pinned pm2): a scenario that must
//! fail fails with exit 1, a passing one exits 0, SIGINT stops everything and exits 130; no process is
//! left after any of them.

use crate::common::{
    assert_no_leftovers, conform_bin, one_scenario, results, run_conform, target, temp_tree,
    wait_until, with_env, workspace,
};
use assert_cmd::Command;
use std::time::Duration;

fn run(suites: &std::path::Path, reports: &std::path::Path) -> std::process::Output {
    run_conform(&target(), suites, reports, &[])
}

#[test]
fn a_scenario_that_must_fail_fails_with_exit_1() {
    let body = "app = { instances = 2 }\nsteps = [\n  { do = \"start\" },\n  { do = \"wait-online\", count = 2 },\n  { do = \"wait-listening\", count = 2 },\n]\nexpect = [\n  { check = \"instance-count\", equals = 3 },\n]\n";
    let dir = temp_tree(&[("s/t.toml", &one_scenario("t", "two-is-not-three", body))]);
    let out = run(&dir.path().join("s"), &dir.path().join("r"));
    assert_eq!(
        out.status.code(),
        Some(1),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let res = results(&dir.path().join("r"));
    let r = &res["results"][0];
    assert_eq!(r["verdict"], "fail", "{r}");
    assert_eq!(r["checks"][0]["passed"], false);
    assert!(
        r["reason"].as_str().unwrap().contains("instance-count"),
        "{r}"
    );
    assert_eq!(
        r["figures"]["values"]["instances_jlist"].as_f64(),
        Some(2.0)
    );
    assert_no_leftovers(&res);
}

#[test]
fn a_passing_scenario_exits_0_and_writes_results() {
    let body = "app = { instances = 2 }\nsteps = [\n  { do = \"start\" },\n  { do = \"wait-online\", count = 2 },\n  { do = \"wait-listening\", count = 2 },\n  { do = \"load\", rate = 100, duration_ms = 1000 },\n  { do = \"load-finish\" },\n]\nexpect = [\n  { check = \"instance-count\", equals = 2 },\n  { check = \"every-instance-serves\" },\n  { check = \"failed-requests\", max = 0 },\n]\n";
    let dir = temp_tree(&[("s/t.toml", &one_scenario("t", "two", body))]);
    let out = run(&dir.path().join("s"), &dir.path().join("r"));
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let res = results(&dir.path().join("r"));
    let r = &res["results"][0];
    assert_eq!(r["verdict"], "pass", "{r}");
    assert_eq!(
        r["figures"]["per_worker"].as_object().map(|m| m.len()),
        Some(2),
        "{r}"
    );
    assert!(
        r["figures"]["outcomes"]["ok"].as_u64().unwrap_or(0) >= 90,
        "{r}"
    );
    assert_eq!(res["summary"]["must_failures"], 0);
    assert_no_leftovers(&res);
}

#[test]
fn sigint_stops_everything_and_exits_130() {
    let tag = format!("CONFORM_TEST_TAG={}", std::process::id());
    let body = format!(
        "app = {{ instances = 2, env = {{ CONFORM_TEST_TAG = \"{}\" }} }}\nsteps = [\n  {{ do = \"start\" }},\n  {{ do = \"wait-online\", count = 2 }},\n  {{ do = \"load\", rate = 50, duration_ms = 60000 }},\n  {{ do = \"load-finish\" }},\n]\nexpect = [\n  {{ check = \"failed-requests\" }},\n]\n",
        std::process::id()
    );
    let dir = temp_tree(&[("s/t.toml", &one_scenario("t", "long", &body))]);
    let mut child = std::process::Command::new(conform_bin())
        .arg("run")
        .arg("--target")
        .arg(target())
        .arg("--suites")
        .arg(dir.path().join("s"))
        .arg("--fixtures")
        .arg(workspace().join("fixtures"))
        .arg("--report-dir")
        .arg(dir.path().join("r"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn conform");
    let started = wait_until(Duration::from_secs(30), || with_env(&tag).len() >= 2);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .expect("signal");
    let done = wait_until(Duration::from_secs(40), || {
        matches!(child.try_wait(), Ok(Some(_)))
    });
    if !done {
        let _ = child.kill();
    }
    let status = child.wait().expect("wait");
    assert!(started, "the app never started");
    assert!(done, "conform did not exit after SIGINT");
    assert_eq!(status.code(), Some(130));
    assert!(
        wait_until(Duration::from_secs(5), || with_env(&tag).is_empty()),
        "left running: {:?}",
        with_env(&tag)
    );
    let res = results(&dir.path().join("r"));
    assert_eq!(res["results"][0]["verdict"], "error");
    assert_eq!(res["results"][0]["reason"], "interrupted");
}

#[test]
fn an_option_the_target_rejects_gives_unsupported() {
    // a stand-in manager that knows no option at all, like commander's "unknown option"
    let fake = "#!/bin/sh\ncase \"$1\" in\n  start) echo \"error: unknown option \\`--frob'\" >&2; exit 1;;\n  jlist) printf '[]';;\n  --version) echo 0.0.1;;\n  *) exit 0;;\nesac\n";
    let body = "steps = [\n  { do = \"start\", args = [\"--frob\"] },\n  { do = \"wait-online\", count = 1 },\n]\nexpect = [\n  { check = \"instance-count\", equals = 1 },\n]\n";
    let dir = temp_tree(&[
        ("fakepm", fake),
        ("s/t.toml", &one_scenario("t", "frob", body)),
    ]);
    let exe = dir.path().join("fakepm");
    std::fs::set_permissions(&exe, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let out = Command::new(conform_bin())
        .arg("run")
        .arg("--target")
        .arg(&exe)
        .arg("--suites")
        .arg(dir.path().join("s"))
        .arg("--fixtures")
        .arg(workspace().join("fixtures"))
        .arg("--report-dir")
        .arg(dir.path().join("r"))
        .timeout(Duration::from_secs(60))
        .output()
        .expect("run conform");
    // an unsupported MUST is not passed: exit 1 unless a baseline says `unsupported` (the target
    // contract, docs/target-contract.md)
    assert_eq!(
        out.status.code(),
        Some(1),
        "an unsupported MUST counts as not passed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        dir.path().join("r/fakepm-0.0.1/results.json").is_file(),
        "label from basename and --version"
    );
    let res = results(&dir.path().join("r"));
    assert_eq!(
        res["results"][0]["verdict"], "unsupported",
        "{}",
        res["results"][0]
    );
    assert!(
        res["results"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("unknown option")
    );
}

#[test]
fn repeat_records_every_verdict_with_two_jobs() {
    let body = "app = { instances = 1 }\nsteps = [\n  { do = \"start\" },\n  { do = \"wait-online\", count = 1 },\n]\nexpect = [\n  { check = \"instance-count\", equals = 1 },\n]\n";
    let two = format!(
        "{}\n[[scenario]]\nid = \"t/b\"\nquote = \"q\"\nsource = \"guide\"\nlevel = \"MUST\"\nfixture = \"http\"\n{body}",
        one_scenario("t", "a", body)
    );
    let dir = temp_tree(&[("s/t.toml", &two)]);
    let out = run_conform(
        &target(),
        &dir.path().join("s"),
        &dir.path().join("r"),
        &["--jobs", "2", "--repeat", "2"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let res = results(&dir.path().join("r"));
    let rs = res["results"].as_array().expect("results");
    assert_eq!(rs.len(), 2);
    assert_eq!(
        rs[0]["id"], "t/a",
        "results keep suite order whatever finished first"
    );
    for r in rs {
        assert_eq!(r["verdict"], "pass", "{r}");
        assert_eq!(r["repeats"], serde_json::json!(["pass", "pass"]), "{r}");
    }
    assert_no_leftovers(&res);
}

#[test]
fn a_flaky_scenario_shows_the_repetition_that_failed() {
    // refpm behind a wrapper that starts one instance instead of two on every second `start`: the
    // verdicts go pass, fail, pass, and the result must show the failing run's checks, not the last run's
    let wrapper = format!(
        "#!/bin/sh\nc=\"$0.count\"\nif [ \"$1\" = start ]; then\n  n=$(( $(cat \"$c\" 2>/dev/null || echo 0) + 1 )); echo $n > \"$c\"\n  if [ $((n % 2)) = 0 ]; then\n    for a do shift; [ \"$a\" = 2 ] && a=1; set -- \"$@\" \"$a\"; done\n  fi\nfi\nexec '{}' \"$@\"\n",
        target().display()
    );
    let body = "app = { instances = 2 }\nsteps = [\n  { do = \"start\" },\n  { do = \"wait-online\", count = 1 },\n  { do = \"wait-listening\", count = 1 },\n]\nexpect = [\n  { check = \"instance-count\", equals = 2 },\n]\n";
    let dir = temp_tree(&[
        ("flakypm", &wrapper),
        ("s/t.toml", &one_scenario("t", "sometimes-one", body)),
    ]);
    let exe = dir.path().join("flakypm");
    std::fs::set_permissions(&exe, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let out = run_conform(
        &exe,
        &dir.path().join("s"),
        &dir.path().join("r"),
        &["--repeat", "3"],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "a flaky MUST is not passed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let res = results(&dir.path().join("r"));
    let r = &res["results"][0];
    assert_eq!(r["verdict"], "flaky", "{r}");
    assert_eq!(
        r["repeats"],
        serde_json::json!(["pass", "fail", "pass"]),
        "{r}"
    );
    let reason = r["reason"].as_str().expect("reason");
    assert!(reason.contains("run 2 (fail)"), "{reason}");
    assert_eq!(
        r["checks"][0]["passed"], false,
        "the failing run's checks: {r}"
    );
    assert_no_leftovers(&res);
}
