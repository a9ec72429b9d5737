//! `conform bench --quick` end to end against refpm only: the JSON has every figure, the goals are
//! evaluated, the HTML page is written, and no process the bench started is left running.
//! Nothing here asserts on timings.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn refpm() -> PathBuf {
    let conform = PathBuf::from(env!("CARGO_BIN_EXE_conform"));
    let p = conform.with_file_name("refpm");
    assert!(
        p.is_file(),
        "{} not built: run `cargo build -p refpm` (cargo test --workspace builds it)",
        p.display()
    );
    p
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Live pids whose environment holds `CONFORM_BENCH=<pid>`.
fn marked(pid: u32) -> Vec<u32> {
    let needle = format!("CONFORM_BENCH={pid}").into_bytes();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            std::fs::read(format!("/proc/{p}/environ"))
                .map(|env| env.split(|&b| b == 0).any(|kv| kv == needle.as_slice()))
                .unwrap_or(false)
        })
        .filter(|p| {
            let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
            let state = stat
                .rsplit_once(')')
                .and_then(|(_, a)| a.trim_start().chars().next());
            matches!(state, Some(s) if s != 'Z' && s != 'X')
        })
        .collect()
}

#[test]
fn quick_bench_against_refpm_has_every_figure_and_leaves_nothing() {
    let refpm = refpm();
    let reports = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_conform"))
        .args([
            "bench",
            "--quick",
            "--rounds",
            "1",
            "--reloads",
            "2",
            "--scale-apps",
            "3",
            "--target",
        ])
        .arg(&refpm)
        .arg("--report-dir")
        .arg(reports.path())
        .arg("--fixtures")
        .arg(workspace().join("fixtures"))
        .current_dir(workspace())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    // bounded: a hung bench is killed and the test fails
    let deadline = Instant::now() + Duration::from_secs(600);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let left = marked(pid);
            for p in &left {
                let _ = Command::new("kill").args(["-9", &p.to_string()]).status();
            }
            panic!("conform bench did not finish within 600 s");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );

    // nothing left: the marker is in every process the bench started (targets' daemons, apps, node)
    let end = Instant::now() + Duration::from_secs(5);
    let mut left = marked(pid);
    while !left.is_empty() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(100));
        left = marked(pid);
    }
    assert!(left.is_empty(), "processes left running: {left:?}");

    let dir = reports.path().join("bench");
    let json: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    assert_eq!(json.len(), 1, "{json:?}");
    assert!(dir.join("index.html").is_file());
    let name = json[0].file_stem().unwrap().to_string_lossy().to_string();
    assert_eq!(name.len(), "2026-12-01T13-05-09".len(), "{name}");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json[0]).unwrap()).unwrap();
    assert_eq!(r["complete"], true);
    assert_eq!(r["errors"].as_array().unwrap().len(), 0, "{}", r["errors"]);
    let wrk = Path::new("/usr/bin/wrk").is_file() || r["config"]["wrk"].is_string();
    let figures = r["figures"].as_array().unwrap();
    for f in figures {
        let id = f["id"].as_str().unwrap();
        let rows = f["rows"].as_array().unwrap();
        let subjects: Vec<&str> = rows
            .iter()
            .map(|r| r["subject"].as_str().unwrap())
            .collect();
        match id {
            "run.wall_s" => assert!(rows.is_empty(), "no --with-run, yet {id} has rows"),
            "newconn.wrk_rps" if !wrk => assert!(rows.is_empty()),
            _ => assert!(
                subjects.iter().any(|s| s.starts_with("refpm")),
                "{id} has no refpm row: {subjects:?}"
            ),
        }
        for row in rows {
            assert!(row["median"].as_f64().unwrap().is_finite(), "{id}: {row}");
            assert!(row["n"].as_u64().unwrap() >= 1);
        }
    }
    // the throughput figures have the reference rows too
    let max = figures
        .iter()
        .find(|f| f["id"] == "newconn.max_rps")
        .unwrap();
    let subjects: Vec<&str> = max["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["subject"].as_str().unwrap())
        .collect();
    assert_eq!(
        subjects,
        [
            "refpm (rr)",
            "refpm (shared)",
            "node (1 process)",
            "node cluster (rr)",
            "node cluster (none)"
        ]
    );
    // goals: the node-relative ones are evaluated, the PM2-relative ones are not measured without pm2
    let goals = r["goals"].as_array().unwrap();
    let status = |id: &str| {
        goals
            .iter()
            .find(|g| g["id"] == id)
            .map(|g| g["status"].as_str().unwrap().to_string())
    };
    assert!(matches!(
        status("rr-vs-node-rr").as_deref(),
        Some("met" | "missed")
    ));
    assert!(matches!(
        status("reload-zero-failed-shared").as_deref(),
        Some("met" | "missed")
    ));
    assert_eq!(status("jlist-vs-pm2").as_deref(), Some("not-measured"));
    assert!(stdout.contains("goals (refpm, issue 7):"), "{stdout}");
}
