//! A job's state: one enum whose variants carry only their own data (the worker, the pending restart
//! timer, why it is errored), so an invalid combination cannot be written down.

use super::super::child::Running;
use crate::protocol::record::Status;

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
