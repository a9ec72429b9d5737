//! Talking to the daemon: connect to `rpc.sock`, or spawn `refpm daemon` (setsid, stdio to the daemon
//! log) and wait, with a deadline, until it answers.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::process::{Command as Proc, Stdio};
use std::time::{Duration, Instant};

use crate::home::Home;
use crate::protocol::{
    Command, PROTOCOL_VERSION, Reader, Request, Response, VersionMismatch, check_version,
};

/// How long the CLI waits for a new daemon to answer.
const SPAWN_DEADLINE: Duration = Duration::from_secs(10);
/// Longest a single request may take (reloads of many slow instances included).
const REPLY_DEADLINE: Duration = Duration::from_secs(3600);

/// Longest a query (ping, list) may take.
const QUICK_DEADLINE: Duration = Duration::from_secs(30);

/// Errors reaching the daemon.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Could not start the daemon.
    #[error("could not start the daemon for {home}: {reason}")]
    Spawn {
        /// Home path.
        home: String,
        /// Why.
        reason: String,
    },
    /// I/O on the socket.
    #[error("daemon connection failed: {0}")]
    Io(#[from] std::io::Error),
    /// Bad reply.
    #[error("bad reply from the daemon: {0}")]
    Reply(String),
    /// The daemon speaks another protocol version.
    #[error(transparent)]
    Version(#[from] VersionMismatch),
}

/// Connects to a running daemon, if one answers.
pub fn connect(home: &Home) -> Option<UnixStream> {
    UnixStream::connect(home.socket()).ok()
}

/// Sends one request on a stream and reads the reply.
pub fn exchange(mut s: UnixStream, cmd: Command) -> Result<Response, ClientError> {
    // Queries answer at once; only actions that wait for processes may take long.
    let quick = cmd.is_quick();
    let mut line = serde_json::to_vec(&Request {
        version: PROTOCOL_VERSION,
        cmd,
    })
    .map_err(|e| ClientError::Reply(e.to_string()))?;
    line.push(b'\n');
    s.set_read_timeout(Some(if quick {
        QUICK_DEADLINE
    } else {
        REPLY_DEADLINE
    }))?;
    s.write_all(&line)?;
    let mut reader = BufReader::new(s);
    let mut reply = String::new();
    if let Err(e) = reader.read_line(&mut reply) {
        if matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ) {
            let secs = if quick {
                QUICK_DEADLINE
            } else {
                REPLY_DEADLINE
            }
            .as_secs();
            return Err(ClientError::Reply(format!(
                "the daemon did not answer within {secs}s"
            )));
        }
        return Err(e.into());
    }
    if reply.is_empty() {
        return Err(ClientError::Reply(
            "connection closed without a reply".into(),
        ));
    }
    check_version(&reply, Reader::Cli)?;
    serde_json::from_str(&reply).map_err(|e| ClientError::Reply(e.to_string()))
}

/// Connects, spawning the daemon first when none answers. `announce` prints PM2's spawn lines.
pub fn connect_or_spawn(home: &Home, announce: bool) -> Result<UnixStream, ClientError> {
    if let Some(s) = connect(home) {
        return Ok(s);
    }
    let err = |reason: String| ClientError::Spawn {
        home: home.root.display().to_string(),
        reason,
    };
    home.ensure_dirs().map_err(|e| err(e.to_string()))?;
    if announce {
        println!(
            "[PM2] Spawning PM2 daemon with pm2_home={}",
            home.root.display()
        );
    }
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(home.daemon_log())
        .map_err(|e| err(format!("{}: {e}", home.daemon_log().display())))?;
    let exe = std::env::current_exe().map_err(|e| err(e.to_string()))?;
    let mut cmd = Proc::new(exe);
    cmd.arg("daemon")
        .env("PM2_HOME", &home.root)
        .current_dir(&home.root)
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| err(e.to_string()))?)
        .stderr(log);
    use std::os::unix::process::CommandExt;
    // SAFETY: setsid is async-signal-safe; the daemon leaves the CLI's session and terminal.
    unsafe {
        cmd.pre_exec(|| {
            nix::unistd::setsid().map_err(std::io::Error::from)?;
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(|e| err(e.to_string()))?;
    let deadline = Instant::now() + SPAWN_DEADLINE;
    let mut exited_at: Option<Instant> = None;
    loop {
        if let Some(s) = connect(home) {
            if announce {
                println!("[PM2] PM2 Successfully daemonized");
            }
            return Ok(s);
        }
        if exited_at.is_none()
            && let Ok(Some(status)) = child.try_wait()
        {
            // Another CLI may have won the race for the pid-file lock: give its daemon a moment.
            exited_at = Some(Instant::now());
            if !status.success() {
                tracing::debug!("daemon exited with {status}");
            }
        }
        if exited_at.is_some_and(|t| t.elapsed() > Duration::from_secs(2)) {
            let tail = std::fs::read_to_string(home.daemon_log()).unwrap_or_default();
            let last = tail.lines().last().unwrap_or("no output").to_string();
            return Err(err(format!("the daemon exited ({last})")));
        }
        if Instant::now() > deadline {
            return Err(err(format!(
                "no answer on {} after {}s",
                home.socket().display(),
                SPAWN_DEADLINE.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
