//! HTTP/1.1 on the wire for conform's app client: the request's bytes, and reading one whole response
//! (by length, chunks or end of stream) with what a failure tells the retry rule.

use super::client::Req;
use crate::load::Outcome;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// Largest response read (headers and body).
const MAX_RESPONSE: usize = 4 * 1024 * 1024;

/// What a failed attempt tells the retry rule.
pub struct Failure {
    /// How it ended.
    pub outcome: Outcome,
    /// No byte of an answer arrived before the connection closed.
    pub nothing_received: bool,
}

/// A parsed response.
#[derive(Debug)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// `Set-Cookie` headers.
    pub set_cookies: Vec<String>,
    /// The server closes the connection after it (`Connection: close`, or HTTP/1.0).
    pub close: bool,
}

/// The request's bytes.
pub fn request_bytes(host: &str, req: &Req, id: &str, keep_alive: bool) -> Vec<u8> {
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
pub async fn read_response(s: &mut TcpStream, head_only: bool) -> Result<Response, Failure> {
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
