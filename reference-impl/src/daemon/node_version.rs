//! `pm2_env.node_version`: the version of the node binary that runs each app, as PM2 reports it
//! (`process.versions.node`, e.g. `20.20.2`). PM2's container sends it from inside the app; refpm runs
//! apps unmodified, so it asks the binary (`<node> --version`) once per binary and modification time,
//! on a background thread started when an app is spawned.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use super::host::lock;

#[derive(Clone)]
enum Probe {
    Running,
    Done(Option<String>),
}

/// A binary and its modification time.
type BinaryKey = (PathBuf, Option<SystemTime>);

/// Cache of node versions by binary.
#[derive(Default, Clone)]
pub struct NodeVersions {
    known: Arc<Mutex<HashMap<BinaryKey, Probe>>>,
}

fn key(program: &Path) -> BinaryKey {
    let resolved = crate::config::which(&program.to_string_lossy(), None)
        .unwrap_or_else(|| program.to_path_buf());
    let mtime = std::fs::metadata(&resolved).and_then(|m| m.modified()).ok();
    (resolved, mtime)
}

/// Parses `node --version` output (`v20.20.2`) into PM2's form (`20.20.2`).
pub fn parse_version(out: &str) -> Option<String> {
    let v = out.trim().strip_prefix('v')?;
    let ok = !v.is_empty()
        && v.split('.').all(|p| !p.is_empty())
        && v.chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '-' || c.is_ascii_alphabetic());
    ok.then(|| v.to_string())
}

impl NodeVersions {
    /// Starts finding the version of `program` unless it is known or being found.
    pub fn probe(&self, program: &Path) {
        let k = key(program);
        {
            let mut m = lock(&self.known);
            if m.contains_key(&k) {
                return;
            }
            m.insert(k.clone(), Probe::Running);
        }
        let known = self.known.clone();
        std::thread::spawn(move || {
            let out = std::process::Command::new(&k.0)
                .arg("--version")
                .stdin(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .output();
            let v = out
                .ok()
                .filter(|o| o.status.success())
                .and_then(|o| parse_version(&String::from_utf8_lossy(&o.stdout)));
            lock(&known).insert(k, Probe::Done(v));
        });
    }

    /// The version of `program`, once found.
    pub fn get(&self, program: &Path) -> Option<String> {
        match lock(&self.known).get(&key(program)) {
            Some(Probe::Done(v)) => v.clone(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_reported_without_the_v() {
        assert_eq!(parse_version("v20.20.2\n").as_deref(), Some("20.20.2"));
        assert_eq!(parse_version("20.1.0"), None);
        assert_eq!(parse_version("v"), None);
    }
}
