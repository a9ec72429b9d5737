//! A keep-alive HTTP/1.1 client as real ones behave: at most N connections, each reused for request
//! after request (Node's `http.Agent({keepAlive: true, maxSockets: N})`, nginx `keepalive N` upstreams).
//!
//! A request waits for one of the N slots (the wait counts in its latency), takes the idle connection
//! that has waited longest (FIFO, so every connection stays in use) or opens a new one, and gives the
//! connection back after a complete response unless the server said `Connection: close`. There is no
//! retry of any kind: a request sent on a reused connection that the server closes or resets before any
//! byte of the response is [`Outcome::ResetReused`]; one cut after some bytes is
//! [`Outcome::ResetMidResponse`]. Plain http and https (rustls, any certificate accepted).

use super::Outcome;
use super::http1::{Parsed, classify_status, parse_response};
use super::reply::{Reply, classify_io};
use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::ServerName;

/// Client connections when a spec does not say.
pub const DEFAULT_CONNECTIONS: u32 = 8;

/// Largest response accepted; the fixtures answer a few dozen bytes.
const MAX_RESPONSE: usize = 64 * 1024;

/// A byte stream the pool can reuse: plain tcp or tls over tcp.
trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// One persistent connection and how many responses it has carried.
struct Conn {
    io: Box<dyn Io>,
    served: u64,
}

/// N persistent connections to one address, shared by all request tasks of a run.
pub(crate) struct KeepAlivePool {
    addr: SocketAddr,
    tls: Option<(TlsConnector, ServerName<'static>)>,
    request: Vec<u8>,
    slots: Semaphore,
    idle: Mutex<VecDeque<Conn>>,
}

impl KeepAlivePool {
    /// A pool of `connections` (at least 1) to `addr`; `tls_host` turns on TLS with that SNI name.
    pub(crate) fn new(
        addr: SocketAddr,
        tls_host: Option<&str>,
        request: Vec<u8>,
        connections: u32,
    ) -> Result<KeepAlivePool, Outcome> {
        let tls = match tls_host {
            Some(host) => {
                let name = ServerName::try_from(host.to_string())
                    .or_else(|_| ServerName::try_from(addr.ip().to_string()))
                    .map_err(|_| Outcome::Other)?;
                Some((TlsConnector::from(Arc::new(any_cert_config())), name))
            }
            None => None,
        };
        let n = connections.max(1) as usize;
        Ok(KeepAlivePool {
            addr,
            tls,
            request,
            slots: Semaphore::new(n),
            idle: Mutex::new(VecDeque::with_capacity(n)),
        })
    }

    /// Sends one request on a pooled (or new) connection and classifies the answer.
    pub(crate) async fn get(&self) -> Reply {
        let Ok(_slot) = self.slots.acquire().await else {
            return Err(Outcome::Other);
        };
        let mut conn = loop {
            let pooled = self.idle.lock().ok().and_then(|mut q| q.pop_front());
            match pooled {
                // as Node's agent drops a pooled socket on its 'end': never reuse one the server closed
                Some(mut c) => {
                    if still_open(&mut c).await {
                        break c;
                    }
                }
                None => break self.connect().await?,
            }
        };
        let reused = conn.served > 0;
        match exchange(&mut conn, &self.request).await {
            Ok((reply, keep)) => {
                conn.served += 1;
                if keep && let Ok(mut q) = self.idle.lock() {
                    q.push_back(conn);
                }
                reply
            }
            Err(failure) => Err(failure.outcome(reused)),
        }
    }

    /// A new connection (TLS handshake included); failures classify as on a fresh connection.
    async fn connect(&self) -> Result<Conn, Outcome> {
        let tcp = TcpStream::connect(self.addr)
            .await
            .map_err(|e| classify_io(&e))?;
        let _ = tcp.set_nodelay(true);
        let io: Box<dyn Io> = match &self.tls {
            Some((connector, name)) => Box::new(
                connector
                    .connect(name.clone(), tcp)
                    .await
                    .map_err(|e| classify_io(&e))?,
            ),
            None => Box::new(tcp),
        };
        Ok(Conn { io, served: 0 })
    }
}

/// True when an idle connection has neither been closed by the server nor received stray bytes
/// (one non-blocking read; a real client learns the same from its event loop).
async fn still_open(conn: &mut Conn) -> bool {
    let mut probe = [0u8; 1];
    std::future::poll_fn(|cx| {
        let mut rb = tokio::io::ReadBuf::new(&mut probe);
        match std::pin::Pin::new(&mut conn.io).poll_read(cx, &mut rb) {
            std::task::Poll::Pending => std::task::Poll::Ready(true),
            std::task::Poll::Ready(_) => std::task::Poll::Ready(false),
        }
    })
    .await
}

/// Why an exchange failed, before the reuse of the connection is taken into account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// Closed or reset before any byte of the response.
    BeforeResponse(Outcome),
    /// Closed or reset after part of the response.
    MidResponse,
    /// A complete answer that is not HTTP/1.x, or too long.
    Bad,
}

impl Failure {
    /// The outcome recorded: a reset before the response on a reused connection is its own class.
    fn outcome(self, reused: bool) -> Outcome {
        match self {
            Failure::BeforeResponse(Outcome::Reset) if reused => Outcome::ResetReused,
            Failure::BeforeResponse(o) => o,
            Failure::MidResponse => Outcome::ResetMidResponse,
            Failure::Bad => Outcome::Truncated,
        }
    }
}

/// Writes the request and reads one response; `Ok((reply, keep))` where `keep` says the connection
/// may carry another request.
async fn exchange(conn: &mut Conn, request: &[u8]) -> Result<(Reply, bool), Failure> {
    let before = |e: io::Error| Failure::BeforeResponse(classify_io(&e));
    conn.io.write_all(request).await.map_err(before)?;
    conn.io.flush().await.map_err(before)?;
    let mut buf = Vec::with_capacity(256);
    loop {
        let n = match conn.io.read_buf(&mut buf).await {
            Ok(n) => n,
            Err(e) if buf.is_empty() => return Err(before(e)),
            Err(_) => return Err(Failure::MidResponse),
        };
        let eof = n == 0;
        match parse_response(&buf, eof) {
            Parsed::Done { status, body } => {
                let keep = !eof && keeps_alive(&buf);
                return Ok((classify_status(status, &body), keep));
            }
            Parsed::Bad => return Err(Failure::Bad),
            Parsed::Incomplete if eof && buf.is_empty() => {
                return Err(Failure::BeforeResponse(Outcome::Reset));
            }
            Parsed::Incomplete if eof => return Err(Failure::MidResponse),
            Parsed::Incomplete if buf.len() > MAX_RESPONSE => return Err(Failure::Bad),
            Parsed::Incomplete => {}
        }
    }
}

/// True when the response head lets the connection be reused: HTTP/1.1 without `Connection: close`.
pub(crate) fn keeps_alive(response: &[u8]) -> bool {
    let head_end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(response.len());
    let Ok(head) = std::str::from_utf8(&response[..head_end]) else {
        return false;
    };
    let mut lines = head.split("\r\n");
    if !lines.next().is_some_and(|l| l.starts_with("HTTP/1.1 ")) {
        return false;
    }
    !lines.any(|l| {
        l.split_once(':').is_some_and(|(k, v)| {
            k.trim().eq_ignore_ascii_case("connection")
                && v.split(',').any(|t| t.trim().eq_ignore_ascii_case("close"))
        })
    })
}

/// A rustls client configuration that accepts any certificate (the fixtures' are self-signed) but
/// still checks the handshake signatures.
fn any_cert_config() -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(AnyCert(provider.clone()));
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map(|b| {
            b.dangerous()
                .with_custom_certificate_verifier(verifier)
                .with_no_client_auth()
        })
        .unwrap_or_else(|_| {
            // the ring provider supports the safe defaults; this branch is never taken
            rustls::ClientConfig::builder()
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth()
        })
}

/// Accepts any server certificate.
#[derive(Debug)]
struct AnyCert(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_close_and_http10_end_reuse() {
        assert!(keeps_alive(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
        ));
        assert!(keeps_alive(
            b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\n"
        ));
        assert!(!keeps_alive(
            b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
        ));
        assert!(!keeps_alive(
            b"HTTP/1.1 200 OK\r\nconnection:  Upgrade, Close\r\n\r\n"
        ));
        assert!(!keeps_alive(b"HTTP/1.0 200 OK\r\n\r\n"));
    }

    #[test]
    fn resets_are_classified_by_reuse_and_progress() {
        let before = Failure::BeforeResponse(Outcome::Reset);
        assert_eq!(before.outcome(true), Outcome::ResetReused);
        assert_eq!(before.outcome(false), Outcome::Reset);
        assert_eq!(
            Failure::BeforeResponse(Outcome::Timeout).outcome(true),
            Outcome::Timeout
        );
        assert_eq!(
            Failure::MidResponse.outcome(false),
            Outcome::ResetMidResponse
        );
        assert_eq!(Failure::Bad.outcome(true), Outcome::Truncated);
    }
}
