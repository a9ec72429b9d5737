//! Tolerant parsing of `jlist` output: PM2 may print a banner and "Spawning PM2 daemon" lines first.

use super::adapter::Adapter;
use super::contract::JlistField;
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
    parse_jlist_with(text, instance_var, &Adapter::default())
}

/// As [`parse_jlist`], reading each field where the adapter says it lives and mapping the target's
/// status and exec-mode words to PM2's.
pub fn parse_jlist_with(text: &str, instance_var: &str, a: &Adapter) -> Option<Vec<Proc>> {
    let to_procs = |items: &[Value]| items.iter().map(|p| to_proc(p, instance_var, a)).collect();
    match a.array_path() {
        None => {
            for (i, _) in text.match_indices('[') {
                let mut it = serde_json::Deserializer::from_str(&text[i..]).into_iter::<Value>();
                if let Some(Ok(Value::Array(items))) = it.next() {
                    return Some(to_procs(&items));
                }
            }
            None
        }
        Some(path) => {
            for (i, _) in text.match_indices('{') {
                let mut it = serde_json::Deserializer::from_str(&text[i..]).into_iter::<Value>();
                if let Some(Ok(v @ Value::Object(_))) = it.next() {
                    let segs: Vec<&str> = path.iter().map(String::as_str).collect();
                    return match at(&v, &segs) {
                        Some(Value::Array(items)) => Some(to_procs(items)),
                        _ => None,
                    };
                }
            }
            None
        }
    }
}

/// The value at a dotted path (object keys, or array indices).
fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |cur, seg| match cur {
        Value::Object(m) => m.get(*seg),
        Value::Array(a) => a.get(seg.parse::<usize>().ok()?),
        _ => None,
    })
}

fn to_proc(p: &Value, instance_var: &str, a: &Adapter) -> Proc {
    let get = |f: JlistField| at(p, &a.path(f));
    let env = get(JlistField::Env).cloned().unwrap_or(Value::Null);
    let word = |f: JlistField| get(f).and_then(Value::as_str).unwrap_or("");
    let name = get(JlistField::Name)
        .and_then(Value::as_str)
        // PM2 also carries the name in pm2_env
        .or_else(|| {
            (!a.moved(JlistField::Name))
                .then(|| env.get("name").and_then(Value::as_str))
                .flatten()
        });
    Proc {
        name: name.unwrap_or("").to_string(),
        pm_id: get(JlistField::PmId).and_then(Value::as_i64),
        pid: get(JlistField::Pid).and_then(Value::as_u64).unwrap_or(0) as u32,
        status: a.status(word(JlistField::Status)).to_string(),
        exec_mode: a.exec_mode(word(JlistField::ExecMode)).to_string(),
        // PM2 keeps it under the variable's own name; an adapter may point at a fixed place
        instance: if a.moved(JlistField::Instance) {
            get(JlistField::Instance).and_then(as_text)
        } else {
            env.get(instance_var).and_then(as_text)
        },
        restart_time: get(JlistField::RestartTime)
            .and_then(Value::as_i64)
            .unwrap_or(0),
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

    #[test]
    fn an_adapter_moves_fields_and_maps_words() {
        let a = Adapter::parse(
            std::path::Path::new("a.toml"),
            "[jlist]\narray = \"procs\"\nname = \"app\"\npid = \"os.pid\"\npm_id = \"id\"\nstatus = \"state\"\nexec_mode = \"mode\"\nrestart_time = \"restarts\"\nenv = \"vars\"\ninstance = \"slot.n\"\n[status]\nup = \"online\"\n[exec_mode]\nworkers = \"cluster_mode\"\n",
        )
        .unwrap();
        let text = "booting\n{\"procs\":[{\"app\":\"web\",\"id\":3,\"os\":{\"pid\":41},\"state\":\"up\",\"mode\":\"workers\",\"restarts\":2,\"vars\":{\"NODE_APP_INSTANCE\":7},\"slot\":{\"n\":1}}]}";
        let l = parse_jlist_with(text, "NODE_APP_INSTANCE", &a).unwrap();
        assert_eq!(
            (
                l[0].name.as_str(),
                l[0].pm_id,
                l[0].pid,
                l[0].status.as_str()
            ),
            ("web", Some(3), 41, "online")
        );
        assert_eq!(
            (
                l[0].exec_mode.as_str(),
                l[0].restart_time,
                l[0].instance.as_deref()
            ),
            ("cluster_mode", 2, Some("1"))
        );
        // PM2's shape is not read through this adapter
        assert!(parse_jlist_with("[{\"pid\":1}]", "X", &a).is_none());
    }
}
