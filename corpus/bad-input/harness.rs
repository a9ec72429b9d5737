//! Runs the bad-input corpus (`corpus/bad-input/*.toml`) against a binary: each case must exit with its code,
//! name the culprit on stderr, never panic, never hang, and leave no process behind.
//!
//! Shared by the integration tests of `refpm` and `conform` through `#[path]`, so both crates check the
//! same rules with one piece of code.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One case of the corpus.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Stable id, `area/what`.
    pub id: String,
    /// Arguments, with placeholders.
    pub args: Vec<String>,
    /// Expected exit code.
    pub exit: i32,
    /// Fragment expected in stderr (may be empty).
    pub stderr: String,
    /// Files written into the case directory first (relative path → content).
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// Extra environment, with placeholders.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CorpusFile {
    case: Vec<Case>,
}

/// The repository root (two levels above a crate's manifest dir).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Loads `corpus/bad-input/<name>`.
pub fn load(name: &str) -> Vec<Case> {
    let path = repo_root().join("corpus/bad-input").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file: CorpusFile =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    file.case
}

/// What a case run left behind, for the caller's own checks.
pub struct Outcome {
    /// Owns the case's temp directories; they are removed when the outcome is dropped.
    pub base: tempfile::TempDir,
    /// The case's directory (its files).
    pub dir: PathBuf,
    /// The home the command ran with.
    pub home: PathBuf,
    /// Captured stderr.
    pub stderr: String,
    /// Captured stdout.
    pub stdout: String,
}

/// Replaces the placeholders of the README in `s`.
fn expand(s: &str, dir: &Path, home: &Path, long: &Path) -> String {
    let root = repo_root();
    s.replace("{dir}", &dir.display().to_string())
        .replace("{home}", &home.display().to_string())
        .replace("{fixtures}", &root.join("fixtures").display().to_string())
        .replace("{suites}", &root.join("suites").display().to_string())
        .replace("{long}", &long.display().to_string())
}

/// Runs `bin` with `args` in `dir` under a scrubbed environment, killing it after `deadline`.
/// Returns (exit code, stdout, stderr) or an error naming the hang.
pub fn run_with_deadline(
    bin: &Path,
    args: &[String],
    dir: &Path,
    env: &BTreeMap<String, String>,
    deadline: Duration,
) -> Result<(i32, String, String), String> {
    let out = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    let err = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("LANG", "C")
        .stdin(Stdio::null())
        .stdout(out.reopen().map_err(|e| e.to_string())?)
        .stderr(err.reopen().map_err(|e| e.to_string())?);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("spawn {}: {e}", bin.display()))?;
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if start.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("hang: still running after {deadline:?}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = std::fs::read_to_string(out.path()).unwrap_or_default();
    let stderr = std::fs::read_to_string(err.path()).unwrap_or_default();
    Ok((status.code().unwrap_or(-1), stdout, stderr))
}

/// Pids of live (non-zombie) processes whose environment holds `PM2_HOME=<home>`.
pub fn processes_of_home(home: &Path) -> Vec<i32> {
    let needle = format!("PM2_HOME={}", home.display());
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if pid == std::process::id() as i32 {
            continue;
        }
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        if !environ.split(|b| *b == 0).any(|kv| kv == needle.as_bytes()) {
            continue;
        }
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let state = stat
            .rsplit(')')
            .next()
            .and_then(|s| s.split_whitespace().next())
            .unwrap_or("");
        if state != "Z" && !state.is_empty() {
            found.push(pid);
        }
    }
    found
}

/// Runs one case with `bin`. `after` runs once the command returned, with the home it used, and returns
/// its own problems (refpm's: the table must be empty, then the daemon is killed); then nothing of that home
/// may be left running. Returns an error describing every rule the case broke; kills anything left running.
pub fn run_case(
    bin: &Path,
    case: &Case,
    after: &dyn Fn(&Path) -> Vec<String>,
) -> Result<Outcome, String> {
    let base = tempfile::Builder::new()
        .prefix("bi.")
        .tempdir_in("/tmp")
        .map_err(|e| e.to_string())?;
    let dir = base.path().join("d");
    let home = base.path().join("h");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let long = base.path().join("l".repeat(120));
    for (rel, content) in &case.files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        std::fs::write(&path, expand(content, &dir, &home, &long)).map_err(|e| e.to_string())?;
    }
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    env.insert("PM2_HOME".into(), home.display().to_string());
    for (k, v) in &case.env {
        env.insert(k.clone(), expand(v, &dir, &home, &long));
    }
    let args: Vec<String> = case
        .args
        .iter()
        .map(|a| expand(a, &dir, &home, &long))
        .collect();
    let mut problems = Vec::new();
    let (code, stdout, stderr) =
        run_with_deadline(bin, &args, &dir, &env, Duration::from_secs(60))?;
    if code != case.exit {
        problems.push(format!("exit {code}, expected {}", case.exit));
    }
    if !stderr.contains(&case.stderr) {
        problems.push(format!("stderr lacks {:?}", case.stderr));
    }
    if stderr.contains("panicked at") || stdout.contains("panicked at") {
        problems.push("panicked".to_string());
    }
    let used_home = PathBuf::from(&env["PM2_HOME"]);
    problems.extend(after(&used_home));
    let left = processes_of_home(&used_home);
    if !left.is_empty() {
        problems.push(format!("processes left running: {left:?}"));
        for pid in left {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
    if problems.is_empty() {
        Ok(Outcome {
            base,
            dir,
            home: used_home,
            stderr,
            stdout,
        })
    } else {
        Err(format!(
            "{}: {}\n--- stderr:\n{stderr}\n--- stdout:\n{stdout}",
            case.id,
            problems.join("; ")
        ))
    }
}
