//! Every state change of a [`Job`]: start, readiness, stop (two halves around the signal and grace
//! period), exit (PM2's `handleExit`: unstable restarts, `max_restarts`, restart delay or exponential
//! backoff), the autorestart timer, and the reload swap. Nothing else writes a job's state.

use super::super::child::{Exit, Running};
use super::{
    BACKOFF_CAP, DEFAULT_MAX_RESTARTS, DEFAULT_MIN_UPTIME, ErrorCause, Job, JobError, JobState,
    RestartTimer,
};

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

impl Job {
    /// start: the spawned worker (or the spawn error) becomes the job's; `launching`, or `online` when
    /// already ready. Only from a state without a worker.
    pub fn launched(
        &mut self,
        kind: Launch,
        spawned: std::io::Result<Running>,
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
                let why = e.to_string();
                self.state = JobState::Errored {
                    cause: ErrorCause::LaunchFailed(why.clone()),
                };
                Err(JobError::Launch(why))
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
