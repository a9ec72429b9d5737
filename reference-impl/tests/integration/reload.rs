//! Reload: zero failed requests under a new-connection client loop, pids replaced, instance values
//! kept; a broken build keeps the old workers serving and exits 1.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use rstest::rstest;

use crate::common::{Home, fixture, free_port, http_pid, poll, status};

/// Runs requests from 8 concurrent clients, each on new connections, until `stop` (bounded by `max`
/// in total); returns (ok, failures).
fn client(
    port: u16,
    stop: Arc<AtomicBool>,
    done: Arc<AtomicUsize>,
    max: usize,
) -> std::thread::JoinHandle<(usize, Vec<String>)> {
    const CLIENTS: usize = 8;
    std::thread::spawn(move || {
        let workers: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let (stop, done) = (stop.clone(), done.clone());
                std::thread::spawn(move || {
                    let mut ok = 0;
                    let mut failures = vec![];
                    for _ in 0..max / CLIENTS {
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        match http_pid(port) {
                            Ok(_) => ok += 1,
                            Err(e) => failures.push(e.to_string()),
                        }
                        done.fetch_add(1, Ordering::SeqCst);
                    }
                    (ok, failures)
                })
            })
            .collect();
        let mut ok = 0;
        let mut failures = vec![];
        for w in workers {
            let (o, f) = w.join().unwrap();
            ok += o;
            failures.extend(f);
        }
        (ok, failures)
    })
}

fn instances(l: &[serde_json::Value]) -> BTreeMap<i64, i64> {
    l.iter()
        .map(|p| {
            (
                p["pm_id"].as_i64().unwrap(),
                p["pm2_env"]["NODE_APP_INSTANCE"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[rstest]
#[case::plain_2_rr(2, "http.js", "rr", None)]
#[case::plain_4_rr(4, "http.js", "rr", None)]
#[case::plain_4_rr_parallel_2(4, "http.js", "rr", Some("2"))]
#[case::graceful_2_rr(2, "graceful.js", "rr", None)]
#[case::plain_2_shared(2, "http.js", "shared", None)]
#[case::graceful_4_shared(4, "graceful.js", "shared", None)]
fn reload_under_load_drops_nothing(
    #[case] n: usize,
    #[case] app: &str,
    #[case] policy: &str,
    #[case] parallel: Option<&str>,
) {
    let h = Home::new();
    let port = free_port();
    let script = fixture(app);
    let (code, out, err) = h.run_env(
        &[
            "start",
            script.to_str().unwrap(),
            "-i",
            &n.to_string(),
            "--name",
            "web",
            "--lb-policy",
            policy,
        ],
        &[("PORT", &port.to_string())],
    );
    assert_eq!(code, 0, "{out}{err}");
    let before = h.wait_list(20, "online", |l| {
        l.len() == n && l.iter().all(|p| status(p) == "online")
    });
    http_pid(port).expect("serving before the reload");
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicUsize::new(0));
    let c = client(port, stop.clone(), done.clone(), 40_000);
    let answered = |n: usize| {
        poll(20, || (done.load(Ordering::SeqCst) >= n).then_some(()))
            .unwrap_or_else(|| panic!("the client got {n} answers"))
    };
    answered(40);
    // Two reloads in a row, the client running throughout.
    let mut args = vec!["reload", "web"];
    if let Some(p) = parallel {
        args.extend(["--parallel", p]);
    }
    let (code1, out1, err1) = h.run(&args);
    assert_eq!(code1, 0, "{out1}{err1}");
    let (code, out, err) = h.run(&args);
    // The client keeps going after the second reload: 40 more answers from the new workers.
    answered(done.load(Ordering::SeqCst) + 40);
    stop.store(true, Ordering::SeqCst);
    let (ok, failures) = c.join().unwrap();
    eprintln!(
        "reload of {n} {app} {policy}: {ok} ok, {} failed",
        failures.len()
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        failures.is_empty(),
        "{} failed of {}: {:?}",
        failures.len(),
        ok + failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert!(ok > 20, "the client made too few requests ({ok})");
    let after = h.jlist();
    assert_eq!(after.len(), n);
    let old: Vec<i64> = before.iter().map(|p| p["pid"].as_i64().unwrap()).collect();
    for p in &after {
        assert_eq!(status(p), "online");
        assert!(
            !old.contains(&p["pid"].as_i64().unwrap()),
            "pid not replaced: {p}"
        );
        assert_eq!(p["pm2_env"]["restart_time"], 2);
    }
    assert_eq!(
        instances(&before),
        instances(&after),
        "instance values changed"
    );
}

#[test]
fn reload_into_a_crashing_build_keeps_serving() {
    let h = Home::new();
    let port = free_port();
    let app = h.path().join("app.js");
    std::fs::copy(fixture("http.js"), &app).unwrap();
    let (code, out, err) = h.run_env(
        &["start", app.to_str().unwrap(), "-i", "2", "--name", "web"],
        &[("PORT", &port.to_string())],
    );
    assert_eq!(code, 0, "{out}{err}");
    let before = h.wait_list(20, "online", |l| {
        l.len() == 2 && l.iter().all(|p| status(p) == "online")
    });
    std::fs::copy(fixture("crash-at-boot.js"), &app).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let c = client(port, stop.clone(), Arc::new(AtomicUsize::new(0)), 2000);
    let (code, _, err) = h.run(&["reload", "web"]);
    stop.store(true, Ordering::SeqCst);
    let (_, failures) = c.join().unwrap();
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("aborted") && err.contains("keeps serving"),
        "{err}"
    );
    assert!(
        failures.is_empty(),
        "requests failed during a failed reload: {:?}",
        &failures[..failures.len().min(5)]
    );
    let after = h.jlist();
    let pids = |l: &[serde_json::Value]| {
        l.iter()
            .map(|p| p["pid"].as_i64().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        pids(&before),
        pids(&after),
        "the serving workers were replaced"
    );
    assert!(after.iter().all(|p| status(p) == "online"));
    http_pid(port).expect("still serving after the failed reload");
}

#[test]
fn fork_reload_is_a_restart_and_stopped_apps_start() {
    let h = Home::new();
    let script = fixture("idle.sh");
    h.ok(&["start", script.to_str().unwrap(), "--name", "f"]);
    let pid = h.jlist()[0]["pid"].as_i64().unwrap();
    h.ok(&["reload", "f"]);
    let l = h.jlist();
    assert_ne!(l[0]["pid"].as_i64().unwrap(), pid);
    assert_eq!(l[0]["pm2_env"]["restart_time"], 1);
    h.ok(&["stop", "f"]);
    h.ok(&["reload", "f"]);
    assert_eq!(status(&h.jlist()[0]), "online");
}

#[test]
fn reload_into_a_build_that_never_listens_keeps_serving() {
    let h = Home::new();
    let port = free_port();
    let app = h.path().join("app.js");
    std::fs::copy(fixture("http.js"), &app).unwrap();
    let (code, out, err) = h.run_env(
        &[
            "start",
            app.to_str().unwrap(),
            "-i",
            "2",
            "--name",
            "web",
            "--listen-timeout",
            "1500",
        ],
        &[("PORT", &port.to_string())],
    );
    assert_eq!(code, 0, "{out}{err}");
    let before = h.wait_list(20, "online", |l| {
        l.len() == 2 && l.iter().all(|p| status(p) == "online")
    });
    std::fs::copy(fixture("never-listens.js"), &app).unwrap();
    let t0 = std::time::Instant::now();
    let (code, _, err) = h.run(&["reload", "web"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        t0.elapsed() >= Duration::from_millis(1400),
        "gave up before listen_timeout"
    );
    assert!(
        err.contains("did not listen within listen_timeout"),
        "{err}"
    );
    let after = h.jlist();
    let pids = |l: &[serde_json::Value]| {
        l.iter()
            .map(|p| p["pid"].as_i64().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(pids(&before), pids(&after));
    http_pid(port).expect("still serving");
}

#[test]
fn wait_ready_reload_without_ready_proceeds_with_a_warning() {
    let h = Home::new();
    let port = free_port();
    let script = fixture("wait-ready.js");
    let (code, out, err) = h.run_env(
        &[
            "start",
            script.to_str().unwrap(),
            "-i",
            "1",
            "--name",
            "wr",
            "--wait-ready",
            "--listen-timeout",
            "1500",
        ],
        &[("PORT", &port.to_string()), ("READY_DELAY", "never")],
    );
    assert_eq!(code, 0, "{out}{err}");
    let before = h.jlist();
    let (code, _, err) = h.run(&["reload", "wr"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("no 'ready' message within listen_timeout"),
        "{err}"
    );
    let after = h.jlist();
    assert_ne!(before[0]["pid"], after[0]["pid"]);
    assert_eq!(status(&after[0]), "online");
}

#[test]
fn reload_by_ecosystem_file_with_only() {
    let h = Home::new();
    let port = free_port();
    let file = h.path().join("eco.json");
    let text = format!(
        r#"{{"apps":[{{"name":"a","script":"{0}","instances":2,"env":{{"PORT":"{1}"}}}},
                    {{"name":"b","script":"{2}"}}]}}"#,
        fixture("http.js").display(),
        port,
        fixture("idle.sh").display()
    );
    std::fs::write(&file, text).unwrap();
    h.ok(&["start", file.to_str().unwrap()]);
    let before = h.wait_list(20, "online", |l| {
        l.len() == 3 && l.iter().all(|p| status(p) == "online")
    });
    h.ok(&["reload", file.to_str().unwrap(), "--only", "a"]);
    let after = h.jlist();
    for (b, a) in before.iter().zip(&after) {
        let reloaded = a["name"] == "a";
        assert_eq!(b["pid"] != a["pid"], reloaded, "{b} vs {a}");
    }
    http_pid(port).expect("a serves");
}
