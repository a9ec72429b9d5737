//! One request of a given spec: resolves the address once, holds the clients and pools.

use super::keepalive::{DEFAULT_CONNECTIONS, KeepAlivePool};
use super::reply::Reply;
use super::sock::UdpPool;
use super::{ConnMode, LoadSpec, Outcome, Protocol, http1, sock, web};
use std::net::{IpAddr, SocketAddr};

/// Sends requests described by a [`LoadSpec`]; shared by all request tasks of a run.
pub(crate) struct Requester {
    kind: Kind,
}

enum Kind {
    /// Hand-written HTTP/1.1, a new connection per request.
    RawHttp { addr: SocketAddr, request: Vec<u8> },
    /// http/https keep-alive: N persistent connections.
    KeepAlive(KeepAlivePool),
    /// reqwest (https, a new connection per request).
    Web {
        client: reqwest::Client,
        url: String,
    },
    /// tcp line protocol; always a new connection (the fixture closes after each answer).
    Tcp { addr: SocketAddr },
    /// udp, a fresh socket per request.
    Udp { addr: SocketAddr },
    /// udp over a pool of reused sockets.
    UdpPooled { addr: SocketAddr, pool: UdpPool },
}

impl Requester {
    /// Resolves the host and prepares clients; an unresolvable host or client failure is `Other`.
    pub(crate) async fn new(spec: &LoadSpec) -> Result<Requester, Outcome> {
        let addr = resolve(&spec.host, spec.port).await?;
        let bare = spec.host.trim_start_matches('[').trim_end_matches(']');
        let kind = match (spec.protocol, spec.mode) {
            (Protocol::Http, ConnMode::NewConnection) => Kind::RawHttp {
                addr,
                request: http1::request_bytes(bare, spec.port, &spec.path, true),
            },
            (Protocol::Http | Protocol::Https, ConnMode::KeepAlive) => {
                let connections = match spec.connections {
                    0 => DEFAULT_CONNECTIONS,
                    n => n,
                };
                let path = if spec.path.starts_with('/') {
                    spec.path.clone()
                } else {
                    format!("/{}", spec.path)
                };
                Kind::KeepAlive(KeepAlivePool::new(
                    addr,
                    (spec.protocol == Protocol::Https).then_some(bare),
                    http1::request_bytes(bare, spec.port, &path, false),
                    connections,
                )?)
            }
            (Protocol::Https, ConnMode::NewConnection) => {
                let scheme = if spec.protocol == Protocol::Https {
                    "https"
                } else {
                    "http"
                };
                let host = if bare.contains(':') {
                    format!("[{bare}]")
                } else {
                    bare.to_string()
                };
                let path = if spec.path.starts_with('/') {
                    spec.path.clone()
                } else {
                    format!("/{}", spec.path)
                };
                Kind::Web {
                    client: web::client(spec.mode, spec.timeout).map_err(|_| Outcome::Other)?,
                    url: format!("{scheme}://{host}:{}{path}", spec.port),
                }
            }
            (Protocol::Tcp, _) => Kind::Tcp { addr },
            (Protocol::Udp, ConnMode::NewConnection) => Kind::Udp { addr },
            (Protocol::Udp, ConnMode::KeepAlive) => Kind::UdpPooled {
                addr,
                pool: UdpPool::default(),
            },
        };
        Ok(Requester { kind })
    }

    /// Sends one request (without a timeout: the caller applies it).
    pub(crate) async fn send(&self) -> Reply {
        match &self.kind {
            Kind::RawHttp { addr, request } => http1::get(*addr, request).await,
            Kind::KeepAlive(pool) => pool.get().await,
            Kind::Web { client, url } => web::get(client, url).await,
            Kind::Tcp { addr } => sock::tcp_ping(*addr).await,
            Kind::Udp { addr } => sock::udp_ping(*addr).await,
            Kind::UdpPooled { addr, pool } => pool.ping(*addr).await,
        }
    }
}

/// An IP literal directly, otherwise the first address the resolver gives.
async fn resolve(host: &str, port: u16) -> Result<SocketAddr, Outcome> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    tokio::net::lookup_host((bare, port))
        .await
        .ok()
        .and_then(|mut a| a.next())
        .ok_or(Outcome::Other)
}
