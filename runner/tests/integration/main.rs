mod bad_input;
mod common;
mod report_browser;
mod runs;
mod suites_cli;
