//! The worker process of a job, behind a trait: the daemon's real [`Worker`] or, in the job tests, a
//! fake child driven by the test. Also what a worker reported so far ([`Flags`]).

use std::io;
use std::sync::Arc;

use nix::sys::signal::Signal;
use tokio::sync::watch;

use crate::cluster::Worker;

/// What a job needs from its running process.
pub trait Child: Send + Sync {
    /// OS pid.
    fn pid(&self) -> u32;
    /// Sends `sig` to the process (`ESRCH` once it was reaped).
    fn signal(&self, sig: Signal) -> nix::Result<()>;
    /// Sends `sig` to the process group (the whole tree).
    fn signal_group(&self, sig: Signal) -> nix::Result<()>;
    /// Sends a user message on the IPC channel (e.g. `"shutdown"`).
    fn send(&self, msg: serde_json::Value) -> io::Result<()>;
    /// Cluster: no new connections for this worker (idempotent).
    fn stop_routing(&self);
    /// Cluster `disconnect` (graceful drain), or closes the channel of a fork app.
    fn disconnect(&self) -> io::Result<()>;
}

impl Child for Worker {
    fn pid(&self) -> u32 {
        Worker::pid(self)
    }
    fn signal(&self, sig: Signal) -> nix::Result<()> {
        Worker::signal(self, sig)
    }
    fn signal_group(&self, sig: Signal) -> nix::Result<()> {
        Worker::signal_group(self, sig)
    }
    fn send(&self, msg: serde_json::Value) -> io::Result<()> {
        Worker::send(self, msg)
    }
    fn stop_routing(&self) {
        Worker::stop_routing(self)
    }
    fn disconnect(&self) -> io::Result<()> {
        Worker::disconnect(self)
    }
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Exit {
    /// Exit code when it exited normally.
    pub code: Option<i32>,
    /// Signal number when a signal killed it.
    pub signal: Option<i32>,
}

/// What one spawned worker has reported so far.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    /// Node's cluster `online`.
    pub online: bool,
    /// First server bound.
    pub listening: bool,
    /// `process.send('ready')` received.
    pub ready: bool,
    /// The IPC channel closed (disconnect finished).
    pub channel_closed: bool,
    /// How it ended, once dead.
    pub exited: Option<Exit>,
}

/// A live worker of a job: its handle, its reported flags and its spawn generation.
#[derive(Clone)]
pub struct Running {
    /// The process.
    pub worker: Arc<dyn Child>,
    /// Its reported flags.
    pub flags: watch::Receiver<Flags>,
    /// Spawn generation (distinguishes a replacement from the worker it replaces).
    pub generation: u64,
    /// ms epoch of the spawn.
    pub since: u64,
}

impl Running {
    /// Its pid.
    pub fn pid(&self) -> u32 {
        self.worker.pid()
    }
    /// True once it reported its exit.
    pub fn exited(&self) -> bool {
        self.flags.borrow().exited.is_some()
    }
}
