//! What a job operation or a refused transition returns.

use super::super::child::Exit;

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
        why: AbortReason,
        /// The worker that keeps serving.
        old_pid: u32,
    },
}

/// Why a reload kept the old worker.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AbortReason {
    /// The replacement died before it was ready.
    #[error("the new worker exited before it was ready ({})", how(.0))]
    ExitedEarly(Exit),
    /// The replacement died just before the swap.
    #[error("the new worker exited before it was ready")]
    ExitedAtSwap,
    /// The replacement did not listen within listen_timeout (ms) while the old one did.
    #[error("the new worker did not listen within listen_timeout ({0}ms)")]
    NoListen(u64),
    /// The job was deleted meanwhile.
    #[error("the process was deleted during its reload")]
    Deleted,
    /// The job refused the swap.
    #[error("{0}")]
    Refused(Box<JobError>),
}

fn how(exit: &Exit) -> String {
    match (exit.code, exit.signal) {
        (_, Some(s)) => format!("signal {s}"),
        (c, None) => format!("code {}", c.unwrap_or(0)),
    }
}
