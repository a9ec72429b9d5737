//! What a job operation or a refused transition returns.

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
