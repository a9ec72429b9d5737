//! Targets: the PM2-compatible executable a run drives, and the sandbox each scenario gets.
//!
//! A target is only ever driven through its command line. [`resolve`] turns `--target` (a path,
//! `npm:PACKAGE@VERSION`, or nothing for the `refpm` beside `conform`) into a [`Target`] with a label;
//! [`Sandbox`] gives one scenario a fresh short `PM2_HOME`, a scrubbed environment and commands with
//! deadlines; [`procs`] finds and kills by pid whatever a scenario left behind. [`node`] resolves
//! `--node` into a [`Runtime`]; [`Target::on`] pairs a target with one (the targets × runtimes matrix).

pub mod adapter;
mod command;
pub mod contract;
#[cfg(test)]
mod contract_doc;
mod fetch_runtime;
mod jlist;
pub mod live;
pub mod node;
mod npm;
pub mod ports;
pub mod procs;
mod sandbox;

pub use adapter::{Adapter, AdapterError};
pub use command::{CmdOutput, run_command};
pub use contract::{JlistField, Verb};
pub use jlist::{Proc, parse_jlist, parse_jlist_with};
pub use node::{Runtime, RuntimeKind};
pub use sandbox::{Sandbox, VerbError};

use std::path::{Path, PathBuf};
use std::time::Duration;

/// Errors while resolving or probing a target.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The executable does not exist or is not a file.
    #[error("target `{0}` not found")]
    NotFound(String),
    /// No `--target` and no `refpm` beside conform or on PATH.
    #[error("no `refpm` beside conform (in {0}) nor on PATH")]
    NoRefpm(String),
    /// `npm install` of an `npm:` target failed.
    #[error("npm install of `{spec}` failed: {detail}")]
    Npm {
        /// The package spec.
        spec: String,
        /// What npm said.
        detail: String,
    },
    /// The `npm:` spec is malformed.
    #[error("bad npm target `{0}`: expected npm:PACKAGE@VERSION")]
    BadSpec(String),
    /// A file-system or process error.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// A resolved PM2-compatible executable, and the runtime it runs on.
#[derive(Debug, Clone)]
pub struct Target {
    /// Short label for the report directory: `refpm`, `pm2-7.0.4`; with `--node`,
    /// `refpm@node-26.12.1`.
    pub label: String,
    /// The label without the runtime (`refpm`), for baseline file names.
    pub base_label: String,
    /// Absolute path of the executable.
    pub command: PathBuf,
    /// What `--version` printed (last line, trimmed).
    pub version: String,
    /// The runtime: chosen by `--node` (then first on the sandbox's PATH), or the `node` on PATH.
    pub runtime: Option<Runtime>,
    /// How it differs from PM2 (`--adapter`); PM2's contract as is by default.
    pub adapter: std::sync::Arc<Adapter>,
}

impl Target {
    /// The model's description of this target.
    pub fn info(&self) -> crate::model::TargetInfo {
        crate::model::TargetInfo {
            label: self.label.clone(),
            command: self.command.display().to_string(),
            version: self.version.clone(),
            adapter: self.adapter.file.as_ref().map(|f| f.display().to_string()),
        }
    }

    /// This target on a runtime chosen by `--node`: the label gains `@node-26.12.1`.
    pub fn on(&self, rt: &Runtime) -> Target {
        Target {
            label: format!("{}@{}", self.base_label, rt.label()),
            runtime: Some(rt.clone()),
            ..self.clone()
        }
    }

    /// A fresh sandbox whose PATH starts with the `--node` runtime, when one was chosen.
    pub fn sandbox(&self) -> std::io::Result<Sandbox> {
        let mut sb = Sandbox::new()?;
        sb.adapter = self.adapter.clone();
        if let Some(rt) = self.runtime.as_ref().filter(|r| r.requested.is_some()) {
            sb.path_prefix = Some(rt.bin_dir.clone());
        }
        Ok(sb)
    }
}

/// Whether `p` is a file with an execute bit.
pub fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Resolves a `--target` argument (`None` = the `refpm` next to the running `conform`).
pub async fn resolve(spec: Option<&str>) -> Result<Target, TargetError> {
    resolve_adapted(spec, std::sync::Arc::default()).await
}

/// As [`resolve`], for a target driven through an adapter (`--adapter`).
pub async fn resolve_adapted(
    spec: Option<&str>,
    adapter: std::sync::Arc<Adapter>,
) -> Result<Target, TargetError> {
    let command = match spec {
        None => {
            let exe = std::env::current_exe()?;
            let dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
            let beside = dir.join("refpm");
            // integration tests run from target/<profile>/deps: refpm is one level up
            let alt = dir.parent().map(|p| p.join("refpm"));
            [Some(beside), alt, which("refpm")]
                .into_iter()
                .flatten()
                .find(|p| p.is_file())
                .ok_or_else(|| TargetError::NoRefpm(dir.display().to_string()))?
        }
        Some(s) if s.starts_with("npm:") => npm::install(&s[4..]).await?,
        Some(s) => {
            let p = PathBuf::from(s);
            if p.components().count() == 1 && !p.exists() {
                which(s).unwrap_or(p)
            } else {
                p
            }
        }
    };
    if !command.is_file() {
        return Err(TargetError::NotFound(command.display().to_string()));
    }
    let command = std::fs::canonicalize(&command).unwrap_or(command);
    let version = probe_version(&command, &adapter).await;
    let base = command
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let label = make_label(&scoped(&command, &base), &version);
    Ok(Target {
        base_label: label.clone(),
        label,
        command,
        version,
        runtime: node::on_path().await,
        adapter,
    })
}

/// The executable's name with its npm scope when it lives in a scoped package
/// (`…/node_modules/@socket.io/pm2/bin/pm2` → `@socket.io-pm2`), so that it cannot share a label (and a
/// report directory) with the unscoped package of the same name.
pub fn scoped(command: &Path, base: &str) -> String {
    let parts: Vec<String> = command
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let scope = parts
        .windows(2)
        .rev()
        .find(|w| w[0] == "node_modules")
        .and_then(|w| w[1].strip_prefix('@').map(str::to_string));
    match scope {
        Some(s) => format!("@{s}-{base}"),
        None => base.to_string(),
    }
}

/// `refpm` stays `refpm`; anything else is `<basename>-<version>` when a version is known.
pub fn make_label(base: &str, version: &str) -> String {
    let v = version.trim().trim_start_matches('v');
    let clean: String = v
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if base == "refpm" || clean.is_empty() {
        base.to_string()
    } else {
        format!("{base}-{clean}")
    }
}

fn which(name: &str) -> Option<PathBuf> {
    osfacts::which(name, None)
}

/// Runs `<target> --version` in a throwaway home (PM2 spawns a daemon even for that), then kills it.
async fn probe_version(command: &Path, adapter: &std::sync::Arc<Adapter>) -> String {
    let Ok(mut sb) = Sandbox::new() else {
        return String::new();
    };
    sb.adapter = adapter.clone();
    let out = sb
        .run_verb(command, Verb::Version, &[], Duration::from_secs(20))
        .await;
    let _ = sb.cleanup(command, &[]).await;
    match out {
        Ok(o) if o.code == Some(0) => o
            .stdout
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty())
            .map(|l| l.rsplit(' ').next().unwrap_or(l).to_string())
            .unwrap_or_default(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::{make_label, scoped};
    use std::path::Path;

    #[test]
    fn a_scoped_package_keeps_its_scope_in_the_label() {
        let p = Path::new("/c/npm/@socket.io+pm2@6.0.14/node_modules/@socket.io/pm2/bin/pm2");
        assert_eq!(
            make_label(&scoped(p, "pm2"), "6.0.14"),
            "@socket.io-pm2-6.0.14"
        );
        let p = Path::new("/w/node_modules/pm2/bin/pm2");
        assert_eq!(make_label(&scoped(p, "pm2"), "6.0.14"), "pm2-6.0.14");
        assert_eq!(scoped(Path::new("/usr/bin/pm2"), "pm2"), "pm2");
    }

    #[test]
    fn labels() {
        assert_eq!(make_label("refpm", "0.1.0"), "refpm");
        assert_eq!(make_label("pm2", "7.0.4\n"), "pm2-7.0.4");
        assert_eq!(make_label("pm2", ""), "pm2");
    }
}
