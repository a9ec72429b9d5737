//! The write side of a channel: whoever queues a message flushes it at once with non-blocking `sendmsg`
//! (no task hop on the hot path); a writer task finishes only what a full socket refused. At most one
//! handle (fd) is in flight until the child ACKs it; NACKed handles are resent up to three times.

use crate::sync::lock;
use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::{Arc, Mutex, Weak};

use tokio::io::unix::AsyncFd;
use tokio::sync::Notify;

use super::sys;

/// Resends of one handle after `NODE_HANDLE_NACK` (Node's own limit).
const MAX_RESENDS: u8 = 3;
pub(super) type Sock = Arc<AsyncFd<OwnedFd>>;
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
pub(super) struct WriteState {
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
    /// Queues an ordinary line: it waits behind an in-flight handle, like Node's own queue.
    pub(super) fn queue_line(&mut self, line: Vec<u8>) {
        if self.inflight.is_none() && self.queue.is_empty() {
            self.push_line(&line);
        } else {
            self.queue.push_back(Queued::Line(line));
        }
    }

    /// Queues a handle line and the fd to attach to it.
    pub(super) fn queue_handle(&mut self, line: Vec<u8>, fd: Arc<OwnedFd>) {
        self.queue.push_back(Queued::Handle(HandleOut {
            line,
            fd,
            resends: 0,
        }));
    }

    /// Flush what is queued, then shut the write side down.
    pub(super) fn close(&mut self) {
        self.closing = true;
    }

    /// Appends bytes that never wait (ACK/NACK of the child's handles).
    pub(super) fn push_line(&mut self, line: &[u8]) {
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

pub(super) struct Shared {
    pub(super) sock: Sock,
    pub(super) st: Mutex<WriteState>,
    /// Wakes the writer task (socket full, close requested, or every handle dropped).
    pub(super) wake: Arc<Notify>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.wake.notify_one();
    }
}

impl Shared {
    /// Runs `f` on the state, then flushes unless the writer task owns the socket right now.
    pub(super) fn with<R>(&self, f: impl FnOnce(&mut WriteState) -> R) -> io::Result<R> {
        let mut st = lock(&self.st);
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
                    // The child reads EOF.
                    let _ = nix::sys::socket::shutdown(
                        self.sock.as_raw_fd(),
                        nix::sys::socket::Shutdown::Write,
                    );
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

    /// True once nothing can be sent any more.
    pub(super) fn is_dead(&self) -> bool {
        lock(&self.st).dead
    }

    pub(super) fn acked(&self) {
        let _ = self.with(|st| st.inflight = None);
    }

    pub(super) fn nacked(&self) {
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

pub(super) fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "ipc channel closed")
}

/// Finishes writes the senders could not (socket full) and performs a pending close.
pub(super) async fn writer(shared: Weak<Shared>, wake: Arc<Notify>) {
    loop {
        wake.notified().await;
        let Some(sh) = shared.upgrade() else {
            return;
        };
        loop {
            {
                let st = lock(&sh.st);
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
            let mut st = lock(&sh.st);
            st.blocked = false;
            sh.flush_locked(&mut st);
            if st.blocked {
                // Only forgets the readiness this guard saw; a newer event keeps the socket ready.
                guard.clear_ready();
            }
        }
    }
}
