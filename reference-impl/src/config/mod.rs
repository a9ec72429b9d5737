//! App configuration: the normalised [`AppSpec`] the CLI sends to the daemon, built from CLI flags
//! (`cli`) or from ecosystem files (`ecosystem`, validated key by key in `keys`).

mod ecosystem;
mod keys;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cluster::LbPolicy;

pub use ecosystem::{is_config_file, load_ecosystem, parse_ecosystem_text};
pub use keys::{ms as parse_ms, split_args};

/// PM2's exec modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExecMode {
    /// Workers of the daemon's cluster primary.
    ClusterMode,
    /// Independent child processes.
    ForkMode,
}

impl ExecMode {
    /// `cluster_mode` / `fork_mode`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExecMode::ClusterMode => "cluster_mode",
            ExecMode::ForkMode => "fork_mode",
        }
    }
}

/// A fully resolved app, ready for the daemon.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AppSpec {
    /// App name.
    pub name: String,
    /// Absolute script path.
    pub script: PathBuf,
    /// Script arguments.
    pub args: Vec<String>,
    /// Working directory (absolute).
    pub cwd: PathBuf,
    /// Program to execute (node, an interpreter, or the script itself).
    pub program: PathBuf,
    /// Arguments before the script (`node_args`); empty when the script is the program.
    pub program_args: Vec<String>,
    /// True when the script is the program (binary or shebang script run directly).
    pub script_is_program: bool,
    /// Is it a JavaScript app run by Node or Bun (IPC channel available, cluster mode possible)?
    pub is_node: bool,
    /// Raw instance value: N, 0 = all CPUs, negative = CPUs − N.
    pub instances: i64,
    /// Cluster or fork.
    pub exec_mode: ExecMode,
    /// Name of the instance variable.
    pub instance_var: String,
    /// Wait for `process.send('ready')`.
    pub wait_ready: bool,
    /// ms to wait for listening/ready.
    pub listen_timeout: Option<u64>,
    /// ms between SIGINT and SIGKILL.
    pub kill_timeout: Option<u64>,
    /// Send `'shutdown'` instead of SIGINT.
    pub shutdown_with_message: bool,
    /// Restart on exit.
    pub autorestart: bool,
    /// Unstable restarts before `errored`.
    pub max_restarts: Option<u64>,
    /// ms of uptime under which an exit counts as unstable.
    pub min_uptime: Option<u64>,
    /// Fixed restart delay.
    pub restart_delay: Option<u64>,
    /// Initial exponential backoff delay.
    pub exp_backoff_restart_delay: Option<u64>,
    /// The app's configured env (`env` ⊕ `env_<name>`).
    pub env: BTreeMap<String, String>,
    /// Load-balancing policy: `rr` or `shared` (a string on the wire and in jlist).
    pub lb_policy: LbPolicy,
    /// Inject the drain preload (refpm's own key, default on; see [`crate::drain`]).
    #[serde(default = "yes")]
    pub drain: bool,
}

fn yes() -> bool {
    true
}

impl AppSpec {
    /// A spec with PM2's defaults for a script (mode decided by [`AppSpec::decide_mode`]).
    pub fn new(script: PathBuf, cwd: PathBuf) -> Self {
        let name = default_name(&script);
        AppSpec {
            name,
            program: script.clone(),
            script,
            args: vec![],
            cwd,
            program_args: vec![],
            script_is_program: true,
            is_node: false,
            instances: 1,
            exec_mode: ExecMode::ForkMode,
            instance_var: "NODE_APP_INSTANCE".into(),
            wait_ready: false,
            listen_timeout: None,
            kill_timeout: None,
            shutdown_with_message: false,
            autorestart: true,
            max_restarts: None,
            min_uptime: None,
            restart_delay: None,
            exp_backoff_restart_delay: None,
            env: BTreeMap::new(),
            lb_policy: LbPolicy::Rr,
            drain: true,
        }
    }

    /// Decides the program and the exec mode. `instances_given` = `-i`/`instances` present;
    /// `explicit` = an `exec_mode` from a config file.
    pub fn decide_mode(
        &mut self,
        instances_given: bool,
        explicit: Option<ExecMode>,
        interpreter: Option<&str>,
        node_args: &[String],
        path_env: Option<&str>,
    ) {
        let kind = script_kind(&self.script);
        self.is_node = matches!(kind, ScriptKind::Node) || interpreter.is_some_and(is_node_name);
        let interp: Option<String> = match interpreter {
            Some(i) if i != "none" => Some(i.to_string()),
            Some(_) => None,
            None => match kind {
                ScriptKind::Node => Some("node".into()),
                ScriptKind::Interp(i) => Some(i.to_string()),
                ScriptKind::Direct => None,
            },
        };
        match interp {
            Some(i) => {
                self.program = which(&i, path_env).unwrap_or_else(|| PathBuf::from(i));
                self.script_is_program = false;
                self.program_args = if self.is_node {
                    node_args.to_vec()
                } else {
                    vec![]
                };
            }
            None => {
                self.program = self.script.clone();
                self.script_is_program = true;
                self.program_args = vec![];
            }
        }
        self.exec_mode = match explicit {
            Some(m) => m,
            None if instances_given && self.is_node => ExecMode::ClusterMode,
            None => ExecMode::ForkMode,
        };
        if !self.is_node {
            // Only Node apps can be cluster workers; refpm does not crash-loop them like PM2.
            self.exec_mode = ExecMode::ForkMode;
        }
    }
}

/// How a script is launched.
enum ScriptKind {
    Node,
    Interp(&'static str),
    Direct,
}

fn script_kind(script: &Path) -> ScriptKind {
    let ext = script.extension().and_then(|e| e.to_str()).unwrap_or("");
    match ext {
        "js" | "cjs" | "mjs" => ScriptKind::Node,
        "sh" => ScriptKind::Interp("bash"),
        "py" => ScriptKind::Interp("python3"),
        "rb" => ScriptKind::Interp("ruby"),
        "pl" => ScriptKind::Interp("perl"),
        "" => {
            let head = std::fs::read(script)
                .ok()
                .map(|b| b[..b.len().min(128)].to_vec());
            match head {
                Some(h) if h.starts_with(b"#!") => {
                    let line = String::from_utf8_lossy(&h);
                    let first = line.lines().next().unwrap_or("");
                    if first.contains("node") {
                        ScriptKind::Node
                    } else {
                        ScriptKind::Direct
                    }
                }
                _ => ScriptKind::Direct,
            }
        }
        _ => ScriptKind::Direct,
    }
}

fn is_node_name(i: &str) -> bool {
    Path::new(i)
        .file_name()
        .and_then(|f| f.to_str())
        .is_some_and(|f| f.ends_with("node") || is_bun_name(f))
}

/// True for a Bun binary (`bun`, `bun-1.4`, …): Bun speaks Node's IPC channel and `node:cluster`.
pub fn is_bun_name(file_name: &str) -> bool {
    file_name == "bun" || file_name.starts_with("bun-")
}

/// `rr` / `shared` (the only values PM2 accepts).
pub fn parse_lb_policy(s: &str) -> Option<LbPolicy> {
    match s {
        "rr" => Some(LbPolicy::Rr),
        "shared" => Some(LbPolicy::Shared),
        _ => None,
    }
}

/// The script basename without its extension (PM2's default name).
pub fn default_name(script: &Path) -> String {
    script
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "app".into())
}

pub use osfacts::which;

/// Errors while loading configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file does not exist.
    #[error("File {0} not found")]
    NotFound(String),
    /// The file could not be parsed.
    #[error("File {file} malformated: {reason}")]
    Malformed {
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
    /// A key has a bad value.
    #[error("{file}: apps[{index}]: key \"{key}\": {reason}")]
    BadKey {
        /// The file.
        file: String,
        /// App index.
        index: usize,
        /// The key.
        key: String,
        /// Why.
        reason: String,
    },
    /// The script of an app does not exist.
    #[error("{file}: apps[{index}]: Script not found: {script}")]
    ScriptNotFound {
        /// The file.
        file: String,
        /// App index.
        index: usize,
        /// Resolved script path.
        script: String,
    },
}
