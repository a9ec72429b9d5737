//! reqwest (rustls) for https, and for http in keep-alive mode (its connection pool is the keep-alive pool).

use super::http1::classify_status;
use super::reply::{Reply, classify_io};
use super::{ConnMode, Outcome};
use std::error::Error as _;
use std::time::Duration;

/// Builds the client: invalid (self-signed) certificates accepted, no proxies, HTTP/1.1 only, no retry
/// policy (hyper still resends a request that never left on a pooled connection the server had closed);
/// new-connection mode keeps no idle connection, keep-alive mode drops idle ones before Node's 5 s timeout.
pub(crate) fn client(mode: ConnMode, timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    let b = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .no_proxy()
        .http1_only()
        .timeout(timeout)
        .tcp_nodelay(true)
        // a retried request would hide a failure from the count
        .retry(reqwest::retry::never());
    let b = match mode {
        ConnMode::NewConnection => b.pool_max_idle_per_host(0),
        ConnMode::KeepAlive => b.pool_idle_timeout(Duration::from_secs(4)),
    };
    b.build()
}

/// `GET url` and classify the answer.
pub(crate) async fn get(client: &reqwest::Client, url: &str) -> Reply {
    let resp = client.get(url).send().await.map_err(|e| classify(&e))?;
    let status = resp.status().as_u16();
    let body = resp.bytes().await.map_err(|e| classify(&e))?;
    classify_status(status, &body)
}

/// Maps a reqwest error to an outcome, preferring the underlying socket error when there is one.
fn classify(e: &reqwest::Error) -> Outcome {
    if e.is_timeout() {
        return Outcome::Timeout;
    }
    let mut src = e.source();
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return classify_io(io);
        }
        src = s.source();
    }
    if e.is_body() || e.is_decode() {
        Outcome::Truncated
    } else if e.is_request() {
        // hyper's "connection closed before message completed": an early EOF
        Outcome::Reset
    } else {
        Outcome::Other
    }
}
