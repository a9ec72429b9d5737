mod common;
mod report_browser;
