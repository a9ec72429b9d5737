//! Executing the step vocabulary against the target.

use super::background::spawn_sampler;
use super::ctx::{Abort, Ctx, StepSpan};
use super::observed::Sample;
use crate::load::{ConnMode, LoadRun, LoadSpec, Protocol};
use crate::suite::{LoadMode, LoadProtocol, Step};
use crate::target::Verb;
use std::time::Duration;

/// Default deadline of one lifecycle command before `--time-scale`.
pub(super) const CMD_MS: u64 = 30_000;

pub(super) fn failed(name: &str, expected: String, observed: String) -> Abort {
    Abort::Failed(super::checks::res(name, false, expected, observed))
}

/// The load protocol a fixture speaks.
pub fn fixture_protocol(fixture: &str) -> Protocol {
    match fixture {
        "https" => Protocol::Https,
        "tcp" => Protocol::Tcp,
        "udp" => Protocol::Udp,
        _ => Protocol::Http,
    }
}

impl Ctx {
    /// Runs one step.
    pub async fn exec(&mut self, step: &Step) -> Result<(), Abort> {
        match step {
            Step::Start { args } => {
                let mut v = self.start_args();
                v.extend(args.iter().cloned());
                self.cli("start", Verb::Start, &v, CMD_MS).await?;
            }
            Step::StartEcosystem { only, format } => {
                self.write_ecosystem(*format)?;
                let mut v = vec![format.file_name().to_string()];
                if let Some(o) = only {
                    v.extend(["--only".to_string(), o.clone()]);
                }
                self.cli("start-ecosystem", Verb::Start, &v, CMD_MS).await?;
            }
            Step::Reload {
                on,
                only,
                times,
                pause_ms,
                args,
                timeout_ms,
            } => {
                for i in 0..*times {
                    if i > 0 && *pause_ms > 0 {
                        tokio::time::sleep(Duration::from_millis(*pause_ms)).await;
                    }
                    let mut v = vec![self.act_on(*on)];
                    if let Some(o) = only {
                        v.extend(["--only".to_string(), o.clone()]);
                    }
                    v.extend(args.iter().cloned());
                    self.cli("reload", Verb::Reload, &v, *timeout_ms).await?;
                }
            }
            Step::Restart {
                on,
                times,
                pause_ms,
            } => {
                for i in 0..*times {
                    if i > 0 && *pause_ms > 0 {
                        tokio::time::sleep(Duration::from_millis(*pause_ms)).await;
                    }
                    let v = vec![self.act_on(*on)];
                    self.cli("restart", Verb::Restart, &v, CMD_MS).await?;
                }
            }
            Step::Stop { on } => {
                let v = vec![self.act_on(*on)];
                self.cli("stop", Verb::Stop, &v, CMD_MS).await?;
            }
            Step::Delete { on } => {
                let v = vec![self.act_on(*on)];
                self.cli("delete", Verb::Delete, &v, CMD_MS).await?;
            }
            Step::Scale { to } => {
                let v = vec![self.sc.app.name.clone(), to.clone()];
                self.cli("scale", Verb::Scale, &v, CMD_MS).await?;
            }
            Step::WaitOnline { count, timeout_ms } => {
                let n = count.resolve(self.cpus) as usize;
                let start = self.now();
                let deadline = tokio::time::Instant::now() + self.scaled(*timeout_ms);
                loop {
                    let l = self.jlist().await?;
                    let procs = self.app_procs(&l);
                    let online = procs.iter().filter(|p| p.status == "online").count();
                    if online >= n {
                        break;
                    }
                    if tokio::time::Instant::now() >= deadline {
                        let st: Vec<&str> = procs.iter().map(|p| p.status.as_str()).collect();
                        return Err(failed(
                            "wait-online",
                            format!(
                                "{n} online within {} ms",
                                self.scaled(*timeout_ms).as_millis()
                            ),
                            format!("{online} online (statuses: [{}])", st.join(", ")),
                        ));
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                let end = self.now();
                self.spans.push(StepSpan {
                    kind: "wait-online".into(),
                    start,
                    end,
                    exit: None,
                });
            }
            Step::WaitListening { count, timeout_ms } => {
                let n = count.resolve(self.cpus) as usize;
                let deadline = tokio::time::Instant::now() + self.scaled(*timeout_ms);
                loop {
                    let ws = self.workers();
                    let k = ws
                        .iter()
                        .filter(|w| w.listening.is_some() && w.end().is_none())
                        .count();
                    if k >= n {
                        break;
                    }
                    if tokio::time::Instant::now() >= deadline {
                        return Err(failed(
                            "wait-listening",
                            format!(
                                "{n} live processes listening within {} ms",
                                self.scaled(*timeout_ms).as_millis()
                            ),
                            format!("{k} listening"),
                        ));
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            Step::WaitRecord {
                event,
                count,
                timeout_ms,
            } => {
                let deadline = tokio::time::Instant::now() + self.scaled(*timeout_ms);
                loop {
                    let k = super::record::read(&self.record, self.origin_epoch_ms)
                        .iter()
                        .filter(|e| &e.event == event)
                        .count();
                    if k >= *count as usize {
                        break;
                    }
                    if tokio::time::Instant::now() >= deadline {
                        return Err(failed(
                            "wait-record",
                            format!(
                                "{count} `{event}` events within {} ms",
                                self.scaled(*timeout_ms).as_millis()
                            ),
                            format!("{k}"),
                        ));
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            Step::Load {
                name,
                rate,
                duration_ms,
                mode,
                protocol,
                path,
                timeout_ms,
                max_requests,
                connections,
            } => {
                let protocol = match protocol {
                    Some(LoadProtocol::Http) => Protocol::Http,
                    Some(LoadProtocol::Https) => Protocol::Https,
                    Some(LoadProtocol::Tcp) => Protocol::Tcp,
                    Some(LoadProtocol::Udp) => Protocol::Udp,
                    None => fixture_protocol(&self.sc.fixture),
                };
                let mode = match mode {
                    Some(LoadMode::KeepAlive) => ConnMode::KeepAlive,
                    _ => ConnMode::NewConnection,
                };
                let spec = LoadSpec {
                    protocol,
                    host: "127.0.0.1".into(),
                    port: self.port,
                    path: path.clone(),
                    rate: *rate,
                    duration: Duration::from_millis(*duration_ms),
                    max_requests: max_requests.unwrap_or(u64::MAX),
                    mode,
                    timeout: self.scaled(*timeout_ms),
                    connections: connections.unwrap_or(0),
                };
                let start = self.now();
                self.spans.push(StepSpan {
                    kind: format!("load:{name}"),
                    start,
                    end: start + *duration_ms as f64,
                    exit: None,
                });
                self.loads
                    .insert(name.clone(), LoadRun::start(spec, self.origin));
            }
            Step::LoadFinish { name } => {
                let run = self
                    .loads
                    .remove(name)
                    .ok_or_else(|| Abort::Error(format!("no load named `{name}` is running")))?;
                let r = run.finish().await;
                self.end_load_span(name);
                self.load_results.insert(name.clone(), r);
            }
            Step::LoadStop { name } => {
                let run = self
                    .loads
                    .remove(name)
                    .ok_or_else(|| Abort::Error(format!("no load named `{name}` is running")))?;
                let r = run.stop().await;
                self.end_load_span(name);
                self.load_results.insert(name.clone(), r);
            }
            Step::RequestSlow {
                name,
                path,
                timeout_ms,
            } => {
                let port = self.port;
                let path = path.clone();
                let timeout = Duration::from_millis(*timeout_ms);
                let proto = fixture_protocol(&self.sc.fixture);
                let start = self.now();
                self.values
                    .insert(format!("request.{name}.start_ms"), start);
                self.slow.insert(
                    name.clone(),
                    tokio::spawn(async move {
                        crate::load::probe(proto, "127.0.0.1", port, &path, timeout).await
                    }),
                );
            }
            Step::StopDuringRequests(b) => self.act_during_requests(b, Verb::Stop).await?,
            Step::ReloadDuringRequests(b) => self.act_during_requests(b, Verb::Reload).await?,
            Step::AwaitRequest { name } => {
                let h = self
                    .slow
                    .remove(name)
                    .ok_or_else(|| Abort::Error(format!("no request named `{name}` is pending")))?;
                let r = h
                    .await
                    .map_err(|e| Abort::Error(format!("request task failed: {e}")))?;
                let start = self
                    .values
                    .get(&format!("request.{name}.start_ms"))
                    .copied()
                    .unwrap_or(0.0);
                let took = self.now() - start;
                self.values.insert(format!("request.{name}.ms"), took);
                self.slow_results.insert(name.clone(), (r, took));
            }
            Step::Requests { name, count } => {
                let mut answers = Vec::new();
                for _ in 0..*count {
                    match super::http::get_json(self.port, "/", Duration::from_secs(5)).await {
                        Ok((200, v)) => answers.push(v),
                        Ok((code, _)) => {
                            answers.push(serde_json::json!({ "error": format!("status {code}") }))
                        }
                        Err(e) => answers.push(serde_json::json!({ "error": e })),
                    }
                }
                self.answers.insert(name.clone(), answers);
            }
            Step::Sleep { ms } => tokio::time::sleep(Duration::from_millis(*ms)).await,
            Step::SwapFixture { to } => {
                let p = self.app_script();
                self.write_stub(&p, to)
                    .map_err(|e| Abort::Error(format!("cannot swap the app script: {e}")))?;
                let t = self.now();
                self.spans.push(StepSpan {
                    kind: "swap-fixture".into(),
                    start: t,
                    end: t,
                    exit: None,
                });
            }
            Step::Snapshot { label } => {
                let s = self.snapshot().await?;
                self.snapshots.insert(label.clone(), s);
            }
            Step::Sample { every_ms } => {
                if self.sampler.is_none() {
                    self.sampler = Some(spawn_sampler(
                        self.sb.clone(),
                        self.target.clone(),
                        self.sc.instance_var().to_string(),
                        Duration::from_millis(*every_ms),
                        self.origin,
                        self.samples.clone(),
                    ));
                }
            }
            Step::WaitStatus { .. }
            | Step::KillDaemon { .. }
            | Step::OccupyPort {}
            | Step::CaptureLogs { .. } => {
                self.exec_fault(step).await?;
            }
            Step::SampleStop {} => {
                if let Some(h) = self.sampler.take() {
                    h.abort();
                    // one last sample, taken after every earlier step: a fast target may have
                    // finished between two background samples
                    let s = self.snapshot().await?;
                    self.samples.lock().unwrap().push(Sample {
                        t_start: s.t_start,
                        t_end: s.t_end,
                        procs: Ok(s.procs),
                    });
                }
            }
        }
        Ok(())
    }

    /// Takes the final `jlist` snapshot (label `end`) unless the steps took one.
    pub async fn final_snapshot(&mut self) -> Result<(), Abort> {
        if !self.snapshots.contains_key("end") {
            let s = self.snapshot().await?;
            self.snapshots.insert("end".into(), s);
        }
        Ok(())
    }
}
