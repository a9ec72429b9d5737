//! The process table: one [`Proc`] per pm_id, its status and counters.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;
use tokio::sync::watch;

use crate::cluster::Worker;
use crate::config::AppSpec;

/// PM2's status values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Status {
    /// Spawned, not ready yet.
    #[serde(rename = "launching")]
    Launching,
    /// Ready (listening, `ready`, or listen_timeout elapsed; fork: spawned).
    #[serde(rename = "online")]
    Online,
    /// Being stopped.
    #[serde(rename = "stopping")]
    Stopping,
    /// Not running (pid 0).
    #[serde(rename = "stopped")]
    Stopped,
    /// Too many unstable restarts, or could not be killed.
    #[serde(rename = "errored")]
    Errored,
    /// Delayed autorestart pending.
    #[serde(rename = "waiting restart")]
    WaitingRestart,
}

impl Status {
    /// The PM2 string.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Launching => "launching",
            Status::Online => "online",
            Status::Stopping => "stopping",
            Status::Stopped => "stopped",
            Status::Errored => "errored",
            Status::WaitingRestart => "waiting restart",
        }
    }
    /// Running or about to be.
    pub fn is_up(self) -> bool {
        matches!(self, Status::Launching | Status::Online)
    }
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
    /// Exit (code, signal) once dead.
    pub exited: Option<(Option<i32>, Option<i32>)>,
}

/// The live worker of a pm_id.
#[derive(Clone)]
pub struct Running {
    /// The worker handle.
    pub worker: Arc<Worker>,
    /// Its reported flags.
    pub flags: watch::Receiver<Flags>,
    /// Spawn generation (distinguishes a replacement from the worker it replaces).
    pub generation: u64,
}

/// One managed process (one instance).
pub struct Proc {
    /// PM2 id.
    pub pm_id: u32,
    /// Its configuration.
    pub spec: AppSpec,
    /// The caller's environment at start (never shown in jlist).
    pub caller_env: BTreeMap<String, String>,
    /// Resolved instance count of its app at start.
    pub instances: usize,
    /// Value of the instance variable.
    pub instance_value: u64,
    /// Shared by one start batch.
    pub unique_id: String,
    /// Status.
    pub status: Status,
    /// OS pid (0 when stopped/errored; stale while waiting restart).
    pub pid: u32,
    /// The current worker, if any.
    pub running: Option<Running>,
    /// Generation of the current worker (0 = none yet).
    pub generation: u64,
    /// Restarts counter.
    pub restart_time: u64,
    /// Unstable restarts counter.
    pub unstable_restarts: u64,
    /// ms epoch of the last spawn.
    pub pm_uptime: u64,
    /// ms epoch of creation / last CLI restart; `None` after errored.
    pub created_at: Option<u64>,
    /// Exit code of the last exit.
    pub exit_code: Option<i32>,
    /// Last exponential backoff delay.
    pub prev_restart_delay: u64,
    /// A pending delayed restart.
    pub restart_task: Option<tokio::task::JoinHandle<()>>,
    /// Serialises stop/restart/reload/delete of this id.
    pub op_lock: Arc<tokio::sync::Mutex<()>>,
    /// Log and pid paths.
    pub out_log: PathBuf,
    /// Error log.
    pub err_log: PathBuf,
    /// Pid file.
    pub pid_file: PathBuf,
}

/// All processes of one daemon.
#[derive(Default)]
pub struct Table {
    /// By pm_id (sorted).
    pub procs: BTreeMap<u32, Proc>,
    /// Next pm_id.
    pub next_id: u32,
}

impl Table {
    /// Takes the next pm_id.
    pub fn new_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Lowest free instance value among processes named `name` using variable `var`.
    pub fn free_instance_value(&self, name: &str, taken_extra: &BTreeSet<u64>) -> u64 {
        let used: BTreeSet<u64> = self
            .procs
            .values()
            .filter(|p| p.spec.name == name)
            .map(|p| p.instance_value)
            .chain(taken_extra.iter().copied())
            .collect();
        (0..).find(|v| !used.contains(v)).unwrap_or(0)
    }

    /// Resolves a target string as PM2's `_operate`: `all`, name, script path, then numeric id.
    pub fn resolve(&self, target: &str) -> Vec<u32> {
        if target == "all" {
            return self.procs.keys().copied().collect();
        }
        let abs = crate::home::absolutise(std::path::Path::new(target));
        let by_name: Vec<u32> = self
            .procs
            .values()
            .filter(|p| p.spec.name == target || p.spec.script == abs)
            .map(|p| p.pm_id)
            .collect();
        if !by_name.is_empty() {
            return by_name;
        }
        if let Ok(id) = target.parse::<u32>()
            && self.procs.contains_key(&id)
        {
            return vec![id];
        }
        vec![]
    }

    /// Ids of every process with this app name.
    pub fn ids_named(&self, name: &str) -> Vec<u32> {
        self.procs
            .values()
            .filter(|p| p.spec.name == name)
            .map(|p| p.pm_id)
            .collect()
    }
}

/// Milliseconds since the epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A random v4 UUID string (from the OS RNG).
pub fn uuid_v4() -> String {
    let mut b = [0u8; 16];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        use std::io::Read;
        let _ = f.read_exact(&mut b);
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}
