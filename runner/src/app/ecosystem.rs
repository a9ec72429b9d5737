//! A user's ecosystem file for `conform app`: `.json` and `.config.js`/`.cjs`/`.mjs` read by Node as
//! PM2 does, `.yaml`/`.yml` parsed with serde-saphyr. The app named `--name` (or the first) gives the
//! script, cwd, instances, env and kill_timeout; a bad file or key is a sentence naming the file, and
//! for YAML the line, column and key.

use serde::Deserialize;
use serde_json::Value;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Whether the argument names an ecosystem file rather than a script.
pub fn is_ecosystem(p: &Path) -> bool {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    name.ends_with(".json") || name.contains(".config.") || is_yaml(&name)
}

fn is_yaml(name: &str) -> bool {
    name.ends_with(".yaml") || name.ends_with(".yml")
}

/// One app of a user's ecosystem file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EcoApp {
    /// `name`.
    pub name: Option<String>,
    /// `script`, resolved against `cwd` or the file's directory.
    pub script: PathBuf,
    /// `cwd` (resolved).
    pub cwd: PathBuf,
    /// `instances` when a positive number (`max`, 0 and negative numbers leave conform's default).
    pub instances: Option<usize>,
    /// `env`.
    pub env: Vec<(String, String)>,
    /// `kill_timeout`.
    pub kill_timeout_ms: Option<u64>,
}

/// Where a value sits in the file (YAML only): 1-based line and column.
type At = Option<(u64, u64)>;

/// An app's keys with where each sits.
type Keys = BTreeMap<String, (Value, At)>;

/// Reads the app named `name` (or the first) from an ecosystem file; the error is a user-facing
/// sentence naming the file (and for YAML the line and key).
pub fn read_ecosystem(file: &Path, name: Option<&str>) -> Result<EcoApp, String> {
    let abs = std::path::absolute(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let dir = abs.parent().map(Path::to_path_buf).unwrap_or_default();
    let lower = file.to_string_lossy().to_lowercase();
    let apps: Vec<(Keys, At)> = if is_yaml(&lower) {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read ecosystem file {}: {e}", file.display()))?;
        yaml_apps(file, &text)?
    } else {
        node_apps(file, &abs)?
    };
    let (keys, at) = match name {
        Some(n) => apps
            .iter()
            .find(|(k, _)| k.get("name").and_then(|v| v.0.as_str()) == Some(n))
            .ok_or_else(|| {
                format!(
                    "ecosystem file {}: no app named `{n}` (--name)",
                    file.display()
                )
            })?,
        None => apps
            .first()
            .ok_or_else(|| format!("ecosystem file {}: key `apps`: empty", file.display()))?,
    };
    app_from(file, keys, *at, &dir)
}

/// The apps of a YAML ecosystem file (`apps:` list), each key with its position.
pub fn yaml_apps(file: &Path, text: &str) -> Result<Vec<(Keys, At)>, String> {
    #[derive(Deserialize)]
    struct Doc {
        apps: Vec<Spanned<BTreeMap<String, Spanned<Value>>>>,
    }
    let doc: Doc = serde_saphyr::from_str(text).map_err(|e| {
        let (line, col) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((1, 1));
        let full = e.to_string();
        let first = full.lines().next().unwrap_or("not valid YAML");
        // serde-saphyr says `error: line N column M: ...`: the position is given apart
        let message = first
            .trim_start_matches("error: ")
            .split_once(": ")
            .filter(|(pre, _)| pre.starts_with("line "))
            .map_or(first, |(_, m)| m);
        let key = message
            .split_once("missing field `")
            .and_then(|(_, rest)| rest.split_once('`'))
            .map(|(k, _)| k.to_string())
            .or_else(|| key_on_line(text, line))
            .unwrap_or_else(|| "apps".into());
        format!("{}:{line}:{col}: key `{key}`: {message}", file.display())
    })?;
    let at = |l: &serde_saphyr::Location| Some((l.line(), l.column()));
    Ok(doc
        .apps
        .into_iter()
        .map(|app| {
            let where_ = at(&app.referenced);
            let keys = app
                .value
                .into_iter()
                .map(|(k, v)| (k, (v.value, at(&v.referenced))))
                .collect();
            (keys, where_)
        })
        .collect())
}

/// The key a YAML line sets (`  - name: web` → `name`).
fn key_on_line(text: &str, line: u64) -> Option<String> {
    let l = text
        .lines()
        .nth(usize::try_from(line).ok()?.checked_sub(1)?)?;
    let l = l.trim_start().trim_start_matches("- ").trim_start();
    let (k, _) = l.split_once(':')?;
    let k = k.trim().trim_matches(['"', '\'']);
    (!k.is_empty() && !k.contains(' ')).then(|| k.to_string())
}

/// The apps of a JSON or JS ecosystem file, evaluated by Node as PM2 does.
fn node_apps(file: &Path, abs: &Path) -> Result<Vec<(Keys, At)>, String> {
    let out = std::process::Command::new("node")
        .arg("-e")
        .arg("const c=require(process.argv[1]);const m=c&&c.default&&!c.apps?c.default:c;process.stdout.write(JSON.stringify(m.apps||m))")
        .arg(abs)
        .output()
        .map_err(|e| format!("cannot run node to read {}: {e}", file.display()))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let line = err
            .lines()
            .find(|l| l.contains("Error"))
            .unwrap_or("unreadable");
        return Err(format!(
            "cannot read ecosystem file {}: {}",
            file.display(),
            line.trim()
        ));
    }
    let apps: Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("ecosystem file {}: {e}", file.display()))?;
    let apps = match apps {
        Value::Array(a) => a,
        v @ Value::Object(_) => vec![v],
        _ => {
            return Err(format!(
                "ecosystem file {}: key `apps`: expected a list of apps",
                file.display()
            ));
        }
    };
    apps.into_iter()
        .map(|a| match a {
            Value::Object(m) => Ok((m.into_iter().map(|(k, v)| (k, (v, None))).collect(), None)),
            _ => Err(format!(
                "ecosystem file {}: key `apps`: each app is an object",
                file.display()
            )),
        })
        .collect()
}

/// Checks and resolves one app's keys.
fn app_from(file: &Path, keys: &Keys, at: At, dir: &Path) -> Result<EcoApp, String> {
    let bad = |key: &str, pos: At, msg: &str| match pos {
        Some((line, col)) => format!("{}:{line}:{col}: key `{key}`: {msg}", file.display()),
        None => format!("ecosystem file {}: key `{key}`: {msg}", file.display()),
    };
    let get = |k: &str| keys.get(k).filter(|v| !v.0.is_null());
    let string = |k: &str| -> Result<Option<String>, String> {
        match get(k) {
            None => Ok(None),
            Some((Value::String(s), _)) => Ok(Some(s.clone())),
            Some((_, pos)) => Err(bad(k, *pos, "expected a string")),
        }
    };
    let cwd = string("cwd")?
        .map(|c| dir.join(c))
        .unwrap_or_else(|| dir.to_path_buf());
    let script = string("script")?.ok_or_else(|| bad("script", at, "missing"))?;
    let instances = match get("instances") {
        None => None,
        Some((Value::Number(n), pos)) => match n.as_i64() {
            Some(i) if i > 0 => {
                Some(usize::try_from(i).map_err(|_| bad("instances", *pos, "too large"))?)
            }
            Some(_) => None,
            None => return Err(bad("instances", *pos, "expected a whole number or `max`")),
        },
        Some((Value::String(s), _)) if s == "max" => None,
        Some((_, pos)) => return Err(bad("instances", *pos, "expected a whole number or `max`")),
    };
    let kill_timeout_ms = match get("kill_timeout") {
        None => None,
        Some((v, pos)) => Some(v.as_u64().ok_or_else(|| {
            bad(
                "kill_timeout",
                *pos,
                "expected milliseconds (a whole number)",
            )
        })?),
    };
    let env = match get("env") {
        None => Vec::new(),
        Some((Value::Object(m), _)) => m
            .iter()
            .map(|(k, v)| {
                let v = v
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string());
                (k.clone(), v)
            })
            .collect(),
        Some((_, pos)) => return Err(bad("env", *pos, "expected a map of variables")),
    };
    Ok(EcoApp {
        name: string("name")?,
        script: cwd.join(script),
        cwd,
        instances,
        env,
        kill_timeout_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[test]
    fn ecosystem_names() {
        assert!(is_ecosystem(Path::new("ecosystem.config.js")));
        assert!(is_ecosystem(Path::new("/a/apps.json")));
        assert!(is_ecosystem(Path::new("ecosystem.config.yaml")));
        assert!(is_ecosystem(Path::new("process.yml")));
        assert!(!is_ecosystem(Path::new("server.mjs")));
    }

    #[test]
    fn a_yaml_app() {
        let text = "apps:\n  - name: web\n    script: server.js\n    instances: 3\n    kill_timeout: 3000\n    env:\n      PORT: 3000\n      MODE: prod\n  - name: worker\n    script: w.js\n";
        let apps = yaml_apps(Path::new("e.yaml"), text).unwrap();
        let dir = Path::new("/srv");
        let a = app_from(Path::new("e.yaml"), &apps[0].0, apps[0].1, dir).unwrap();
        assert_eq!(a.name.as_deref(), Some("web"));
        assert_eq!(a.script, Path::new("/srv/server.js"));
        assert_eq!((a.instances, a.kill_timeout_ms), (Some(3), Some(3000)));
        assert!(a.env.contains(&("PORT".into(), "3000".into())));
        assert_eq!(apps.len(), 2);
    }

    #[rstest]
    #[case(
        "apps:\n  - name: web\n    script: s.js\n    kill_timeout: soon\n",
        "e.yaml:4:",
        "kill_timeout"
    )]
    #[case(
        "apps:\n  - name: web\n    script: s.js\n    instances: [1]\n",
        "e.yaml:4:",
        "instances"
    )]
    #[case(
        "apps:\n  - name: web\n    env: 3\n    script: s.js\n",
        "e.yaml:3:",
        "env"
    )]
    #[case("apps:\n  - name: web\n    cwd: /srv\n", "e.yaml:2:", "script")]
    #[case("apps:\n  - name: web\n    script: [s.js\n", "e.yaml:", "script")]
    #[case("name: web\nscript: s.js\n", "e.yaml:", "apps")]
    fn bad_yaml_names_file_line_and_key(#[case] text: &str, #[case] at: &str, #[case] key: &str) {
        let err = yaml_apps(Path::new("e.yaml"), text)
            .and_then(|apps| {
                let (k, a) = &apps[0];
                app_from(Path::new("e.yaml"), k, *a, Path::new("/")).map(|_| ())
            })
            .unwrap_err();
        assert!(
            err.starts_with(at) && err.contains(&format!("key `{key}`")),
            "{text}: {err}"
        );
    }
}
