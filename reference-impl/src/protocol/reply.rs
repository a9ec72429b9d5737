//! The daemon's answers, one variant per verb (pueue's shape). They carry typed data only: what was
//! applied to which ids, what failed and why, the process records. The user-facing `[PM2]` text is
//! written by the CLI (`cli::text`), nowhere else.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::record::ProcessRecord;
use super::{PROTOCOL_VERSION, Verb, VersionMismatch};
use crate::config::ExecMode;

/// A response envelope.
#[derive(Debug, Serialize, Deserialize)]
pub struct Response {
    /// The daemon's [`PROTOCOL_VERSION`].
    pub version: u32,
    /// The answer.
    pub reply: Reply,
}

impl Reply {
    /// The refusal of a request.
    pub fn refused(error: RequestError) -> Self {
        Reply::Refused {
            message: error.to_string(),
            error,
        }
    }
}

impl Response {
    /// Wraps a reply with our protocol version.
    pub fn new(reply: Reply) -> Self {
        Response {
            version: PROTOCOL_VERSION,
            reply,
        }
    }
}

/// One answer per verb of [`super::Command`].
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "snake_case")]
pub enum Reply {
    /// `ping`.
    Pong,
    /// `exists`.
    Exists {
        /// Something matched.
        found: bool,
    },
    /// `list`: the process records.
    List {
        /// One per instance.
        processes: Vec<ProcessRecord>,
    },
    /// `start`, `stop`, `restart`, `reload`, `delete`, `scale`.
    Report(Report),
    /// `kill`: how many processes were stopped (the daemon exits after replying).
    Killed {
        /// Processes stopped.
        stopped: usize,
    },
    /// The request was not understood.
    Refused {
        /// Why.
        error: RequestError,
        /// The same in words, for a peer of another protocol version that cannot read `error`.
        message: String,
    },
}

/// Why the daemon refused a request line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum RequestError {
    /// The CLI speaks another protocol version.
    #[error(transparent)]
    Version(#[from] VersionMismatch),
    /// Not a request of this protocol.
    #[error("bad request: {0}")]
    Malformed(String),
}

/// What an action verb did, in order, and the process records after it.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Report {
    /// What happened, in order.
    pub events: Vec<Event>,
    /// Something failed (the CLI exits 1).
    pub failed: bool,
    /// The process records afterwards, when the verb shows the table.
    pub processes: Option<Vec<ProcessRecord>>,
}

impl Report {
    /// Records an event.
    pub fn push(&mut self, ev: Event) {
        self.events.push(ev);
    }
    /// Records an event that makes the verb fail.
    pub fn fail(&mut self, ev: Event) {
        self.failed = true;
        self.events.push(ev);
    }
    /// A report of one failure.
    pub fn failure(ev: Event) -> Self {
        let mut r = Report::default();
        r.fail(ev);
        r
    }
    /// Appends a sub-report (its events, its failure).
    pub fn extend(&mut self, sub: Report) {
        self.events.extend(sub.events);
        self.failed |= sub.failed;
    }
}

/// Something an action verb did or could not do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A per-id verb is applied to the ids a target resolved to.
    Applying {
        /// The verb.
        verb: Verb,
        /// The target as given (name, id, `all`, app name).
        label: String,
        /// The ids.
        ids: Vec<u32>,
    },
    /// The verb succeeded on one id.
    Done {
        /// App name.
        name: String,
        /// PM2 id.
        id: u32,
    },
    /// The verb failed on an id (the job error's message).
    Failed {
        /// Why.
        message: String,
    },
    /// A reload replaced the worker but not as cleanly as asked.
    ReloadWarning(ReloadWarning),
    /// A target string matched nothing.
    NotFound {
        /// The target.
        target: String,
    },
    /// Apps of a config file were not running: they are started.
    StartingMissing {
        /// Their names.
        names: Vec<String>,
    },
    /// `start` of a new app.
    Starting {
        /// Its script.
        script: PathBuf,
        /// Its mode.
        exec_mode: ExecMode,
        /// Instances as configured (0/-1 = per CPU).
        instances: i64,
    },
    /// Every instance of a started app left `launching`.
    Started,
    /// The script runs already and `-f` was not given.
    AlreadyLaunched,
    /// More instances than the limit.
    TooManyInstances {
        /// Instances asked for.
        asked: i64,
        /// The limit.
        limit: i64,
        /// Asked by `scale` (else by `-i/--instances`).
        scale: bool,
    },
    /// Some instances could not be spawned.
    LaunchFailed {
        /// One message per instance.
        errors: Vec<String>,
    },
    /// `scale`: no app of that name.
    AppNotFound {
        /// The name.
        name: String,
    },
    /// `scale`: the count is invalid or already reached.
    NothingToDo,
    /// `scale`: one more instance.
    ScalingUp,
}

/// How a reload proceeded without the readiness it waited for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReloadWarning {
    /// wait_ready: no `ready` within listen_timeout, but it listens.
    NoReadyMessage {
        /// App name.
        name: String,
        /// PM2 id.
        pm_id: u32,
        /// listen_timeout (ms).
        listen_timeout: u64,
    },
    /// Not ready within listen_timeout; the old worker did not listen either.
    NotReady {
        /// App name.
        name: String,
        /// PM2 id.
        pm_id: u32,
        /// listen_timeout (ms).
        listen_timeout: u64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn round_trip(r: Reply) -> Reply {
        let line = serde_json::to_string(&Response::new(r)).unwrap();
        assert!(!line.contains('\n'));
        serde_json::from_str::<Response>(&line).unwrap().reply
    }

    #[rstest]
    #[case::applying(Event::Applying { verb: Verb::Reload, label: "web".into(), ids: vec![0, 1] })]
    #[case::done(Event::Done { name: "web".into(), id: 3 })]
    #[case::failed(Event::Failed { message: "3 : id unknown".into() })]
    #[case::reload_warning(Event::ReloadWarning(ReloadWarning::NoReadyMessage { name: "web".into(), pm_id: 1, listen_timeout: 3000 }))]
    #[case::reload_warning_not_ready(Event::ReloadWarning(ReloadWarning::NotReady { name: "web".into(), pm_id: 1, listen_timeout: 3000 }))]
    #[case::not_found(Event::NotFound { target: "all".into() })]
    #[case::starting_missing(Event::StartingMissing { names: vec!["a".into(), "b".into()] })]
    #[case::starting(Event::Starting { script: "/srv/app.js".into(), exec_mode: ExecMode::ClusterMode, instances: -1 })]
    #[case::started(Event::Started)]
    #[case::already_launched(Event::AlreadyLaunched)]
    #[case::too_many(Event::TooManyInstances { asked: 9999, limit: 4096, scale: true })]
    #[case::launch_failed(Event::LaunchFailed { errors: vec!["id 0: boom".into()] })]
    #[case::app_not_found(Event::AppNotFound { name: "web".into() })]
    #[case::nothing_to_do(Event::NothingToDo)]
    #[case::scaling_up(Event::ScalingUp)]
    fn every_event_survives_the_wire(#[case] ev: Event) {
        let report = Report {
            events: vec![ev.clone()],
            failed: true,
            processes: Some(vec![]),
        };
        match round_trip(Reply::Report(report)) {
            Reply::Report(r) => {
                assert_eq!(r.events, vec![ev]);
                assert!(r.failed);
                assert_eq!(r.processes.map(|p| p.len()), Some(0));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_refusal_carries_its_message_for_peers_of_other_versions() {
        let e = RequestError::Version(VersionMismatch { cli: 9, daemon: 2 });
        let line = serde_json::to_string(&Response::new(Reply::refused(e.clone()))).unwrap();
        assert!(line.contains("protocol version mismatch"), "{line}");
        match round_trip(Reply::refused(e.clone())) {
            Reply::Refused { error, message } => {
                assert_eq!(error, e);
                assert_eq!(message, e.to_string());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn queries_round_trip() {
        assert!(matches!(round_trip(Reply::Pong), Reply::Pong));
        assert!(matches!(
            round_trip(Reply::Exists { found: true }),
            Reply::Exists { found: true }
        ));
        assert!(matches!(
            round_trip(Reply::Killed { stopped: 2 }),
            Reply::Killed { stopped: 2 }
        ));
    }
}
