//! The faults suite's steps: waiting for a status, killing the target's daemon, holding the app's port,
//! reading the target's logs.

use super::background::JlistError;
use super::checks::res;
use super::ctx::{Abort, Ctx, StepSpan};
use super::observed::DaemonKill;
use super::record;
use crate::suite::Step;
use crate::target::{Verb, procs};
use std::collections::BTreeMap;
use std::time::Duration;

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
                        Ok(l) => l,
                        Err(JlistError::NoArray) => Vec::new(),
                        Err(e @ JlistError::Hung(_)) => {
                            return Err(failed("jlist", "an answer".into(), e.to_string()));
                        }
                        Err(e) => return Err(Abort::Error(e.to_string())),
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
                        self.daemon = Some(DaemonKill {
                            pid: daemon,
                            workers_before: before.len(),
                            workers_alive_after: alive.len(),
                            gone_ms: gone_at,
                        });
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
                    self.sc.app.name.as_str(),
                    "--nostream",
                    "--lines",
                    n.as_str(),
                ];
                let out = self
                    .run_verb(Verb::Logs, &args, self.scaled(30_000))
                    .await?;
                if let Some(line) = out.unsupported_line() {
                    return Err(Abort::Unsupported(format!("`logs`: {line}")));
                }
                self.logs = Some(format!("{}\n{}", out.stdout, out.stderr));
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
}
