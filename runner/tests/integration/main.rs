mod app;
mod bad_input;
mod bench;
mod common;
mod killed_run;
mod runs;
mod suites_cli;
mod suites_refpm;
