//! The reporters' error type: every message names the file concerned.

use std::path::PathBuf;

/// Why a report or baseline could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Reading or writing a file failed.
    #[error("cannot access {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A JSON file could not be parsed or produced.
    #[error("invalid json in {path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: serde_json::Error,
    },
    /// The JUnit document could not be produced.
    #[error("cannot write junit report {path}: {source}")]
    Junit {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: quick_junit::SerializeError,
    },
    /// A baseline file is readable JSON but not a baseline.
    #[error("bad baseline {path}: {message}")]
    Baseline {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the key.
        message: String,
    },
}
