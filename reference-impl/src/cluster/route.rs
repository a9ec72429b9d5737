//! One worker as a round-robin dispatcher sees it: whether it may get connections ([`RouteState`]),
//! the connections sent to it and not answered yet, and the ones it accepted but has not taken up
//! (read from or written to) yet, which the primary holds on to (see [`super::node_compat`]).

use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;
use std::time::Instant;

use super::link::Link;
use super::node_compat::{HOLD_DRAINING_MAX, HOLD_ROUTABLE_MAX};
use super::uptake::{Uptake, uptake};

/// Unanswered `newconn`s one worker may hold before the dispatcher skips it. One, as Node's primary does:
/// a connection goes to the next *free* worker in round-robin order, never waits behind a busy one, and a
/// Node worker takes at most one passed handle per event-loop turn anyway.
pub const MAX_OUTSTANDING: usize = 1;

/// Whether a worker gets new connections of one key. The only record of it: the channel, the balancer
/// and the daemon all ask the dispatcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteState {
    /// Gets new connections.
    Routable,
    /// Gets no new connections (reload, stop, or it disconnects by itself); answers to connections in
    /// flight are still awaited, and the worker may still be serving.
    Draining,
    /// Its channel is gone or it closed its server: nothing more is sent to it. Connections it accepted
    /// but never read wait for its exit, then go to another worker.
    Dead,
}

/// An accepted connection travelling between the dispatcher and workers.
pub struct Conn {
    /// The daemon's copy of the connection (closed once a worker took it up).
    pub fd: Arc<OwnedFd>,
    /// Times a worker refused it.
    pub tries: u32,
    /// The worker that last refused it (or went away holding it): tried last.
    pub avoid: Option<u64>,
    /// When the daemon accepted it.
    pub since: Instant,
}

impl Conn {
    /// A connection the daemon just accepted.
    pub fn new(fd: OwnedFd) -> Self {
        Conn {
            fd: Arc::new(fd),
            tries: 0,
            avoid: None,
            since: Instant::now(),
        }
    }

    /// The same connection, to be tried on another worker than `id` first.
    fn away_from(mut self, id: u64) -> Self {
        self.avoid = Some(id);
        self
    }
}

/// A connection a worker accepted; held until it reads or writes (or its hold expires).
struct Held {
    conn: Conn,
    accepted: Instant,
}

/// One worker's entry in a dispatcher.
pub struct Route {
    /// The worker's channel.
    pub link: Arc<Link>,
    /// Whether it gets new connections.
    pub state: RouteState,
    /// `newconn`s sent and not answered, by `seq`.
    pending: HashMap<u64, (Conn, Instant)>,
    held: Vec<Held>,
}

impl Route {
    /// A new entry for `link` in `state`.
    pub fn new(link: Arc<Link>, state: RouteState) -> Self {
        Route {
            link,
            state,
            pending: HashMap::new(),
            held: Vec::new(),
        }
    }

    /// Worker id.
    pub fn id(&self) -> u64 {
        self.link.id
    }

    /// True when a connection may be sent to it now.
    pub fn has_room(&self) -> bool {
        self.state == RouteState::Routable && self.pending.len() < MAX_OUTSTANDING
    }

    /// Records `conn` as sent with `seq`.
    pub fn sent(&mut self, seq: u64, conn: Conn) {
        self.pending.insert(seq, (conn, Instant::now()));
    }

    /// The worker answered `newconn` `ack`. Returns the connection when it was refused (to go to another
    /// worker); an accepted one is held until the worker takes it up. `None` too for an unknown `ack`.
    pub fn answered(&mut self, ack: u64, accepted: bool) -> Option<Conn> {
        let (mut conn, _) = self.pending.remove(&ack)?;
        if !accepted {
            conn.tries = conn.tries.saturating_add(1);
            return Some(conn.away_from(self.id()));
        }
        if uptake(conn.fd.as_raw_fd()) == Uptake::Waiting {
            self.held.push(Held {
                conn,
                accepted: Instant::now(),
            });
        }
        None
    }

    /// The channel died or sending failed: no more connections; unanswered ones are returned (the worker
    /// never got to them: its answers would have come before its channel closed).
    pub fn kill(&mut self) -> Vec<Conn> {
        self.state = RouteState::Dead;
        let id = self.id();
        self.pending
            .drain()
            .map(|(_, (c, _))| c.away_from(id))
            .collect()
    }

    /// The worker process is gone, so are its fds: every connection it had not taken up is returned.
    pub fn gone(mut self) -> Vec<Conn> {
        let id = self.id();
        let mut back = self.kill();
        back.extend(
            self.held
                .into_iter()
                .filter(|h| uptake(h.conn.fd.as_raw_fd()) == Uptake::Waiting)
                .map(|h| h.conn.away_from(id)),
        );
        back
    }

    /// Releases held connections the worker took up (or whose client left), and those held longer
    /// than [`HOLD_ROUTABLE_MAX`] (routable worker) or [`HOLD_DRAINING_MAX`] (any other). Returns how
    /// many are still held.
    pub fn sweep(&mut self) -> usize {
        let max = match self.state {
            RouteState::Routable => HOLD_ROUTABLE_MAX,
            RouteState::Draining | RouteState::Dead => HOLD_DRAINING_MAX,
        };
        self.held.retain(|h| {
            uptake(h.conn.fd.as_raw_fd()) == Uptake::Waiting && h.accepted.elapsed() < max
        });
        self.held.len()
    }

    /// Connections held.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// For tracing: `id:state:unanswered/oldest ms:held`.
    pub fn trace(&self) -> String {
        let oldest = self
            .pending
            .values()
            .map(|(_, t)| t.elapsed().as_millis())
            .max()
            .unwrap_or(0);
        let st = match self.state {
            RouteState::Routable => "r",
            RouteState::Draining => "drain",
            RouteState::Dead => "dead",
        };
        format!(
            "{}:{st}:{}/{oldest}ms:h{}",
            self.id(),
            self.pending.len(),
            self.held.len()
        )
    }
}
