//! What each mutant does with a command line before, instead of, or after forwarding it to refpm.

use crate::act_guide;
use crate::args::{self, drop_flag, set_flag, verb, with_verb};
use crate::catalogue::{Mutant, Spec};
use crate::jlist_lies;
use crate::refpm::{Error, Refpm, instance_of, pid_of, pm_id_of};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

/// The mutant's home: `PM2_HOME` (conform gives every scenario its own).
fn home() -> PathBuf {
    std::env::var_os("PM2_HOME")
        .or_else(|| std::env::var_os("HOME"))
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
}

fn pretend(action: &str, args: &[String]) -> Result<i32, Error> {
    println!(
        "[PM2] Applying action {action} on app [{}]",
        args.get(1).map(String::as_str).unwrap_or("")
    );
    Ok(0)
}

fn signal_all(pids: &[u32], sig: Signal) {
    for &p in pids {
        let _ = kill(Pid::from_raw(p as i32), sig);
    }
}

fn pids(procs: &[Value]) -> Vec<u32> {
    procs.iter().map(pid_of).collect()
}

/// The live processes a stop/restart/delete on `target` acts on (`all` = every app).
fn targets(refpm: &Refpm, target: &str) -> Result<Vec<Value>, Error> {
    if target == "all" {
        let names: std::collections::BTreeSet<String> = refpm
            .jlist()?
            .iter()
            .filter_map(|p| p.get("name").and_then(Value::as_str).map(str::to_string))
            .collect();
        let mut out = Vec::new();
        for n in names {
            out.extend(refpm.live_procs(&n)?);
        }
        return Ok(out);
    }
    refpm.live_procs(target)
}

/// Rewrites the ecosystem file argument (if any) through `f` into `<stem>.mutant.json` beside it.
fn rewrite_ecosystem(
    args: &[String],
    f: &dyn Fn(&mut serde_json::Map<String, Value>),
) -> Result<Vec<String>, Error> {
    let Some(i) = args::ecosystem_arg(args) else {
        return Ok(args.to_vec());
    };
    let path = PathBuf::from(&args[i]);
    if path.extension().and_then(|e| e.to_str()) != Some("json") {
        return Err(Error::Usage(format!(
            "{}: this mutant rewrites JSON ecosystem files only",
            path.display()
        )));
    }
    let file_err = |detail: String| Error::File {
        path: path.clone(),
        detail,
    };
    let text = std::fs::read_to_string(&path).map_err(|e| file_err(e.to_string()))?;
    let mut doc: Value = serde_json::from_str(&text).map_err(|e| file_err(e.to_string()))?;
    args::map_apps(&mut doc, f);
    let out = path.with_extension("mutant.json");
    std::fs::write(&out, doc.to_string()).map_err(|e| file_err(e.to_string()))?;
    let mut v = args.to_vec();
    v[i] = out.display().to_string();
    Ok(v)
}

fn cpus() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Runs `args` (a PM2 command line) as mutant `spec` over `refpm`; the exit code to return.
pub fn run(spec: &Spec, refpm: &Refpm, args: &[String]) -> Result<i32, Error> {
    let v = verb(args);
    let target = args.get(1).cloned().unwrap_or_default();
    match (spec.mutant, v) {
        (Mutant::RestartNoop, "restart") => pretend("restartProcessId", args),
        (Mutant::RestartOne, "restart") => {
            let procs = refpm.live_procs(&target)?;
            match procs.first() {
                Some(p) if procs.len() > 1 => {
                    refpm.forward(&["restart".to_string(), pm_id_of(p).to_string()])
                }
                _ => refpm.forward(args),
            }
        }
        (Mutant::ReloadNoop, "reload") => pretend("reloadProcessId", args),
        (Mutant::ReloadNoopFakePids, "reload") => {
            let apps: Vec<String> = match args::value_of(args, "--only") {
                Some(only) => only.split(',').map(str::to_string).collect(),
                None => vec![target.clone()],
            };
            jlist_lies::record_reload(&home(), &apps)?;
            pretend("reloadProcessId", args)
        }
        (Mutant::ReloadAllAtOnce, "reload") => {
            refpm.forward(&set_flag(&with_verb(args, "restart"), "--parallel", "64"))
        }
        (Mutant::ReloadStopStart, "reload") => {
            let stopped = refpm.forward(&["stop".to_string(), target.clone()])?;
            if stopped != 0 {
                return Ok(stopped);
            }
            refpm.forward(&with_verb(args, "restart"))
        }
        (Mutant::ReloadTwoAtATime, "reload") => refpm.forward(&set_flag(args, "--parallel", "2")),
        (Mutant::ReloadStopsOldFirst, "reload") => {
            refpm.forward(&set_flag(&with_verb(args, "restart"), "--parallel", "1"))
        }
        (Mutant::ReloadRenumbers, "reload") if args::ecosystem_arg(args).is_none() => {
            reload_renumbers(refpm, args, &target)
        }
        (Mutant::ReloadHidesFailure, "reload") => refpm.forward(args).map(|_| 0),
        (Mutant::OnlyIgnored, "reload") => refpm.forward(&drop_flag(args, "--only", true)),
        (Mutant::WaitReadyIgnored, "start") => {
            let a = rewrite_ecosystem(args, &|o| {
                o.remove("wait_ready");
            })?;
            refpm.forward(&drop_flag(&a, "--wait-ready", false))
        }
        (Mutant::ListenTimeoutZero, "start") => {
            let mut a = rewrite_ecosystem(args, &|o| {
                if o.contains_key("listen_timeout") {
                    o.insert("listen_timeout".into(), 1.into());
                }
            })?;
            if args::value_of(&a, "--listen-timeout").is_some() {
                a = set_flag(&a, "--listen-timeout", "1");
            }
            refpm.forward(&a)
        }
        (Mutant::KillTimeoutIgnored, "start") => {
            let a = rewrite_ecosystem(args, &|o| {
                o.remove("kill_timeout");
            })?;
            refpm.forward(&drop_flag(
                &drop_flag(&a, "--kill-timeout", true),
                "-k",
                true,
            ))
        }
        (Mutant::NoDrain, "start") => {
            let a = rewrite_ecosystem(args, &|o| {
                o.insert("kill_timeout".into(), 1.into());
            })?;
            let a = drop_flag(&a, "-k", true);
            if args::ecosystem_arg(&a).is_some() {
                refpm.forward(&a)
            } else {
                refpm.forward(&set_flag(&a, "--kill-timeout", "1"))
            }
        }
        (Mutant::ShutdownMessageIgnored, "start") => {
            let a = rewrite_ecosystem(args, &|o| {
                o.remove("shutdown_with_message");
            })?;
            refpm.forward(&drop_flag(&a, "--shutdown-with-message", false))
        }
        (Mutant::SigtermAfterSigint, "stop" | "restart" | "delete") => {
            let ps = pids(&targets(refpm, &target)?);
            signal_all(&ps, Signal::SIGINT);
            let mut child = refpm.spawn(args)?;
            std::thread::sleep(Duration::from_millis(50));
            signal_all(&ps, Signal::SIGTERM);
            let st = child.wait().map_err(|e| Error::Spawn {
                path: refpm.path().to_path_buf(),
                source: e,
            })?;
            Ok(st.code().unwrap_or(1))
        }
        (Mutant::SigkillOnlyStop, "stop") => {
            signal_all(&pids(&targets(refpm, &target)?), Signal::SIGKILL);
            refpm.forward(args)
        }
        (Mutant::InstanceVarIgnored, "start") => {
            let a = rewrite_ecosystem(args, &|o| {
                o.remove("instance_var");
            })?;
            refpm.forward(&a)
        }
        (Mutant::ScaleOffByOne, "scale") => match args.get(2).and_then(|t| args::scale_plus_one(t))
        {
            Some(to) => refpm.forward(&["scale".into(), target, to]),
            None => refpm.forward(args),
        },
        (Mutant::ScaleDownDropsInstanceZero, "scale") => scale_down_zero_first(refpm, args),
        (Mutant::NegativeAsFork, "start") => match args::instances(args) {
            Some(i) if i.starts_with('-') => refpm.forward(&args::set_instances(args, None)),
            _ => refpm.forward(args),
        },
        (Mutant::MaxPlusOne, "start") => {
            let n = (cpus() + 1).to_string();
            let a = rewrite_ecosystem(args, &|o| {
                let is_max = matches!(o.get("instances"), Some(Value::String(s)) if s == "max" || s == "0")
                    || o.get("instances").and_then(Value::as_i64) == Some(0);
                if is_max {
                    o.insert("instances".into(), (cpus() as u64 + 1).into());
                }
            })?;
            match args::instances(&a) {
                Some("max" | "0") => refpm.forward(&args::set_instances(&a, Some(&n))),
                _ => refpm.forward(&a),
            }
        }
        (Mutant::JlistStatusLies, "jlist") => jlist_lies::print(refpm, &jlist_lies::status),
        (Mutant::JlistInstanceLies, "jlist") => jlist_lies::print(refpm, &jlist_lies::instance),
        (Mutant::JlistRestartsLie, "jlist") => jlist_lies::print(refpm, &jlist_lies::restarts),
        (Mutant::ReloadNoopFakePids, "jlist") => {
            let reloads = jlist_lies::reloads(&home());
            jlist_lies::print(refpm, &move |p| jlist_lies::shift_pid(p, &reloads))
        }
        (Mutant::NoAutorestart, "start") => {
            let mut a = args.to_vec();
            a.push("--no-autorestart".into());
            refpm.forward(&a)
        }
        (Mutant::CrashLoopTooLong, "start") => {
            refpm.forward(&set_flag(args, "--max-restarts", "40"))
        }
        (Mutant::DaemonKillOrphans, "start") => {
            let shim = crate::shim::write_node_shim(&home())?;
            refpm.forward(&set_flag(
                args,
                "--interpreter",
                &shim.display().to_string(),
            ))
        }
        (Mutant::StarveWorkers, "start") => {
            let code = refpm.forward(args)?;
            if let Some(name) = args::value_of(args, "--name") {
                // strike before `start` returns, so the scenario's load always meets frozen workers
                crate::shim::starve(refpm, name)?;
            }
            Ok(code)
        }
        (Mutant::LogsEmpty, "logs") => Ok(0),
        (Mutant::ConfigJsAsScript, "start") => act_guide::config_js_as_script(refpm, args),
        (Mutant::EcosystemReloadFirstApp, "reload") => {
            act_guide::reload_first_app_only(refpm, args)
        }
        (Mutant::ReloadTimeoutGivesUp, "reload") => act_guide::reload_timeout_gives_up(refpm, args),
        (Mutant::ReloadKillsInFlight, "reload") => act_guide::reload_kills_in_flight(refpm, args),
        _ => refpm.forward(args),
    }
}

/// Reload as "scale up by n, then delete the n old processes": no downtime, but the new processes
/// carry new pm_ids and instance values.
fn reload_renumbers(refpm: &Refpm, args: &[String], name: &str) -> Result<i32, Error> {
    let old = refpm.live_procs(name)?;
    if old.is_empty() {
        return refpm.forward(args);
    }
    let code = refpm.forward(&["scale".into(), name.into(), format!("+{}", old.len())])?;
    if code != 0 {
        return Ok(code);
    }
    for p in &old {
        let c = refpm.forward(&["delete".into(), pm_id_of(p).to_string()])?;
        if c != 0 {
            return Ok(c);
        }
    }
    Ok(0)
}

/// `scale app N` below the current count deletes instance 0 first, then the highest pm_ids.
fn scale_down_zero_first(refpm: &Refpm, args: &[String]) -> Result<i32, Error> {
    let (Some(name), Some(to)) = (args.get(1), args.get(2)) else {
        return refpm.forward(args);
    };
    let Ok(to) = to.parse::<usize>() else {
        return refpm.forward(args);
    };
    let mut procs = refpm.live_procs(name)?;
    if to >= procs.len() {
        return refpm.forward(args);
    }
    // instance 0 first, then the highest pm_ids
    procs.sort_by_key(|p| {
        (
            instance_of(p).as_deref() != Some("0"),
            u64::MAX - pm_id_of(p),
        )
    });
    let victims = procs.len() - to;
    for p in procs.iter().take(victims) {
        let c = refpm.forward(&["delete".into(), pm_id_of(p).to_string()])?;
        if c != 0 {
            return Ok(c);
        }
    }
    Ok(0)
}
