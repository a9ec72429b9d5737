//! The fixtures' ground-truth record (JSON lines appended by every process) and the worker lifetimes
//! derived from it.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// One recorded line, with its time relative to the scenario's origin.
#[derive(Debug, Clone, PartialEq)]
pub struct RecEvent {
    /// `start`, `listening`, `ready-sent`, `signal`, `message`, `request-start`, `request-end`, `exit`.
    pub event: String,
    /// Milliseconds since the scenario's origin.
    pub t: f64,
    /// The process that wrote it.
    pub pid: u32,
    /// The whole line.
    pub raw: Value,
}

/// One process's life as the record (and the pid watcher) saw it; times in ms since the origin.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Worker {
    /// OS pid.
    pub pid: u32,
    /// Value of the instance variable the fixture was told to read.
    pub instance: Option<String>,
    /// `NODE_APP_INSTANCE` as the process saw it.
    pub node_app_instance: Option<String>,
    /// `cluster.isWorker`.
    pub is_worker: bool,
    /// `start`.
    pub start: f64,
    /// First `listening`.
    pub listening: Option<f64>,
    /// `ready-sent`.
    pub ready: Option<f64>,
    /// First signal (or `shutdown` message) and when.
    pub first_signal: Option<(f64, String)>,
    /// Every signal name seen, in order.
    pub signals: Vec<String>,
    /// `exit` written by the process itself.
    pub exit: Option<f64>,
    /// When the pid watcher saw it gone (covers SIGKILL, which writes no `exit`).
    pub death: Option<f64>,
}

impl Worker {
    /// End of life: its own `exit` or the observed death, whichever is first.
    pub fn end(&self) -> Option<f64> {
        match (self.exit, self.death) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The interval during which it accepted connections: from `listening` to its first signal or end.
    pub fn listening_span(&self) -> Option<(f64, f64)> {
        let a = self.listening?;
        let stop = [self.first_signal.as_ref().map(|s| s.0), self.end()]
            .into_iter()
            .flatten()
            .fold(f64::INFINITY, f64::min);
        Some((a, stop))
    }

    /// Alive interval `[start, end)`.
    pub fn alive_span(&self) -> (f64, f64) {
        (self.start, self.end().unwrap_or(f64::INFINITY))
    }

    /// Alive at time `t`.
    pub fn alive_at(&self, t: f64) -> bool {
        let (a, b) = self.alive_span();
        a <= t && t < b
    }
}

/// Reads the record file; times become ms since `origin_epoch_ms`. Unreadable lines are skipped.
pub fn read(path: &Path, origin_epoch_ms: f64) -> Vec<RecEvent> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    parse(&text, origin_epoch_ms)
}

/// Parses record text.
pub fn parse(text: &str, origin_epoch_ms: f64) -> Vec<RecEvent> {
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| {
            Some(RecEvent {
                event: v.get("event")?.as_str()?.to_string(),
                t: v.get("t")?.as_f64()? - origin_epoch_ms,
                pid: v.get("pid")?.as_u64()? as u32,
                raw: v,
            })
        })
        .collect()
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Folds events into workers (by pid, in start order); `deaths` come from the pid watcher.
pub fn workers(events: &[RecEvent], deaths: &BTreeMap<u32, f64>) -> Vec<Worker> {
    let mut by_pid: BTreeMap<u32, Worker> = BTreeMap::new();
    for e in events {
        let w = by_pid.entry(e.pid).or_insert_with(|| Worker {
            pid: e.pid,
            start: e.t,
            ..Worker::default()
        });
        match e.event.as_str() {
            "start" => {
                w.start = e.t;
                w.instance = text(e.raw.get("instance"));
                w.node_app_instance = text(e.raw.get("node_app_instance"));
                w.is_worker = e
                    .raw
                    .get("is_worker")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
            }
            "listening" => {
                w.listening.get_or_insert(e.t);
            }
            "ready-sent" => {
                w.ready.get_or_insert(e.t);
            }
            "signal" => {
                let s = e
                    .raw
                    .get("signal")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_string();
                w.first_signal.get_or_insert((e.t, s.clone()));
                w.signals.push(s);
            }
            "exit" => {
                w.exit.get_or_insert(e.t);
            }
            _ => {}
        }
    }
    let mut out: Vec<Worker> = by_pid
        .into_values()
        .map(|mut w| {
            w.death = deaths.get(&w.pid).copied();
            w
        })
        .collect();
    out.sort_by(|a, b| a.start.total_cmp(&b.start));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_lines_into_workers() {
        let text = r#"{"event":"start","t":1000,"pid":5,"is_worker":true,"instance":"0","node_app_instance":"0"}
{"event":"listening","t":1010,"pid":5,"port":1}
garbage
{"event":"signal","t":1500,"pid":5,"signal":"SIGINT"}
{"event":"exit","t":1510,"pid":5,"code":0}"#;
        let ev = parse(text, 1000.0);
        assert_eq!(ev.len(), 4);
        let ws = workers(&ev, &BTreeMap::new());
        assert_eq!(ws.len(), 1);
        assert_eq!(ws[0].listening_span(), Some((10.0, 500.0)));
        assert_eq!(ws[0].alive_span(), (0.0, 510.0));
        assert_eq!(ws[0].instance.as_deref(), Some("0"));
    }
}
