//! The bench report: the JSON document (`reports/bench/<date>.json`), its Markdown twin, and the
//! terminal text. The HTML page is in [`super::html`].

use super::figures::TitleParams;
use super::goals::{self, GoalResult, Roles};
use super::knobs::Knobs;
use super::plan::{NODE_NONE, NODE_RR, PlanInput, has_lb_policies};
use super::runner::{Collected, Note, Setup};
use super::table::{self, FigureTable};
use crate::model::{MachineInfo, TargetInfo};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Version of the bench JSON schema; bump on any incompatible change.
pub const BENCH_SCHEMA_VERSION: u32 = 1;

/// The knobs and flags of the run, echoed into the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigEcho {
    /// Rounds of the throughput and CLI sections.
    pub rounds: usize,
    /// Reloads per manager subject.
    pub reloads: usize,
    /// `--quick` was given.
    pub quick: bool,
    /// `--with-run` was given.
    pub with_run: bool,
    /// Max-throughput sample length (s).
    pub sample_secs: f64,
    /// Latency sample length (s).
    pub latency_sample_secs: f64,
    /// Latency sample rate (req/s).
    pub latency_rate: u32,
    /// Length of each further ramp step (s); rates grow ×1.5 per step from the latency rate.
    pub ramp_step_secs: f64,
    /// Load during reloads (req/s, new connection).
    pub reload_rate: u32,
    /// Shortest reload window (s).
    pub reload_window_secs: f64,
    /// Instances of the reload app.
    pub reload_instances: u32,
    /// Apps of the scale section.
    pub scale_apps: usize,
    /// The wrk used for the cross-check, if any.
    pub wrk: Option<String>,
}

impl ConfigEcho {
    /// The echo of these knobs and plan.
    pub fn new(k: &Knobs, p: &PlanInput, quick: bool) -> Self {
        ConfigEcho {
            rounds: p.rounds,
            reloads: p.reloads,
            quick,
            with_run: p.with_run,
            sample_secs: k.sample.as_secs_f64(),
            latency_sample_secs: k.latency_sample.as_secs_f64(),
            latency_rate: k.latency_rate,
            ramp_step_secs: k.ramp_step.as_secs_f64(),
            reload_rate: k.reload_rate,
            reload_window_secs: k.reload_window.as_secs_f64(),
            reload_instances: k.reload_instances,
            scale_apps: k.scale_apps,
            wrk: k.wrk.as_ref().map(|p| p.display().to_string()),
        }
    }

    /// The parameters figure titles mention.
    pub fn title_params(&self) -> TitleParams {
        TitleParams {
            latency_rate: self.latency_rate,
            reload_rate: self.reload_rate,
            scale_apps: self.scale_apps,
            sample_secs: self.sample_secs,
        }
    }
}

/// The whole `reports/bench/<date>.json` document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchReport {
    /// [`BENCH_SCHEMA_VERSION`].
    pub schema: u32,
    /// RFC 3339 start time (UTC).
    pub started_at: String,
    /// Wall time of the whole bench in ms.
    pub duration_ms: u64,
    /// Every planned step ran (false when interrupted).
    pub complete: bool,
    /// Steps executed / planned.
    pub steps: [usize; 2],
    /// The machine.
    pub machine: MachineInfo,
    /// The targets, in command-line order (the first is the ratio reference).
    pub targets: Vec<TargetInfo>,
    /// Knobs.
    pub config: ConfigEcho,
    /// Every figure with its rows.
    pub figures: Vec<FigureTable>,
    /// refpm's goals, evaluated.
    pub goals: Vec<GoalResult>,
    /// Facts per step.
    pub notes: Vec<Note>,
    /// Steps that failed.
    pub errors: Vec<Note>,
}

/// Who plays which goal role among these labels: targets starting with `pm2` / `refpm`.
pub fn roles(target_labels: &[String]) -> Roles {
    let pm2 = target_labels.iter().find(|l| l.starts_with("pm2")).cloned();
    let refpm = target_labels.iter().find(|l| has_lb_policies(l)).cloned();
    let refpm_policies = refpm
        .as_ref()
        .map(|r| {
            ["rr", "shared"]
                .iter()
                .map(|p| (p.to_string(), format!("{r} ({p})")))
                .collect()
        })
        .unwrap_or_default();
    Roles {
        pm2,
        refpm,
        refpm_policies,
        node_none: Some(NODE_NONE.into()),
        node_rr: Some(NODE_RR.into()),
    }
}

/// Builds the report from what the runner collected.
pub fn build(
    setup: &Setup,
    collected: Collected,
    config: ConfigEcho,
    machine: MachineInfo,
    started_at: String,
    duration_ms: u64,
) -> BenchReport {
    let figures = table::build(&collected.samples, &setup.labels(), &config.title_params());
    let target_labels: Vec<String> = setup.targets.iter().map(|t| t.label.clone()).collect();
    let goals = goals::evaluate(&goals::specs(&roles(&target_labels)), &figures);
    BenchReport {
        schema: BENCH_SCHEMA_VERSION,
        started_at,
        duration_ms,
        complete: collected.steps_done == collected.steps_total && !setup.cancel.is_cancelled(),
        steps: [collected.steps_done, collected.steps_total],
        machine,
        targets: setup.targets.iter().map(|t| t.info()).collect(),
        config,
        figures,
        goals,
        notes: collected.notes,
        errors: collected.errors,
    }
}

/// `2026-12-01T13:05:09Z` → `2026-12-01T13-05-09` (a file name).
pub fn file_stem(started_at: &str) -> String {
    started_at.trim_end_matches('Z').replace(':', "-")
}

fn header(r: &BenchReport) -> String {
    let targets: Vec<String> = r
        .targets
        .iter()
        .map(|t| {
            format!(
                "{} ({})",
                t.label,
                if t.version.is_empty() {
                    "?"
                } else {
                    &t.version
                }
            )
        })
        .collect();
    format!(
        "conform bench {} on {} ({} CPUs, {}, node {}); targets: {}; {} rounds, {} s samples{}",
        r.started_at,
        r.machine.hostname,
        r.machine.cpus,
        r.machine.os,
        r.machine.node_version,
        targets.join(", "),
        r.config.rounds,
        r.config.sample_secs,
        if r.config.quick { " (quick)" } else { "" }
    )
}

/// The terminal text: header, table, goals and errors.
pub fn render_text(r: &BenchReport) -> String {
    let mut s = format!("{}\n\n{}", header(r), table::render_text(&r.figures));
    if !r.goals.is_empty() {
        s.push_str("\ngoals (refpm, issue 7):\n");
        s.push_str(&goals::render_text(&r.goals));
    }
    if !r.errors.is_empty() {
        s.push_str("\nerrors:\n");
        for e in &r.errors {
            s.push_str(&format!(
                "  {} {} round {}: {}\n",
                e.section,
                e.subject,
                e.round + 1,
                e.text
            ));
        }
    }
    s
}

/// The Markdown twin: header line, table, goals as a list, errors.
pub fn render_markdown(r: &BenchReport) -> String {
    let mut s = format!("{}\n\n{}", header(r), table::render_markdown(&r.figures));
    if !r.goals.is_empty() {
        s.push_str("\nGoals (refpm, issue 7):\n\n");
        for g in &r.goals {
            let status = match g.status {
                goals::Status::Met => "met",
                goals::Status::Missed => "**missed**",
                goals::Status::NotMeasured => "not measured",
            };
            s.push_str(&format!("- {status}: {}: {}", g.text, g.observed));
            if let Some(c) = &g.cross_check {
                s.push_str(&format!(" (cross-check {c})"));
            }
            s.push('\n');
        }
    }
    if !r.errors.is_empty() {
        s.push_str("\nErrors:\n\n");
        for e in &r.errors {
            s.push_str(&format!(
                "- {} {} round {}: {}\n",
                e.section,
                e.subject,
                e.round + 1,
                e.text
            ));
        }
    }
    s
}

/// Writes `<dir>/<date>.json`, `<dir>/<date>.md` and `<dir>/index.html`; returns the JSON path.
pub fn write(r: &BenchReport, dir: &Path) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let stem = file_stem(&r.started_at);
    let json_path = dir.join(format!("{stem}.json"));
    let mut json =
        serde_json::to_string_pretty(r).map_err(|e| format!("cannot serialise the report: {e}"))?;
    json.push('\n');
    let write = |p: PathBuf, text: &str| {
        std::fs::write(&p, text).map_err(|e| format!("cannot write {}: {e}", p.display()))
    };
    write(json_path.clone(), &json)?;
    write(dir.join(format!("{stem}.md")), &render_markdown(r))?;
    write(dir.join("index.html"), &super::html::render(r))?;
    Ok(json_path)
}
