//! The daemon: one per home. It owns the process table, serves the control socket (one request and one
//! response line per connection, peers of other uids refused), runs one handler per verb
//! (`handlers`), and drives each instance's state machine (`spawn`, `lifecycle`, `reload`).

pub mod handlers;
pub mod jlist;
pub mod lifecycle;
pub mod persist;
pub mod reload;
pub mod server;
pub mod spawn;
pub mod table;

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::io::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;
use tokio::time::Instant;

use crate::cluster::Balancer;
use crate::home::Home;
use table::{Status, Table};

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
            generation: AtomicU64::new(1),
            killing: AtomicBool::new(false),
            changed: watch::channel(0).0,
        })
    }

    /// Signals that the table changed (wakes waiters and the state writer).
    pub fn bump(&self) {
        self.changed.send_modify(|v| *v = v.wrapping_add(1));
    }

    /// A fresh spawn generation (also used as Node's worker id).
    pub fn next_generation(&self) -> u64 {
        self.generation.fetch_add(1, Ordering::SeqCst)
    }

    /// True once `kill` (or a signal) started shutting everything down.
    pub fn is_killing(&self) -> bool {
        self.killing.load(Ordering::SeqCst)
    }

    /// Stops autorestarts for good.
    pub fn set_killing(&self) {
        self.killing.store(true, Ordering::SeqCst);
    }

    /// `launching` → `online` for the current worker of `pm_id`.
    pub fn mark_online(&self, pm_id: u32, generation: u64) {
        let mut t = self.table.lock().unwrap();
        if let Some(p) = t.procs.get_mut(&pm_id)
            && p.generation == generation
            && p.status == Status::Launching
        {
            p.status = Status::Online;
            drop(t);
            self.bump();
        }
    }

    /// Waits until `cond(table)` holds or the deadline passes; returns whether it holds.
    pub async fn wait_until(&self, deadline: Instant, cond: impl Fn(&Table) -> bool) -> bool {
        let mut rx = self.changed.subscribe();
        loop {
            rx.borrow_and_update();
            if cond(&self.table.lock().unwrap()) {
                return true;
            }
            if tokio::time::timeout_at(deadline, rx.changed())
                .await
                .is_err()
            {
                return cond(&self.table.lock().unwrap());
            }
        }
    }

    /// The jlist value now.
    pub fn jlist(&self) -> serde_json::Value {
        let t = self.table.lock().unwrap();
        let mut m = self.monit.lock().unwrap();
        jlist::jlist(&t, &mut m)
    }

    /// Removes the socket and pid file (on exit).
    pub fn cleanup_files(&self) {
        let _ = std::fs::remove_file(self.home.socket());
        let _ = std::fs::remove_file(self.home.pid_file());
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

/// Runs the daemon in the foreground until `kill` or a signal; returns the exit code.
pub fn run(home: Home) -> i32 {
    match run_inner(home) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("[PM2][ERROR] {e}");
            1
        }
    }
}

fn run_inner(home: Home) -> Result<(), DaemonError> {
    home.ensure_dirs()?;
    let pid_path = home.pid_file();
    let mut pid_file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&pid_path)
        .map_err(|e| DaemonError::Io(pid_path.display().to_string(), e))?;
    // SAFETY: flock on an fd we own; the lock lives as long as the file (the whole process).
    if unsafe { libc::flock(pid_file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        return Err(DaemonError::AlreadyRunning(home.root.display().to_string()));
    }
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
