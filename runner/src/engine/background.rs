//! Background helpers of a scenario: the pid watcher (death times, SIGKILL included) and the `jlist` sampler.

use super::observed::Sample;
use super::record;
use crate::target::{Proc, Sandbox, Verb, VerbError, parse_jlist_with, procs};
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

/// Why `jlist` gave no listing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JlistError {
    /// The target did not answer in time (its fault: a check fails).
    #[error("`jlist` did not answer within {0} ms")]
    Hung(u128),
    /// The target answered without a JSON array (its fault: a check fails).
    #[error("no JSON array in `jlist`'s output")]
    NoArray,
    /// The target could not be run at all (infrastructure: the scenario errors).
    #[error("cannot run the target: {0}")]
    Io(String),
}

/// Runs `<target> jlist` once and parses it.
pub async fn jlist(
    sb: &Sandbox,
    target: &Path,
    instance_var: &str,
    deadline: Duration,
) -> Result<Vec<Proc>, JlistError> {
    match sb.run_verb(target, Verb::Jlist, &[], deadline).await {
        Ok(o) if o.timed_out => Err(JlistError::Hung(deadline.as_millis())),
        Ok(o) => parse_jlist_with(&o.stdout, instance_var, &sb.adapter).ok_or(JlistError::NoArray),
        Err(e @ VerbError::Absent(_)) => Err(JlistError::Io(e.to_string())),
        Err(VerbError::Io(e)) => Err(JlistError::Io(e.to_string())),
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
            // a failed sample is kept with its reason: the checks report it, never drop it silently
            let procs = jlist(&sb, &target, &instance_var, Duration::from_secs(10))
                .await
                .map_err(|e| e.to_string());
            let t_end = origin.elapsed().as_secs_f64() * 1000.0;
            out.lock().unwrap().push(Sample {
                t_start,
                t_end,
                procs,
            });
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
