//! Outcome classification for each transport.

use super::servers::{self, Behaviour};
use crate::load::{Outcome, Protocol, probe};
use std::time::Duration;

const T: Duration = Duration::from_secs(5);

async fn http_probe(b: Behaviour, timeout: Duration) -> Result<(u32, Option<String>), Outcome> {
    let s = servers::http(b).await;
    probe(Protocol::Http, "127.0.0.1", s.addr.port(), "/", timeout).await
}

#[tokio::test]
async fn http_ok_with_length_and_chunked() {
    assert_eq!(
        http_probe(Behaviour::Json, T).await,
        Ok((4242, Some("0".into())))
    );
    assert_eq!(
        http_probe(Behaviour::JsonChunked, T).await,
        Ok((4242, Some("0".into())))
    );
}

#[tokio::test]
async fn http_failures() {
    assert_eq!(
        http_probe(Behaviour::Truncated, T).await,
        Err(Outcome::Truncated)
    );
    assert_eq!(
        http_probe(Behaviour::Unavailable, T).await,
        Err(Outcome::Status5xx)
    );
    assert_eq!(http_probe(Behaviour::Reset, T).await, Err(Outcome::Reset));
    assert_eq!(http_probe(Behaviour::Eof, T).await, Err(Outcome::Reset));
    assert_eq!(
        http_probe(Behaviour::Silent, Duration::from_millis(300)).await,
        Err(Outcome::Timeout)
    );
}

#[tokio::test]
async fn refused_on_a_closed_port_for_every_stream_protocol() {
    let port = servers::closed_port();
    for p in [Protocol::Http, Protocol::Https, Protocol::Tcp] {
        assert_eq!(
            probe(p, "127.0.0.1", port, "/", T).await,
            Err(Outcome::Refused),
            "{p:?}"
        );
    }
}

#[tokio::test]
async fn udp_to_a_closed_port_is_refused() {
    // the kernel answers ICMP port unreachable on loopback, which a connected socket reports
    let port = servers::closed_port();
    let r = probe(Protocol::Udp, "127.0.0.1", port, "/", T).await;
    assert_eq!(r, Err(Outcome::Refused));
}

#[tokio::test]
async fn tcp_and_udp_ok() {
    let t = servers::tcp_line().await;
    assert_eq!(
        probe(Protocol::Tcp, "127.0.0.1", t.addr.port(), "", T).await,
        Ok((4243, Some("1".into())))
    );
    let u = servers::udp().await;
    assert_eq!(
        probe(Protocol::Udp, "127.0.0.1", u.addr.port(), "", T).await,
        Ok((4244, None))
    );
}

#[tokio::test]
async fn keep_alive_http_classifies_too() {
    use crate::load::{ConnMode, LoadRun, LoadSpec};
    for (b, want) in [
        (Behaviour::Json, "ok"),
        (Behaviour::Unavailable, "5xx"),
        (Behaviour::Silent, "timeout"),
        (Behaviour::Truncated, "reset-mid-response"),
    ] {
        let s = servers::http(b).await;
        let spec = LoadSpec {
            protocol: Protocol::Http,
            host: "127.0.0.1".into(),
            port: s.addr.port(),
            path: "/".into(),
            rate: 50,
            duration: Duration::from_millis(100),
            max_requests: 5,
            mode: ConnMode::KeepAlive,
            timeout: Duration::from_millis(500),
            connections: 0,
        };
        let r = LoadRun::start(spec, std::time::Instant::now())
            .finish()
            .await;
        assert_eq!(r.records.len(), 5, "{b:?}");
        assert_eq!(
            r.outcomes().get(want),
            Some(&5),
            "{b:?}: {:?}",
            r.outcomes()
        );
    }
}

#[tokio::test]
async fn keep_alive_reset_on_a_reused_connection_is_its_own_class() {
    use crate::load::{ConnMode, LoadRun, LoadSpec};
    // one connection: requests 1, 3, 5 open it and are answered; 2 and 4 go out on it reused and
    // the server closes without a byte. No retry hides them.
    let s = servers::http(Behaviour::DropSecond).await;
    let spec = LoadSpec {
        protocol: Protocol::Http,
        host: "127.0.0.1".into(),
        port: s.addr.port(),
        path: "/".into(),
        rate: 20,
        duration: Duration::from_secs(1),
        max_requests: 5,
        mode: ConnMode::KeepAlive,
        timeout: Duration::from_secs(5),
        connections: 1,
    };
    let r = LoadRun::start(spec, std::time::Instant::now())
        .finish()
        .await;
    let o = r.outcomes();
    assert_eq!(
        (o.get("ok"), o.get("reset-reused"), r.records.len()),
        (Some(&3), Some(&2), 5),
        "{o:?}"
    );
    assert_eq!(s.accepted(), 3);
}
