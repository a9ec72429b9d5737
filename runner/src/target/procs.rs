//! Finding a scenario's processes in `/proc` and killing them by pid.

use std::path::Path;

pub use osfacts::{alive, state};

/// Every live process whose environment holds `PM2_HOME=<home>` exactly.
pub fn with_home(home: &Path) -> Vec<u32> {
    with_env("PM2_HOME", &home.display().to_string())
}

/// Every live process (this one excepted) whose environment holds `name=value` exactly.
pub fn with_env(name: &str, value: &str) -> Vec<u32> {
    let me = std::process::id();
    osfacts::pids()
        .into_iter()
        .filter(|&pid| pid != me)
        .filter(|&pid| osfacts::env_has(pid, name, value))
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
