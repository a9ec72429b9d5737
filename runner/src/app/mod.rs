//! `conform app`: checks a user's own app for cluster mode — it starts, every instance serves, it keeps
//! no state in its processes, a reload loses nothing, it shuts down gracefully — before it ships.
//!
//! - [`setup`]: the embedded recorder preload (`recorder.cjs`, loaded with `NODE_OPTIONS=--require`)
//!   and the ecosystem file that starts the unmodified app in cluster mode under the target.
//! - [`observe`]: the recorder's lines as per-process facts, connections and requests.
//! - [`client`]: an HTTP/1.1 client sending an id per request, with a keep-alive pool and the
//!   retry-once rule for reused connections; [`http1`]: its wire format; [`jar`]: cookies per client.
//! - [`ecosystem`]: the user's ecosystem file (JSON, JS, YAML);
//! - [`flow`]: flow files (TOML) with diagnostics; [`phases`]: what each phase does; [`judge`]: the
//!   findings as pure functions of what was observed; [`check`]: the driver; [`report`]: the outputs.

pub mod check;
pub mod client;
pub mod ecosystem;
pub mod finding;
pub mod flow;
pub mod http1;
pub mod jar;
pub mod judge;
pub mod observe;
pub mod phases;
pub mod report;
pub mod setup;

pub use check::{AppCheck, AppError, AppOutcome, run};
pub use finding::{Finding, FindingVerdict};
