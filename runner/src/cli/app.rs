//! `conform app`: the thin command over [`crate::app`].

use crate::app::{self, AppCheck, setup};
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `conform app`.
#[derive(Debug, clap::Args)]
pub struct AppArgs {
    /// The app's entry script (CommonJS or ES module), or an ecosystem file (.json, .config.js, .yaml).
    #[arg(value_name = "SCRIPT|ECOSYSTEM")]
    pub script: PathBuf,
    /// App name (default: the script's file stem, or the first app of the ecosystem file).
    #[arg(long)]
    pub name: Option<String>,
    /// Cluster instances (default 2, or the ecosystem file's).
    #[arg(long, short = 'i', value_parser = clap::value_parser!(u16).range(1..=64))]
    pub instances: Option<u16>,
    /// A path to load, repeatable (default `/`).
    #[arg(long = "url", value_name = "PATH")]
    pub urls: Vec<String>,
    /// A flow file (TOML `[[step]]`s) replayed across instances, repeatable.
    #[arg(long = "flow", value_name = "FILE")]
    pub flows: Vec<PathBuf>,
    /// An environment variable for the app, `K=V`, repeatable.
    #[arg(long = "env", value_name = "K=V")]
    pub env: Vec<String>,
    /// The port the app listens on (default: found by the recorder).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub port: Option<u16>,
    /// kill_timeout in ms given to the manager (default 1600, PM2's).
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(100..=600_000))]
    pub kill_timeout: Option<u64>,
    /// The path kept in flight during `stop` (default: the slowest of the URLs).
    #[arg(long, value_name = "PATH")]
    pub slow_url: Option<String>,
    /// How long the app may take to listen, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub listen_timeout: u64,
    /// The PM2-compatible manager (a path, `npm:pm2@VERSION`; default the refpm beside conform).
    #[arg(long)]
    pub target: Option<String>,
    /// Where to write results.json, junit.xml and index.html (default `reports/app-<name>`).
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
}

fn path_arg(p: &str, what: &str) -> Result<String, String> {
    if p.starts_with('/') && !p.chars().any(char::is_whitespace) {
        Ok(p.to_string())
    } else {
        Err(format!(
            "{what} `{p}`: a path starts with / and holds no spaces"
        ))
    }
}

/// Builds the check from the arguments; the error is a user-facing sentence.
fn build(a: &AppArgs) -> Result<AppCheck, String> {
    let mut env = Vec::new();
    for kv in &a.env {
        let (k, v) = kv
            .split_once('=')
            .filter(|(k, _)| !k.is_empty())
            .ok_or_else(|| format!("--env `{kv}`: expected K=V"))?;
        env.push((k.to_string(), v.to_string()));
    }
    if !a.script.is_file() {
        return Err(format!(
            "{}: no such file (SCRIPT|ECOSYSTEM)",
            a.script.display()
        ));
    }
    let (name, script, cwd, instances, kill) = if app::ecosystem::is_ecosystem(&a.script) {
        let e = app::ecosystem::read_ecosystem(&a.script, a.name.as_deref())?;
        if !e.script.is_file() {
            return Err(format!(
                "{}: key `script`: {} not found",
                a.script.display(),
                e.script.display()
            ));
        }
        let mut merged = e.env.clone();
        merged.append(&mut env);
        env = merged;
        let name = a
            .name
            .clone()
            .or(e.name.clone())
            .unwrap_or_else(|| "app".into());
        (
            name,
            e.script,
            e.cwd,
            a.instances.map(usize::from).or(e.instances),
            a.kill_timeout.or(e.kill_timeout_ms),
        )
    } else {
        let script = std::path::absolute(&a.script).map_err(|e| e.to_string())?;
        let cwd = script.parent().map(PathBuf::from).unwrap_or_default();
        let stem = script
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "app".into());
        (
            a.name.clone().unwrap_or(stem),
            script,
            cwd,
            a.instances.map(usize::from),
            a.kill_timeout,
        )
    };
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '/') {
        return Err(format!("--name `{name}`: no spaces or slashes"));
    }
    let urls = if a.urls.is_empty() {
        vec!["/".to_string()]
    } else {
        a.urls
            .iter()
            .map(|u| path_arg(u, "--url"))
            .collect::<Result<_, _>>()?
    };
    let slow_url = a
        .slow_url
        .as_deref()
        .map(|u| path_arg(u, "--slow-url"))
        .transpose()?;
    Ok(AppCheck {
        app: setup::AppSpec {
            name,
            script,
            cwd,
            instances: instances.unwrap_or(2),
            env,
            kill_timeout_ms: kill.unwrap_or(1600),
            listen_timeout_ms: a.listen_timeout * 1000,
        },
        urls,
        flows: Vec::new(),
        port: a.port,
        slow_url,
        listen_timeout: Duration::from_secs(a.listen_timeout),
    })
}

/// Runs `conform app`; returns the exit code (0 ready, 1 a MUST finding failed, 2 usage or the app
/// does not start).
pub fn app(a: AppArgs) -> i32 {
    let mut check = match build(&a) {
        Ok(c) => c,
        Err(e) => return super::usage_error(e),
    };
    for f in &a.flows {
        match app::flow::load(f) {
            Ok(flow) => check.flows.push(flow),
            Err(e) => {
                eprintln!("{:?}", miette::Report::new(e));
                return crate::exit::USAGE;
            }
        }
    }
    let targets: Vec<String> = a.target.iter().cloned().collect();
    let rt = match super::preflight(&targets, &[]) {
        Ok(rt) => rt,
        Err(e) => return super::usage_error(e),
    };
    rt.block_on(async move {
        crate::target::live::reap_stale();
        let target = match super::resolve_runs(&targets, &[]).await {
            Ok(mut t) => t.remove(0),
            Err(e) => return super::usage_error(e),
        };
        let started_at = crate::engine::rfc3339(std::time::SystemTime::now());
        eprintln!(
            "conform app: checking {} ({} instances) under {}…",
            check.app.script.display(),
            check.app.instances,
            target.label
        );
        let out = tokio::select! {
            r = app::run(&check, &target) => r,
            _ = tokio::signal::ctrl_c() => {
                eprintln!("conform app: interrupted");
                return crate::exit::INTERRUPTED;
            }
        };
        let out = match out {
            Ok(o) => o,
            Err(e) => return super::usage_error(e),
        };
        let report = app::report::build(
            app::report::AppInfo {
                name: check.app.name.clone(),
                script: check.app.script.display().to_string(),
                instances: check.app.instances,
            },
            out.findings,
            target.info(),
            match &target.runtime {
                Some(rt) => Some(rt.info()),
                None => crate::target::node::on_path().await.map(|r| r.info()),
            },
            crate::engine::machine_info(),
            started_at,
            out.duration_ms,
        );
        print!("{}", app::report::terminal(&report));
        if !out.leftovers.is_empty() {
            eprintln!(
                "conform app: killed {} leftover process(es): {:?}",
                out.leftovers.len(),
                out.leftovers
            );
        }
        let dir = a
            .report_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("reports").join(format!("app-{}", check.app.name)));
        if let Err(e) = app::report::write(&report, &dir).and_then(|()| {
            crate::report::write_file(&dir.join("record.jsonl"), out.record.as_bytes())
        }) {
            return super::usage_error(e);
        }
        println!("reports: {}", dir.display());
        if report.findings.iter().any(|f| f.fails_run()) {
            crate::exit::FAILED
        } else {
            crate::exit::OK
        }
    })
}
