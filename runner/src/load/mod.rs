//! Open-loop load generator: http, https, tcp and udp, new-connection or keep-alive.
//!
//! Request `i` is intended at `t_start + i / rate`; each request is its own tokio task, so a slow answer
//! never delays the next send (open loop). Every request is recorded with its intended and actual send
//! times, its latency measured from the *intended* time (corrected for coordinated omission), its outcome
//! and the pid/instance of the worker that served it.
//!
//! Transports: plain http in new-connection mode is hand-written HTTP/1.1 over a fresh tokio
//! `TcpStream` with `Connection: close` (cheap, and refused/reset/truncated come straight from the socket);
//! https in new-connection mode goes through reqwest with rustls (`pool_max_idle_per_host(0)`); http and
//! https keep-alive use [`keepalive`]: N client connections, each reused request after request, no retry. tcp always opens a new connection (the fixture closes
//! after each answer); udp uses a fresh socket per request, or a pool of reused sockets in keep-alive mode.
//!
//! Bounds: a run stops by itself after `duration` or `max_requests`, whichever comes first; at most
//! [`MAX_IN_FLIGHT`] requests are outstanding (a request due beyond that is recorded as `Other`, unsent);
//! every request ends by its `timeout`. Dropping a [`LoadRun`] stops its schedule.
//!
//! API additions (nothing of the agreed API changed): [`MAX_IN_FLIGHT`]; `Outcome` serialises as
//! its `as_str` name; `LoadSpec`, `RequestRecord` and `LoadResult` derive `PartialEq`.

mod http1;
mod keepalive;
mod reply;
pub(crate) use reply::classify_io;
mod requester;
mod result;
mod run;
mod sock;
mod web;

pub use keepalive::DEFAULT_CONNECTIONS;
pub use result::LoadResult;
pub use run::{LoadRun, MAX_IN_FLIGHT, probe};

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Transport the load is sent over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// Plain HTTP/1.1 `GET`.
    Http,
    /// HTTP/1.1 over TLS (self-signed certificates accepted).
    Https,
    /// A TCP connection: `ping\n` out, one JSON line back.
    Tcp,
    /// A datagram `ping` out, one JSON datagram back.
    Udp,
}

/// Whether each request opens its own connection (or socket) or reuses a pool of persistent ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConnMode {
    /// A fresh TCP connection (udp: a fresh socket) per request.
    NewConnection,
    /// A pool of persistent connections reused across requests.
    KeepAlive,
}

/// What to send, where, how fast and for how long.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadSpec {
    /// Transport.
    pub protocol: Protocol,
    /// Host to connect to (`127.0.0.1`, `::1`, `localhost`).
    pub host: String,
    /// Port to connect to.
    pub port: u16,
    /// Request path for http/https (`/`, `/slow`); ignored for tcp/udp.
    pub path: String,
    /// Requests per second (open loop); 0 sends nothing.
    pub rate: u32,
    /// Issue requests for at most this long.
    pub duration: Duration,
    /// Issue at most this many requests.
    pub max_requests: u64,
    /// Connection handling.
    pub mode: ConnMode,
    /// A request unanswered after this long is a `Timeout` (a failure).
    pub timeout: Duration,
    /// http/https keep-alive: the client's connections, each reused request after request (0 means
    /// [`DEFAULT_CONNECTIONS`]); ignored otherwise.
    pub connections: u32,
}

/// How one request ended; serialised as [`Outcome::as_str`] (`ok`, `5xx`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// A well-formed reply naming the serving pid.
    Ok,
    /// The connection was refused (nothing listening).
    Refused,
    /// The connection was reset or closed before any reply (ECONNRESET, EPIPE, early EOF).
    Reset,
    /// Keep-alive: a request sent on a reused connection that the server closed or reset before any
    /// byte of the response (the race `Connection: close` exists to avoid).
    #[serde(rename = "reset-reused")]
    ResetReused,
    /// The connection was closed or reset after part of the response.
    #[serde(rename = "reset-mid-response")]
    ResetMidResponse,
    /// No complete reply within the timeout.
    Timeout,
    /// An HTTP status 500–599.
    #[serde(rename = "5xx")]
    Status5xx,
    /// A reply arrived but was not the expected JSON (cut short or malformed).
    Truncated,
    /// Anything else (other statuses, local errors, in-flight cap exceeded).
    Other,
}

impl Outcome {
    /// Short name used in figures: `ok`, `refused`, `reset`, `reset-reused`, `reset-mid-response`,
    /// `timeout`, `5xx`, `truncated`, `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Refused => "refused",
            Outcome::Reset => "reset",
            Outcome::ResetReused => "reset-reused",
            Outcome::ResetMidResponse => "reset-mid-response",
            Outcome::Timeout => "timeout",
            Outcome::Status5xx => "5xx",
            Outcome::Truncated => "truncated",
            Outcome::Other => "other",
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One request as it happened. Times are milliseconds since the run's `t0`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestRecord {
    /// When the open-loop schedule intended to send it.
    pub intended_ms: f64,
    /// When it was actually sent (connection attempt began).
    pub sent_ms: f64,
    /// From the intended send time to the reply or failure (coordinated-omission corrected).
    pub latency_ms: f64,
    /// How it ended.
    pub outcome: Outcome,
    /// Pid of the worker that answered, when it answered.
    pub pid: Option<u32>,
    /// Instance variable of the worker that answered, when it had one.
    pub instance: Option<String>,
}

#[cfg(test)]
mod tests;
