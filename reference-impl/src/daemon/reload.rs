//! Zero-downtime reload of one cluster instance: start the replacement, wait until it serves, then
//! stop routing to the old worker, let it drain (Node's disconnect), and stop it.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::child::{Flags, Running};
use super::host::Host;
use super::job::{AbortReason, DEFAULT_KILL_TIMEOUT, DEFAULT_LISTEN_TIMEOUT, JobError, JobState};
use super::lifecycle::{kill_worker, restart_proc, wait_flags};
use super::supervise::spawn_worker;
use crate::config::ExecMode;
use crate::protocol::reply::ReloadWarning;

/// Outcome of reloading one id.
pub enum ReloadOutcome {
    /// Replaced (with a warning when it went ahead without the readiness it waited for).
    Replaced(Option<ReloadWarning>),
    /// Not online or fork mode: restarted instead.
    Restarted,
}

/// Reloads one pm_id. Caller holds the op lock. `Err` = the old worker was kept; the message says why.
pub async fn reload_proc<H: Host>(d: &Arc<H>, pm_id: u32) -> Result<ReloadOutcome, JobError> {
    let prepared = {
        let t = d.table();
        let p = t.jobs.get(&pm_id).ok_or(JobError::UnknownId(pm_id))?;
        let cluster = p.spec.exec_mode == ExecMode::ClusterMode;
        match p.state() {
            JobState::Online { child: r } if cluster => {
                let sp = spawn_worker(d, p).map_err(|e| {
                    JobError::Launch(format!("could not spawn the replacement of {pm_id}: {e}"))
                })?;
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
    let new = spawned.clone();
    let mut rx = new.flags.clone();
    let deadline = Instant::now() + Duration::from_millis(listen_timeout);
    let done = |f: &Flags| f.exited.is_some() || if wait_ready { f.ready } else { f.listening };
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
    let fail = |why: AbortReason| abort(&new, &old, kill_timeout, &name, pm_id, why);
    if let Some(exit) = flags.exited {
        return fail(AbortReason::ExitedEarly(exit)).await;
    }
    let ready = if wait_ready {
        flags.ready
    } else {
        flags.listening
    };
    if !ready {
        if flags.listening {
            warning = Some(ReloadWarning::NoReadyMessage {
                name: name.clone(),
                pm_id,
                listen_timeout,
            });
        } else if old_listened {
            return fail(AbortReason::NoListen(listen_timeout)).await;
        } else {
            warning = Some(ReloadWarning::NotReady {
                name: name.clone(),
                pm_id,
                listen_timeout,
            });
        }
    }
    // Swap under the table lock; an exit racing with the swap is then handled by on_exit.
    let swapped: Result<Option<Running>, AbortReason> = {
        let mut t = d.table();
        match t.jobs.get_mut(&pm_id) {
            None => Err(AbortReason::Deleted),
            Some(_) if new.exited() => Err(AbortReason::ExitedAtSwap),
            Some(p) => {
                let now = d.now_ms();
                let res = p
                    .swap(spawned, now)
                    .map_err(|e| AbortReason::Refused(Box::new(e)));
                if res.is_ok() {
                    d.pid_file_written(p, new.pid());
                }
                res
            }
        }
    };
    let replaced = match swapped {
        Ok(r) => r,
        Err(why) => return fail(why).await,
    };
    d.bump();
    // The old worker crashed during the reload and was autorestarted: that one goes too.
    if let Some(r) = replaced.filter(|r| r.generation != old.generation) {
        let _ = kill_worker(&r, kill_timeout, with_message).await;
    }
    // Drain the old worker: no new connections, then Node's graceful disconnect, then the stop sequence.
    old.worker.stop_routing();
    if old.worker.disconnect().is_ok() {
        let mut orx = old.flags.clone();
        let drain = Instant::now() + Duration::from_millis(kill_timeout.max(DEFAULT_KILL_TIMEOUT));
        wait_flags(&mut orx, drain, |f| f.exited.is_some() || f.channel_closed).await;
    }
    // once the IPC channel is closed a `shutdown` message cannot arrive: the old worker gets SIGINT
    let closed = old.flags.borrow().channel_closed;
    if !kill_worker(&old, kill_timeout, with_message && !closed).await {
        tracing::error!(
            "old worker pid {} of {name}:{pm_id} could not be stopped",
            old.pid()
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
    why: AbortReason,
) -> Result<ReloadOutcome, JobError> {
    let _ = kill_worker(new, kill_timeout, false).await;
    Err(JobError::ReloadAborted {
        name: name.to_string(),
        pm_id,
        why,
        old_pid: old.pid(),
    })
}
