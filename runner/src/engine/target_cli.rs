//! Driving the target's command line for the steps: one command with its span and exit code recorded,
//! `jlist`, and the names a step acts on.

use super::background::{self, JlistError};
use super::ctx::{Abort, Ctx, StepSpan};
use super::observed::Snapshot;
use super::steps::{CMD_MS, failed};
use crate::suite::ActOn;
use crate::target::{CmdOutput, Proc, Verb, VerbError};

impl Ctx {
    /// The CLI argument naming what a step acts on.
    pub(super) fn act_on(&self, on: ActOn) -> String {
        match on {
            ActOn::App => self.sc.app.name.clone(),
            ActOn::All => "all".to_string(),
            ActOn::Ecosystem => self.ecosystem_file().to_string(),
        }
    }

    /// Runs one target verb as the adapter spells it: a verb the adapter declares absent is
    /// `unsupported`, a target that cannot be run an `error`.
    pub(super) async fn run_verb(
        &self,
        verb: Verb,
        rest: &[&str],
        deadline: std::time::Duration,
    ) -> Result<CmdOutput, Abort> {
        match self.sb.run_verb(&self.target, verb, rest, deadline).await {
            Ok(o) => Ok(o),
            Err(e @ VerbError::Absent(_)) => Err(Abort::Unsupported(e.to_string())),
            Err(VerbError::Io(e)) => Err(Abort::Error(format!(
                "cannot run {}: {e}",
                self.target.display()
            ))),
        }
    }

    /// Runs one target verb (`rest` after it) as step `kind`, recording its span and exit code; a
    /// verb the target lacks (adapter `false`, or its "unknown command" answer) is `unsupported`.
    pub(super) async fn cli(
        &mut self,
        kind: &str,
        verb: Verb,
        rest: &[String],
        deadline_ms: u64,
    ) -> Result<CmdOutput, Abort> {
        let start = self.now();
        let argv: Vec<&str> = rest.iter().map(String::as_str).collect();
        let args: Vec<String> = std::iter::once(self.sb.adapter.name_of(verb).to_string())
            .chain(rest.iter().cloned())
            .collect();
        let deadline = self.scaled(deadline_ms);
        let out = self.run_verb(verb, &argv, deadline).await?;
        let end = self.now();
        self.spans.push(StepSpan {
            kind: kind.to_string(),
            start,
            end,
            exit: out.code,
        });
        let n = self.spans.iter().filter(|s| s.kind == kind).count();
        self.values.insert(format!("{kind}.{n}.ms"), end - start);
        if let Some(c) = out.code {
            self.values.insert(format!("{kind}.{n}.exit"), c as f64);
        }
        if out.timed_out {
            // a command that hangs breaks the promise it was asked to keep: a failed check, not an error
            return Err(failed(
                kind,
                format!(
                    "`{}` returns within {} ms",
                    args.join(" "),
                    deadline.as_millis()
                ),
                "still running at the deadline (killed)".into(),
            ));
        }
        if let Some(line) = out.unsupported_line() {
            return Err(Abort::Unsupported(format!("`{}`: {line}", args.join(" "))));
        }
        Ok(out)
    }

    /// The target's `jlist`, parsed; a missing JSON array fails the scenario.
    pub(super) async fn jlist(&self) -> Result<Vec<Proc>, Abort> {
        match background::jlist(
            &self.sb,
            &self.target,
            self.sc.instance_var(),
            self.scaled(CMD_MS),
        )
        .await
        {
            Ok(l) => Ok(l),
            Err(e @ (JlistError::NoArray | JlistError::Hung(_))) => Err(failed(
                "jlist",
                "a JSON array from `jlist`".into(),
                e.to_string(),
            )),
            Err(e) => Err(Abort::Error(e.to_string())),
        }
    }

    /// A `jlist` snapshot with the times it was asked for and answered.
    pub(super) async fn snapshot(&self) -> Result<Snapshot, Abort> {
        let t_start = self.now();
        let procs = self.jlist().await?;
        Ok(Snapshot {
            t_start,
            t_end: self.now(),
            procs,
        })
    }

    /// The app's processes in a listing.
    pub fn app_procs<'a>(&self, l: &'a [Proc]) -> Vec<&'a Proc> {
        l.iter().filter(|p| p.name == self.sc.app.name).collect()
    }
}
