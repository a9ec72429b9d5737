//! Node cluster primary, spoken by the daemon itself.
//!
//! refpm spawns every Node app itself ([`Worker::spawn`]) with Node's IPC channel on fd 3 (see
//! [`crate::node_ipc`]). Cluster workers (`NODE_UNIQUE_ID` set) ask the primary for their listening sockets
//! with `queryServer`; the daemon-wide [`Balancer`] owns those sockets (they outlive worker restarts and
//! reloads) and either hands the listening socket to the workers (`shared`) or accepts connections itself
//! and passes them round robin (`rr`, Node's default).
//!
//! Round robin hands each accepted connection to the next *free* routable worker (one unanswered
//! `newconn` per worker, as Node's primary): 40 sequential connections over 2 workers split 20/20, and a
//! busy worker never holds connections another could take. A connection a worker refuses, or that was in
//! flight to a worker whose channel died, goes to another worker; with no routable worker it waits (and
//! the kernel backlog holds the rest) until one joins or the group is released; while workers are merely
//! busy the daemon keeps accepting into its own queue (bounded by the fd limit), as Node's primary does,
//! so a burst never overflows the listen backlog (the kernel would drop SYNs, clients retry after 1-7 s).
//! UDP servers get one `SO_REUSEPORT` socket per worker, so the kernel spreads distinct clients over all
//! workers. All cluster I/O runs on one dedicated balancer thread. `REFPM_TRACE_RR` in the daemon's
//! environment logs each round-robin listener's state every 100 ms (see `rr_trace`).
//!
//! API changes: none to the agreed signatures. Additions: [`Balancer::open_keys`] (number of open keys,
//! for tests and status), the `protocol` and `sockets` modules. Behaviour notes: `Worker::signal` returns
//! `ESRCH` once the process was reaped (pid reuse guard); `Worker::disconnect` on a non-cluster process
//! with a channel closes the channel (Node's `subprocess.disconnect()`), without a channel it is an error;
//! a `queryServer` from a released group un-releases it (app started again).

use std::ffi::OsString;
use std::fs::File;
use std::path::PathBuf;

mod accept;
mod balancer;
mod dispatch;
mod io_thread;
mod link;
pub mod node_compat;
pub mod protocol;
mod route;
mod rr_trace;
mod slot;
pub mod sockets;
mod uptake;
mod worker;

#[cfg(test)]
mod tests;

pub use balancer::Balancer;
pub use worker::Worker;

/// Load-balancing policy for the cluster workers of one app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LbPolicy {
    /// The daemon accepts connections and hands them to workers round robin (Node's default).
    #[default]
    Rr,
    /// Workers accept themselves from the daemon-owned listening socket; the daemon is off the data path.
    Shared,
}

/// Cluster identity of a worker.
#[derive(Debug, Clone)]
pub struct ClusterSpec {
    /// `NODE_UNIQUE_ID`, unique per daemon (becomes `cluster.worker.id`).
    pub worker_id: u64,
    /// App name: workers of one group share listening sockets.
    pub group: String,
    /// How connections reach the workers.
    pub policy: LbPolicy,
}

/// Everything needed to start one process.
#[derive(Debug)]
pub struct WorkerSpec {
    /// Program to run, e.g. `node` (looked up in `PATH` when relative) or the script itself.
    pub program: PathBuf,
    /// Arguments, e.g. `[script_path, app args...]`.
    pub args: Vec<OsString>,
    /// Working directory.
    pub cwd: PathBuf,
    /// The complete environment; the channel variables are added on top.
    pub env: Vec<(String, String)>,
    /// Open Node's IPC channel on fd 3 (json serialization).
    pub ipc: bool,
    /// `Some` for a cluster worker: `NODE_UNIQUE_ID` is set and `queryServer` is answered by the balancer.
    pub cluster: Option<ClusterSpec>,
    /// Standard output (a log file opened in append mode).
    pub stdout: File,
    /// Standard error (a log file opened in append mode).
    pub stderr: File,
}

/// What a worker reports to its supervisor.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkerEvent {
    /// `act:online`: the worker bootstrapped.
    Online,
    /// `act:listening`: the worker serves on this address (readiness for cluster apps).
    Listening {
        /// Bound address as reported by the worker (`::` when it listened on all addresses).
        address: String,
        /// Actual port.
        port: u16,
        /// True for a dgram (UDP) socket.
        udp: bool,
    },
    /// A non-internal message, e.g. `"ready"` from `process.send('ready')`.
    Message(serde_json::Value),
    /// `act:close`: one of its servers closed.
    ServerClosed,
    /// The IPC channel reached EOF.
    ChannelClosed,
    /// The process exited; always the last event, sent exactly once.
    Exited {
        /// Exit code when it exited normally.
        code: Option<i32>,
        /// Signal number when it was killed by a signal.
        signal: Option<i32>,
    },
}
