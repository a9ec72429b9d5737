//! Ecosystem app keys: aliases (PM2's snake_case and camelCase forms), types and validation.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::ConfigError;

/// One app as written in a file, after alias resolution and type checks.
#[derive(Debug, Default)]
pub struct RawApp {
    /// App name.
    pub name: Option<String>,
    /// Script path as written.
    pub script: Option<String>,
    /// Working directory as written.
    pub cwd: Option<String>,
    /// Script arguments.
    pub args: Vec<String>,
    /// Parsed instance count.
    pub instances: Option<i64>,
    /// Explicit exec mode.
    pub exec_mode: Option<super::ExecMode>,
    /// Instance variable name.
    pub instance_var: Option<String>,
    /// Wait for `ready`.
    pub wait_ready: Option<bool>,
    /// ms.
    pub listen_timeout: Option<u64>,
    /// ms.
    pub kill_timeout: Option<u64>,
    /// Stop with a message.
    pub shutdown_with_message: Option<bool>,
    /// Restart on exit.
    pub autorestart: Option<bool>,
    /// Unstable restarts before errored.
    pub max_restarts: Option<u64>,
    /// ms.
    pub min_uptime: Option<u64>,
    /// ms.
    pub restart_delay: Option<u64>,
    /// ms.
    pub exp_backoff_restart_delay: Option<u64>,
    /// `env`.
    pub env: BTreeMap<String, String>,
    /// `env_<name>` sections.
    pub env_named: BTreeMap<String, BTreeMap<String, String>>,
    /// `rr` or `shared`.
    pub lb_policy: Option<crate::cluster::LbPolicy>,
    /// refpm's drain preload on/off.
    pub drain: Option<bool>,
    /// Node arguments.
    pub node_args: Vec<String>,
    /// Interpreter.
    pub interpreter: Option<String>,
}

/// Canonical key for a spelling, or `None` when unknown.
fn canonical(key: &str) -> Option<&'static str> {
    Some(match key {
        "name" => "name",
        "script" | "exec" | "cmd" | "command" => "script",
        "cwd" => "cwd",
        "args" => "args",
        "instances" => "instances",
        "exec_mode" | "execMode" => "exec_mode",
        "instance_var" | "instanceVar" => "instance_var",
        "wait_ready" | "waitReady" => "wait_ready",
        "listen_timeout" | "listenTimeout" => "listen_timeout",
        "kill_timeout" | "killTimeout" => "kill_timeout",
        "shutdown_with_message" | "shutdownWithMessage" => "shutdown_with_message",
        "autorestart" => "autorestart",
        "max_restarts" | "maxRestarts" => "max_restarts",
        "min_uptime" | "minUptime" => "min_uptime",
        "restart_delay" | "restartDelay" => "restart_delay",
        "exp_backoff_restart_delay" | "expBackoffRestartDelay" => "exp_backoff_restart_delay",
        "env" => "env",
        "lb_policy" | "lbPolicy" => "lb_policy",
        "drain" => "drain",
        "node_args" | "nodeArgs" | "interpreter_args" | "interpreterArgs" => "node_args",
        "interpreter" | "exec_interpreter" | "execInterpreter" => "interpreter",
        _ => return None,
    })
}

/// PM2 keys refpm accepts but does not act on (a softer warning).
const IGNORED: &[&str] = &[
    "namespace",
    "watch",
    "ignore_watch",
    "merge_logs",
    "out_file",
    "error_file",
    "log_file",
    "pid_file",
    "max_memory_restart",
    "cron_restart",
    "treekill",
    "autostart",
    "time",
    "log_date_format",
    "source_map_support",
    "vizion",
    "version",
];

fn err(file: &str, index: usize, key: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::BadKey {
        file: file.into(),
        index,
        key: key.into(),
        reason: reason.into(),
    }
}

/// Validates one app object. Unknown keys are pushed to `warnings`.
pub fn parse_app(
    file: &str,
    index: usize,
    obj: &Map<String, Value>,
    warnings: &mut Vec<String>,
) -> Result<RawApp, ConfigError> {
    let mut app = RawApp::default();
    for (key, val) in obj {
        if let Some(env_name) = key.strip_prefix("env_") {
            app.env_named
                .insert(env_name.to_string(), env_map(file, index, key, val)?);
            continue;
        }
        let Some(canon) = canonical(key) else {
            let why = if IGNORED.contains(&key.as_str()) {
                "is not supported by refpm, ignored"
            } else {
                "is unknown, ignored"
            };
            warnings.push(format!("{file}: apps[{index}]: key \"{key}\" {why}"));
            continue;
        };
        let e = |reason: &str| err(file, index, key, reason);
        match canon {
            "name" => app.name = Some(string(val).ok_or_else(|| e("must be a string"))?),
            "script" => app.script = Some(string(val).ok_or_else(|| e("must be a string"))?),
            "cwd" => app.cwd = Some(string(val).ok_or_else(|| e("must be a string"))?),
            "instance_var" => {
                let v = string(val).ok_or_else(|| e("must be a string"))?;
                if v.is_empty() || v.contains('=') || v.contains('\0') {
                    return Err(e("must be a valid variable name"));
                }
                app.instance_var = Some(v)
            }
            "interpreter" => {
                app.interpreter = Some(string(val).ok_or_else(|| e("must be a string"))?)
            }
            "lb_policy" => {
                let v = string(val).ok_or_else(|| e("must be \"rr\" or \"shared\""))?;
                app.lb_policy = Some(
                    super::parse_lb_policy(&v).ok_or_else(|| e("must be \"rr\" or \"shared\""))?,
                )
            }
            "args" => {
                app.args =
                    str_list(val).ok_or_else(|| e("must be a string or an array of strings"))?
            }
            "node_args" => {
                app.node_args =
                    str_list(val).ok_or_else(|| e("must be a string or an array of strings"))?
            }
            "instances" => {
                let n = match val {
                    Value::Number(n) => n.as_i64().filter(|_| n.is_i64()),
                    Value::String(s) => crate::instances::parse(s).ok(),
                    _ => None,
                }
                .ok_or_else(|| e("must be an integer or \"max\""))?;
                if n > crate::instances::MAX_INSTANCES {
                    return Err(e("is more than the limit of 1024"));
                }
                app.instances = Some(n);
            }
            "exec_mode" => {
                app.exec_mode = Some(match val.as_str() {
                    Some("cluster" | "cluster_mode") => super::ExecMode::ClusterMode,
                    Some("fork" | "fork_mode") => super::ExecMode::ForkMode,
                    _ => return Err(e("must be \"fork\" or \"cluster\"")),
                })
            }
            "wait_ready" => {
                app.wait_ready = Some(boolean(val).ok_or_else(|| e("must be a boolean"))?)
            }
            "shutdown_with_message" => {
                app.shutdown_with_message =
                    Some(boolean(val).ok_or_else(|| e("must be a boolean"))?)
            }
            "drain" => app.drain = Some(boolean(val).ok_or_else(|| e("must be a boolean"))?),
            "autorestart" => {
                app.autorestart = Some(boolean(val).ok_or_else(|| e("must be a boolean"))?)
            }
            "listen_timeout" => app.listen_timeout = Some(ms(val).ok_or_else(|| e(MS))?),
            "kill_timeout" => app.kill_timeout = Some(ms(val).ok_or_else(|| e(MS))?),
            "max_restarts" => {
                app.max_restarts = Some(ms(val).ok_or_else(|| e("must be a non-negative integer"))?)
            }
            "min_uptime" => {
                app.min_uptime = Some(
                    duration(val)
                        .ok_or_else(|| e("must be a number of ms or a duration like \"5s\""))?,
                )
            }
            "restart_delay" => app.restart_delay = Some(ms(val).ok_or_else(|| e(MS))?),
            "exp_backoff_restart_delay" => {
                app.exp_backoff_restart_delay = Some(ms(val).ok_or_else(|| e(MS))?)
            }
            "env" => app.env = env_map(file, index, key, val)?,
            _ => unreachable!("every canonical key is handled"),
        }
    }
    Ok(app)
}

const MS: &str = "must be a non-negative integer number of milliseconds";
/// Largest accepted millisecond value (about 11.5 days); more is a mistake.
const MAX_MS: u64 = 1_000_000_000;

fn string(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

fn boolean(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s == "true" => Some(true),
        Value::String(s) if s == "false" => Some(false),
        _ => None,
    }
}

/// A non-negative integer (a JSON number or a string of digits), bounded.
pub fn ms(v: &Value) -> Option<u64> {
    let n = match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().ok()
        }
        _ => None,
    }?;
    (n <= MAX_MS).then_some(n)
}

fn duration(v: &Value) -> Option<u64> {
    if let Some(n) = ms(v) {
        return Some(n);
    }
    let s = v.as_str()?;
    let (num, mult) = match s.chars().last()? {
        's' => (&s[..s.len() - 1], 1000),
        'm' => (&s[..s.len() - 1], 60_000),
        'h' => (&s[..s.len() - 1], 3_600_000),
        _ => return None,
    };
    num.parse::<u64>()
        .ok()
        .map(|n| n * mult)
        .filter(|&n| n <= MAX_MS)
}

fn str_list(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::String(s) => Some(split_args(s)),
        Value::Array(a) => a
            .iter()
            .map(|x| match x {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// Splits a command-line string on whitespace, honouring simple quotes.
pub fn split_args(s: &str) -> Vec<String> {
    let mut out = vec![];
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true
            }
            (None, c) if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn env_map(
    file: &str,
    index: usize,
    key: &str,
    v: &Value,
) -> Result<BTreeMap<String, String>, ConfigError> {
    let obj = v
        .as_object()
        .ok_or_else(|| err(file, index, key, "must be an object"))?;
    Ok(obj
        .iter()
        .map(|(k, v)| {
            let s = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), s)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<(RawApp, Vec<String>), ConfigError> {
        let mut w = vec![];
        let app = parse_app("f.json", 0, v.as_object().unwrap(), &mut w)?;
        Ok((app, w))
    }

    #[test]
    fn aliases_are_accepted() {
        let (app, w) =
            parse(json!({"script":"a.js","instanceVar":"X","killTimeout":5,"waitReady":true}))
                .unwrap();
        assert_eq!(app.instance_var.as_deref(), Some("X"));
        assert_eq!(app.kill_timeout, Some(5));
        assert_eq!(app.wait_ready, Some(true));
        assert!(w.is_empty());
    }

    #[test]
    fn bad_types_name_the_key() {
        let e = parse(json!({"script":"a.js","kill_timeout":"5s"})).unwrap_err();
        assert!(e.to_string().contains("kill_timeout"), "{e}");
        assert!(e.to_string().contains("apps[0]"), "{e}");
        assert!(parse(json!({"script":"a.js","kill_timeout":-5})).is_err());
        assert!(parse(json!({"script":"a.js","instances":"1e9"})).is_err());
    }

    #[test]
    fn unknown_keys_warn() {
        let (_, w) = parse(json!({"script":"a.js","bogus":1})).unwrap();
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("bogus") && w[0].contains("f.json"));
    }

    #[test]
    fn splits_quoted_args() {
        assert_eq!(split_args("a 'b c' \"d\""), vec!["a", "b c", "d"]);
    }

    #[test]
    fn min_uptime_durations() {
        let (app, _) = parse(json!({"script":"a.js","min_uptime":"5s"})).unwrap();
        assert_eq!(app.min_uptime, Some(5000));
    }
}
