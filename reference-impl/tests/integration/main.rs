//! Integration tests: drive the real `refpm` binary with a temp home per test.

mod common;

mod bad_input;
mod cluster;
mod ecosystem;
mod fork;
mod reload;
mod snapshot;
