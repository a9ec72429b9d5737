//! A minimal HTTP/1.1 GET over a fresh connection, for answers whose body matters (counter app).

use serde_json::Value;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `GET path` on 127.0.0.1:port; returns the status code and the JSON body.
pub async fn get_json(port: u16, path: &str, timeout: Duration) -> Result<(u16, Value), String> {
    let fut = async {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .map_err(|e| e.to_string())?;
        let req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        s.write_all(req.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&buf);
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or("no status line")?;
        let body = text.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
        // tolerate chunked encoding: take the first {...} in the body
        let json = body
            .find('{')
            .and_then(|a| body.rfind('}').map(|b| &body[a..=b]))
            .unwrap_or("null");
        Ok((status, serde_json::from_str(json).unwrap_or(Value::Null)))
    };
    tokio::time::timeout(timeout, fut)
        .await
        .unwrap_or_else(|_| Err("timeout".to_string()))
}
