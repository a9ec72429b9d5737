//! Tiny in-process servers that answer like the fixtures, or misbehave on purpose.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::JoinHandle;

/// How a test http server answers.
#[derive(Clone, Copy, Debug)]
pub enum Behaviour {
    /// 200 with `{"pid":4242,"instance":"0"}`.
    Json,
    /// 200 with chunked encoding of the same JSON.
    JsonChunked,
    /// Accepts, reads the request, never answers.
    Silent,
    /// Announces 40 bytes of body, sends a few, closes.
    Truncated,
    /// 503.
    Unavailable,
    /// Reads the request and closes with RST.
    Reset,
    /// Closes right after reading the request, without a byte.
    Eof,
    /// Keep-alive: answers the first request of a connection (no `Connection: close`), then reads the
    /// second and closes without a byte, as a server racing to close an idle connection does.
    DropSecond,
}

/// A server running until dropped; held connections (for `Silent`) die with it.
pub struct TestServer {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
    _held: Arc<Mutex<Vec<TcpStream>>>,
    accepted: Arc<AtomicUsize>,
}

impl TestServer {
    /// Connections accepted so far (http servers only).
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::Relaxed)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts an http server on 127.0.0.1 with the given behaviour.
pub async fn http(behaviour: Behaviour) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let held = Arc::new(Mutex::new(Vec::new()));
    let held2 = Arc::clone(&held);
    let accepted = Arc::new(AtomicUsize::new(0));
    let accepted2 = Arc::clone(&accepted);
    let task = tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            accepted2.fetch_add(1, Ordering::Relaxed);
            let held = Arc::clone(&held2);
            tokio::spawn(answer(s, behaviour, held));
        }
    });
    TestServer {
        addr,
        task,
        _held: held,
        accepted,
    }
}

async fn read_head(s: &mut TcpStream) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

const BODY: &str = r#"{"pid":4242,"instance":"0"}"#;

async fn answer(mut s: TcpStream, behaviour: Behaviour, held: Arc<Mutex<Vec<TcpStream>>>) {
    read_head(&mut s).await;
    if let Behaviour::DropSecond = behaviour {
        let first = format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{BODY}",
            BODY.len()
        );
        let _ = s.write_all(first.as_bytes()).await;
        read_head(&mut s).await;
        return;
    }
    let reply = match behaviour {
        Behaviour::Json => format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{BODY}",
            BODY.len()
        ),
        Behaviour::JsonChunked => format!(
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{BODY}\r\n0\r\n\r\n",
            BODY.len()
        ),
        Behaviour::Truncated => {
            "HTTP/1.1 200 OK\r\ncontent-length: 40\r\n\r\n{\"pid\":42".to_string()
        }
        Behaviour::Unavailable => {
            "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n".to_string()
        }
        Behaviour::Silent => {
            held.lock().unwrap().push(s);
            return;
        }
        Behaviour::Reset => {
            // linger 0 makes the close an RST; with a zero timeout the drop does not block
            #[allow(deprecated)]
            let _ = s.set_linger(Some(std::time::Duration::ZERO));
            return;
        }
        Behaviour::Eof | Behaviour::DropSecond => return,
    };
    let _ = s.write_all(reply.as_bytes()).await;
    let _ = s.shutdown().await;
}

/// A tcp line server answering `{"pid":4243,"instance":"1"}\n` to each connection's first line.
pub async fn tcp_line() -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 64];
                while !buf.contains(&b'\n') {
                    match s.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let _ = s.write_all(b"{\"pid\":4243,\"instance\":\"1\"}\n").await;
                let _ = s.shutdown().await;
            });
        }
    });
    TestServer {
        addr,
        task,
        _held: Arc::default(),
        accepted: Arc::default(),
    }
}

/// A udp server answering each datagram with `{"pid":4244,"instance":null}`.
pub async fn udp() -> TestServer {
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = sock.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut buf = [0u8; 512];
        while let Ok((_, from)) = sock.recv_from(&mut buf).await {
            let _ = sock.send_to(br#"{"pid":4244,"instance":null}"#, from).await;
        }
    });
    TestServer {
        addr,
        task,
        _held: Arc::default(),
        accepted: Arc::default(),
    }
}

/// A port on 127.0.0.1 that nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}
