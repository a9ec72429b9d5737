//! Live scenario homes on disk, so that what a run killed with SIGKILL left behind is cleaned by the next.
//!
//! Every [`Sandbox`] writes one small entry file into [`state_dir`] (owner pid, its start time, the home)
//! and removes it when dropped. At startup, `conform run` calls [`reap_stale`]: for each entry whose owner
//! is gone (pid dead, or reused by another process), every process of that home is killed by pid (those
//! with `PM2_HOME=<home>` or a record file inside it in their environment), the home is removed, and so
//! is the entry.

use super::{Sandbox, procs};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One live sandbox.
#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    pid: u32,
    start: u64,
    home: PathBuf,
}

/// Where entries live: `$CONFORM_STATE_DIR`, else `$XDG_RUNTIME_DIR/conform`, else `/tmp/conform-<uid>`.
pub fn state_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("CONFORM_STATE_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("conform");
    }
    PathBuf::from(format!("/tmp/conform-{}", nix::unistd::getuid()))
}

use osfacts::start_time;

fn entry_path(dir: &Path, home: &Path) -> PathBuf {
    let base = home
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dir.join(format!("{}.{base}.json", std::process::id()))
}

/// Notes a new sandbox home as live (best effort: a failure only loses crash clean-up).
pub fn register(home: &Path) {
    let dir = state_dir();
    let Some(start) = start_time(std::process::id()) else {
        return;
    };
    let entry = Entry {
        pid: std::process::id(),
        start,
        home: home.to_path_buf(),
    };
    if std::fs::DirBuilder::new()
        .recursive(true)
        .create(&dir)
        .is_ok()
    {
        let _ = std::fs::write(
            entry_path(&dir, home),
            serde_json::to_vec(&entry).unwrap_or_default(),
        );
    }
}

/// Forgets a sandbox home (it was cleaned by its own run).
pub fn unregister(home: &Path) {
    let _ = std::fs::remove_file(entry_path(&state_dir(), home));
}

/// Live processes belonging to `home`: `PM2_HOME=<home>`, or a `CONFORM_RECORD` file inside it.
fn processes_of(home: &Path) -> Vec<u32> {
    let exact = format!("PM2_HOME={}", home.display()).into_bytes();
    let record = format!("CONFORM_RECORD={}/", home.display()).into_bytes();
    let me = std::process::id();
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    rd.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != me && procs::alive(pid))
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .map(|env| {
                    env.split(|&b| b == 0)
                        .any(|kv| kv == exact.as_slice() || kv.starts_with(&record))
                })
                .unwrap_or(false)
        })
        .collect()
}

/// What [`reap_stale`] cleaned: a home left by a dead run and the pids it killed there.
#[derive(Debug)]
pub struct Reaped {
    /// The home.
    pub home: PathBuf,
    /// Processes killed (SIGKILL).
    pub killed: Vec<u32>,
}

/// Cleans every home whose run is gone: kills its processes by pid, removes it and its entry.
pub fn reap_stale() -> Vec<Reaped> {
    let dir = state_dir();
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for path in rd.filter_map(|e| e.ok().map(|e| e.path())) {
        let Ok(entry) = std::fs::read(&path)
            .map_err(|_| ())
            .and_then(|b| serde_json::from_slice::<Entry>(&b).map_err(|_| ()))
        else {
            continue;
        };
        let owner_alive = procs::alive(entry.pid) && start_time(entry.pid) == Some(entry.start);
        if owner_alive {
            continue;
        }
        let mut killed = procs::kill_all(&processes_of(&entry.home));
        // a daemon may spawn a replacement while dying: a second pass catches it
        killed.extend(procs::kill_all(&processes_of(&entry.home)));
        // only ever remove what a sandbox created: /tmp/cf.XXXXXX
        let ours = entry.home.parent() == Some(Path::new("/tmp"))
            && entry
                .home
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("cf."));
        if ours {
            let _ = std::fs::remove_dir_all(&entry.home);
        }
        let _ = std::fs::remove_file(&path);
        out.push(Reaped {
            home: entry.home,
            killed,
        });
    }
    out
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        unregister(self.path());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_start_time_is_known_and_stable() {
        let me = std::process::id();
        assert!(start_time(me).is_some());
        assert_eq!(start_time(me), start_time(me));
        assert_eq!(start_time(u32::MAX), None);
    }
}
