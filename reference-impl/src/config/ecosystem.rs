//! Ecosystem files: `.json` (strict JSON, else evaluated by `node` as a JS expression like PM2 does),
//! `.yaml`/`.yml` (serde-saphyr), `.config.js`/`.config.cjs`/`.config.mjs` (required by `node`).

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::keys::{RawApp, parse_app};
use super::{AppSpec, ConfigError, default_name};

/// PM2's config-file detection (by substring, in PM2's order).
pub fn is_config_file(arg: &str) -> bool {
    file_kind(arg).is_some()
}

#[derive(Clone, Copy)]
enum Kind {
    Json,
    Yaml,
    Js,
}

fn file_kind(arg: &str) -> Option<Kind> {
    if arg.contains(".json") {
        Some(Kind::Json)
    } else if arg.contains(".yml") || arg.contains(".yaml") {
        Some(Kind::Yaml)
    } else if arg.contains(".config.js")
        || arg.contains(".config.cjs")
        || arg.contains(".config.mjs")
    {
        Some(Kind::Js)
    } else {
        None
    }
}

/// Loads, validates and resolves every app of a file. `env_name` selects `env_<name>`; `only`
/// filters by name. Returns the apps and the warnings to print.
pub fn load_ecosystem(
    file: &Path,
    env_name: Option<&str>,
    only: Option<&[String]>,
    path_env: Option<&str>,
) -> Result<(Vec<AppSpec>, Vec<String>), ConfigError> {
    let shown = file.display().to_string();
    if !file.is_file() {
        return Err(ConfigError::NotFound(shown));
    }
    let kind = file_kind(&shown).unwrap_or(Kind::Json);
    let malformed = |reason: String| ConfigError::Malformed {
        file: shown.clone(),
        reason,
    };
    let doc: Value = match kind {
        Kind::Json => {
            let text = std::fs::read_to_string(file).map_err(|e| malformed(e.to_string()))?;
            match serde_json::from_str(&text) {
                Ok(v) => v,
                // PM2 evaluates JSON files as JS expressions (comments, trailing commas, JSON5).
                Err(json_err) => node_eval(
                    "process.stdout.write(JSON.stringify(require('vm').runInThisContext('(' + require('fs').readFileSync(process.argv[1],'utf8') + ')', {timeout: 1000})))",
                    file,
                    path_env,
                )
                .map_err(|e| malformed(format!("{json_err}; as a JS expression: {e}")))?,
            }
        }
        Kind::Yaml => {
            let text = std::fs::read_to_string(file).map_err(|e| malformed(e.to_string()))?;
            serde_saphyr::from_str::<Value>(&text).map_err(|e| malformed(e.to_string()))?
        }
        Kind::Js => node_eval(
            "const m = require(require('path').resolve(process.argv[1])); process.stdout.write(JSON.stringify(m && m.default && !m.apps ? m.default : m))",
            file,
            path_env,
        )
        .map_err(|e| malformed(e.to_string()))?,
    };
    let base = file
        .parent()
        .map(crate::home::absolutise)
        .unwrap_or_else(|| crate::home::absolutise(Path::new(".")));
    apps_from_document(&shown, doc, &base, env_name, only, path_env)
}

/// Parses ecosystem text already read (`yaml` or strict JSON; no `node` evaluation) into app specs,
/// resolving scripts against `base`. `file` only names the source in errors. The fuzzing entry point.
pub fn parse_ecosystem_text(
    text: &str,
    yaml: bool,
    file: &str,
    base: &Path,
) -> Result<(Vec<AppSpec>, Vec<String>), ConfigError> {
    let malformed = |reason: String| ConfigError::Malformed {
        file: file.to_string(),
        reason,
    };
    let doc: Value = if yaml {
        serde_saphyr::from_str(text).map_err(|e| malformed(e.to_string()))?
    } else {
        serde_json::from_str(text).map_err(|e| malformed(e.to_string()))?
    };
    apps_from_document(file, doc, base, None, None, None)
}

/// Validates and resolves the apps of a parsed ecosystem document.
fn apps_from_document(
    shown: &str,
    doc: Value,
    base: &Path,
    env_name: Option<&str>,
    only: Option<&[String]>,
    path_env: Option<&str>,
) -> Result<(Vec<AppSpec>, Vec<String>), ConfigError> {
    let malformed = |reason: String| ConfigError::Malformed {
        file: shown.to_string(),
        reason,
    };
    let list = match doc {
        Value::Object(mut o) => match o.remove("apps").or_else(|| o.remove("pm2")) {
            Some(Value::Array(a)) => a,
            Some(Value::Object(one)) => vec![Value::Object(one)],
            Some(_) => return Err(malformed("\"apps\" must be an array or an object".into())),
            None => vec![Value::Object(o)],
        },
        Value::Array(a) => a,
        _ => return Err(malformed("expected an object or an array of apps".into())),
    };
    let mut warnings = vec![];
    let mut apps = vec![];
    let mut missing_env = false;
    for (index, item) in list.iter().enumerate() {
        let obj = item.as_object().ok_or_else(|| ConfigError::BadKey {
            file: shown.to_string(),
            index,
            key: "apps".into(),
            reason: "each app must be an object".into(),
        })?;
        let raw = parse_app(shown, index, obj, &mut warnings)?;
        let spec = resolve(
            shown,
            index,
            raw,
            base,
            env_name,
            path_env,
            &mut missing_env,
        )?;
        apps.push(spec);
    }
    if let (true, Some(e)) = (missing_env, env_name) {
        warnings.push(format!("Environment [{e}] is not defined in process file"));
    }
    if let Some(only) = only {
        // PM2 starts nothing and exits 0 for an unknown name; at least say which name matched nothing.
        for o in only.iter().filter(|o| !apps.iter().any(|a| &a.name == *o)) {
            warnings.push(format!("--only {o}: no app named {o} in {shown}"));
        }
        apps.retain(|a| only.iter().any(|o| o == &a.name));
    }
    Ok((apps, warnings))
}

fn resolve(
    file: &str,
    index: usize,
    raw: RawApp,
    base: &Path,
    env_name: Option<&str>,
    path_env: Option<&str>,
    missing_env: &mut bool,
) -> Result<AppSpec, ConfigError> {
    let script = raw.script.clone().ok_or_else(|| ConfigError::BadKey {
        file: file.into(),
        index,
        key: "script".into(),
        reason: "is required".into(),
    })?;
    let cwd = match &raw.cwd {
        Some(c) => base.join(c),
        None => base.to_path_buf(),
    };
    let script_path = cwd.join(&script);
    if !script_path.is_file() {
        return Err(ConfigError::ScriptNotFound {
            file: file.into(),
            index,
            script: script_path.display().to_string(),
        });
    }
    let mut spec = AppSpec::new(script_path.clone(), cwd);
    spec.name = raw
        .name
        .clone()
        .unwrap_or_else(|| default_name(&script_path));
    spec.args = raw.args;
    spec.instances = raw.instances.unwrap_or(1);
    if let Some(v) = raw.instance_var {
        spec.instance_var = v;
    }
    spec.wait_ready = raw.wait_ready.unwrap_or(false);
    spec.listen_timeout = raw.listen_timeout;
    spec.kill_timeout = raw.kill_timeout;
    spec.shutdown_with_message = raw.shutdown_with_message.unwrap_or(false);
    spec.autorestart = raw.autorestart.unwrap_or(true);
    spec.max_restarts = raw.max_restarts;
    spec.min_uptime = raw.min_uptime;
    spec.restart_delay = raw.restart_delay;
    spec.exp_backoff_restart_delay = raw.exp_backoff_restart_delay;
    spec.drain = raw.drain.unwrap_or(true);
    if let Some(p) = raw.lb_policy {
        spec.lb_policy = p;
    }
    spec.env = raw.env;
    if let Some(e) = env_name {
        match raw.env_named.get(e) {
            Some(extra) => spec.env.extend(extra.clone()),
            None => *missing_env = true,
        }
    }
    spec.decide_mode(
        raw.instances.is_some(),
        raw.exec_mode,
        raw.interpreter.as_deref(),
        &raw.node_args,
        path_env,
    );
    Ok(spec)
}

/// How long `node` may take to evaluate a config file (a file that loops forever must not hang the CLI).
const NODE_EVAL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Why `node` could not evaluate a config file.
#[derive(Debug, thiserror::Error)]
enum NodeEvalError {
    #[error("node not found on PATH")]
    NoNode,
    #[error("cannot run node: {0}")]
    Spawn(std::io::Error),
    #[error("cannot wait for node: {0}")]
    Wait(std::io::Error),
    #[error("evaluation did not finish within {} s", NODE_EVAL_TIMEOUT.as_secs())]
    Timeout,
    /// The line of node's stderr that names the error.
    #[error("{0}")]
    Failed(String),
    #[error(transparent)]
    Output(#[from] serde_json::Error),
}

fn node_eval(code: &str, file: &Path, path_env: Option<&str>) -> Result<Value, NodeEvalError> {
    use std::io::Read;
    let node = super::which("node", path_env).ok_or(NodeEvalError::NoNode)?;
    let mut child = Command::new(node)
        .arg("-e")
        .arg(code)
        .arg(file)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(NodeEvalError::Spawn)?;
    let drain = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            buf
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
    );
    let deadline = std::time::Instant::now() + NODE_EVAL_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break st,
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            other => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(match other {
                    Err(e) => NodeEvalError::Wait(e),
                    _ => NodeEvalError::Timeout,
                });
            }
        }
    };
    let out_bytes = stdout.join().unwrap_or_default();
    let err_bytes = stderr.join().unwrap_or_default();
    if !status.success() {
        let err = String::from_utf8_lossy(&err_bytes);
        let line = err
            .lines()
            .find(|l| l.contains("Error"))
            .unwrap_or_else(|| err.lines().next().unwrap_or("evaluation failed"));
        return Err(NodeEvalError::Failed(line.trim().to_string()));
    }
    Ok(serde_json::from_slice(&out_bytes)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn json_and_yaml_load() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "a.js", "");
        let j = write(
            d.path(),
            "e.json",
            r#"{"apps":[{"name":"w","script":"a.js","instances":2,"env":{"A":1},"env_prod":{"A":"p"}}]}"#,
        );
        let (apps, w) = load_ecosystem(&j, Some("prod"), None, None).unwrap();
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(apps[0].name, "w");
        assert_eq!(apps[0].env["A"], "p");
        assert_eq!(apps[0].exec_mode, super::super::ExecMode::ClusterMode);
        let y = write(
            d.path(),
            "e.yaml",
            "apps:\n  - script: a.js\n    instances: max\n    foo: 1\n",
        );
        let (apps, w) = load_ecosystem(&y, None, None, None).unwrap();
        assert_eq!(apps[0].instances, 0);
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn missing_script_names_index() {
        let d = tempfile::tempdir().unwrap();
        let j = write(d.path(), "e.json", r#"{"apps":[{"name":"w"}]}"#);
        let e = load_ecosystem(&j, None, None, None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("apps[0]") && e.contains("script") && e.contains("e.json"),
            "{e}"
        );
    }

    #[test]
    fn only_filters() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "a.js", "");
        let j = write(
            d.path(),
            "e.json",
            r#"[{"name":"a","script":"a.js"},{"name":"b","script":"a.js"}]"#,
        );
        let only = vec!["b".to_string()];
        let (apps, _) = load_ecosystem(&j, None, Some(&only), None).unwrap();
        assert_eq!(apps.len(), 1);
        assert_eq!(apps[0].name, "b");
    }
}
