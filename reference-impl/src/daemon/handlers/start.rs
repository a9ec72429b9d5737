//! `start`: new apps (PM2's `prepare`: ids, instance values, one unique_id per batch; instances spawned
//! in parallel and awaited together), or restart of apps that already exist.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::super::Daemon;
use super::super::host::Host;
use super::super::job::{Job, JobInit, Launch};
use super::super::lifecycle::wait_started;
use super::super::supervise::launch;
use super::super::table::{Status, now_ms, uuid_v4};
use super::operate::operate;
use crate::config::AppSpec;
use crate::home::sanitize_name;
use crate::instances::{MAX_INSTANCES, resolve, usable_cpus};
use crate::protocol::{Event, Report, StartRequest, Target, TargetRequest, Verb};

/// Restarts `target` as `start` does for apps that already exist, adding what happened to `r`;
/// false when the restart failed. Apps deleted meanwhile are created anew.
async fn restart(
    d: &Arc<Daemon>,
    target: Target,
    caller_env: &BTreeMap<String, String>,
    r: &mut Report,
) -> bool {
    let sub = operate(
        d,
        Verb::Restart,
        TargetRequest {
            target,
            parallel: None,
            caller_env: caller_env.clone(),
            update_env: false,
        },
    )
    .await;
    r.extend(sub.report);
    if r.failed {
        return false;
    }
    for app in sub.missing {
        if let Err(e) = prepare(d, app, caller_env, r).await {
            r.fail(e);
            return false;
        }
    }
    true
}

/// Handles `start`.
pub async fn start(d: &Arc<Daemon>, req: StartRequest) -> Report {
    let mut r = Report::default();
    for app in req.apps {
        let existing: Vec<(u32, Status, bool)> = {
            let t = d.table();
            t.jobs
                .values()
                .filter(|p| p.spec.name == app.name)
                .map(|p| (p.pm_id, p.status(), p.spec.script == app.script))
                .collect()
        };
        if req.from_file && !existing.is_empty() {
            // PM2: starting a config file restarts its running apps with the file's settings.
            if !restart(d, Target::Apps(vec![app]), &req.caller_env, &mut r).await {
                return r;
            }
            continue;
        }
        let same: Vec<&(u32, Status, bool)> = existing.iter().filter(|e| e.2).collect();
        if !req.force && !same.is_empty() {
            if same
                .iter()
                .any(|e| !matches!(e.1, Status::Stopped | Status::Errored))
            {
                r.fail(Event::AlreadyLaunched);
                return r;
            }
            if !restart(d, Target::Name(app.name.clone()), &req.caller_env, &mut r).await {
                return r;
            }
            continue;
        }
        if let Err(e) = prepare(d, app, &req.caller_env, &mut r).await {
            r.fail(e);
            return r;
        }
    }
    r.processes = Some(d.jlist());
    r
}

/// Creates the processes of one app and waits until each left `launching`; `Err` is the event that
/// makes the start fail.
async fn prepare(
    d: &Arc<Daemon>,
    app: AppSpec,
    caller_env: &BTreeMap<String, String>,
    r: &mut Report,
) -> Result<(), Event> {
    let n = resolve(app.instances, usable_cpus());
    if n as i64 > MAX_INSTANCES {
        return Err(Event::TooManyInstances {
            asked: n as i64,
            limit: MAX_INSTANCES,
            scale: false,
        });
    }
    r.push(Event::Starting {
        script: app.script.clone(),
        exec_mode: app.exec_mode,
        instances: app.instances,
    });
    let (ids, errors) = create(d, &app, caller_env, n, None, None);
    if !errors.is_empty() {
        return Err(Event::LaunchFailed { errors });
    }
    wait_started(d, &ids).await;
    r.push(Event::Started);
    Ok(())
}

/// Inserts and launches `n` new processes of `app`; `unique_id` is shared by the batch (or given), and
/// `instances` (the app's resolved count shown in jlist) defaults to `n`.
pub fn create(
    d: &Arc<Daemon>,
    app: &AppSpec,
    caller_env: &BTreeMap<String, String>,
    n: usize,
    unique_id: Option<String>,
    instances: Option<usize>,
) -> (Vec<(u32, u64)>, Vec<String>) {
    let unique_id = unique_id.unwrap_or_else(uuid_v4);
    let mut t = d.table();
    let mut taken = BTreeSet::new();
    let mut out = vec![];
    let mut errors = vec![];
    for _ in 0..n {
        let pm_id = t.new_id();
        let value = t.free_instance_value(&app.name, &taken);
        taken.insert(value);
        let logs = d.home.logs_dir();
        let sname = sanitize_name(&app.name);
        let mut p = Job::new(
            JobInit {
                pm_id,
                spec: app.clone(),
                caller_env: caller_env.clone(),
                instances: instances.unwrap_or(n),
                instance_value: value,
                unique_id: unique_id.clone(),
                out_log: logs.join(format!("{sname}-out-{pm_id}.log")),
                err_log: logs.join(format!("{sname}-error-{pm_id}.log")),
                pid_file: d.home.pids_dir().join(format!("{sname}-{pm_id}.pid")),
            },
            now_ms(),
        );
        if let Err(e) = launch(d, &mut p, Launch::New) {
            errors.push(format!("id {pm_id}: {e}"));
        }
        out.push((pm_id, p.child().map(|c| c.generation).unwrap_or(0)));
        t.jobs.insert(pm_id, p);
    }
    drop(t);
    d.bump();
    (out, errors)
}
