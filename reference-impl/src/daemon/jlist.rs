//! PM2's `jlist` shape (§4) built from the table, with `monit` read from `/proc`.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use serde_json::json;

use super::job::Job;
use super::node_version::NodeVersions;
use super::table::Table;
use crate::config::ExecMode;
use crate::protocol::record::{Monit, Pm2Env, ProcessRecord, Status};

/// Previous CPU samples, to compute a percentage between two calls.
#[derive(Default)]
pub struct MonitCache {
    samples: HashMap<u32, (u64, Instant)>,
}

fn uptime_secs() -> Option<f64> {
    std::fs::read_to_string("/proc/uptime")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

impl MonitCache {
    /// `(rss bytes, cpu %)` of a pid.
    pub fn sample(&mut self, pid: u32) -> (u64, f64) {
        let rss = osfacts::rss_bytes(pid).unwrap_or(0);
        let Some(stat) = osfacts::stat(pid) else {
            return (rss, 0.0);
        };
        let ticks = stat.utime + stat.stime;
        let start = stat.starttime;
        let now = Instant::now();
        let hz = osfacts::clock_ticks();
        let cpu = match self.samples.get(&pid) {
            Some((prev, at)) if now.duration_since(*at).as_secs_f64() > 0.05 => {
                (ticks.saturating_sub(*prev) as f64 / hz) / now.duration_since(*at).as_secs_f64()
                    * 100.0
            }
            _ => {
                let age = uptime_secs().map(|u| u - start as f64 / hz).unwrap_or(0.0);
                if age > 0.0 {
                    ticks as f64 / hz / age * 100.0
                } else {
                    0.0
                }
            }
        };
        self.samples.insert(pid, (ticks, now));
        (rss, (cpu * 10.0).round() / 10.0)
    }

    /// Forgets pids that are gone.
    pub fn retain(&mut self, live: &[u32]) {
        self.samples.retain(|pid, _| live.contains(pid));
    }
}

/// The jlist records (sorted by pm_id).
pub fn jlist(t: &Table, monit: &mut MonitCache, versions: &NodeVersions) -> Vec<ProcessRecord> {
    let live: Vec<u32> = t
        .jobs
        .values()
        .map(|p| p.pid())
        .filter(|pid| *pid != 0)
        .collect();
    monit.retain(&live);
    t.jobs
        .values()
        .map(|p| {
            let mut r = record(p);
            if r.pm2_env.status == Status::Online && r.pid != 0 {
                let (memory, cpu) = monit.sample(r.pid);
                r.monit = Monit { memory, cpu };
            }
            if p.spec.is_node {
                r.pm2_env.node_version = versions.get(&p.spec.program);
            }
            r
        })
        .collect()
}

/// The record of a job (without `monit` and `node_version`): PM2's keys, built in this one place.
pub fn record(p: &Job) -> ProcessRecord {
    let s = &p.spec;
    let c = p.counters();
    let mut extra = BTreeMap::new();
    extra.insert(s.instance_var.clone(), json!(p.instance_value));
    let env = Pm2Env {
        status: p.status(),
        name: s.name.clone(),
        pm_id: p.pm_id,
        namespace: "default".into(),
        exec_mode: s.exec_mode,
        instances: p.instances,
        instance_var: s.instance_var.clone(),
        restart_time: c.restart_time,
        unstable_restarts: c.unstable_restarts,
        pm_uptime: c.pm_uptime,
        created_at: c.created_at,
        pm_exec_path: s.script.display().to_string(),
        pm_cwd: s.cwd.display().to_string(),
        pm_out_log_path: p.out_log.display().to_string(),
        pm_err_log_path: p.err_log.display().to_string(),
        pm_pid_path: p.pid_file.display().to_string(),
        unique_id: p.unique_id.clone(),
        autorestart: s.autorestart,
        treekill: true,
        kill_retry_time: 100,
        args: s.args.clone(),
        exec_interpreter: interpreter(p),
        node_args: if s.is_node {
            s.program_args.clone()
        } else {
            vec![]
        },
        lb_policy: s.lb_policy,
        kill_timeout: s.kill_timeout,
        listen_timeout: s.listen_timeout,
        max_restarts: s.max_restarts,
        min_uptime: s.min_uptime,
        restart_delay: s.restart_delay,
        exp_backoff_restart_delay: s.exp_backoff_restart_delay,
        prev_restart_delay: s.exp_backoff_restart_delay.map(|_| c.prev_restart_delay),
        wait_ready: s.wait_ready,
        shutdown_with_message: s.shutdown_with_message,
        exit_code: c.exit_code,
        node_version: None,
        env: s.env.clone(),
        extra,
    };
    ProcessRecord {
        pid: p.pid(),
        name: s.name.clone(),
        pm_id: p.pm_id,
        monit: Monit::default(),
        pm2_env: env,
    }
}

fn interpreter(p: &Job) -> String {
    if p.spec.script_is_program {
        "none".into()
    } else if p.spec.exec_mode == ExecMode::ClusterMode || p.spec.is_node {
        let file = p.spec.program.file_name().and_then(|f| f.to_str());
        if file.is_some_and(crate::config::is_bun_name) {
            "bun".into()
        } else {
            "node".into()
        }
    } else {
        p.spec
            .program
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}
