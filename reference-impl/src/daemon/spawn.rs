//! Starting the real process of an instance: its environment (PM2's keys, built only here), log files,
//! program and arguments, cluster identity. Supervising it is `supervise`'s job.

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::io;

use super::Daemon;
use super::host::Started;
use super::job::Job;
use crate::cluster::{ClusterSpec, Worker, WorkerSpec};
use crate::config::ExecMode;

/// Variables a caller may carry that would confuse a Node child (the IPC/cluster handshake is ours).
const SCRUBBED: &[&str] = &[
    "NODE_UNIQUE_ID",
    "NODE_CHANNEL_FD",
    "NODE_CHANNEL_SERIALIZATION_MODE",
];

/// The complete environment of an instance: caller env ⊕ app env ⊕ PM2's keys.
pub fn build_env(home: &std::path::Path, p: &Job) -> Vec<(String, String)> {
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
        ("restart_time".into(), p.counters().restart_time.to_string()),
        (
            "unstable_restarts".into(),
            p.counters().unstable_restarts.to_string(),
        ),
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

/// Starts the real process of a job: log files opened in append mode, program and arguments, the
/// environment of [`build_env`], and the cluster identity for cluster apps.
pub fn start_worker(d: &Daemon, p: &Job, generation: u64) -> io::Result<Started> {
    let s = &p.spec;
    let open = |path: &std::path::Path| OpenOptions::new().create(true).append(true).open(path);
    let stdout = open(&p.out_log)?;
    let stderr = open(&p.err_log)?;
    let mut args: Vec<OsString> = s.program_args.iter().map(OsString::from).collect();
    if !s.script_is_program {
        args.push(s.script.clone().into_os_string());
    }
    args.extend(s.args.iter().map(OsString::from));
    let cluster = (s.exec_mode == ExecMode::ClusterMode).then(|| ClusterSpec {
        worker_id: generation,
        group: s.name.clone(),
        policy: s.lb_policy,
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
    Ok((worker, events))
}
