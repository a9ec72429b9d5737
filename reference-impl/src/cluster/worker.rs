//! Spawning a process with Node's IPC channel on fd 3, running its side of the cluster protocol, and
//! reporting [`WorkerEvent`]s until it is reaped.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use serde_json::Value;
use tokio::sync::mpsc;

use super::balancer::{Answer, Balancer};
use super::link::Link;
use super::protocol::{FromWorker, ack_reply, disconnect_msg, is_internal, parse_from_worker};
use super::{WorkerEvent, WorkerSpec};
use crate::node_ipc::{self, Incoming, Reader, Sender};

/// How long the exit report waits for the channel's last messages after the process was reaped.
const DRAIN_AFTER_EXIT: Duration = Duration::from_secs(1);
/// The channel's fd number in the child.
const CHILD_FD: libc::c_int = 3;

/// A running (or exited) process spawned by refpm; `Send + Sync`, share it via `Arc`.
pub struct Worker {
    pid: u32,
    alive: Arc<AtomicBool>,
    ipc: Option<Sender>,
    link: Option<Arc<Link>>,
    balancer: Arc<Balancer>,
}

type Events = mpsc::UnboundedSender<WorkerEvent>;

fn not_connected() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "process has no ipc channel")
}

impl Worker {
    /// Spawns the process in its own process group (`setpgid(0, 0)`), stdin `/dev/null`, with Node's IPC
    /// channel on fd 3 when `spec.ipc`. Must be called inside a tokio runtime, from a thread that lives
    /// as long as the process should (a runtime worker thread, not `spawn_blocking`): the child gets
    /// `PR_SET_PDEATHSIG = SIGKILL`, which Linux ties to the forking thread. The receiver gets every
    /// event; [`WorkerEvent::Exited`] is the last, sent exactly once.
    pub fn spawn(
        spec: WorkerSpec,
        balancer: Arc<Balancer>,
    ) -> io::Result<(Arc<Worker>, mpsc::UnboundedReceiver<WorkerEvent>)> {
        // The parent's end is registered before spawning, so a failure cannot leave a running child behind.
        let mut channel = None;
        let mut child_end = None;
        if spec.ipc {
            let (parent, child) = node_ipc::sys::socketpair()?;
            channel = Some(balancer.in_io(|| node_ipc::open(parent))?);
            child_end = Some(child);
        }
        let mut cmd = tokio::process::Command::new(&spec.program);
        cmd.args(&spec.args)
            .current_dir(&spec.cwd)
            .env_clear()
            .envs(
                spec.env
                    .iter()
                    .filter(|(k, _)| {
                        !matches!(
                            k.as_str(),
                            "NODE_CHANNEL_FD"
                                | "NODE_CHANNEL_SERIALIZATION_MODE"
                                | "NODE_UNIQUE_ID"
                        )
                    })
                    .map(|(k, v)| (k, v)),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::from(spec.stdout))
            .stderr(Stdio::from(spec.stderr))
            .kill_on_drop(false);
        if child_end.is_some() {
            cmd.env("NODE_CHANNEL_FD", CHILD_FD.to_string())
                .env("NODE_CHANNEL_SERIALIZATION_MODE", "json");
        }
        if let (Some(c), true) = (&spec.cluster, spec.ipc) {
            cmd.env("NODE_UNIQUE_ID", c.worker_id.to_string());
        }
        let child_raw = child_end.as_ref().map(|c| c.as_raw_fd());
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: the closure runs between fork and exec and only makes async-signal-safe calls
        // (setpgid, prctl, getppid, close_range, dup2, fcntl) on integers captured by value.
        unsafe {
            cmd.pre_exec(move || {
                if libc::setpgid(0, 0) != 0 {
                    return Err(io::Error::last_os_error());
                }
                // If the supervisor dies without stopping it (SIGKILL), the process dies too: no orphans.
                // (Tied to the spawning thread: spawns happen on runtime worker threads, which live as
                // long as the daemon.) Checking the parent afterwards closes the race with its death.
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(io::Error::last_os_error());
                }
                if libc::getppid() != parent {
                    return Err(io::Error::other("the supervisor exited during spawn"));
                }
                // Nothing the daemon holds or inherited reaches the program: every fd past stdio and
                // the channel becomes close-on-exec (marking, not closing, keeps std's exec-error
                // pipe working). Best effort on kernels without close_range (< 5.11).
                let first = if child_raw.is_some() {
                    CHILD_FD + 1
                } else {
                    CHILD_FD
                };
                libc::syscall(
                    libc::SYS_close_range,
                    first as libc::c_uint,
                    libc::c_uint::MAX,
                    libc::CLOSE_RANGE_CLOEXEC,
                );
                if let Some(fd) = child_raw {
                    if fd == CHILD_FD {
                        // dup2 onto itself would keep FD_CLOEXEC: clear it by hand.
                        if libc::fcntl(fd, libc::F_SETFD, 0) != 0 {
                            return Err(io::Error::last_os_error());
                        }
                    } else if libc::dup2(fd, CHILD_FD) < 0 {
                        return Err(io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn().map_err(|e| spawn_error(&spec.program, e))?;
        drop(child_end);
        let pid = child.id().unwrap_or(0);
        let (etx, erx) = mpsc::unbounded_channel();
        let alive = Arc::new(AtomicBool::new(true));

        let mut sender = None;
        let mut link = None;
        let mut chan_task = None;
        if let Some((tx, reader)) = channel {
            let l = spec.cluster.as_ref().map(|c| {
                Arc::new(Link::new(
                    c.worker_id,
                    c.group.clone(),
                    c.policy,
                    tx.clone(),
                ))
            });
            chan_task = Some(balancer.spawn_io(run_channel(
                reader,
                l.clone(),
                balancer.clone(),
                spec.cwd.clone(),
                etx.clone(),
            )));
            sender = Some(tx);
            link = l;
        }

        let worker = Arc::new(Worker {
            pid,
            alive: alive.clone(),
            ipc: sender.clone(),
            link: link.clone(),
            balancer: balancer.clone(),
        });
        tokio::spawn(async move {
            let status = child.wait().await;
            alive.store(false, Ordering::Release);
            if let Some(mut task) = chan_task {
                // Let the channel deliver what the process wrote before it died; a grandchild that
                // inherited fd 3 must not hold the report back.
                if tokio::time::timeout(DRAIN_AFTER_EXIT, &mut task)
                    .await
                    .is_err()
                {
                    task.abort();
                    let _ = task.await;
                    if let Some(l) = &link {
                        balancer.channel_closed(l);
                    }
                    let _ = etx.send(WorkerEvent::ChannelClosed);
                }
            }
            if let Some(l) = &link {
                balancer.gone(l);
            }
            if let Some(s) = sender {
                s.close();
            }
            let (code, signal) = match status {
                Ok(s) => (s.code(), s.signal()),
                Err(e) => {
                    tracing::warn!("waiting for pid {pid} failed: {e}");
                    (None, None)
                }
            };
            let _ = etx.send(WorkerEvent::Exited { code, signal });
        });
        Ok((worker, erx))
    }

    /// Process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Sends a user message (delivered to the app's `process.on('message')`), e.g. `json!("shutdown")`.
    pub fn send(&self, msg: Value) -> io::Result<()> {
        self.ipc.as_ref().ok_or_else(not_connected)?.send(&msg)
    }

    /// Round robin: the dispatcher gives this worker no new connections from now on (idempotent).
    pub fn stop_routing(&self) {
        if let Some(l) = &self.link {
            self.balancer.drain(l);
        }
    }

    /// Stops routing and sends the cluster `disconnect`: an unmodified worker closes its servers, finishes
    /// in-flight work and exits. A non-cluster process with a channel gets the channel closed instead.
    pub fn disconnect(&self) -> io::Result<()> {
        match (&self.link, &self.ipc) {
            (Some(l), _) => {
                self.stop_routing();
                l.send(&disconnect_msg(l.next_seq()))
            }
            (None, Some(s)) => {
                s.close();
                Ok(())
            }
            (None, None) => Err(not_connected()),
        }
    }

    /// Sends `sig` to the process (`ESRCH` once it was reaped).
    pub fn signal(&self, sig: Signal) -> nix::Result<()> {
        if !self.is_alive() || self.pid == 0 {
            return Err(nix::errno::Errno::ESRCH);
        }
        kill(Pid::from_raw(self.pid as i32), sig)
    }

    /// Sends `sig` to the process group (the whole tree, even after the leader exited).
    pub fn signal_group(&self, sig: Signal) -> nix::Result<()> {
        if self.pid == 0 {
            return Err(nix::errno::Errno::ESRCH);
        }
        killpg(Pid::from_raw(self.pid as i32), sig)
    }

    /// True until the process has been reaped.
    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::Acquire)
    }
}

fn spawn_error(program: &std::path::Path, e: io::Error) -> io::Error {
    io::Error::new(
        e.kind(),
        format!("cannot spawn {}: {e}", PathBuf::from(program).display()),
    )
}

async fn run_channel(
    mut reader: Reader,
    link: Option<Arc<Link>>,
    balancer: Arc<Balancer>,
    cwd: PathBuf,
    events: Events,
) {
    while let Some(incoming) = reader.next().await {
        if let Some(l) = &link {
            if reader.peer_is_bun() {
                l.set_bun();
            }
        }
        let (value, handle) = match incoming {
            Incoming::Message { value, handle } => (value, handle),
            Incoming::Invalid(e) => {
                tracing::warn!("worker sent an unreadable message: {e}");
                continue;
            }
        };
        // A handle the app passed us is of no use to the daemon; the reader already ACKed it.
        drop::<Option<OwnedFd>>(handle);
        if !is_internal(&value) {
            let _ = events.send(WorkerEvent::Message(value));
        } else if value.get("cmd").and_then(Value::as_str) == Some("NODE_CLUSTER") {
            if let Some(l) = &link {
                on_cluster(&value, l, &balancer, &cwd, &events);
            }
        }
    }
    if let Some(l) = &link {
        balancer.channel_closed(l);
    }
    let _ = events.send(WorkerEvent::ChannelClosed);
}

fn on_cluster(
    m: &Value,
    link: &Arc<Link>,
    balancer: &Balancer,
    cwd: &std::path::Path,
    events: &Events,
) {
    match parse_from_worker(m) {
        FromWorker::NewconnReply { ack, accepted } => {
            balancer.newconn_answered(link, ack, accepted);
        }
        FromWorker::Online => {
            let _ = events.send(WorkerEvent::Online);
        }
        FromWorker::QueryServer(q) => match balancer.query(link, &q, cwd) {
            Answer::Reply(v, join) => {
                let _ = link.send(&v);
                if let Some((d, state)) = join {
                    d.add(link.clone(), state);
                }
            }
            Answer::Handle(kind, v, fd) => {
                let _ = link.send_handle(kind, &v, fd);
            }
        },
        FromWorker::BadQuery => {
            tracing::warn!("malformed queryServer from worker {}", link.id);
        }
        FromWorker::Listening { address, port, udp } => {
            let _ = events.send(WorkerEvent::Listening { address, port, udp });
        }
        FromWorker::Close { key } => {
            if let Some(key) = key {
                balancer.leave(link, &key);
            }
            let _ = events.send(WorkerEvent::ServerClosed);
        }
        FromWorker::ExitedAfterDisconnect { seq } => {
            balancer.drain(link);
            if let Some(seq) = seq {
                let _ = link.send(&ack_reply(seq, link.next_seq()));
            }
        }
        FromWorker::Other => {}
    }
}
