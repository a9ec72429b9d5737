//! `/proc/<pid>/…` readers.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use nix::unistd::{SysconfVar, sysconf};

/// The fields of `/proc/<pid>/stat` this crate reads (proc(5) numbering in the docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    /// Field 3: `R`, `S`, `D`, `Z`, `X`, ...
    pub state: char,
    /// Field 4: parent pid.
    pub ppid: u32,
    /// Field 14: user time in clock ticks.
    pub utime: u64,
    /// Field 15: system time in clock ticks.
    pub stime: u64,
    /// Field 22: start time in clock ticks since boot (with the pid, identifies a process).
    pub starttime: u64,
}

impl Stat {
    /// Parses the text of `/proc/<pid>/stat`; the command name may contain spaces and `)`.
    pub fn parse(text: &str) -> Option<Stat> {
        let after = text.rsplit_once(')')?.1;
        let f: Vec<&str> = after.split_whitespace().collect();
        let num = |i: usize| f.get(i)?.parse::<u64>().ok();
        Some(Stat {
            state: f.first()?.chars().next()?,
            ppid: f.get(1)?.parse().ok()?,
            utime: num(11)?,
            stime: num(12)?,
            starttime: num(19)?,
        })
    }
}

/// `/proc/<pid>/stat`, when the process exists.
pub fn stat(pid: u32) -> Option<Stat> {
    Stat::parse(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// The state letter, `None` when the pid is gone.
pub fn state(pid: u32) -> Option<char> {
    stat(pid).map(|s| s.state)
}

/// True while the pid exists and is not a zombie (`Z`) or dead (`X`).
pub fn alive(pid: u32) -> bool {
    matches!(state(pid), Some(s) if s != 'Z' && s != 'X')
}

/// Start time in clock ticks since boot.
pub fn start_time(pid: u32) -> Option<u64> {
    stat(pid).map(|s| s.starttime)
}

/// Clock ticks per second for `/proc` times (`_SC_CLK_TCK`; 100 when unknown).
pub fn clock_ticks() -> f64 {
    match sysconf(SysconfVar::CLK_TCK) {
        Ok(Some(t)) if t > 0 => t as f64,
        _ => 100.0,
    }
}

/// Memory page size in bytes (4096 when unknown).
pub fn page_size() -> u64 {
    match sysconf(SysconfVar::PAGE_SIZE) {
        Ok(Some(p)) if p > 0 => p as u64,
        _ => 4096,
    }
}

/// CPU seconds (user + system) used so far.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    stat(pid).map(|s| (s.utime + s.stime) as f64 / clock_ticks())
}

/// Resident set size in bytes (`/proc/<pid>/statm`).
pub fn rss_bytes(pid: u32) -> Option<u64> {
    let statm = std::fs::read_to_string(format!("/proc/{pid}/statm")).ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * page_size())
}

/// The environment of a process (`NAME=value` entries, as bytes), when readable.
pub fn environ(pid: u32) -> Option<Vec<OsString>> {
    let raw = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    Some(
        raw.split(|&b| b == 0)
            .filter(|kv| !kv.is_empty())
            .map(|kv| OsString::from_vec(kv.to_vec()))
            .collect(),
    )
}

/// True when the environment of `pid` holds exactly `name=value`.
pub fn env_has(pid: u32, name: &str, value: &str) -> bool {
    let needle = format!("{name}={value}").into_bytes();
    std::fs::read(format!("/proc/{pid}/environ"))
        .map(|env| env.split(|&b| b == 0).any(|kv| kv == needle.as_slice()))
        .unwrap_or(false)
}

/// Every pid in `/proc` now.
pub fn pids() -> Vec<u32> {
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    rd.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "4242 (node /x) y) S 4000 4242 4000 0 -1 4194560 2000 0 0 0 150 50 0 0 20 0 11 0 900 1000000 5000";

    #[test]
    fn parses_past_a_tricky_command_name() {
        let s = Stat::parse(STAT).unwrap();
        assert_eq!(
            s,
            Stat {
                state: 'S',
                ppid: 4000,
                utime: 150,
                stime: 50,
                starttime: 900
            }
        );
        assert_eq!(Stat::parse("garbage"), None);
    }

    #[test]
    fn own_process_facts() {
        let me = std::process::id();
        assert!(alive(me));
        assert!(start_time(me).is_some());
        assert!(cpu_seconds(me).is_some());
        assert!(rss_bytes(me).unwrap() > 0);
        assert!(pids().contains(&me));
        let env = environ(me).unwrap();
        assert!(!env.is_empty());
        assert!(clock_ticks() > 0.0 && page_size() >= 4096);
    }

    #[test]
    fn a_reaped_child_is_not_alive_and_a_zombie_neither() {
        let mut c = std::process::Command::new("true").spawn().unwrap();
        let pid = c.id();
        // Not reaped yet: a zombie once it exits; poll with a deadline.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while state(pid) != Some('Z') && std::time::Instant::now() < deadline {
            std::thread::yield_now();
        }
        assert_eq!(state(pid), Some('Z'));
        assert!(!alive(pid), "a zombie is not alive");
        c.wait().unwrap();
        assert!(!alive(pid));
    }
}
