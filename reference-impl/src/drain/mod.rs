//! The drain preload: how refpm makes an unmodified Node app close its kept-alive connections without
//! resetting a request when a worker is replaced (reload, scale down, stop).
//!
//! `preload.cjs` is embedded in the binary, written into `<home>/drain/` and loaded into every Node
//! instance with `NODE_OPTIONS=--require <file>` (CommonJS and ES module apps, cluster and fork mode),
//! ahead of the user's own `NODE_OPTIONS`, which the preload restores before the app runs. Off with
//! `refpm start --no-drain` or `drain: false` in an ecosystem file. If the file cannot be written the
//! app starts without it (a warning is logged), never with a `--require` that would fail.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

/// The preload's source.
pub const PRELOAD: &str = include_str!("preload.cjs");

/// Env var holding the grace (ms) an idle connection gets after a drain starts.
pub const GRACE_VAR: &str = "REFPM_DRAIN_GRACE_MS";
/// Env var holding the user's own `NODE_OPTIONS` (absent when it was unset).
pub const NODE_OPTIONS_VAR: &str = "REFPM_DRAIN_NODE_OPTIONS";

/// Grace for idle kept-alive connections: a quarter of kill_timeout (default 1600 ms), 50..=1000 ms,
/// so that the drain ends well inside the time the daemon gives a disconnecting worker.
pub fn grace_ms(kill_timeout: Option<u64>) -> u64 {
    (kill_timeout.unwrap_or(crate::daemon::job::DEFAULT_KILL_TIMEOUT) / 4).clamp(50, 1000)
}

/// Where the preload lives in `home`; the name carries a hash of its content, so a newer refpm never
/// runs an older file.
pub fn preload_path(home: &Path) -> PathBuf {
    // FNV-1a: stable across builds and platforms
    let hash = PRELOAD.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    home.join("drain")
        .join(format!("refpm-drain-{:08x}.cjs", hash as u32))
}

/// Makes sure the preload file exists with the right content (written atomically when it does not).
pub fn ensure_preload(home: &Path) -> io::Result<PathBuf> {
    let path = preload_path(home);
    if std::fs::read(&path).is_ok_and(|b| b == PRELOAD.as_bytes()) {
        return Ok(path);
    }
    let dir = path.parent().unwrap_or(home);
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".drain-{}.tmp", std::process::id()));
    std::fs::write(&tmp, PRELOAD)?;
    std::fs::rename(&tmp, &path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })?;
    Ok(path)
}

/// Quotes a path for `NODE_OPTIONS` (double quotes; `\` and `"` escaped).
fn quote(path: &Path) -> String {
    let s = path.display().to_string();
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '\\' || c == '"' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Adds the preload to an instance's environment: `NODE_OPTIONS` gets `--require <file>` first, the
/// user's value is kept after it and saved for the preload to restore.
pub fn inject(env: &mut BTreeMap<String, String>, preload: &Path, grace_ms: u64) {
    let own = format!("--require {}", quote(preload));
    match env.get("NODE_OPTIONS").cloned() {
        Some(user) => {
            env.insert("NODE_OPTIONS".into(), format!("{own} {user}"));
            env.insert(NODE_OPTIONS_VAR.into(), user);
        }
        None => {
            env.insert("NODE_OPTIONS".into(), own);
            env.remove(NODE_OPTIONS_VAR);
        }
    }
    env.insert(GRACE_VAR.into(), grace_ms.to_string());
}

/// The drain step of building an instance's environment: injects the preload for Node apps with
/// drain on; logs and skips it when the file cannot be written.
pub fn apply(env: &mut BTreeMap<String, String>, home: &Path, spec: &crate::config::AppSpec) {
    if !spec.drain || !spec.is_node {
        return;
    }
    match ensure_preload(home) {
        Ok(path) => inject(env, &path, grace_ms(spec.kill_timeout)),
        Err(e) => tracing::warn!(
            "{}: drain preload not written to {} ({e}); starting without it",
            spec.name,
            preload_path(home).display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_users_node_options_after_ours() {
        let mut env = BTreeMap::from([(
            "NODE_OPTIONS".to_string(),
            "--max-old-space-size=64".to_string(),
        )]);
        inject(&mut env, Path::new("/h/a \"b\"/d.cjs"), 400);
        assert_eq!(
            env["NODE_OPTIONS"],
            r#"--require "/h/a \"b\"/d.cjs" --max-old-space-size=64"#
        );
        assert_eq!(env[NODE_OPTIONS_VAR], "--max-old-space-size=64");
        assert_eq!(env[GRACE_VAR], "400");
        let mut env = BTreeMap::new();
        inject(&mut env, Path::new("/h/d.cjs"), 50);
        assert_eq!(env["NODE_OPTIONS"], r#"--require "/h/d.cjs""#);
        assert!(!env.contains_key(NODE_OPTIONS_VAR));
    }

    #[test]
    fn grace_follows_kill_timeout_within_bounds() {
        assert_eq!(grace_ms(None), 400);
        assert_eq!(grace_ms(Some(100)), 50);
        assert_eq!(grace_ms(Some(60_000)), 1000);
    }

    #[test]
    fn the_file_is_written_once_and_rewritten_when_changed() {
        let home = tempfile::tempdir().unwrap();
        let p = ensure_preload(home.path()).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), PRELOAD);
        std::fs::write(&p, "tampered").unwrap();
        assert_eq!(ensure_preload(home.path()).unwrap(), p);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), PRELOAD);
    }

    #[test]
    fn an_unwritable_home_is_an_error_not_a_panic() {
        let home = tempfile::tempdir().unwrap();
        let file = home.path().join("not-a-dir");
        std::fs::write(&file, "").unwrap();
        assert!(ensure_preload(&file).is_err());
    }
}
