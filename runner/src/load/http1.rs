//! A minimal HTTP/1.1 client over a fresh tokio `TcpStream` per request (`Connection: close`).
//!
//! Used for plain http in new-connection mode: it is cheaper than a pooled client and classifies
//! refused/reset/truncated precisely from the socket errors.

use super::Outcome;
use super::reply::{Reply, classify_io, parse_identity};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Largest response accepted; the fixtures answer a few dozen bytes.
const MAX_RESPONSE: usize = 64 * 1024;

/// How long a finished connection is kept open waiting for the server's FIN, so the server closes first.
const DRAIN: Duration = Duration::from_secs(2);

/// The request bytes for `GET path` on `host:port`; `close` adds `Connection: close`.
pub(crate) fn request_bytes(host: &str, port: u16, path: &str, close: bool) -> Vec<u8> {
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    let connection = if close { "Connection: close\r\n" } else { "" };
    format!("GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{connection}Accept: */*\r\n\r\n")
        .into_bytes()
}

/// Sends one request over a new connection and classifies the answer.
pub(crate) async fn get(addr: SocketAddr, request: &[u8]) -> Reply {
    let mut s = TcpStream::connect(addr)
        .await
        .map_err(|e| classify_io(&e))?;
    let _ = s.set_nodelay(true);
    s.write_all(request).await.map_err(|e| classify_io(&e))?;
    let mut buf = Vec::with_capacity(512);
    loop {
        let n = match s.read_buf(&mut buf).await {
            Ok(n) => n,
            Err(e) => return Err(classify_io(&e)),
        };
        let eof = n == 0;
        match parse_response(&buf, eof) {
            Parsed::Done { status, body } => {
                if !eof {
                    tokio::spawn(drain(s));
                }
                return classify_status(status, &body);
            }
            Parsed::Bad => return Err(Outcome::Truncated),
            Parsed::Incomplete if eof => {
                return Err(if buf.is_empty() {
                    Outcome::Reset
                } else {
                    Outcome::Truncated
                });
            }
            Parsed::Incomplete if buf.len() > MAX_RESPONSE => return Err(Outcome::Truncated),
            Parsed::Incomplete => {}
        }
    }
}

/// Reads until the server closes (or [`DRAIN`] passes), then drops the connection.
async fn drain(mut s: TcpStream) {
    let mut sink = [0u8; 256];
    let _ = tokio::time::timeout(DRAIN, async {
        while let Ok(n) = s.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
}

/// Maps a status and body to a reply: 2xx with the identity JSON is ok, 5xx is `Status5xx`.
pub(crate) fn classify_status(status: u16, body: &[u8]) -> Reply {
    match status {
        200..=299 => parse_identity(body),
        500..=599 => Err(Outcome::Status5xx),
        _ => Err(Outcome::Other),
    }
}

/// Result of parsing the bytes received so far.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Parsed {
    /// More bytes are needed.
    Incomplete,
    /// Not HTTP/1.x.
    Bad,
    /// A whole response.
    Done {
        /// Status code.
        status: u16,
        /// Body (de-chunked).
        body: Vec<u8>,
    },
}

/// Parses a response; `eof` says the server closed, which completes a body without a length.
pub(crate) fn parse_response(buf: &[u8], eof: bool) -> Parsed {
    let Some(head_end) = find(buf, b"\r\n\r\n") else {
        if buf.len() >= 5 && !buf.starts_with(b"HTTP/") {
            return Parsed::Bad;
        }
        return Parsed::Incomplete;
    };
    let Ok(head) = std::str::from_utf8(&buf[..head_end]) else {
        return Parsed::Bad;
    };
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.split(' ');
    let (Some(version), Some(code)) = (parts.next(), parts.next()) else {
        return Parsed::Bad;
    };
    let Ok(status) = code.parse::<u16>() else {
        return Parsed::Bad;
    };
    if !version.starts_with("HTTP/1.") {
        return Parsed::Bad;
    }
    let mut length = None;
    let mut chunked = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            match value.parse::<usize>() {
                Ok(n) => length = Some(n),
                Err(_) => return Parsed::Bad,
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        }
    }
    let body = &buf[head_end + 4..];
    if chunked {
        return match dechunk(body) {
            Some(Some(b)) => Parsed::Done { status, body: b },
            Some(None) => Parsed::Incomplete,
            None => Parsed::Bad,
        };
    }
    match length {
        Some(n) if body.len() >= n => Parsed::Done {
            status,
            body: body[..n].to_vec(),
        },
        Some(_) => Parsed::Incomplete,
        None if eof => Parsed::Done {
            status,
            body: body.to_vec(),
        },
        None => Parsed::Incomplete,
    }
}

/// Decodes a chunked body: `Some(Some(body))` when complete, `Some(None)` when more is needed, `None` if malformed.
fn dechunk(mut rest: &[u8]) -> Option<Option<Vec<u8>>> {
    let mut out = Vec::new();
    loop {
        let Some(line_end) = find(rest, b"\r\n") else {
            return Some(None);
        };
        let size_text = std::str::from_utf8(&rest[..line_end]).ok()?;
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16).ok()?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Some(Some(out));
        }
        if rest.len() < size + 2 {
            return Some(None);
        }
        out.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_body() {
        let r = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        assert_eq!(
            parse_response(r, false),
            Parsed::Done {
                status: 200,
                body: b"hello".to_vec()
            }
        );
        assert_eq!(parse_response(&r[..r.len() - 1], false), Parsed::Incomplete);
    }

    #[test]
    fn chunked_body() {
        let r = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        assert_eq!(
            parse_response(r, false),
            Parsed::Done {
                status: 200,
                body: b"abcde".to_vec()
            }
        );
        assert_eq!(parse_response(&r[..60], false), Parsed::Incomplete);
    }

    #[test]
    fn body_until_eof_and_garbage() {
        let r = b"HTTP/1.0 503 Busy\r\n\r\nxx";
        assert_eq!(parse_response(r, false), Parsed::Incomplete);
        assert_eq!(
            parse_response(r, true),
            Parsed::Done {
                status: 503,
                body: b"xx".to_vec()
            }
        );
        assert_eq!(parse_response(b"SSH-2.0-x\r\n", false), Parsed::Bad);
    }

    #[test]
    fn statuses() {
        assert_eq!(classify_status(502, b""), Err(Outcome::Status5xx));
        assert_eq!(classify_status(404, b""), Err(Outcome::Other));
        assert_eq!(classify_status(200, br#"{"pid":1}"#), Ok((1, None)));
        assert_eq!(classify_status(200, b"{"), Err(Outcome::Truncated));
    }

    #[test]
    fn ipv6_host_header_is_bracketed() {
        let r = String::from_utf8(request_bytes("::1", 80, "/", true)).unwrap();
        assert!(r.contains("Host: [::1]:80\r\n"), "{r}");
    }
}
