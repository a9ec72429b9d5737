//! An open IPC channel: a [`Sender`] (cheap to clone; a writer task owns the socket's write side and keeps
//! at most one fd in flight until the child ACKs it) and a [`Reader`] (parses lines, pairs received fds
//! with `NODE_HANDLE` lines and always answers them with `NODE_HANDLE_ACK`).

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

use serde_json::Value;
use tokio::io::unix::AsyncFd;
use tokio::sync::mpsc;

use super::codec::{DecodeError, LineDecoder, encode_into};
use super::sys;

/// Resends of one handle after `NODE_HANDLE_NACK` (Node's own limit).
const MAX_RESENDS: u8 = 3;
const ACK_LINE: &[u8] = b"{\"cmd\":\"NODE_HANDLE_ACK\"}\n";
const NACK_LINE: &[u8] = b"{\"cmd\":\"NODE_HANDLE_NACK\"}\n";
const READ_BUF: usize = 64 * 1024;

type Sock = Arc<AsyncFd<OwnedFd>>;

enum Out {
    /// An ordinary line; waits behind an in-flight handle, like Node's own queue.
    Line(Vec<u8>),
    /// A `NODE_HANDLE` line and the fd to attach to it.
    Handle {
        line: Vec<u8>,
        fd: Arc<OwnedFd>,
        resends: u8,
    },
    /// ACK/NACK for a handle the child sent: never waits.
    Urgent(&'static [u8]),
    /// The child acknowledged the in-flight handle.
    Acked,
    /// The child did not get the in-flight handle's fd.
    Nacked,
    /// Flush what can be sent, then shut the write side down (the child sees EOF).
    Close,
}

/// Sending half of a channel; clones share one writer.
#[derive(Clone)]
pub struct Sender {
    tx: mpsc::UnboundedSender<Out>,
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

    /// Queues one pre-encoded line (compact JSON ending with `\n`).
    pub fn send_line(&self, line: Vec<u8>) -> io::Result<()> {
        self.tx.send(Out::Line(line)).map_err(|_| closed())
    }

    /// Queues `inner` wrapped in a `NODE_HANDLE` of type `kind` (`net.Native`, `dgram.Native`) with `fd`.
    pub fn send_handle(&self, kind: &str, inner: &Value, fd: Arc<OwnedFd>) -> io::Result<()> {
        self.send_handle_line(handle_line(kind, inner), fd)
    }

    /// Queues a pre-built `NODE_HANDLE` line (see [`handle_line`]) with `fd` attached.
    pub fn send_handle_line(&self, line: Vec<u8>, fd: Arc<OwnedFd>) -> io::Result<()> {
        self.tx
            .send(Out::Handle {
                line,
                fd,
                resends: 0,
            })
            .map_err(|_| closed())
    }

    /// Closes the channel from our side: queued lines are flushed, then the child reads EOF.
    pub fn close(&self) {
        let _ = self.tx.send(Out::Close);
    }

    /// True once the writer stopped (write error or every handle dropped).
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
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
    tx: mpsc::UnboundedSender<Out>,
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
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(writer(sock.clone(), rx));
    let reader = Reader {
        sock,
        tx: tx.clone(),
        dec: LineDecoder::new(),
        buf: vec![0u8; READ_BUF].into_boxed_slice(),
        fds: VecDeque::new(),
        eof: false,
    };
    Ok((Sender { tx }, reader))
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
                    let _ = self.tx.send(Out::Acked);
                } else if is_cmd(&value, "NODE_HANDLE_NACK") {
                    let _ = self.tx.send(Out::Nacked);
                } else if is_cmd(&value, "NODE_HANDLE") {
                    let Some(fd) = self.fds.pop_front() else {
                        // The fd has not arrived with its line: ask the child to send it again.
                        let _ = self.tx.send(Out::Urgent(NACK_LINE));
                        continue;
                    };
                    let _ = self.tx.send(Out::Urgent(ACK_LINE));
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
            match guard.try_io(|s| sys::recv_with_fds(s.as_raw_fd(), buf, fds)) {
                Ok(Ok((n, truncated))) => {
                    if truncated {
                        tracing::warn!("ipc channel: passed fds were truncated");
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

async fn write_all(sock: &Sock, data: &[u8], fd: Option<&OwnedFd>) -> io::Result<()> {
    let mut off = 0;
    let mut fd = fd.map(|f| f.as_raw_fd());
    while off < data.len() {
        let mut guard = sock.writable().await?;
        match guard.try_io(|s| sys::send_with_fd(s.as_raw_fd(), &data[off..], fd)) {
            Ok(Ok(n)) => {
                off += n;
                // The rest of a partially written handle line goes without the control message.
                fd = None;
            }
            Ok(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
            Ok(Err(e)) => return Err(e),
            Err(_would_block) => {}
        }
    }
    Ok(())
}

struct InFlight {
    line: Vec<u8>,
    fd: Arc<OwnedFd>,
    resends: u8,
}

#[derive(Default)]
struct WriterState {
    closing: bool,
    queue: VecDeque<Out>,
    inflight: Option<InFlight>,
    buf: Vec<u8>,
}

impl WriterState {
    fn absorb(&mut self, out: Out) {
        match out {
            Out::Line(l) if self.inflight.is_none() && self.queue.is_empty() => {
                self.buf.extend_from_slice(&l)
            }
            Out::Urgent(l) => self.buf.extend_from_slice(l),
            Out::Acked => self.inflight = None,
            Out::Close => self.closing = true,
            Out::Nacked => {
                if let Some(f) = self.inflight.take() {
                    if f.resends < MAX_RESENDS {
                        self.queue.push_front(Out::Handle {
                            line: f.line,
                            fd: f.fd,
                            resends: f.resends + 1,
                        });
                    } else {
                        tracing::warn!("ipc channel: handle dropped after {MAX_RESENDS} NACKs");
                    }
                }
            }
            other => self.queue.push_back(other),
        }
    }
}

async fn writer(sock: Sock, mut rx: mpsc::UnboundedReceiver<Out>) {
    let mut st = WriterState::default();
    while let Some(first) = rx.recv().await {
        st.absorb(first);
        while let Ok(more) = rx.try_recv() {
            st.absorb(more);
        }
        if let Err(e) = flush(&sock, &mut st).await {
            tracing::debug!("ipc channel write failed: {e}");
            break;
        }
        if st.closing {
            // SAFETY: shutdown(2) on the fd the AsyncFd keeps open.
            unsafe { libc::shutdown(sock.as_raw_fd(), libc::SHUT_WR) };
            break;
        }
    }
    // Dropping `rx` makes every later send fail; queued fds are closed with it.
}

async fn flush(sock: &Sock, st: &mut WriterState) -> io::Result<()> {
    while st.inflight.is_none() {
        match st.queue.pop_front() {
            Some(Out::Line(l)) => st.buf.extend_from_slice(&l),
            Some(Out::Handle { line, fd, resends }) => {
                if !st.buf.is_empty() {
                    write_all(sock, &st.buf, None).await?;
                    st.buf.clear();
                }
                write_all(sock, &line, Some(&fd)).await?;
                st.inflight = Some(InFlight { line, fd, resends });
            }
            Some(_) => {}
            None => break,
        }
    }
    if !st.buf.is_empty() {
        write_all(sock, &st.buf, None).await?;
        st.buf.clear();
        if st.buf.capacity() > 1 << 20 {
            st.buf = Vec::new();
        }
    }
    Ok(())
}
