//! Putting the user's app under the target: the recorder preload written into the sandbox, the
//! ecosystem file conform generates (cluster mode, N instances, the preload in `NODE_OPTIONS`), and
//! the app's log tail.

use std::path::{Path, PathBuf};

/// The recorder preload, embedded so `conform app` works wherever the binary is installed.
pub const RECORDER: &str = include_str!("recorder.cjs");

/// What to start.
#[derive(Debug, Clone, PartialEq)]
pub struct AppSpec {
    /// App name under the manager.
    pub name: String,
    /// Absolute path of the script.
    pub script: PathBuf,
    /// Working directory.
    pub cwd: PathBuf,
    /// Instances.
    pub instances: usize,
    /// Environment for the app (the user's `--env` and the ecosystem's `env`).
    pub env: Vec<(String, String)>,
    /// kill_timeout in ms.
    pub kill_timeout_ms: u64,
    /// listen_timeout in ms (how long a new instance may take to listen during a reload).
    pub listen_timeout_ms: u64,
}

/// Writes the recorder and the ecosystem file into `home`; returns the ecosystem file's path.
pub fn write_files(home: &Path, app: &AppSpec, record: &Path) -> std::io::Result<PathBuf> {
    let recorder = home.join("conform-recorder.cjs");
    std::fs::write(&recorder, RECORDER)?;
    let mut env = serde_json::Map::new();
    for (k, v) in &app.env {
        env.insert(k.clone(), v.clone().into());
    }
    let user_opts = env
        .get("NODE_OPTIONS")
        .and_then(|v| v.as_str())
        .map(|s| format!(" {s}"))
        .unwrap_or_default();
    env.insert(
        "NODE_OPTIONS".into(),
        format!("--require {}{user_opts}", recorder.display()).into(),
    );
    env.insert("CONFORM_RECORD".into(), record.display().to_string().into());
    let eco = serde_json::json!({
        "apps": [{
            "name": app.name,
            "script": app.script,
            "cwd": app.cwd,
            "instances": app.instances,
            "exec_mode": "cluster",
            // the app is judged on its own: refpm's drain preload (which closes keep-alive
            // connections for the app on SIGINT) is off; PM2 has none and keeps the key as data
            "drain": false,
            // PM2's cluster workers get the app's env only after start: node_args reaches them
            "node_args": ["--require", recorder],
            "kill_timeout": app.kill_timeout_ms,
            // a reload on a loaded machine must not fall back to a restart for a slow start
            "listen_timeout": app.listen_timeout_ms,
            "env": env,
        }]
    });
    let path = home.join("conform-app.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&eco).unwrap_or_default())?;
    Ok(path)
}

/// The last `lines` lines of every log file under `home/logs`, for an app that does not start.
pub fn log_tail(home: &Path, lines: usize) -> String {
    let mut out = String::new();
    let Ok(rd) = std::fs::read_dir(home.join("logs")) else {
        return out;
    };
    let mut files: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        let all: Vec<&str> = text.lines().collect();
        if all.is_empty() {
            continue;
        }
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.push_str(&format!(
            "--- {name} (last {} lines)\n",
            all.len().min(lines)
        ));
        for l in &all[all.len().saturating_sub(lines)..] {
            out.push_str(l);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ecosystem_loads_the_recorder_in_cluster_mode() {
        let dir = tempfile::tempdir().unwrap();
        let app = AppSpec {
            name: "web".into(),
            script: "/srv/app.js".into(),
            cwd: "/srv".into(),
            instances: 3,
            env: vec![("NODE_OPTIONS".into(), "--max-old-space-size=64".into())],
            kill_timeout_ms: 1600,
            listen_timeout_ms: 30_000,
        };
        let eco = write_files(dir.path(), &app, &dir.path().join("rec")).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(eco).unwrap()).unwrap();
        let a = &v["apps"][0];
        assert_eq!(
            (a["exec_mode"].as_str(), a["instances"].as_u64()),
            (Some("cluster"), Some(3))
        );
        assert_eq!(a["drain"], false);
        let opts = a["env"]["NODE_OPTIONS"].as_str().unwrap();
        assert!(
            opts.starts_with("--require ") && opts.ends_with(" --max-old-space-size=64"),
            "{opts}"
        );
        assert!(dir.path().join("conform-recorder.cjs").is_file());
    }
}
