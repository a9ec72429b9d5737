//! One job per instance (pm_id): its configuration, its counters and its state, a single enum whose
//! variants carry only their own data ([`JobState`]). Every state change is a method in `transitions`;
//! the effects (spawning, signalling, timers) are driven by `supervise`, `lifecycle` and `reload`.

mod error;
mod state;
mod transitions;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use super::child::Running;
use crate::config::{AppSpec, ExecMode};
use crate::protocol::record::Status;

pub use error::{AbortReason, JobError};
pub use state::{ErrorCause, JobState, RestartTimer};
pub use transitions::{ExitStep, Launch};

/// Default kill_timeout (ms).
pub const DEFAULT_KILL_TIMEOUT: u64 = 1600;
/// Default listen_timeout (ms).
pub const DEFAULT_LISTEN_TIMEOUT: u64 = 3000;
/// Default min_uptime (ms).
pub const DEFAULT_MIN_UPTIME: u64 = 1000;
/// Default max_restarts.
pub const DEFAULT_MAX_RESTARTS: u64 = 16;
/// Ceiling of the exponential backoff delay (ms), as PM2.
pub const BACKOFF_CAP: u64 = 15000;

/// Counters shown in jlist; written only by the transitions of this module.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// Restarts.
    pub restart_time: u64,
    /// Unstable restarts (exits before min_uptime).
    pub unstable_restarts: u64,
    /// ms epoch of the last spawn.
    pub pm_uptime: u64,
    /// ms epoch of creation or the last CLI restart; `None` after errored.
    pub created_at: Option<u64>,
    /// Exit code of the last exit.
    pub exit_code: Option<i32>,
    /// Last exponential backoff delay.
    pub prev_restart_delay: u64,
}

/// Identity and files of a new job.
pub struct JobInit {
    /// PM2 id.
    pub pm_id: u32,
    /// Its configuration.
    pub spec: AppSpec,
    /// The caller's environment at start.
    pub caller_env: BTreeMap<String, String>,
    /// Resolved instance count of its app.
    pub instances: usize,
    /// Value of the instance variable.
    pub instance_value: u64,
    /// Shared by one start batch.
    pub unique_id: String,
    /// Out log.
    pub out_log: PathBuf,
    /// Error log.
    pub err_log: PathBuf,
    /// Pid file.
    pub pid_file: PathBuf,
}

/// One managed instance.
pub struct Job {
    /// PM2 id.
    pub pm_id: u32,
    /// Its configuration.
    pub spec: AppSpec,
    /// The caller's environment at start (never shown in jlist).
    pub caller_env: BTreeMap<String, String>,
    /// Resolved instance count of its app at start.
    pub instances: usize,
    /// Value of the instance variable.
    pub instance_value: u64,
    /// Shared by one start batch.
    pub unique_id: String,
    /// Serialises stop/restart/reload/delete of this id.
    pub op_lock: Arc<tokio::sync::Mutex<()>>,
    /// Out log.
    pub out_log: PathBuf,
    /// Error log.
    pub err_log: PathBuf,
    /// Pid file.
    pub pid_file: PathBuf,
    state: JobState,
    counters: Counters,
}

impl Job {
    /// A new job, `stopped` until its first launch.
    pub fn new(init: JobInit, now: u64) -> Self {
        Job {
            pm_id: init.pm_id,
            spec: init.spec,
            caller_env: init.caller_env,
            instances: init.instances,
            instance_value: init.instance_value,
            unique_id: init.unique_id,
            op_lock: Arc::new(tokio::sync::Mutex::new(())),
            out_log: init.out_log,
            err_log: init.err_log,
            pid_file: init.pid_file,
            state: JobState::Stopped,
            counters: Counters {
                pm_uptime: now,
                created_at: Some(now),
                ..Counters::default()
            },
        }
    }

    /// The state.
    pub fn state(&self) -> &JobState {
        &self.state
    }
    /// The counters.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }
    /// PM2's status.
    pub fn status(&self) -> Status {
        self.state.status()
    }
    /// The pid PM2 shows: the worker's, the exited one's while waiting to restart, else 0.
    pub fn pid(&self) -> u32 {
        match &self.state {
            JobState::Launching { child }
            | JobState::Online { child }
            | JobState::Stopping { child } => child.pid(),
            JobState::WaitingRestart { last_pid, .. } => *last_pid,
            JobState::Stopped | JobState::Errored { .. } => 0,
        }
    }
    /// The current worker, if any.
    pub fn child(&self) -> Option<&Running> {
        match &self.state {
            JobState::Launching { child }
            | JobState::Online { child }
            | JobState::Stopping { child } => Some(child),
            _ => None,
        }
    }
    /// True when `generation` is the current worker's.
    pub fn is_current(&self, generation: u64) -> bool {
        self.child().is_some_and(|c| c.generation == generation)
    }
    /// Running or about to be (launching, online, or an autorestart pending).
    pub fn is_up(&self) -> bool {
        matches!(
            self.state,
            JobState::Launching { .. } | JobState::Online { .. } | JobState::WaitingRestart { .. }
        )
    }
    /// Is the worker ready given its flags (fork apps without wait_ready: as soon as spawned)?
    pub fn ready(&self, child: &Running) -> bool {
        let f = child.flags.borrow();
        if self.spec.wait_ready {
            f.ready
        } else {
            self.spec.exec_mode == ExecMode::ForkMode || f.listening
        }
    }

    fn refuse(&self, event: &'static str) -> JobError {
        JobError::InvalidTransition {
            pm_id: self.pm_id,
            state: self.status().as_str(),
            event,
        }
    }

    fn count_launch(&mut self, kind: Launch, now: u64) {
        match kind {
            Launch::New => {}
            Launch::Autorestart => self.counters.restart_time += 1,
            Launch::Cli { was_up } => {
                if was_up {
                    self.counters.restart_time += 1;
                }
                self.counters.created_at = Some(now);
                self.counters.unstable_restarts = 0;
                self.counters.prev_restart_delay = 0;
            }
        }
    }
}
