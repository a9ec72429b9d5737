//! stop (signal, grace period, kill_timeout escalation) and restart from each state; unknown ids.

use rstest::rstest;

use super::super::fake::{FakeHost, Obeys, spec};
use super::super::host::lock;
use super::super::job::JobError;
use super::super::lifecycle::{restart_proc, stop_proc};
use super::super::reload::reload_proc;
use super::{advance, job_in, pid, restart_time, settle, status};
use crate::daemon::table::Status;

/// stop from each state: a worker gets SIGINT (then the group SIGKILL that reaps what it left); a
/// pending restart is cancelled; `stopped` stays `stopped`, `errored` stays `errored`.
#[rstest]
#[case::launching(Status::Launching, Status::Stopped, &["SIGINT", "group SIGKILL"])]
#[case::online(Status::Online, Status::Stopped, &["SIGINT", "group SIGKILL"])]
#[case::waiting_restart(Status::WaitingRestart, Status::Stopped, &[])]
#[case::stopped(Status::Stopped, Status::Stopped, &["SIGINT", "group SIGKILL"])]
#[case::errored(Status::Errored, Status::Errored, &[])]
#[tokio::test(start_paused = true)]
async fn stop_from_each_state(
    #[case] from: Status,
    #[case] want: Status,
    #[case] signals: &[&str],
) {
    let h = FakeHost::new();
    let id = job_in(&h, from).await;
    stop_proc(&h, id).await.unwrap();
    assert_eq!(status(&h, id), want);
    assert_eq!(pid(&h, id), 0);
    assert_eq!(h.child(0).log(), signals);
    advance(60_000).await;
    assert_eq!(h.spawned(), 1, "nothing restarts after a stop");
    assert_eq!(status(&h, id), want);
}

#[tokio::test(start_paused = true)]
async fn stop_records_the_exit_code() {
    let h = FakeHost::new();
    let id = h.start(spec(false));
    stop_proc(&h, id).await.unwrap();
    assert_eq!(h.with(id, |j| j.counters().exit_code), Some(0));
}

#[tokio::test(start_paused = true)]
async fn kill_timeout_escalates_to_sigkill() {
    let h = FakeHost::new();
    *lock(&h.obeys) = Obeys::OnlySigkill;
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
    *lock(&h.obeys) = Obeys::Nothing;
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

/// restart from each state: stop, then a CLI start (`restart_time` + 1 only when it was up; the
/// unstable counters and created_at reset); a pending restart timer is cancelled.
#[rstest]
#[case::launching(Status::Launching, 1)]
#[case::online(Status::Online, 1)]
#[case::waiting_restart(Status::WaitingRestart, 1)]
#[case::stopped(Status::Stopped, 0)]
#[case::errored(Status::Errored, 0)]
#[tokio::test(start_paused = true)]
async fn restart_from_each_state(#[case] from: Status, #[case] restarts: u64) {
    let h = FakeHost::new();
    let id = job_in(&h, from).await;
    let before = h.spawned();
    restart_proc(&h, id).await.unwrap();
    assert_eq!(status(&h, id), Status::Online);
    assert_eq!(h.spawned(), before + 1);
    assert_eq!(pid(&h, id), h.child(before).pid);
    h.with(id, |j| {
        assert_eq!(j.counters().restart_time, restarts);
        assert_eq!(j.counters().unstable_restarts, 0);
        assert!(j.counters().created_at.is_some());
    });
    advance(60_000).await;
    assert_eq!(
        h.spawned(),
        before + 1,
        "no stale timer spawns a second one"
    );
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
    assert_eq!(restart_time(&h, id), 1);
    assert_eq!(h.child(0).log(), vec!["SIGINT", "group SIGKILL"]);
}

#[tokio::test(start_paused = true)]
async fn restart_while_killing_stops_and_refuses_to_start() {
    let h = FakeHost::new();
    let id = h.start(spec(false));
    h.set_killing();
    assert_eq!(restart_proc(&h, id).await, Err(JobError::Killing));
    assert_eq!(status(&h, id), Status::Stopped);
    assert_eq!(h.spawned(), 1);
}

#[tokio::test(start_paused = true)]
async fn unknown_ids_are_refused_with_pm2s_wording() {
    let h = FakeHost::new();
    let err = JobError::UnknownId(9);
    assert_eq!(stop_proc(&h, 9).await, Err(err.clone()));
    assert_eq!(restart_proc(&h, 9).await, Err(err.clone()));
    assert!(matches!(reload_proc(&h, 9).await, Err(e) if e == err));
    assert_eq!(err.to_string(), "9 : id unknown");
}
