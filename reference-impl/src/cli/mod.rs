//! The CLI: parses PM2's commands (`args`), builds requests (validating every value before any daemon
//! is contacted), talks to the daemon (`client`) and prints PM2's output (`render`, `logs`).

mod args;
mod client;
mod error;
mod logs;
mod render;
mod start;
mod text;

use std::collections::BTreeMap;
use std::path::Path;

use clap::Parser;

use crate::config::{is_config_file, load_ecosystem};
use crate::home::Home;
use crate::protocol::record::ProcessRecord;
use crate::protocol::{Command, Reply, Report, ScaleRequest, Target, TargetRequest, Verb};
use args::{Cli, Cmd, OpArgs};
use error::CliError;
use text::Line;

/// Output switches shared by the commands.
pub(crate) struct Ui {
    silent: bool,
}

impl Ui {
    pub(crate) fn out(&self, s: impl AsRef<str>) {
        if !self.silent {
            println!("{}", s.as_ref());
        }
    }
    pub(crate) fn err(&self, s: impl AsRef<str>) {
        if !self.silent {
            eprintln!("{}", s.as_ref());
        }
    }
    /// Prints one line.
    pub(crate) fn line(&self, l: &Line) {
        match l {
            Line::Out(s) => self.out(s),
            Line::Err(s) => self.err(s),
        }
    }
    /// Prints what an action verb did; returns its exit code.
    pub(crate) fn report(&self, r: &Report) -> i32 {
        for ev in &r.events {
            self.line(&text::event(ev));
        }
        i32::from(r.failed)
    }
}

/// Runs the CLI and returns the process exit code.
pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            let _ = e.print();
            return match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => 0,
                _ => 1,
            };
        }
    };
    if cli.version {
        println!("{}", env!("CARGO_PKG_VERSION"));
        return 0;
    }
    let silent = cli.silent || std::env::var("PM2_SILENT").is_ok_and(|v| v == "true");
    let ui = Ui { silent };
    let Some(cmd) = cli.cmd else {
        use clap::CommandFactory;
        let _ = Cli::command().print_help();
        return 1;
    };
    let home = match Home::resolve() {
        Ok(h) => h,
        Err(e) => {
            eprintln!("[PM2][ERROR] {e}");
            return 1;
        }
    };
    match execute(&ui, &home, cmd) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("[PM2][ERROR] {e}");
            1
        }
    }
}

/// The caller's environment (sent with start-like requests; never stored in jlist).
pub(crate) fn caller_env() -> BTreeMap<String, String> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

/// Sends a command, spawning the daemon if needed; a refused request is an error.
pub(crate) fn call(ui: &Ui, home: &Home, cmd: Command, announce: bool) -> Result<Reply, CliError> {
    let stream = client::connect_or_spawn(home, announce && !ui.silent)?;
    match client::exchange(stream, cmd)?.reply {
        Reply::Refused { error, .. } => Err(error.into()),
        reply => Ok(reply),
    }
}

/// The report of an action verb.
pub(crate) fn report(reply: Reply) -> Result<Report, CliError> {
    match reply {
        Reply::Report(r) => Ok(r),
        other => Err(CliError::unexpected(&other)),
    }
}

/// The process records of `list`.
pub(crate) fn processes(reply: Reply) -> Result<Vec<ProcessRecord>, CliError> {
    match reply {
        Reply::List { processes } => Ok(processes),
        other => Err(CliError::unexpected(&other)),
    }
}

fn print_table(ui: &Ui, r: &Report) {
    if !r.failed
        && let Some(list) = &r.processes
    {
        ui.out(render::table(list));
    }
}

fn execute(ui: &Ui, home: &Home, cmd: Cmd) -> Result<i32, CliError> {
    match cmd {
        Cmd::Daemon => match crate::daemon::run(home.clone()) {
            Ok(()) => Ok(0),
            Err(e) => {
                // The daemon's log, whatever the silence switches say.
                eprintln!("[PM2][ERROR] {e}");
                Ok(1)
            }
        },
        Cmd::Start(a) => start::start(ui, home, *a),
        Cmd::Stop(a) => operate(ui, home, a, Verb::Stop),
        Cmd::Restart(a) => operate(ui, home, a, Verb::Restart),
        Cmd::Reload(a) => operate(ui, home, a, Verb::Reload),
        Cmd::Delete(a) => operate(ui, home, a, Verb::Delete),
        Cmd::Scale { name, number } => {
            let r = report(call(
                ui,
                home,
                Command::Scale(ScaleRequest { name, spec: number }),
                true,
            )?)?;
            let code = ui.report(&r);
            print_table(ui, &r);
            Ok(code)
        }
        Cmd::Jlist => {
            let list = processes(call(ui, home, Command::List, false)?)?;
            let text = serde_json::to_string(&list)?;
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
            Ok(0)
        }
        Cmd::List => {
            let list = processes(call(ui, home, Command::List, true)?)?;
            ui.out(render::table(&list));
            Ok(0)
        }
        Cmd::Describe { target } => {
            let list = processes(call(ui, home, Command::List, true)?)?;
            match render::describe(&list, &target) {
                Some(text) => {
                    ui.out(text);
                    Ok(0)
                }
                None => {
                    ui.err(format!("[PM2][WARN] {target} doesn't exist"));
                    Ok(1)
                }
            }
        }
        Cmd::Pid { name } => {
            let list = processes(call(ui, home, Command::List, true)?)?;
            let pids: Vec<String> = list
                .iter()
                .filter(|p| name.as_deref().is_none_or(|n| p.name == n))
                .map(|p| p.pid.to_string())
                .collect();
            // PM2 prints an empty line when nothing matches.
            println!("{}", pids.join("\n"));
            Ok(0)
        }
        Cmd::Ping => {
            match call(ui, home, Command::Ping, true)? {
                Reply::Pong => ui.out(text::PONG),
                other => return Err(CliError::unexpected(&other)),
            }
            Ok(0)
        }
        Cmd::Logs(a) => logs::logs(ui, home, a),
        Cmd::Kill => kill(ui, home),
    }
}

/// stop/restart/reload/delete: targets are names, ids, `all`, script paths or ecosystem files.
fn operate(ui: &Ui, home: &Home, a: OpArgs, op: Verb) -> Result<i32, CliError> {
    let parallel = match &a.parallel {
        None => None,
        Some(p) => match p.parse::<usize>() {
            Ok(n) if (1..=1024).contains(&n) => Some(n),
            _ => {
                ui.err(format!(
                    "[PM2][ERROR] invalid value \"{p}\" for --parallel: expected an integer between 1 and 1024"
                ));
                return Ok(1);
            }
        },
    };
    let has_file = a.targets.iter().any(|t| is_config_file(t));
    if let (Some(env), false) = (&a.env, has_file)
        && matches!(op, Verb::Restart | Verb::Reload)
    {
        ui.err(format!(
            "[PM2][ERROR] Using --env [{env}] without passing the ecosystem.config.js does not work"
        ));
        return Ok(1);
    }
    if op == Verb::Reload && a.targets.len() > 1 {
        ui.err("[PM2][ERROR] reload takes exactly one target");
        return Ok(1);
    }
    // Resolve every target before contacting the daemon: a bad file starts nothing.
    let mut requests = vec![];
    for t in &a.targets {
        let target = if is_config_file(t) {
            let apps = load_file_apps(ui, t, a.only.as_deref(), a.env.as_deref())?;
            Target::Apps(apps)
        } else {
            Target::Name(t.clone())
        };
        requests.push(TargetRequest {
            target,
            parallel,
            caller_env: caller_env(),
            update_env: a.update_env,
        });
    }
    let mut code = 0;
    let mut last = None;
    for req in requests {
        let cmd = Command::Operate {
            action: op,
            request: req,
        };
        if op == Verb::Restart {
            ui.out("Use --update-env to update environment variables");
        }
        let r = report(call(ui, home, cmd, true)?)?;
        code = ui.report(&r);
        if code != 0 {
            return Ok(code);
        }
        last = Some(r);
    }
    if op != Verb::Reload
        && let Some(r) = last
    {
        print_table(ui, &r);
    }
    Ok(code)
}

/// `kill`: stop everything and wait until the daemon process is gone.
fn kill(ui: &Ui, home: &Home) -> Result<i32, CliError> {
    let Some(stream) = client::connect(home) else {
        // Nothing answers: nothing to stop (PM2 would spawn a daemon just to kill it).
        text::killed(0).iter().for_each(|l| ui.line(l));
        return Ok(0);
    };
    let pid: Option<u32> = std::fs::read_to_string(home.pid_file())
        .ok()
        .and_then(|s| s.trim().parse().ok());
    match client::exchange(stream, Command::Kill).map(|r| r.reply) {
        Ok(Reply::Killed { stopped }) => text::killed(stopped).iter().for_each(|l| ui.line(l)),
        Ok(Reply::Refused { error, .. }) => ui.line(&text::refused(&error)),
        Ok(other) => ui.err(format!("[PM2][ERROR] {}", CliError::unexpected(&other))),
        Err(e) => ui.err(format!("[PM2][ERROR] {e}")),
    }
    if let Some(pid) = pid {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::time::Instant::now() < deadline && osfacts::alive(pid) {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
    Ok(0)
}

/// Loads the apps of an ecosystem file for `start`/`stop`/`reload`/…: `--only a,b` (split on `,` or
/// space) and `--env name` applied, warnings printed as PM2 does.
pub(crate) fn load_file_apps(
    ui: &Ui,
    file: &str,
    only: Option<&str>,
    env: Option<&str>,
) -> Result<Vec<crate::config::AppSpec>, CliError> {
    let only: Option<Vec<String>> = only.map(|o| {
        o.split([',', ' '])
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    });
    let (apps, warnings) = load_ecosystem(Path::new(file), env, only.as_deref(), None)?;
    for w in warnings {
        ui.err(format!("[PM2][WARN] {w}"));
    }
    Ok(apps)
}
