//! `jlist` rewrites: the lies a mutant tells about its processes.

use crate::refpm::{Error, Refpm, parse_list, pid_of};
use serde_json::Value;
use std::path::Path;

/// Runs refpm's `jlist`, applies `lie` to every process and prints the result; refpm's exit code.
pub fn print(refpm: &Refpm, lie: &dyn Fn(&mut Value)) -> Result<i32, Error> {
    let (code, text) = refpm.capture(&["jlist".to_string()])?;
    let mut list = parse_list(&text)?;
    for p in &mut list {
        lie(p);
    }
    println!("{}", Value::Array(list));
    Ok(code)
}

/// Stopped and errored processes are shown `online`.
pub fn status(p: &mut Value) {
    if let Some(s) = p.pointer_mut("/pm2_env/status")
        && matches!(s.as_str(), Some("stopped" | "errored"))
    {
        *s = "online".into();
    }
}

/// Every instance value (`NODE_APP_INSTANCE` and the key `instance_var` names) one higher.
pub fn instance(p: &mut Value) {
    let Some(env) = p.get_mut("pm2_env").and_then(Value::as_object_mut) else {
        return;
    };
    let var = env
        .get("instance_var")
        .and_then(Value::as_str)
        .unwrap_or("NODE_APP_INSTANCE")
        .to_string();
    for key in ["NODE_APP_INSTANCE".to_string(), var] {
        let Some(v) = env.get_mut(&key) else { continue };
        *v = match &*v {
            Value::Number(n) => n.as_u64().map(|n| (n + 1).into()).unwrap_or(v.clone()),
            Value::String(s) => s
                .parse::<u64>()
                .map(|n| (n + 1).to_string().into())
                .unwrap_or(v.clone()),
            other => other.clone(),
        };
    }
}

/// No process was ever restarted.
pub fn restarts(p: &mut Value) {
    if let Some(env) = p.get_mut("pm2_env").and_then(Value::as_object_mut) {
        for k in ["restart_time", "unstable_restarts"] {
            if env.contains_key(k) {
                env.insert(k.into(), 0.into());
            }
        }
    }
}

/// Live pids shifted by a million per pretended reload of their app: new pids that no process has.
pub fn shift_pid(p: &mut Value, reloads: &[String]) {
    let name = p.get("name").and_then(Value::as_str).unwrap_or("");
    let k = reloads.iter().filter(|r| *r == name || *r == "all").count() as u64;
    let pid = pid_of(p) as u64;
    if pid > 0 && k > 0 {
        p["pid"] = (pid + 1_000_000 * k).into();
    }
}

const RELOADS: &str = "mutant-reloads";

/// The apps the mutant pretended to reload in `home`, once per reload.
pub fn reloads(home: &Path) -> Vec<String> {
    std::fs::read_to_string(home.join(RELOADS))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Records one more pretended reload of `apps` in `home`.
pub fn record_reload(home: &Path, apps: &[String]) -> Result<(), Error> {
    let path = home.join(RELOADS);
    let mut all = reloads(home);
    all.extend(apps.iter().cloned());
    std::fs::write(&path, all.join("\n")).map_err(|e| Error::File {
        path,
        detail: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lies() {
        let mut p = json!({"pid": 5, "pm2_env": {"status": "stopped", "NODE_APP_INSTANCE": 0,
            "instance_var": "ID", "ID": "2", "restart_time": 3}});
        status(&mut p);
        instance(&mut p);
        restarts(&mut p);
        shift_pid(&mut p, &["x".into(), "all".into(), "all".into()]);
        assert_eq!(
            p,
            json!({"pid": 2_000_005, "pm2_env": {"status": "online", "NODE_APP_INSTANCE": 1,
                "instance_var": "ID", "ID": "3", "restart_time": 0}})
        );
        let mut online = json!({"pid": 0, "pm2_env": {"status": "launching"}});
        status(&mut online);
        shift_pid(&mut online, &["all".into()]);
        assert_eq!(
            online,
            json!({"pid": 0, "pm2_env": {"status": "launching"}})
        );
    }

    #[test]
    fn reload_log() {
        let d = tempfile::tempdir().unwrap();
        assert!(reloads(d.path()).is_empty());
        record_reload(d.path(), &["app".into()]).unwrap();
        record_reload(d.path(), &["app".into(), "other".into()]).unwrap();
        assert_eq!(reloads(d.path()), ["app", "app", "other"]);
        let mut p = json!({"pid": 5, "name": "other"});
        shift_pid(&mut p, &reloads(d.path()));
        assert_eq!(p["pid"], 1_000_005);
    }
}
