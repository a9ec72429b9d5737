mod bad_input;
mod common;
mod report_browser;
