//! Spawning one instance: its environment, log files, pid file, and the task that turns
//! [`WorkerEvent`]s into status changes.

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::Daemon;
use super::child::{Exit, Flags, Running};
use super::host::{Host, Started};
use super::job::{DEFAULT_LISTEN_TIMEOUT, Job, Launch};
use crate::cluster::{ClusterSpec, Worker, WorkerEvent, WorkerSpec};
use crate::config::ExecMode;

/// Variables a caller may carry that would confuse a Node child (the IPC/cluster handshake is ours).
const SCRUBBED: &[&str] = &[
    "NODE_UNIQUE_ID",
    "NODE_CHANNEL_FD",
    "NODE_CHANNEL_SERIALIZATION_MODE",
];

/// The complete environment of an instance: caller env ⊕ app env ⊕ PM2's keys.
pub fn build_env(home: &std::path::Path, p: &Job) -> Vec<(String, String)> {
    let mut env = p.caller_env.clone();
    for k in SCRUBBED {
        env.remove(*k);
    }
    env.extend(p.spec.env.clone());
    let s = &p.spec;
    let pm2 = [
        (s.instance_var.clone(), p.instance_value.to_string()),
        ("pm_id".into(), p.pm_id.to_string()),
        ("name".into(), s.name.clone()),
        ("namespace".into(), "default".into()),
        ("PM2_HOME".into(), home.display().to_string()),
        ("exec_mode".into(), s.exec_mode.as_str().into()),
        ("instances".into(), p.instances.to_string()),
        ("instance_var".into(), s.instance_var.clone()),
        ("unique_id".into(), p.unique_id.clone()),
        ("status".into(), "launching".into()),
        ("restart_time".into(), p.counters().restart_time.to_string()),
        (
            "unstable_restarts".into(),
            p.counters().unstable_restarts.to_string(),
        ),
        ("pm_exec_path".into(), s.script.display().to_string()),
        ("pm_cwd".into(), s.cwd.display().to_string()),
        ("pm_out_log_path".into(), p.out_log.display().to_string()),
        ("pm_err_log_path".into(), p.err_log.display().to_string()),
        ("pm_pid_path".into(), p.pid_file.display().to_string()),
        ("autorestart".into(), s.autorestart.to_string()),
    ];
    env.extend(pm2);
    let opt = |k: &str, v: Option<u64>| v.map(|v| (k.to_string(), v.to_string()));
    env.extend(
        [
            opt("kill_timeout", s.kill_timeout),
            opt("listen_timeout", s.listen_timeout),
            opt("max_restarts", s.max_restarts),
            opt("min_uptime", s.min_uptime),
            opt("restart_delay", s.restart_delay),
            opt("exp_backoff_restart_delay", s.exp_backoff_restart_delay),
        ]
        .into_iter()
        .flatten(),
    );
    if s.wait_ready {
        env.insert("wait_ready".into(), "true".into());
    }
    crate::drain::apply(&mut env, home, s);
    env.into_iter().collect()
}

/// Starts the real process of a job: log files opened in append mode, program and arguments, the
/// environment of [`build_env`], and the cluster identity for cluster apps.
pub fn start_worker(d: &Daemon, p: &Job, generation: u64) -> io::Result<Started> {
    let s = &p.spec;
    let open = |path: &std::path::Path| OpenOptions::new().create(true).append(true).open(path);
    let stdout = open(&p.out_log)?;
    let stderr = open(&p.err_log)?;
    let mut args: Vec<OsString> = s.program_args.iter().map(OsString::from).collect();
    if !s.script_is_program {
        args.push(s.script.clone().into_os_string());
    }
    args.extend(s.args.iter().map(OsString::from));
    let cluster = (s.exec_mode == ExecMode::ClusterMode).then(|| ClusterSpec {
        worker_id: generation,
        group: s.name.clone(),
        policy: s.lb_policy,
    });
    let spec = WorkerSpec {
        program: s.program.clone(),
        args,
        cwd: s.cwd.clone(),
        env: build_env(&d.home.root, p),
        ipc: s.is_node,
        cluster,
        stdout,
        stderr,
    };
    let (worker, events) = Worker::spawn(spec, d.balancer.clone())?;
    Ok((worker, events))
}

/// Spawns a worker for `p` without installing it (the job does not change). Its events only reach
/// the job while its generation is the job's current one; `listen_timeout` later it is marked online
/// anyway (PM2).
pub fn spawn_worker<H: Host>(h: &Arc<H>, p: &Job) -> io::Result<Running> {
    let generation = h.next_generation();
    let (worker, events) = h.start_child(p, generation)?;
    let (tx, rx) = watch::channel(Flags::default());
    let running = Running {
        worker,
        flags: rx,
        generation,
        since: h.now_ms(),
    };
    let timeout = p.spec.listen_timeout.unwrap_or(DEFAULT_LISTEN_TIMEOUT);
    tokio::spawn(monitor(
        h.clone(),
        p.pm_id,
        generation,
        p.spec.wait_ready,
        events,
        tx,
    ));
    let hh = h.clone();
    let pm_id = p.pm_id;
    let deadline = tokio::time::Instant::now() + Duration::from_millis(timeout);
    tokio::spawn(async move {
        tokio::time::sleep_until(deadline).await;
        mark_online(&*hh, pm_id, generation);
    });
    Ok(running)
}

/// Spawns and installs a worker as `p`'s current one (`launching`, or `online` for fork apps without
/// wait_ready); on failure the job is `errored`.
pub fn launch<H: Host>(h: &Arc<H>, p: &mut Job, kind: Launch) -> Result<(), super::job::JobError> {
    let spawned = spawn_worker(h, p).map_err(|e| {
        tracing::error!("pm_id {} failed to launch: {e}", p.pm_id);
        e.to_string()
    });
    let res = p.launched(kind, spawned, h.now_ms());
    if let Some(c) = p.child() {
        h.pid_file_written(p, c.pid());
    }
    h.bump();
    res
}

/// `launching` → `online` for the current worker of `pm_id`.
pub fn mark_online<H: Host + ?Sized>(h: &H, pm_id: u32, generation: u64) {
    let changed = h
        .table()
        .jobs
        .get_mut(&pm_id)
        .is_some_and(|p| p.mark_online(generation));
    if changed {
        h.bump();
    }
}

async fn monitor<H: Host>(
    h: Arc<H>,
    pm_id: u32,
    generation: u64,
    wait_ready: bool,
    mut events: mpsc::UnboundedReceiver<WorkerEvent>,
    tx: watch::Sender<Flags>,
) {
    let mut exit = Exit::default();
    while let Some(ev) = events.recv().await {
        match ev {
            WorkerEvent::Online => tx.send_modify(|f| f.online = true),
            WorkerEvent::Listening { .. } => {
                tx.send_modify(|f| f.listening = true);
                if !wait_ready {
                    mark_online(&*h, pm_id, generation);
                }
            }
            WorkerEvent::Message(v) => {
                if v.as_str() == Some("ready") {
                    tx.send_modify(|f| f.ready = true);
                    if wait_ready {
                        mark_online(&*h, pm_id, generation);
                    }
                }
            }
            WorkerEvent::ServerClosed => {}
            WorkerEvent::ChannelClosed => tx.send_modify(|f| f.channel_closed = true),
            WorkerEvent::Exited { code, signal } => {
                exit = Exit { code, signal };
                break;
            }
        }
        h.bump();
    }
    // The job sees the exit (and records its code) before anyone waiting on the flags wakes up.
    super::lifecycle::on_exit(&h, pm_id, generation, exit);
    tx.send_modify(|f| f.exited = Some(exit));
    h.bump();
}
