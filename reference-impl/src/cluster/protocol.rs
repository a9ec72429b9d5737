//! The cluster sub-protocol's messages: parsing `queryServer`, building the primary's replies.

use std::net::SocketAddr;

use serde_json::{Value, json};

/// What kind of server a worker asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerKind {
    /// TCP (`addressType` 4 or 6, or absent).
    Tcp,
    /// A Unix socket path (`addressType` -1).
    Pipe,
    /// UDP (`addressType` "udp4" / "udp6").
    Udp { v6: bool },
}

/// A worker's `queryServer`.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The worker's `seq` for this message (our reply's `ack`).
    pub seq: u64,
    /// Requested address; `None` = all addresses.
    pub address: Option<String>,
    /// Requested port (0 = random, shared by the group).
    pub port: u16,
    /// Server kind.
    pub kind: ServerKind,
    /// `flags` (Node 22+): bit 0 = ipv6Only.
    pub flags: u64,
    /// Opaque key naming this server, unique per worker, equal across the workers of a group.
    pub key: String,
    /// The server's `data` (TLS servers send their session `ticketKeys`); the primary keeps the first
    /// worker's and hands it to every worker of the key, as Node's primary does.
    pub data: Value,
}

/// Reads a `queryServer` message; `None` when it is malformed.
pub fn parse_query(m: &Value) -> Option<Query> {
    let seq = m.get("seq")?.as_u64()?;
    let address = m.get("address").and_then(Value::as_str).map(str::to_owned);
    let at = m.get("addressType").unwrap_or(&Value::Null);
    let kind = match (at.as_str(), at.as_i64()) {
        (Some("udp4"), _) => ServerKind::Udp { v6: false },
        (Some("udp6"), _) => ServerKind::Udp { v6: true },
        (_, Some(-1)) => ServerKind::Pipe,
        _ => ServerKind::Tcp,
    };
    let port = match m.get("port").and_then(Value::as_i64) {
        Some(p) if (0..=65535).contains(&p) => p as u16,
        _ if kind == ServerKind::Pipe => 0,
        None => 0,
        Some(_) => return None,
    };
    let flags = m.get("flags").and_then(Value::as_u64).unwrap_or(0);
    let show = |v: Option<&Value>| match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    };
    let key = format!(
        "{}:{}:{}:{}:{}",
        show(m.get("address")),
        show(m.get("port")),
        show(m.get("addressType")),
        show(m.get("fd")),
        show(m.get("index")),
    );
    Some(Query {
        seq,
        address,
        port,
        kind,
        flags,
        key,
        data: m.get("data").cloned().unwrap_or(Value::Null),
    })
}

/// True for Node's internal messages (object with a string `cmd` starting with `NODE_`).
pub fn is_internal(m: &Value) -> bool {
    matches!(m.get("cmd").and_then(Value::as_str), Some(c) if c.len() > 5 && c.starts_with("NODE_"))
}

/// Round-robin answer: no fd, `errno: null`, the listener's `sockname` (absent for pipes).
pub fn rr_reply(q: &Query, sockname: Option<SocketAddr>, seq: u64) -> Value {
    let mut v = json!({"cmd": "NODE_CLUSTER", "errno": null, "key": q.key, "ack": q.seq, "data": null, "seq": seq});
    if let Some(a) = sockname {
        let family = if a.is_ipv6() { "IPv6" } else { "IPv4" };
        v["sockname"] = json!({"address": a.ip().to_string(), "family": family, "port": a.port()});
    }
    v
}

/// Shared-handle answer (sent inside a `NODE_HANDLE` with the bound socket).
pub fn shared_reply(q: &Query, seq: u64) -> Value {
    json!({"cmd": "NODE_CLUSTER", "errno": 0, "key": q.key, "ack": q.seq, "data": null, "seq": seq})
}

/// Failure answer: `errno` is the negative errno (libuv code), e.g. -98 for EADDRINUSE.
pub fn error_reply(q: &Query, errno: i32, seq: u64) -> Value {
    json!({"cmd": "NODE_CLUSTER", "errno": -errno.abs(), "key": q.key, "ack": q.seq, "data": null, "seq": seq})
}

/// Bare acknowledgement of a worker message (e.g. `exitedAfterDisconnect`).
pub fn ack_reply(ack: u64, seq: u64) -> Value {
    json!({"cmd": "NODE_CLUSTER", "ack": ack, "seq": seq})
}

/// The primary-initiated graceful stop.
pub fn disconnect_msg(seq: u64) -> Value {
    json!({"cmd": "NODE_CLUSTER", "act": "disconnect", "seq": seq})
}

/// Prefix of a `newconn` handle line up to the `seq` value; the caller appends `<seq>}}\n`.
pub fn newconn_prefix(key: &str) -> Vec<u8> {
    let mut p = b"{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Native\",\"msg\":{\"cmd\":\"NODE_CLUSTER\",\"act\":\"newconn\",\"key\":".to_vec();
    let _ = serde_json::to_writer(&mut p, key);
    p.extend_from_slice(b",\"seq\":");
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_node20_query() {
        let m = json!({"cmd":"NODE_CLUSTER","act":"queryServer","index":0,"data":null,"address":null,"port":3000,"addressType":4,"flags":0,"backlog":0,"seq":1});
        let q = parse_query(&m).unwrap();
        assert_eq!(
            (q.seq, q.port, q.kind, q.address.clone()),
            (1, 3000, ServerKind::Tcp, None)
        );
        assert_eq!(q.key, ":3000:4::0");
        let u = parse_query(
            &json!({"seq":2,"address":"0.0.0.0","port":0,"addressType":"udp4","index":0}),
        )
        .unwrap();
        assert_eq!(u.kind, ServerKind::Udp { v6: false });
        let p = parse_query(&json!({"seq":2,"address":"/tmp/x.sock","port":-1,"addressType":-1}))
            .unwrap();
        assert_eq!(p.kind, ServerKind::Pipe);
        assert!(parse_query(&json!({"seq":2,"port":70000})).is_none());
        assert!(parse_query(&json!({"port":1})).is_none());
    }

    #[test]
    fn replies_have_node_shape() {
        let q = parse_query(&json!({"seq":1,"address":null,"port":3000,"addressType":4,"index":0}))
            .unwrap();
        let r = rr_reply(&q, Some("[::]:3000".parse().unwrap()), 7);
        assert_eq!(
            r["sockname"],
            json!({"address":"::","family":"IPv6","port":3000})
        );
        assert_eq!(
            (r["errno"].clone(), r["ack"].clone(), r["seq"].clone()),
            (Value::Null, json!(1), json!(7))
        );
        assert_eq!(error_reply(&q, 98, 8)["errno"], json!(-98));
        let line = [newconn_prefix("k\"1").as_slice(), b"5}}\n"].concat();
        let v: Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(
            v["msg"],
            json!({"cmd":"NODE_CLUSTER","act":"newconn","key":"k\"1","seq":5})
        );
        assert!(is_internal(&json!({"cmd":"NODE_HANDLE_ACK"})));
        assert!(!is_internal(&json!({"cmd":"NODE_"})));
        assert!(!is_internal(&json!("ready")));
    }
}
