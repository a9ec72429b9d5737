//! `conform app` on the test apps in `fixtures/apps/` (plain http, express, fastify as an ES module,
//! koa), each in its good form and its broken forms (sessions in memory, exit at once on SIGINT, no
//! SIGINT handler, keep-alive connections left open, one port per instance): the good form passes
//! every MUST finding on every run, each broken form fails exactly the finding it deserves. Against
//! refpm (every app) and pm2 7.0.4 (the express forms). Every run must leave no process behind.

use crate::common::{alive, conform_bin, target, workspace};
use assert_cmd::Command;
use rstest::rstest;
use std::collections::BTreeSet;
use std::path::Path;

/// Runs `conform app` on `script` with `flaw` (empty: the good form) against `tgt`; returns the exit
/// code and results.json.
fn check(script: &str, flaw: &str, tgt: &Path) -> (i32, serde_json::Value) {
    // one app check at a time: each is a small load test, and the shared 2-core machine is the limit
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let ws = workspace();
    let tmp = tempfile::Builder::new()
        .prefix("cf-app.")
        .tempdir()
        .expect("tempdir");
    let port = free_port_pair();
    let out = Command::new(conform_bin())
        .current_dir(tmp.path())
        .arg("app")
        .arg(ws.join("fixtures/apps").join(script))
        .args(["--env", &format!("PORT={port}")])
        .args(["--env", &format!("APP_FLAW={flaw}")])
        .args([
            "--env",
            &format!("SESSION_DIR={}", tmp.path().join("sessions").display()),
        ])
        .arg("--flow")
        .arg(ws.join("fixtures/apps/login.toml"))
        .args(["--slow-url", "/slow", "--report-dir"])
        .arg(tmp.path().join("report"))
        .arg("--target")
        .arg(tgt)
        .timeout(std::time::Duration::from_secs(240))
        .output()
        .expect("run conform app");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code().unwrap_or(-1);
    let path = tmp.path().join("report/results.json");
    let json: serde_json::Value = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_else(|| {
            panic!("{script} {flaw}: no results.json (exit {code})\n{stdout}\n{stderr}")
        });
    // nothing left running: every process the recorder saw is gone
    for f in json["findings"].as_array().expect("findings") {
        for w in f["figures"]["workers"].as_array().into_iter().flatten() {
            let pid = w["pid"].as_u64().expect("pid") as u32;
            assert!(
                !alive(pid),
                "{script} {flaw}: app process {pid} still running"
            );
        }
    }
    assert!(stdout.contains("advice") || code == 0, "{stdout}");
    (code, json)
}

/// A port with PORT + 1 free too (the port-per-instance form listens on both), below the ephemeral
/// range where client connections take odd ports.
fn free_port_pair() -> u16 {
    let seed = std::process::id() as u64 * 7919
        + std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() as u64)
            .unwrap_or(0);
    (0..500u64)
        .map(|i| 20_000 + ((seed + i * 104_729) % 12_000) as u16)
        .find(|&p| {
            std::net::TcpListener::bind(("0.0.0.0", p)).is_ok()
                && std::net::TcpListener::bind(("0.0.0.0", p + 1)).is_ok()
        })
        .expect("two free ports")
}

/// Ids of the findings with `verdict`.
fn with_verdict(json: &serde_json::Value, verdict: &str) -> BTreeSet<String> {
    json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["verdict"] == verdict)
        .map(|f| f["id"].as_str().expect("id").to_string())
        .collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

const MUST: [&str; 5] = [
    "cluster-start",
    "distribution",
    "stateless",
    "reload",
    "graceful-shutdown",
];

/// Every test app in its good form and each broken form, against refpm: the good form passes every
/// MUST finding on every run, each broken form fails exactly the finding it deserves.
#[rstest]
fn app_on_refpm(
    #[values("http.js", "express.js", "fastify.mjs", "koa.js")] script: &str,
    #[values(
        ("", &[][..]),
        ("sessions", &["stateless"][..]),
        ("exit-now", &["graceful-shutdown"][..]),
        ("no-handler", &["graceful-shutdown"][..]),
        ("linger", &["graceful-shutdown"][..]),
        ("port-per-instance", &["cluster-start"][..]),
    )]
    form: (&str, &[&str]),
) {
    let (flaw, fails) = form;
    let (code, json) = check(script, flaw, &target());
    expect_exactly(script, flaw, fails, code, &json);
    if flaw.is_empty() {
        good_reload(script, &json);
    }
}

/// Exactly `fails` fail, every other MUST finding passes (or is skipped after a failed
/// cluster-start), the INFO findings are there, exit 1 or 0 accordingly.
fn expect_exactly(script: &str, flaw: &str, fails: &[&str], code: i32, json: &serde_json::Value) {
    let failed = with_verdict(json, "fail");
    assert_eq!(
        failed,
        set(fails),
        "{script} {flaw}: {:#}",
        json["findings"]
    );
    assert_eq!(
        code,
        if fails.is_empty() { 0 } else { 1 },
        "{script} {flaw}"
    );
    // every other MUST finding passed, or was skipped because cluster-start failed
    let passed = with_verdict(json, "pass");
    let skipped = with_verdict(json, "skipped");
    for id in MUST.iter().filter(|id| !fails.contains(id)) {
        let ok =
            passed.contains(*id) || (fails.contains(&"cluster-start") && skipped.contains(*id));
        assert!(
            ok,
            "{script} {flaw}: {id} neither passed nor skipped: {:#}",
            json["findings"]
        );
    }
    // the INFO findings are always there
    assert_eq!(
        with_verdict(json, "info"),
        set(&["instance-var", "wait-ready"])
    );
    if flaw == "port-per-instance" {
        let iv = finding(json, "instance-var");
        // PORT + 1 may be taken on a busy machine: restarts read it again
        assert!(
            iv["figures"]["values"]["processes_reading"].as_f64() >= Some(2.0),
            "{iv:#}"
        );
    }
}

fn finding<'a>(json: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no finding {id}"))
}

/// A good app loses nothing in a reload and causes no keep-alive reset (it drains with
/// `Connection: close`), so the reload finding gives it no advice.
fn good_reload(script: &str, json: &serde_json::Value) {
    let reload = finding(json, "reload");
    let v = &reload["figures"]["values"];
    assert_eq!(v["failed_app"], 0.0, "{script}: {reload:#}");
    assert_eq!(v["keepalive_resets_app"], 0.0, "{script}: {reload:#}");
    assert_eq!(reload["advice"], "", "{script}: {reload:#}");
}

/// The express forms against pm2 7.0.4: the same findings; a request pm2 lost before it reached the
/// app, or a keep-alive reset pm2 caused, is the manager's, never the app's.
#[rstest]
#[case::good("", &[])]
#[case::sessions("sessions", &["stateless"])]
#[case::exit_now("exit-now", &["graceful-shutdown"])]
#[case::no_handler("no-handler", &["graceful-shutdown"])]
#[case::port_per_instance("port-per-instance", &["cluster-start"])]
fn express_on_pm2(#[case] flaw: &str, #[case] fails: &[&str]) {
    let pm2 = workspace().join("node_modules/.bin/pm2");
    assert!(pm2.exists(), "run `npm ci` first");
    let (code, json) = check("express.js", flaw, &pm2);
    expect_exactly("express.js", flaw, fails, code, &json);
    if flaw.is_empty() {
        good_reload("express.js", &json);
    }
    let reload = finding(&json, "reload");
    if reload["figures"]["values"]["failed_manager"].as_f64() > Some(0.0) {
        assert!(
            reload["evidence"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|e| e.as_str().is_some_and(|e| e.contains("not the app"))),
            "{reload:#}"
        );
    }
}

#[test]
fn a_bad_flow_file_is_exit_2_naming_file_line_and_key() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let flow = tmp.path().join("bad.toml");
    std::fs::write(&flow, "[[step]]\npath = \"/\"\nexpect_status = 9000\n").expect("write");
    let out = Command::new(conform_bin())
        .arg("app")
        .arg(workspace().join("fixtures/apps/http.js"))
        .arg("--flow")
        .arg(&flow)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml:3:") && err.contains("expect_status"),
        "{err}"
    );
}

#[test]
fn an_app_that_does_not_start_is_exit_2_with_its_log_tail() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let app = tmp.path().join("boom.js");
    std::fs::write(
        &app,
        "console.error('boom: missing DATABASE_URL'); process.exit(3);\n",
    )
    .expect("write");
    let out = Command::new(conform_bin())
        .current_dir(tmp.path())
        .arg("app")
        .arg(&app)
        .args(["--listen-timeout", "4", "--target"])
        .arg(target())
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("did not start") && err.contains("boom: missing DATABASE_URL"),
        "{err}"
    );
}

#[rstest]
#[case(&["app", "/nonexistent/app.js"], "no such file")]
#[case(&["app", "fixtures/apps/http.js", "--url", "nope"], "--url `nope`")]
#[case(&["app", "fixtures/apps/http.js", "--env", "NOEQUALS"], "--env `NOEQUALS`")]
#[case(&["app", "fixtures/apps/http.js", "--instances", "0"], "--instances")]
fn bad_arguments_are_exit_2(#[case] args: &[&str], #[case] says: &str) {
    let out = Command::new(conform_bin())
        .current_dir(workspace())
        .args(args)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(says), "{args:?}: {err}");
}

#[test]
fn a_yaml_ecosystem_file_is_read_name_instances_and_env() {
    let ws = workspace();
    let tmp = tempfile::Builder::new()
        .prefix("cf-app-yaml.")
        .tempdir()
        .expect("tempdir");
    let port = free_port_pair();
    let eco = tmp.path().join("ecosystem.config.yaml");
    std::fs::write(
        &eco,
        format!(
            "apps:\n  - name: web-yaml\n    script: {}\n    instances: 2\n    kill_timeout: 1600\n    env:\n      PORT: {port}\n      SESSION_DIR: {}\n",
            ws.join("fixtures/apps/http.js").display(),
            tmp.path().join("sessions").display()
        ),
    )
    .expect("write");
    let out = Command::new(conform_bin())
        .current_dir(tmp.path())
        .arg("app")
        .arg(&eco)
        .args(["--slow-url", "/slow", "--report-dir"])
        .arg(tmp.path().join("report"))
        .arg("--target")
        .arg(target())
        .timeout(std::time::Duration::from_secs(240))
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("report/results.json")).expect("results"),
    )
    .expect("json");
    assert_eq!(json["app"]["name"], "web-yaml");
    assert_eq!(json["app"]["instances"], 2);
}

#[rstest]
#[case(
    "apps:\n  - name: web\n    script: app.js\n    kill_timeout: soon\n",
    ":4:",
    "kill_timeout"
)]
#[case("apps:\n  - name: web\n    script: [app.js\n", ":3:", "script")]
#[case("name: web\nscript: app.js\n", ":2:", "apps")]
fn a_bad_yaml_ecosystem_is_exit_2_naming_file_line_and_key(
    #[case] text: &str,
    #[case] line: &str,
    #[case] key: &str,
) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let eco = tmp.path().join("ecosystem.config.yml");
    std::fs::write(&eco, text).expect("write");
    std::fs::write(tmp.path().join("app.js"), "").expect("write");
    let out = Command::new(conform_bin())
        .arg("app")
        .arg(&eco)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("ecosystem.config.yml{line}"))
            && err.contains(&format!("key `{key}`")),
        "{err}"
    );
}
