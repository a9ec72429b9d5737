mod bad_input;
mod common;
mod runs;
mod suites_cli;
mod bench;
