//! The CPU count a run checks `max`, `0` and `-N` against (`--cpus N`, else the CPUs conform may use),
//! and the count the target used: each scenario notes what its fixtures saw (`os.cpus().length`,
//! `os.availableParallelism()`) and, when its app's instances depend on the CPU count, how many CPUs
//! the workers it started stand for; the run folds those into one [`CpuReport`].

use super::observed::Observed;
use super::record::Worker;
use crate::model::CpuReport;
use crate::suite::{Instances, Scenario};
use std::collections::{BTreeMap, BTreeSet};

/// Where the expected CPU count came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuSource {
    /// `conform run --cpus N`.
    Flag,
    /// The CPUs conform itself may use (sched affinity, capped by a cgroup quota).
    Machine,
}

impl CpuSource {
    /// The text the report shows.
    pub fn as_str(self) -> &'static str {
        match self {
            CpuSource::Flag => "--cpus",
            CpuSource::Machine => "affinity/cgroup",
        }
    }
}

/// Value keys a scenario's figures carry.
pub const OS_CPUS: &str = "cpus.os_cpus";
/// `os.availableParallelism()` as the fixtures saw it.
pub const AVAILABLE: &str = "cpus.available_parallelism";
/// The CPU count the workers the target started stand for.
pub const TARGET: &str = "cpus.target";

/// `-i` relative to the CPU count: `Some(k)` for `CPUs − k` (`max` and `0`: k = 0).
fn cpu_offset(i: &Instances) -> Option<i64> {
    match i {
        Instances::Number(n) if *n <= 0 => Some(-n),
        Instances::Text(s) if s.trim() == "max" => Some(0),
        Instances::Text(s) => s.trim().parse::<i64>().ok().filter(|n| *n <= 0).map(|n| -n),
        Instances::Number(_) => None,
    }
}

/// The CPU figures of one scenario: what its fixtures saw, and for a CPU-relative app the count
/// its workers stand for (see [`target_count`]; not for apps that are scaled).
pub fn scenario_values(sc: &Scenario, obs: &Observed) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    let starts = obs.record.events.iter().filter(|e| e.event == "start");
    let first = |key: &str| {
        starts
            .clone()
            .find_map(|e| e.raw.get(key).and_then(serde_json::Value::as_f64))
    };
    if let Some(n) = first("os_cpus") {
        out.push((OS_CPUS.to_string(), n));
    }
    if let Some(n) = first("available_parallelism") {
        out.push((AVAILABLE.to_string(), n));
    }
    let Some(k) = sc.app.instances.as_ref().and_then(cpu_offset) else {
        return out;
    };
    if !has_scale(sc)
        && let Some(n) = target_count(k, &obs.record.workers)
    {
        out.push((TARGET.to_string(), n as f64));
    }
    out
}

/// The CPU count the workers of a `CPUs − k` app stand for: their distinct instance values (else
/// distinct pids) plus `k`; `None` when nothing started or the count was clamped to 1.
pub fn target_count(k: i64, workers: &[Worker]) -> Option<u32> {
    let instances: BTreeSet<&str> = workers
        .iter()
        .filter_map(|w| w.node_app_instance.as_deref().or(w.instance.as_deref()))
        .collect();
    let started = if instances.is_empty() {
        workers.len()
    } else {
        instances.len()
    };
    (started > 1 || (started == 1 && k == 0)).then(|| (started as i64 + k) as u32)
}

fn has_scale(sc: &Scenario) -> bool {
    sc.steps
        .iter()
        .any(|s| matches!(s, crate::suite::Step::Scale { .. }))
}

/// Which of the fixtures' counts the target's count equals.
pub fn matches(target: u32, os_cpus: Option<u32>, available: Option<u32>) -> String {
    match (os_cpus == Some(target), available == Some(target)) {
        (true, true) => "os.cpus() and availableParallelism() (equal here)".into(),
        (true, false) => "os.cpus()".into(),
        (false, true) => "availableParallelism()".into(),
        (false, false) => "neither os.cpus() nor availableParallelism()".into(),
    }
}

/// Folds the scenarios' CPU figures into the run's report (the most frequent count wins).
pub fn report<'a>(
    expected: usize,
    source: CpuSource,
    figures: impl IntoIterator<Item = &'a BTreeMap<String, f64>> + Clone,
) -> CpuReport {
    let mode = |key: &str| {
        let mut counts: BTreeMap<u32, usize> = BTreeMap::new();
        for values in figures.clone() {
            if let Some(v) = values.get(key) {
                *counts.entry(*v as u32).or_default() += 1;
            }
        }
        counts
            .into_iter()
            .max_by_key(|(v, n)| (*n, std::cmp::Reverse(*v)))
            .map(|(v, _)| v)
    };
    let (os_cpus, available, target) = (mode(OS_CPUS), mode(AVAILABLE), mode(TARGET));
    CpuReport {
        expected,
        source: source.as_str().to_string(),
        os_cpus,
        available_parallelism: available,
        target_used: target,
        target_matches: target.map(|t| matches(t, os_cpus, available)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(Instances::Text("max".into()), Some(0))]
    #[case(Instances::Number(0), Some(0))]
    #[case(Instances::Number(-1), Some(1))]
    #[case(Instances::Text("-2".into()), Some(2))]
    #[case(Instances::Number(4), None)]
    #[case(Instances::Text("3".into()), None)]
    fn cpu_relative_instances(#[case] i: Instances, #[case] k: Option<i64>) {
        assert_eq!(cpu_offset(&i), k);
    }

    fn workers(instances: &[&str]) -> Vec<Worker> {
        instances
            .iter()
            .enumerate()
            .map(|(i, v)| Worker {
                pid: 100 + i as u32,
                node_app_instance: Some(v.to_string()),
                ..Worker::default()
            })
            .collect()
    }

    #[rstest]
    #[case(0, &["0", "1", "2", "3"], Some(4))]
    #[case(0, &["0", "1", "0", "1"], Some(2))] // replaced workers keep their values
    #[case(1, &["0", "1", "2"], Some(4))]
    #[case(2, &["0"], None)] // clamped to 1: any count up to 3 gives the same
    #[case(0, &["0"], Some(1))]
    #[case(0, &[], None)]
    fn the_count_the_workers_stand_for(
        #[case] k: i64,
        #[case] instances: &[&str],
        #[case] want: Option<u32>,
    ) {
        assert_eq!(target_count(k, &workers(instances)), want);
    }

    #[rstest]
    #[case(4, Some(4), Some(2), "os.cpus()")]
    #[case(2, Some(4), Some(2), "availableParallelism()")]
    #[case(
        2,
        Some(2),
        Some(2),
        "os.cpus() and availableParallelism() (equal here)"
    )]
    #[case(3, Some(4), Some(2), "neither os.cpus() nor availableParallelism()")]
    fn which_count_the_target_used(
        #[case] target: u32,
        #[case] os: Option<u32>,
        #[case] ap: Option<u32>,
        #[case] says: &str,
    ) {
        assert_eq!(matches(target, os, ap), says);
    }

    #[rstest]
    #[case(CpuSource::Flag, "--cpus")]
    #[case(CpuSource::Machine, "affinity/cgroup")]
    fn the_report_folds_scenario_figures(#[case] source: CpuSource, #[case] text: &str) {
        let a: BTreeMap<String, f64> = [(OS_CPUS, 4.0), (AVAILABLE, 2.0), (TARGET, 4.0)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let other: BTreeMap<String, f64> = [(TARGET.to_string(), 3.0)].into();
        let r = report(3, source, [&a, &a, &other, &BTreeMap::new()]);
        assert_eq!(
            (r.expected, r.source.as_str(), r.os_cpus, r.target_used),
            (3, text, Some(4), Some(4))
        );
        assert_eq!(r.target_matches.as_deref(), Some("os.cpus()"));
    }
}
