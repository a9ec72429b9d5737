//! stop / restart / reload / delete over resolved ids (PM2's `_operate`): target resolution, messages,
//! concurrency (`--parallel`), first failure aborts. Apps it finds missing are returned, not started.

use std::sync::Arc;

use tokio::task::JoinSet;

use super::super::Daemon;
use super::super::host::Host;
use super::super::job::JobError;
use super::super::lifecycle::{restart_proc, stop_proc};
use super::super::reload::{ReloadOutcome, reload_proc};
use crate::config::AppSpec;
use crate::protocol::reply::ReloadWarning;
use crate::protocol::{Event, Report, Target, TargetRequest, Verb};

/// What `operate` did, and the apps of a config file it found missing (for the caller to start).
pub struct Operated {
    /// What happened.
    pub report: Report,
    /// Apps of a config file with no process (restart/reload start them, as PM2 does).
    pub missing: Vec<AppSpec>,
}

/// Resolves the target and runs the action on each id (the process records are the caller's).
pub async fn operate(d: &Arc<Daemon>, action: Verb, req: TargetRequest) -> Operated {
    let mut r = Report::default();
    let mut missing = vec![];
    match req.target {
        Target::Name(target) => {
            let ids = d.table().resolve(&target);
            if ids.is_empty() {
                r.fail(Event::NotFound { target });
                return Operated { report: r, missing };
            }
            if req.update_env && matches!(action, Verb::Restart | Verb::Reload) {
                let mut t = d.table();
                for id in &ids {
                    if let Some(p) = t.jobs.get_mut(id) {
                        p.caller_env = req.caller_env.clone();
                    }
                }
            }
            run_ids(d, action, &target, ids, req.parallel, &mut r).await;
        }
        Target::Apps(apps) => {
            for app in apps {
                let ids = d.table().ids_named(&app.name);
                if ids.is_empty() {
                    if matches!(action, Verb::Restart | Verb::Reload) {
                        missing.push(app);
                    }
                    continue;
                }
                if matches!(action, Verb::Restart | Verb::Reload) {
                    update_config(d, &ids, &app, &req.caller_env);
                }
                let name = app.name.clone();
                if !run_ids(d, action, &name, ids, req.parallel, &mut r).await {
                    return Operated {
                        report: r,
                        missing: vec![],
                    };
                }
            }
        }
    }
    Operated { report: r, missing }
}

/// Applies a config file's new settings to running processes (not instances/exec_mode, like PM2).
fn update_config(
    d: &Arc<Daemon>,
    ids: &[u32],
    app: &AppSpec,
    caller_env: &std::collections::BTreeMap<String, String>,
) {
    let mut t = d.table();
    for id in ids {
        if let Some(p) = t.jobs.get_mut(id) {
            let keep_mode = p.spec.exec_mode;
            let keep_instances = p.spec.instances;
            let keep_var = p.spec.instance_var.clone();
            p.spec = app.clone();
            p.spec.exec_mode = keep_mode;
            p.spec.instances = keep_instances;
            // The instance variable name is kept: its value is what identifies the instance.
            p.spec.instance_var = keep_var;
            p.caller_env = caller_env.clone();
        }
    }
}

/// Runs the action over ids; returns false after the first failure (already reported in `r`).
async fn run_ids(
    d: &Arc<Daemon>,
    action: Verb,
    label: &str,
    ids: Vec<u32>,
    parallel: Option<usize>,
    r: &mut Report,
) -> bool {
    r.push(Event::Applying {
        verb: action,
        label: label.to_string(),
        ids: ids.clone(),
    });
    let limit = match (action, parallel) {
        (_, Some(n)) => n.max(1),
        (Verb::Delete, None) => 10,
        (Verb::Reload, None) => 1,
        (_, None) if ids.len() <= 2 => 1,
        (_, None) => 2,
    };
    for chunk in ids.chunks(limit) {
        let mut set = JoinSet::new();
        for &id in chunk {
            let d = d.clone();
            set.spawn(async move { (id, one(&d, action, id).await) });
        }
        let mut results = vec![];
        while let Some(res) = set.join_next().await {
            if let Ok(x) = res {
                results.push(x);
            }
        }
        results.sort_by_key(|(id, _)| *id);
        let mut failed = false;
        for (id, res) in results {
            match res {
                Ok((name, warning)) => {
                    if let Some(w) = warning {
                        r.push(Event::ReloadWarning(w));
                    }
                    r.push(Event::Done { name, id });
                }
                Err(e) => {
                    r.fail(Event::Failed {
                        message: e.to_string(),
                    });
                    failed = true;
                }
            }
        }
        if failed {
            return false;
        }
    }
    true
}

async fn one(
    d: &Arc<Daemon>,
    action: Verb,
    id: u32,
) -> Result<(String, Option<ReloadWarning>), JobError> {
    let (lock, name) = {
        let t = d.table();
        let p = t.jobs.get(&id).ok_or(JobError::UnknownId(id))?;
        (p.op_lock.clone(), p.spec.name.clone())
    };
    let _guard = lock.lock().await;
    let mut warning = None;
    match action {
        Verb::Stop => {
            stop_proc(d, id).await?;
            release_if_idle(d, &name);
        }
        Verb::Restart => restart_proc(d, id).await?,
        Verb::Reload => {
            if let ReloadOutcome::Replaced(w) = reload_proc(d, id).await? {
                warning = w;
            }
        }
        Verb::Delete => delete_proc(d, id).await?,
    }
    Ok((name, warning))
}

/// Stops and removes one id; the id counter restarts at 0 when the table empties.
pub async fn delete_proc(d: &Arc<Daemon>, id: u32) -> Result<(), JobError> {
    let res = stop_proc(d, id).await;
    let mut t = d.table();
    if let Some(p) = t.jobs.remove(&id) {
        let name = p.spec.name.clone();
        if t.ids_named(&name).is_empty() {
            d.balancer.release_group(&name);
        }
    }
    if t.jobs.is_empty() {
        t.next_id = 0;
    }
    drop(t);
    d.bump();
    res
}

/// Releases an app's listening sockets once none of its processes is up (stopped apps free their ports).
fn release_if_idle(d: &Arc<Daemon>, name: &str) {
    let t = d.table();
    let idle = t
        .jobs
        .values()
        .filter(|p| p.spec.name == name)
        .all(|p| !p.is_up());
    drop(t);
    if idle {
        d.balancer.release_group(name);
    }
}
