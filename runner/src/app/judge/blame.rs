//! Who lost a failed request, by the record: the app (it saw the request or the connection) or the
//! manager (the request never reached the app).

use crate::app::client::Exchange;
use crate::app::observe::Observed;

/// Who lost a failed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Blame {
    /// The app started it and did not answer (or answered 5xx).
    AppStarted,
    /// The app accepted the connection and closed it without reading the request.
    AppAccepted,
    /// The request never reached the app: the manager refused, reset or held it.
    Manager,
}

/// Whose fault a failed exchange is, by the record: a request the app saw vs one it never saw.
pub fn blame(e: &Exchange, obs: &Observed, wall0: f64) -> Blame {
    if obs.requests.contains_key(&e.id) {
        return Blame::AppStarted;
    }
    let t = wall0 + e.sent_ms + e.latency_ms;
    match e.local_port.and_then(|p| obs.conn_at(p, t)) {
        Some(c) if c.open >= wall0 + e.sent_ms - 50.0 || e.retried_id.is_none() => {
            Blame::AppAccepted
        }
        _ => Blame::Manager,
    }
}

/// A request the client gave up on (its timeout) that the app did answer, later, below 500: the
/// machine was slow, nothing was lost.
pub fn answered_late(e: &Exchange, obs: &Observed) -> bool {
    e.outcome == crate::load::Outcome::Timeout
        && obs
            .requests
            .get(&e.id)
            .and_then(|r| r.finished)
            .is_some_and(|(_, status)| status < 500)
}

/// The process that had a failed exchange: the one that started its request, else the one that
/// accepted its connection.
pub fn served_by(e: &Exchange, obs: &Observed, wall0: f64) -> Option<u32> {
    if let Some(r) = obs.requests.get(&e.id) {
        return Some(r.pid);
    }
    let t = wall0 + e.sent_ms + e.latency_ms;
    e.local_port.and_then(|p| obs.conn_at(p, t)).map(|c| c.pid)
}
