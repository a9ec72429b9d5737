//! Round-robin dispatcher for one listening socket: an accept loop that hands each connection to the
//! next routable worker (`newconn`), requeues rejected ones, and queues connections while every worker
//! is busy (up to [`queue_max`], so an overload never overflows the kernel's listen backlog; with no
//! routable worker at all it stops accepting and the kernel backlog holds the rest).
//!
//! The dispatcher alone decides where connections go: it owns each worker's [`Route`] (its
//! [`RouteState`], its unanswered and its held connections). Workers' channels ([`Link`]) only carry
//! the bytes, and `sendmsg` runs after the state lock is released.

use crate::sync::lock;
use std::collections::VecDeque;
use std::io;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::sync::Notify;

use super::accept::{accept_loop, queue_max};
use super::link::Link;
use super::node_compat::HOLD_CHECK_EVERY;
use super::protocol::Newconn;
use super::route::{Conn, Route, RouteState};

/// After this many refusals in a row a connection is retried only after [`RETRY_BACKOFF`] (a worker at
/// its `maxConnections` would otherwise bounce it back and forth at IPC speed). It is never dropped.
const RETRIES_BEFORE_BACKOFF: u32 = 4;
/// Pause before retrying a connection every worker keeps refusing.
const RETRY_BACKOFF: Duration = Duration::from_millis(20);

struct State {
    /// Every worker that joined this key and is not gone, in round-robin order.
    routes: Vec<Route>,
    next: usize,
    queue: VecDeque<Conn>,
    /// Connections waiting out [`RETRY_BACKOFF`] (count towards the accept limit, [`queue_max`]).
    parked: usize,
    closed: bool,
    /// A sweep task checks held connections.
    sweeping: bool,
}

/// A `newconn` to write once the state lock is released (`sendmsg` never runs under it).
struct Outgoing {
    link: Arc<Link>,
    seq: u64,
    fd: Arc<OwnedFd>,
}

impl State {
    fn route(&mut self, id: u64) -> Option<&mut Route> {
        self.routes.iter_mut().find(|r| r.id() == id)
    }

    fn routable(&self) -> usize {
        self.routes
            .iter()
            .filter(|r| r.state == RouteState::Routable)
            .count()
    }
}

/// Round-robin state of one listening key: the owner of every worker's route state and of the
/// connections on their way to workers.
pub struct Dispatcher {
    newconn: Newconn,
    state: Mutex<State>,
    pub(super) wake: Notify,
    /// Connections accepted since the last trace line (`REFPM_TRACE_RR`).
    accepted: AtomicU64,
    /// `newconn`s a worker refused (`accepted: false`), ever.
    refusals: AtomicU64,
}

impl Dispatcher {
    /// Creates the dispatcher for `key` and starts its accept loop on `listener`.
    pub fn start(key: &str, listener: Arc<OwnedFd>) -> io::Result<Arc<Self>> {
        let disp = Arc::new(Dispatcher {
            newconn: Newconn::for_key(key),
            state: Mutex::new(State {
                routes: Vec::new(),
                next: 0,
                queue: VecDeque::new(),
                parked: 0,
                closed: false,
                sweeping: false,
            }),
            wake: Notify::new(),
            accepted: AtomicU64::new(0),
            refusals: AtomicU64::new(0),
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

    /// Adds worker `link` in `state` (a worker already known keeps its state).
    pub fn add(self: &Arc<Self>, link: Arc<Link>, state: RouteState) {
        {
            let mut st = lock(&self.state);
            if st.closed || st.route(link.id).is_some() {
                return;
            }
            st.routes.push(Route::new(link, state));
        }
        self.wake.notify_one();
        self.pump();
    }

    /// Worker `id` gets no new connections (idempotent; a dead worker stays dead).
    pub fn drain(&self, id: u64) {
        let mut st = lock(&self.state);
        if let Some(r) = st.route(id) {
            if r.state == RouteState::Routable {
                r.state = RouteState::Draining;
            }
        }
    }

    /// Worker `id`'s channel closed, a send to it failed, or it closed its server for this key: nothing
    /// more goes to it; connections it never answered go to other workers.
    pub fn kill(self: &Arc<Self>, id: u64) {
        let back = {
            let mut st = lock(&self.state);
            st.route(id).map(Route::kill).unwrap_or_default()
        };
        self.resubmit(back);
    }

    /// Worker `id`'s process is gone: connections it had not taken up go to other workers.
    pub fn gone(self: &Arc<Self>, id: u64) {
        let back = {
            let mut st = lock(&self.state);
            match st.routes.iter().position(|r| r.id() == id) {
                Some(i) => {
                    if st.next > i {
                        st.next -= 1;
                    }
                    st.routes.remove(i).gone()
                }
                None => Vec::new(),
            }
        };
        self.resubmit(back);
    }

    /// Worker `id` answered `newconn` `ack`; false when this dispatcher did not send it.
    pub fn answered(self: &Arc<Self>, id: u64, ack: u64, accepted: bool) -> bool {
        let refused = {
            let mut st = lock(&self.state);
            let Some(r) = st.route(id) else {
                return false;
            };
            let held_before = r.held();
            let refused = r.answered(ack, accepted);
            let now_held = r.held() > held_before;
            if now_held {
                self.start_sweep(&mut st);
            }
            refused
        };
        if let Some(conn) = refused {
            self.refusals.fetch_add(1, Ordering::Relaxed);
            self.submit(conn);
        }
        self.pump();
        true
    }

    /// How many `newconn`s workers refused so far.
    pub fn refusals(&self) -> u64 {
        self.refusals.load(Ordering::Relaxed)
    }

    /// The state of worker `id`'s route (`None` when it is not in this dispatcher).
    #[cfg(test)]
    pub fn state_of(&self, id: u64) -> Option<RouteState> {
        let mut st = lock(&self.state);
        st.route(id).map(|r| r.state)
    }

    fn resubmit(self: &Arc<Self>, back: Vec<Conn>) {
        for conn in back {
            self.submit(conn);
        }
        self.pump();
    }

    /// Picks the next free routable worker in round-robin order for `conn` (the one it should avoid
    /// only when it is the sole routable worker) and records it as sent. Returns it when no worker can
    /// take it now.
    fn place(&self, st: &mut State, conn: Conn, out: &mut Vec<Outgoing>) -> Option<Conn> {
        let n = st.routes.len();
        let alone = st.routable() <= 1;
        for i in 0..n {
            let idx = (st.next + i) % n;
            let r = &mut st.routes[idx];
            if !r.has_room() || (!alone && conn.avoid == Some(r.id())) {
                continue;
            }
            let seq = r.link.next_seq();
            out.push(Outgoing {
                link: r.link.clone(),
                seq,
                fd: conn.fd.clone(),
            });
            r.sent(seq, conn);
            st.next = (idx + 1) % n;
            return None;
        }
        Some(conn)
    }

    /// Writes the `newconn`s; a worker whose channel refuses one is dead to this key.
    fn send(self: &Arc<Self>, out: Vec<Outgoing>) {
        let mut failed = Vec::new();
        for o in out {
            if o.link.send_newconn(&self.newconn, o.seq, o.fd).is_err() {
                failed.push(o.link.id);
            }
        }
        for id in failed {
            self.kill(id);
        }
    }

    /// Hands one connection to a worker, or queues it (connections are never dropped while the key is
    /// open; one refused again and again is retried after a pause).
    pub fn submit(self: &Arc<Self>, conn: Conn) {
        let mut out = Vec::new();
        {
            let mut st = lock(&self.state);
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
                        lock(&me.state).parked -= 1;
                        me.submit(conn);
                        me.wake.notify_one();
                    });
                    return;
                }
            }
            if !st.queue.is_empty() {
                st.queue.push_back(conn);
            } else if let Some(conn) = self.place(&mut st, conn, &mut out) {
                st.queue.push_back(conn);
            }
        }
        self.send(out);
    }

    pub(super) fn submit_batch(self: &Arc<Self>, batch: &mut Vec<OwnedFd>) {
        self.accepted
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        let mut out = Vec::new();
        {
            let mut st = lock(&self.state);
            for fd in batch.drain(..) {
                if st.closed {
                    continue;
                }
                let conn = Conn::new(fd);
                if !st.queue.is_empty() {
                    st.queue.push_back(conn);
                } else if let Some(conn) = self.place(&mut st, conn, &mut out) {
                    st.queue.push_back(conn);
                }
            }
        }
        self.send(out);
    }

    /// Sends queued connections to workers that have room again, in order; a connection that may only
    /// go to a worker it should avoid waits without blocking the ones behind it.
    pub fn pump(self: &Arc<Self>) {
        let mut out = Vec::new();
        {
            let mut st = lock(&self.state);
            if st.queue.is_empty() {
                return;
            }
            let mut waiting = VecDeque::new();
            while let Some(conn) = st.queue.pop_front() {
                let avoids = conn.avoid.is_some();
                if let Some(conn) = self.place(&mut st, conn, &mut out) {
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
        self.send(out);
    }

    /// Starts the task that releases held connections once taken up (one per dispatcher at a time).
    fn start_sweep(self: &Arc<Self>, st: &mut State) {
        if st.sweeping {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        st.sweeping = true;
        rt.spawn(sweep_loop(Arc::downgrade(self)));
    }

    /// One sweep over every route's held connections; false when none is held any more.
    fn sweep(&self) -> bool {
        let mut st = lock(&self.state);
        let held: usize = st.routes.iter_mut().map(Route::sweep).sum();
        if held == 0 || st.closed {
            st.sweeping = false;
            return false;
        }
        true
    }

    /// Stops the accept loop and drops queued and held connections (the key was released).
    pub fn close(&self) {
        let mut st = lock(&self.state);
        st.closed = true;
        st.queue.clear();
        st.routes.clear();
        drop(st);
        self.wake.notify_one();
    }

    /// One line of the dispatcher's state for `REFPM_TRACE_RR` (accepted since the last line, queue,
    /// age of its head, parked, routes as `id:state:unanswered/oldest:held`); `None` once closed.
    pub(super) fn trace_line(&self) -> Option<String> {
        let st = lock(&self.state);
        if st.closed {
            return None;
        }
        let ws: Vec<String> = st.routes.iter().map(Route::trace).collect();
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

    pub(super) fn can_accept(&self) -> Option<bool> {
        let st = lock(&self.state);
        if st.closed {
            return None;
        }
        Some(st.routable() > 0 && st.queue.len() + st.parked < queue_max())
    }
}

async fn sweep_loop(disp: Weak<Dispatcher>) {
    loop {
        tokio::time::sleep(HOLD_CHECK_EVERY).await;
        match disp.upgrade() {
            Some(d) if d.sweep() => {}
            _ => return,
        }
    }
}
