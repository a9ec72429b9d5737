//! The job state machine driven through the real drivers (`spawn`, `lifecycle`, `reload`) with fake
//! children on paused tokio time: each test runs in milliseconds of wall time.

use std::sync::Arc;
use std::time::Duration;

use super::child::Exit;
use super::fake::{FakeHost, Obeys, spec};
use super::host::Host;
use super::job::{ErrorCause, ExitStep, Job, JobError, JobInit, JobState, Launch};
use super::lifecycle::{restart_proc, stop_proc};
use super::reload::{ReloadOutcome, reload_proc};
use super::table::Status;
use crate::cluster::WorkerEvent;

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

#[tokio::test(start_paused = true)]
async fn fork_app_is_online_at_spawn_and_restarts_at_once_on_exit() {
    let h = FakeHost::new();
    let id = h.start(spec(false));
    assert_eq!(status(&h, id), Status::Online);
    let first = pid(&h, id);
    h.child(0).exit(1);
    settle().await;
    assert_eq!(h.spawned(), 2);
    assert_eq!(status(&h, id), Status::Online);
    assert_ne!(pid(&h, id), first);
    h.with(id, |j| {
        assert_eq!(j.counters().restart_time, 1);
        assert_eq!(j.counters().exit_code, Some(1));
    });
}

#[tokio::test(start_paused = true)]
async fn restart_delay_waits_then_restarts() {
    let h = FakeHost::new();
    let mut s = spec(false);
    s.restart_delay = Some(500);
    let id = h.start(s);
    let first = pid(&h, id);
    h.child(0).exit(1);
    settle().await;
    assert_eq!(status(&h, id), Status::WaitingRestart);
    assert_eq!(pid(&h, id), first, "PM2 keeps showing the exited pid");
    advance(499).await;
    assert_eq!(status(&h, id), Status::WaitingRestart);
    assert_eq!(h.spawned(), 1);
    advance(1).await;
    assert_eq!(status(&h, id), Status::Online);
    assert_eq!(h.spawned(), 2);
    assert_eq!(h.with(id, |j| j.counters().restart_time), 1);
}

#[tokio::test(start_paused = true)]
async fn stop_cancels_a_pending_restart() {
    let h = FakeHost::new();
    let mut s = spec(false);
    s.restart_delay = Some(500);
    let id = h.start(s);
    h.child(0).exit(1);
    settle().await;
    stop_proc(&h, id).await.unwrap();
    assert_eq!(status(&h, id), Status::Stopped);
    assert_eq!(pid(&h, id), 0);
    advance(1000).await;
    assert_eq!(h.spawned(), 1, "the cancelled timer spawned nothing");
}

#[tokio::test(start_paused = true)]
async fn exponential_backoff_grows_by_half_and_is_capped() {
    let h = FakeHost::new();
    let mut s = spec(false);
    s.exp_backoff_restart_delay = Some(8000);
    s.max_restarts = Some(100);
    let id = h.start(s);
    let mut delays = vec![];
    for n in 0..3 {
        h.child(n).exit(1);
        settle().await;
        let d = h.with(id, |j| match j.state() {
            JobState::WaitingRestart { timer, .. } => timer.delay_ms,
            _ => panic!("not waiting restart"),
        });
        delays.push(d);
        advance(d - 1).await;
        assert_eq!(h.spawned(), n + 1, "not before the delay");
        advance(1).await;
        assert_eq!(h.spawned(), n + 2);
    }
    assert_eq!(delays, vec![8000, 12000, 15000]);
    assert_eq!(h.with(id, |j| j.counters().prev_restart_delay), 15000);
}

#[tokio::test(start_paused = true)]
async fn unstable_restarts_reach_max_restarts_then_errored() {
    let h = FakeHost::new();
    let mut s = spec(false);
    s.max_restarts = Some(3);
    s.min_uptime = Some(1000);
    let id = h.start(s);
    for n in 0..3 {
        advance(10).await;
        h.child(n).exit(1);
        settle().await;
    }
    assert_eq!(h.spawned(), 3, "the third unstable exit is not restarted");
    assert_eq!(status(&h, id), Status::Errored);
    advance(60_000).await;
    assert_eq!(h.spawned(), 3, "errored stays errored: no restart storm");
    assert_eq!(status(&h, id), Status::Errored);
    assert_eq!(pid(&h, id), 0);
    h.with(id, |j| {
        assert!(matches!(
            j.state(),
            JobState::Errored {
                cause: ErrorCause::TooManyUnstableRestarts
            }
        ));
        assert_eq!(j.counters().unstable_restarts, 0);
        assert_eq!(j.counters().created_at, None);
    });
}

#[tokio::test(start_paused = true)]
async fn exits_after_min_uptime_are_stable() {
    let h = FakeHost::new();
    let mut s = spec(false);
    s.max_restarts = Some(2);
    s.min_uptime = Some(1000);
    let id = h.start(s);
    advance(10).await;
    h.child(0).exit(1);
    settle().await;
    assert_eq!(h.with(id, |j| j.counters().unstable_restarts), 1);
    advance(1000).await;
    h.child(1).exit(1);
    settle().await;
    assert_eq!(status(&h, id), Status::Online, "a stable exit restarts");
    assert_eq!(h.with(id, |j| j.counters().unstable_restarts), 1);
}

#[tokio::test(start_paused = true)]
async fn no_autorestart_and_killing_leave_the_job_stopped() {
    let h = FakeHost::new();
    let mut s = spec(false);
    s.autorestart = false;
    let id = h.start(s);
    h.child(0).exit(0);
    settle().await;
    assert_eq!(status(&h, id), Status::Stopped);
    let id2 = h.start(spec(false));
    h.set_killing();
    h.child(1).exit(0);
    settle().await;
    assert_eq!(status(&h, id2), Status::Stopped);
    assert_eq!(h.spawned(), 2);
}

#[tokio::test(start_paused = true)]
async fn stop_sends_sigint_and_an_obedient_child_needs_no_sigkill() {
    let h = FakeHost::new();
    let id = h.start(spec(false));
    stop_proc(&h, id).await.unwrap();
    assert_eq!(status(&h, id), Status::Stopped);
    assert_eq!(h.with(id, |j| j.counters().exit_code), Some(0));
    // The group SIGKILL after death only reaps what the app left behind.
    assert_eq!(h.child(0).log(), vec!["SIGINT", "group SIGKILL"]);
    assert_eq!(h.spawned(), 1, "a stop never autorestarts");
}

#[tokio::test(start_paused = true)]
async fn kill_timeout_escalates_to_sigkill() {
    let h = FakeHost::new();
    *super::host::lock(&h.obeys) = Obeys::OnlySigkill;
    let mut s = spec(false);
    s.kill_timeout = Some(800);
    let id = h.start(s);
    let hh = h.clone();
    let stop = tokio::spawn(async move { stop_proc(&hh, id).await });
    settle().await;
    assert_eq!(status(&h, id), Status::Stopping);
    assert_eq!(h.child(0).log(), vec!["SIGINT"]);
    advance(799).await;
    assert_eq!(
        h.child(0).log(),
        vec!["SIGINT"],
        "no SIGKILL before kill_timeout"
    );
    advance(1).await;
    assert_eq!(stop.await.unwrap(), Ok(()));
    assert_eq!(h.child(0).log(), vec!["SIGINT", "group SIGKILL"]);
    assert_eq!(status(&h, id), Status::Stopped);
}

#[tokio::test(start_paused = true)]
async fn a_child_surviving_sigkill_makes_the_job_errored() {
    let h = FakeHost::new();
    *super::host::lock(&h.obeys) = Obeys::Nothing;
    let mut s = spec(false);
    s.kill_timeout = Some(100);
    let id = h.start(s);
    let err = stop_proc(&h, id).await.unwrap_err();
    assert_eq!(err, JobError::Unkillable(id));
    assert_eq!(status(&h, id), Status::Errored);
    assert_eq!(
        h.child(0).log(),
        vec!["SIGINT", "group SIGKILL", "SIGKILL"],
        "SIGINT, then SIGKILL to the group and the process"
    );
}

#[tokio::test(start_paused = true)]
async fn shutdown_with_message_replaces_sigint() {
    let h = FakeHost::new();
    let mut s = spec(false);
    s.shutdown_with_message = true;
    let id = h.start(s);
    stop_proc(&h, id).await.unwrap();
    assert_eq!(
        h.child(0).log(),
        vec!["message \"shutdown\"", "group SIGKILL"]
    );
}

#[tokio::test(start_paused = true)]
async fn cluster_worker_is_launching_until_it_listens() {
    let h = FakeHost::new();
    let id = h.start(spec(true));
    assert_eq!(status(&h, id), Status::Launching);
    h.child(0).emit(WorkerEvent::Online);
    settle().await;
    assert_eq!(status(&h, id), Status::Launching);
    h.child(0).listen();
    settle().await;
    assert_eq!(status(&h, id), Status::Online);
}

#[tokio::test(start_paused = true)]
async fn wait_ready_needs_the_ready_message() {
    let h = FakeHost::new();
    let mut s = spec(false);
    s.wait_ready = true;
    let id = h.start(s);
    assert_eq!(status(&h, id), Status::Launching);
    h.child(0).listen();
    settle().await;
    assert_eq!(status(&h, id), Status::Launching, "listening is not ready");
    h.child(0)
        .emit(WorkerEvent::Message(serde_json::json!("ready")));
    settle().await;
    assert_eq!(status(&h, id), Status::Online);
}

#[tokio::test(start_paused = true)]
async fn listen_timeout_puts_a_silent_worker_online() {
    let h = FakeHost::new();
    let mut s = spec(true);
    s.listen_timeout = Some(2000);
    let id = h.start(s);
    advance(1999).await;
    assert_eq!(status(&h, id), Status::Launching);
    advance(1).await;
    assert_eq!(status(&h, id), Status::Online);
}

#[tokio::test(start_paused = true)]
async fn restart_counts_and_waits_for_readiness() {
    let h = FakeHost::new();
    let id = h.start(spec(true));
    h.child(0).listen();
    settle().await;
    let hh = h.clone();
    let restart = tokio::spawn(async move { restart_proc(&hh, id).await });
    settle().await;
    assert_eq!(h.spawned(), 2);
    assert!(
        !restart.is_finished(),
        "waits until the new worker is ready"
    );
    h.child(1).listen();
    settle().await;
    assert_eq!(restart.await.unwrap(), Ok(()));
    assert_eq!(status(&h, id), Status::Online);
    assert_eq!(h.with(id, |j| j.counters().restart_time), 1);
    assert_eq!(h.child(0).log(), vec!["SIGINT", "group SIGKILL"]);
}

#[tokio::test(start_paused = true)]
async fn reload_starts_the_new_worker_before_draining_the_old() {
    let h = FakeHost::new();
    let id = h.start(spec(true));
    h.child(0).listen();
    settle().await;
    let old_pid = pid(&h, id);
    let hh = h.clone();
    let reload = tokio::spawn(async move { reload_proc(&hh, id).await });
    settle().await;
    assert_eq!(h.spawned(), 2);
    assert_eq!(
        pid(&h, id),
        old_pid,
        "the old worker serves until the new one listens"
    );
    assert!(
        h.child(0).log().is_empty(),
        "the old worker is untouched so far"
    );
    h.child(1).listen();
    settle().await;
    let out = reload.await.unwrap();
    assert!(matches!(out, Ok(ReloadOutcome::Replaced(None))));
    assert_eq!(status(&h, id), Status::Online);
    assert_eq!(pid(&h, id), h.child(1).pid);
    assert_eq!(
        h.child(0).log(),
        vec!["stop_routing", "disconnect", "group SIGKILL"],
        "routing stops, then the graceful disconnect; it exits by itself"
    );
    assert!(h.child(1).log().is_empty());
    assert_eq!(h.with(id, |j| j.counters().restart_time), 1);
    assert_eq!(h.spawned(), 2, "the old worker's exit does not autorestart");
}

#[tokio::test(start_paused = true)]
async fn reload_keeps_the_old_worker_when_the_new_one_crashes() {
    let h = FakeHost::new();
    let id = h.start(spec(true));
    h.child(0).listen();
    settle().await;
    let hh = h.clone();
    let reload = tokio::spawn(async move { reload_proc(&hh, id).await });
    settle().await;
    h.child(1).exit(1);
    settle().await;
    let err = match reload.await.unwrap() {
        Err(e) => e,
        Ok(_) => panic!("the reload should fail"),
    };
    assert!(matches!(err, JobError::ReloadAborted { .. }), "{err}");
    assert_eq!(status(&h, id), Status::Online);
    assert_eq!(pid(&h, id), h.child(0).pid);
    assert!(h.child(0).log().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_failed_spawn_makes_the_job_errored() {
    let h = FakeHost::new();
    h.fail_spawn
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let id = h.start(spec(false));
    h.with(id, |j| {
        assert!(matches!(
            j.state(),
            JobState::Errored {
                cause: ErrorCause::LaunchFailed(_)
            }
        ));
    });
}

fn bare_job() -> Job {
    Job::new(
        JobInit {
            pm_id: 7,
            spec: spec(false),
            caller_env: Default::default(),
            instances: 1,
            instance_value: 0,
            unique_id: "u".into(),
            out_log: "/nonexistent/o".into(),
            err_log: "/nonexistent/e".into(),
            pid_file: "/nonexistent/p".into(),
        },
        0,
    )
}

#[test]
fn transitions_that_do_not_apply_are_refused() {
    let mut j = bare_job();
    assert_eq!(j.status(), Status::Stopped);
    assert!(matches!(
        j.end_stop(true),
        Err(JobError::InvalidTransition { pm_id: 7, .. })
    ));
    assert!(!j.restart_due(1), "no timer pending");
    assert!(!j.mark_online(1));
    assert_eq!(j.on_exit(1, Exit::default(), 0, false), ExitStep::Ignored);
    assert!(j.begin_stop().is_none());
    assert_eq!(j.status(), Status::Stopped);
}

#[test]
fn errored_stays_errored_when_stopped() {
    let mut j = bare_job();
    let err = j.launched(Launch::New, Err(std::io::Error::other("boom")), 0).unwrap_err();
    assert_eq!(err.to_string(), "Process failed to launch: boom");
    assert!(j.begin_stop().is_none());
    assert_eq!(j.status(), Status::Errored);
}

#[tokio::test(start_paused = true)]
async fn a_replaced_workers_exit_is_ignored() {
    let h: Arc<FakeHost> = FakeHost::new();
    let id = h.start(spec(false));
    h.child(0).exit(1);
    settle().await;
    // Generation of the first child no longer matches.
    let step = {
        let mut t = h.table();
        let j = t.jobs.get_mut(&id).unwrap();
        j.on_exit(h.child(0).generation, Exit::default(), 0, false)
    };
    assert_eq!(step, ExitStep::Ignored);
    assert_eq!(status(&h, id), Status::Online);
}
