//! Tolerant parsing of `jlist` output: PM2 may print a banner and "Spawning PM2 daemon" lines first.

use serde_json::Value;

/// One process entry of `jlist`, reduced to what checks read.
#[derive(Debug, Clone, PartialEq)]
pub struct Proc {
    /// App name.
    pub name: String,
    /// pm_id (numeric ids only).
    pub pm_id: Option<i64>,
    /// OS pid (0 when stopped).
    pub pid: u32,
    /// `pm2_env.status`.
    pub status: String,
    /// `pm2_env.exec_mode` (`cluster_mode` / `fork_mode`).
    pub exec_mode: String,
    /// Value of the instance variable (as text), read under the name the caller asked for.
    pub instance: Option<String>,
    /// `pm2_env.restart_time`.
    pub restart_time: i64,
    /// The full `pm2_env` object.
    pub env: Value,
}

fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

/// Finds the JSON array in `text` (skipping any noise before it) and reads each entry; the instance
/// value is read from `pm2_env[instance_var]`.
pub fn parse_jlist(text: &str, instance_var: &str) -> Option<Vec<Proc>> {
    for (i, _) in text.match_indices('[') {
        let mut it = serde_json::Deserializer::from_str(&text[i..]).into_iter::<Value>();
        if let Some(Ok(Value::Array(items))) = it.next() {
            return Some(items.iter().map(|p| to_proc(p, instance_var)).collect());
        }
    }
    None
}

fn to_proc(p: &Value, instance_var: &str) -> Proc {
    let env = p.get("pm2_env").cloned().unwrap_or(Value::Null);
    Proc {
        name: p
            .get("name")
            .and_then(Value::as_str)
            .or_else(|| env.get("name").and_then(Value::as_str))
            .unwrap_or("")
            .to_string(),
        pm_id: p.get("pm_id").and_then(Value::as_i64),
        pid: p.get("pid").and_then(Value::as_u64).unwrap_or(0) as u32,
        status: env
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        exec_mode: env
            .get("exec_mode")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        instance: env.get(instance_var).and_then(as_text),
        restart_time: env.get("restart_time").and_then(Value::as_i64).unwrap_or(0),
        env,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_banner_and_spawn_lines() {
        let text = "[PM2] Spawning PM2 daemon with pm2_home=/tmp/x\n[PM2] PM2 Successfully daemonized\n\
            [{\"pid\":12,\"name\":\"app\",\"pm_id\":0,\"pm2_env\":{\"status\":\"online\",\"exec_mode\":\"cluster_mode\",\"NODE_APP_INSTANCE\":0}}]";
        let l = parse_jlist(text, "NODE_APP_INSTANCE").unwrap();
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].pid, 12);
        assert_eq!(l[0].instance.as_deref(), Some("0"));
        assert_eq!(l[0].status, "online");
    }

    #[test]
    fn empty_and_garbage() {
        assert_eq!(parse_jlist("[]", "X").unwrap().len(), 0);
        assert!(parse_jlist("nothing here [PM2]", "X").is_none());
    }
}
