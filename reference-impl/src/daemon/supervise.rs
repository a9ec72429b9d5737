//! Supervising one worker: spawning it for a job (the process itself comes from the [`Host`]), turning
//! its [`WorkerEvent`]s into the job's transitions (readiness, listen_timeout, exit), and PM2's
//! `handleExit` effects (autorestart at once or after a timer). `lifecycle` and `reload` build on this
//! module; it depends on neither.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::child::{Exit, Flags, Running};
use super::host::Host;
use super::job::{
    DEFAULT_LISTEN_TIMEOUT, DEFAULT_MAX_RESTARTS, ExitStep, Job, JobError, Launch, RestartTimer,
};
use crate::cluster::WorkerEvent;

/// Spawns a worker for `p` without installing it (the job does not change). Its events only reach
/// the job while its generation is the job's current one; `listen_timeout` later it is marked online
/// anyway (PM2).
pub fn spawn_worker<H: Host>(h: &Arc<H>, p: &Job) -> std::io::Result<Running> {
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
    let deadline = Instant::now() + Duration::from_millis(timeout);
    tokio::spawn(async move {
        tokio::time::sleep_until(deadline).await;
        mark_online(&*hh, pm_id, generation);
    });
    Ok(running)
}

/// Spawns and installs a worker as `p`'s current one (`launching`, or `online` for fork apps without
/// wait_ready); on failure the job is `errored`.
pub fn launch<H: Host>(h: &Arc<H>, p: &mut Job, kind: Launch) -> Result<(), JobError> {
    let spawned = spawn_worker(h, p);
    if let Err(e) = &spawned {
        tracing::error!("pm_id {} failed to launch: {e}", p.pm_id);
    }
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
    on_exit(&h, pm_id, generation, exit);
    tx.send_modify(|f| f.exited = Some(exit));
    h.bump();
}

/// Handles the exit of the worker of generation `generation` (ignored when it is no longer current).
pub fn on_exit<H: Host>(h: &Arc<H>, pm_id: u32, generation: u64, exit: Exit) {
    let mut t = h.table();
    let Some(p) = t.jobs.get_mut(&pm_id) else {
        return;
    };
    let step = p.on_exit(generation, exit, h.now_ms(), h.is_killing());
    if step == ExitStep::Ignored {
        return;
    }
    tracing::info!(
        "App [{}:{}] exited with code [{}] via signal [{}]",
        p.spec.name,
        pm_id,
        exit.code.unwrap_or(0),
        exit.signal.map(|s| s.to_string()).unwrap_or_default()
    );
    h.pid_file_removed(p);
    match step {
        ExitStep::Errored => tracing::warn!(
            "Script {} had too many unstable restarts ({}). Stopped. \"errored\"",
            p.spec.script.display(),
            p.spec.max_restarts.unwrap_or(DEFAULT_MAX_RESTARTS)
        ),
        ExitStep::Restart { delay_ms: 0, .. } => {
            let _ = launch(h, p, Launch::Autorestart);
        }
        ExitStep::Restart {
            delay_ms,
            token,
            last_pid,
        } => {
            tracing::info!(
                "App [{}:{}] will restart in {}ms",
                p.spec.name,
                pm_id,
                delay_ms
            );
            let hh = h.clone();
            let due = Instant::now() + Duration::from_millis(delay_ms);
            let task = tokio::spawn(async move {
                tokio::time::sleep_until(due).await;
                let mut t = hh.table();
                let Some(p) = t.jobs.get_mut(&pm_id) else {
                    return;
                };
                if hh.is_killing() || !p.restart_due(token) {
                    return;
                }
                let _ = launch(&hh, p, Launch::Autorestart);
            });
            let timer = RestartTimer::new(token, delay_ms, task.abort_handle());
            if let Err(e) = p.wait_restart(last_pid, timer) {
                tracing::error!("{e}");
            }
        }
        ExitStep::Ignored | ExitStep::Stopping | ExitStep::Stopped => {}
    }
    drop(t);
    h.bump();
}
