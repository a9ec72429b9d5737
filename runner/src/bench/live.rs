//! Bringing a subject up and down: the fixture app under a target (in a fresh sandbox home), or under
//! plain `node` for the reference rows. Every process gets the bench's marker variable; nothing here
//! outlives its sandbox's clean-up.

use super::procinfo::{self, MARKER_VAR};
use crate::load::{Protocol, probe};
use crate::target::{Proc, Sandbox, parse_jlist, procs};
use std::path::Path;
use std::time::{Duration, Instant};

/// A sandbox whose commands carry the marker (`CONFORM_BENCH=<pid of conform>`).
pub fn sandbox() -> Result<Sandbox, String> {
    let mut sb =
        Sandbox::new().map_err(|e| format!("cannot create a sandbox home in /tmp: {e}"))?;
    sb.vars
        .push((MARKER_VAR.to_string(), std::process::id().to_string()));
    Ok(sb)
}

/// Sets (or replaces) one variable of the sandbox's command environment.
pub fn set_var(sb: &mut Sandbox, key: &str, value: &str) {
    sb.vars.retain(|(k, _)| k != key);
    sb.vars.push((key.to_string(), value.to_string()));
}

/// Runs one target command in the sandbox and returns its wall time in ms; a non-zero exit or a
/// timeout is an error naming the command.
pub async fn timed(
    sb: &Sandbox,
    cmd: &Path,
    args: &[&str],
    deadline: Duration,
) -> Result<f64, String> {
    let out = sb
        .run(cmd, args, deadline)
        .await
        .map_err(|e| format!("cannot run `{} {}`: {e}", cmd.display(), args.join(" ")))?;
    if out.timed_out {
        return Err(format!(
            "`{}` did not finish within {}s",
            args.join(" "),
            deadline.as_secs()
        ));
    }
    if out.code != Some(0) {
        let why = out
            .stderr
            .lines()
            .chain(out.stdout.lines())
            .rfind(|l| !l.trim().is_empty())
            .unwrap_or("");
        return Err(format!(
            "`{}` exited with {:?}: {}",
            args.join(" "),
            out.code,
            why.trim()
        ));
    }
    Ok(out.elapsed.as_secs_f64() * 1000.0)
}

/// The target's `jlist`, parsed.
pub async fn jlist(sb: &Sandbox, cmd: &Path) -> Result<Vec<Proc>, String> {
    let out = sb
        .run(cmd, &["jlist"], Duration::from_secs(30))
        .await
        .map_err(|e| format!("cannot run jlist: {e}"))?;
    parse_jlist(&out.stdout, "NODE_APP_INSTANCE")
        .ok_or_else(|| "jlist printed no JSON array".to_string())
}

/// Polls `jlist` until at least `count` processes are `online` with a pid; returns their pids.
pub async fn wait_online(
    sb: &Sandbox,
    cmd: &Path,
    count: usize,
    deadline: Duration,
) -> Result<Vec<u32>, String> {
    let end = Instant::now() + deadline;
    loop {
        let last = match jlist(sb, cmd).await {
            Ok(list) => {
                let pids: Vec<u32> = list
                    .iter()
                    .filter(|p| p.status == "online" && p.pid > 0)
                    .map(|p| p.pid)
                    .collect();
                if pids.len() >= count {
                    return Ok(pids);
                }
                format!("{} of {count} online", pids.len())
            }
            Err(e) => e,
        };
        if Instant::now() >= end {
            return Err(format!(
                "processes not online within {}s ({last})",
                deadline.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Polls `GET /` on the port until a request is answered.
pub async fn wait_serving(port: u16, deadline: Duration) -> Result<(), String> {
    let end = Instant::now() + deadline;
    loop {
        if probe(
            Protocol::Http,
            "127.0.0.1",
            port,
            "/",
            Duration::from_secs(1),
        )
        .await
        .is_ok()
        {
            return Ok(());
        }
        if Instant::now() >= end {
            return Err(format!(
                "nothing answered on port {port} within {}s",
                deadline.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An app serving on a port, with its supervisor when there is one.
#[derive(Debug)]
pub struct Live {
    /// Port the app listens on.
    pub port: u16,
    /// Supervisor pid (the target's daemon, or Node's cluster primary).
    pub daemon: Option<u32>,
    /// App (worker) pids.
    pub apps: Vec<u32>,
    /// The `node` child for reference rows (reaped at stop).
    child: Option<tokio::process::Child>,
}

/// Starts `script` under the target with `-i <instances>` (and `--lb-policy`), waits until every
/// instance is online and the port answers, and finds the daemon.
pub async fn start_manager(
    sb: &mut Sandbox,
    cmd: &Path,
    script: &Path,
    instances: u32,
    policy: Option<&str>,
) -> Result<Live, String> {
    let port = crate::target::ports::free_port().map_err(|e| format!("no free port: {e}"))?;
    set_var(sb, "PORT", &port.to_string());
    let script = script.display().to_string();
    let n = instances.to_string();
    let mut args = vec![
        "start",
        script.as_str(),
        "-i",
        n.as_str(),
        "--name",
        "bench",
    ];
    if let Some(p) = policy {
        args.extend(["--lb-policy", p]);
    }
    timed(sb, cmd, &args, Duration::from_secs(60)).await?;
    let apps = wait_online(sb, cmd, instances as usize, Duration::from_secs(30)).await?;
    wait_serving(port, Duration::from_secs(15)).await?;
    let daemon = procinfo::find_daemon(sb.path(), &apps);
    Ok(Live {
        port,
        daemon,
        apps,
        child: None,
    })
}

/// Starts a reference row: `node <script>` in its own process group with `env` added; for a cluster
/// primary the supervisor is the primary itself.
pub async fn start_node(
    sb: &mut Sandbox,
    script: &Path,
    env: &[(&str, &str)],
    cluster: bool,
) -> Result<Live, String> {
    let port = crate::target::ports::free_port().map_err(|e| format!("no free port: {e}"))?;
    set_var(sb, "PORT", &port.to_string());
    for (k, v) in env {
        set_var(sb, k, v);
    }
    let child = tokio::process::Command::new("node")
        .arg(script)
        .current_dir(sb.path())
        .env_clear()
        .envs(sb.env())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start node {}: {e}", script.display()))?;
    let pid = child.id();
    let mut live = Live {
        port,
        daemon: if cluster { pid } else { None },
        apps: Vec::new(),
        child: Some(child),
    };
    wait_serving(port, Duration::from_secs(15)).await?;
    if cluster {
        // both workers up: every process of the home but the primary
        let end = Instant::now() + Duration::from_secs(10);
        loop {
            live.apps = procs::with_home(sb.path())
                .into_iter()
                .filter(|p| Some(*p) != pid)
                .collect();
            if live.apps.len() >= 2 || Instant::now() >= end {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    } else {
        live.apps = pid.into_iter().collect();
    }
    Ok(live)
}

/// Ends every process of the sandbox: SIGINT, a bounded wait, then SIGKILL by pid; reaps the child.
pub async fn stop_node(sb: &Sandbox, live: Option<Live>) {
    let pids = procs::with_home(sb.path());
    for &p in &pids {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(p as i32),
            nix::sys::signal::Signal::SIGINT,
        );
    }
    let end = Instant::now() + Duration::from_secs(3);
    while !procs::with_home(sb.path()).is_empty() && Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    procs::kill_all(&procs::with_home(sb.path()));
    if let Some(mut child) = live.and_then(|l| l.child) {
        let _ = child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(3), child.wait()).await;
    }
}
