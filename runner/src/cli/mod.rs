//! The command line: `conform run`, `conform list`, `conform diff`. `main.rs` only calls [`main`].

mod app;
#[cfg(test)]
mod ci_docs;
mod list;
mod run;
pub(crate) mod runtimes;

use crate::target::is_executable;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

const EXAMPLES: &str = "\
Examples:
  conform run                                   every suite against the refpm built beside conform
  conform run --target ./node_modules/.bin/pm2  the same against the real PM2
  conform run --target npm:pm2@7.0.4            install pm2 7.0.4 into ~/.cache/conform/npm and run it
  conform run --suite reload --scenario reload/under-load --jobs 2
  conform run --target A --target B             both, with a targets x scenarios matrix
  conform run --node 22 --node 24 --node 26     refpm on the newest Node 22, 24 and 26 (a matrix)
  conform run --node bun --suite fork           refpm and the fixtures on Bun (npm @oven/bun-linux-x64)
  conform run --baseline reports/baselines/pm2-7.0.4.json --target ./node_modules/.bin/pm2
  conform list --suite env
  conform diff reports/refpm/results.json reports/pm2-7.0.4/results.json
  conform app server.js --url / --url /api/items --flow login.toml --env PORT=8080
  conform suites export my-suites               the built-in suites as a start for your own

Exit codes: 0 every MUST passed (or the baseline matched), 1 a MUST failed or a verdict changed
against the baseline, 2 usage or infrastructure error, 130 interrupted (partial report written).";

/// Conformance kit for PM2-style cluster mode: checks which promises of PM2's cluster-mode guide a
/// process manager keeps, with figures.
#[derive(Debug, Parser)]
#[command(name = "conform", version, after_help = EXAMPLES)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Sub-commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run scenarios against one or more targets and write reports.
    #[command(after_help = EXAMPLES)]
    Run(run::RunArgs),
    /// Measure throughput, latency, reload safety and overhead of targets side by side.
    Bench(crate::bench::BenchArgs),
    /// Check your own app for cluster mode: starts, serves on every instance, stateless, reload-safe, graceful.
    App(app::AppArgs),
    /// List scenarios: id, level and the guide's sentence.
    List(list::ListArgs),
    /// The suites built into conform.
    #[command(subcommand)]
    Suites(SuitesCommand),
    /// Compare two results.json files as a targets x scenarios matrix.
    Diff {
        /// First results.json.
        a: PathBuf,
        /// Second results.json.
        b: PathBuf,
    },
}

/// `conform suites …`.
#[derive(Debug, Subcommand)]
pub enum SuitesCommand {
    /// Write the built-in suites (`*.toml` and their README) into DIR, a starting point for your own
    /// (run them with `--suites DIR`).
    Export {
        /// Directory to write into (created if missing).
        dir: PathBuf,
        /// Overwrite files that already exist.
        #[arg(long)]
        force: bool,
    },
}

/// Where suites and fixtures live (shared by `run` and `list`).
#[derive(Debug, Clone, clap::Args)]
pub struct Dirs {
    /// Suite directory (default: the suites built into conform; `conform suites export DIR` writes them out).
    #[arg(long, value_name = "DIR")]
    pub suites: Option<PathBuf>,
    /// Fixture directory (default: the fixtures built into conform).
    #[arg(long, value_name = "DIR")]
    pub fixtures: Option<PathBuf>,
}

/// Parses the command line and runs it; returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                crate::exit::USAGE
            } else {
                crate::exit::OK
            };
        }
    };
    match cli.command {
        Command::Run(args) => run::run(args),
        Command::Bench(args) => crate::bench::run(args),
        Command::App(args) => app::app(args),
        Command::List(args) => list::list(args),
        Command::Suites(SuitesCommand::Export { dir, force }) => export(&dir, force),
        Command::Diff { a, b } => diff(&a, &b),
    }
}

/// Prints a user-facing error and returns the usage exit code.
pub(crate) fn usage_error(msg: impl std::fmt::Display) -> i32 {
    eprintln!("conform: error: {msg}");
    crate::exit::USAGE
}

/// Checks shared by `run` and `bench` before anything starts: `node` on PATH (unless `--node` gives
/// one), every path target an executable; then builds the async runtime. The error is a user-facing
/// sentence.
pub(crate) fn preflight(
    targets: &[String],
    nodes: &[String],
) -> Result<tokio::runtime::Runtime, String> {
    let node = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("node").is_file()));
    if !node && nodes.is_empty() {
        return Err("`node` not found on PATH (the fixtures are Node apps; or use --node)".into());
    }
    for t in targets {
        if !t.starts_with("npm:") && t.contains('/') && !is_executable(std::path::Path::new(t)) {
            return Err(format!("target `{t}` not found or not executable"));
        }
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

/// Resolves `--node` and `--target` (none: the refpm beside conform) into the targets × runtimes
/// matrix; the error is a user-facing sentence naming the argument.
pub(crate) async fn resolve_runs(
    targets: &[String],
    nodes: &[String],
) -> Result<Vec<crate::target::Target>, String> {
    resolve_runs_adapted(targets, nodes, std::sync::Arc::default()).await
}

/// As [`resolve_runs`], every target driven through `adapter` (`--adapter`).
pub(crate) async fn resolve_runs_adapted(
    targets: &[String],
    nodes: &[String],
    adapter: std::sync::Arc<crate::target::Adapter>,
) -> Result<Vec<crate::target::Target>, String> {
    let runtimes = runtimes::resolve_runtimes(nodes).await?;
    Ok(runtimes::matrix(
        resolve_targets(targets, adapter).await?,
        &runtimes,
    ))
}

/// Resolves the `--target` values (none: the refpm beside conform) into executable targets; the error
/// is a user-facing sentence naming the target.
async fn resolve_targets(
    targets: &[String],
    adapter: std::sync::Arc<crate::target::Adapter>,
) -> Result<Vec<crate::target::Target>, String> {
    let specs: Vec<Option<&str>> = if targets.is_empty() {
        vec![None]
    } else {
        targets.iter().map(|t| Some(t.as_str())).collect()
    };
    let mut resolved = Vec::new();
    for s in specs {
        let t = crate::target::resolve_adapted(s, adapter.clone())
            .await
            .map_err(|e| {
                let hint = if s.is_none() {
                    " (install it with `cargo install --path reference-impl`, or pass --target)"
                } else {
                    ""
                };
                format!("{e}{hint}")
            })?;
        if !is_executable(&t.command) {
            return Err(format!(
                "target `{}` is not executable",
                t.command.display()
            ));
        }
        resolved.push(t);
    }
    Ok(resolved)
}

/// Prints a miette diagnostic (suite errors) and returns the usage exit code.
pub(crate) fn diagnostic(err: crate::suite::SuiteError) -> i32 {
    eprintln!("{:?}", miette::Report::new(err));
    crate::exit::USAGE
}

fn export(dir: &std::path::Path, force: bool) -> i32 {
    match crate::builtin::export_suites(dir, force) {
        Ok(files) => {
            for f in &files {
                println!("{}", f.display());
            }
            eprintln!(
                "conform: {} files written; run them with `conform run --suites {}`",
                files.len(),
                dir.display()
            );
            crate::exit::OK
        }
        Err(e) => usage_error(e),
    }
}

fn read_report(p: &std::path::Path) -> Result<crate::model::RunReport, String> {
    let text =
        std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
    serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a conform results.json: {e}", p.display()))
}

fn diff(a: &std::path::Path, b: &std::path::Path) -> i32 {
    let ra = match read_report(a) {
        Ok(r) => r,
        Err(e) => return usage_error(e),
    };
    let rb = match read_report(b) {
        Ok(r) => r,
        Err(e) => return usage_error(e),
    };
    print!("{}", crate::report::diff_matrix(&[ra, rb]));
    crate::exit::OK
}

/// Resolves the suites and fixtures directories: `--suites`/`--fixtures` when given, else the copies
/// built into conform (unpacked to the cache on first use).
pub(crate) fn resolve_dirs(d: &Dirs) -> Result<(PathBuf, PathBuf), String> {
    let builtin =
        || crate::builtin::unpack().map_err(|e| format!("cannot unpack the built-in suites: {e}"));
    let (suites, fixtures) = match (&d.suites, &d.fixtures) {
        (Some(s), Some(f)) => (s.clone(), f.clone()),
        (Some(s), None) => (s.clone(), builtin()?.fixtures),
        (None, Some(f)) => (builtin()?.suites, f.clone()),
        (None, None) => {
            let b = builtin()?;
            (b.suites, b.fixtures)
        }
    };
    // the app stub `require`s the fixture by path: a relative one would resolve as a module name
    let fixtures = std::path::absolute(&fixtures).unwrap_or(fixtures);
    Ok((suites, fixtures))
}
