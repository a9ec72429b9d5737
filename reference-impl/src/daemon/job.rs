//! One job per instance (pm_id): its configuration, its counters and its state, a single enum whose
//! variants carry only their own data. Every state change is a method here; the effects (spawning,
//! signalling, timers) are driven by `lifecycle`, `spawn` and `reload`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use super::child::{Exit, Running};
use crate::config::{AppSpec, ExecMode};
use crate::protocol::record::Status;

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

/// Why a job is `errored`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorCause {
    /// More unstable restarts than `max_restarts`.
    TooManyUnstableRestarts,
    /// The process could not be spawned.
    LaunchFailed(String),
    /// It survived SIGKILL.
    Unkillable,
}

/// A pending autorestart; dropping it cancels the timer.
#[derive(Debug)]
pub struct RestartTimer {
    /// Identifies this timer (the generation of the worker whose exit armed it).
    pub token: u64,
    /// The delay it waits (ms).
    pub delay_ms: u64,
    task: tokio::task::AbortHandle,
}

impl RestartTimer {
    /// A timer driven by `task`.
    pub fn new(token: u64, delay_ms: u64, task: tokio::task::AbortHandle) -> Self {
        RestartTimer {
            token,
            delay_ms,
            task,
        }
    }
}

impl Drop for RestartTimer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The state of a job.
pub enum JobState {
    /// Spawned, not ready yet.
    Launching {
        /// The worker.
        child: Running,
    },
    /// Ready (listening, `ready`, listen_timeout elapsed; fork apps: spawned).
    Online {
        /// The worker.
        child: Running,
    },
    /// Being stopped (signal sent, grace period running); the child may already have exited.
    Stopping {
        /// The worker.
        child: Running,
    },
    /// Exited; an autorestart is scheduled.
    WaitingRestart {
        /// The pid of the exited worker (PM2 keeps showing it).
        last_pid: u32,
        /// The timer.
        timer: RestartTimer,
    },
    /// Not running.
    Stopped,
    /// Not running, and will not be restarted automatically.
    Errored {
        /// Why.
        cause: ErrorCause,
    },
}

impl JobState {
    /// PM2's status.
    pub fn status(&self) -> Status {
        match self {
            JobState::Launching { .. } => Status::Launching,
            JobState::Online { .. } => Status::Online,
            JobState::Stopping { .. } => Status::Stopping,
            JobState::WaitingRestart { .. } => Status::WaitingRestart,
            JobState::Stopped => Status::Stopped,
            JobState::Errored { .. } => Status::Errored,
        }
    }
}

/// A refused transition or a failed job operation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JobError {
    /// No such pm_id (PM2's wording).
    #[error("{0} : id unknown")]
    UnknownId(u32),
    /// The event does not apply to the job's state.
    #[error("process {pm_id} is {state}: cannot {event}")]
    InvalidTransition {
        /// The job.
        pm_id: u32,
        /// Its state.
        state: &'static str,
        /// What was asked.
        event: &'static str,
    },
    /// The process survived SIGKILL.
    #[error("process {0} could not be stopped")]
    Unkillable(u32),
    /// Spawning failed (PM2's wording).
    #[error("Process failed to launch: {0}")]
    Launch(String),
    /// The daemon is shutting down.
    #[error("daemon is being killed")]
    Killing,
    /// A reload kept the old worker.
    #[error(
        "reload of {name} (id {pm_id}) aborted: {why}; the old worker (pid {old_pid}) keeps serving"
    )]
    ReloadAborted {
        /// App name.
        name: String,
        /// The job.
        pm_id: u32,
        /// Why.
        why: String,
        /// The worker that keeps serving.
        old_pid: u32,
    },
}

/// Why a worker is being launched (decides which counters move, as PM2's paths do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Launch {
    /// First start of a new job.
    New,
    /// Autorestart after an exit (`restart_time` + 1).
    Autorestart,
    /// `restart`/`start` of an existing job; `was_up` counts it as a restart.
    Cli {
        /// It was running (or waiting to restart) before.
        was_up: bool,
    },
}

/// What the job did with an exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStep {
    /// Not the current worker (a replaced one): nothing changed.
    Ignored,
    /// A stop is in progress; it finishes the transition.
    Stopping,
    /// Stopped for good (no autorestart, or the daemon is being killed).
    Stopped,
    /// Too many unstable restarts.
    Errored,
    /// Restart after `delay_ms` (0 = now); arm with [`Job::wait_restart`] or launch at once.
    Restart {
        /// Delay before the restart (ms).
        delay_ms: u64,
        /// The timer token to arm.
        token: u64,
        /// The exited worker's pid.
        last_pid: u32,
    },
}

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

    /// start: the spawned worker (or the spawn error) becomes the job's; `launching`, or `online` when
    /// already ready. Only from a state without a worker.
    pub fn launched(
        &mut self,
        kind: Launch,
        spawned: Result<Running, String>,
        now: u64,
    ) -> Result<(), JobError> {
        if self.child().is_some() {
            return Err(self.refuse("launch a second worker"));
        }
        self.count_launch(kind, now);
        match spawned {
            Ok(child) => {
                self.counters.pm_uptime = child.since;
                self.state = if self.ready(&child) {
                    JobState::Online { child }
                } else {
                    JobState::Launching { child }
                };
                Ok(())
            }
            Err(e) => {
                self.state = JobState::Errored {
                    cause: ErrorCause::LaunchFailed(e.clone()),
                };
                Err(JobError::Launch(e))
            }
        }
    }

    /// `launching` → `online` for the current worker (ready, listening, or listen_timeout elapsed).
    pub fn mark_online(&mut self, generation: u64) -> bool {
        match std::mem::replace(&mut self.state, JobState::Stopped) {
            JobState::Launching { child } if child.generation == generation => {
                self.state = JobState::Online { child };
                true
            }
            other => {
                self.state = other;
                false
            }
        }
    }

    /// stop, first half: returns the worker to signal (state `stopping`), or `None` when nothing runs
    /// (a pending autorestart is cancelled; `errored` stays `errored`, anything else is `stopped`).
    pub fn begin_stop(&mut self) -> Option<Running> {
        match std::mem::replace(&mut self.state, JobState::Stopped) {
            JobState::Launching { child }
            | JobState::Online { child }
            | JobState::Stopping { child } => {
                self.state = JobState::Stopping {
                    child: child.clone(),
                };
                Some(child)
            }
            JobState::Errored { cause } => {
                self.state = JobState::Errored { cause };
                None
            }
            JobState::WaitingRestart { .. } | JobState::Stopped => None,
        }
    }

    /// stop, second half: `stopped` once dead, `errored` when it survived SIGKILL.
    pub fn end_stop(&mut self, dead: bool) -> Result<(), JobError> {
        if !matches!(self.state, JobState::Stopping { .. }) {
            return Err(self.refuse("finish a stop"));
        }
        if dead {
            self.state = JobState::Stopped;
            Ok(())
        } else {
            self.state = JobState::Errored {
                cause: ErrorCause::Unkillable,
            };
            Err(JobError::Unkillable(self.pm_id))
        }
    }

    /// An exit of the worker of `generation` (PM2's `handleExit`): unstable restarts are counted
    /// (an exit before `min_uptime` within the `min_uptime × max_restarts` window), `max_restarts` of
    /// them make the job `errored`, otherwise it restarts after `restart_delay` or the exponential
    /// backoff (×1.5, capped at 15 s).
    pub fn on_exit(&mut self, generation: u64, exit: Exit, now: u64, killing: bool) -> ExitStep {
        if !self.is_current(generation) {
            return ExitStep::Ignored;
        }
        self.counters.exit_code = Some(exit.code.unwrap_or(0));
        if matches!(self.state, JobState::Stopping { .. }) {
            return ExitStep::Stopping;
        }
        let last_pid = self.pid();
        if !self.spec.autorestart || killing {
            self.state = JobState::Stopped;
            return ExitStep::Stopped;
        }
        let min_uptime = self.spec.min_uptime.unwrap_or(DEFAULT_MIN_UPTIME);
        let max_restarts = self.spec.max_restarts.unwrap_or(DEFAULT_MAX_RESTARTS);
        let c = &mut self.counters;
        let in_window = c
            .created_at
            .is_some_and(|at| now.saturating_sub(at) < min_uptime.saturating_mul(max_restarts));
        if in_window && now.saturating_sub(c.pm_uptime) < min_uptime {
            c.unstable_restarts += 1;
        }
        if c.unstable_restarts >= max_restarts {
            c.unstable_restarts = 0;
            c.created_at = None;
            self.state = JobState::Errored {
                cause: ErrorCause::TooManyUnstableRestarts,
            };
            return ExitStep::Errored;
        }
        let delay_ms = if let Some(base) = self.spec.exp_backoff_restart_delay {
            let next = if c.prev_restart_delay == 0 {
                base
            } else {
                ((c.prev_restart_delay as f64) * 1.5).floor() as u64
            }
            .min(BACKOFF_CAP);
            c.prev_restart_delay = next;
            next
        } else {
            self.spec.restart_delay.unwrap_or(0)
        };
        self.state = JobState::Stopped;
        ExitStep::Restart {
            delay_ms,
            token: generation,
            last_pid,
        }
    }

    /// Arms the autorestart decided by [`Job::on_exit`] (`waiting restart`).
    pub fn wait_restart(&mut self, last_pid: u32, timer: RestartTimer) -> Result<(), JobError> {
        if !matches!(self.state, JobState::Stopped) {
            return Err(self.refuse("schedule a restart"));
        }
        self.state = JobState::WaitingRestart { last_pid, timer };
        Ok(())
    }

    /// The restart timer `token` fired: true when it is still the pending one (the job is then
    /// `stopped`, to be launched with [`Launch::Autorestart`]).
    pub fn restart_due(&mut self, token: u64) -> bool {
        match &self.state {
            JobState::WaitingRestart { timer, .. } if timer.token == token => {
                self.state = JobState::Stopped;
                true
            }
            _ => false,
        }
    }

    /// reload: the replacement becomes the current worker (`online`, counters as a CLI restart);
    /// returns the worker it replaces, if one was running.
    pub fn swap(&mut self, new: Running, now: u64) -> Result<Option<Running>, JobError> {
        if new.exited() {
            return Err(self.refuse("install an exited replacement"));
        }
        let old = match std::mem::replace(&mut self.state, JobState::Stopped) {
            JobState::Launching { child } | JobState::Online { child } => Some(child),
            JobState::WaitingRestart { .. } => None,
            other => {
                self.state = other;
                return Err(self.refuse("swap in a replacement"));
            }
        };
        self.counters.restart_time += 1;
        self.counters.created_at = Some(now);
        self.counters.unstable_restarts = 0;
        self.counters.prev_restart_delay = 0;
        self.counters.pm_uptime = new.since;
        self.state = JobState::Online { child: new };
        Ok(old)
    }
}
