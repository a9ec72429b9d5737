//! Driving the real refpm CLI: forwarding a command with the caller's terminal, capturing `jlist`, and
//! reading the worker pids of an app from it.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What can go wrong while a mutant drives refpm.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// refpm could not be run.
    #[error("cannot run refpm at {path}: {source}")]
    Spawn {
        /// The refpm path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `jlist` printed something that is not a JSON array.
    #[error("refpm jlist printed no JSON array: {0}")]
    Jlist(String),
    /// A file the mutant rewrites could not be read or written.
    #[error("{path}: {detail}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// The command line is not one the mutant understands.
    #[error("{0}")]
    Usage(String),
}

/// The refpm executable a mutant wraps.
#[derive(Debug, Clone)]
pub struct Refpm {
    path: PathBuf,
}

impl Refpm {
    /// refpm at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Refpm { path: path.into() }
    }

    /// The executable.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn command(&self, args: &[String]) -> Command {
        let mut c = Command::new(&self.path);
        c.args(args);
        c
    }

    /// Runs refpm with `args` on the caller's stdin/stdout/stderr; its exit code (1 when killed).
    pub fn forward(&self, args: &[String]) -> Result<i32, Error> {
        let st = self.command(args).status().map_err(|e| self.spawn_err(e))?;
        Ok(st.code().unwrap_or(1))
    }

    /// Starts refpm with `args` in the background (stdio inherited) and returns the child.
    pub fn spawn(&self, args: &[String]) -> Result<std::process::Child, Error> {
        self.command(args).spawn().map_err(|e| self.spawn_err(e))
    }

    /// Runs refpm with `args`, capturing stdout (stderr inherited): (exit code, stdout).
    pub fn capture(&self, args: &[String]) -> Result<(i32, String), Error> {
        let out = self
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| self.spawn_err(e))?;
        Ok((
            out.status.code().unwrap_or(1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        ))
    }

    /// The process list refpm's `jlist` prints.
    pub fn jlist(&self) -> Result<Vec<Value>, Error> {
        let (_, text) = self.capture(&["jlist".to_string()])?;
        parse_list(&text)
    }

    /// The live processes (pid > 0, not stopped or errored) of app `name`, lowest pm_id first.
    pub fn live_procs(&self, name: &str) -> Result<Vec<Value>, Error> {
        let mut procs: Vec<Value> = self
            .jlist()?
            .into_iter()
            .filter(|p| p.get("name").and_then(Value::as_str) == Some(name))
            .filter(|p| pid_of(p) > 0)
            .filter(|p| !matches!(status_of(p), "stopped" | "errored"))
            .collect();
        procs.sort_by_key(pm_id_of);
        Ok(procs)
    }

    fn spawn_err(&self, source: std::io::Error) -> Error {
        Error::Spawn {
            path: self.path.clone(),
            source,
        }
    }
}

/// The JSON array in `text` (refpm prints nothing else, but be tolerant of a banner).
pub fn parse_list(text: &str) -> Result<Vec<Value>, Error> {
    let start = text
        .find('[')
        .ok_or_else(|| Error::Jlist(text.chars().take(200).collect()))?;
    match serde_json::from_str::<Value>(text[start..].trim_end()) {
        Ok(Value::Array(a)) => Ok(a),
        _ => Err(Error::Jlist(text.chars().take(200).collect())),
    }
}

/// A process's pid (0 when absent).
pub fn pid_of(p: &Value) -> u32 {
    p.get("pid").and_then(Value::as_u64).unwrap_or(0) as u32
}

/// A process's pm_id (`u64::MAX` when absent).
pub fn pm_id_of(p: &Value) -> u64 {
    p.get("pm_id").and_then(Value::as_u64).unwrap_or(u64::MAX)
}

/// A process's status word.
pub fn status_of(p: &Value) -> &str {
    p.pointer("/pm2_env/status")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// A process's instance value as text (`NODE_APP_INSTANCE`, or the key its `instance_var` names).
pub fn instance_of(p: &Value) -> Option<String> {
    let env = p.get("pm2_env")?;
    let var = env
        .get("instance_var")
        .and_then(Value::as_str)
        .unwrap_or("NODE_APP_INSTANCE");
    match env.get(var)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_list_and_its_fields() {
        let l = parse_list(
            r#"[{"pid":7,"name":"app","pm_id":1,"pm2_env":{"status":"online","NODE_APP_INSTANCE":0}},
                {"pid":0,"name":"app","pm_id":0,"pm2_env":{"status":"stopped","instance_var":"ID","ID":"3"}}]"#,
        )
        .unwrap();
        assert_eq!(pid_of(&l[0]), 7);
        assert_eq!(pm_id_of(&l[0]), 1);
        assert_eq!(status_of(&l[1]), "stopped");
        assert_eq!(instance_of(&l[0]).as_deref(), Some("0"));
        assert_eq!(instance_of(&l[1]).as_deref(), Some("3"));
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse_list("no daemon").is_err());
        assert!(parse_list("[1, 2").is_err());
    }
}
