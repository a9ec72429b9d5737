mod bad_input;
mod common;
mod killed_run;
mod runs;
mod suites_cli;
mod bench;
