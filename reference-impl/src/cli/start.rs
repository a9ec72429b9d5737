//! `start`: scripts (flags → [`AppSpec`]), ecosystem files, or existing names/ids (restart).
//! Every value is validated before the daemon is contacted, so a bad input starts nothing.

use std::path::Path;

use super::args::StartArgs;
use super::error::CliError;
use super::{Ui, call, caller_env, client, load_file_apps, print_table, report};
use crate::config::{AppSpec, is_config_file};
use crate::home::{Home, absolutise};
use crate::protocol::{Command, Reply, StartRequest, Target, TargetRequest, Verb};

/// Parses a non-negative integer flag, naming the flag and what it counts (`unit`) on error.
fn int_flag(flag: &str, unit: &str, v: &Option<String>) -> Result<Option<u64>, CliError> {
    let Some(raw) = v else { return Ok(None) };
    let value = serde_json::Value::String(raw.trim().to_string());
    match crate::config::parse_ms(&value) {
        Some(n) => Ok(Some(n)),
        None => Err(CliError::InvalidFlag {
            flag: flag.into(),
            value: raw.clone(),
            expected: format!("a non-negative integer {unit}"),
        }),
    }
}

/// Parses a non-negative millisecond flag, naming the flag on error.
fn ms_flag(flag: &str, v: &Option<String>) -> Result<Option<u64>, CliError> {
    int_flag(flag, "number of milliseconds", v)
}

/// A script start request from the flags.
fn script_spec(a: &StartArgs, target: &str) -> Result<AppSpec, CliError> {
    let cwd = match &a.cwd {
        Some(c) => absolutise(Path::new(c)),
        None => absolutise(Path::new(".")),
    };
    let script = absolutise(Path::new(target));
    if !script.is_file() {
        return Err(CliError::ScriptNotFound(script));
    }
    let mut spec = AppSpec::new(script, cwd);
    if let Some(n) = &a.name {
        spec.name = n.clone();
    }
    spec.args = a.script_args.clone();
    if let Some(i) = &a.instances {
        spec.instances = crate::instances::parse(i)?;
    }
    spec.wait_ready = a.wait_ready;
    spec.listen_timeout = ms_flag("--listen-timeout", &a.listen_timeout)?;
    spec.kill_timeout = ms_flag("-k/--kill-timeout", &a.kill_timeout)?;
    spec.shutdown_with_message = a.shutdown_with_message;
    spec.autorestart = !a.no_autorestart;
    spec.drain = !a.no_drain;
    spec.max_restarts = int_flag("--max-restarts", "count", &a.max_restarts)?;
    spec.restart_delay = ms_flag("--restart-delay", &a.restart_delay)?;
    spec.exp_backoff_restart_delay =
        ms_flag("--exp-backoff-restart-delay", &a.exp_backoff_restart_delay)?;
    if let Some(p) = &a.lb_policy {
        spec.lb_policy =
            crate::config::parse_lb_policy(p).ok_or_else(|| CliError::InvalidFlag {
                flag: "--lb-policy".into(),
                value: p.clone(),
                expected: "rr or shared".into(),
            })?;
    }
    let node_args = a
        .node_args
        .as_deref()
        .map(crate::config::split_args)
        .unwrap_or_default();
    spec.decide_mode(
        a.instances.is_some(),
        None,
        a.interpreter.as_deref(),
        &node_args,
        None,
    );
    Ok(spec)
}

/// True when PM2 would first look the argument up as an app name/id.
fn name_like(t: &str) -> bool {
    t.parse::<u64>().is_ok() || (!t.contains('/') && Path::new(t).extension().is_none())
}

enum Job {
    Start(StartRequest),
    Restart(String),
}

/// Runs `start`.
pub fn start(ui: &Ui, home: &Home, a: StartArgs) -> Result<i32, CliError> {
    let targets = if a.targets.is_empty() {
        vec!["ecosystem.config.js".to_string()]
    } else {
        a.targets.clone()
    };
    // Validate flags even when the target turns out to be a file or a name.
    if let Some(i) = &a.instances {
        crate::instances::parse(i)?;
    }
    for (flag, v) in [
        ("--listen-timeout", &a.listen_timeout),
        ("-k/--kill-timeout", &a.kill_timeout),
        ("--restart-delay", &a.restart_delay),
        ("--exp-backoff-restart-delay", &a.exp_backoff_restart_delay),
    ] {
        ms_flag(flag, v)?;
    }
    int_flag("--max-restarts", "count", &a.max_restarts)?;
    let env = caller_env();
    let mut jobs = vec![];
    for t in &targets {
        if is_config_file(t) {
            let mut apps = load_file_apps(ui, t, a.only.as_deref(), a.env.as_deref())?;
            if a.no_drain {
                apps.iter_mut().for_each(|app| app.drain = false);
            }
            jobs.push(Job::Start(StartRequest {
                apps,
                force: a.force,
                from_file: true,
                caller_env: env.clone(),
            }));
            continue;
        }
        if name_like(t) && !absolutise(Path::new(t)).is_file() {
            // Only a running daemon can know the name; do not spawn one to find out.
            let exists = client::connect(home)
                .and_then(|s| client::exchange(s, Command::Exists { target: t.clone() }).ok())
                .is_some_and(|r| matches!(r.reply, Reply::Exists { found: true }));
            if exists {
                jobs.push(Job::Restart(t.clone()));
                continue;
            }
        }
        let spec = script_spec(&a, t)?;
        jobs.push(Job::Start(StartRequest {
            apps: vec![spec],
            force: a.force,
            from_file: false,
            caller_env: env.clone(),
        }));
    }
    let mut last = None;
    for job in jobs {
        let cmd = match job {
            Job::Start(req) => Command::Start(req),
            Job::Restart(name) => Command::Operate {
                action: Verb::Restart,
                request: TargetRequest {
                    target: Target::Name(name),
                    parallel: None,
                    caller_env: env.clone(),
                    update_env: a.update_env,
                },
            },
        };
        let r = report(call(ui, home, cmd, true)?)?;
        let code = ui.report(&r);
        if code != 0 {
            return Ok(code);
        }
        last = Some(r);
    }
    if let Some(r) = last {
        print_table(ui, &r);
    }
    Ok(0)
}
