//! `logs [target] [--nostream] [--lines N]`: tail the daemon log and the apps' out/err files, then follow.

use std::io::{Read, Seek, SeekFrom};
use std::time::Duration;

use super::args::LogsArgs;
use super::error::CliError;
use super::render::tail;
use super::{Ui, call, processes};
use crate::home::Home;
use crate::protocol::Command;
use crate::protocol::record::ProcessRecord;

/// Runs `logs`.
pub fn logs(ui: &Ui, home: &Home, a: LogsArgs) -> Result<i32, CliError> {
    let target = a.target.clone().unwrap_or_else(|| "all".into());
    let list = processes(call(ui, home, Command::List, true)?)?;
    let procs: Vec<&ProcessRecord> = if target == "all" {
        list.iter().collect()
    } else {
        super::render::select(&list, &target)
    };
    if !a.raw {
        ui.out(format!(
            "[TAILING] Tailing last {} lines for [{target}] process (change the value with --lines option)",
            a.lines
        ));
    }
    let mut files: Vec<(String, String)> = vec![];
    if target == "all" && !a.out && !a.err {
        files.push((home.daemon_log().display().to_string(), "PM2".into()));
    }
    for p in &procs {
        let prefix = format!("{}|{}", p.pm_id, p.name);
        if !a.err {
            files.push((p.pm2_env.pm_out_log_path.clone(), prefix.clone()));
        }
        if !a.out {
            files.push((p.pm2_env.pm_err_log_path.clone(), prefix));
        }
    }
    for (path, prefix) in &files {
        if !a.raw {
            ui.out(format!("{path} last {} lines:", a.lines));
        }
        for l in tail(path, a.lines) {
            if a.raw {
                ui.out(l);
            } else {
                ui.out(format!("{prefix:<12} | {l}"));
            }
        }
        if !a.raw {
            ui.out("");
        }
    }
    if a.nostream {
        return Ok(0);
    }
    follow(ui, &files, a.raw)
}

fn follow(ui: &Ui, files: &[(String, String)], raw: bool) -> Result<i32, CliError> {
    let mut offsets: Vec<u64> = files
        .iter()
        .map(|(p, _)| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .collect();
    loop {
        for (i, (path, prefix)) in files.iter().enumerate() {
            let Ok(mut f) = std::fs::File::open(path) else {
                continue;
            };
            let len = f.metadata().map(|m| m.len()).unwrap_or(0);
            if len < offsets[i] {
                offsets[i] = 0;
            }
            if len == offsets[i] || f.seek(SeekFrom::Start(offsets[i])).is_err() {
                continue;
            }
            let mut buf = vec![];
            let _ = f.read_to_end(&mut buf);
            offsets[i] += buf.len() as u64;
            for l in String::from_utf8_lossy(&buf).lines() {
                if raw {
                    ui.out(l);
                } else {
                    ui.out(format!("{prefix:<12} | {l}"));
                }
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
