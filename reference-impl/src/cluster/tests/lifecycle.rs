//! Messages, graceful disconnect, reload without closing the socket, release, plain fork children.

use serde_json::json;

use super::harness::*;
use crate::cluster::{LbPolicy, WorkerEvent};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_message_arrives_and_user_message_reaches_the_app() {
    let mut rig = Rig::new();
    let app = rig.write("app.js", HTTP_APP);
    let port = free_port();
    let (w, mut rx) = rig.spawn(&app, &[port.to_string()], "msg", Some(LbPolicy::Rr));
    let ready = wait_msg(&mut rx, "ready", |v| v.is_string()).await;
    assert_eq!(ready, json!("ready"));
    w.send(json!("shutdown")).unwrap();
    assert_eq!(
        wait_msg(&mut rx, "echo", |v| v.get("got").is_some()).await,
        json!({"got": "shutdown"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_lets_the_inflight_request_finish_then_exits_zero() {
    let mut rig = Rig::new();
    let app = rig.write("app.js", HTTP_APP);
    let port = free_port();
    let (w, mut rx) = rig.spawn(
        &app,
        &[port.to_string(), "1500".into()],
        "slow",
        Some(LbPolicy::Rr),
    );
    wait_msg(&mut rx, "ready", |v| v == "ready").await;
    let slow = tokio::spawn(http_get(port, "/slow"));
    wait_msg(&mut rx, "slow request started", |v| v.get("slow").is_some()).await;
    w.disconnect().unwrap();
    let body = slow.await.unwrap().unwrap();
    assert_eq!(body, format!("slow {}", w.pid()));
    let (ev, seen) = wait_for(&mut rx, "exit", |e| matches!(e, WorkerEvent::Exited { .. })).await;
    assert_eq!(
        ev,
        WorkerEvent::Exited {
            code: Some(0),
            signal: None
        }
    );
    assert!(seen.contains(&WorkerEvent::ServerClosed), "{seen:?}");
    assert!(seen.contains(&WorkerEvent::ChannelClosed), "{seen:?}");
    assert!(!w.is_alive());
    assert!(rx.recv().await.is_none(), "exited is the last event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_keeps_the_listening_socket_and_release_closes_it() {
    let mut rig = Rig::new();
    let app = rig.write("app.js", HTTP_APP);
    let port = free_port();
    let (old, mut rx_old) = rig.spawn(&app, &[port.to_string()], "rl", Some(LbPolicy::Rr));
    wait_msg(&mut rx_old, "ready old", |v| v == "ready").await;
    // Connections keep being served while the old worker is replaced (one client, back to back,
    // until the old worker is gone; bounded count).
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = tokio::spawn({
        let stop = stop.clone();
        async move {
            let mut bodies = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && bodies.len() < 5000 {
                bodies.push(http_get(port, "/").await);
            }
            bodies
        }
    });
    let (new, mut rx_new) = rig.spawn(&app, &[port.to_string()], "rl", Some(LbPolicy::Rr));
    wait_msg(&mut rx_new, "ready new", |v| v == "ready").await;
    old.disconnect().unwrap();
    assert_eq!(wait_exit(&mut rx_old).await, (Some(0), None));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let bodies = load.await.unwrap();
    let errors: Vec<_> = bodies.iter().filter(|b| b.is_err()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(http_get(port, "/").await.unwrap(), new.pid().to_string());

    // The app stops: once released and unused, the port is free again.
    new.disconnect().unwrap();
    assert_eq!(wait_exit(&mut rx_new).await, (Some(0), None));
    assert_eq!(
        rig.balancer.open_keys(),
        1,
        "kept open until the group is released"
    );
    rig.balancer.release_group("rl");
    assert_eq!(rig.balancer.open_keys(), 0);
    let deadline = std::time::Instant::now() + DEADLINE;
    while std::net::TcpListener::bind(("::", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "port {port} still bound"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fork_child_with_channel_gets_and_sends_messages() {
    let mut rig = Rig::new();
    let app = rig.write(
        "fork.js",
        r#"
const cluster = require('cluster');
process.send({ isWorker: cluster.isWorker, env: Object.keys(process.env).filter((k) => k.startsWith('NODE_')) });
process.on('message', (m) => { process.send({ got: m }); if (m === 'shutdown') process.exit(0); });
"#,
    );
    let (w, mut rx) = rig.spawn(&app, &[], "fork", None);
    let info = wait_msg(&mut rx, "info", |v| v.get("isWorker").is_some()).await;
    assert_eq!(info, json!({"isWorker": false, "env": []}));
    w.send(json!({"unicode": "héllo ✓"})).unwrap();
    assert_eq!(
        wait_msg(&mut rx, "echo", |v| v.get("got").is_some()).await,
        json!({"got": {"unicode": "héllo ✓"}})
    );
    w.send(json!("shutdown")).unwrap();
    assert_eq!(wait_exit(&mut rx).await, (Some(0), None));
    assert!(w.send(json!("late")).is_err() || !w.is_alive());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signal_group_reaches_the_whole_tree() {
    let mut rig = Rig::new();
    let app = rig.write(
        "tree.js",
        r#"
const { spawn } = require('child_process');
const c = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
process.send({ grandchild: c.pid });
setInterval(() => {}, 1000);
"#,
    );
    let (w, mut rx) = rig.spawn(&app, &[], "tree", None);
    let gc =
        wait_msg(&mut rx, "grandchild pid", |v| v.get("grandchild").is_some()).await["grandchild"]
            .as_i64()
            .unwrap() as i32;
    w.signal_group(nix::sys::signal::Signal::SIGTERM).unwrap();
    assert_eq!(wait_exit(&mut rx).await, (None, Some(libc::SIGTERM)));
    let deadline = std::time::Instant::now() + DEADLINE;
    // The grandchild is not ours to reap: it is gone (or a zombie of the dead parent, re-parented).
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{gc}/stat")).unwrap_or_default();
        let state = stat
            .rsplit(')')
            .next()
            .and_then(|s| s.split_whitespace().next());
        if stat.is_empty() || state == Some("Z") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "grandchild {gc} survived: {stat}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        w.signal(nix::sys::signal::Signal::SIGTERM),
        Err(nix::errno::Errno::ESRCH)
    );
}

fn plain_spec(dir: &std::path::Path, program: &str, args: &[&str]) -> crate::cluster::WorkerSpec {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("plain.log"))
        .unwrap();
    crate::cluster::WorkerSpec {
        program: program.into(),
        args: args.iter().map(Into::into).collect(),
        cwd: dir.to_owned(),
        env: vec![
            ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
            ("NODE_UNIQUE_ID".into(), "99".into()),
        ],
        ipc: false,
        cluster: None,
        stdout: log.try_clone().unwrap(),
        stderr: log,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn process_without_channel_reports_exit_code_and_env_is_complete() {
    let rig = Rig::new();
    let spec = plain_spec(
        rig.dir.path(),
        "sh",
        &[
            "-c",
            "echo \"[$NODE_UNIQUE_ID][$NODE_CHANNEL_FD][$(pwd)]\"; read x; exit 7",
        ],
    );
    let (w, mut rx) = crate::cluster::Worker::spawn(spec, rig.balancer.clone()).unwrap();
    assert!(w.send(json!("x")).is_err());
    assert!(w.disconnect().is_err());
    // stdin is /dev/null: `read` returns at once.
    assert_eq!(wait_exit(&mut rx).await, (Some(7), None));
    assert!(rx.recv().await.is_none());
    let out = std::fs::read_to_string(rig.dir.path().join("plain.log")).unwrap();
    let cwd = rig.dir.path().canonicalize().unwrap();
    assert_eq!(out.trim(), format!("[][][{}]", cwd.display()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_program_is_an_error_naming_it() {
    let rig = Rig::new();
    let spec = plain_spec(rig.dir.path(), "/nonexistent/refpm-no-such-program", &[]);
    let err = crate::cluster::Worker::spawn(spec, rig.balancer.clone())
        .err()
        .expect("spawn fails");
    assert!(err.to_string().contains("refpm-no-such-program"), "{err}");
    let mut spec = plain_spec(rig.dir.path(), "/nonexistent/x", &[]);
    spec.ipc = true;
    assert!(crate::cluster::Worker::spawn(spec, rig.balancer.clone()).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn children_inherit_only_stdio_and_the_channel() {
    let mut rig = Rig::new();
    let app = rig.write("app.js", HTTP_APP);
    let port = free_port();
    // A serving cluster worker first, so the daemon holds channels, a listener and connections.
    let (_w, mut rx) = rig.spawn(&app, &[port.to_string()], "fds", Some(LbPolicy::Rr));
    wait_msg(&mut rx, "ready", |v| v == "ready").await;
    let _conn = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    // And an fd this process holds without close-on-exec, as an inherited one would be.
    let (loose, _peer) = crate::node_ipc::sys::socketpair().unwrap();
    nix::fcntl::fcntl(
        &loose,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
    )
    .expect("clear FD_CLOEXEC");
    for (ipc, want) in [
        (false, vec!["0", "1", "2"]),
        (true, vec!["0", "1", "2", "3"]),
    ] {
        let mut spec = plain_spec(rig.dir.path(), "sleep", &["5"]);
        spec.ipc = ipc;
        let (p, mut prx) = crate::cluster::Worker::spawn(spec, rig.balancer.clone()).unwrap();
        // `sleep` may open files of its own for a moment while starting (locale data): a leaked fd
        // stays, so poll until the table matches or the deadline passes.
        let list = || {
            let mut fds: Vec<String> = std::fs::read_dir(format!("/proc/{}/fd", p.pid()))
                .map(|d| {
                    d.flatten()
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default();
            fds.sort_by_key(|f| f.parse::<u32>().unwrap_or(u32::MAX));
            fds
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
        let mut fds = list();
        while (fds != want
            || std::fs::read_to_string(format!("/proc/{}/comm", p.pid()))
                .unwrap_or_default()
                .trim()
                != "sleep")
            && std::time::Instant::now() < deadline
        {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            fds = list();
        }
        p.signal_group(nix::sys::signal::Signal::SIGKILL).unwrap();
        assert_eq!(wait_exit(&mut prx).await, (None, Some(libc::SIGKILL)));
        assert_eq!(fds, want, "ipc={ipc}");
    }
}
