//! `kill`: delete every process (SIGINT → kill_timeout → SIGKILL, concurrently), then the daemon exits.

use std::sync::Arc;

use tokio::task::JoinSet;

use super::super::Daemon;
use super::super::host::Host;
use super::operate::delete_proc;

/// Stops and removes everything; no autorestart happens from now on. Returns how many there were.
pub async fn stop_everything(d: &Arc<Daemon>) -> usize {
    d.set_killing();
    let ids: Vec<u32> = d.table().jobs.keys().copied().collect();
    let mut set = JoinSet::new();
    for id in &ids {
        let d = d.clone();
        let id = *id;
        set.spawn(async move {
            let lock = d.table().jobs.get(&id).map(|p| p.op_lock.clone());
            // An operation in flight (e.g. a reload) finishes first; it cannot restart anything now.
            let _g = match &lock {
                Some(l) => Some(l.lock().await),
                None => None,
            };
            let _ = delete_proc(&d, id).await;
        });
    }
    while set.join_next().await.is_some() {}
    ids.len()
}
