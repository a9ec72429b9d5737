//! The per-instance state machine: exits and autorestart (PM2's `handleExit`), stop with signal and
//! grace period, restart, and waiting for readiness.

use std::sync::Arc;
use std::time::Duration;

use nix::sys::signal::Signal;
use tokio::time::Instant;

use super::Daemon;
use super::spawn::{DEFAULT_LISTEN_TIMEOUT, launch};
use super::table::{Flags, Running, Status, now_ms};

/// Default kill_timeout (ms).
pub const DEFAULT_KILL_TIMEOUT: u64 = 1600;
const DEFAULT_MIN_UPTIME: u64 = 1000;
const DEFAULT_MAX_RESTARTS: u64 = 16;
const BACKOFF_CAP: u64 = 15000;

/// Handles the exit of the worker of generation `generation` (ignored when it is no longer current).
pub fn on_exit(
    d: &Arc<Daemon>,
    pm_id: u32,
    generation: u64,
    code: Option<i32>,
    signal: Option<i32>,
) {
    let mut t = d.table.lock().unwrap();
    let Some(p) = t.procs.get_mut(&pm_id) else {
        return;
    };
    if p.generation != generation {
        return;
    }
    tracing::info!(
        "App [{}:{}] exited with code [{}] via signal [{}]",
        p.spec.name,
        pm_id,
        code.unwrap_or(0),
        signal.map(|s| s.to_string()).unwrap_or_default()
    );
    super::persist::remove_pid_file(&p.pid_file);
    p.exit_code = Some(code.unwrap_or(0));
    p.running = None;
    let stopping = matches!(
        p.status,
        Status::Stopping | Status::Stopped | Status::Errored
    ) || !p.spec.autorestart
        || d.is_killing();
    if stopping {
        if !matches!(p.status, Status::Stopping | Status::Errored) {
            p.status = Status::Stopped;
            p.pid = 0;
        }
        d.bump();
        return;
    }
    let now = now_ms();
    let min_uptime = p.spec.min_uptime.unwrap_or(DEFAULT_MIN_UPTIME);
    let max_restarts = p.spec.max_restarts.unwrap_or(DEFAULT_MAX_RESTARTS);
    let in_window = p
        .created_at
        .is_some_and(|c| now.saturating_sub(c) < min_uptime.saturating_mul(max_restarts));
    if in_window && now.saturating_sub(p.pm_uptime) < min_uptime {
        p.unstable_restarts += 1;
    }
    if p.unstable_restarts >= max_restarts {
        tracing::warn!(
            "Script {} had too many unstable restarts ({}). Stopped. \"errored\"",
            p.spec.script.display(),
            p.unstable_restarts
        );
        p.status = Status::Errored;
        p.pid = 0;
        p.unstable_restarts = 0;
        p.created_at = None;
        d.bump();
        return;
    }
    let delay = if let Some(base) = p.spec.exp_backoff_restart_delay {
        let next = if p.prev_restart_delay == 0 {
            base
        } else {
            ((p.prev_restart_delay as f64) * 1.5).floor() as u64
        }
        .min(BACKOFF_CAP);
        p.prev_restart_delay = next;
        p.status = Status::WaitingRestart;
        next
    } else if let Some(delay) = p.spec.restart_delay {
        p.status = Status::WaitingRestart;
        delay
    } else {
        p.status = Status::Stopped;
        p.pid = 0;
        0
    };
    if delay > 0 {
        tracing::info!(
            "App [{}:{}] will restart in {}ms",
            p.spec.name,
            pm_id,
            delay
        );
    }
    let dd = d.clone();
    p.restart_task = Some(tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(delay)).await;
        let mut t = dd.table.lock().unwrap();
        let Some(p) = t.procs.get_mut(&pm_id) else {
            return;
        };
        if p.generation != generation
            || !matches!(p.status, Status::WaitingRestart | Status::Stopped)
            || dd.is_killing()
        {
            return;
        }
        p.restart_task = None;
        p.restart_time += 1;
        let _ = launch(&dd, p);
    }));
    d.bump();
}

/// Waits until `cond` holds for the flags or the deadline passes; returns the last flags.
pub async fn wait_flags(
    rx: &mut tokio::sync::watch::Receiver<Flags>,
    deadline: Instant,
    cond: impl Fn(&Flags) -> bool,
) -> (bool, Flags) {
    loop {
        let f = rx.borrow_and_update().clone();
        if cond(&f) {
            return (true, f);
        }
        match tokio::time::timeout_at(deadline, rx.changed()).await {
            Ok(Ok(())) => continue,
            // Sender gone: the monitor ended; the final flags are in place.
            Ok(Err(_)) => {
                let f = rx.borrow().clone();
                return (cond(&f), f);
            }
            Err(_) => return (false, rx.borrow().clone()),
        }
    }
}

/// Signals a worker to stop (SIGINT or the `shutdown` message), escalates to SIGKILL of its process
/// group after `kill_timeout`; returns true once it is dead.
pub async fn kill_worker(r: &Running, kill_timeout: u64, with_message: bool) -> bool {
    let mut rx = r.flags.clone();
    if rx.borrow().exited.is_some() {
        let _ = r.worker.signal_group(Signal::SIGKILL);
        return true;
    }
    let sent_message = with_message && r.worker.send(serde_json::json!("shutdown")).is_ok();
    if !sent_message {
        let _ = r.worker.signal(Signal::SIGINT);
    }
    let grace = Duration::from_millis(kill_timeout);
    let (dead, _) = wait_flags(&mut rx, Instant::now() + grace, |f| f.exited.is_some()).await;
    if dead {
        // Anything left in its group (children) goes too.
        let _ = r.worker.signal_group(Signal::SIGKILL);
        return true;
    }
    tracing::warn!(
        "Process with pid {} still alive after {}ms, sending SIGKILL",
        r.worker.pid(),
        kill_timeout
    );
    let _ = r.worker.signal_group(Signal::SIGKILL);
    let _ = r.worker.signal(Signal::SIGKILL);
    let (dead, _) = wait_flags(
        &mut rx,
        Instant::now() + grace.max(Duration::from_secs(2)),
        |f| f.exited.is_some(),
    )
    .await;
    dead
}

/// Stops one pm_id (it stays in the table, `stopped`, pid 0). Caller holds the op lock.
pub async fn stop_proc(d: &Arc<Daemon>, pm_id: u32) -> Result<(), String> {
    let (running, timeout, msg) = {
        let mut t = d.table.lock().unwrap();
        let p = t
            .procs
            .get_mut(&pm_id)
            .ok_or_else(|| format!("{pm_id} : id unknown"))?;
        if let Some(task) = p.restart_task.take() {
            task.abort();
        }
        let running = p.running.clone();
        if running.is_none() || matches!(p.status, Status::Stopped | Status::Errored) {
            if p.status != Status::Errored {
                p.status = Status::Stopped;
            }
            p.pid = 0;
            p.running = None;
            d.bump();
            return Ok(());
        }
        tracing::info!("Stopping app:{} id:{}", p.spec.name, pm_id);
        p.status = Status::Stopping;
        d.bump();
        (
            running,
            p.spec.kill_timeout.unwrap_or(DEFAULT_KILL_TIMEOUT),
            p.spec.shutdown_with_message,
        )
    };
    let dead = match &running {
        Some(r) => kill_worker(r, timeout, msg).await,
        None => true,
    };
    let mut t = d.table.lock().unwrap();
    if let Some(p) = t.procs.get_mut(&pm_id) {
        p.status = if dead {
            Status::Stopped
        } else {
            Status::Errored
        };
        if !dead {
            tracing::error!("app={} id={} could not be stopped", p.spec.name, pm_id);
        }
        p.pid = 0;
        p.running = None;
        super::persist::remove_pid_file(&p.pid_file);
    }
    d.bump();
    if dead {
        Ok(())
    } else {
        Err(format!("process {pm_id} could not be stopped"))
    }
}

/// Starts a stopped pm_id again (PM2's restart path: counters per §3.3). Returns its generation.
pub fn start_again(d: &Arc<Daemon>, pm_id: u32, was_up: bool) -> Result<u64, String> {
    let mut t = d.table.lock().unwrap();
    let p = t
        .procs
        .get_mut(&pm_id)
        .ok_or_else(|| format!("{pm_id} : id unknown"))?;
    if was_up {
        p.restart_time += 1;
    }
    p.created_at = Some(now_ms());
    p.unstable_restarts = 0;
    p.prev_restart_delay = 0;
    launch(d, p).map_err(|e| format!("Process failed to launch: {e}"))?;
    Ok(p.generation)
}

/// Restart = stop then start. Caller holds the op lock. Waits for readiness.
pub async fn restart_proc(d: &Arc<Daemon>, pm_id: u32) -> Result<(), String> {
    let was_up = {
        let t = d.table.lock().unwrap();
        let p = t
            .procs
            .get(&pm_id)
            .ok_or_else(|| format!("{pm_id} : id unknown"))?;
        p.status.is_up() || p.status == Status::WaitingRestart
    };
    stop_proc(d, pm_id).await?;
    if d.is_killing() {
        return Err("daemon is being killed".into());
    }
    let generation = start_again(d, pm_id, was_up)?;
    wait_started(d, &[(pm_id, generation)]).await;
    Ok(())
}

/// Waits until each (pm_id, generation) has left `launching` (online, exited, or replaced).
pub async fn wait_started(d: &Arc<Daemon>, ids: &[(u32, u64)]) {
    let max_timeout = {
        let t = d.table.lock().unwrap();
        ids.iter()
            .filter_map(|(id, _)| t.procs.get(id))
            .map(|p| p.spec.listen_timeout.unwrap_or(DEFAULT_LISTEN_TIMEOUT))
            .max()
            .unwrap_or(DEFAULT_LISTEN_TIMEOUT)
    };
    let deadline = Instant::now() + Duration::from_millis(max_timeout + 2000);
    d.wait_until(deadline, |t| {
        ids.iter().all(|(id, generation)| match t.procs.get(id) {
            Some(p) => p.generation != *generation || p.status != Status::Launching,
            None => true,
        })
    })
    .await;
}
