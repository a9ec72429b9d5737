//! conform's HTTP/1.1 client for user apps: any method, headers and body, a per-request id in
//! `x-conform-id` (so the recorder tells which process saw which request), new connections or a
//! keep-alive pool, and the retry rule of RFC 9112 §9.3.1: a request on a *reused* connection that the
//! server closed before sending a byte of answer is retried once on a new connection, and counted apart.

pub use super::jar::Jar;

use super::http1::{Failure, Response, read_response, request_bytes};
use crate::load::Outcome;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// One request to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Req {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Body, if any.
    pub body: Option<String>,
}

impl Req {
    /// A bare `GET path`.
    pub fn get(path: &str) -> Req {
        Req {
            method: "GET".into(),
            path: path.into(),
            headers: Vec::new(),
            body: None,
        }
    }
}

/// How one exchange ended, as the client saw it. Times are ms since the caller's origin.
#[derive(Debug, Clone, PartialEq)]
pub struct Exchange {
    /// conform's id (the `x-conform-id` header) of the last attempt.
    pub id: String,
    /// Id of a first attempt that was retried, if any.
    pub retried_id: Option<String>,
    /// `Ok` for any complete response with a status below 500 (the caller judges statuses).
    pub outcome: Outcome,
    /// Status, when a response arrived.
    pub status: Option<u16>,
    /// `Set-Cookie` headers.
    pub set_cookies: Vec<String>,
    /// Local port of the connection of the last attempt (the recorder knows it as `rport`).
    pub local_port: Option<u16>,
    /// Local port of the retried first attempt.
    pub retried_port: Option<u16>,
    /// When it was sent.
    pub sent_ms: f64,
    /// How long until it ended.
    pub latency_ms: f64,
}

impl Exchange {
    /// A complete response with a 2xx status.
    pub fn ok_2xx(&self) -> bool {
        self.outcome == Outcome::Ok && self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// An open connection.
struct Conn {
    stream: TcpStream,
    port: u16,
}

/// Sends requests to one address; shared by every task of a phase.
pub struct Client {
    addr: SocketAddr,
    host: String,
    timeout: Duration,
    origin: Instant,
    next_id: AtomicU64,
    prefix: String,
    idle: Mutex<Vec<Conn>>,
}

impl Client {
    /// A client for `127.0.0.1:port`; ids are `<prefix>-<n>`, times are measured from `origin`.
    pub fn new(port: u16, timeout: Duration, origin: Instant, prefix: &str) -> Client {
        Client {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            host: format!("127.0.0.1:{port}"),
            timeout,
            origin,
            next_id: AtomicU64::new(0),
            prefix: prefix.to_string(),
            idle: Mutex::new(Vec::new()),
        }
    }

    fn ms(&self, t: Instant) -> f64 {
        t.saturating_duration_since(self.origin).as_secs_f64() * 1000.0
    }

    fn id(&self) -> String {
        format!(
            "{}-{}",
            self.prefix,
            self.next_id.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// Sends `req` on a new connection (`Connection: close`).
    pub async fn once(&self, req: &Req) -> Exchange {
        let sent = Instant::now();
        let id = self.id();
        let (res, port) =
            match tokio::time::timeout(self.timeout, self.attempt(None, req, &id, false)).await {
                Ok((r, port)) => (r, port),
                Err(_) => (Err(timeout()), None),
            };
        self.finish(sent, id, None, None, res.map(|(r, _)| r), port)
    }

    /// Sends `req` on a pooled keep-alive connection (a new one when none is idle), retrying once on a
    /// new connection when a reused one was closed before any answer.
    pub async fn keep_alive(&self, req: &Req) -> Exchange {
        let sent = Instant::now();
        let deadline = sent + self.timeout;
        let id = self.id();
        let pooled = self.idle.lock().ok().and_then(|mut v| v.pop());
        let reused = pooled.is_some();
        let run = |conn: Option<Conn>, id: String| async move {
            tokio::time::timeout_at(deadline.into(), self.attempt(conn, req, &id, true))
                .await
                .unwrap_or((Err(timeout()), None))
        };
        let (res, port) = run(pooled, id.clone()).await;
        match res {
            Err(f) if reused && f.nothing_received && f.outcome != Outcome::Timeout => {
                let second = self.id();
                let (res2, port2) = run(None, second.clone()).await;
                self.finish(
                    sent,
                    second,
                    Some(id),
                    port,
                    res2.map(|r| self.pool(r)),
                    port2,
                )
            }
            other => self.finish(sent, id, None, None, other.map(|r| self.pool(r)), port),
        }
    }

    /// Puts a connection back in the pool unless the server said it closes it.
    fn pool(&self, (resp, conn): (Response, Option<Conn>)) -> Response {
        if let (Some(c), false) = (conn, resp.close) {
            if let Ok(mut v) = self.idle.lock() {
                v.push(c);
            }
        }
        resp
    }

    /// Opens `count` keep-alive connections that stay idle in the pool after one request each;
    /// returns the exchanges.
    pub async fn warm_pool(&self, req: &Req, count: usize) -> Vec<Exchange> {
        let mut conns = Vec::new();
        let mut out = Vec::new();
        for _ in 0..count {
            let sent = Instant::now();
            let id = self.id();
            let (res, port) =
                tokio::time::timeout(self.timeout, self.attempt(None, req, &id, true))
                    .await
                    .unwrap_or((Err(timeout()), None));
            let res = res.map(|(r, c)| {
                conns.extend(c.filter(|_| !r.close));
                r
            });
            out.push(self.finish(sent, id, None, None, res, port));
        }
        if let Ok(mut v) = self.idle.lock() {
            v.extend(conns);
        }
        out
    }

    /// Local ports of the idle pooled connections.
    pub fn idle_ports(&self) -> Vec<u16> {
        self.idle
            .lock()
            .map(|v| v.iter().map(|c| c.port).collect())
            .unwrap_or_default()
    }

    /// Takes the idle connections out of the pool (to watch them close).
    pub fn take_idle(&self) -> Vec<(u16, TcpStream)> {
        self.idle
            .lock()
            .map(|mut v| v.drain(..).map(|c| (c.port, c.stream)).collect())
            .unwrap_or_default()
    }

    fn finish(
        &self,
        sent: Instant,
        id: String,
        retried_id: Option<String>,
        retried_port: Option<u16>,
        res: Result<Response, Failure>,
        port: Option<u16>,
    ) -> Exchange {
        let mut e = Exchange {
            id,
            retried_id,
            outcome: Outcome::Ok,
            status: None,
            set_cookies: Vec::new(),
            local_port: port,
            retried_port,
            sent_ms: self.ms(sent),
            latency_ms: sent.elapsed().as_secs_f64() * 1000.0,
        };
        match res {
            Ok(r) => {
                e.outcome = if r.status >= 500 {
                    Outcome::Status5xx
                } else {
                    Outcome::Ok
                };
                e.status = Some(r.status);
                e.set_cookies = r.set_cookies;
            }
            Err(f) => e.outcome = f.outcome,
        }
        e
    }

    /// One attempt on `conn` (or a new connection); returns the response and the connection when it may
    /// be reused, and the local port used.
    async fn attempt(
        &self,
        conn: Option<Conn>,
        req: &Req,
        id: &str,
        keep_alive: bool,
    ) -> (Result<(Response, Option<Conn>), Failure>, Option<u16>) {
        let mut conn = match conn {
            Some(c) => c,
            None => match TcpStream::connect(self.addr).await {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    let port = s.local_addr().map(|a| a.port()).unwrap_or(0);
                    Conn { stream: s, port }
                }
                Err(e) => {
                    return (
                        Err(Failure {
                            outcome: crate::load::classify_io(&e),
                            nothing_received: true,
                        }),
                        None,
                    );
                }
            },
        };
        let port = Some(conn.port);
        let bytes = request_bytes(&self.host, req, id, keep_alive);
        if let Err(e) = conn.stream.write_all(&bytes).await {
            return (
                Err(Failure {
                    outcome: crate::load::classify_io(&e),
                    nothing_received: true,
                }),
                port,
            );
        }
        let res = read_response(&mut conn.stream, req.method.eq_ignore_ascii_case("HEAD")).await;
        match res {
            Ok(r) => {
                let reuse = keep_alive && !r.close;
                (Ok((r, reuse.then_some(conn))), port)
            }
            Err(f) => (Err(f), port),
        }
    }
}

fn timeout() -> Failure {
    Failure {
        outcome: Outcome::Timeout,
        nothing_received: false,
    }
}
