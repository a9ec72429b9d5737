//! The home directory of one daemon (`PM2_HOME` or `~/.refpm`) and the paths inside it.

use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Longest path `bind(2)` accepts for a Unix socket on Linux (sun_path is 108 bytes with the NUL).
pub const MAX_SOCKET_PATH: usize = 107;

/// Errors while resolving or preparing a home directory.
#[derive(Debug, thiserror::Error)]
pub enum HomeError {
    /// Neither `PM2_HOME` nor `HOME` is set.
    #[error("cannot find a home directory: set PM2_HOME or HOME")]
    NoHome,
    /// The socket path would not fit in `sockaddr_un`.
    #[error(
        "home path too long for a unix socket: {path} is {len} bytes, the limit is {MAX_SOCKET_PATH}; use a shorter PM2_HOME"
    )]
    SocketPathTooLong {
        /// The socket path that is too long.
        path: String,
        /// Its length in bytes.
        len: usize,
    },
    /// Creating a directory failed.
    #[error("cannot create {path}: {source}")]
    Create {
        /// The directory.
        path: String,
        /// The OS error.
        source: io::Error,
    },
}

/// All paths of one home.
#[derive(Debug, Clone)]
pub struct Home {
    /// The home directory itself (absolute).
    pub root: PathBuf,
}

impl Home {
    /// Resolves the home from `PM2_HOME` (absolutised against cwd) or `~/.refpm`, and checks the socket length.
    pub fn resolve() -> Result<Self, HomeError> {
        let root = match std::env::var_os("PM2_HOME").filter(|v| !v.is_empty()) {
            Some(h) => absolutise(Path::new(&h)),
            None => {
                let home = std::env::var_os("HOME")
                    .filter(|v| !v.is_empty())
                    .ok_or(HomeError::NoHome)?;
                PathBuf::from(home).join(".refpm")
            }
        };
        Self::at(root)
    }

    /// A home at an explicit absolute path (checks the socket length).
    pub fn at(root: PathBuf) -> Result<Self, HomeError> {
        let home = Home { root };
        let sock = home.socket();
        let len = sock.as_os_str().len();
        if len > MAX_SOCKET_PATH {
            return Err(HomeError::SocketPathTooLong {
                path: sock.display().to_string(),
                len,
            });
        }
        Ok(home)
    }

    /// Creates the home (0700), `logs/` and `pids/`.
    pub fn ensure_dirs(&self) -> Result<(), HomeError> {
        for dir in [self.root.clone(), self.logs_dir(), self.pids_dir()] {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)
                .map_err(|source| HomeError::Create {
                    path: dir.display().to_string(),
                    source,
                })?;
        }
        // An existing home keeps whatever mode it had; tighten it.
        let _ = std::fs::set_permissions(&self.root, std::fs::Permissions::from_mode(0o700));
        Ok(())
    }

    /// The control socket.
    pub fn socket(&self) -> PathBuf {
        self.root.join("rpc.sock")
    }
    /// The daemon pid file (flocked by the running daemon).
    pub fn pid_file(&self) -> PathBuf {
        self.root.join("refpm.pid")
    }
    /// The daemon log (its stdout/stderr).
    pub fn daemon_log(&self) -> PathBuf {
        self.root.join("refpm.log")
    }
    /// The informational state dump.
    pub fn state_file(&self) -> PathBuf {
        self.root.join("state.json")
    }
    /// Directory of app logs.
    pub fn logs_dir(&self) -> PathBuf {
        self.root.join("logs")
    }
    /// Directory of app pid files.
    pub fn pids_dir(&self) -> PathBuf {
        self.root.join("pids")
    }
}

/// Makes a path absolute against the current directory (without touching the file system).
pub fn absolutise(p: &Path) -> PathBuf {
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|c| c.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    };
    // Lexical normalisation of `.` and `..` (like Node's path.resolve).
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// PM2's file-name sanitising: every char outside `[a-zA-Z0-9.-]` becomes `-`.
pub fn sanitize_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_home_is_rejected() {
        let long = PathBuf::from(format!("/tmp/{}", "x".repeat(120)));
        let err = Home::at(long).unwrap_err();
        assert!(err.to_string().contains("too long"), "{err}");
    }

    #[test]
    fn short_home_is_accepted() {
        assert!(Home::at(PathBuf::from("/tmp/h")).is_ok());
    }

    #[test]
    fn names_are_sanitised() {
        assert_eq!(sanitize_name("my app_1.js"), "my-app-1.js");
    }
}
