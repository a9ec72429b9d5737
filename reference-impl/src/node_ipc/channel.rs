//! An open IPC channel: a [`Sender`] (cheap to clone; writes go out synchronously with non-blocking
//! `sendmsg`, a writer task finishes them when the socket is full; at most one fd is in flight until the
//! child ACKs it) and a [`Reader`] (parses lines, pairs received fds
//! with `NODE_HANDLE` lines and always answers them with `NODE_HANDLE_ACK`).

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::io::unix::AsyncFd;
use tokio::sync::Notify;

use super::codec::{DecodeError, LineDecoder, encode_into};
use super::sys;
use super::writer::{Shared, Sock, WriteState, writer};

const ACK_LINE: &[u8] = b"{\"cmd\":\"NODE_HANDLE_ACK\"}\n";
const NACK_LINE: &[u8] = b"{\"cmd\":\"NODE_HANDLE_NACK\"}\n";
const READ_BUF: usize = 64 * 1024;
/// Received fds kept while waiting for their `NODE_HANDLE` lines.
const MAX_PENDING_FDS: usize = 8;

/// Sending half of a channel; clones share one write state.
#[derive(Clone)]
pub struct Sender {
    shared: Arc<Shared>,
}

/// Builds `{"cmd":"NODE_HANDLE","type":<kind>,"msg":<inner>}\n`.
pub fn handle_line(kind: &str, inner: &Value) -> Vec<u8> {
    let mut line = Vec::with_capacity(128);
    line.extend_from_slice(b"{\"cmd\":\"NODE_HANDLE\",\"type\":");
    let _ = serde_json::to_writer(&mut line, kind);
    line.extend_from_slice(b",\"msg\":");
    encode_into(inner, &mut line);
    line.pop();
    line.extend_from_slice(b"}\n");
    line
}

impl Sender {
    /// Queues one message.
    pub fn send(&self, value: &Value) -> io::Result<()> {
        let mut line = Vec::with_capacity(64);
        encode_into(value, &mut line);
        self.send_line(line)
    }

    /// Queues one pre-encoded line (compact JSON ending with `\n`); it waits behind an in-flight handle,
    /// like Node's own queue.
    pub fn send_line(&self, line: Vec<u8>) -> io::Result<()> {
        self.shared.with(|st| st.queue_line(line))
    }

    /// Queues `inner` wrapped in a `NODE_HANDLE` of type `kind` (`net.Native`, `dgram.Native`) with `fd`.
    pub fn send_handle(&self, kind: &str, inner: &Value, fd: Arc<OwnedFd>) -> io::Result<()> {
        self.send_handle_line(handle_line(kind, inner), fd)
    }

    /// Queues a pre-built `NODE_HANDLE` line (see [`handle_line`]) with `fd` attached. At most one handle
    /// is in flight per channel: the next waits for the child's `NODE_HANDLE_ACK`.
    pub fn send_handle_line(&self, line: Vec<u8>, fd: Arc<OwnedFd>) -> io::Result<()> {
        self.shared.with(|st| st.queue_handle(line, fd))
    }

    /// Closes the channel from our side: queued lines are flushed, then the child reads EOF.
    pub fn close(&self) {
        let _ = self.shared.with(WriteState::close);
    }

    /// True once the channel cannot send any more (write error or closed).
    pub fn is_closed(&self) -> bool {
        self.shared.is_dead()
    }
}

/// One message read from the channel.
#[derive(Debug)]
pub enum Incoming {
    /// A message; `handle` is the fd of a `NODE_HANDLE` (then `value` is its inner `msg`).
    Message {
        /// The message (the inner `msg` of a `NODE_HANDLE`).
        value: Value,
        /// The fd the child passed with it.
        handle: Option<OwnedFd>,
    },
    /// A line that was not valid JSON.
    Invalid(DecodeError),
}

/// Receiving half of a channel.
pub struct Reader {
    sock: Sock,
    shared: Arc<Shared>,
    dec: LineDecoder,
    buf: Box<[u8]>,
    fds: VecDeque<OwnedFd>,
    eof: bool,
}

/// Wraps the parent's end of a channel (made non-blocking); spawns its writer task. Needs a tokio runtime.
pub fn open(fd: OwnedFd) -> io::Result<(Sender, Reader)> {
    sys::set_nonblocking(&fd, true)?;
    // SAFETY: `fd` is an open OwnedFd moved into the AsyncFd, which owns it until dropped.
    let sock = Arc::new(unsafe { AsyncFd::register(fd) }?);
    let wake = Arc::new(Notify::new());
    let shared = Arc::new(Shared {
        sock: sock.clone(),
        st: Mutex::new(WriteState::default()),
        wake: wake.clone(),
    });
    tokio::spawn(writer(Arc::downgrade(&shared), wake));
    let reader = Reader {
        sock,
        shared: shared.clone(),
        dec: LineDecoder::new(),
        buf: vec![0u8; READ_BUF].into_boxed_slice(),
        fds: VecDeque::new(),
        eof: false,
    };
    Ok((Sender { shared }, reader))
}

fn is_cmd(v: &Value, cmd: &str) -> bool {
    v.get("cmd").and_then(Value::as_str) == Some(cmd)
}

impl Reader {
    /// True once the peer marked a message the way Bun marks internal ones: the peer runs on Bun.
    pub fn peer_is_bun(&self) -> bool {
        self.dec.saw_mark()
    }

    /// Next message; `None` at EOF or on a read error (the channel is then dead).
    pub async fn next(&mut self) -> Option<Incoming> {
        loop {
            while let Some(res) = self.dec.next_message() {
                let value = match res {
                    Ok(v) => v,
                    Err(e) => return Some(Incoming::Invalid(e)),
                };
                if is_cmd(&value, "NODE_HANDLE_ACK") {
                    self.shared.acked();
                } else if is_cmd(&value, "NODE_HANDLE_NACK") {
                    self.shared.nacked();
                } else if is_cmd(&value, "NODE_HANDLE") {
                    let Some(fd) = self.fds.pop_front() else {
                        // The fd has not arrived with its line: ask the child to send it again.
                        let _ = self.shared.with(|st| st.push_line(NACK_LINE));
                        continue;
                    };
                    // ACK/NACK never wait behind our own in-flight handle.
                    let _ = self.shared.with(|st| st.push_line(ACK_LINE));
                    let mut value = value;
                    let inner = value.get_mut("msg").map(Value::take).unwrap_or(Value::Null);
                    return Some(Incoming::Message {
                        value: inner,
                        handle: Some(fd),
                    });
                } else {
                    return Some(Incoming::Message {
                        value,
                        handle: None,
                    });
                }
            }
            if self.eof {
                return None;
            }
            match self.read_some().await {
                Ok(0) => {
                    self.eof = true;
                    self.fds.clear();
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::debug!("ipc channel read failed: {e}");
                    self.eof = true;
                }
            }
        }
    }

    async fn read_some(&mut self) -> io::Result<usize> {
        loop {
            let mut guard = self.sock.readable().await?;
            let buf = &mut self.buf;
            let fds = &mut self.fds;
            let had_fds = fds.len();
            match guard.try_io(|s| sys::recv_with_fds(s.as_raw_fd(), buf, fds)) {
                Ok(Ok((n, truncated))) => {
                    if truncated {
                        tracing::warn!("ipc channel: passed fds were truncated");
                    }
                    // A unix stream read stops early only at an fd-carrying message or when the queue
                    // is empty: a short read without fds drained the socket, so skip the EAGAIN read.
                    // (Clearing only forgets this readiness event; data arriving later raises a new one.)
                    if n > 0 && n < buf.len() && self.fds.len() == had_fds {
                        guard.clear_ready();
                    }
                    // Fds never claimed by a NODE_HANDLE line (a misbehaving child) are not hoarded.
                    while self.fds.len() > MAX_PENDING_FDS {
                        self.fds.pop_front();
                    }
                    self.dec.feed(&self.buf[..n]);
                    return Ok(n);
                }
                Ok(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => continue,
            }
        }
    }
}
