//! End-to-end tests with real `node` workers and tiny apps written to a temp dir.

mod backlog;
mod bench;
mod bun;
mod handoff;
mod harness;
mod lifecycle;
mod serving;
mod udp;
mod unread;
