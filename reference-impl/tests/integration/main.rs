//! Integration tests: drive the real `refpm` binary with a temp home per test.

mod common;

mod bad_input;
mod bad_input_corpus;
mod cluster;
mod daemon;
mod drain;
mod ecosystem;
mod fork;
mod reload;
mod security;
mod snapshot;
