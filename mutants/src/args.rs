//! Pure rewriting of a PM2 command line and of an ecosystem file's apps.

use serde_json::Value;

/// The verb (first argument), or "".
pub fn verb(args: &[String]) -> &str {
    args.first().map(String::as_str).unwrap_or("")
}

/// The value of option `flag` (`--flag V` or `--flag=V`).
pub fn value_of<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    let eq = format!("{flag}=");
    args.iter().enumerate().find_map(|(i, a)| {
        if a == flag {
            args.get(i + 1).map(String::as_str)
        } else {
            a.strip_prefix(&eq)
        }
    })
}

/// `args` without option `flag` and, when `takes_value`, its value.
pub fn drop_flag(args: &[String], flag: &str, takes_value: bool) -> Vec<String> {
    let eq = format!("{flag}=");
    let mut out = Vec::with_capacity(args.len());
    let mut skip = false;
    for a in args {
        if skip {
            skip = false;
            continue;
        }
        if a == flag {
            skip = takes_value;
            continue;
        }
        if takes_value && a.starts_with(&eq) {
            continue;
        }
        out.push(a.clone());
    }
    out
}

/// `args` with option `flag` set to `value` (replaced when present, else appended).
pub fn set_flag(args: &[String], flag: &str, value: &str) -> Vec<String> {
    let mut out = drop_flag(args, flag, true);
    out.push(flag.to_string());
    out.push(value.to_string());
    out
}

/// `args` with the verb replaced.
pub fn with_verb(args: &[String], verb: &str) -> Vec<String> {
    let mut out = args.to_vec();
    match out.first_mut() {
        Some(v) => *v = verb.to_string(),
        None => out.push(verb.to_string()),
    }
    out
}

/// The index of an ecosystem-file argument (`*.json`, `*.config.js`), if any.
pub fn ecosystem_arg(args: &[String]) -> Option<usize> {
    args.iter()
        .enumerate()
        .skip(1)
        .find(|(_, a)| a.ends_with(".json") || a.ends_with(".config.js"))
        .map(|(i, _)| i)
}

/// The value `-i` / `--instances` has.
pub fn instances(args: &[String]) -> Option<&str> {
    value_of(args, "-i").or_else(|| value_of(args, "--instances"))
}

/// `args` with `-i`/`--instances` set to `value` (`None` drops it).
pub fn set_instances(args: &[String], value: Option<&str>) -> Vec<String> {
    let out = drop_flag(&drop_flag(args, "-i", true), "--instances", true);
    match value {
        Some(v) => {
            let mut out = out;
            out.extend(["-i".to_string(), v.to_string()]);
            out
        }
        None => out,
    }
}

/// `scale <app> <N|+N>` with one process more.
pub fn scale_plus_one(to: &str) -> Option<String> {
    match to.strip_prefix('+') {
        Some(n) => n.parse::<u64>().ok().map(|n| format!("+{}", n + 1)),
        None => to.parse::<u64>().ok().map(|n| (n + 1).to_string()),
    }
}

/// Applies `f` to every app object of an ecosystem document (`{"apps": [...]}`, `[...]` or one app).
pub fn map_apps(doc: &mut Value, f: &dyn Fn(&mut serde_json::Map<String, Value>)) {
    let apps: Vec<&mut Value> = match doc {
        Value::Object(o) if o.contains_key("apps") => match o.get_mut("apps") {
            Some(Value::Array(a)) => a.iter_mut().collect(),
            Some(other) => vec![other],
            None => Vec::new(),
        },
        Value::Array(a) => a.iter_mut().collect(),
        other => vec![other],
    };
    for app in apps {
        if let Value::Object(o) = app {
            f(o);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn flags() {
        let a = v("start app.js --name app -i 4 --kill-timeout 3000 --wait-ready");
        assert_eq!(verb(&a), "start");
        assert_eq!(value_of(&a, "--kill-timeout"), Some("3000"));
        assert_eq!(instances(&a), Some("4"));
        assert_eq!(
            drop_flag(&a, "--kill-timeout", true),
            v("start app.js --name app -i 4 --wait-ready")
        );
        assert_eq!(
            drop_flag(&a, "--wait-ready", false),
            v("start app.js --name app -i 4 --kill-timeout 3000")
        );
        assert_eq!(
            set_flag(&a, "--kill-timeout", "1"),
            v("start app.js --name app -i 4 --wait-ready --kill-timeout 1")
        );
        assert_eq!(
            set_instances(&a, None),
            v("start app.js --name app --kill-timeout 3000 --wait-ready")
        );
        assert_eq!(value_of(&v("x --only=app"), "--only"), Some("app"));
        assert_eq!(with_verb(&v("reload app"), "restart"), v("restart app"));
    }

    #[test]
    fn ecosystem_and_scale() {
        assert_eq!(
            ecosystem_arg(&v("start ecosystem.json --only app")),
            Some(1)
        );
        assert_eq!(ecosystem_arg(&v("start app.js")), None);
        assert_eq!(scale_plus_one("2").as_deref(), Some("3"));
        assert_eq!(scale_plus_one("+1").as_deref(), Some("+2"));
        assert_eq!(scale_plus_one("x"), None);
    }

    #[test]
    fn maps_every_app() {
        let mut doc =
            serde_json::json!({"apps": [{"name": "a", "wait_ready": true}, {"name": "b"}]});
        map_apps(&mut doc, &|o| {
            o.remove("wait_ready");
            o.insert("x".into(), 1.into());
        });
        assert_eq!(
            doc,
            serde_json::json!({"apps": [{"name": "a", "x": 1}, {"name": "b", "x": 1}]})
        );
    }
}
