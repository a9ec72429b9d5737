//! What the recorder preload saw, parsed from its JSON lines: per process start, listen, signals,
//! handlers, `ready`, `NODE_APP_INSTANCE` reads and exit; connections by the client's port; requests
//! by the id conform sent in `x-conform-id`.

use serde::Deserialize;
use std::collections::BTreeMap;

/// One recorded line.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Line {
    /// `start`, `listen`, `conn`, `conn-end`, `req`, `res`, `abort`, `signal`, `message`, `handler`,
    /// `ready`, `instance-read`, `exit`.
    pub ev: String,
    /// The process that wrote it.
    pub pid: u32,
    /// Wall-clock milliseconds since the Unix epoch.
    pub t: f64,
    /// `listen`: port.
    #[serde(default)]
    pub port: Option<u16>,
    /// `listen`: address.
    #[serde(default)]
    pub address: Option<String>,
    /// `conn`, `conn-end`, `req`: the client's port.
    #[serde(default)]
    pub rport: Option<u16>,
    /// `req`, `res`, `abort`: conform's request id.
    #[serde(default)]
    pub id: Option<String>,
    /// `res`: status code.
    #[serde(default)]
    pub status: Option<u16>,
    /// `signal`: its name.
    #[serde(default)]
    pub signal: Option<String>,
    /// `handler`: the event a listener was added for.
    #[serde(default)]
    pub on: Option<String>,
    /// `message`: the message (a string, or JSON cut at 200 bytes).
    #[serde(default)]
    pub data: Option<String>,
    /// `start`: whether the process is a cluster worker.
    #[serde(default)]
    pub worker: Option<bool>,
    /// `exit`: exit code.
    #[serde(default)]
    pub code: Option<i64>,
    /// `instance-read`: the code location that read it.
    #[serde(default)]
    pub at: Option<String>,
    /// `req`: method.
    #[serde(default)]
    pub method: Option<String>,
    /// `req`: URL.
    #[serde(default)]
    pub url: Option<String>,
    /// `res`: the answer closed its connection (`Connection: close`).
    #[serde(default)]
    pub close: Option<bool>,
}

/// One app process as recorded; times in wall-clock ms since the epoch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Proc {
    /// OS pid.
    pub pid: u32,
    /// `start`.
    pub start: f64,
    /// Whether it ran as a cluster worker.
    pub worker: bool,
    /// Every `(time, port)` it listened on.
    pub listens: Vec<(f64, u16)>,
    /// `ready` sent.
    pub ready: Option<f64>,
    /// Signals it handled, with times.
    pub signals: Vec<(f64, String)>,
    /// Messages it received.
    pub messages: Vec<(f64, String)>,
    /// Events it installed listeners for (`SIGINT`, `message`, ...).
    pub handlers: Vec<String>,
    /// Where it first read `NODE_APP_INSTANCE`.
    pub instance_read: Option<String>,
    /// Its own `exit` (time, code); absent when killed by a signal.
    pub exit: Option<(f64, i64)>,
}

impl Proc {
    /// First listen time.
    pub fn listening(&self) -> Option<f64> {
        self.listens.first().map(|l| l.0)
    }

    /// Whether it installed a listener for `ev`.
    pub fn handles(&self, ev: &str) -> bool {
        self.handlers.iter().any(|h| h == ev)
    }
}

/// A request as the app saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct SeenRequest {
    /// Process that got it.
    pub pid: u32,
    /// When it started.
    pub start: f64,
    /// Status and time of the finished response; `None` when never finished.
    pub finished: Option<(f64, u16)>,
    /// The response was aborted (the connection closed before it finished).
    pub aborted: bool,
    /// The client's port (the connection it came on).
    pub rport: Option<u16>,
    /// Its answer closed the connection (`Connection: close`).
    pub closed_conn: bool,
}

/// A connection as the app saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct SeenConn {
    /// Process that accepted it.
    pub pid: u32,
    /// Accepted at.
    pub open: f64,
    /// Closed at, when the process saw it close (absent when it exited or was killed with it open).
    pub close: Option<f64>,
}

/// Everything the record holds, indexed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observed {
    /// App processes by pid.
    pub procs: BTreeMap<u32, Proc>,
    /// Requests by conform's id.
    pub requests: BTreeMap<String, SeenRequest>,
    /// Connections by the client's local port (the last one seen on that port).
    pub conns: BTreeMap<u16, Vec<SeenConn>>,
    /// Lines that did not parse.
    pub bad_lines: usize,
}

impl Observed {
    /// Parses the record's text; a partial last line (being written) is ignored.
    pub fn parse(text: &str) -> Observed {
        let mut o = Observed::default();
        for raw in text.lines().filter(|l| !l.trim().is_empty()) {
            match serde_json::from_str::<Line>(raw) {
                Ok(l) => o.add(l),
                Err(_) => o.bad_lines += 1,
            }
        }
        o
    }

    fn add(&mut self, l: Line) {
        let p = self.procs.entry(l.pid).or_insert_with(|| Proc {
            pid: l.pid,
            start: l.t,
            ..Proc::default()
        });
        match l.ev.as_str() {
            "start" => {
                p.start = l.t;
                p.worker = l.worker.unwrap_or(false);
            }
            "listen" => p.listens.extend(l.port.map(|port| (l.t, port))),
            "ready" => p.ready = p.ready.or(Some(l.t)),
            "signal" => p.signals.push((l.t, l.signal.unwrap_or_default())),
            "message" => p.messages.push((l.t, l.data.unwrap_or_default())),
            "handler" => p.handlers.extend(l.on),
            "instance-read" => p.instance_read = p.instance_read.take().or(l.at),
            "exit" => p.exit = Some((l.t, l.code.unwrap_or(0))),
            "conn" => {
                if let Some(port) = l.rport {
                    self.conns.entry(port).or_default().push(SeenConn {
                        pid: l.pid,
                        open: l.t,
                        close: None,
                    });
                }
            }
            "conn-end" => {
                if let Some(c) = l
                    .rport
                    .and_then(|port| self.conns.get_mut(&port))
                    .and_then(|v| {
                        v.iter_mut()
                            .rev()
                            .find(|c| c.pid == l.pid && c.close.is_none())
                    })
                {
                    c.close = Some(l.t);
                }
            }
            "req" => {
                if let Some(id) = l.id {
                    self.requests.insert(
                        id,
                        SeenRequest {
                            pid: l.pid,
                            start: l.t,
                            finished: None,
                            aborted: false,
                            rport: l.rport,
                            closed_conn: false,
                        },
                    );
                }
            }
            "res" => {
                if let Some(r) = l.id.and_then(|id| self.requests.get_mut(&id)) {
                    r.finished = Some((l.t, l.status.unwrap_or(0)));
                    r.closed_conn = l.close.unwrap_or(false);
                }
            }
            "abort" => {
                if let Some(r) = l.id.and_then(|id| self.requests.get_mut(&id)) {
                    r.aborted = true;
                }
            }
            _ => {}
        }
    }

    /// Processes that listened and have not exited by their own hand, in start order.
    pub fn listening_procs(&self) -> Vec<&Proc> {
        let mut v: Vec<&Proc> = self
            .procs
            .values()
            .filter(|p| p.listening().is_some())
            .collect();
        v.sort_by(|a, b| a.start.total_cmp(&b.start));
        v
    }

    /// The last answer `pid` finished on the connection from client port `port` before `t`.
    pub fn last_answer_on(&self, pid: u32, port: u16, t: f64) -> Option<&SeenRequest> {
        self.requests
            .values()
            .filter(|r| r.pid == pid && r.rport == Some(port))
            .filter(|r| r.finished.is_some_and(|f| f.0 <= t))
            .max_by(|a, b| {
                let (fa, fb) = (
                    a.finished.map_or(0.0, |f| f.0),
                    b.finished.map_or(0.0, |f| f.0),
                );
                fa.total_cmp(&fb)
            })
    }

    /// The connection a client port had open with the app at `t` (accepted before `t + slack`).
    pub fn conn_at(&self, port: u16, t: f64) -> Option<&SeenConn> {
        self.conns
            .get(&port)?
            .iter()
            .rev()
            .find(|c| c.open <= t + 50.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_workers_life() {
        let text = r#"{"ev":"start","pid":7,"t":1000,"worker":true}
{"ev":"handler","pid":7,"t":1001,"on":"SIGINT"}
{"ev":"listen","pid":7,"t":1002,"port":3000,"address":"::"}
{"ev":"conn","pid":7,"t":1003,"rport":50000}
{"ev":"req","pid":7,"t":1004,"id":"1","rport":50000}
{"ev":"res","pid":7,"t":1005,"id":"1","status":200}
{"ev":"req","pid":7,"t":1006,"id":"2","rport":50000}
{"ev":"signal","pid":7,"t":1007,"signal":"SIGINT"}
{"ev":"conn-end","pid":7,"t":1008,"rport":50000}
{"ev":"exit","pid":7,"t":1009,"code":0}
{"ev":"start","pid":8,"#;
        let o = Observed::parse(text);
        let p = &o.procs[&7];
        assert!(p.worker && p.handles("SIGINT"));
        assert_eq!(p.listening(), Some(1002.0));
        assert_eq!(p.exit, Some((1009.0, 0)));
        assert_eq!(o.requests["1"].finished, Some((1005.0, 200)));
        assert_eq!(o.requests["2"].finished, None);
        assert_eq!(o.conn_at(50000, 1004.0).unwrap().close, Some(1008.0));
        assert_eq!(o.bad_lines, 1);
        assert_eq!(o.listening_procs().len(), 1);
    }
}
