//! Raw tcp and udp requests against the tcp/udp fixtures.

use super::Outcome;
use super::reply::{Reply, classify_io, parse_identity};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Mutex;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

/// Largest reply line accepted.
const MAX_LINE: usize = 64 * 1024;

/// tcp: connects, sends `ping\n`, reads one JSON line (the server then closes).
pub(crate) async fn tcp_ping(addr: SocketAddr) -> Reply {
    let mut s = TcpStream::connect(addr)
        .await
        .map_err(|e| classify_io(&e))?;
    let _ = s.set_nodelay(true);
    s.write_all(b"ping\n").await.map_err(|e| classify_io(&e))?;
    let mut buf = Vec::with_capacity(128);
    loop {
        let n = s.read_buf(&mut buf).await.map_err(|e| classify_io(&e))?;
        if let Some(nl) = buf.iter().position(|&b| b == b'\n') {
            if n != 0 {
                tokio::spawn(drain(s));
            }
            return parse_identity(&buf[..nl]);
        }
        if n == 0 {
            return if buf.is_empty() {
                Err(Outcome::Reset)
            } else {
                parse_identity(&buf)
            };
        }
        if buf.len() > MAX_LINE {
            return Err(Outcome::Truncated);
        }
    }
}

/// Waits briefly for the server's FIN so the server side closes first.
async fn drain(mut s: TcpStream) {
    let mut sink = [0u8; 256];
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Ok(n) = s.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
}

/// A socket bound to an ephemeral port of `addr`'s family and connected to `addr`.
async fn connected_socket(addr: SocketAddr) -> Result<UdpSocket, Outcome> {
    let local: SocketAddr = if addr.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let sock = UdpSocket::bind(local).await.map_err(|e| classify_io(&e))?;
    sock.connect(addr).await.map_err(|e| classify_io(&e))?;
    Ok(sock)
}

/// One `ping` datagram out, one JSON datagram back, on `sock`.
async fn udp_exchange(sock: &UdpSocket) -> Reply {
    sock.send(b"ping").await.map_err(|e| classify_io(&e))?;
    let mut buf = vec![0u8; 65_536];
    let n = sock.recv(&mut buf).await.map_err(|e| classify_io(&e))?;
    parse_identity(&buf[..n])
}

/// udp with a fresh socket per request, so the kernel sees a distinct client each time.
pub(crate) async fn udp_ping(addr: SocketAddr) -> Reply {
    let sock = connected_socket(addr).await?;
    udp_exchange(&sock).await
}

/// A pool of connected udp sockets for keep-alive mode; a socket goes back only after a clean exchange,
/// so a late reply to a timed-out request can never be read as the answer to a later one.
#[derive(Default)]
pub(crate) struct UdpPool {
    idle: Mutex<Vec<UdpSocket>>,
}

impl UdpPool {
    /// One exchange on a pooled (or new) socket.
    pub(crate) async fn ping(&self, addr: SocketAddr) -> Reply {
        let pooled = self.idle.lock().map(|mut v| v.pop()).unwrap_or(None);
        let sock = match pooled {
            Some(s) => s,
            None => connected_socket(addr).await?,
        };
        let reply = udp_exchange(&sock).await;
        if reply.is_ok() {
            if let Ok(mut v) = self.idle.lock() {
                v.push(sock);
            }
        }
        reply
    }
}
