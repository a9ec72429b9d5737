//! Human output: the process table, `describe`, `pid`, and log tails.

use serde_json::Value;

use crate::daemon::table::now_ms;

fn s<'a>(v: &'a Value, path: &[&str]) -> &'a Value {
    path.iter()
        .fold(v, |v, k| v.get(*k).unwrap_or(&Value::Null))
}

fn text(v: &Value) -> String {
    match v {
        Value::String(x) => x.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// PM2-style duration: `12s`, `5m`, `3h`, `2D`.
pub fn human_duration(ms: u64) -> String {
    let sec = ms / 1000;
    if sec < 60 {
        format!("{sec}s")
    } else if sec < 3600 {
        format!("{}m", sec / 60)
    } else if sec < 86400 {
        format!("{}h", sec / 3600)
    } else {
        format!("{}D", sec / 86400)
    }
}

/// `41.2mb`-style memory.
pub fn human_mem(bytes: u64) -> String {
    if bytes >= 1 << 30 {
        format!("{:.1}gb", bytes as f64 / (1u64 << 30) as f64)
    } else if bytes >= 1 << 20 {
        format!("{:.1}mb", bytes as f64 / (1u64 << 20) as f64)
    } else if bytes >= 1 << 10 {
        format!("{:.1}kb", bytes as f64 / 1024.0)
    } else {
        format!("{bytes}b")
    }
}

/// The `list` table (rows sorted by name, then id).
pub fn table(list: &Value) -> String {
    let mut rows: Vec<&Value> = list
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    rows.sort_by(|a, b| {
        (text(s(a, &["name"])), s(a, &["pm_id"]).as_u64())
            .cmp(&(text(s(b, &["name"])), s(b, &["pm_id"]).as_u64()))
    });
    let header = [
        "id", "name", "mode", "pid", "uptime", "\u{21ba}", "status", "cpu", "mem",
    ];
    let mut cells: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
    for r in rows {
        let status = text(s(r, &["pm2_env", "status"]));
        let mode = text(s(r, &["pm2_env", "exec_mode"])).replace("_mode", "");
        let uptime = if status == "online" {
            human_duration(
                now_ms().saturating_sub(s(r, &["pm2_env", "pm_uptime"]).as_u64().unwrap_or(0)),
            )
        } else {
            "0".into()
        };
        cells.push(vec![
            text(s(r, &["pm_id"])),
            text(s(r, &["name"])),
            mode,
            text(s(r, &["pid"])),
            uptime,
            text(s(r, &["pm2_env", "restart_time"])),
            status,
            format!("{}%", s(r, &["monit", "cpu"]).as_f64().unwrap_or(0.0)),
            human_mem(s(r, &["monit", "memory"]).as_u64().unwrap_or(0)),
        ]);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            cells
                .iter()
                .map(|row| row[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |l: char, m: char, r: char| {
        let parts: Vec<String> = widths.iter().map(|w| "\u{2500}".repeat(w + 2)).collect();
        format!("{l}{}{r}", parts.join(&m.to_string()))
    };
    let mut out = vec![line('\u{250c}', '\u{252c}', '\u{2510}')];
    for (i, row) in cells.iter().enumerate() {
        let parts: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!(" {c}{} ", " ".repeat(w - c.chars().count())))
            .collect();
        out.push(format!("\u{2502}{}\u{2502}", parts.join("\u{2502}")));
        if i == 0 {
            out.push(line('\u{251c}', '\u{253c}', '\u{2524}'));
        }
    }
    out.push(line('\u{2514}', '\u{2534}', '\u{2518}'));
    out.join("\n")
}

/// `describe` output for the processes matching `target` (id when numeric, or name).
pub fn describe(list: &Value, target: &str) -> Option<String> {
    let id: Option<u64> = target.parse().ok();
    let matches: Vec<&Value> = list
        .as_array()?
        .iter()
        .filter(|p| {
            text(s(p, &["name"])) == target || (id.is_some() && s(p, &["pm_id"]).as_u64() == id)
        })
        .collect();
    if matches.is_empty() {
        return None;
    }
    let mut out = vec![];
    for p in matches {
        let e = s(p, &["pm2_env"]);
        out.push(format!(
            " Describing process with id {} - name {} ",
            text(s(p, &["pm_id"])),
            text(s(p, &["name"]))
        ));
        let created = s(e, &["created_at"]).as_u64();
        let var = text(s(e, &["instance_var"]));
        let rows: Vec<(&str, String)> = vec![
            ("status", text(s(e, &["status"]))),
            ("name", text(s(p, &["name"]))),
            ("namespace", text(s(e, &["namespace"]))),
            ("restarts", text(s(e, &["restart_time"]))),
            (
                "uptime",
                if text(s(e, &["status"])) == "online" {
                    human_duration(
                        now_ms().saturating_sub(s(e, &["pm_uptime"]).as_u64().unwrap_or(0)),
                    )
                } else {
                    "0".into()
                },
            ),
            ("pid", text(s(p, &["pid"]))),
            ("script path", text(s(e, &["pm_exec_path"]))),
            (
                "script args",
                s(e, &["args"])
                    .as_array()
                    .map(|a| a.iter().map(text).collect::<Vec<_>>().join(" "))
                    .unwrap_or_default(),
            ),
            ("error log path", text(s(e, &["pm_err_log_path"]))),
            ("out log path", text(s(e, &["pm_out_log_path"]))),
            ("pid path", text(s(e, &["pm_pid_path"]))),
            ("interpreter", text(s(e, &["exec_interpreter"]))),
            ("exec cwd", text(s(e, &["pm_cwd"]))),
            ("exec mode", text(s(e, &["exec_mode"]))),
            ("instances", text(s(e, &["instances"]))),
            (
                "instance var",
                format!("{var}={}", text(s(e, &[var.as_str()]))),
            ),
            ("lb policy", text(s(e, &["lb_policy"]))),
            ("unstable restarts", text(s(e, &["unstable_restarts"]))),
            (
                "created at",
                created
                    .map(|c| format!("{c} (ms epoch)"))
                    .unwrap_or_else(|| "N/A".into()),
            ),
        ];
        let w = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        for (k, v) in rows {
            out.push(format!("\u{2502} {k:<w$} \u{2502} {v}"));
        }
        out.push(String::new());
    }
    Some(out.join("\n"))
}

/// Last `n` lines of a file.
pub fn tail(path: &str, n: usize) -> Vec<String> {
    let text = std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| l.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_memory() {
        assert_eq!(human_duration(12_000), "12s");
        assert_eq!(human_duration(7_200_000), "2h");
        assert_eq!(human_mem(43_200_000), "41.2mb");
    }

    #[test]
    fn table_has_rows() {
        let v = serde_json::json!([{"pid":1,"name":"web","pm_id":0,"monit":{"memory":0,"cpu":0},
            "pm2_env":{"status":"stopped","exec_mode":"fork_mode","restart_time":0}}]);
        let t = table(&v);
        assert!(t.contains("web") && t.contains("stopped") && t.contains("fork"));
    }
}
