//! conform's HTTP/1.1 client for user apps: any method, headers and body, a per-request id in
//! `x-conform-id` (so the recorder tells which process saw which request), new connections or a
//! keep-alive pool, and the retry rule of RFC 9112 §9.3.1: a request on a *reused* connection that the
//! server closed before sending a byte of answer is retried once on a new connection, and counted apart.

use crate::load::Outcome;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Largest response read (headers and body).
const MAX_RESPONSE: usize = 4 * 1024 * 1024;

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

/// What a failed attempt tells the retry rule.
struct Failure {
    outcome: Outcome,
    /// No byte of an answer arrived before the connection closed.
    nothing_received: bool,
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

/// A parsed response.
#[derive(Debug)]
struct Response {
    status: u16,
    set_cookies: Vec<String>,
    /// The server closes the connection after it (`Connection: close`, or HTTP/1.0).
    close: bool,
}

/// The request's bytes.
fn request_bytes(host: &str, req: &Req, id: &str, keep_alive: bool) -> Vec<u8> {
    let path = if req.path.starts_with('/') {
        req.path.clone()
    } else {
        format!("/{}", req.path)
    };
    let mut s = format!(
        "{} {path} HTTP/1.1\r\nHost: {host}\r\nAccept: */*\r\nx-conform-id: {id}\r\nConnection: {}\r\n",
        req.method.to_ascii_uppercase(),
        if keep_alive { "keep-alive" } else { "close" }
    );
    for (k, v) in &req.headers {
        s.push_str(&format!("{k}: {v}\r\n"));
    }
    let body = req.body.as_deref().unwrap_or("");
    if req.body.is_some() || !matches!(req.method.to_ascii_uppercase().as_str(), "GET" | "HEAD") {
        s.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    s.push_str("\r\n");
    s.push_str(body);
    s.into_bytes()
}

/// Reads one whole response.
async fn read_response(s: &mut TcpStream, head_only: bool) -> Result<Response, Failure> {
    let mut buf = Vec::with_capacity(1024);
    loop {
        let n = match s.read_buf(&mut buf).await {
            Ok(n) => n,
            Err(e) => {
                return Err(Failure {
                    outcome: crate::load::classify_io(&e),
                    nothing_received: buf.is_empty(),
                });
            }
        };
        let eof = n == 0;
        match parse(&buf, eof, head_only) {
            Parse::Done(r) => return Ok(r),
            Parse::Bad => {
                return Err(Failure {
                    outcome: Outcome::Truncated,
                    nothing_received: false,
                });
            }
            Parse::More if eof => {
                return Err(Failure {
                    outcome: if buf.is_empty() {
                        Outcome::Reset
                    } else {
                        Outcome::Truncated
                    },
                    nothing_received: buf.is_empty(),
                });
            }
            Parse::More if buf.len() > MAX_RESPONSE => {
                return Err(Failure {
                    outcome: Outcome::Truncated,
                    nothing_received: false,
                });
            }
            Parse::More => {}
        }
    }
}

enum Parse {
    More,
    Bad,
    Done(Response),
}

/// Parses what arrived so far; `eof` completes a body without a length.
fn parse(buf: &[u8], eof: bool, head_only: bool) -> Parse {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut r = httparse::Response::new(&mut headers);
    let head_len = match r.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Parse::More,
        Err(_) => return Parse::Bad,
    };
    let status = r.code.unwrap_or(0);
    let mut length = None;
    let mut chunked = false;
    let mut close = r.version == Some(0);
    let mut set_cookies = Vec::new();
    for h in r.headers.iter() {
        let v = String::from_utf8_lossy(h.value).trim().to_string();
        if h.name.eq_ignore_ascii_case("content-length") {
            length = v.parse::<usize>().ok();
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = v.to_ascii_lowercase().contains("chunked");
        } else if h.name.eq_ignore_ascii_case("connection") {
            close = v.eq_ignore_ascii_case("close");
        } else if h.name.eq_ignore_ascii_case("set-cookie") {
            set_cookies.push(v);
        }
    }
    let body = &buf[head_len..];
    let no_body = head_only || status == 204 || status == 304 || (100..200).contains(&status);
    let complete = if no_body {
        true
    } else if chunked {
        chunked_complete(body)
    } else if let Some(n) = length {
        body.len() >= n
    } else {
        close = true;
        eof
    };
    if complete {
        Parse::Done(Response {
            status,
            set_cookies,
            close,
        })
    } else {
        Parse::More
    }
}

/// Whether a chunked body has reached its last chunk (and the empty trailer).
fn chunked_complete(mut rest: &[u8]) -> bool {
    loop {
        let Some(nl) = rest.windows(2).position(|w| w == b"\r\n") else {
            return false;
        };
        let size = std::str::from_utf8(&rest[..nl])
            .ok()
            .and_then(|t| usize::from_str_radix(t.split(';').next().unwrap_or("").trim(), 16).ok());
        let Some(size) = size else {
            return false;
        };
        rest = &rest[nl + 2..];
        if size == 0 {
            return rest.windows(2).any(|w| w == b"\r\n");
        }
        if rest.len() < size + 2 {
            return false;
        }
        rest = &rest[size + 2..];
    }
}

/// A cookie jar for one virtual client: `Set-Cookie` name=value pairs, sent back as one `Cookie` header.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Jar(Vec<(String, String)>);

impl Jar {
    /// Stores the cookies of a response (a `Max-Age=0` or empty value deletes one).
    pub fn store(&mut self, set_cookies: &[String]) {
        for sc in set_cookies {
            let first = sc.split(';').next().unwrap_or("");
            let Some((k, v)) = first.split_once('=') else {
                continue;
            };
            let (k, v) = (k.trim().to_string(), v.trim().to_string());
            let expired = sc.to_ascii_lowercase().contains("max-age=0");
            self.0.retain(|(n, _)| *n != k);
            if !expired && !v.is_empty() {
                self.0.push((k, v));
            }
        }
    }

    /// The `Cookie` header value, if any cookie is held.
    pub fn header(&self) -> Option<String> {
        (!self.0.is_empty()).then(|| {
            self.0
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(buf: &[u8], eof: bool) -> Option<(u16, bool, Vec<String>)> {
        match parse(buf, eof, false) {
            Parse::Done(r) => Some((r.status, r.close, r.set_cookies)),
            _ => None,
        }
    }

    #[test]
    fn responses_by_length_chunks_and_eof() {
        let r = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nSet-Cookie: s=1; Path=/\r\n\r\nok";
        assert_eq!(
            done(r, false),
            Some((200, false, vec!["s=1; Path=/".into()]))
        );
        assert_eq!(done(&r[..r.len() - 1], false), None);
        let c = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\nok\r\n0\r\n\r\n";
        assert_eq!(done(c, false), Some((200, true, vec![])));
        assert_eq!(done(&c[..c.len() - 2], false), None);
        let e = b"HTTP/1.1 404 Not Found\r\n\r\nnope";
        assert_eq!(done(e, false), None);
        assert_eq!(done(e, true), Some((404, true, vec![])));
        assert!(matches!(
            parse(b"SSH-2.0-x\r\n\r\n", false, false),
            Parse::Bad
        ));
    }

    #[test]
    fn jar_keeps_replaces_and_expires() {
        let mut j = Jar::default();
        j.store(&["sid=a; HttpOnly".into(), "x=1".into()]);
        j.store(&["sid=b".into()]);
        assert_eq!(j.header().as_deref(), Some("x=1; sid=b"));
        j.store(&["x=; Max-Age=0".into(), "sid=b; Max-Age=0".into()]);
        assert_eq!(j.header(), None);
    }

    #[test]
    fn request_has_id_length_and_connection() {
        let req = Req {
            method: "post".into(),
            path: "login".into(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: Some("{}".into()),
        };
        let s = String::from_utf8(request_bytes("h:1", &req, "r-1", false)).unwrap();
        assert!(s.starts_with("POST /login HTTP/1.1\r\n"), "{s}");
        assert!(s.contains("x-conform-id: r-1\r\n") && s.contains("Connection: close\r\n"));
        assert!(s.ends_with("Content-Length: 2\r\n\r\n{}"), "{s}");
    }
}
