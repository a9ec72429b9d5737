//! Finding a scenario's processes in `/proc` and killing them by pid.

use std::path::Path;

/// Process state letter from `/proc/<pid>/stat` (`R`, `S`, `Z`, ...), `None` when the pid is gone.
pub fn state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(')')?.1;
    after.trim_start().chars().next()
}

/// Whether the pid exists and is not a zombie.
pub fn alive(pid: u32) -> bool {
    matches!(state(pid), Some(s) if s != 'Z' && s != 'X')
}

/// Every live process whose environment holds `PM2_HOME=<home>` exactly.
pub fn with_home(home: &Path) -> Vec<u32> {
    with_env("PM2_HOME", &home.display().to_string())
}

/// Every live process (this one excepted) whose environment holds `name=value` exactly.
pub fn with_env(name: &str, value: &str) -> Vec<u32> {
    let needle = format!("{name}={value}").into_bytes();
    let me = std::process::id();
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    rd.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != me)
        .filter(|&pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .map(|env| env.split(|&b| b == 0).any(|kv| kv == needle.as_slice()))
                .unwrap_or(false)
        })
        .filter(|&pid| alive(pid))
        .collect()
}

/// SIGKILLs each pid that is still alive; returns those that were.
pub fn kill_all(pids: &[u32]) -> Vec<u32> {
    let mut killed = Vec::new();
    for &pid in pids {
        if pid > 1 && pid != std::process::id() && alive(pid) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
            killed.push(pid);
        }
    }
    killed
}
