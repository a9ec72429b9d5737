//! Running one command with a deadline, collecting its output even when a daemon it spawned keeps the
//! pipes open.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::process::Command;

/// What a finished (or killed) command produced.
#[derive(Debug, Clone, Default)]
pub struct CmdOutput {
    /// Exit code; `None` when killed by a signal or on timeout.
    pub code: Option<i32>,
    /// Standard output (lossy UTF-8).
    pub stdout: String,
    /// Standard error (lossy UTF-8).
    pub stderr: String,
    /// The deadline passed and the command was killed.
    pub timed_out: bool,
    /// Wall time.
    pub elapsed: Duration,
}

impl CmdOutput {
    /// The line saying the target does not know an option, an argument or the command itself, if
    /// any (the contract's "unsupported" messages: commander's `unknown option`/`unknown command`,
    /// clap's `unexpected argument`/`unrecognized subcommand`, PM2's `Command not found`). A command
    /// is only taken as unknown when the target also exited non-zero.
    pub fn unsupported_line(&self) -> Option<String> {
        let failed = self.code.is_some_and(|c| c != 0);
        self.stderr
            .lines()
            .chain(self.stdout.lines())
            .find_map(|l| {
                let low = l.to_ascii_lowercase();
                let option = UNKNOWN_OPTION.iter().any(|p| low.contains(p));
                // `sh: 1: node: command not found` is a missing program, not a missing verb
                let command = UNKNOWN_COMMAND.iter().any(|p| low.contains(p))
                    && !low.contains(": command not found");
                (option || (failed && command)).then(|| l.trim().to_string())
            })
    }
}

/// Phrases (lower case) by which a target rejects an option or argument.
pub const UNKNOWN_OPTION: [&str; 3] = [
    "unknown option",
    "unexpected argument",
    "unrecognized option",
];

/// Phrases (lower case) by which a target rejects a command, with a non-zero exit.
pub const UNKNOWN_COMMAND: [&str; 4] = [
    "unknown command",
    "unrecognized subcommand",
    "command not found",
    "invalid command",
];

fn spawn_reader<R: tokio::io::AsyncRead + Unpin + Send + 'static>(
    r: Option<R>,
) -> (Arc<Mutex<Vec<u8>>>, Option<tokio::task::JoinHandle<()>>) {
    let buf = Arc::new(Mutex::new(Vec::new()));
    let handle = r.map(|mut r| {
        let b = buf.clone();
        tokio::spawn(async move {
            let mut chunk = [0u8; 8192];
            loop {
                match r.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => b.lock().unwrap().extend_from_slice(&chunk[..n]),
                }
            }
        })
    });
    (buf, handle)
}

/// Runs `program args` in `cwd` with exactly `env` (the environment is cleared first), killing it at `deadline`.
pub async fn run_command(
    program: &Path,
    args: &[&str],
    cwd: &Path,
    env: &[(String, String)],
    deadline: Duration,
) -> std::io::Result<CmdOutput> {
    let start = Instant::now();
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(cwd)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn()?;
    let (out, h1) = spawn_reader(child.stdout.take());
    let (err, h2) = spawn_reader(child.stderr.take());
    let (code, timed_out) = match tokio::time::timeout(deadline, child.wait()).await {
        Ok(Ok(status)) => (status.code(), false),
        Ok(Err(e)) => return Err(e),
        Err(_) => {
            let _ = child.start_kill();
            let _ = tokio::time::timeout(Duration::from_secs(2), child.wait()).await;
            (None, true)
        }
    };
    // a daemon forked by the command may hold the pipes open: give readers a moment, then stop
    for h in [h1, h2].into_iter().flatten() {
        let abort = h.abort_handle();
        if tokio::time::timeout(Duration::from_millis(300), h)
            .await
            .is_err()
        {
            abort.abort();
        }
    }
    let stdout = String::from_utf8_lossy(&out.lock().unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&err.lock().unwrap()).into_owned();
    Ok(CmdOutput {
        code,
        stdout,
        stderr,
        timed_out,
        elapsed: start.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::CmdOutput;
    use rstest::rstest;

    #[rstest]
    #[case("error: unknown option `--wait-ready'", true)]
    #[case("error: unexpected argument '--frob' found", true)]
    #[case("[PM2][ERROR] Script not found: /x.js", false)]
    #[case("error: unknown command 'scale'", true)]
    #[case("error: unrecognized subcommand 'scale'", true)]
    #[case("[PM2][ERROR] Command not found", true)]
    // pm2 7.0.4's own words for `pm2 resize app 3` (stdout, exit 1), colours and all
    #[case(
        "\u{1b}[31m[PM2][ERROR] \u{1b}[39m\u{1b}[1mCommand not found\u{1b}[22m",
        true
    )]
    #[case("sh: 1: node: command not found", false)]
    fn unsupported_lines(#[case] stderr: &str, #[case] found: bool) {
        let o = CmdOutput {
            stderr: stderr.to_string(),
            code: Some(1),
            ..CmdOutput::default()
        };
        assert_eq!(o.unsupported_line().is_some(), found);
    }

    #[test]
    fn an_unknown_command_needs_a_failing_exit() {
        let o = CmdOutput {
            stdout: "[PM2][ERROR] Command not found".into(),
            code: Some(0),
            ..CmdOutput::default()
        };
        assert_eq!(o.unsupported_line(), None);
        let o = CmdOutput { code: Some(1), ..o };
        assert!(o.unsupported_line().is_some());
    }
}
