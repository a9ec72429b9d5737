//! The daemon: one per home. It owns the process table, serves the control socket (one request and one
//! response line per connection, peers of other uids refused), runs one handler per verb
//! (`handlers`), and drives each instance's state machine (`job`, driven by `supervise`, `lifecycle`, `reload`).

pub mod child;
#[cfg(test)]
mod fake;
pub mod handlers;
pub mod host;
pub mod jlist;
pub mod job;
#[cfg(test)]
mod job_tests;
pub mod lifecycle;
pub mod node_version;
pub mod persist;
pub mod reload;
pub mod server;
pub mod spawn;
pub mod supervise;
pub mod table;

use nix::fcntl::{Flock, FlockArg};
use std::fs::OpenOptions;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use crate::cluster::Balancer;
use crate::home::Home;
use host::Host;
use table::Table;

/// Shared daemon state.
pub struct Daemon {
    /// The home it serves.
    pub home: Home,
    /// The process table (never locked across an await).
    pub table: Mutex<Table>,
    /// The cluster primary's sockets and dispatchers.
    pub balancer: Arc<Balancer>,
    /// CPU samples for `monit`.
    pub monit: Mutex<jlist::MonitCache>,
    /// Versions of the node binaries that run the apps.
    pub node_versions: node_version::NodeVersions,
    generation: AtomicU64,
    killing: AtomicBool,
    changed: watch::Sender<u64>,
}

impl Daemon {
    /// A daemon with an empty table.
    pub fn new(home: Home) -> Arc<Self> {
        Arc::new(Daemon {
            home,
            table: Mutex::new(Table::default()),
            balancer: Balancer::new(),
            monit: Mutex::new(jlist::MonitCache::default()),
            node_versions: node_version::NodeVersions::default(),
            generation: AtomicU64::new(1),
            killing: AtomicBool::new(false),
            changed: watch::channel(0).0,
        })
    }

    /// True once `kill` (or a signal) started shutting everything down.
    pub fn is_killing(&self) -> bool {
        self.killing.load(Ordering::SeqCst)
    }

    /// Stops autorestarts for good.
    pub fn set_killing(&self) {
        self.killing.store(true, Ordering::SeqCst);
    }

    /// The process records now (jlist).
    pub fn jlist(&self) -> Vec<crate::protocol::record::ProcessRecord> {
        let t = self.table();
        let mut m = host::lock(&self.monit);
        jlist::jlist(&t, &mut m, &self.node_versions)
    }

    /// Removes the socket and pid file (on exit).
    pub fn cleanup_files(&self) {
        let _ = std::fs::remove_file(self.home.socket());
        let _ = std::fs::remove_file(self.home.pid_file());
    }
}

impl Host for Daemon {
    fn table_mutex(&self) -> &Mutex<Table> {
        &self.table
    }
    fn changed(&self) -> &watch::Sender<u64> {
        &self.changed
    }
    fn is_killing(&self) -> bool {
        Daemon::is_killing(self)
    }
    fn now_ms(&self) -> u64 {
        table::now_ms()
    }
    fn next_generation(&self) -> u64 {
        self.generation.fetch_add(1, Ordering::SeqCst)
    }
    fn start_child(&self, job: &job::Job, generation: u64) -> std::io::Result<host::Started> {
        if job.spec.is_node {
            self.node_versions.probe(&job.spec.program);
        }
        spawn::start_worker(self, job, generation)
    }
    fn pid_file_written(&self, job: &job::Job, pid: u32) {
        persist::write_pid_file(&job.pid_file, pid);
    }
    fn pid_file_removed(&self, job: &job::Job) {
        persist::remove_pid_file(&job.pid_file);
    }
}

/// Errors starting the daemon.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// Another daemon holds the pid-file lock.
    #[error("another refpm daemon is already running for {0}")]
    AlreadyRunning(String),
    /// Home preparation failed.
    #[error(transparent)]
    Home(#[from] crate::home::HomeError),
    /// I/O.
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
}

/// Runs the daemon in the foreground until `kill` or a signal.
pub fn run(home: Home) -> Result<(), DaemonError> {
    home.ensure_dirs()?;
    let pid_path = home.pid_file();
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&pid_path)
        .map_err(|e| DaemonError::Io(pid_path.display().to_string(), e))?;
    // The lock lives as long as the file (the whole process).
    let mut pid_file = Flock::lock(file, FlockArg::LockExclusiveNonblock)
        .map_err(|_| DaemonError::AlreadyRunning(home.root.display().to_string()))?;
    let _ = pid_file.set_len(0);
    let _ = write!(pid_file, "{}", std::process::id());
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
    let orphans = persist::kill_orphans(&home.pids_dir());
    if orphans > 0 {
        tracing::warn!("killed {orphans} orphaned process(es) of a previous daemon");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| DaemonError::Io("tokio runtime".into(), e))?;
    let d = Daemon::new(home);
    let res = rt.block_on(server::serve(d.clone()));
    drop(pid_file);
    res
}
