//! Transitions that do not apply to a state are refused with a typed error and change nothing.

use rstest::rstest;

use super::super::child::Exit;
use super::super::fake::{FakeHost, spec};
use super::super::host::Host;
use super::super::job::{ExitStep, Job, JobError, JobInit, JobState, Launch, RestartTimer};
use super::super::supervise::spawn_worker;
use super::{job_in, settle, status};
use crate::daemon::table::Status;

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
fn a_new_job_is_stopped_and_refuses_what_needs_a_worker() {
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
    assert_eq!(j.pid(), 0);
}

#[test]
fn a_failed_launch_is_errored_and_stays_errored_when_stopped() {
    let mut j = bare_job();
    let err = j
        .launched(Launch::New, Err(std::io::Error::other("boom")), 0)
        .unwrap_err();
    assert_eq!(err.to_string(), "Process failed to launch: boom");
    assert!(j.begin_stop().is_none());
    assert_eq!(j.status(), Status::Errored);
}

/// A second worker cannot be launched while one runs.
#[rstest]
#[case::launching(Status::Launching)]
#[case::online(Status::Online)]
#[case::stopping(Status::Stopping)]
#[tokio::test(start_paused = true)]
async fn launching_over_a_live_worker_is_refused(#[case] from: Status) {
    let h = FakeHost::new();
    let id = job_in(&h, from).await;
    let mut t = h.table();
    let j = t.jobs.get_mut(&id).unwrap();
    let extra = spawn_worker(&h, j).unwrap();
    let err = j.launched(Launch::Autorestart, Ok(extra), 0).unwrap_err();
    assert!(matches!(err, JobError::InvalidTransition { .. }), "{err}");
    assert_eq!(j.status(), from);
    assert_eq!(j.counters().restart_time, 0, "nothing counted");
}

/// The reload swap needs a running (or restarting) job and a live replacement.
#[rstest]
#[case::stopped(Status::Stopped, false)]
#[case::errored(Status::Errored, false)]
#[case::stopping(Status::Stopping, false)]
#[case::online_but_the_replacement_exited(Status::Online, true)]
#[tokio::test(start_paused = true)]
async fn swap_is_refused(#[case] from: Status, #[case] exited: bool) {
    let h = FakeHost::new();
    let id = job_in(&h, from).await;
    let new = {
        let t = h.table();
        spawn_worker(&h, &t.jobs[&id]).unwrap()
    };
    if exited {
        h.child(h.spawned() - 1).exit(0);
        settle().await;
    }
    let now = h.now_ms();
    let res = h.table().jobs.get_mut(&id).unwrap().swap(new, now);
    assert!(matches!(res, Err(JobError::InvalidTransition { .. })));
    assert_eq!(status(&h, id), from);
}

#[tokio::test(start_paused = true)]
async fn swap_from_waiting_restart_installs_the_replacement() {
    let h = FakeHost::new();
    let id = job_in(&h, Status::WaitingRestart).await;
    let new = {
        let t = h.table();
        spawn_worker(&h, &t.jobs[&id]).unwrap()
    };
    let now = h.now_ms();
    let old = h.table().jobs.get_mut(&id).unwrap().swap(new, now).unwrap();
    assert!(old.is_none(), "no worker ran");
    assert_eq!(status(&h, id), Status::Online);
    assert_eq!(h.with(id, |j| j.pid()), h.child(1).pid);
}

/// Arming a restart needs a `stopped` job; a stale timer token is not due.
#[tokio::test(start_paused = true)]
async fn wait_restart_and_restart_due_refuse_what_does_not_apply() {
    let h = FakeHost::new();
    let id = job_in(&h, Status::Online).await;
    let task = tokio::spawn(async {});
    let timer = RestartTimer::new(1, 10, task.abort_handle());
    {
        let mut t = h.table();
        let j = t.jobs.get_mut(&id).unwrap();
        assert!(matches!(
            j.wait_restart(1, timer),
            Err(JobError::InvalidTransition { .. })
        ));
        assert_eq!(j.status(), Status::Online);
    }
    let id = job_in(&h, Status::WaitingRestart).await;
    let mut t = h.table();
    let j = t.jobs.get_mut(&id).unwrap();
    let token = match j.state() {
        JobState::WaitingRestart { timer, .. } => timer.token,
        _ => unreachable!(),
    };
    assert!(!j.restart_due(token + 1), "a stale token");
    assert_eq!(j.status(), Status::WaitingRestart);
    assert!(j.restart_due(token));
    assert_eq!(j.status(), Status::Stopped);
}
