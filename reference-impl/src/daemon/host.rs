//! What the job drivers (`spawn`, `lifecycle`, `reload`) need from the daemon: the table, a change
//! signal, a clock, and a way to start a process. The daemon implements it with real workers; the job
//! tests with fake children and paused tokio time.

use std::io;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::child::Child;
use super::job::Job;
use super::table::Table;
use crate::cluster::WorkerEvent;

/// A started process and its event stream (ends with exactly one [`WorkerEvent::Exited`]).
pub type Started = (Arc<dyn Child>, mpsc::UnboundedReceiver<WorkerEvent>);

/// The daemon as seen by the job drivers.
pub trait Host: Send + Sync + 'static {
    /// The process table's mutex (lock it with [`lock`]; never held across an await).
    fn table_mutex(&self) -> &Mutex<Table>;
    /// Signalled after every change (waiters and the state writer subscribe).
    fn changed(&self) -> &watch::Sender<u64>;
    /// True once `kill` started: no autorestart any more.
    fn is_killing(&self) -> bool;
    /// Milliseconds since the epoch.
    fn now_ms(&self) -> u64;
    /// A fresh spawn generation (also Node's cluster worker id).
    fn next_generation(&self) -> u64;
    /// Starts the process of `job` as generation `generation`.
    fn start_child(&self, job: &Job, generation: u64) -> io::Result<Started>;
    /// Writes the pid file of a job's new worker.
    fn pid_file_written(&self, job: &Job, pid: u32);
    /// Removes the pid file of a job.
    fn pid_file_removed(&self, job: &Job);

    /// The table, locked (a poisoned lock is recovered: the table stays consistent between statements).
    fn table(&self) -> MutexGuard<'_, Table> {
        lock(self.table_mutex())
    }
    /// Wakes waiters after a change.
    fn bump(&self) {
        self.changed().send_modify(|v| *v = v.wrapping_add(1));
    }
}

pub use crate::sync::lock;

/// Waits until `cond(table)` holds or the deadline passes; returns whether it holds.
pub async fn wait_until<H: Host + ?Sized>(
    h: &H,
    deadline: Instant,
    cond: impl Fn(&Table) -> bool,
) -> bool {
    let mut rx = h.changed().subscribe();
    loop {
        rx.borrow_and_update();
        if cond(&h.table()) {
            return true;
        }
        if tokio::time::timeout_at(deadline, rx.changed())
            .await
            .is_err()
        {
            return cond(&h.table());
        }
    }
}
