//! Human output: the process table, `describe`, `pid`, and log tails.

use crate::daemon::table::now_ms;
use crate::protocol::record::{ProcessRecord, Status};

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

fn uptime(r: &ProcessRecord) -> String {
    if r.pm2_env.status == Status::Online {
        human_duration(now_ms().saturating_sub(r.pm2_env.pm_uptime))
    } else {
        "0".into()
    }
}

/// The `list` table (rows sorted by name, then id).
pub fn table(list: &[ProcessRecord]) -> String {
    let mut rows: Vec<&ProcessRecord> = list.iter().collect();
    rows.sort_by(|a, b| (&a.name, a.pm_id).cmp(&(&b.name, b.pm_id)));
    let header = [
        "id", "name", "mode", "pid", "uptime", "\u{21ba}", "status", "cpu", "mem",
    ];
    let mut cells: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
    for r in rows {
        let e = &r.pm2_env;
        cells.push(vec![
            r.pm_id.to_string(),
            r.name.clone(),
            e.exec_mode.as_str().replace("_mode", ""),
            r.pid.to_string(),
            uptime(r),
            e.restart_time.to_string(),
            e.status.as_str().to_string(),
            format!("{}%", r.monit.cpu),
            human_mem(r.monit.memory),
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

/// The records `target` names: a numeric id, or a name.
pub fn select<'a>(list: &'a [ProcessRecord], target: &str) -> Vec<&'a ProcessRecord> {
    let id: Option<u32> = target.parse().ok();
    list.iter()
        .filter(|p| p.name == target || id == Some(p.pm_id))
        .collect()
}

/// `describe` output for the processes matching `target` (id when numeric, or name).
pub fn describe(list: &[ProcessRecord], target: &str) -> Option<String> {
    let matches = select(list, target);
    if matches.is_empty() {
        return None;
    }
    let mut out = vec![];
    for p in matches {
        let e = &p.pm2_env;
        out.push(format!(
            " Describing process with id {} - name {} ",
            p.pm_id, p.name
        ));
        let rows: Vec<(&str, String)> = vec![
            ("status", e.status.as_str().to_string()),
            ("name", p.name.clone()),
            ("namespace", e.namespace.clone()),
            ("restarts", e.restart_time.to_string()),
            ("uptime", uptime(p)),
            ("pid", p.pid.to_string()),
            ("script path", e.pm_exec_path.clone()),
            ("script args", e.args.join(" ")),
            ("error log path", e.pm_err_log_path.clone()),
            ("out log path", e.pm_out_log_path.clone()),
            ("pid path", e.pm_pid_path.clone()),
            ("interpreter", e.exec_interpreter.clone()),
            (
                "node.js version",
                e.node_version.clone().unwrap_or_else(|| "N/A".into()),
            ),
            ("exec cwd", e.pm_cwd.clone()),
            ("exec mode", e.exec_mode.as_str().to_string()),
            ("instances", e.instances.to_string()),
            (
                "instance var",
                format!(
                    "{}={}",
                    e.instance_var,
                    e.instance_value()
                        .map(|v| v.to_string())
                        .unwrap_or_default()
                ),
            ),
            (
                "lb policy",
                serde_json::to_value(e.lb_policy)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default(),
            ),
            ("unstable restarts", e.unstable_restarts.to_string()),
            (
                "created at",
                e.created_at
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
        let v: Vec<ProcessRecord> = serde_json::from_value(
            serde_json::json!([{"pid":1,"name":"web","pm_id":0,"monit":{"memory":0,"cpu":0},
            "pm2_env":{"status":"stopped","exec_mode":"fork_mode","restart_time":0}}]),
        )
        .unwrap();
        let t = table(&v);
        assert!(t.contains("web") && t.contains("stopped") && t.contains("fork"));
    }
}
