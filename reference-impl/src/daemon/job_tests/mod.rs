//! The job state machine driven through the real drivers (`supervise`, `lifecycle`, `reload`) with
//! fake children on paused tokio time: each test runs in milliseconds of wall time.
//!
//! Every transition of [`JobState`] has a test here:
//!
//! | transition                                                    | file          |
//! |---------------------------------------------------------------|---------------|
//! | start → `online` (fork) / `launching` (cluster, wait_ready)   | `start.rs`    |
//! | start fails → `errored`                                        | `start.rs`    |
//! | `launching` → `online`: listening, `ready`, listen_timeout     | `start.rs`    |
//! | on message: events that are not readiness change nothing       | `start.rs`    |
//! | readiness of a replaced worker is ignored                      | `start.rs`    |
//! | on exit in `launching`/`online`/`stopping`/no worker           | `exit.rs`     |
//! | restart at once, restart delay, exponential backoff            | `exit.rs`     |
//! | min_uptime / max_restarts → `errored`, the unstable window     | `exit.rs`     |
//! | no autorestart, killing (also a timer firing while killing)    | `exit.rs`     |
//! | stop from each state, signal + grace, kill_timeout → SIGKILL   | `stop.rs`     |
//! | surviving SIGKILL → `errored`, shutdown message                | `stop.rs`     |
//! | restart from each state, unknown ids, restart while killing    | `stop.rs`     |
//! | reload step: new before old, aborts, warnings, fork/stopped    | `reload.rs`   |
//! | swap / wait_restart / restart_due / end_stop refusals          | `refused.rs`  |

mod exit;
mod refused;
mod reload;
mod start;
mod stop;

use std::sync::Arc;
use std::time::Duration;

use super::fake::{FakeHost, Obeys, spec};
use super::host::lock;
use super::lifecycle::stop_proc;
use super::table::Status;
use crate::config::AppSpec;

/// Lets every ready task run (the runtime is single-threaded and the clock paused: no time passes).
async fn settle() {
    for _ in 0..200 {
        tokio::task::yield_now().await;
    }
}

/// Moves the paused clock forward by `ms`, firing due timers, then settles.
async fn advance(ms: u64) {
    tokio::time::advance(Duration::from_millis(ms)).await;
    settle().await;
}

fn status(h: &FakeHost, id: u32) -> Status {
    h.with(id, |j| j.status())
}

fn pid(h: &FakeHost, id: u32) -> u32 {
    h.with(id, |j| j.pid())
}

fn restart_time(h: &FakeHost, id: u32) -> u64 {
    h.with(id, |j| j.counters().restart_time)
}

/// A job brought into `want` through the drivers (as a daemon would get there), and the spec it
/// runs. `Stopping` is reached with a child that ignores SIGINT and a stop still in its grace period
/// (kill_timeout 1000 ms).
async fn job_in(h: &Arc<FakeHost>, want: Status) -> u32 {
    let mut s: AppSpec = spec(false);
    match want {
        Status::Launching => s.wait_ready = true,
        Status::WaitingRestart => s.restart_delay = Some(500),
        Status::Errored => s.max_restarts = Some(1),
        Status::Stopping => {
            *lock(&h.obeys) = Obeys::OnlySigkill;
            s.kill_timeout = Some(1000);
        }
        Status::Online | Status::Stopped => {}
    }
    let id = h.start(s);
    let first = h.spawned() - 1;
    match want {
        Status::WaitingRestart | Status::Errored => {
            h.child(first).exit(1);
            settle().await;
        }
        Status::Stopped => stop_proc(h, id).await.expect("stops"),
        Status::Stopping => {
            let hh = h.clone();
            tokio::spawn(async move { stop_proc(&hh, id).await });
            settle().await;
        }
        Status::Launching | Status::Online => {}
    }
    assert_eq!(status(h, id), want, "setup reached {want:?}");
    id
}
