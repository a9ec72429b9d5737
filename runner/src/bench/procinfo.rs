//! What `/proc` says about the supervisor: which pid it is, its RSS and its CPU time; and the sweep
//! that finds every process this bench started (they all carry a marker variable in their environment).

use crate::target::procs;
use std::path::Path;

/// The environment variable every process started by one `conform bench` carries (value: its pid).
pub const MARKER_VAR: &str = "CONFORM_BENCH";

/// VmRSS in MB (10^6 bytes) from the text of `/proc/<pid>/status`.
pub fn rss_mb_from_status(status: &str) -> Option<f64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024.0 / 1e6)
}

pub use osfacts::cpu_seconds;

/// Resident set size in MB.
pub fn rss_mb(pid: u32) -> Option<f64> {
    rss_mb_from_status(&std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?)
}

fn ppid(pid: u32) -> Option<u32> {
    osfacts::stat(pid).map(|s| s.ppid)
}

/// Picks the supervisor among `candidates` (processes of the home that are not app processes): the
/// parent of an app process when there is one, else the oldest (lowest pid).
pub fn pick_daemon(
    candidates: &[u32],
    app_pids: &[u32],
    parent_of: impl Fn(u32) -> Option<u32>,
) -> Option<u32> {
    let parents: Vec<u32> = app_pids.iter().filter_map(|&p| parent_of(p)).collect();
    candidates
        .iter()
        .copied()
        .find(|c| parents.contains(c))
        .or_else(|| candidates.iter().copied().min())
}

/// The supervisor of `home`: a live process with `PM2_HOME=<home>` that is not one of `app_pids`.
pub fn find_daemon(home: &Path, app_pids: &[u32]) -> Option<u32> {
    let candidates: Vec<u32> = procs::with_home(home)
        .into_iter()
        .filter(|p| !app_pids.contains(p))
        .collect();
    pick_daemon(&candidates, app_pids, ppid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rss() {
        let status = "Name:\tnode\nVmPeak:\t  900 kB\nVmRSS:\t   61440 kB\nThreads:\t11\n";
        assert_eq!(rss_mb_from_status(status), Some(61440.0 * 1024.0 / 1e6));
        assert_eq!(rss_mb_from_status("Name: x\n"), None);
    }

    #[test]
    fn daemon_is_the_parent_of_the_apps_else_the_oldest() {
        let parent = |p: u32| match p {
            20 | 21 => Some(15),
            _ => None,
        };
        assert_eq!(pick_daemon(&[12, 15], &[20, 21], parent), Some(15));
        assert_eq!(pick_daemon(&[17, 12], &[30], parent), Some(12));
        assert_eq!(pick_daemon(&[], &[20], parent), None);
    }

    #[test]
    fn own_process_cpu_and_rss_are_readable() {
        let me = std::process::id();
        assert!(cpu_seconds(me).is_some());
        assert!(rss_mb(me).unwrap() > 0.0);
    }
}
