//! # refpm — a PM2-compatible supervisor
//!
//! Design note. refpm is a client/daemon pair (the pueue shape). The CLI (`cli`) parses PM2's commands and
//! flags, resolves ecosystem files (`config`) and talks to one daemon per home (`home`) over a Unix socket
//! with a small versioned request/response `protocol`. The `daemon` keeps the process table, runs one
//! handler per verb and one job state machine per instance (start, stop with signal and grace, restart,
//! reload), and writes its state to a temp file then renames it. Node apps are spawned by refpm itself
//! with Node's IPC channel on fd 3 (`node_ipc`), and cluster workers are served by the daemon acting as the
//! cluster primary (`cluster`): it answers `queryServer`, owns the listening sockets and balances
//! connections, so unmodified apps behave as under PM2.

pub mod cli;
pub mod cluster;
pub mod config;
pub mod daemon;
pub mod drain;
pub mod home;
pub mod instances;
pub mod node_ipc;
pub mod protocol;
pub mod sync;
