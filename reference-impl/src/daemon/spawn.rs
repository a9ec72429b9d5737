//! Spawning one instance: its environment, log files, pid file, and the task that turns
//! [`WorkerEvent`]s into status changes.

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::Daemon;
use super::table::{Flags, Proc, Running, Status, now_ms};
use crate::cluster::{ClusterSpec, LbPolicy, Worker, WorkerEvent, WorkerSpec};
use crate::config::ExecMode;

/// Default listen_timeout (ms).
pub const DEFAULT_LISTEN_TIMEOUT: u64 = 3000;

/// Variables a caller may carry that would confuse a Node child (the IPC/cluster handshake is ours).
const SCRUBBED: &[&str] = &[
    "NODE_UNIQUE_ID",
    "NODE_CHANNEL_FD",
    "NODE_CHANNEL_SERIALIZATION_MODE",
];

/// The complete environment of an instance: caller env ⊕ app env ⊕ PM2's keys.
pub fn build_env(home: &std::path::Path, p: &Proc) -> Vec<(String, String)> {
    let mut env = p.caller_env.clone();
    for k in SCRUBBED {
        env.remove(*k);
    }
    env.extend(p.spec.env.clone());
    let s = &p.spec;
    let pm2 = [
        (s.instance_var.clone(), p.instance_value.to_string()),
        ("pm_id".into(), p.pm_id.to_string()),
        ("name".into(), s.name.clone()),
        ("namespace".into(), "default".into()),
        ("PM2_HOME".into(), home.display().to_string()),
        ("exec_mode".into(), s.exec_mode.as_str().into()),
        ("instances".into(), p.instances.to_string()),
        ("instance_var".into(), s.instance_var.clone()),
        ("unique_id".into(), p.unique_id.clone()),
        ("status".into(), "launching".into()),
        ("restart_time".into(), p.restart_time.to_string()),
        ("unstable_restarts".into(), p.unstable_restarts.to_string()),
        ("pm_exec_path".into(), s.script.display().to_string()),
        ("pm_cwd".into(), s.cwd.display().to_string()),
        ("pm_out_log_path".into(), p.out_log.display().to_string()),
        ("pm_err_log_path".into(), p.err_log.display().to_string()),
        ("pm_pid_path".into(), p.pid_file.display().to_string()),
        ("autorestart".into(), s.autorestart.to_string()),
    ];
    env.extend(pm2);
    let opt = |k: &str, v: Option<u64>| v.map(|v| (k.to_string(), v.to_string()));
    env.extend(
        [
            opt("kill_timeout", s.kill_timeout),
            opt("listen_timeout", s.listen_timeout),
            opt("max_restarts", s.max_restarts),
            opt("min_uptime", s.min_uptime),
            opt("restart_delay", s.restart_delay),
            opt("exp_backoff_restart_delay", s.exp_backoff_restart_delay),
        ]
        .into_iter()
        .flatten(),
    );
    if s.wait_ready {
        env.insert("wait_ready".into(), "true".into());
    }
    crate::drain::apply(&mut env, home, s);
    env.into_iter().collect()
}

/// A freshly spawned worker that is not (yet) installed in the table.
pub struct Spawned {
    /// Handle, flags and generation.
    pub running: Running,
    /// ms epoch of the spawn.
    pub at: u64,
}

/// Spawns a worker for `p` (does not modify `p`). Its events are only applied to the table while its
/// generation is the proc's current one.
pub fn spawn_worker(d: &Arc<Daemon>, p: &Proc) -> io::Result<Spawned> {
    let s = &p.spec;
    let open = |path: &std::path::Path| OpenOptions::new().create(true).append(true).open(path);
    let stdout = open(&p.out_log)?;
    let stderr = open(&p.err_log)?;
    let mut args: Vec<OsString> = s.program_args.iter().map(OsString::from).collect();
    if !s.script_is_program {
        args.push(s.script.clone().into_os_string());
    }
    args.extend(s.args.iter().map(OsString::from));
    let generation = d.next_generation();
    let cluster = (s.exec_mode == ExecMode::ClusterMode).then(|| ClusterSpec {
        worker_id: generation,
        group: s.name.clone(),
        policy: if s.lb_policy == "shared" {
            LbPolicy::Shared
        } else {
            LbPolicy::Rr
        },
    });
    let spec = WorkerSpec {
        program: s.program.clone(),
        args,
        cwd: s.cwd.clone(),
        env: build_env(&d.home.root, p),
        ipc: s.is_node,
        cluster,
        stdout,
        stderr,
    };
    let (worker, events) = Worker::spawn(spec, d.balancer.clone())?;
    let (tx, rx) = watch::channel(Flags::default());
    let running = Running {
        worker: worker.clone(),
        flags: rx,
        generation,
    };
    let timeout = s.listen_timeout.unwrap_or(DEFAULT_LISTEN_TIMEOUT);
    tokio::spawn(monitor(
        d.clone(),
        p.pm_id,
        generation,
        s.wait_ready,
        events,
        tx,
    ));
    // listen_timeout: a launching instance goes online anyway (PM2).
    let dd = d.clone();
    let pm_id = p.pm_id;
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(timeout)).await;
        dd.mark_online(pm_id, generation);
    });
    Ok(Spawned {
        running,
        at: now_ms(),
    })
}

/// Spawns and installs a worker as `p`'s current one (status `launching`, or `online` for fork apps
/// without wait_ready). On failure the proc goes `errored`.
pub fn launch(d: &Arc<Daemon>, p: &mut Proc) -> io::Result<()> {
    match spawn_worker(d, p) {
        Ok(sp) => {
            install(d, p, sp);
            Ok(())
        }
        Err(e) => {
            p.status = Status::Errored;
            p.pid = 0;
            p.running = None;
            tracing::error!("pm_id {} failed to launch: {e}", p.pm_id);
            Err(e)
        }
    }
}

/// Makes a spawned worker the proc's current one.
pub fn install(d: &Arc<Daemon>, p: &mut Proc, sp: Spawned) {
    let fork_ready = p.spec.exec_mode == ExecMode::ForkMode && !p.spec.wait_ready;
    let flags = sp.running.flags.borrow().clone();
    let ready = fork_ready
        || if p.spec.wait_ready {
            flags.ready
        } else {
            flags.listening
        };
    p.pid = sp.running.worker.pid();
    p.generation = sp.running.generation;
    p.pm_uptime = sp.at;
    p.status = if ready {
        Status::Online
    } else {
        Status::Launching
    };
    p.running = Some(sp.running);
    super::persist::write_pid_file(&p.pid_file, p.pid);
    d.bump();
}

async fn monitor(
    d: Arc<Daemon>,
    pm_id: u32,
    generation: u64,
    wait_ready: bool,
    mut events: mpsc::UnboundedReceiver<WorkerEvent>,
    tx: watch::Sender<Flags>,
) {
    let mut exit = (None, None);
    while let Some(ev) = events.recv().await {
        match ev {
            WorkerEvent::Online => tx.send_modify(|f| f.online = true),
            WorkerEvent::Listening { .. } => {
                tx.send_modify(|f| f.listening = true);
                if !wait_ready {
                    d.mark_online(pm_id, generation);
                }
            }
            WorkerEvent::Message(v) => {
                if v.as_str() == Some("ready") {
                    tx.send_modify(|f| f.ready = true);
                    if wait_ready {
                        d.mark_online(pm_id, generation);
                    }
                }
            }
            WorkerEvent::ServerClosed => {}
            WorkerEvent::ChannelClosed => tx.send_modify(|f| f.channel_closed = true),
            WorkerEvent::Exited { code, signal } => {
                exit = (code, signal);
                break;
            }
        }
        d.bump();
    }
    tx.send_modify(|f| f.exited = Some(exit));
    super::lifecycle::on_exit(&d, pm_id, generation, exit.0, exit.1);
}
