//! Zero-downtime reload of one cluster instance: start the replacement, wait until it serves, then
//! stop routing to the old worker, let it drain (Node's disconnect), and stop it.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::Daemon;
use super::lifecycle::{DEFAULT_KILL_TIMEOUT, kill_worker, restart_proc, wait_flags};
use super::spawn::{DEFAULT_LISTEN_TIMEOUT, install, spawn_worker};
use super::table::{Running, Status, now_ms};
use crate::config::ExecMode;

/// Outcome of reloading one id.
pub enum ReloadOutcome {
    /// Replaced (with an optional warning to print).
    Replaced(Option<String>),
    /// Not online or fork mode: restarted instead.
    Restarted,
}

/// Reloads one pm_id. Caller holds the op lock. `Err` = the old worker was kept; the message says why.
pub async fn reload_proc(d: &Arc<Daemon>, pm_id: u32) -> Result<ReloadOutcome, String> {
    let prepared = {
        let t = d.table.lock().unwrap();
        let p = t
            .procs
            .get(&pm_id)
            .ok_or_else(|| format!("{pm_id} : id unknown"))?;
        let cluster = p.spec.exec_mode == ExecMode::ClusterMode;
        match (&p.running, p.status) {
            (Some(r), Status::Online) if cluster => {
                let sp = spawn_worker(d, p)
                    .map_err(|e| format!("could not spawn the replacement of {pm_id}: {e}"))?;
                Some((
                    sp,
                    r.clone(),
                    p.spec.name.clone(),
                    p.spec.wait_ready,
                    p.spec.listen_timeout.unwrap_or(DEFAULT_LISTEN_TIMEOUT),
                    p.spec.kill_timeout.unwrap_or(DEFAULT_KILL_TIMEOUT),
                    p.spec.shutdown_with_message,
                ))
            }
            _ => None,
        }
    };
    let Some((spawned, old, name, wait_ready, listen_timeout, kill_timeout, with_message)) =
        prepared
    else {
        tracing::info!("Process {pm_id} in a stopped status, starting it");
        restart_proc(d, pm_id).await?;
        return Ok(ReloadOutcome::Restarted);
    };
    let new = spawned.running.clone();
    let mut rx = new.flags.clone();
    let deadline = Instant::now() + Duration::from_millis(listen_timeout);
    let done = |f: &super::table::Flags| {
        f.exited.is_some() || if wait_ready { f.ready } else { f.listening }
    };
    let (_, mut flags) = wait_flags(&mut rx, deadline, done).await;
    if flags.exited.is_none() && !flags.listening && !flags.online {
        // Node has not even finished bootstrapping: the machine is slow, the build is not known to be
        // broken. Give it one more listen_timeout (the old worker keeps serving meanwhile).
        tracing::warn!(
            "{name}:{pm_id}: replacement still booting after {listen_timeout}ms, waiting once more"
        );
        let again = Instant::now() + Duration::from_millis(listen_timeout);
        flags = wait_flags(&mut rx, again, done).await.1;
    }
    let old_listened = old.flags.borrow().listening;
    let mut warning = None;
    let fail = |why: String| abort(&new, &old, kill_timeout, &name, pm_id, why);
    if let Some((code, signal)) = flags.exited {
        let how = match (code, signal) {
            (_, Some(s)) => format!("signal {s}"),
            (c, None) => format!("code {}", c.unwrap_or(0)),
        };
        return fail(format!("the new worker exited before it was ready ({how})")).await;
    }
    let ready = if wait_ready {
        flags.ready
    } else {
        flags.listening
    };
    if !ready {
        if flags.listening {
            warning = Some(format!(
                "[PM2][WARN] {name} (id {pm_id}): no 'ready' message within listen_timeout ({listen_timeout}ms); it is listening, proceeding"
            ));
        } else if old_listened {
            return fail(format!(
                "the new worker did not listen within listen_timeout ({listen_timeout}ms)"
            ))
            .await;
        } else {
            warning = Some(format!(
                "[PM2][WARN] {name} (id {pm_id}): not ready within listen_timeout ({listen_timeout}ms), proceeding as PM2 does (the old worker did not listen either)"
            ));
        }
    }
    // Swap under the table lock; an exit racing with the swap is then handled by on_exit.
    let swapped: Result<(), &str> = {
        let mut t = d.table.lock().unwrap();
        match t.procs.get_mut(&pm_id) {
            None => Err("the process was deleted during its reload"),
            Some(_) if new.flags.borrow().exited.is_some() => {
                Err("the new worker exited before it was ready")
            }
            Some(p) => {
                p.restart_time += 1;
                p.created_at = Some(now_ms());
                p.unstable_restarts = 0;
                p.prev_restart_delay = 0;
                install(d, p, spawned);
                p.status = Status::Online;
                Ok(())
            }
        }
    };
    if let Err(why) = swapped {
        return fail(why.to_string()).await;
    }
    d.bump();
    // Drain the old worker: no new connections, then Node's graceful disconnect, then the stop sequence.
    old.worker.stop_routing();
    if old.worker.disconnect().is_ok() {
        let mut orx = old.flags.clone();
        let drain = Instant::now() + Duration::from_millis(kill_timeout.max(DEFAULT_KILL_TIMEOUT));
        wait_flags(&mut orx, drain, |f| f.exited.is_some() || f.channel_closed).await;
    }
    if !kill_worker(&old, kill_timeout, with_message).await {
        tracing::error!(
            "old worker pid {} of {name}:{pm_id} could not be stopped",
            old.worker.pid()
        );
    }
    Ok(ReloadOutcome::Replaced(warning))
}

/// Kills the replacement and reports why the old worker was kept.
async fn abort(
    new: &Running,
    old: &Running,
    kill_timeout: u64,
    name: &str,
    pm_id: u32,
    why: String,
) -> Result<ReloadOutcome, String> {
    let _ = kill_worker(new, kill_timeout, false).await;
    Err(format!(
        "reload of {name} (id {pm_id}) aborted: {why}; the old worker (pid {}) keeps serving",
        old.worker.pid()
    ))
}
