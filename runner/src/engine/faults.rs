//! The faults suite's steps and checks: waiting for a status, killing the target's daemon, holding the
//! app's port, reading the target's logs; restart counts, crash-loop start rates, orphans, log text.

use super::checks::res;
use super::ctx::{Abort, Ctx, StepSpan};
use super::record;
use crate::model::CheckResult;
use crate::suite::{Check, Step};
use crate::target::procs;
use std::collections::BTreeMap;
use std::time::Duration;

/// Key of the captured logs in [`Ctx::answers`].
const LOGS: &str = "capture-logs";
/// Key of the port holder in [`Ctx::slow`] (aborted with the other background work at the end).
const PORT_HOLDER: &str = "occupy-port";

fn failed(name: &str, expected: String, observed: String) -> Abort {
    Abort::Failed(res(name, false, expected, observed))
}

impl Ctx {
    /// Live app processes from the record, with the parent each one reported at start.
    fn live_with_parents(&self) -> Vec<(u32, u32)> {
        record::read(&self.record, self.origin_epoch_ms)
            .iter()
            .filter(|e| e.event == "start" && procs::alive(e.pid))
            .map(|e| {
                (
                    e.pid,
                    e.raw.get("ppid").and_then(|p| p.as_u64()).unwrap_or(0) as u32,
                )
            })
            .collect()
    }

    /// Runs one step of the faults vocabulary.
    pub(super) async fn exec_fault(&mut self, step: &Step) -> Result<(), Abort> {
        let start = self.now();
        match step {
            Step::WaitStatus { status, timeout_ms } => {
                let deadline = tokio::time::Instant::now() + self.scaled(*timeout_ms);
                loop {
                    let l = match super::background::jlist(
                        &self.sb,
                        &self.target,
                        self.sc.instance_var(),
                        self.scaled(30_000),
                    )
                    .await
                    {
                        Ok(Some(l)) => l,
                        Ok(None) => Vec::new(),
                        Err(e) => return Err(Abort::Error(e)),
                    };
                    let st: Vec<String> = self
                        .app_procs(&l)
                        .iter()
                        .map(|p| p.status.clone())
                        .collect();
                    if !st.is_empty() && st.iter().all(|s| s == status) {
                        break;
                    }
                    if tokio::time::Instant::now() >= deadline {
                        return Err(failed(
                            "wait-status",
                            format!(
                                "every process `{status}` within {} ms",
                                self.scaled(*timeout_ms).as_millis()
                            ),
                            format!("statuses: [{}]", st.join(", ")),
                        ));
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
            Step::KillDaemon { settle_ms } => {
                let live = self.live_with_parents();
                // the daemon is the parent most of the app's live processes report (PM2's God, refpm's daemon)
                let mut votes: BTreeMap<u32, usize> = BTreeMap::new();
                for (_, ppid) in &live {
                    if *ppid > 1 && procs::alive(*ppid) {
                        *votes.entry(*ppid).or_default() += 1;
                    }
                }
                let Some((&daemon, _)) = votes.iter().max_by_key(|(_, n)| **n) else {
                    return Err(Abort::Error(
                        "kill-daemon: no live app process with a live parent in the record".into(),
                    ));
                };
                let before: Vec<u32> = live.iter().map(|(p, _)| *p).collect();
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(daemon as i32),
                    nix::sys::signal::Signal::SIGKILL,
                );
                let killed_at = self.now();
                let deadline = tokio::time::Instant::now() + self.scaled(*settle_ms);
                let mut gone_at = None;
                loop {
                    let alive: Vec<u32> = before
                        .iter()
                        .copied()
                        .filter(|p| procs::alive(*p))
                        .collect();
                    if alive.is_empty() && gone_at.is_none() {
                        gone_at = Some(self.now() - killed_at);
                    }
                    if gone_at.is_some() || tokio::time::Instant::now() >= deadline {
                        self.values.insert("daemon.pid".into(), daemon as f64);
                        self.values
                            .insert("daemon.workers_before".into(), before.len() as f64);
                        self.values
                            .insert("daemon.workers_alive_after".into(), alive.len() as f64);
                        if let Some(ms) = gone_at {
                            self.values.insert("daemon.workers_gone_ms".into(), ms);
                        }
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            Step::OccupyPort {} => {
                let listener =
                    std::net::TcpListener::bind(("0.0.0.0", self.port)).map_err(|e| {
                        Abort::Error(format!("occupy-port: cannot bind port {}: {e}", self.port))
                    })?;
                listener
                    .set_nonblocking(true)
                    .map_err(|e| Abort::Error(e.to_string()))?;
                let listener = tokio::net::TcpListener::from_std(listener)
                    .map_err(|e| Abort::Error(e.to_string()))?;
                self.slow.insert(
                    PORT_HOLDER.to_string(),
                    tokio::spawn(async move {
                        // accept and drop: a client of the port sees a closed connection, not the app
                        loop {
                            if listener.accept().await.is_err() {
                                tokio::time::sleep(Duration::from_millis(50)).await;
                            }
                        }
                    }),
                );
            }
            Step::CaptureLogs { lines } => {
                let n = lines.to_string();
                let args = [
                    "logs",
                    self.sc.app.name.as_str(),
                    "--nostream",
                    "--lines",
                    n.as_str(),
                ];
                let out = self
                    .sb
                    .run(&self.target, &args, self.scaled(30_000))
                    .await
                    .map_err(|e| {
                        Abort::Error(format!("cannot run {}: {e}", self.target.display()))
                    })?;
                let text = format!("{}\n{}", out.stdout, out.stderr);
                self.answers
                    .insert(LOGS.to_string(), vec![serde_json::Value::String(text)]);
            }
            other => {
                return Err(Abort::Error(format!(
                    "step `{}` is not a faults step",
                    other.kind()
                )));
            }
        }
        let end = self.now();
        self.spans.push(StepSpan {
            kind: step.kind().to_string(),
            start,
            end,
            exit: None,
        });
        Ok(())
    }

    /// Evaluates one check of the faults vocabulary.
    pub(super) fn evaluate_fault(&mut self, check: &Check) -> CheckResult {
        let name = check.kind();
        match check {
            Check::Restarts { min, max } => {
                let procs: Vec<_> = self
                    .snapshots
                    .get("end")
                    .map(|l| self.app_procs(l).into_iter().cloned().collect())
                    .unwrap_or_default();
                let total: i64 = procs.iter().map(|p| p.restart_time).sum();
                self.values.insert("restarts".into(), total as f64);
                let ok = min.is_none_or(|m| total >= m) && max.is_none_or(|m| total <= m);
                let want = match (min, max) {
                    (Some(a), Some(b)) if a == b => format!("{a} restarts"),
                    (a, b) => format!(
                        "between {} and {} restarts",
                        a.unwrap_or(0),
                        b.map_or("any".into(), |b| b.to_string())
                    ),
                };
                res(
                    name,
                    ok,
                    want,
                    format!(
                        "{total} (restart_time summed over {} processes)",
                        procs.len()
                    ),
                )
            }
            Check::StartRate {
                max_per_s,
                max_total,
                quiet_after,
            } => {
                let mut starts: Vec<f64> = record::read(&self.record, self.origin_epoch_ms)
                    .iter()
                    .filter(|e| e.event == "start")
                    .map(|e| e.t)
                    .collect();
                starts.sort_by(f64::total_cmp);
                let peak = (0..starts.len())
                    .map(|i| {
                        starts[i..]
                            .iter()
                            .take_while(|t| **t < starts[i] + 1000.0)
                            .count()
                    })
                    .max()
                    .unwrap_or(0);
                let quiet_from = quiet_after
                    .as_ref()
                    .and_then(|k| self.spans.iter().find(|s| &s.kind == k))
                    .map(|s| s.end + 1000.0);
                let late = quiet_from.map_or(0, |q| starts.iter().filter(|t| **t > q).count());
                self.values
                    .insert("starts.total".into(), starts.len() as f64);
                self.values.insert("starts.peak_per_s".into(), peak as f64);
                let ok = peak <= *max_per_s as usize
                    && max_total.is_none_or(|m| starts.len() <= m as usize)
                    && late == 0;
                let mut want = format!("at most {max_per_s} starts in any 1 s");
                if let Some(m) = max_total {
                    want.push_str(&format!(", at most {m} in all"));
                }
                if let Some(k) = quiet_after {
                    want.push_str(&format!(", none after `{k}`"));
                }
                res(
                    name,
                    ok,
                    want,
                    format!(
                        "{peak} in the busiest second, {} in all, {late} after",
                        starts.len()
                    ),
                )
            }
            Check::NoOrphans {} => match self.values.get("daemon.workers_alive_after") {
                Some(&n) => {
                    let before = self
                        .values
                        .get("daemon.workers_before")
                        .copied()
                        .unwrap_or(0.0);
                    res(
                        name,
                        n == 0.0,
                        "no app process outlives the killed daemon",
                        format!("{n} of {before} still running"),
                    )
                }
                None => res(name, false, "a `kill-daemon` step", "none ran"),
            },
            Check::LogsContain { text } => {
                let logs = self
                    .answers
                    .get(LOGS)
                    .and_then(|v| v.first())
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string();
                let ok = logs.to_lowercase().contains(&text.to_lowercase());
                let tail: String = logs.lines().rev().take(3).collect::<Vec<_>>().join(" | ");
                res(
                    name,
                    ok,
                    format!("logs mention `{text}`"),
                    if ok {
                        format!("found in {} lines", logs.lines().count())
                    } else {
                        format!("not found; last lines: {tail}")
                    },
                )
            }
            other => res(
                name,
                false,
                "a faults check",
                format!("`{}` is not one", other.kind()),
            ),
        }
    }
}
