//! One scenario's sandbox: a fresh short `PM2_HOME`, a scrubbed environment, commands with deadlines,
//! and the clean-up that leaves nothing running.

use super::adapter::{Adapter, Argv};
use super::contract::Verb;
use super::{CmdOutput, procs, run_command};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Why a verb did not run.
#[derive(Debug, thiserror::Error)]
pub enum VerbError {
    /// The adapter file says the target has no such verb.
    #[error("the adapter file declares no `{0}` verb for this target")]
    Absent(&'static str),
    /// The target could not be run.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// A scenario's home directory (also its `HOME`, working directory and file area).
#[derive(Debug)]
pub struct Sandbox {
    dir: tempfile::TempDir,
    /// Extra variables every command of the scenario gets (`CONFORM_RECORD`, `PORT`, ...).
    pub vars: Vec<(String, String)>,
    /// A directory put first on PATH (the `--node` runtime's `node`).
    pub path_prefix: Option<PathBuf>,
    /// How the target spells its verbs and `jlist` (PM2's way unless `--adapter` says otherwise).
    pub adapter: Arc<Adapter>,
}

impl Sandbox {
    /// Creates `/tmp/cf.XXXXXX` (short: the daemon's Unix socket path must fit in 107 bytes).
    pub fn new() -> std::io::Result<Self> {
        let dir = tempfile::Builder::new().prefix("cf.").tempdir_in("/tmp")?;
        super::live::register(dir.path());
        Ok(Sandbox {
            dir,
            vars: Vec::new(),
            path_prefix: None,
            adapter: Arc::default(),
        })
    }

    /// The home path (`PM2_HOME`).
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The exact environment commands run with: PATH (after [`Sandbox::path_prefix`]), HOME,
    /// PM2_HOME, LANG=C plus the scenario's vars.
    pub fn env(&self) -> Vec<(String, String)> {
        let home = self.path().display().to_string();
        let mut path =
            std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into());
        if let Some(dir) = &self.path_prefix {
            path = format!("{}:{path}", dir.display());
        }
        let mut env = vec![
            ("PATH".to_string(), path),
            ("HOME".to_string(), home.clone()),
            ("PM2_HOME".to_string(), home),
            ("LANG".to_string(), "C".to_string()),
        ];
        env.extend(self.vars.iter().cloned());
        env
    }

    /// Runs the target (or any program) with the scenario's environment in its home, killed at `deadline`.
    pub async fn run(
        &self,
        program: &Path,
        args: &[&str],
        deadline: Duration,
    ) -> std::io::Result<CmdOutput> {
        run_command(program, args, self.path(), &self.env(), deadline).await
    }

    /// Runs one verb of the target as the adapter spells it (`rest` follows the verb's name); a verb
    /// the adapter declares absent is [`VerbError::Absent`].
    pub async fn run_verb(
        &self,
        target: &Path,
        verb: Verb,
        rest: &[&str],
        deadline: Duration,
    ) -> Result<CmdOutput, VerbError> {
        match self.adapter.argv(verb, rest) {
            Argv::Absent(v) => Err(VerbError::Absent(v.key())),
            Argv::Run(argv) => {
                let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
                Ok(self.run(target, &argv, deadline).await?)
            }
        }
    }

    /// `<target> kill`, then SIGKILL by pid of every live process of this home or in `extra`.
    /// Returns the pids that had to be killed (leftovers).
    pub async fn cleanup(&self, target: &Path, extra: &[u32]) -> Vec<u32> {
        let _ = self
            .run_verb(target, Verb::Kill, &[], Duration::from_secs(20))
            .await;
        let mut leftovers = Vec::new();
        // a daemon may take a moment to reap its children after `kill` returns
        let deadline = std::time::Instant::now() + Duration::from_millis(1500);
        loop {
            let mut pids = procs::with_home(self.path());
            pids.extend(extra.iter().copied().filter(|&p| procs::alive(p)));
            pids.sort_unstable();
            pids.dedup();
            if pids.is_empty() {
                break;
            }
            if std::time::Instant::now() >= deadline {
                leftovers = procs::kill_all(&pids);
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // wait (bounded) until the killed ones are really gone
        let end = std::time::Instant::now() + Duration::from_secs(3);
        while leftovers.iter().any(|&p| procs::alive(p)) && std::time::Instant::now() < end {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        leftovers
    }

    /// A path inside the home.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path().join(name)
    }
}
