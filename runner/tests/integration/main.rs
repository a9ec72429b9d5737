mod bad_input;
mod bench;
mod common;
mod installed;
mod killed_run;
mod runs;
mod suites_cli;
mod suites_refpm;
