//! One worker's side of the cluster protocol as the primary sees it: its channel, its `seq` counter,
//! and the connections handed to it that it has not answered yet.

use std::collections::HashMap;
use std::io::{self, Write};
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::LbPolicy;
use super::dispatch::Dispatcher;
use crate::node_ipc::Sender;

/// Unanswered `newconn`s one worker may hold before the dispatcher skips it. One, as Node's primary does:
/// a connection goes to the next *free* worker in round-robin order, never waits behind a busy one, and a
/// Node worker takes at most one passed handle per event-loop turn anyway.
pub const MAX_OUTSTANDING: usize = 1;

/// An accepted connection travelling between dispatcher and workers.
pub struct Conn {
    /// The daemon's copy of the connection (closed once a worker accepted it).
    pub fd: Arc<OwnedFd>,
    /// Times a worker refused it.
    pub tries: u32,
    /// The worker that last refused it (or died holding it): tried last.
    pub avoid: Option<u64>,
    /// When the daemon accepted it.
    pub since: std::time::Instant,
}

struct Pending {
    conn: Conn,
    disp: Arc<Dispatcher>,
    since: std::time::Instant,
}

/// The primary's state for one worker.
pub struct Link {
    /// `NODE_UNIQUE_ID`.
    pub id: u64,
    /// App group (sockets are shared within it).
    pub group: String,
    /// Load-balancing policy of the worker's app.
    pub policy: LbPolicy,
    /// The worker's channel.
    pub tx: Sender,
    seq: AtomicU64,
    pending: Mutex<HashMap<u64, Pending>>,
    dead: AtomicBool,
    /// Keys (balancer entries) this worker serves, for `stop_routing` and cleanup.
    pub keys: Mutex<Vec<String>>,
    /// False once `stop_routing` was called.
    pub routable: AtomicBool,
}

impl Link {
    /// A fresh link for a just-spawned worker.
    pub fn new(id: u64, group: String, policy: LbPolicy, tx: Sender) -> Self {
        Link {
            id,
            group,
            policy,
            tx,
            seq: AtomicU64::new(0),
            pending: Mutex::new(HashMap::new()),
            dead: AtomicBool::new(false),
            keys: Mutex::new(Vec::new()),
            routable: AtomicBool::new(true),
        }
    }

    /// Our next `seq` towards this worker.
    pub fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }

    /// Sends a message on the channel.
    pub fn send(&self, v: &Value) -> io::Result<()> {
        self.tx.send(v)
    }

    /// True once the worker's channel is gone.
    pub fn is_dead(&self) -> bool {
        self.dead.load(Ordering::Acquire)
    }

    /// Hands `conn` to this worker (`newconn`); gives it back when the worker is dead or saturated.
    pub fn try_newconn(&self, disp: &Arc<Dispatcher>, conn: Conn) -> Result<(), Conn> {
        let mut pending = self.pending.lock().unwrap();
        if self.is_dead() || pending.len() >= MAX_OUTSTANDING {
            return Err(conn);
        }
        let seq = self.next_seq();
        let prefix = disp.newconn_prefix();
        let mut line = Vec::with_capacity(prefix.len() + 24);
        line.extend_from_slice(prefix);
        let _ = writeln!(line, "{seq}}}}}");
        if self.tx.send_handle_line(line, conn.fd.clone()).is_err() {
            self.dead.store(true, Ordering::Release);
            return Err(conn);
        }
        pending.insert(
            seq,
            Pending {
                conn,
                disp: disp.clone(),
                since: std::time::Instant::now(),
            },
        );
        Ok(())
    }

    /// The worker answered `newconn` `ack`: close our copy, or hand the connection to another worker.
    pub fn on_newconn_reply(&self, ack: u64, accepted: bool) {
        let Some(p) = self.pending.lock().unwrap().remove(&ack) else {
            return;
        };
        if accepted {
            drop(p.conn);
        } else {
            let mut conn = p.conn;
            conn.tries = conn.tries.saturating_add(1);
            conn.avoid = Some(self.id);
            p.disp.submit(conn);
        }
        p.disp.pump();
    }

    /// For tracing: (unanswered newconns, age of the oldest in ms).
    pub fn pending_info(&self) -> (usize, u128) {
        let p = self.pending.lock().unwrap();
        let oldest = p
            .values()
            .map(|x| x.since.elapsed().as_millis())
            .max()
            .unwrap_or(0);
        (p.len(), oldest)
    }

    /// The channel died: no more connections; unanswered ones go to other workers.
    pub fn mark_dead(&self) {
        self.dead.store(true, Ordering::Release);
        self.routable.store(false, Ordering::Release);
        let drained: Vec<Pending> = self
            .pending
            .lock()
            .unwrap()
            .drain()
            .map(|(_, p)| p)
            .collect();
        for p in drained {
            p.disp.remove(self.id);
            let mut conn = p.conn;
            conn.avoid = Some(self.id);
            p.disp.submit(conn);
        }
    }
}
