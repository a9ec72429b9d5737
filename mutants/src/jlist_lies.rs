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

/// Live pids shifted by a million per pretended reload: new pids that no process has.
pub fn shift_pid(p: &mut Value, reloads: u64) {
    let pid = pid_of(p) as u64;
    if pid > 0 && reloads > 0 {
        p["pid"] = (pid + 1_000_000 * reloads).into();
    }
}

const RELOADS: &str = "mutant-reloads";

/// How many reloads the mutant pretended in `home`.
pub fn reloads(home: &Path) -> u64 {
    std::fs::read_to_string(home.join(RELOADS))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

/// Counts one more pretended reload in `home`.
pub fn bump_reloads(home: &Path) -> Result<(), Error> {
    let path = home.join(RELOADS);
    std::fs::write(&path, (reloads(home) + 1).to_string()).map_err(|e| Error::File {
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
        shift_pid(&mut p, 2);
        assert_eq!(
            p,
            json!({"pid": 2_000_005, "pm2_env": {"status": "online", "NODE_APP_INSTANCE": 1,
                "instance_var": "ID", "ID": "3", "restart_time": 0}})
        );
        let mut online = json!({"pid": 0, "pm2_env": {"status": "launching"}});
        status(&mut online);
        shift_pid(&mut online, 1);
        assert_eq!(online, json!({"pid": 0, "pm2_env": {"status": "launching"}}));
    }

    #[test]
    fn reload_counter() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(reloads(d.path()), 0);
        bump_reloads(d.path()).unwrap();
        bump_reloads(d.path()).unwrap();
        assert_eq!(reloads(d.path()), 2);
    }
}
