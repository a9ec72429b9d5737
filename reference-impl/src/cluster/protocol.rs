//! The cluster sub-protocol's messages: parsing `queryServer`, building the primary's replies.

use std::io::Write;
use std::net::SocketAddr;

use serde_json::{Value, json};

use crate::node_ipc::codec::{INTERNAL_MARK, encode_into};
use crate::node_ipc::handle_line;

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

/// How a worker's runtime frames internal messages on the json channel (see [`super::node_compat`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Node: plain JSON lines; a message with an fd is wrapped in
    /// `{"cmd":"NODE_HANDLE","type":<kind>,"msg":<message>}`.
    Node,
    /// Bun: every internal message starts with the byte `0x02`; a message with an fd is the message
    /// itself with `"$hasHandle":true` (the fd rides on the same `sendmsg`). Bun ACKs handles as Node.
    Bun,
}

/// One internal message (from the primary) as a line for `dialect`.
pub fn internal_line(dialect: Dialect, v: &Value) -> Vec<u8> {
    let mut line = Vec::with_capacity(96);
    if dialect == Dialect::Bun {
        line.push(INTERNAL_MARK);
    }
    encode_into(v, &mut line);
    line
}

/// An internal message that carries an fd (`kind` is Node's handle type, `net.Native` or
/// `dgram.Native`), as a line for `dialect`.
pub fn handle_message_line(dialect: Dialect, kind: &str, inner: &Value) -> Vec<u8> {
    match dialect {
        Dialect::Node => handle_line(kind, inner),
        Dialect::Bun => {
            let mut v = inner.clone();
            v["$hasHandle"] = Value::Bool(true);
            internal_line(dialect, &v)
        }
    }
}

/// The primary's `newconn` line for one key, sent with the connection's fd: Node's
/// `{"cmd":"NODE_HANDLE","type":"net.Native","msg":{"cmd":"NODE_CLUSTER","act":"newconn","key":<key>,
/// "seq":<seq>}}` or Bun's `\x02{"cmd":"NODE_CLUSTER","act":"newconn","key":<key>,"$hasHandle":true,
/// "seq":<seq>}`. The key part is encoded once per listening key; each line only appends its `seq`.
pub struct Newconn {
    node: Vec<u8>,
    bun: Vec<u8>,
}

impl Newconn {
    /// The line builder for connections of `key`.
    pub fn for_key(key: &str) -> Self {
        let mut key_json = Vec::new();
        let _ = serde_json::to_writer(&mut key_json, key);
        let node = [
            b"{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Native\",\"msg\":{\"cmd\":\"NODE_CLUSTER\",\"act\":\"newconn\",\"key\":".as_slice(),
            &key_json,
            b",\"seq\":",
        ]
        .concat();
        let bun = [
            &[INTERNAL_MARK][..],
            b"{\"cmd\":\"NODE_CLUSTER\",\"act\":\"newconn\",\"key\":",
            &key_json,
            b",\"$hasHandle\":true,\"seq\":",
        ]
        .concat();
        Newconn { node, bun }
    }

    /// The complete line (ending in `\n`) for the connection sent with `seq`.
    pub fn line(&self, dialect: Dialect, seq: u64) -> Vec<u8> {
        let (prefix, close) = match dialect {
            Dialect::Node => (&self.node, "}}"),
            Dialect::Bun => (&self.bun, "}"),
        };
        let mut line = Vec::with_capacity(prefix.len() + 24);
        line.extend_from_slice(prefix);
        let _ = writeln!(line, "{seq}{close}");
        line
    }
}

/// A worker's `NODE_CLUSTER` message, as the primary acts on it.
#[derive(Debug, Clone, PartialEq)]
pub enum FromWorker {
    /// The answer to our `newconn` `seq = ack`: `accepted` false = the worker refused it (no server for
    /// the key any more, or at its `maxConnections`).
    NewconnReply {
        /// Our `newconn`'s `seq`.
        ack: u64,
        /// True when the worker took the connection.
        accepted: bool,
    },
    /// `act:online`: the worker bootstrapped.
    Online,
    /// `act:queryServer`: the worker asks for a listening socket.
    QueryServer(Query),
    /// A `queryServer` we could not read.
    BadQuery,
    /// `act:listening`: the worker serves on this address.
    Listening {
        /// Bound address (`::` when the worker listened on all addresses).
        address: String,
        /// Actual port.
        port: u16,
        /// True for a dgram (UDP) socket.
        udp: bool,
    },
    /// `act:close`: the worker closed its server for `key` (`None` when the message carried none).
    Close {
        /// The server's key.
        key: Option<String>,
    },
    /// `act:exitedAfterDisconnect`: the worker disconnects by itself; it wants an ack of `seq`.
    ExitedAfterDisconnect {
        /// The message's `seq` (our ack's `ack`).
        seq: Option<u64>,
    },
    /// Anything else (ignored).
    Other,
}

/// Reads a worker's `NODE_CLUSTER` message.
pub fn parse_from_worker(m: &Value) -> FromWorker {
    match m.get("act").and_then(Value::as_str) {
        None => match (
            m.get("ack").and_then(Value::as_u64),
            m.get("accepted").and_then(Value::as_bool),
        ) {
            (Some(ack), Some(accepted)) => FromWorker::NewconnReply { ack, accepted },
            _ => FromWorker::Other,
        },
        Some("online") => FromWorker::Online,
        Some("queryServer") => parse_query(m).map_or(FromWorker::BadQuery, FromWorker::QueryServer),
        Some("listening") => {
            let at = m.get("addressType").unwrap_or(&Value::Null);
            FromWorker::Listening {
                address: m
                    .get("address")
                    .and_then(Value::as_str)
                    .unwrap_or("::")
                    .to_owned(),
                port: m
                    .get("port")
                    .and_then(Value::as_u64)
                    .and_then(|p| u16::try_from(p).ok())
                    .unwrap_or(0),
                udp: matches!(at.as_str(), Some("udp4" | "udp6")),
            }
        }
        Some("close") => FromWorker::Close {
            key: m.get("key").and_then(Value::as_str).map(str::to_owned),
        },
        Some("exitedAfterDisconnect") => FromWorker::ExitedAfterDisconnect {
            seq: m.get("seq").and_then(Value::as_u64),
        },
        Some(_) => FromWorker::Other,
    }
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
        let newconn = Newconn::for_key("k\"1");
        let line = newconn.line(Dialect::Node, 5);
        assert!(line.ends_with(b"}}\n"));
        let v: Value = serde_json::from_slice(&line).unwrap();
        let bun = newconn.line(Dialect::Bun, 5);
        assert_eq!(bun[0], INTERNAL_MARK);
        let b: Value = serde_json::from_slice(&bun[1..]).unwrap();
        assert_eq!(
            b,
            json!({"cmd":"NODE_CLUSTER","act":"newconn","key":"k\"1","$hasHandle":true,"seq":5})
        );
        let shared = handle_message_line(Dialect::Bun, "net.Native", &shared_reply(&q, 3));
        let s: Value = serde_json::from_slice(&shared[1..]).unwrap();
        assert_eq!(
            (s["$hasHandle"].clone(), s["errno"].clone()),
            (json!(true), json!(0))
        );
        assert_eq!(internal_line(Dialect::Node, &json!(1)), b"1\n");
        assert_eq!(internal_line(Dialect::Bun, &json!(1)), b"\x021\n");
        assert_eq!(
            v["msg"],
            json!({"cmd":"NODE_CLUSTER","act":"newconn","key":"k\"1","seq":5})
        );
        assert!(is_internal(&json!({"cmd":"NODE_HANDLE_ACK"})));
        assert!(!is_internal(&json!({"cmd":"NODE_"})));
        assert!(!is_internal(&json!("ready")));
    }

    #[test]
    fn worker_messages_are_read_by_act() {
        assert_eq!(
            parse_from_worker(&json!({"cmd":"NODE_CLUSTER","ack":4,"accepted":false,"seq":9})),
            FromWorker::NewconnReply {
                ack: 4,
                accepted: false
            }
        );
        assert_eq!(
            parse_from_worker(&json!({"cmd":"NODE_CLUSTER","ack":4,"seq":9})),
            FromWorker::Other
        );
        assert_eq!(
            parse_from_worker(
                &json!({"act":"listening","port":3000,"addressType":4,"address":null})
            ),
            FromWorker::Listening {
                address: "::".into(),
                port: 3000,
                udp: false
            }
        );
        assert_eq!(
            parse_from_worker(
                &json!({"act":"listening","port":53,"addressType":"udp4","address":"0.0.0.0"})
            ),
            FromWorker::Listening {
                address: "0.0.0.0".into(),
                port: 53,
                udp: true
            }
        );
        assert_eq!(
            parse_from_worker(&json!({"act":"queryServer","port":70000})),
            FromWorker::BadQuery
        );
        assert_eq!(
            parse_from_worker(&json!({"act":"close","key":"k"})),
            FromWorker::Close {
                key: Some("k".into())
            }
        );
        assert_eq!(
            parse_from_worker(&json!({"act":"exitedAfterDisconnect","seq":3})),
            FromWorker::ExitedAfterDisconnect { seq: Some(3) }
        );
        assert_eq!(
            parse_from_worker(&json!({"act":"online"})),
            FromWorker::Online
        );
    }
}
