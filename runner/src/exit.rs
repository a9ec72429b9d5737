//! The exit-code table of `conform`, documented in the README.

/// Every MUST scenario passed (or every verdict matched the baseline).
pub const OK: i32 = 0;
/// A MUST scenario failed, or a verdict changed against the baseline.
pub const FAILED: i32 = 1;
/// Usage or infrastructure error: target or `node` not found, bad suite file, unwritable report dir.
pub const USAGE: i32 = 2;
/// The run was interrupted (SIGINT); everything started was stopped and a partial report written.
pub const INTERRUPTED: i32 = 130;
