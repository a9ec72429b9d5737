//! An open IPC channel: a [`Sender`] (cheap to clone; writes go out synchronously with non-blocking
//! `sendmsg`, a writer task finishes them when the socket is full; at most one fd is in flight until the
//! child ACKs it) and a [`Reader`] (parses lines, pairs received fds
//! with `NODE_HANDLE` lines and always answers them with `NODE_HANDLE_ACK`).

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::{Arc, Mutex, Weak};

use serde_json::Value;
use tokio::io::unix::AsyncFd;
use tokio::sync::Notify;

use super::codec::{DecodeError, LineDecoder, encode_into};
use super::sys;

/// Resends of one handle after `NODE_HANDLE_NACK` (Node's own limit).
const MAX_RESENDS: u8 = 3;
const ACK_LINE: &[u8] = b"{\"cmd\":\"NODE_HANDLE_ACK\"}\n";
const NACK_LINE: &[u8] = b"{\"cmd\":\"NODE_HANDLE_NACK\"}\n";
const READ_BUF: usize = 64 * 1024;

type Sock = Arc<AsyncFd<OwnedFd>>;

struct HandleOut {
    line: Vec<u8>,
    fd: Arc<OwnedFd>,
    resends: u8,
}

enum Queued {
    Line(Vec<u8>),
    Handle(HandleOut),
}

/// Write-side state. Whoever queues something flushes it right away with non-blocking `sendmsg`
/// (no task hop on the hot path); only when the socket is full does the writer task take over.
#[derive(Default)]
struct WriteState {
    /// Bytes committed to the stream in order (a handle line's rest after its fd went out).
    out: Vec<u8>,
    off: usize,
    /// Messages waiting behind the in-flight handle.
    queue: VecDeque<Queued>,
    inflight: Option<HandleOut>,
    /// The socket returned EAGAIN: the writer task waits for writability.
    blocked: bool,
    closing: bool,
    dead: bool,
}

enum Flush {
    Idle,
    Blocked,
}

impl WriteState {
    fn push_line(&mut self, line: &[u8]) {
        if self.out.is_empty() {
            self.off = 0;
        }
        self.out.extend_from_slice(line);
    }

    /// Writes as much as the socket takes without blocking.
    fn flush(&mut self, fd: RawFd) -> io::Result<Flush> {
        loop {
            if self.off < self.out.len() {
                match sys::send_with_fd(fd, &self.out[self.off..], None) {
                    Ok(n) => self.off += n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Flush::Blocked),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
                continue;
            }
            self.out.clear();
            self.off = 0;
            if self.out.capacity() > 1 << 20 {
                self.out = Vec::new();
            }
            if self.inflight.is_some() {
                return Ok(Flush::Idle);
            }
            match self.queue.pop_front() {
                None => return Ok(Flush::Idle),
                Some(Queued::Line(l)) => self.out.extend_from_slice(&l),
                Some(Queued::Handle(h)) => {
                    match sys::send_with_fd(fd, &h.line, Some(h.fd.as_raw_fd())) {
                        Ok(n) => {
                            // The rest of a partially written handle line goes without the fd.
                            self.out.extend_from_slice(&h.line[n..]);
                            self.inflight = Some(h);
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            self.queue.push_front(Queued::Handle(h));
                            return Ok(Flush::Blocked);
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                            self.queue.push_front(Queued::Handle(h));
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
        }
    }
}

struct Shared {
    sock: Sock,
    st: Mutex<WriteState>,
    /// Wakes the writer task (socket full, close requested, or every handle dropped).
    wake: Arc<Notify>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.wake.notify_one();
    }
}

impl Shared {
    /// Runs `f` on the state, then flushes unless the writer task owns the socket right now.
    fn with<R>(&self, f: impl FnOnce(&mut WriteState) -> R) -> io::Result<R> {
        let mut st = self.st.lock().unwrap();
        if st.dead {
            return Err(closed());
        }
        let r = f(&mut st);
        if !st.blocked {
            self.flush_locked(&mut st);
        }
        Ok(r)
    }

    fn flush_locked(&self, st: &mut WriteState) {
        match st.flush(self.sock.as_raw_fd()) {
            Ok(Flush::Idle) => {
                if st.closing {
                    st.dead = true;
                    // SAFETY: shutdown(2) on the fd the AsyncFd keeps open; the child reads EOF.
                    unsafe { libc::shutdown(self.sock.as_raw_fd(), libc::SHUT_WR) };
                }
            }
            Ok(Flush::Blocked) => {
                st.blocked = true;
                self.wake.notify_one();
            }
            Err(e) => {
                tracing::debug!("ipc channel write failed: {e}");
                st.dead = true;
                st.queue.clear();
                st.inflight = None;
                st.out = Vec::new();
            }
        }
    }

    fn acked(&self) {
        let _ = self.with(|st| st.inflight = None);
    }

    fn nacked(&self) {
        let _ = self.with(|st| {
            if let Some(h) = st.inflight.take() {
                if h.resends < MAX_RESENDS {
                    st.queue.push_front(Queued::Handle(HandleOut {
                        resends: h.resends + 1,
                        ..h
                    }));
                } else {
                    tracing::warn!("ipc channel: handle dropped after {MAX_RESENDS} NACKs");
                }
            }
        });
    }
}

/// Sending half of a channel; clones share one write state.
#[derive(Clone)]
pub struct Sender {
    shared: Arc<Shared>,
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "ipc channel closed")
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
        self.shared.with(|st| {
            if st.inflight.is_none() && st.queue.is_empty() {
                st.push_line(&line);
            } else {
                st.queue.push_back(Queued::Line(line));
            }
        })
    }

    /// Queues `inner` wrapped in a `NODE_HANDLE` of type `kind` (`net.Native`, `dgram.Native`) with `fd`.
    pub fn send_handle(&self, kind: &str, inner: &Value, fd: Arc<OwnedFd>) -> io::Result<()> {
        self.send_handle_line(handle_line(kind, inner), fd)
    }

    /// Queues a pre-built `NODE_HANDLE` line (see [`handle_line`]) with `fd` attached. At most one handle
    /// is in flight per channel: the next waits for the child's `NODE_HANDLE_ACK`.
    pub fn send_handle_line(&self, line: Vec<u8>, fd: Arc<OwnedFd>) -> io::Result<()> {
        self.shared.with(|st| {
            st.queue.push_back(Queued::Handle(HandleOut {
                line,
                fd,
                resends: 0,
            }))
        })
    }

    /// Closes the channel from our side: queued lines are flushed, then the child reads EOF.
    pub fn close(&self) {
        let _ = self.shared.with(|st| st.closing = true);
    }

    /// True once the channel cannot send any more (write error or closed).
    pub fn is_closed(&self) -> bool {
        self.shared.st.lock().unwrap().dead
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
    sys::set_nonblocking(fd.as_raw_fd(), true)?;
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

/// Finishes writes the senders could not (socket full) and performs a pending close.
async fn writer(shared: Weak<Shared>, wake: Arc<Notify>) {
    loop {
        wake.notified().await;
        let Some(sh) = shared.upgrade() else {
            return;
        };
        loop {
            {
                let st = sh.st.lock().unwrap();
                if st.dead {
                    return;
                }
                if !st.blocked {
                    break;
                }
            }
            let mut guard = match sh.sock.writable().await {
                Ok(g) => g,
                Err(_) => return,
            };
            let mut st = sh.st.lock().unwrap();
            st.blocked = false;
            sh.flush_locked(&mut st);
            if st.blocked {
                // Only forgets the readiness this guard saw; a newer event keeps the socket ready.
                guard.clear_ready();
            }
        }
    }
}
