//! The versioned request/response protocol between the CLI and the daemon: one JSON line each way
//! over `rpc.sock`, both carrying [`PROTOCOL_VERSION`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::AppSpec;
use record::ProcessRecord;

pub mod record;

/// Bumped on any incompatible change; the daemon refuses other versions.
pub const PROTOCOL_VERSION: u32 = 1;

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
    /// Stop targets.
    Stop(TargetRequest),
    /// Stop then start targets.
    Restart(TargetRequest),
    /// Zero-downtime reload of targets.
    Reload(TargetRequest),
    /// Stop and remove targets.
    Delete(TargetRequest),
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

/// A line for the CLI to print.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum Line {
    /// To stdout.
    Out(String),
    /// To stderr.
    Err(String),
}

/// A response envelope.
#[derive(Debug, Serialize, Deserialize, Default)]
pub struct Response {
    /// The daemon's [`PROTOCOL_VERSION`].
    pub version: u32,
    /// Lines to print, in order.
    pub lines: Vec<Line>,
    /// Exit code for the CLI.
    pub code: i32,
    /// The process records when the verb returns the list (list, and start/stop/... for the table).
    pub list: Option<Vec<ProcessRecord>>,
    /// For `Exists`.
    pub found: bool,
}

impl Response {
    /// An empty success.
    pub fn ok() -> Self {
        Response {
            version: PROTOCOL_VERSION,
            ..Default::default()
        }
    }
    /// A failure with one stderr line.
    pub fn error(msg: impl Into<String>) -> Self {
        let mut r = Self::ok();
        r.code = 1;
        r.lines.push(Line::Err(msg.into()));
        r
    }
    /// Adds a stdout line.
    pub fn out(&mut self, s: impl Into<String>) {
        self.lines.push(Line::Out(s.into()));
    }
    /// Adds a stderr line.
    pub fn err(&mut self, s: impl Into<String>) {
        self.lines.push(Line::Err(s.into()));
    }
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
}
