//! # osfacts — what the OS says about processes and the host
//!
//! One home for the small Linux facts both refpm (the supervisor) and conform (the test kit) need:
//! `/proc/<pid>/stat` fields (state, parent, CPU time, start time), a process environment, pid
//! liveness that treats zombies as dead, clock ticks and page size (via nix, no `unsafe`), `which`,
//! and free loopback ports. No type of refpm or conform appears here.

mod net;
mod path;
mod proc;

pub use net::free_port;
pub use path::which;
pub use proc::{
    Stat, alive, clock_ticks, cpu_seconds, env_has, environ, page_size, pids, rss_bytes,
    start_time, stat, state,
};
