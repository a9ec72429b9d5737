//! The versioned request/response protocol between the CLI and the daemon: one JSON line each way
//! over `rpc.sock`, both carrying [`PROTOCOL_VERSION`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::AppSpec;

pub mod record;
pub mod reply;

pub use reply::{Event, Reply, Report, RequestError, Response};

/// Bumped on any incompatible change; the daemon refuses other versions (2: typed replies).
pub const PROTOCOL_VERSION: u32 = 2;

/// The two ends of the protocol disagree on [`PROTOCOL_VERSION`] (the one message for both sides).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error(
    "protocol version mismatch: the CLI speaks {cli} and the daemon {daemon}; run `refpm kill` and retry"
)]
pub struct VersionMismatch {
    /// The CLI's version.
    pub cli: u64,
    /// The daemon's version.
    pub daemon: u64,
}

/// Which end reads a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// The daemon reads a request.
    Daemon,
    /// The CLI reads a response.
    Cli,
}

/// Checks the `version` a JSON line claims against ours, before the rest of it is parsed (so a
/// newer or older peer gets this message rather than a parse error). Lines without a version pass.
pub fn check_version(line: &str, reader: Reader) -> Result<(), VersionMismatch> {
    #[derive(Deserialize)]
    struct Versioned {
        version: Option<u64>,
    }
    let Some(theirs) = serde_json::from_str::<Versioned>(line)
        .ok()
        .and_then(|v| v.version)
    else {
        return Ok(());
    };
    let ours = PROTOCOL_VERSION as u64;
    if theirs == ours {
        return Ok(());
    }
    Err(match reader {
        Reader::Daemon => VersionMismatch {
            cli: theirs,
            daemon: ours,
        },
        Reader::Cli => VersionMismatch {
            cli: ours,
            daemon: theirs,
        },
    })
}

/// The per-id verbs (PM2's `_operate` actions): the one enum the CLI, the protocol and the daemon use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verb {
    /// stopProcessId
    Stop,
    /// restartProcessId
    Restart,
    /// reloadProcessId
    Reload,
    /// deleteProcessId
    Delete,
}

impl Verb {
    /// PM2's RPC name, shown in "Applying action ...".
    pub fn rpc(self) -> &'static str {
        match self {
            Verb::Stop => "stopProcessId",
            Verb::Restart => "restartProcessId",
            Verb::Reload => "reloadProcessId",
            Verb::Delete => "deleteProcessId",
        }
    }
}

/// A request envelope.
#[derive(Debug, Serialize, Deserialize)]
pub struct Request {
    /// Must equal [`PROTOCOL_VERSION`].
    pub version: u32,
    /// The verb.
    pub cmd: Command,
}

/// One verb per variant; each has a handler in `daemon::handlers`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "verb", rename_all = "snake_case")]
pub enum Command {
    /// Liveness check.
    Ping,
    /// Start apps (script or ecosystem).
    Start(StartRequest),
    /// stop, restart, reload or delete targets.
    Operate {
        /// Which.
        action: Verb,
        /// What on.
        request: TargetRequest,
    },
    /// Scale an app to N or by +N.
    Scale(ScaleRequest),
    /// The process list as PM2's jlist.
    List,
    /// Does a name/id/`all` match anything?
    Exists {
        /// The target.
        target: String,
    },
    /// Stop everything and exit.
    Kill,
}

impl Command {
    /// True for queries that answer at once (ping, list, exists).
    pub fn is_quick(&self) -> bool {
        matches!(self, Command::Ping | Command::List | Command::Exists { .. })
    }
}

/// What a target names.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Target {
    /// `all`, a name, a numeric id, or `/regex/`-less plain string; or a script path (absolute).
    Name(String),
    /// Apps from an ecosystem file: their specs (already filtered by `--only`).
    Apps(Vec<AppSpec>),
}

/// Arguments of stop/restart/reload/delete.
#[derive(Debug, Serialize, Deserialize)]
pub struct TargetRequest {
    /// What to act on.
    pub target: Target,
    /// Concurrency over ids (`--parallel`); `None` = PM2's default (1 for ≤ 2 ids, else 2; 1 for reload).
    pub parallel: Option<usize>,
    /// The caller's environment (used when an app is (re)started from a config file, or with `update_env`).
    pub caller_env: BTreeMap<String, String>,
    /// `-a/--update-env`: restart/reload with the caller's environment instead of the one saved at start.
    #[serde(default)]
    pub update_env: bool,
}

/// Arguments of start.
#[derive(Debug, Serialize, Deserialize)]
pub struct StartRequest {
    /// The apps to start.
    pub apps: Vec<AppSpec>,
    /// `-f`: start a second copy of an already running script.
    pub force: bool,
    /// True when the apps come from an ecosystem file (running apps are then restarted).
    pub from_file: bool,
    /// The caller's environment.
    pub caller_env: BTreeMap<String, String>,
}

/// Arguments of scale.
#[derive(Debug, Serialize, Deserialize)]
pub struct ScaleRequest {
    /// App name.
    pub name: String,
    /// `N` or `+N`.
    pub spec: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_round_trips_as_one_line() {
        let r = Request {
            version: PROTOCOL_VERSION,
            cmd: Command::Exists {
                target: "web".into(),
            },
        };
        let s = serde_json::to_string(&r).unwrap();
        assert!(!s.contains('\n'));
        let back: Request = serde_json::from_str(&s).unwrap();
        assert!(matches!(back.cmd, Command::Exists { target } if target == "web"));
    }

    #[test]
    fn one_version_check_serves_both_ends() {
        let newer = r#"{"version":99,"cmd":{"verb":"ping"}}"#;
        let e = check_version(newer, Reader::Daemon).unwrap_err();
        assert_eq!((e.cli, e.daemon), (99, PROTOCOL_VERSION as u64));
        assert!(e.to_string().contains("run `refpm kill`"), "{e}");
        let e = check_version(newer, Reader::Cli).unwrap_err();
        assert_eq!((e.cli, e.daemon), (PROTOCOL_VERSION as u64, 99));
        let ours = format!(r#"{{"version":{PROTOCOL_VERSION}}}"#);
        assert!(check_version(&ours, Reader::Daemon).is_ok());
        assert!(check_version("not json", Reader::Daemon).is_ok());
    }
}
