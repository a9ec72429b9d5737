//! `scale <name> <N|+N>` (PM2's `API.scale`): duplicate the lowest-id process, or delete the processes
//! with the highest instance values (PM2 deletes the lowest ids, which loses instance 0).

use std::sync::Arc;

use super::super::Daemon;
use super::super::host::Host;
use super::super::lifecycle::wait_started;
use super::operate::delete_proc;
use super::start::create;
use crate::instances::MAX_INSTANCES;
use crate::protocol::{Event, Report, ScaleRequest};

/// Handles `scale`.
pub async fn scale(d: &Arc<Daemon>, req: ScaleRequest) -> Report {
    let (ids, first, by_value) = {
        let t = d.table();
        let abs = crate::home::absolutise(std::path::Path::new(&req.name));
        let ids: Vec<u32> = t
            .jobs
            .values()
            .filter(|p| p.spec.name == req.name || p.spec.script == abs)
            .map(|p| p.pm_id)
            .collect();
        let first = ids.first().and_then(|id| t.jobs.get(id)).map(|p| {
            (
                p.spec.clone(),
                p.caller_env.clone(),
                p.unique_id.clone(),
                p.instances,
            )
        });
        // Scale-down order: highest instance value first, so instance 0 survives (the guide's cron
        // pattern relies on it; PM2 deletes the lowest pm_ids and loses it).
        let mut by_value: Vec<(u64, u32)> = ids
            .iter()
            .filter_map(|id| t.jobs.get(id))
            .map(|p| (p.instance_value, p.pm_id))
            .collect();
        by_value.sort_by(|a, b| b.cmp(a));
        let by_value: Vec<u32> = by_value.into_iter().map(|(_, id)| id).collect();
        (ids, first, by_value)
    };
    let Some((spec, caller_env, unique_id, instances)) = first else {
        return Report::failure(Event::AppNotFound { name: req.name });
    };
    let relative = req.spec.contains('+');
    let Ok(n) = req.spec.trim().trim_start_matches('+').parse::<i64>() else {
        return Report::failure(Event::NothingToDo);
    };
    let delta = if relative { n } else { n - ids.len() as i64 };
    if delta == 0 || n < 0 {
        return Report::failure(Event::NothingToDo);
    }
    if ids.len() as i64 + delta > MAX_INSTANCES {
        return Report::failure(Event::TooManyInstances {
            asked: ids.len() as i64 + delta,
            limit: MAX_INSTANCES,
            scale: true,
        });
    }
    let mut r = Report::default();
    if delta > 0 {
        let mut created = vec![];
        for _ in 0..delta {
            r.push(Event::ScalingUp);
            let (ids, errors) = create(
                d,
                &spec,
                &caller_env,
                1,
                Some(unique_id.clone()),
                Some(instances),
            );
            created.extend(ids);
            for e in errors {
                r.fail(Event::LaunchFailed { errors: vec![e] });
            }
        }
        wait_started(d, &created).await;
    } else {
        for id in by_value.iter().take((-delta) as usize) {
            let lock = d.table().jobs.get(id).map(|p| p.op_lock.clone());
            let Some(lock) = lock else { continue };
            let _g = lock.lock().await;
            if let Err(e) = delete_proc(d, *id).await {
                r.fail(Event::Failed {
                    message: e.to_string(),
                });
            }
            r.push(Event::Done {
                name: spec.name.clone(),
                id: *id,
            });
        }
    }
    r.processes = Some(d.jlist());
    r
}
