//! One worker's channel as the primary sees it: who it is and how to write to it. Nothing here decides
//! where connections go: routing (route state, connections in flight) belongs to the dispatchers.

use std::io;
use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde_json::Value;

use super::LbPolicy;
use super::protocol::{Dialect, Newconn, handle_message_line, internal_line};
use crate::node_ipc::Sender;

/// The primary's channel to one cluster worker.
pub struct Link {
    /// `NODE_UNIQUE_ID`.
    pub id: u64,
    /// App group (sockets are shared within it).
    pub group: String,
    /// Load-balancing policy of the worker's app.
    pub policy: LbPolicy,
    tx: Sender,
    seq: AtomicU64,
    /// The worker marks its internal messages as Bun does: answer in Bun's framing.
    bun: AtomicBool,
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
            bun: AtomicBool::new(false),
        }
    }

    /// Our next `seq` towards this worker.
    pub fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }

    /// The worker turned out to run on Bun (its messages carry Bun's internal mark).
    pub fn set_bun(&self) {
        self.bun.store(true, Ordering::Relaxed);
    }

    /// How the worker frames internal messages.
    pub fn dialect(&self) -> Dialect {
        if self.bun.load(Ordering::Relaxed) {
            Dialect::Bun
        } else {
            Dialect::Node
        }
    }

    /// Sends an internal (cluster) message on the channel.
    pub fn send(&self, v: &Value) -> io::Result<()> {
        self.tx.send_line(internal_line(self.dialect(), v))
    }

    /// Sends the internal message `inner` with `fd` attached (a handle of Node type `kind`).
    pub fn send_handle(&self, kind: &str, inner: &Value, fd: Arc<OwnedFd>) -> io::Result<()> {
        self.tx
            .send_handle_line(handle_message_line(self.dialect(), kind, inner), fd)
    }

    /// Sends connection `fd` as `newconn` `seq`.
    pub fn send_newconn(&self, newconn: &Newconn, seq: u64, fd: Arc<OwnedFd>) -> io::Result<()> {
        self.tx
            .send_handle_line(newconn.line(self.dialect(), seq), fd)
    }
}
