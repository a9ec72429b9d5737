//! cli (to be written).

/// Runs the CLI and returns the process exit code.
pub fn run() -> i32 {
    0
}
