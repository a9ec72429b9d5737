//! The suite file model: a suite is a list of scenarios; a scenario an app, steps and checks.

use super::{Check, Step};
use crate::model::Level;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One suite file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suite {
    /// Suite name (`reload`); scenario ids start with it.
    pub suite: String,
    /// One line about the suite.
    #[serde(default)]
    pub description: String,
    /// Its scenarios.
    #[serde(rename = "scenario", default)]
    pub scenarios: Vec<Scenario>,
    /// The file it came from (set by the loader).
    #[serde(skip)]
    pub path: PathBuf,
}

/// `instances` as written: a number (`4`, `-1`) or a string (`"max"`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Instances {
    /// A number.
    Number(i64),
    /// A string such as `max`.
    Text(String),
}

impl Instances {
    /// The text given to `-i` on a command line.
    pub fn cli(&self) -> String {
        match self {
            Instances::Number(n) => n.to_string(),
            Instances::Text(s) => s.clone(),
        }
    }

    /// The JSON value written to an ecosystem file.
    pub fn json(&self) -> serde_json::Value {
        match self {
            Instances::Number(n) => (*n).into(),
            Instances::Text(s) => s.clone().into(),
        }
    }
}

/// The app under test, given to the target as CLI flags (`start`) or an ecosystem file (`start-ecosystem`).
/// A scenario without an `app` table gets [`AppConfig::default`], named `app` like a parsed empty table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    /// App name (default `app`).
    #[serde(default = "default_name")]
    pub name: String,
    /// `-i` / `instances`.
    pub instances: Option<Instances>,
    /// `--kill-timeout` / `kill_timeout` in ms.
    pub kill_timeout: Option<u64>,
    /// `--listen-timeout` / `listen_timeout` in ms.
    pub listen_timeout: Option<u64>,
    /// `--wait-ready` / `wait_ready`.
    #[serde(default)]
    pub wait_ready: bool,
    /// `instance_var` (ecosystem only: PM2 has no CLI flag).
    pub instance_var: Option<String>,
    /// `--shutdown-with-message` / `shutdown_with_message`.
    #[serde(default)]
    pub shutdown_with_message: bool,
    /// `exec_mode` (ecosystem only).
    pub exec_mode: Option<String>,
    /// Extra variables for the app (`READY_DELAY_MS`), also put in the ecosystem's `env`.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

fn default_name() -> String {
    "app".to_string()
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            name: default_name(),
            instances: None,
            kill_timeout: None,
            listen_timeout: None,
            wait_ready: false,
            instance_var: None,
            shutdown_with_message: false,
            exec_mode: None,
            env: BTreeMap::new(),
        }
    }
}

/// Another app in the same ecosystem file (for `--only`), on its own port and record.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraApp {
    /// Its name.
    pub name: String,
    /// Its fixture (default: the scenario's).
    pub fixture: Option<String>,
    /// Its instances.
    pub instances: Option<Instances>,
}

/// One scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Stable hierarchical id, `reload/under-load/http-4`.
    pub id: String,
    /// The sentence this checks, verbatim (from the guide, PM2's docs, or the kit's policy).
    pub quote: String,
    /// Where the quote comes from: `guide`, `pm2-docs` or `kit-policy`.
    pub source: crate::model::PromiseSource,
    /// `MUST`, `SHOULD` or `INFO`.
    pub level: Level,
    /// Fixture name (`http` → `fixtures/http.js`).
    pub fixture: String,
    /// Why the scenario exists / what it does, one line.
    #[serde(default)]
    pub description: String,
    /// Timing-sensitive: never run in parallel with another scenario.
    #[serde(default)]
    pub exclusive: bool,
    /// Overall deadline in seconds (before `--time-scale`).
    #[serde(default = "default_timeout")]
    pub timeout_s: u64,
    /// The app.
    #[serde(default)]
    pub app: AppConfig,
    /// Other apps of the ecosystem file.
    #[serde(default)]
    pub extra_apps: Vec<ExtraApp>,
    /// What to do, in order.
    pub steps: Vec<Step>,
    /// What must hold afterwards.
    pub expect: Vec<Check>,
    /// The suite it belongs to (set by the loader).
    #[serde(skip)]
    pub suite: String,
    /// Line of the scenario in its file (set by the loader).
    #[serde(skip)]
    pub line: usize,
}

fn default_timeout() -> u64 {
    90
}

impl Scenario {
    /// The instance variable's name for this scenario's app.
    pub fn instance_var(&self) -> &str {
        self.app
            .instance_var
            .as_deref()
            .unwrap_or("NODE_APP_INSTANCE")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_absent_app_table_is_named_like_an_empty_one() {
        let empty: super::AppConfig = toml::from_str("").unwrap();
        assert_eq!(super::AppConfig::default().name, empty.name);
        assert_eq!(empty.name, "app");
    }
}
