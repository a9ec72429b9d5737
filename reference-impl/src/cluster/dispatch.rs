//! Round-robin dispatcher for one listening socket: an accept loop that hands each connection to the
//! next routable worker (`newconn`), requeues rejected ones, and queues connections while every worker
//! is busy (up to [`queue_max`], so an overload never overflows the kernel's listen backlog; with no
//! routable worker at all it stops accepting and the kernel backlog holds the rest).

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::sync::Notify;

use super::link::{Conn, Link};
use super::protocol::newconn_prefix;
use super::sockets;

/// Fewest accepted connections the daemon queues before it stops accepting.
const QUEUE_MIN: usize = 256;
/// Most accepted connections the daemon queues before it stops accepting.
const QUEUE_CAP: usize = 65536;

/// Accepted connections kept in the daemon before it stops accepting: half the fd limit (within
/// [`QUEUE_MIN`]..=[`QUEUE_CAP`]). Like Node's primary (which accepts until `EAGAIN`), the daemon drains
/// the kernel's accept queue while its workers are busy: a connection waiting here is served late, but
/// once the listen backlog (511) is full the kernel drops new SYNs and clients retry only after 1 s, 3 s,
/// 7 s, so a short overload would turn into connections that time out before they are even accepted.
fn queue_max() -> usize {
    static MAX: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *MAX.get_or_init(|| {
        let soft = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
            .map(|(soft, _)| soft)
            .unwrap_or(0);
        usize::try_from(soft / 2)
            .unwrap_or(QUEUE_CAP)
            .clamp(QUEUE_MIN, QUEUE_CAP)
    })
}
/// Connections accepted per wake-up before dispatching them.
const ACCEPT_BATCH: usize = 64;
/// After this many refusals in a row a connection is retried only after [`RETRY_BACKOFF`] (a worker at
/// its `maxConnections` would otherwise bounce it back and forth at IPC speed). It is never dropped.
const RETRIES_BEFORE_BACKOFF: u32 = 4;
/// Pause before retrying a connection every worker keeps refusing.
const RETRY_BACKOFF: Duration = Duration::from_millis(20);

struct State {
    workers: Vec<Arc<Link>>,
    next: usize,
    queue: VecDeque<Conn>,
    /// Connections waiting out [`RETRY_BACKOFF`] (count towards the accept limit, [`queue_max`]).
    parked: usize,
    closed: bool,
}

/// Round-robin state of one listening key.
pub struct Dispatcher {
    prefix: Vec<u8>,
    state: Mutex<State>,
    wake: Notify,
    /// Connections accepted since the last trace line (`REFPM_TRACE_RR`).
    accepted: AtomicU64,
}

impl Dispatcher {
    /// Creates the dispatcher for `key` and starts its accept loop on `listener`.
    pub fn start(key: &str, listener: Arc<OwnedFd>) -> io::Result<Arc<Self>> {
        let disp = Arc::new(Dispatcher {
            prefix: newconn_prefix(key),
            state: Mutex::new(State {
                workers: Vec::new(),
                next: 0,
                queue: VecDeque::new(),
                parked: 0,
                closed: false,
            }),
            wake: Notify::new(),
            accepted: AtomicU64::new(0),
        });
        // SAFETY: the Arc keeps the listening fd open for the AsyncFd's whole life.
        let lfd = listener.clone();
        let afd = unsafe { AsyncFd::register_with_interest(listener, Interest::READABLE) }?;
        tokio::spawn(accept_loop(disp.clone(), afd));
        if std::env::var_os("REFPM_TRACE_RR").is_some() {
            tokio::spawn(super::rr_trace::run(Arc::downgrade(&disp), lfd));
        }
        Ok(disp)
    }

    /// The `newconn` handle line up to its `seq` value.
    pub fn newconn_prefix(&self) -> &[u8] {
        &self.prefix
    }

    /// Makes `link` routable for this key.
    pub fn add(self: &Arc<Self>, link: Arc<Link>) {
        {
            let mut st = self.state.lock().unwrap();
            if !st.workers.iter().any(|w| w.id == link.id) {
                st.workers.push(link);
            }
        }
        self.wake.notify_one();
        self.pump();
    }

    /// Stops routing new connections to worker `id` (idempotent).
    pub fn remove(&self, id: u64) {
        let mut st = self.state.lock().unwrap();
        if let Some(i) = st.workers.iter().position(|w| w.id == id) {
            st.workers.remove(i);
            if st.next > i {
                st.next -= 1;
            }
        }
    }

    /// Gives `conn` to the next free worker in round-robin order, the one it should avoid only when it
    /// is the sole worker. Returns it when no worker can take it now.
    fn place(self: &Arc<Self>, st: &mut State, mut conn: Conn) -> Option<Conn> {
        let n = st.workers.len();
        for i in 0..n {
            let idx = (st.next + i) % n;
            let w = &st.workers[idx];
            if n > 1 && conn.avoid == Some(w.id) {
                continue;
            }
            match w.try_newconn(self, conn) {
                Ok(()) => {
                    st.next = (idx + 1) % n;
                    return None;
                }
                Err(c) => conn = c,
            }
        }
        st.workers.retain(|w| !w.is_dead());
        if st.next >= st.workers.len() {
            st.next = 0;
        }
        Some(conn)
    }

    /// Hands one connection to a worker, or queues it (connections are never dropped while the key is
    /// open; one refused again and again is retried after a pause).
    pub fn submit(self: &Arc<Self>, conn: Conn) {
        let mut st = self.state.lock().unwrap();
        if st.closed {
            return;
        }
        if conn.tries >= RETRIES_BEFORE_BACKOFF {
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                st.parked += 1;
                drop(st);
                let me = self.clone();
                rt.spawn(async move {
                    tokio::time::sleep(RETRY_BACKOFF).await;
                    let mut conn = conn;
                    conn.tries = 0;
                    me.state.lock().unwrap().parked -= 1;
                    me.submit(conn);
                    me.wake.notify_one();
                });
                return;
            }
        }
        if !st.queue.is_empty() {
            st.queue.push_back(conn);
            return;
        }
        if let Some(conn) = self.place(&mut st, conn) {
            st.queue.push_back(conn);
        }
    }

    fn submit_batch(self: &Arc<Self>, batch: &mut Vec<OwnedFd>) {
        self.accepted
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        let mut st = self.state.lock().unwrap();
        for fd in batch.drain(..) {
            let conn = Conn {
                fd: Arc::new(fd),
                tries: 0,
                avoid: None,
                since: Instant::now(),
            };
            if st.closed {
                continue;
            }
            if !st.queue.is_empty() {
                st.queue.push_back(conn);
            } else if let Some(conn) = self.place(&mut st, conn) {
                st.queue.push_back(conn);
            }
        }
    }

    /// Sends queued connections to workers that have room again, in order; a connection that may only
    /// go to a worker it should avoid waits without blocking the ones behind it.
    pub fn pump(self: &Arc<Self>) {
        let mut st = self.state.lock().unwrap();
        if st.queue.is_empty() {
            return;
        }
        let mut waiting = VecDeque::new();
        while let Some(conn) = st.queue.pop_front() {
            let avoids = conn.avoid.is_some();
            if let Some(conn) = self.place(&mut st, conn) {
                waiting.push_back(conn);
                if !avoids {
                    // No worker has room at all: the rest keeps its place.
                    break;
                }
            }
        }
        waiting.append(&mut st.queue);
        st.queue = waiting;
        if st.queue.len() + st.parked < queue_max() {
            self.wake.notify_one();
        }
    }

    /// Stops the accept loop and drops queued connections (the key was released).
    pub fn close(&self) {
        let mut st = self.state.lock().unwrap();
        st.closed = true;
        st.queue.clear();
        st.workers.clear();
        drop(st);
        self.wake.notify_one();
    }

    /// One line of the dispatcher's state for `REFPM_TRACE_RR` (accepted since the last line, queue,
    /// age of its head, parked, workers as `id:unanswered/oldest`); `None` once closed.
    pub(super) fn trace_line(&self) -> Option<String> {
        let st = self.state.lock().unwrap();
        if st.closed {
            return None;
        }
        let ws: Vec<String> = st
            .workers
            .iter()
            .map(|w| {
                let (n, age) = w.pending_info();
                let dead = if w.is_dead() { "!dead" } else { "" };
                format!("{}:{n}/{age}ms{dead}", w.id)
            })
            .collect();
        let head = st
            .queue
            .front()
            .map_or(0, |c| c.since.elapsed().as_millis());
        Some(format!(
            "acc={} queue={} head={head}ms parked={} workers=[{}]",
            self.accepted.swap(0, Ordering::Relaxed),
            st.queue.len(),
            st.parked,
            ws.join(" ")
        ))
    }

    fn can_accept(&self) -> Option<bool> {
        let st = self.state.lock().unwrap();
        if st.closed {
            return None;
        }
        Some(!st.workers.is_empty() && st.queue.len() + st.parked < queue_max())
    }
}

async fn accept_loop(disp: Arc<Dispatcher>, afd: AsyncFd<Arc<OwnedFd>>) {
    let mut batch = Vec::with_capacity(ACCEPT_BATCH);
    loop {
        match disp.can_accept() {
            None => return,
            Some(false) => {
                disp.wake.notified().await;
                continue;
            }
            Some(true) => {}
        }
        let mut guard = tokio::select! {
            g = afd.readable() => match g {
                Ok(g) => g,
                Err(e) => {
                    tracing::warn!("accept loop stopped: {e}");
                    return;
                }
            },
            _ = disp.wake.notified() => continue,
        };
        let mut pause = false;
        while batch.len() < ACCEPT_BATCH {
            match guard.try_io(|l| sockets::accept(l.as_raw_fd())) {
                Ok(Ok(fd)) => batch.push(fd),
                Ok(Err(e)) => match e.raw_os_error() {
                    Some(libc::ECONNABORTED | libc::EINTR | libc::EPROTO) => {}
                    _ => {
                        tracing::warn!("accept failed: {e}");
                        pause = true;
                        break;
                    }
                },
                Err(_would_block) => break,
            }
        }
        drop(guard);
        disp.submit_batch(&mut batch);
        if pause {
            // Out of fds or memory: back off instead of spinning on a readable listener.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
