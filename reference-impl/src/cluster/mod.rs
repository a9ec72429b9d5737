//! Node cluster primary, spoken by the daemon itself.
//!
//! refpm spawns every Node app itself ([`Worker::spawn`]) with Node's IPC channel on fd 3 (see
//! [`crate::node_ipc`]). Cluster workers (`NODE_UNIQUE_ID` set) ask the primary for their listening sockets
//! with `queryServer`; the daemon-wide [`Balancer`] owns those sockets (they outlive worker restarts and
//! reloads) and either hands the listening socket to the workers (`shared`) or accepts connections itself
//! and passes them round robin (`rr`, Node's default).
//!
//! API changes: none.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use nix::sys::signal::Signal;
use tokio::sync::mpsc;

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

/// Daemon-wide registry of listening sockets and round-robin dispatchers (one per daemon).
///
/// Sockets are keyed by (address, port, address type, listen index, app group) and stay open across worker
/// restarts and reloads. A socket is closed once no worker uses its key any more and
/// [`Balancer::release_group`] was called for its group.
pub struct Balancer {
    _priv: (),
}

impl Balancer {
    /// Creates an empty balancer.
    pub fn new() -> Arc<Self> {
        Arc::new(Balancer { _priv: () })
    }

    /// Marks an app group as released (app stopped or deleted): its sockets close once unused.
    pub fn release_group(&self, group: &str) {
        let _ = group;
    }
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

/// A running (or exited) process spawned by refpm; `Send + Sync`, share it via `Arc`.
pub struct Worker {
    pid: u32,
}

impl Worker {
    /// Spawns the process in its own process group; must be called inside a tokio runtime.
    pub fn spawn(
        spec: WorkerSpec,
        balancer: Arc<Balancer>,
    ) -> io::Result<(Arc<Worker>, mpsc::UnboundedReceiver<WorkerEvent>)> {
        let _ = (spec, balancer);
        Err(io::Error::other("worker spawning not implemented yet"))
    }

    /// Process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Sends a user message (delivered to the app's `process.on('message')`).
    pub fn send(&self, msg: serde_json::Value) -> io::Result<()> {
        let _ = msg;
        Err(io::Error::from(io::ErrorKind::NotConnected))
    }

    /// Round robin: gives this worker no new connections from now on (idempotent).
    pub fn stop_routing(&self) {}

    /// Stops routing and asks the worker to close its servers, finish in-flight work and exit.
    pub fn disconnect(&self) -> io::Result<()> {
        Err(io::Error::from(io::ErrorKind::NotConnected))
    }

    /// Sends `sig` to the process.
    pub fn signal(&self, sig: Signal) -> nix::Result<()> {
        let _ = sig;
        Err(nix::errno::Errno::ESRCH)
    }

    /// Sends `sig` to the process group (the whole tree).
    pub fn signal_group(&self, sig: Signal) -> nix::Result<()> {
        let _ = sig;
        Err(nix::errno::Errno::ESRCH)
    }

    /// True until the process has been reaped.
    pub fn is_alive(&self) -> bool {
        false
    }
}
