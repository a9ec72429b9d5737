//! PM2's `jlist` shape (§4) built from the table, with `monit` read from `/proc`.

use std::collections::HashMap;
use std::time::Instant;

use serde_json::{Map, Value, json};

use super::job::Job;
use super::table::{Status, Table};
use crate::config::ExecMode;

/// Previous CPU samples, to compute a percentage between two calls.
#[derive(Default)]
pub struct MonitCache {
    samples: HashMap<u32, (u64, Instant)>,
}

fn clk_tck() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let v = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if v > 0 { v as f64 } else { 100.0 }
}

fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let v = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if v > 0 { v as u64 } else { 4096 }
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
        let rss = std::fs::read_to_string(format!("/proc/{pid}/statm"))
            .ok()
            .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
            .map(|pages| pages * page_size())
            .unwrap_or(0);
        let Some(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok() else {
            return (rss, 0.0);
        };
        let Some(close) = stat.rfind(')') else {
            return (rss, 0.0);
        };
        let f: Vec<&str> = stat[close + 2..].split_whitespace().collect();
        let num = |i: usize| f.get(i).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
        let ticks = num(11) + num(12);
        let start = num(19);
        let now = Instant::now();
        let hz = clk_tck();
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

/// The jlist array (sorted by pm_id).
pub fn jlist(t: &Table, monit: &mut MonitCache) -> Value {
    let live: Vec<u32> = t
        .jobs
        .values()
        .map(|p| p.pid())
        .filter(|pid| *pid != 0)
        .collect();
    monit.retain(&live);
    Value::Array(t.jobs.values().map(|p| entry(p, monit)).collect())
}

fn entry(p: &Job, monit: &mut MonitCache) -> Value {
    let s = &p.spec;
    let c = p.counters();
    let (memory, cpu) = if p.status() == Status::Online && p.pid() != 0 {
        monit.sample(p.pid())
    } else {
        (0, 0.0)
    };
    let mut env = Map::new();
    env.insert("status".into(), json!(p.status().as_str()));
    env.insert("name".into(), json!(s.name));
    env.insert("pm_id".into(), json!(p.pm_id));
    env.insert("namespace".into(), json!("default"));
    env.insert("exec_mode".into(), json!(s.exec_mode.as_str()));
    env.insert("instances".into(), json!(p.instances));
    env.insert("instance_var".into(), json!(s.instance_var));
    env.insert(s.instance_var.clone(), json!(p.instance_value));
    env.insert("restart_time".into(), json!(c.restart_time));
    env.insert("unstable_restarts".into(), json!(c.unstable_restarts));
    env.insert("pm_uptime".into(), json!(c.pm_uptime));
    env.insert("created_at".into(), json!(c.created_at));
    env.insert("pm_exec_path".into(), json!(s.script.display().to_string()));
    env.insert("pm_cwd".into(), json!(s.cwd.display().to_string()));
    env.insert(
        "pm_out_log_path".into(),
        json!(p.out_log.display().to_string()),
    );
    env.insert(
        "pm_err_log_path".into(),
        json!(p.err_log.display().to_string()),
    );
    env.insert(
        "pm_pid_path".into(),
        json!(p.pid_file.display().to_string()),
    );
    env.insert("unique_id".into(), json!(p.unique_id));
    env.insert("autorestart".into(), json!(s.autorestart));
    env.insert("treekill".into(), json!(true));
    env.insert("kill_retry_time".into(), json!(100));
    env.insert("args".into(), json!(s.args));
    env.insert("exec_interpreter".into(), json!(interpreter(p)));
    env.insert(
        "node_args".into(),
        json!(if s.is_node {
            s.program_args.clone()
        } else {
            vec![]
        }),
    );
    env.insert("lb_policy".into(), json!(s.lb_policy));
    let opt = |v: Option<u64>| v.map(|v| json!(v));
    for (k, v) in [
        ("kill_timeout", opt(s.kill_timeout)),
        ("listen_timeout", opt(s.listen_timeout)),
        ("max_restarts", opt(s.max_restarts)),
        ("min_uptime", opt(s.min_uptime)),
        ("restart_delay", opt(s.restart_delay)),
        (
            "exp_backoff_restart_delay",
            opt(s.exp_backoff_restart_delay),
        ),
    ] {
        if let Some(v) = v {
            env.insert(k.into(), v);
        }
    }
    if s.exp_backoff_restart_delay.is_some() {
        env.insert("prev_restart_delay".into(), json!(c.prev_restart_delay));
    }
    if s.wait_ready {
        env.insert("wait_ready".into(), json!(true));
    }
    if s.shutdown_with_message {
        env.insert("shutdown_with_message".into(), json!(true));
    }
    if let Some(code) = c.exit_code {
        env.insert("exit_code".into(), json!(code));
    }
    env.insert("env".into(), json!(s.env));
    json!({
        "pid": p.pid(),
        "name": s.name,
        "pm_id": p.pm_id,
        "monit": {"memory": memory, "cpu": cpu},
        "pm2_env": Value::Object(env),
    })
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
