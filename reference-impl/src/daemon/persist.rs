//! Files the daemon keeps in its home: app pid files (with the process start time, so a later daemon
//! can kill fork processes orphaned by a SIGKILLed daemon) and the informational `state.json`.

use std::path::Path;

use osfacts::start_time as proc_start_time;

fn start_file(pid_file: &Path) -> std::path::PathBuf {
    pid_file.with_extension("start")
}

/// Writes `<name>-<id>.pid` (the pid, as PM2) and `<name>-<id>.start` (its start time).
pub fn write_pid_file(pid_file: &Path, pid: u32) {
    let _ = std::fs::write(pid_file, pid.to_string());
    if let Some(st) = proc_start_time(pid) {
        let _ = std::fs::write(start_file(pid_file), st.to_string());
    }
}

/// Removes a pid file and its start-time sibling.
pub fn remove_pid_file(pid_file: &Path) {
    let _ = std::fs::remove_file(pid_file);
    let _ = std::fs::remove_file(start_file(pid_file));
}

/// Kills processes left by a previous daemon (listed in `pids/`, same start time), then clears the files.
pub fn kill_orphans(pids_dir: &Path) -> usize {
    let mut killed = 0;
    let Ok(rd) = std::fs::read_dir(pids_dir) else {
        return 0;
    };
    for entry in rd.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("pid") {
            continue;
        }
        let pid: Option<u32> = std::fs::read_to_string(&path)
            .ok()
            .and_then(|s| s.trim().parse().ok());
        let saved: Option<u64> = std::fs::read_to_string(start_file(&path))
            .ok()
            .and_then(|s| s.trim().parse().ok());
        if let (Some(pid), Some(saved)) = (pid, saved)
            && pid > 1
            && proc_start_time(pid) == Some(saved)
        {
            let p = nix::unistd::Pid::from_raw(pid as i32);
            // Each app process leads its own process group.
            let _ = nix::sys::signal::killpg(p, nix::sys::signal::Signal::SIGKILL);
            let _ = nix::sys::signal::kill(p, nix::sys::signal::Signal::SIGKILL);
            tracing::warn!("killed orphan pid {pid} listed in {}", path.display());
            killed += 1;
        }
        remove_pid_file(&path);
    }
    killed
}

/// Writes `value` to `path` atomically (temp file + rename).
pub fn write_atomic(path: &Path, value: &impl serde::Serialize) -> std::io::Result<()> {
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(value)?)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_start_time_is_readable() {
        assert!(proc_start_time(std::process::id()).is_some());
    }

    #[test]
    fn orphan_with_other_start_time_is_not_killed() {
        let d = tempfile::tempdir().unwrap();
        let pf = d.path().join("a-0.pid");
        std::fs::write(&pf, std::process::id().to_string()).unwrap();
        std::fs::write(d.path().join("a-0.start"), "1").unwrap();
        assert_eq!(kill_orphans(d.path()), 0);
        assert!(!pf.exists());
    }
}
