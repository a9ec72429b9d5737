//! Mutants that need a process of their own: the `node` interpreter shim that survives the daemon,
//! and the starver that freezes workers once they listen.

use crate::refpm::{Error, Refpm, instance_of, pid_of, status_of};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// `'text'` for sh.
pub fn sh_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

fn file_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::File {
        path: path.to_path_buf(),
        detail: e.to_string(),
    }
}

/// Writes `<home>/mutant-shim/node`: a script named `node` (so refpm treats the app as Node, cluster
/// mode included) that runs `conform-mutant node-shim <real node> …`.
pub fn write_node_shim(home: &Path) -> Result<PathBuf, Error> {
    let node = which("node").ok_or_else(|| Error::Usage("node not found on PATH".into()))?;
    let exe = std::env::current_exe().map_err(|e| file_err(Path::new("conform-mutant"), e))?;
    let dir = home.join("mutant-shim");
    std::fs::create_dir_all(&dir).map_err(|e| file_err(&dir, e))?;
    let path = dir.join("node");
    let text = format!(
        "#!/bin/sh\nexec {} node-shim {} \"$@\"\n",
        sh_quote(&exe.display().to_string()),
        sh_quote(&node.display().to_string())
    );
    std::fs::write(&path, text).map_err(|e| file_err(&path, e))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| file_err(&path, e))?;
    Ok(path)
}

/// The shim itself: forgets the parent-death signal refpm set (preserved across exec), then becomes
/// the real `node`. Returns only on failure.
pub fn node_shim(node: &Path, args: &[String]) -> Error {
    // SAFETY: prctl(PR_SET_PDEATHSIG, 0) only changes this process's own parent-death signal.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, 0);
    }
    let e = std::process::Command::new(node).args(args).exec();
    Error::Spawn {
        path: node.to_path_buf(),
        source: e,
    }
}

/// Pids with a `listening` event in the fixtures' record (`CONFORM_RECORD`): the starver strikes
/// only once every worker is up, so the scenario's own waits succeed and its load meets the damage.
fn listening_pids(record: &Path) -> std::collections::BTreeSet<u32> {
    std::fs::read_to_string(record)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e.get("event").and_then(|v| v.as_str()) == Some("listening"))
        .filter_map(|e| e.get("pid").and_then(|v| v.as_u64()).map(|p| p as u32))
        .collect()
}

/// Waits (≤ 30 s) until every online worker of `name` listens, then freezes all but instance 0.
pub fn starve(refpm: &Refpm, name: &str) -> Result<(), Error> {
    let record = std::env::var_os("CONFORM_RECORD")
        .map(PathBuf::from)
        .ok_or_else(|| Error::Usage("starve needs CONFORM_RECORD".into()))?;
    let end = Instant::now() + Duration::from_secs(30);
    while Instant::now() < end {
        let procs = refpm.live_procs(name)?;
        let listening = listening_pids(&record);
        let up = procs.len() >= 2
            && procs
                .iter()
                .all(|p| status_of(p) == "online" && listening.contains(&pid_of(p)));
        if up {
            for p in procs
                .iter()
                .filter(|p| instance_of(p).as_deref() != Some("0"))
            {
                let _ = kill(Pid::from_raw(pid_of(p) as i32), Signal::SIGSTOP);
            }
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// The wrapper script for mutant `name`: runs `exe name refpm "$@"`.
pub fn wrapper_script(exe: &Path, name: &str, breaks: &str, refpm: &Path) -> String {
    format!(
        "#!/bin/sh\n# conform mutant `{name}` (test only): forwards to refpm and breaks one promise: {breaks}\nexec {} {} {} \"$@\"\n",
        sh_quote(&exe.display().to_string()),
        sh_quote(name),
        sh_quote(&refpm.display().to_string())
    )
}

/// Writes one executable wrapper per mutant into `dir`; their paths, catalogue order.
pub fn write_wrappers(dir: &Path, exe: &Path, refpm: &Path) -> Result<Vec<PathBuf>, Error> {
    std::fs::create_dir_all(dir).map_err(|e| file_err(dir, e))?;
    crate::catalogue::CATALOGUE
        .iter()
        .map(|s| {
            let p = dir.join(s.name);
            std::fs::write(&p, wrapper_script(exe, s.name, s.breaks, refpm))
                .map_err(|e| file_err(&p, e))?;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755))
                .map_err(|e| file_err(&p, e))?;
            Ok(p)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(sh_quote("a b"), "'a b'");
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn wrappers_are_executable_scripts() {
        let d = tempfile::tempdir().unwrap();
        let ps = write_wrappers(
            d.path(),
            Path::new("/x/conform-mutant"),
            Path::new("/y/refpm"),
        )
        .unwrap();
        assert_eq!(ps.len(), crate::catalogue::CATALOGUE.len());
        let text = std::fs::read_to_string(&ps[0]).unwrap();
        assert!(text.starts_with("#!/bin/sh\n"));
        assert!(text.ends_with("exec '/x/conform-mutant' 'restart-noop' '/y/refpm' \"$@\"\n"));
    }
}
