//! Round-robin dispatcher for one listening socket: an accept loop that hands each connection to the
//! next routable worker (`newconn`), requeues rejected ones, and parks connections while no worker can
//! take them (the kernel backlog holds the rest).

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::sync::Notify;

use super::link::{Conn, Link};
use super::protocol::newconn_prefix;
use super::sockets;

/// Accepted connections kept in the daemon before it stops accepting.
const QUEUE_MAX: usize = 256;
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
    /// Connections waiting out [`RETRY_BACKOFF`] (count towards the accept limit).
    parked: usize,
    closed: bool,
}

/// Round-robin state of one listening key.
pub struct Dispatcher {
    prefix: Vec<u8>,
    state: Mutex<State>,
    wake: Notify,
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
        });
        // SAFETY: the Arc keeps the listening fd open for the AsyncFd's whole life.
        let afd = unsafe { AsyncFd::register_with_interest(listener, Interest::READABLE) }?;
        tokio::spawn(accept_loop(disp.clone(), afd));
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
        let mut st = self.state.lock().unwrap();
        for fd in batch.drain(..) {
            let conn = Conn {
                fd: Arc::new(fd),
                tries: 0,
                avoid: None,
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
        if st.queue.len() + st.parked < QUEUE_MAX {
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

    fn can_accept(&self) -> Option<bool> {
        let st = self.state.lock().unwrap();
        if st.closed {
            return None;
        }
        Some(!st.workers.is_empty() && st.queue.len() + st.parked < QUEUE_MAX)
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
