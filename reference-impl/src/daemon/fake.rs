//! Test doubles for the job drivers: a fake child whose events the test emits and which records the
//! signals and messages it gets, and a [`Host`] that spawns fake children on a paused tokio clock.

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use nix::sys::signal::Signal;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::child::Child;
use super::host::{Host, Started, lock};
use super::job::{Job, JobInit, Launch};
use super::table::Table;
use crate::cluster::WorkerEvent;
use crate::config::{AppSpec, ExecMode};

/// How a fake child reacts to being asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Obeys {
    /// Exits on SIGINT, `shutdown` and cluster `disconnect`.
    #[default]
    Everything,
    /// Ignores SIGINT, `shutdown` and `disconnect`; SIGKILL kills it.
    OnlySigkill,
    /// Survives even SIGKILL.
    Nothing,
}

/// A fake worker: records what it receives, exits when told to by the test or by a signal it obeys.
pub struct FakeChild {
    /// Its pid (never a real process).
    pub pid: u32,
    /// Spawn generation.
    pub generation: u64,
    obeys: Obeys,
    alive: AtomicBool,
    tx: mpsc::UnboundedSender<WorkerEvent>,
    log: Mutex<Vec<String>>,
}

impl FakeChild {
    /// Emits a worker event (e.g. `Listening`, `Message("ready")`).
    pub fn emit(&self, ev: WorkerEvent) {
        let _ = self.tx.send(ev);
    }
    /// Emits `Listening` on port 3000.
    pub fn listen(&self) {
        self.emit(WorkerEvent::Listening {
            address: "::".into(),
            port: 3000,
            udp: false,
        });
    }
    /// Exits with `code` (once).
    pub fn exit(&self, code: i32) {
        self.end(Some(code), None);
    }
    fn end(&self, code: Option<i32>, signal: Option<i32>) {
        if self.alive.swap(false, Ordering::SeqCst) {
            let _ = self.tx.send(WorkerEvent::Exited { code, signal });
        }
    }
    /// What it received, in order (`SIGINT`, `group SIGKILL`, `message "shutdown"`, `stop_routing`, ...).
    pub fn log(&self) -> Vec<String> {
        lock(&self.log).clone()
    }
    fn note(&self, s: String) {
        lock(&self.log).push(s);
    }
    fn hit(&self, sig: Signal) {
        let dies = match self.obeys {
            Obeys::Everything => matches!(sig, Signal::SIGINT | Signal::SIGKILL),
            Obeys::OnlySigkill => sig == Signal::SIGKILL,
            Obeys::Nothing => false,
        };
        if dies {
            self.end(None, Some(sig as i32));
        }
    }
}

impl Child for FakeChild {
    fn pid(&self) -> u32 {
        self.pid
    }
    fn signal(&self, sig: Signal) -> nix::Result<()> {
        if !self.alive.load(Ordering::SeqCst) {
            return Err(nix::errno::Errno::ESRCH);
        }
        self.note(format!("{sig:?}"));
        self.hit(sig);
        Ok(())
    }
    fn signal_group(&self, sig: Signal) -> nix::Result<()> {
        self.note(format!("group {sig:?}"));
        self.hit(sig);
        Ok(())
    }
    fn send(&self, msg: serde_json::Value) -> io::Result<()> {
        self.note(format!("message {msg}"));
        if msg == "shutdown" && self.obeys == Obeys::Everything {
            self.end(Some(0), None);
        }
        Ok(())
    }
    fn stop_routing(&self) {
        self.note("stop_routing".into());
    }
    fn disconnect(&self) -> io::Result<()> {
        self.note("disconnect".into());
        if self.obeys == Obeys::Everything {
            self.emit(WorkerEvent::ChannelClosed);
            self.end(Some(0), None);
        }
        Ok(())
    }
}

/// A host of fake children on tokio's (paused) clock.
pub struct FakeHost {
    table: Mutex<Table>,
    changed: watch::Sender<u64>,
    killing: AtomicBool,
    generation: AtomicU64,
    epoch: Instant,
    /// Every child spawned, in order.
    pub children: Mutex<Vec<Arc<FakeChild>>>,
    /// How the next children react to stop requests.
    pub obeys: Mutex<Obeys>,
    /// Make the next spawns fail.
    pub fail_spawn: AtomicBool,
}

/// Epoch milliseconds of the fake clock's start.
pub const EPOCH_MS: u64 = 1_700_000_000_000;

impl FakeHost {
    /// An empty host.
    pub fn new() -> Arc<Self> {
        Arc::new(FakeHost {
            table: Mutex::new(Table::default()),
            changed: watch::channel(0).0,
            killing: AtomicBool::new(false),
            generation: AtomicU64::new(1),
            epoch: Instant::now(),
            children: Mutex::new(vec![]),
            obeys: Mutex::new(Obeys::default()),
            fail_spawn: AtomicBool::new(false),
        })
    }

    /// Adds job `pm_id` for `spec` and launches it (as `start` does).
    pub fn start(self: &Arc<Self>, spec: AppSpec) -> u32 {
        let mut t = self.table();
        let pm_id = t.new_id();
        let mut job = Job::new(
            JobInit {
                pm_id,
                spec,
                caller_env: Default::default(),
                instances: 1,
                instance_value: 0,
                unique_id: "u".into(),
                out_log: PathBuf::from("/nonexistent/out.log"),
                err_log: PathBuf::from("/nonexistent/err.log"),
                pid_file: PathBuf::from("/nonexistent/app.pid"),
            },
            self.now_ms(),
        );
        let _ = super::supervise::launch(self, &mut job, Launch::New);
        t.jobs.insert(pm_id, job);
        pm_id
    }

    /// The `n`th child spawned.
    pub fn child(&self, n: usize) -> Arc<FakeChild> {
        lock(&self.children)[n].clone()
    }
    /// How many children were spawned.
    pub fn spawned(&self) -> usize {
        lock(&self.children).len()
    }
    /// Reads job `pm_id`.
    pub fn with<T>(&self, pm_id: u32, f: impl FnOnce(&Job) -> T) -> T {
        f(self.table().jobs.get(&pm_id).expect("job exists"))
    }
    /// Starts killing (no autorestart).
    pub fn set_killing(&self) {
        self.killing.store(true, Ordering::SeqCst);
    }
}

impl Host for FakeHost {
    fn table_mutex(&self) -> &Mutex<Table> {
        &self.table
    }
    fn changed(&self) -> &watch::Sender<u64> {
        &self.changed
    }
    fn is_killing(&self) -> bool {
        self.killing.load(Ordering::SeqCst)
    }
    fn now_ms(&self) -> u64 {
        EPOCH_MS + self.epoch.elapsed().as_millis() as u64
    }
    fn next_generation(&self) -> u64 {
        self.generation.fetch_add(1, Ordering::SeqCst)
    }
    fn start_child(&self, _job: &Job, generation: u64) -> io::Result<Started> {
        if self.fail_spawn.load(Ordering::SeqCst) {
            return Err(io::Error::new(io::ErrorKind::NotFound, "no such program"));
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let child = Arc::new(FakeChild {
            pid: 4_000_000 + generation as u32,
            generation,
            obeys: *lock(&self.obeys),
            alive: AtomicBool::new(true),
            tx,
            log: Mutex::new(vec![]),
        });
        lock(&self.children).push(child.clone());
        Ok((child, rx))
    }
    fn pid_file_written(&self, _job: &Job, _pid: u32) {}
    fn pid_file_removed(&self, _job: &Job) {}
}

/// A Node app spec: fork mode unless `cluster`.
pub fn spec(cluster: bool) -> AppSpec {
    let mut s = AppSpec::new(PathBuf::from("/nonexistent/app.js"), PathBuf::from("/"));
    s.is_node = true;
    s.script_is_program = false;
    s.program = PathBuf::from("node");
    s.exec_mode = if cluster {
        ExecMode::ClusterMode
    } else {
        ExecMode::ForkMode
    };
    s
}
