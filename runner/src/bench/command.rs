//! `conform bench`: argument checking, the run under a Ctrl-C handler, the final sweep of every process
//! the bench started, and the reports.

use super::knobs::{Knobs, find_wrk};
use super::plan::{PlanInput, subjects};
use super::procinfo::MARKER_VAR;
use super::report::{self, ConfigEcho};
use super::runner::{Setup, execute};
use crate::engine::Cancel;
use crate::exit;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Arguments of `conform bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Target: a path to a PM2-compatible executable, or `npm:PACKAGE@VERSION`; repeatable; the first
    /// is the ratio reference. Default: the refpm beside conform.
    #[arg(long = "target", id = "target", value_name = "T")]
    pub targets: Vec<String>,
    /// Run the managers, the apps and the reference rows on this Node (a version like `26.12.1` or `26`,
    /// a path, or `bun[@VERSION]`); repeatable: each target once per runtime; the reference rows use the
    /// first. Default: the `node` on PATH.
    #[arg(long = "node", id = "node", value_name = "V")]
    pub nodes: Vec<String>,
    /// Reports go to DIR/bench/ (`<date>.json`, `<date>.md`, `index.html`).
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub report_dir: PathBuf,
    /// Rounds of the throughput and CLI sections (subjects alternate within each round).
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub rounds: u32,
    /// Reloads under load per manager (spread over the rounds).
    #[arg(long, value_name = "K", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub reloads: u32,
    /// Apps of the scale section, each `-i 4` (default 100, 10 with --quick).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub scale_apps: Option<u32>,
    /// New-connection load kept up during reloads, req/s (default: 2000, lowered to a third of the
    /// slowest manager's measured max so that failures come from reloads, not overload).
    #[arg(long, value_name = "R", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub reload_rate: Option<u32>,
    /// Short samples (1 s) and a small scale section, for tests.
    #[arg(long)]
    pub quick: bool,
    /// Also time a full `conform run` against each target (takes minutes).
    #[arg(long)]
    pub with_run: bool,
    /// Fixture directory (default: the fixtures built into conform).
    #[arg(long, value_name = "DIR")]
    pub fixtures: Option<PathBuf>,
}

fn usage(msg: impl std::fmt::Display) -> i32 {
    eprintln!("conform: error: {msg}");
    exit::USAGE
}

/// Checks the fixtures directory holds what the bench starts.
fn check_fixtures(dir: &Path) -> Result<(), String> {
    for f in ["http.js", "bench/node-cluster.js", "bench/idle.sh"] {
        if !dir.join(f).is_file() {
            return Err(format!(
                "fixture {} not found (use --fixtures DIR)",
                dir.join(f).display()
            ));
        }
    }
    Ok(())
}

/// Runs `conform bench`; returns the exit code (0 every step ran, 1 a step failed, 2 usage, 130 interrupted).
pub fn run(args: BenchArgs) -> i32 {
    let fixtures = match &args.fixtures {
        Some(p) => p.clone(),
        None => match crate::builtin::unpack() {
            Ok(b) => b.fixtures,
            Err(e) => return usage(format!("cannot unpack the built-in fixtures: {e}")),
        },
    };
    if let Err(e) = check_fixtures(&fixtures) {
        return usage(e);
    }
    let fixtures = std::fs::canonicalize(&fixtures).unwrap_or(fixtures);
    let rt = match crate::cli::preflight(&args.targets, &args.nodes) {
        Ok(r) => r,
        Err(e) => return usage(e),
    };
    let code = rt.block_on(run_async(args, fixtures));
    // whatever happened, nothing this bench started may outlive it
    sweep();
    code
}

/// SIGKILLs every live process carrying this bench's marker, and waits (bounded) until they are gone.
fn sweep() {
    let me = std::process::id().to_string();
    let left = crate::target::procs::with_env(MARKER_VAR, &me);
    if left.is_empty() {
        return;
    }
    eprintln!(
        "conform: killing {} leftover process(es) by pid: {left:?}",
        left.len()
    );
    crate::target::procs::kill_all(&left);
    let end = Instant::now() + Duration::from_secs(3);
    while !crate::target::procs::with_env(MARKER_VAR, &me).is_empty() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
}

async fn run_async(args: BenchArgs, fixtures: PathBuf) -> i32 {
    let targets = match crate::cli::resolve_runs(&args.targets, &args.nodes).await {
        Ok(t) => t,
        Err(e) => return usage(e),
    };
    let labels: Vec<String> = targets.iter().map(|t| t.label.clone()).collect();
    if let Some(dup) = labels
        .iter()
        .enumerate()
        .find(|(i, l)| labels[..*i].contains(l))
        .map(|(_, l)| l)
    {
        return usage(format!("target `{dup}` given twice"));
    }
    let wrk = find_wrk();
    let mut knobs = if args.quick {
        Knobs::quick(wrk)
    } else {
        Knobs::full(wrk)
    };
    if let Some(n) = args.scale_apps {
        knobs.scale_apps = n as usize;
    }
    if let Some(r) = args.reload_rate {
        knobs.reload_rate = r;
    }
    let plan = PlanInput {
        rounds: args.rounds as usize,
        reloads: args.reloads as usize,
        with_run: args.with_run,
    };
    let mut config = ConfigEcho::new(&knobs, &plan, args.quick);
    let setup = Setup {
        subjects: subjects(&labels),
        targets,
        knobs,
        plan,
        fixtures,
        cancel: Cancel::default(),
        auto_reload_rate: args.reload_rate.is_none(),
    };

    let cancel = setup.cancel.clone();
    let sig = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("conform: interrupted; cleaning up");
            cancel.cancel();
        }
    });
    let started_at = crate::engine::rfc3339(std::time::SystemTime::now());
    let t0 = Instant::now();
    let collected = execute(&setup, |line| eprintln!("{line}")).await;
    sig.abort();
    let failed = !collected.errors.is_empty();
    config.reload_rate = collected.reload_rate;
    let machine = crate::engine::machine_info();
    let r = report::build(
        &setup,
        collected,
        config,
        machine,
        started_at,
        t0.elapsed().as_millis() as u64,
    );
    print!("{}", report::render_text(&r));
    let dir = args.report_dir.join("bench");
    match report::write(&r, &dir) {
        Ok(p) => eprintln!(
            "conform: bench report written to {} and {}",
            p.display(),
            dir.join("index.html").display()
        ),
        Err(e) => return usage(e),
    }
    if setup.cancel.is_cancelled() {
        exit::INTERRUPTED
    } else if failed {
        exit::FAILED
    } else {
        exit::OK
    }
}
