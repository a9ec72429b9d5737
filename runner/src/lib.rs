//! # conform — a conformance kit for PM2-style cluster mode
//!
//! Design note. The engine is a library; `main.rs` is a thin CLI over it (the cargo-nextest shape):
//!
//! - [`suite`] parses `suites/*.toml` (data, not code) into scenarios made of steps and checks; the
//!   vocabulary of steps and checks is Rust, a user adds scenarios without recompiling.
//! - [`target`] drives any PM2-compatible executable through its command line only (never by linking
//!   refpm), each scenario in a fresh `PM2_HOME` with a scrubbed environment, and cleans up by pid.
//! - [`load`] is the open-loop load generator (http/https/tcp/udp, new-connection or keep-alive),
//!   recording every request and a coordinated-omission-corrected latency histogram.
//! - [`engine`] runs scenarios and emits [`model::RunEvent`]s; it never prints.
//! - [`report`] consumes events: terminal progress, `results.json`, `junit.xml`, `index.html`.
//! - [`builtin`] holds the suites and fixtures embedded at build time, unpacked to a cache at run time.
//! - [`model`] is the plain-data result model shared by both sides; [`exit`] the exit-code table.

pub mod app;
pub mod bench;
pub mod builtin;
pub mod cli;
pub mod engine;
pub mod exit;
pub mod load;
pub mod model;
pub mod report;
pub mod suite;
pub mod target;
