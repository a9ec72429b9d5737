//! start and readiness: `launching` → `online` by listening, `ready`, or listen_timeout; events that
//! are not readiness; readiness of a replaced worker.

use rstest::rstest;

use super::super::fake::{FakeHost, spec};
use super::super::job::{ErrorCause, JobState};
use super::super::lifecycle::restart_proc;
use super::super::supervise::mark_online;
use super::{advance, settle, status};
use crate::cluster::WorkerEvent;
use crate::daemon::table::Status;

#[rstest]
#[case::fork(false, false, Status::Online)]
#[case::cluster(true, false, Status::Launching)]
#[case::fork_wait_ready(false, true, Status::Launching)]
#[case::cluster_wait_ready(true, true, Status::Launching)]
#[tokio::test(start_paused = true)]
async fn start_is_online_only_for_fork_apps_without_wait_ready(
    #[case] cluster: bool,
    #[case] wait_ready: bool,
    #[case] want: Status,
) {
    let h = FakeHost::new();
    let mut s = spec(cluster);
    s.wait_ready = wait_ready;
    let id = h.start(s);
    assert_eq!(status(&h, id), want);
    assert_eq!(h.spawned(), 1);
    h.with(id, |j| {
        assert_eq!(j.pid(), h.child(0).pid);
        assert_eq!(j.counters().restart_time, 0, "a first start is no restart");
    });
}

#[tokio::test(start_paused = true)]
async fn a_failed_spawn_makes_the_job_errored() {
    let h = FakeHost::new();
    h.fail_spawn
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let id = h.start(spec(false));
    assert_eq!(status(&h, id), Status::Errored);
    h.with(id, |j| {
        assert!(matches!(
            j.state(),
            JobState::Errored {
                cause: ErrorCause::LaunchFailed(why)
            } if why == "no such program"
        ));
        assert_eq!(j.pid(), 0);
    });
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

/// On message: only the readiness the app was configured for puts it online.
#[rstest]
#[case::online_event(false, WorkerEvent::Online, Status::Launching)]
#[case::ready_without_wait_ready(false, WorkerEvent::Message(serde_json::json!("ready")), Status::Launching)]
#[case::other_message(true, WorkerEvent::Message(serde_json::json!("hello")), Status::Launching)]
#[case::ready_as_an_object(true, WorkerEvent::Message(serde_json::json!({"type": "ready"})), Status::Launching)]
#[case::server_closed(false, WorkerEvent::ServerClosed, Status::Launching)]
#[case::channel_closed(false, WorkerEvent::ChannelClosed, Status::Launching)]
#[case::listening(false, WorkerEvent::Listening { address: "::".into(), port: 1, udp: false }, Status::Online)]
#[case::listening_with_wait_ready(true, WorkerEvent::Listening { address: "::".into(), port: 1, udp: false }, Status::Launching)]
#[case::ready_with_wait_ready(true, WorkerEvent::Message(serde_json::json!("ready")), Status::Online)]
#[tokio::test(start_paused = true)]
async fn on_message_only_readiness_puts_a_worker_online(
    #[case] wait_ready: bool,
    #[case] ev: WorkerEvent,
    #[case] want: Status,
) {
    let h = FakeHost::new();
    let mut s = spec(true);
    s.wait_ready = wait_ready;
    let id = h.start(s);
    h.child(0).emit(ev);
    settle().await;
    assert_eq!(status(&h, id), want);
    assert_eq!(h.spawned(), 1, "no event but an exit spawns anything");
}

#[rstest]
#[case::cluster(false)]
#[case::wait_ready(true)]
#[tokio::test(start_paused = true)]
async fn listen_timeout_puts_a_silent_worker_online(#[case] wait_ready: bool) {
    let h = FakeHost::new();
    let mut s = spec(true);
    s.listen_timeout = Some(2000);
    s.wait_ready = wait_ready;
    let id = h.start(s);
    advance(1999).await;
    assert_eq!(status(&h, id), Status::Launching);
    advance(1).await;
    assert_eq!(status(&h, id), Status::Online);
}

#[tokio::test(start_paused = true)]
async fn readiness_of_a_replaced_worker_is_ignored() {
    let h = FakeHost::new();
    let mut s = spec(true);
    s.listen_timeout = Some(3000);
    let id = h.start(s);
    advance(2000).await;
    let hh = h.clone();
    let restart = tokio::spawn(async move { restart_proc(&hh, id).await });
    settle().await;
    assert_eq!(h.spawned(), 2);
    let old = h.child(0).generation;
    mark_online(&*h, id, old);
    assert_eq!(status(&h, id), Status::Launching, "the old worker's listen");
    advance(1000).await;
    assert_eq!(
        status(&h, id),
        Status::Launching,
        "the old worker's listen_timeout fired: it is not the current worker"
    );
    advance(1999).await;
    assert_eq!(status(&h, id), Status::Launching);
    advance(1).await;
    assert_eq!(
        status(&h, id),
        Status::Online,
        "the new one's listen_timeout"
    );
    assert_eq!(restart.await.unwrap(), Ok(()));
}
