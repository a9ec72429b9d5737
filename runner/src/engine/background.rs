//! Background helpers of a scenario: the pid watcher (death times, SIGKILL included) and the `jlist` sampler.

use super::record;
use crate::target::{Proc, Sandbox, parse_jlist, procs};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Death times (ms since origin) of every pid that appeared in the record files.
#[derive(Debug, Default, Clone)]
pub struct Deaths(pub Arc<Mutex<BTreeMap<u32, f64>>>);

/// Polls the record files every 20 ms and notes when each recorded pid stops existing.
pub fn spawn_watcher(
    records: Vec<PathBuf>,
    origin: Instant,
    origin_epoch_ms: f64,
    deaths: Deaths,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut known: BTreeMap<u32, ()> = BTreeMap::new();
        loop {
            for r in &records {
                for e in record::read(r, origin_epoch_ms) {
                    known.entry(e.pid).or_insert(());
                }
            }
            let now = origin.elapsed().as_secs_f64() * 1000.0;
            {
                let mut d = deaths.0.lock().unwrap();
                for pid in known.keys() {
                    if !d.contains_key(pid) && !procs::alive(*pid) {
                        d.insert(*pid, now);
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
}

/// One `jlist` observation.
#[derive(Debug, Clone)]
pub struct Sample {
    /// When the command was started, ms since origin.
    pub t_start: f64,
    /// When it returned.
    pub t_end: f64,
    /// What it listed.
    pub procs: Vec<Proc>,
}

/// Runs `<target> jlist` once and parses it; `None` on failure.
pub async fn jlist(
    sb: &Sandbox,
    target: &Path,
    instance_var: &str,
    deadline: Duration,
) -> Result<Option<Vec<Proc>>, String> {
    match sb.run(target, &["jlist"], deadline).await {
        Ok(o) if o.timed_out => Err(format!(
            "`jlist` did not answer within {} ms",
            deadline.as_millis()
        )),
        Ok(o) => Ok(parse_jlist(&o.stdout, instance_var)),
        Err(e) => Err(format!("cannot run the target: {e}")),
    }
}

/// Samples `jlist` every `every` until aborted, appending to `out`.
pub fn spawn_sampler(
    sb: Arc<Sandbox>,
    target: PathBuf,
    instance_var: String,
    every: Duration,
    origin: Instant,
    out: Arc<Mutex<Vec<Sample>>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let t_start = origin.elapsed().as_secs_f64() * 1000.0;
            if let Ok(Some(procs)) =
                jlist(&sb, &target, &instance_var, Duration::from_secs(10)).await
            {
                let t_end = origin.elapsed().as_secs_f64() * 1000.0;
                out.lock().unwrap().push(Sample {
                    t_start,
                    t_end,
                    procs,
                });
            }
            let spent = origin.elapsed().as_secs_f64() * 1000.0 - t_start;
            let wait = every.as_millis() as f64 - spent;
            if wait > 0.0 {
                tokio::time::sleep(Duration::from_millis(wait as u64)).await;
            } else {
                tokio::task::yield_now().await;
            }
        }
    })
}
