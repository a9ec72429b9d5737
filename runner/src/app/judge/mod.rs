//! The findings as pure functions of what was observed: the recorder's [`Observed`](super::observe::Observed) record and the
//! client's [`Exchange`](super::client::Exchange)s. Nothing here runs anything.
//!
//! - [`start`]: `cluster-start`, `distribution`, `wait-ready`, `instance-var` and the timeline parts;
//! - [`stateless`]: flows replayed across instances;
//! - [`blame`]: who lost a failed request (the app or the manager), by the record;
//! - [`reload`]: requests lost during a reload; [`keepalive`]: keep-alive resets and their cause;
//! - [`graceful`]: `stop` with requests in flight.

pub mod blame;
pub mod graceful;
pub mod keepalive;
pub mod reload;
pub mod start;
pub mod stateless;

pub use blame::{Blame, answered_late, blame, served_by};
pub use graceful::{ShutdownRound, Stopped, graceful};
pub use reload::{ReloadRound, reload};
pub use start::{
    UrlRound, cluster_start, distribution, instance_var, signal_events, spans, wait_ready,
};
pub use stateless::{ClientRun, FlowRound, stateless};

/// The advice for an app that loses requests when it stops.
pub const SHUTDOWN_ADVICE: &str = "On SIGINT stop accepting (`server.close()`), finish the requests in flight and answer them with `Connection: close`, close idle keep-alive connections with `server.closeIdleConnections()`, and exit once the server's close callback runs — before kill_timeout. The guide: \"A graceful shutdown makes sure to handle all remaining queries before exiting the application and closes all external connections.\"";

#[cfg(test)]
mod tests;

#[cfg(test)]
mod keepalive_tests;
