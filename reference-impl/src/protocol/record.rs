//! The typed process record: one per instance, serialised in PM2's `jlist` shape. The daemon builds
//! it (`daemon::jlist`), `jlist` prints it, `state.json` stores it, and `ls`/`describe`/`pid`/`logs`
//! read it. Unknown keys are kept (`extra`), missing ones default, so older state files still load.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::cluster::LbPolicy;
use crate::config::ExecMode;

/// PM2's status values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Status {
    /// Spawned, not ready yet.
    #[serde(rename = "launching")]
    Launching,
    /// Ready (listening, `ready`, or listen_timeout elapsed; fork: spawned).
    #[serde(rename = "online")]
    Online,
    /// Being stopped.
    #[serde(rename = "stopping")]
    Stopping,
    /// Not running (pid 0).
    #[default]
    #[serde(rename = "stopped")]
    Stopped,
    /// Too many unstable restarts, or could not be killed.
    #[serde(rename = "errored")]
    Errored,
    /// Delayed autorestart pending.
    #[serde(rename = "waiting restart")]
    WaitingRestart,
}

impl Status {
    /// The PM2 string.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Launching => "launching",
            Status::Online => "online",
            Status::Stopping => "stopping",
            Status::Stopped => "stopped",
            Status::Errored => "errored",
            Status::WaitingRestart => "waiting restart",
        }
    }
}

/// `monit`: resources of the live process.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Monit {
    /// RSS in bytes.
    pub memory: u64,
    /// CPU percent.
    pub cpu: f64,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn default_exec_mode() -> ExecMode {
    ExecMode::ForkMode
}

/// `pm2_env`: the instance's configuration and counters, as PM2 names them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Pm2Env {
    /// Status.
    pub status: Status,
    /// App name.
    pub name: String,
    /// PM2 id.
    pub pm_id: u32,
    /// Always `default`.
    pub namespace: String,
    /// `cluster_mode` / `fork_mode`.
    #[serde(default = "default_exec_mode")]
    pub exec_mode: ExecMode,
    /// Resolved instance count of the app.
    pub instances: usize,
    /// Name of the instance variable (its value is in `extra`, under that name).
    pub instance_var: String,
    /// Restarts.
    pub restart_time: u64,
    /// Unstable restarts.
    pub unstable_restarts: u64,
    /// ms epoch of the last spawn.
    pub pm_uptime: u64,
    /// ms epoch of creation / last CLI restart.
    pub created_at: Option<u64>,
    /// Script path.
    pub pm_exec_path: String,
    /// Working directory.
    pub pm_cwd: String,
    /// Out log.
    pub pm_out_log_path: String,
    /// Error log.
    pub pm_err_log_path: String,
    /// Pid file.
    pub pm_pid_path: String,
    /// Shared by one start batch.
    pub unique_id: String,
    /// Restart on exit.
    pub autorestart: bool,
    /// Always true (the process group is killed).
    pub treekill: bool,
    /// PM2's constant.
    pub kill_retry_time: u64,
    /// Script arguments.
    pub args: Vec<String>,
    /// `node`, `none`, or the interpreter's file name.
    pub exec_interpreter: String,
    /// Node arguments.
    pub node_args: Vec<String>,
    /// `rr` / `shared`.
    pub lb_policy: LbPolicy,
    /// ms between SIGINT and SIGKILL, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kill_timeout: Option<u64>,
    /// ms to wait for listening/ready, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen_timeout: Option<u64>,
    /// When set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_restarts: Option<u64>,
    /// When set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_uptime: Option<u64>,
    /// When set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart_delay: Option<u64>,
    /// When set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp_backoff_restart_delay: Option<u64>,
    /// Last backoff delay (with `exp_backoff_restart_delay`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prev_restart_delay: Option<u64>,
    /// Shown when true.
    #[serde(skip_serializing_if = "is_false")]
    pub wait_ready: bool,
    /// Shown when true.
    #[serde(skip_serializing_if = "is_false")]
    pub shutdown_with_message: bool,
    /// Exit code of the last exit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Version of the node binary running it (`20.20.2`, as PM2 reports `process.versions.node`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_version: Option<String>,
    /// The app's configured env.
    pub env: BTreeMap<String, String>,
    /// The instance variable (`NODE_APP_INSTANCE: 0`) and any key this version does not know.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl Default for Pm2Env {
    fn default() -> Self {
        Pm2Env {
            status: Status::Stopped,
            name: String::new(),
            pm_id: 0,
            namespace: "default".into(),
            exec_mode: ExecMode::ForkMode,
            instances: 1,
            instance_var: "NODE_APP_INSTANCE".into(),
            restart_time: 0,
            unstable_restarts: 0,
            pm_uptime: 0,
            created_at: None,
            pm_exec_path: String::new(),
            pm_cwd: String::new(),
            pm_out_log_path: String::new(),
            pm_err_log_path: String::new(),
            pm_pid_path: String::new(),
            unique_id: String::new(),
            autorestart: true,
            treekill: true,
            kill_retry_time: 100,
            args: vec![],
            exec_interpreter: String::new(),
            node_args: vec![],
            lb_policy: LbPolicy::Rr,
            kill_timeout: None,
            listen_timeout: None,
            max_restarts: None,
            min_uptime: None,
            restart_delay: None,
            exp_backoff_restart_delay: None,
            prev_restart_delay: None,
            wait_ready: false,
            shutdown_with_message: false,
            exit_code: None,
            node_version: None,
            env: BTreeMap::new(),
            extra: BTreeMap::new(),
        }
    }
}

impl Pm2Env {
    /// The instance variable's value (`NODE_APP_INSTANCE`).
    pub fn instance_value(&self) -> Option<u64> {
        self.extra.get(&self.instance_var).and_then(|v| v.as_u64())
    }
}

/// One process as PM2's `jlist` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessRecord {
    /// OS pid (0 when not running).
    #[serde(default)]
    pub pid: u32,
    /// App name.
    #[serde(default)]
    pub name: String,
    /// PM2 id.
    #[serde(default)]
    pub pm_id: u32,
    /// Resources.
    #[serde(default)]
    pub monit: Monit,
    /// Configuration and counters.
    #[serde(default)]
    pub pm2_env: Pm2Env,
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEFORE: &str = include_str!("testdata/state-before-typed-record.json");

    #[test]
    fn a_state_file_written_before_the_typed_record_loads_and_round_trips() {
        let records: Vec<ProcessRecord> = serde_json::from_str(BEFORE).unwrap();
        assert_eq!(records.len(), 4);
        let web = &records[0];
        assert_eq!(web.pm2_env.exec_mode, ExecMode::ClusterMode);
        assert_eq!(web.pm2_env.lb_policy, LbPolicy::Shared);
        assert_eq!(web.pm2_env.kill_timeout, Some(2000));
        assert_eq!(web.pm2_env.instance_value(), Some(0));
        assert_eq!(records[3].pm2_env.status, Status::Stopped);
        assert_eq!(records[3].pm2_env.prev_restart_delay, Some(0));
        assert_eq!(records[3].pm2_env.exit_code, Some(0));
        assert!(records.iter().all(|r| r.pm2_env.node_version.is_none()));
        // Serialising again gives back exactly the same JSON value.
        let old: serde_json::Value = serde_json::from_str(BEFORE).unwrap();
        assert_eq!(serde_json::to_value(&records).unwrap(), old);
    }
}
