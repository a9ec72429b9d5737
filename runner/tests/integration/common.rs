//! Shared helpers for the runner integration tests.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The workspace root (parent of `runner/`).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf()
}

/// The `conform` binary under test.
pub fn conform_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_conform"))
}

/// The target the runner tests drive: `refpm` built beside `conform` (`cargo test` at the root builds it),
/// else the pinned pm2; panics with a hint when neither exists.
pub fn target() -> PathBuf {
    let bin = conform_bin();
    let refpm = bin.parent().expect("bin dir").join("refpm");
    if refpm.is_file() {
        return refpm;
    }
    let pm2 = workspace().join("node_modules/.bin/pm2");
    assert!(
        pm2.exists(),
        "neither {} nor {} exists: run `cargo build -p refpm` or `npm ci`",
        refpm.display(),
        pm2.display()
    );
    pm2
}

/// `conform run --target T --suites DIR --fixtures <workspace>/fixtures --report-dir R` plus `extra`.
pub fn conform_run_cmd(
    target: &Path,
    suites: &Path,
    reports: &Path,
    extra: &[&str],
) -> std::process::Command {
    let mut c = std::process::Command::new(conform_bin());
    c.arg("run")
        .arg("--target")
        .arg(target)
        .arg("--suites")
        .arg(suites)
        .arg("--fixtures")
        .arg(workspace().join("fixtures"))
        .arg("--report-dir")
        .arg(reports)
        .args(extra);
    c
}

/// [`conform_run_cmd`], waited for (10 minutes at most).
pub fn run_conform(
    target: &Path,
    suites: &Path,
    reports: &Path,
    extra: &[&str],
) -> std::process::Output {
    assert_cmd::Command::from_std(conform_run_cmd(target, suites, reports, extra))
        .timeout(Duration::from_secs(600))
        .output()
        .expect("run conform")
}

/// A temporary directory holding `files` (relative path → text).
pub fn temp_tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("cf-test.")
        .tempdir()
        .expect("tempdir");
    for (rel, text) in files {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }
    dir
}

/// Whether a pid exists and is not a zombie.
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(')').map(|x| x.1.trim_start().chars().next()))
        .flatten()
        .is_some_and(|c| c != 'Z' && c != 'X')
}

/// Every live process whose environment contains `needle` (`KEY=value`).
pub fn with_env(needle: &str) -> Vec<u32> {
    let me = std::process::id();
    std::fs::read_dir("/proc")
        .map(|rd| {
            rd.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
                .filter(|&p| p != me && alive(p))
                .filter(|p| {
                    std::fs::read(format!("/proc/{p}/environ"))
                        .map(|env| env.split(|&b| b == 0).any(|kv| kv == needle.as_bytes()))
                        .unwrap_or(false)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Polls `f` every 50 ms until it is true or `timeout` passes.
pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    f()
}

/// Reads `results.json` of the only target directory under `reports`.
pub fn results(reports: &Path) -> serde_json::Value {
    let dir = std::fs::read_dir(reports)
        .expect("report dir")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.join("results.json").is_file())
        .unwrap_or_else(|| panic!("no <label>/results.json under {}", reports.display()));
    serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).expect("read"))
        .expect("json")
}

/// Asserts the run left nothing: `leftover_processes` is 0 for every scenario (what clean-up had to
/// kill), and no worker pid from any scenario is still alive.
pub fn assert_no_leftovers(results: &serde_json::Value) {
    for r in results["results"].as_array().expect("results") {
        let left = r["figures"]["values"]["leftover_processes"]
            .as_f64()
            .unwrap_or(0.0);
        assert_eq!(
            left, 0.0,
            "{}: clean-up had to kill {left} processes",
            r["id"]
        );
        for w in r["figures"]["workers"].as_array().into_iter().flatten() {
            let pid = w["pid"].as_u64().expect("pid") as u32;
            assert!(!alive(pid), "{}: worker {pid} still running", r["id"]);
        }
    }
}

/// The lines of a suite file with one scenario; `extra` is appended inside the scenario table.
pub fn one_scenario(suite: &str, id: &str, body: &str) -> String {
    format!(
        "suite = \"{suite}\"\n\n[[scenario]]\nid = \"{suite}/{id}\"\nquote = \"an Integer. This spreads the app across a specific number of clusters.\"\nsource = \"guide\"\nlevel = \"MUST\"\nfixture = \"http\"\n{body}"
    )
}

/// Asserts no `index.html` under `reports` shows Rust debug text (`Some(`, `None`, `[]`, escaped
/// quotes): every value a reader sees is rendered as text.
pub fn assert_no_debug_text(reports: &Path) {
    let mut pages = 0;
    for e in std::fs::read_dir(reports).expect("report dir").flatten() {
        let page = e.path().join("index.html");
        let Ok(html) = std::fs::read_to_string(&page) else {
            continue;
        };
        pages += 1;
        for bad in ["Some(", "None", "[]", "\\\""] {
            if let Some(i) = html.find(bad) {
                panic!(
                    "{} shows `{bad}`: …{}…",
                    page.display(),
                    &html[i.saturating_sub(160)..(i + 60).min(html.len())]
                );
            }
        }
    }
    assert!(pages > 0, "no index.html under {}", reports.display());
}
