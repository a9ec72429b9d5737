//! The reload step: the replacement serves before the old worker drains; aborts keep the old one;
//! fork apps and stopped jobs are restarted instead.

use rstest::rstest;

use super::super::fake::{FakeHost, spec};
use super::super::job::JobError;
use super::super::reload::{ReloadOutcome, reload_proc};
use super::{advance, job_in, pid, restart_time, settle, status};
use crate::cluster::WorkerEvent;
use crate::daemon::table::Status;
use crate::protocol::reply::ReloadWarning;

/// A cluster job, online and listening.
async fn serving(h: &std::sync::Arc<FakeHost>, wait_ready: bool) -> u32 {
    let mut s = spec(true);
    s.wait_ready = wait_ready;
    s.listen_timeout = Some(1000);
    let id = h.start(s);
    h.child(0).listen();
    if wait_ready {
        h.child(0)
            .emit(WorkerEvent::Message(serde_json::json!("ready")));
    }
    settle().await;
    assert_eq!(status(h, id), Status::Online);
    id
}

#[tokio::test(start_paused = true)]
async fn reload_starts_the_new_worker_before_draining_the_old() {
    let h = FakeHost::new();
    let id = serving(&h, false).await;
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
    assert_eq!(restart_time(&h, id), 1);
    assert_eq!(h.spawned(), 2, "the old worker's exit does not autorestart");
}

#[tokio::test(start_paused = true)]
async fn reload_keeps_the_old_worker_when_the_new_one_crashes() {
    let h = FakeHost::new();
    let id = serving(&h, false).await;
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
    assert!(
        err.to_string()
            .contains("exited before it was ready (code 1)"),
        "{err}"
    );
    assert_eq!(status(&h, id), Status::Online);
    assert_eq!(pid(&h, id), h.child(0).pid);
    assert!(h.child(0).log().is_empty());
    assert_eq!(restart_time(&h, id), 0);
}

/// A replacement that never listens (the old one did) is given two listen_timeouts, then killed.
#[tokio::test(start_paused = true)]
async fn reload_aborts_when_the_new_worker_never_listens() {
    let h = FakeHost::new();
    let id = serving(&h, false).await;
    let hh = h.clone();
    let reload = tokio::spawn(async move { reload_proc(&hh, id).await });
    settle().await;
    advance(1999).await;
    assert!(
        !reload.is_finished(),
        "one more listen_timeout for a slow boot"
    );
    advance(1).await;
    let err = match reload.await.unwrap() {
        Err(e) => e,
        Ok(_) => panic!("the reload should fail"),
    };
    assert!(
        err.to_string()
            .contains("did not listen within listen_timeout (1000ms)"),
        "{err}"
    );
    assert_eq!(pid(&h, id), h.child(0).pid);
    assert_eq!(h.child(1).log(), vec!["SIGINT", "group SIGKILL"]);
    assert!(h.child(0).log().is_empty());
}

/// wait_ready: a replacement that listens but never says `ready` replaces the old one with a warning.
#[tokio::test(start_paused = true)]
async fn reload_proceeds_with_a_warning_when_ready_never_comes() {
    let h = FakeHost::new();
    let id = serving(&h, true).await;
    let hh = h.clone();
    let reload = tokio::spawn(async move { reload_proc(&hh, id).await });
    settle().await;
    h.child(1).listen();
    settle().await;
    advance(1000).await;
    let warning = match reload.await.unwrap() {
        Ok(ReloadOutcome::Replaced(Some(w))) => w,
        _ => panic!("replaced with a warning expected"),
    };
    assert_eq!(
        warning,
        ReloadWarning::NoReadyMessage {
            name: "app".into(),
            pm_id: id,
            listen_timeout: 1000
        }
    );
    assert_eq!(pid(&h, id), h.child(1).pid);
    assert_eq!(status(&h, id), Status::Online);
}

/// The old worker crashes during the reload and is autorestarted: the replacement takes over from
/// that one, which is stopped too.
#[tokio::test(start_paused = true)]
async fn reload_replaces_a_worker_autorestarted_meanwhile() {
    let h = FakeHost::new();
    let id = serving(&h, false).await;
    let hh = h.clone();
    let reload = tokio::spawn(async move { reload_proc(&hh, id).await });
    settle().await;
    h.child(0).exit(1);
    settle().await;
    assert_eq!(h.spawned(), 3, "the crashed old worker was autorestarted");
    h.child(1).listen();
    settle().await;
    assert!(matches!(
        reload.await.unwrap(),
        Ok(ReloadOutcome::Replaced(None))
    ));
    assert_eq!(pid(&h, id), h.child(1).pid);
    assert_eq!(h.child(2).log(), vec!["SIGINT", "group SIGKILL"]);
    assert_eq!(h.spawned(), 3);
}

/// Fork apps and jobs that are not online are restarted instead of reloaded.
#[rstest]
#[case::fork_online(Status::Online)]
#[case::fork_launching(Status::Launching)]
#[case::stopped(Status::Stopped)]
#[case::errored(Status::Errored)]
#[case::waiting_restart(Status::WaitingRestart)]
#[tokio::test(start_paused = true)]
async fn reload_restarts_what_it_cannot_reload(#[case] from: Status) {
    let h = FakeHost::new();
    let id = job_in(&h, from).await;
    let before = h.spawned();
    assert!(matches!(
        reload_proc(&h, id).await,
        Ok(ReloadOutcome::Restarted)
    ));
    assert_eq!(status(&h, id), Status::Online);
    assert_eq!(h.spawned(), before + 1);
    assert_eq!(pid(&h, id), h.child(before).pid);
}
