//! The mutants of the guide's ecosystem-file, timeout-fallback and in-flight-reload promises: what
//! each does with a command line instead of forwarding it unchanged.

use crate::args::{self, set_flag};
use crate::refpm::{Error, Refpm, pid_of, pm_id_of};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The `ecosystem.js` name a `*.config.js` file is copied to: a name PM2 itself does not take for an
/// ecosystem file (it starts `ecosystem.js` as an app).
pub fn plain_script_name(config_js: &Path) -> Option<PathBuf> {
    let name = config_js.file_name()?.to_str()?;
    let stem = name.strip_suffix(".config.js")?;
    Some(config_js.with_file_name(format!("{stem}.js")))
}

/// `start <x>.config.js`: the file is started as a plain script (copied to `<x>.js`), not read as an
/// ecosystem file.
pub fn config_js_as_script(refpm: &Refpm, args: &[String]) -> Result<i32, Error> {
    let Some(i) = args::ecosystem_arg(args).filter(|i| args[*i].ends_with(".config.js")) else {
        return refpm.forward(args);
    };
    let src = PathBuf::from(&args[i]);
    let dst = plain_script_name(&src).ok_or_else(|| Error::File {
        path: src.clone(),
        detail: "not a *.config.js file".into(),
    })?;
    std::fs::copy(&src, &dst).map_err(|e| Error::File {
        path: dst.clone(),
        detail: e.to_string(),
    })?;
    let mut v = args.to_vec();
    v[i] = dst.display().to_string();
    refpm.forward(&v)
}

/// The app names in `jlist`, ordered by their lowest pm_id (the order the file started them in).
pub fn apps_in_start_order(list: &[Value]) -> Vec<String> {
    let mut first: BTreeMap<String, u64> = BTreeMap::new();
    for p in list {
        if let Some(n) = p.get("name").and_then(Value::as_str) {
            let id = pm_id_of(p);
            let e = first.entry(n.to_string()).or_insert(id);
            *e = (*e).min(id);
        }
    }
    let mut names: Vec<(u64, String)> = first.into_iter().map(|(n, id)| (id, n)).collect();
    names.sort();
    names.into_iter().map(|(_, n)| n).collect()
}

/// `reload <ecosystem file>` without `--only`: only the file's first app is reloaded.
pub fn reload_first_app_only(refpm: &Refpm, args: &[String]) -> Result<i32, Error> {
    if args::ecosystem_arg(args).is_none() || args::value_of(args, "--only").is_some() {
        return refpm.forward(args);
    }
    match apps_in_start_order(&refpm.jlist()?).first() {
        Some(first) => refpm.forward(&set_flag(args, "--only", first)),
        None => refpm.forward(args),
    }
}

/// The app's port as its environment in `jlist` says (`pm2_env.env.PORT`, else `pm2_env.PORT`).
pub fn port_of(p: &Value) -> Option<u16> {
    let v = p
        .pointer("/pm2_env/env/PORT")
        .or_else(|| p.pointer("/pm2_env/PORT"))?;
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        _ => None,
    }
}

/// The listen_timeout a process was started with (ms; PM2's default 3000).
pub fn listen_timeout_of(p: &Value) -> u64 {
    p.pointer("/pm2_env/listen_timeout")
        .and_then(Value::as_u64)
        .unwrap_or(3000)
}

/// `reload <app>` of an app nothing answers on (a worker that never listens): it waits out
/// listen_timeout for each worker, then gives up — the old workers kept, no fallback to a restart,
/// exit 1. An app that serves is reloaded as usual.
pub fn reload_timeout_gives_up(refpm: &Refpm, args: &[String]) -> Result<i32, Error> {
    let target = args.get(1).cloned().unwrap_or_default();
    if args::ecosystem_arg(args).is_some() {
        return refpm.forward(args);
    }
    let procs = refpm.live_procs(&target)?;
    let Some(first) = procs.first() else {
        return refpm.forward(args);
    };
    let serves = port_of(first).is_some_and(|port| {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok()
    });
    if serves {
        return refpm.forward(args);
    }
    let wait: u64 = procs.iter().map(listen_timeout_of).sum();
    std::thread::sleep(Duration::from_millis(wait));
    eprintln!(
        "[PM2][ERROR] reload of {target}: no new worker listened within listen_timeout; the old workers were kept"
    );
    Ok(1)
}

/// `reload <app>`: each old worker is SIGKILLed as soon as `jlist` shows its replacement, so the
/// requests it was still answering are cut (no drain, no SIGINT first).
pub fn reload_kills_in_flight(refpm: &Refpm, args: &[String]) -> Result<i32, Error> {
    let target = args.get(1).cloned().unwrap_or_default();
    if args::ecosystem_arg(args).is_some() {
        return refpm.forward(args);
    }
    let old: BTreeMap<u64, u32> = refpm
        .live_procs(&target)?
        .iter()
        .map(|p| (pm_id_of(p), pid_of(p)))
        .collect();
    let mut child = refpm.spawn(args)?;
    let mut killed: BTreeSet<u32> = BTreeSet::new();
    let spawn_err = |e: std::io::Error| Error::Spawn {
        path: refpm.path().to_path_buf(),
        source: e,
    };
    loop {
        if let Some(st) = child.try_wait().map_err(spawn_err)? {
            return Ok(st.code().unwrap_or(1));
        }
        for p in refpm.live_procs(&target).unwrap_or_default() {
            let Some(&was) = old.get(&pm_id_of(&p)) else {
                continue;
            };
            if pid_of(&p) != was && killed.insert(was) {
                let _ = kill(Pid::from_raw(was as i32), Signal::SIGKILL);
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_config_js_becomes_a_plain_script_name() {
        assert_eq!(
            plain_script_name(Path::new("/t/ecosystem.config.js")),
            Some(PathBuf::from("/t/ecosystem.js"))
        );
        assert_eq!(plain_script_name(Path::new("/t/ecosystem.json")), None);
    }

    #[test]
    fn apps_are_ordered_by_their_first_pm_id() {
        let l = vec![
            json!({"name": "other", "pm_id": 2}),
            json!({"name": "app", "pm_id": 1}),
            json!({"name": "other", "pm_id": 3}),
            json!({"name": "app", "pm_id": 0}),
        ];
        assert_eq!(apps_in_start_order(&l), vec!["app", "other"]);
    }

    #[test]
    fn port_and_listen_timeout_from_jlist() {
        let p = json!({"pm2_env": {"env": {"PORT": "4100"}, "listen_timeout": 1500}});
        assert_eq!(port_of(&p), Some(4100));
        assert_eq!(listen_timeout_of(&p), 1500);
        assert_eq!(port_of(&json!({"pm2_env": {"PORT": 80}})), Some(80));
        assert_eq!(port_of(&json!({})), None);
        assert_eq!(listen_timeout_of(&json!({})), 3000);
    }
}
