//! The runner loop: executes the plan's steps in order, each in a fresh sandbox that is cleaned up
//! after the step whatever happened (error, timeout or Ctrl-C), and collects samples, notes and errors.

use super::figures::Samples;
use super::knobs::Knobs;
use super::live;
use super::measure::{self, Out};
use super::plan::{PlanInput, Section, Step, Subject, SubjectKind, plan};
use crate::engine::Cancel;
use crate::target::{Sandbox, Target};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Everything a bench run needs.
pub struct Setup {
    /// The resolved targets, in command-line order.
    pub targets: Vec<Target>,
    /// The throughput subjects (see [`super::plan::subjects`]).
    pub subjects: Vec<Subject>,
    /// Durations, rates and counts.
    pub knobs: Knobs,
    /// Rounds, reloads and the full-run flag.
    pub plan: PlanInput,
    /// The fixtures directory (`http.js`, `bench/node-cluster.js`, `bench/idle.sh`).
    pub fixtures: PathBuf,
    /// Set by Ctrl-C.
    pub cancel: Cancel,
    /// Lower `knobs.reload_rate` to a third of the slowest manager's new-connection max (`--reload-rate`
    /// not given), so that reload failures are not overload failures.
    pub auto_reload_rate: bool,
}

/// A note or error attached to one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    /// Section name (`throughput`, `reload`, `cli`, `scale`, `run`).
    pub section: String,
    /// Subject (throughput, reload) or target label.
    pub subject: String,
    /// Round, from 0.
    pub round: usize,
    /// What happened.
    pub text: String,
}

/// What the loop collected.
#[derive(Debug, Default)]
pub struct Collected {
    /// Samples per figure and subject.
    pub samples: Samples,
    /// Notes (counts, outcomes, leftovers).
    pub notes: Vec<Note>,
    /// Steps that failed, with why.
    pub errors: Vec<Note>,
    /// Steps executed.
    pub steps_done: usize,
    /// Steps planned.
    pub steps_total: usize,
    /// The load rate used during reloads (req/s).
    pub reload_rate: u32,
}

/// The reload load rate: `cap`, lowered to a third of the slowest manager's new-connection max
/// (rounded down to 100, at least 100) when that is lower. A third leaves room for the replacement
/// workers' boot on the same cores, so that failures measure the reload, not overload.
pub fn choose_reload_rate(cap: u32, manager_maxes: &[f64]) -> u32 {
    let slowest = manager_maxes
        .iter()
        .copied()
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold(f64::INFINITY, f64::min);
    if !slowest.is_finite() {
        return cap;
    }
    let third = ((slowest / 3.0 / 100.0).floor() as u32 * 100).max(100);
    third.min(cap)
}

/// Name of a section in notes and progress lines.
pub fn section_name(s: Section) -> &'static str {
    match s {
        Section::Throughput => "throughput",
        Section::Reload(_) => "reload",
        Section::Cli => "cli",
        Section::Scale => "scale",
        Section::FullRun => "run",
    }
}

impl Setup {
    /// The label a step's samples are filed under.
    pub fn step_label(&self, step: &Step) -> String {
        match step.section {
            Section::Throughput | Section::Reload(_) => self.subjects[step.index].label.clone(),
            _ => self.targets[step.index].label.clone(),
        }
    }

    /// Every label, in table order: targets (CLI rows), then throughput subjects not already listed.
    pub fn labels(&self) -> Vec<String> {
        let mut v: Vec<String> = self.targets.iter().map(|t| t.label.clone()).collect();
        for s in &self.subjects {
            if !v.contains(&s.label) {
                v.push(s.label.clone());
            }
        }
        v
    }
}

/// Executes every step in plan order; stops early (after cleaning up) when cancelled. `progress`
/// receives one line per step.
pub async fn execute(setup: &Setup, mut progress: impl FnMut(&str)) -> Collected {
    let steps = plan(&setup.subjects, setup.targets.len(), &setup.plan);
    let mut knobs = setup.knobs.clone();
    let mut c = Collected {
        steps_total: steps.len(),
        reload_rate: knobs.reload_rate,
        ..Collected::default()
    };
    let mut rate_chosen = !setup.auto_reload_rate;
    for (i, step) in steps.iter().enumerate() {
        if setup.cancel.is_cancelled() {
            break;
        }
        if matches!(step.section, Section::Reload(_)) && !rate_chosen {
            rate_chosen = true;
            let maxes: Vec<f64> = setup
                .subjects
                .iter()
                .filter(|s| matches!(s.kind, SubjectKind::Manager { .. }))
                .filter_map(|s| {
                    // the better of the ramp and wrk: a ramp cut short by a hiccup must not set it
                    [super::figures::NEWCONN_MAX, super::figures::NEWCONN_WRK]
                        .iter()
                        .filter_map(|f| super::stats::summarize(c.samples.get(f, &s.label)))
                        .map(|s| s.median)
                        .reduce(f64::max)
                })
                .collect();
            knobs.reload_rate = choose_reload_rate(knobs.reload_rate, &maxes);
            c.reload_rate = knobs.reload_rate;
            progress(&format!(
                "reload load: {} req/s new-connection",
                knobs.reload_rate
            ));
        }
        let label = setup.step_label(step);
        let section = section_name(step.section);
        let started = Instant::now();
        let (out, result) = run_step(setup, &knobs, step).await;
        c.steps_done += 1;
        let note = |text: String| Note {
            section: section.to_string(),
            subject: label.clone(),
            round: step.round,
            text,
        };
        for (fig, v) in &out.values {
            c.samples.push(fig, &label, *v);
        }
        c.notes.extend(out.notes.into_iter().map(note));
        let status = match &result {
            Ok(()) => "ok".to_string(),
            Err(e) => {
                c.errors.push(note(e.clone()));
                format!("error: {e}")
            }
        };
        progress(&format!(
            "[{}/{}] {section} {label} round {}: {status} ({:.1}s)",
            i + 1,
            steps.len(),
            step.round + 1,
            started.elapsed().as_secs_f64()
        ));
    }
    c
}

/// Runs one step's body raced against Ctrl-C, then cleans its sandbox up.
async fn run_step(setup: &Setup, knobs: &Knobs, step: &Step) -> (Out, Result<(), String>) {
    let mut out = Out::default();
    let mut sb = match live::sandbox() {
        Ok(sb) => sb,
        Err(e) => return (out, Err(e)),
    };
    sb.path_prefix = step_runtime(setup, step).map(|rt| rt.bin_dir.clone());
    let manager = manager_command(setup, step);
    let result = {
        let body = body(setup, knobs, step, &mut sb, &mut out);
        tokio::select! {
            r = body => r,
            _ = setup.cancel.cancelled() => Err("interrupted".to_string()),
        }
    };
    let leftovers = match &manager {
        Some(cmd) => sb.cleanup(cmd, &[]).await,
        None => {
            live::stop_node(&sb, None).await;
            Vec::new()
        }
    };
    if !leftovers.is_empty() {
        out.note(format!(
            "{} process(es) still running after `kill`, killed by pid",
            leftovers.len()
        ));
    }
    (out, result)
}

/// The `--node` runtime a step runs on: its target's; the first target's for the node reference rows.
fn step_runtime<'a>(setup: &'a Setup, step: &Step) -> Option<&'a crate::target::Runtime> {
    let target = match step.section {
        Section::Throughput | Section::Reload(_) => match &setup.subjects[step.index].kind {
            SubjectKind::Manager { target, .. } => *target,
            _ => 0,
        },
        _ => step.index,
    };
    setup
        .targets
        .get(target)?
        .runtime
        .as_ref()
        .filter(|rt| rt.requested.is_some())
}

/// The target executable a step drives, `None` for the node reference rows.
fn manager_command(setup: &Setup, step: &Step) -> Option<PathBuf> {
    match step.section {
        Section::Throughput | Section::Reload(_) => match &setup.subjects[step.index].kind {
            SubjectKind::Manager { target, .. } => Some(setup.targets[*target].command.clone()),
            _ => None,
        },
        _ => Some(setup.targets[step.index].command.clone()),
    }
}

async fn body(
    setup: &Setup,
    k: &Knobs,
    step: &Step,
    sb: &mut Sandbox,
    out: &mut Out,
) -> Result<(), String> {
    let http = setup.fixtures.join("http.js");
    match step.section {
        Section::Throughput => {
            let live = start_subject(setup, &setup.subjects[step.index], sb, 2).await?;
            measure::throughput::measure(live.port, live.daemon, k, out).await
        }
        Section::Reload(n) => {
            let subject = &setup.subjects[step.index];
            let live = start_subject(setup, subject, sb, k.reload_instances).await?;
            let cmd = manager_command(setup, step).ok_or("reload needs a target")?;
            measure::reload::measure(sb, &cmd, live.port, n, k, out).await
        }
        Section::Cli => {
            measure::cli::measure(sb, &setup.targets[step.index].command, &http, k, out).await
        }
        Section::Scale => {
            let idle = setup.fixtures.join("bench/idle.sh");
            measure::scale::measure(sb, &setup.targets[step.index].command, &idle, k, out).await
        }
        Section::FullRun => {
            let node = step_runtime(setup, step).map(|rt| rt.binary.as_path());
            measure::full_run::measure(&setup.targets[step.index].command, node, out).await
        }
    }
}

async fn start_subject(
    setup: &Setup,
    subject: &Subject,
    sb: &mut Sandbox,
    instances: u32,
) -> Result<live::Live, String> {
    let fx: &Path = &setup.fixtures;
    match &subject.kind {
        SubjectKind::Manager { target, policy } => {
            live::start_manager(
                sb,
                &setup.targets[*target].command,
                &fx.join("http.js"),
                instances,
                policy.as_deref(),
            )
            .await
        }
        SubjectKind::NodePlain => live::start_node(sb, &fx.join("http.js"), &[], false).await,
        SubjectKind::NodeCluster(sched) => {
            let workers = instances.to_string();
            let env = [
                ("WORKERS", workers.as_str()),
                ("NODE_CLUSTER_SCHED_POLICY", *sched),
            ];
            live::start_node(sb, &fx.join("bench/node-cluster.js"), &env, true).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Setup, choose_reload_rate, step_runtime};
    use crate::bench::plan::{PlanInput, Section, Step, SubjectKind, subjects};
    use crate::target::{Runtime, RuntimeKind, Target};

    fn rt(v: &str, requested: bool) -> Runtime {
        Runtime {
            kind: RuntimeKind::Node,
            version: v.into(),
            node_compat: format!("v{v}"),
            binary: format!("/n{v}/node").into(),
            bin_dir: format!("/n{v}").into(),
            requested: requested.then(|| v.to_string()),
        }
    }

    #[test]
    fn each_step_runs_on_its_targets_runtime_and_node_rows_on_the_first() {
        let base = Target {
            label: "refpm".into(),
            base_label: "refpm".into(),
            command: "/x/refpm".into(),
            version: "0.1.0".into(),
            runtime: None,
            adapter: Default::default(),
        };
        let targets = vec![base.on(&rt("22.23.5", true)), base.on(&rt("26.12.1", true))];
        let labels: Vec<String> = targets.iter().map(|t| t.label.clone()).collect();
        let setup = Setup {
            subjects: subjects(&labels),
            targets,
            knobs: crate::bench::knobs::Knobs::full(None),
            plan: PlanInput {
                rounds: 1,
                reloads: 1,
                with_run: false,
            },
            fixtures: "/x".into(),
            cancel: crate::engine::Cancel::default(),
            auto_reload_rate: true,
        };
        let on = |section, index| {
            step_runtime(
                &setup,
                &Step {
                    section,
                    round: 0,
                    index,
                },
            )
            .map(|r| r.version.clone())
        };
        let of_subject = |i: usize| match setup.subjects[i].kind {
            SubjectKind::Manager { target, .. } => Some(target),
            _ => None,
        };
        for (i, s) in setup.subjects.iter().enumerate() {
            let want = match of_subject(i) {
                Some(t) => setup.targets[t].runtime.as_ref().map(|r| r.version.clone()),
                None => Some("22.23.5".to_string()),
            };
            assert_eq!(on(Section::Throughput, i), want, "{}", s.label);
        }
        assert_eq!(on(Section::Cli, 1).as_deref(), Some("26.12.1"));
        // the node on PATH (no --node) adds nothing to PATH
        let mut plain = setup;
        plain.targets[0].runtime = Some(rt("20.20.2", false));
        assert_eq!(
            step_runtime(
                &plain,
                &Step {
                    section: Section::Cli,
                    round: 0,
                    index: 0
                }
            ),
            None
        );
    }

    #[test]
    fn reload_rate_is_a_third_of_the_slowest_manager_at_most_the_cap() {
        assert_eq!(choose_reload_rate(2000, &[6300.0, 16000.0]), 2000);
        assert_eq!(choose_reload_rate(2000, &[4750.0, 16000.0]), 1500);
        assert_eq!(choose_reload_rate(2000, &[90.0]), 100);
        assert_eq!(choose_reload_rate(2000, &[]), 2000);
        assert_eq!(choose_reload_rate(2000, &[0.0, f64::NAN]), 2000);
    }
}
