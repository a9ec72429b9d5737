//! On exit (PM2's `handleExit`) in each state: restart at once or after a delay, exponential backoff,
//! unstable restarts to `errored`, no autorestart, killing.

use rstest::rstest;

use super::super::child::Exit;
use super::super::fake::{FakeHost, spec};
use super::super::host::Host;
use super::super::job::{ErrorCause, ExitStep, JobState};
use super::super::lifecycle::stop_proc;
use super::{advance, job_in, pid, restart_time, settle, status};
use crate::daemon::table::Status;

/// The current worker exits in `launching` or `online`: restarted at once (restart_delay 0), counted.
#[rstest]
#[case::online(Status::Online)]
#[case::launching(Status::Launching)]
#[tokio::test(start_paused = true)]
async fn an_exit_restarts_at_once(#[case] from: Status) {
    let h = FakeHost::new();
    let id = job_in(&h, from).await;
    let first = pid(&h, id);
    h.child(0).exit(3);
    settle().await;
    assert_eq!(h.spawned(), 2);
    assert_eq!(
        status(&h, id),
        from,
        "the new worker starts as the first did"
    );
    assert_ne!(pid(&h, id), first);
    assert_eq!(pid(&h, id), h.child(1).pid);
    h.with(id, |j| {
        assert_eq!(j.counters().restart_time, 1);
        assert_eq!(j.counters().exit_code, Some(3));
    });
}

/// An exit while a stop is in progress finishes the stop: no autorestart.
#[tokio::test(start_paused = true)]
async fn an_exit_while_stopping_finishes_the_stop() {
    let h = FakeHost::new();
    let id = job_in(&h, Status::Stopping).await;
    h.child(0).exit(0);
    settle().await;
    assert_eq!(status(&h, id), Status::Stopped);
    assert_eq!(pid(&h, id), 0);
    advance(10_000).await;
    assert_eq!(h.spawned(), 1, "a stop never autorestarts");
    assert_eq!(
        h.child(0).log(),
        vec!["SIGINT", "group SIGKILL"],
        "no SIGKILL to the process: it exited within kill_timeout"
    );
}

/// Without a worker (`waiting restart`, `stopped`, `errored`), an exit of the last worker is ignored.
#[rstest]
#[case::waiting_restart(Status::WaitingRestart)]
#[case::stopped(Status::Stopped)]
#[case::errored(Status::Errored)]
#[tokio::test(start_paused = true)]
async fn an_exit_without_a_worker_is_ignored(#[case] from: Status) {
    let h = FakeHost::new();
    let id = job_in(&h, from).await;
    let generation = h.child(0).generation;
    let now = h.now_ms();
    let step =
        h.table()
            .jobs
            .get_mut(&id)
            .unwrap()
            .on_exit(generation, Exit::default(), now, false);
    assert_eq!(step, ExitStep::Ignored);
    assert_eq!(status(&h, id), from);
}

#[tokio::test(start_paused = true)]
async fn a_replaced_workers_exit_is_ignored() {
    let h = FakeHost::new();
    let id = h.start(spec(false));
    h.child(0).exit(1);
    settle().await;
    let now = h.now_ms();
    let step = h.table().jobs.get_mut(&id).unwrap().on_exit(
        h.child(0).generation,
        Exit::default(),
        now,
        false,
    );
    assert_eq!(step, ExitStep::Ignored);
    assert_eq!(status(&h, id), Status::Online);
    assert_eq!(restart_time(&h, id), 1);
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
    assert_eq!(restart_time(&h, id), 1);
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

/// An early exit counts as unstable only within `min_uptime × max_restarts` of the job's creation.
#[rstest]
#[case::inside_the_window(1500, 1)]
#[case::outside_the_window(2500, 0)]
#[tokio::test(start_paused = true)]
async fn unstable_exits_count_only_inside_the_window(
    #[case] first_life_ms: u64,
    #[case] unstable: u64,
) {
    let h = FakeHost::new();
    let mut s = spec(false);
    s.max_restarts = Some(2);
    s.min_uptime = Some(1000);
    let id = h.start(s);
    advance(first_life_ms).await;
    h.child(0).exit(1);
    settle().await;
    assert_eq!(h.with(id, |j| j.counters().unstable_restarts), 0, "stable");
    advance(10).await;
    h.child(1).exit(1);
    settle().await;
    assert_eq!(h.with(id, |j| j.counters().unstable_restarts), unstable);
    assert_eq!(status(&h, id), Status::Online);
}

#[rstest]
#[case::no_autorestart(false, false)]
#[case::killing(true, true)]
#[tokio::test(start_paused = true)]
async fn no_autorestart_and_killing_leave_the_job_stopped(
    #[case] autorestart: bool,
    #[case] killing: bool,
) {
    let h = FakeHost::new();
    let mut s = spec(false);
    s.autorestart = autorestart;
    s.restart_delay = Some(100);
    let id = h.start(s);
    if killing {
        h.set_killing();
    }
    h.child(0).exit(0);
    settle().await;
    assert_eq!(status(&h, id), Status::Stopped);
    assert_eq!(pid(&h, id), 0);
    advance(1000).await;
    assert_eq!(h.spawned(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_restart_timer_firing_while_killing_spawns_nothing() {
    let h = FakeHost::new();
    let id = job_in(&h, Status::WaitingRestart).await;
    h.set_killing();
    advance(1000).await;
    assert_eq!(h.spawned(), 1);
    stop_proc(&h, id).await.unwrap();
    assert_eq!(status(&h, id), Status::Stopped);
}
