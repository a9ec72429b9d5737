//! What stops a CLI command before or while talking to the daemon (printed as `[PM2][ERROR] …`,
//! exit 1).

use std::path::PathBuf;

use super::client::ClientError;
use crate::config::ConfigError;
use crate::instances::InstancesError;
use crate::protocol::{Reply, RequestError};

/// A CLI command failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// The daemon could not be reached or answered badly.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The daemon refused the request.
    #[error(transparent)]
    Refused(#[from] RequestError),
    /// The daemon answered with the reply of another verb.
    #[error("unexpected reply from the daemon: {0}")]
    UnexpectedReply(String),
    /// A config file could not be loaded.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// `-i/--instances` is invalid.
    #[error(transparent)]
    Instances(#[from] InstancesError),
    /// A flag's value is invalid.
    #[error("invalid value \"{value}\" for {flag}: expected {expected}")]
    InvalidFlag {
        /// The flag.
        flag: String,
        /// Its value as given.
        value: String,
        /// What it takes.
        expected: String,
    },
    /// The script to start does not exist.
    #[error("Script not found: {}", .0.display())]
    ScriptNotFound(PathBuf),
    /// The process list could not be serialised.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

impl CliError {
    /// The daemon's `reply` does not answer the verb asked.
    pub(crate) fn unexpected(reply: &Reply) -> Self {
        CliError::UnexpectedReply(format!("{reply:?}"))
    }
}
