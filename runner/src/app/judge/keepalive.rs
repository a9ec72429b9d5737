//! Keep-alive resets: a request sent on a *reused* keep-alive connection that was closed before any
//! answer (the client retried it once, RFC 9112 §9.3.1). Each one gets its cause from the record —
//! the app's doing (it closed the connection right after a keep-alive answer, exited with it open, had
//! no SIGINT handler, read the request and never answered, drained past kill_timeout) or the
//! manager's (it killed an instance that was draining correctly before kill_timeout, or without a
//! SIGINT, or the connection never reached the app).

use super::Stopped;
use crate::app::client::Exchange;
use crate::app::observe::Observed;
use std::collections::BTreeMap;

/// What the app should do so kept-alive clients lose nothing while it stops.
pub const KEEPALIVE_ADVICE: &str = "Keep-alive clients: once SIGINT came, answer every request with `Connection: close` (set it in a first `request` listener, `server.prependListener('request', (req, res) => { if (draining) res.setHeader('Connection', 'close') })`, and on the answers still in flight), and close idle connections with `server.closeIdleConnections()` right after `server.close()`. A kept-alive connection closed right after an answer that said keep-alive races the client's next request on it, which is reset (RFC 9112 §9.6); conform retried those once, but clients that do not retry — POST and other non-idempotent requests, many proxies — lose them.";

/// Slack on kill_timeout when deciding that the manager killed an instance early (polling, signal
/// delivery).
const KILL_SLACK_MS: f64 = 150.0;

/// Why a reused keep-alive connection was reset before any answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ResetCause {
    /// The app read the request and ended without answering it: a lost request.
    AppDropped,
    /// The app closed the connection itself right after an answer, given after its stop signal,
    /// that said keep-alive: its drain does not say `Connection: close`.
    AppClosedAfterKeepAlive,
    /// The app closed a connection idle since before its stop signal while the client's next request
    /// was on the wire: the race every HTTP/1.1 server closing an idle connection has, which is what
    /// the client's retry is for (nobody's fault).
    IdleClosedAtStop,
    /// The app's keep-alive timeout closed an idle connection of an instance that kept serving.
    IdleTimeout,
    /// The app exited with the connection open.
    AppExited,
    /// The instance had no SIGINT handler: the signal's default action killed it.
    AppNoHandler,
    /// The instance was still draining at kill_timeout and was killed.
    AppDrainTooLong,
    /// The manager killed an instance before its kill_timeout, or without sending SIGINT.
    ManagerKilledEarly,
    /// The manager stopped the instance without the signal the app handles (e.g. Node's cluster
    /// `disconnect`, which closes the app's server and its idle kept-alive connections for it).
    ManagerNoSignal,
    /// The connection never reached an app process.
    ManagerNeverDelivered,
}

impl ResetCause {
    /// Whether the manager, not the app, caused it.
    pub fn by_manager(self) -> bool {
        matches!(
            self,
            ResetCause::ManagerKilledEarly
                | ResetCause::ManagerNoSignal
                | ResetCause::ManagerNeverDelivered
        )
    }

    /// Whether nobody is to blame (the client's retry is the remedy).
    pub fn neutral(self) -> bool {
        matches!(self, ResetCause::IdleClosedAtStop | ResetCause::IdleTimeout)
    }

    /// What happened, for the evidence.
    pub fn says(self) -> &'static str {
        match self {
            ResetCause::AppDropped => "the app read the request and ended without answering it",
            ResetCause::AppClosedAfterKeepAlive => {
                "the app closed the connection right after an answer it gave while stopping that said keep-alive instead of `Connection: close`"
            }
            ResetCause::IdleClosedAtStop => {
                "an idle connection closed as the instance stopped, the client's next request already on the wire (the race any server closing an idle connection has; the retry is the remedy)"
            }
            ResetCause::IdleTimeout => "the app's keep-alive timeout closed an idle connection",
            ResetCause::AppExited => "the app exited with the connection open",
            ResetCause::AppNoHandler => {
                "the instance had no SIGINT handler and the signal killed it"
            }
            ResetCause::AppDrainTooLong => {
                "the instance was still draining at kill_timeout and was killed"
            }
            ResetCause::ManagerKilledEarly => {
                "the manager killed an instance that was draining, before kill_timeout (or without SIGINT)"
            }
            ResetCause::ManagerNoSignal => {
                "the manager stopped the instance without SIGINT (e.g. Node's cluster disconnect, which closed the app's server and its kept-alive connections before the app could drain them)"
            }
            ResetCause::ManagerNeverDelivered => "the connection never reached the app",
        }
    }
}

/// The cause of the reset first attempt of `e`, when it is one (a retried request).
pub fn reset_cause(
    e: &Exchange,
    obs: &Observed,
    wall0: f64,
    old: &[Stopped],
    kill_timeout_ms: f64,
) -> Option<ResetCause> {
    let first = e.retried_id.as_ref()?;
    if let Some(r) = obs.requests.get(first) {
        return Some(if r.finished.is_none() {
            ResetCause::AppDropped
        } else {
            ResetCause::AppExited
        });
    }
    let t = wall0 + e.sent_ms;
    let Some(conn) = e.retried_port.and_then(|p| obs.conn_at(p, t)) else {
        return Some(ResetCause::ManagerNeverDelivered);
    };
    let Some(p) = obs.procs.get(&conn.pid) else {
        return Some(ResetCause::ManagerNeverDelivered);
    };
    // the stop signal the app handles: SIGINT, or PM2's `shutdown` message
    let stop = p
        .signals
        .iter()
        .find(|s| s.1 == "SIGINT")
        .map(|s| s.0)
        .or_else(|| p.messages.iter().find(|m| m.1 == "shutdown").map(|m| m.0));
    let gone = old.iter().find(|s| s.pid == p.pid).and_then(|s| s.gone_ms);
    let ended = p.exit.is_some() || gone.is_some();
    if let Some(closed) = conn.close {
        return Some(match stop.filter(|&s| s <= closed) {
            Some(s) => {
                let last = obs.last_answer_on(p.pid, conn_port(e), closed);
                match last {
                    Some(q) if q.finished.is_some_and(|f| f.0 >= s) && !q.closed_conn => {
                        ResetCause::AppClosedAfterKeepAlive
                    }
                    _ => ResetCause::IdleClosedAtStop,
                }
            }
            None if ended => ResetCause::ManagerNoSignal,
            None => ResetCause::IdleTimeout,
        });
    }
    if p.exit.is_some() {
        return Some(if stop.is_some() {
            ResetCause::AppExited
        } else {
            ResetCause::ManagerNoSignal
        });
    }
    if !p.handles("SIGINT") {
        return Some(ResetCause::AppNoHandler);
    }
    Some(match (stop.map(|s| s - wall0), gone) {
        (None, _) => ResetCause::ManagerKilledEarly,
        (Some(s), Some(g)) if g - s < kill_timeout_ms - KILL_SLACK_MS => {
            ResetCause::ManagerKilledEarly
        }
        _ => ResetCause::AppDrainTooLong,
    })
}

fn conn_port(e: &Exchange) -> u16 {
    e.retried_port.unwrap_or(0)
}

/// The keep-alive resets of a reload, counted by cause.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resets {
    /// How many of each cause.
    pub by_cause: BTreeMap<ResetCause, u64>,
    /// Of the instances the manager killed early, how many answers after SIGINT said
    /// `Connection: close`, out of how many: the app drained correctly when all did.
    pub killed_drain: (u64, u64),
}

impl Resets {
    /// Counts the causes of every retried exchange in `list`.
    pub fn count(
        list: &[Exchange],
        obs: &Observed,
        wall0: f64,
        old: &[Stopped],
        kill_timeout_ms: f64,
    ) -> Resets {
        let mut r = Resets::default();
        let mut killed = std::collections::BTreeSet::new();
        for e in list {
            if let Some(c) = reset_cause(e, obs, wall0, old, kill_timeout_ms) {
                *r.by_cause.entry(c).or_default() += 1;
                if c == ResetCause::ManagerKilledEarly {
                    killed.extend(
                        e.retried_port
                            .and_then(|p| obs.conn_at(p, wall0 + e.sent_ms))
                            .map(|c| c.pid),
                    );
                }
            }
        }
        for pid in killed {
            let sig = obs
                .procs
                .get(&pid)
                .and_then(|p| p.signals.first().map(|s| s.0))
                .unwrap_or(f64::MAX);
            for q in obs.requests.values().filter(|q| q.pid == pid) {
                if q.finished.is_some_and(|f| f.0 >= sig) {
                    r.killed_drain.1 += 1;
                    r.killed_drain.0 += u64::from(q.closed_conn);
                }
            }
        }
        r
    }

    /// Resets the app caused (its request was not read: the client's retry saved it).
    pub fn by_app(&self) -> u64 {
        self.by_cause
            .iter()
            .filter(|(c, _)| !c.by_manager() && !c.neutral() && **c != ResetCause::AppDropped)
            .map(|(_, n)| n)
            .sum()
    }

    /// Resets the manager caused.
    pub fn by_manager(&self) -> u64 {
        self.by_cause
            .iter()
            .filter(|(c, _)| c.by_manager())
            .map(|(_, n)| n)
            .sum()
    }

    /// The evidence: one sentence, or none when there was no reset.
    pub fn evidence(&self, manager: &str) -> Vec<String> {
        let total: u64 = self.by_cause.values().sum();
        if total == 0 {
            return Vec::new();
        }
        let causes = self
            .by_cause
            .iter()
            .map(|(c, n)| format!("{} ×{n}", c.says()))
            .collect::<Vec<_>>()
            .join("; ");
        let mut ev = vec![format!(
            "keep-alive resets: {total} request(s) on a reused connection got no answer before it closed and were retried once — {causes}"
        )];
        if self.by_manager() > 0 {
            let (closed, answered) = self.killed_drain;
            let drained = if answered > 0 && closed == answered {
                format!(
                    "; the app drained correctly (all {answered} answers after SIGINT said `Connection: close`)"
                )
            } else {
                String::new()
            };
            ev.push(format!(
                "{} keep-alive reset(s) caused by the manager ({manager}), not the app{drained}",
                self.by_manager()
            ));
        }
        ev
    }
}
