//! The effects around a job's CLI transitions: stop with signal and grace period, start again,
//! restart, and waiting for readiness (exits and autorestarts are `supervise`'s). Generic over [`Host`], so the
//! job tests drive exactly this code with fake children and paused time.

use std::sync::Arc;
use std::time::Duration;

use nix::sys::signal::Signal;
use tokio::time::Instant;

use super::child::{Flags, Running};
use super::host::{Host, wait_until};
use super::job::{DEFAULT_KILL_TIMEOUT, DEFAULT_LISTEN_TIMEOUT, JobError, Launch};
use super::supervise::launch;
use super::table::Status;

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
        r.pid(),
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
pub async fn stop_proc<H: Host>(h: &Arc<H>, pm_id: u32) -> Result<(), JobError> {
    let (child, timeout, msg) = {
        let mut t = h.table();
        let p = t.jobs.get_mut(&pm_id).ok_or(JobError::UnknownId(pm_id))?;
        let Some(child) = p.begin_stop() else {
            drop(t);
            h.bump();
            return Ok(());
        };
        tracing::info!("Stopping app:{} id:{}", p.spec.name, pm_id);
        (
            child,
            p.spec.kill_timeout.unwrap_or(DEFAULT_KILL_TIMEOUT),
            p.spec.shutdown_with_message,
        )
    };
    h.bump();
    let dead = kill_worker(&child, timeout, msg).await;
    let res = {
        let mut t = h.table();
        match t.jobs.get_mut(&pm_id) {
            Some(p) => {
                let res = p.end_stop(dead);
                if let Err(e) = &res {
                    tracing::error!("app={} id={}: {e}", p.spec.name, pm_id);
                }
                h.pid_file_removed(p);
                res
            }
            None => Ok(()),
        }
    };
    h.bump();
    res
}

/// Starts a stopped pm_id again (PM2's restart path: counters per §3.3). Returns its generation.
pub fn start_again<H: Host>(h: &Arc<H>, pm_id: u32, was_up: bool) -> Result<u64, JobError> {
    let mut t = h.table();
    let p = t.jobs.get_mut(&pm_id).ok_or(JobError::UnknownId(pm_id))?;
    launch(h, p, Launch::Cli { was_up })?;
    Ok(p.child().map(|c| c.generation).unwrap_or(0))
}

/// Restart = stop then start. Caller holds the op lock. Waits for readiness.
pub async fn restart_proc<H: Host>(h: &Arc<H>, pm_id: u32) -> Result<(), JobError> {
    let was_up = {
        let t = h.table();
        t.jobs
            .get(&pm_id)
            .ok_or(JobError::UnknownId(pm_id))?
            .is_up()
    };
    stop_proc(h, pm_id).await?;
    if h.is_killing() {
        return Err(JobError::Killing);
    }
    let generation = start_again(h, pm_id, was_up)?;
    wait_started(h, &[(pm_id, generation)]).await;
    Ok(())
}

/// Waits until each (pm_id, generation) has left `launching` (online, exited, or replaced).
pub async fn wait_started<H: Host>(h: &Arc<H>, ids: &[(u32, u64)]) {
    let max_timeout = {
        let t = h.table();
        ids.iter()
            .filter_map(|(id, _)| t.jobs.get(id))
            .map(|p| p.spec.listen_timeout.unwrap_or(DEFAULT_LISTEN_TIMEOUT))
            .max()
            .unwrap_or(DEFAULT_LISTEN_TIMEOUT)
    };
    let deadline = Instant::now() + Duration::from_millis(max_timeout + 2000);
    wait_until(&**h, deadline, |t| {
        ids.iter().all(|(id, generation)| match t.jobs.get(id) {
            Some(p) => !p.is_current(*generation) || p.status() != Status::Launching,
            None => true,
        })
    })
    .await;
}
