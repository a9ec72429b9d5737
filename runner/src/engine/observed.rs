//! What a scenario observed, gathered once after its steps ran: the fixtures' record parsed once (the
//! app's and each extra app's), every `jlist` snapshot and sample (failed samples included), load results,
//! slow requests, step spans and the daemon kill. Checks are pure functions of an [`Observed`].

use super::record::{RecEvent, Worker};
use crate::load::{LoadResult, Outcome};
use crate::suite::{Instances, Scenario, Step};
use crate::target::Proc;
use serde_json::Value;
use std::collections::BTreeMap;

/// One run of a step, on the scenario's time axis.
#[derive(Debug, Clone, PartialEq)]
pub struct StepSpan {
    /// Step kind (`reload`, `load:main`).
    pub kind: String,
    /// Start, ms since origin.
    pub start: f64,
    /// End, ms since origin.
    pub end: f64,
    /// Exit code when the step ran a command.
    pub exit: Option<i32>,
}

/// Result of a background slow request: the serving pid and instance, or the failure outcome.
pub type SlowResult = Result<(u32, Option<String>), Outcome>;

/// A `jlist` snapshot taken by a `snapshot` step (or the automatic `end`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// When the command was started, ms since origin.
    pub t_start: f64,
    /// When it returned.
    pub t_end: f64,
    /// What it listed.
    pub procs: Vec<Proc>,
}

/// One background `jlist` observation; a failed one keeps why it failed.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// When the command was started, ms since origin.
    pub t_start: f64,
    /// When it returned.
    pub t_end: f64,
    /// What it listed, or why it gave no list.
    pub procs: Result<Vec<Proc>, String>,
}

/// One app's record: its events (parsed once) and the processes folded from them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AppRecord {
    /// Every event, in file order.
    pub events: Vec<RecEvent>,
    /// Every process that wrote to it, in start order, with death times from the pid watcher.
    pub workers: Vec<Worker>,
}

impl AppRecord {
    /// Events named `name`.
    pub fn events_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a RecEvent> + 'a {
        self.events.iter().filter(move |e| e.event == name)
    }

    /// Processes alive at the end of the steps.
    pub fn live(&self) -> impl Iterator<Item = &Worker> {
        self.workers.iter().filter(|w| w.end().is_none())
    }
}

/// What a `kill-daemon` step did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DaemonKill {
    /// The pid that got SIGKILL.
    pub pid: u32,
    /// App processes alive before.
    pub workers_before: usize,
    /// App processes still alive after the settle time.
    pub workers_alive_after: usize,
    /// When the last app process was gone, ms after the kill.
    pub gone_ms: Option<f64>,
}

/// Everything a scenario observed; the checks read nothing else.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// The app's name.
    pub app: String,
    /// The instance count the scenario asked for at the end (from `instances` and `scale` steps).
    pub expected_instances: u32,
    /// CPUs `max` and `-N` are resolved against.
    pub cpus: usize,
    /// `--time-scale`.
    pub scale: f64,
    /// The app's record.
    pub record: AppRecord,
    /// Each extra app's record, by name.
    pub extra: BTreeMap<String, AppRecord>,
    /// `jlist` snapshots by label (`end` always, unless the steps failed first).
    pub snapshots: BTreeMap<String, Snapshot>,
    /// Background `jlist` samples, failed ones included.
    pub samples: Vec<Sample>,
    /// Finished loads by name.
    pub loads: BTreeMap<String, LoadResult>,
    /// Awaited slow requests and how long each took, ms.
    pub slow: BTreeMap<String, (SlowResult, f64)>,
    /// Results of `stop-during-requests` bursts.
    pub bursts: BTreeMap<String, Vec<SlowResult>>,
    /// Answers of `requests` steps.
    pub answers: BTreeMap<String, Vec<Value>>,
    /// What `capture-logs` captured.
    pub logs: Option<String>,
    /// Step runs, in order.
    pub spans: Vec<StepSpan>,
    /// The `kill-daemon` step's outcome.
    pub daemon: Option<DaemonKill>,
}

impl Observed {
    /// The record of `app` (the scenario's app when `None`); an unknown name has an empty record.
    pub fn record_of(&self, app: Option<&str>) -> &AppRecord {
        static EMPTY: AppRecord = AppRecord {
            events: Vec::new(),
            workers: Vec::new(),
        };
        match app {
            None => &self.record,
            Some(a) if a == self.app => &self.record,
            Some(a) => self.extra.get(a).unwrap_or(&EMPTY),
        }
    }

    /// The processes of `app` (default: the scenario's) in snapshot `label`.
    pub fn snap_app(&self, label: &str, app: Option<&str>) -> Vec<&Proc> {
        let name = app.unwrap_or(&self.app);
        self.snapshots
            .get(label)
            .map(|s| s.procs.iter().filter(|p| p.name == name).collect())
            .unwrap_or_default()
    }

    /// From the first start to the last end of the steps of kind `kind`.
    pub fn window(&self, kind: &str) -> Option<(f64, f64)> {
        let spans: Vec<_> = self.spans.iter().filter(|s| s.kind == kind).collect();
        Some((spans.first()?.start, spans.last()?.end))
    }

    /// Every run of steps of kind `kind`.
    pub fn spans_of<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a StepSpan> + 'a {
        self.spans.iter().filter(move |s| s.kind == kind)
    }

    /// Workers that listened through the whole of load `name` (else the ones alive at its end).
    pub fn load_workers(&self, name: &str) -> Vec<&Worker> {
        let ws = &self.record.workers;
        let Some((a, b)) = self.window(&format!("load:{name}")) else {
            return Vec::new();
        };
        let through: Vec<&Worker> = ws
            .iter()
            .filter(|w| {
                w.listening_span()
                    .is_some_and(|(la, lb)| la <= a && lb >= b)
            })
            .collect();
        if !through.is_empty() {
            return through;
        }
        ws.iter()
            .filter(|w| w.listening.is_some() && w.alive_at(b))
            .collect()
    }
}

/// The instance count a scenario's app should have after its steps: `instances` resolved against
/// `cpus` (PM2's guide: `max`/`0` = every CPU, `-N` = CPUs − N, at least 1; absent = one fork process),
/// then every `scale` step (`"4"` or `"+1"`/`"-1"`) in order.
pub fn expected_instances(sc: &Scenario, cpus: usize) -> u32 {
    let mut n = match &sc.app.instances {
        None => 1,
        Some(i) => resolve_instances(i, cpus),
    };
    for s in &sc.steps {
        if let Step::Scale { to } = s {
            let t = to.trim();
            n = match (t.strip_prefix('+'), t.strip_prefix('-')) {
                (Some(d), _) => n.saturating_add(d.parse().unwrap_or(0)),
                (_, Some(d)) => n.saturating_sub(d.parse().unwrap_or(0)).max(1),
                _ => t.parse().unwrap_or(n),
            };
        }
    }
    n
}

/// `-i` as the guide defines it, for `cpus` CPUs.
pub fn resolve_instances(i: &Instances, cpus: usize) -> u32 {
    let cpus = cpus.max(1) as i64;
    let n = match i {
        Instances::Number(0) => cpus,
        Instances::Number(n) if *n < 0 => cpus + n,
        Instances::Number(n) => *n,
        Instances::Text(s) => match s.trim() {
            "max" => cpus,
            t => match t.parse::<i64>() {
                Ok(0) => cpus,
                Ok(n) if n < 0 => cpus + n,
                Ok(n) => n,
                Err(_) => 1,
            },
        },
    };
    n.clamp(1, u32::MAX as i64) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(Instances::Number(4), 2, 4)]
    #[case(Instances::Number(0), 3, 3)]
    #[case(Instances::Number(-1), 4, 3)]
    #[case(Instances::Number(-2), 2, 1)]
    #[case(Instances::Text("max".into()), 6, 6)]
    #[case(Instances::Text("-1".into()), 6, 5)]
    fn instances_resolve_as_the_guide_says(
        #[case] i: Instances,
        #[case] cpus: usize,
        #[case] n: u32,
    ) {
        assert_eq!(resolve_instances(&i, cpus), n);
    }
}
