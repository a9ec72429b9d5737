//! The step vocabulary: what a scenario does, in order (`[[scenario.steps]]` with `do = "..."`).

use super::CountExpr;
use serde::Deserialize;

/// Load protocol as written in a suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LoadProtocol {
    /// HTTP/1.1.
    Http,
    /// HTTPS (self-signed certificate made per run).
    Https,
    /// A line over TCP.
    Tcp,
    /// One datagram.
    Udp,
}

/// Connection mode as written in a suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoadMode {
    /// A new connection (or socket) per request.
    NewConnection,
    /// One kept-alive connection per client.
    KeepAlive,
}

/// What a lifecycle command acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActOn {
    /// The app by name.
    #[default]
    App,
    /// `all`.
    All,
    /// The ecosystem file the runner wrote.
    Ecosystem,
}

fn one() -> u32 {
    1
}
fn main_load() -> String {
    "main".to_string()
}
fn slow() -> String {
    "slow".to_string()
}
fn slash() -> String {
    "/".to_string()
}
fn slow_path() -> String {
    "/slow".to_string()
}
fn t15000() -> u64 {
    15000
}
fn t3000() -> u64 {
    3000
}
fn t10000() -> u64 {
    10000
}
fn t50() -> u64 {
    50
}
fn t100() -> u64 {
    100
}

/// The form of the ecosystem file `start-ecosystem` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EcosystemFormat {
    /// `ecosystem.json`: `{"apps": [...]}`.
    #[default]
    Json,
    /// `ecosystem.config.js`: `module.exports = { apps: [...] }` (the guide's form).
    Js,
}

impl EcosystemFormat {
    /// The file name the runner writes in the sandbox.
    pub fn file_name(self) -> &'static str {
        match self {
            EcosystemFormat::Json => "ecosystem.json",
            EcosystemFormat::Js => "ecosystem.config.js",
        }
    }
}

fn t30000() -> u64 {
    30000
}

/// The slow requests a `stop-during-requests` / `reload-during-requests` step fires around its command.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Burst {
    /// Name checks refer to.
    #[serde(default = "slow")]
    pub name: String,
    /// Interval between requests, ms.
    #[serde(default = "t50")]
    pub every_ms: u64,
    /// Path.
    #[serde(default = "slow_path")]
    pub path: String,
    /// Deadline of each request, ms.
    #[serde(default = "t10000")]
    pub timeout_ms: u64,
    /// Deadline of the stop or reload command, ms.
    #[serde(default = "t30000")]
    pub command_timeout_ms: u64,
}

/// One step of a scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "do", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Step {
    /// `<target> start <app.js> --name <name>` plus flags from the app config and `args`.
    Start {
        /// Extra arguments.
        #[serde(default)]
        args: Vec<String>,
    },
    /// Writes `ecosystem.json` (or `ecosystem.config.js`, `format = "js"`) from the app config and runs
    /// `<target> start <file> [--only X]`.
    StartEcosystem {
        /// `--only`.
        only: Option<String>,
        /// `json` (default) or `js` (`module.exports = { apps: [...] }`).
        #[serde(default)]
        format: EcosystemFormat,
    },
    /// `<target> reload <name|all|ecosystem.json>`, `times` times.
    Reload {
        /// What to reload.
        #[serde(default)]
        on: ActOn,
        /// `--only` (with `on = "ecosystem"`).
        only: Option<String>,
        /// How many reloads in a row.
        #[serde(default = "one")]
        times: u32,
        /// Pause between reloads, ms.
        #[serde(default)]
        pause_ms: u64,
        /// Extra arguments.
        #[serde(default)]
        args: Vec<String>,
        /// Deadline of one reload command, ms.
        #[serde(default = "t15000")]
        timeout_ms: u64,
    },
    /// `<target> restart <name|all|ecosystem.json>`, `times` times.
    Restart {
        /// What to restart.
        #[serde(default)]
        on: ActOn,
        /// How many restarts.
        #[serde(default = "one")]
        times: u32,
        /// Pause between restarts, ms.
        #[serde(default)]
        pause_ms: u64,
    },
    /// `<target> stop <name>`.
    Stop {
        /// What to stop.
        #[serde(default)]
        on: ActOn,
    },
    /// `<target> delete <name>`.
    Delete {
        /// What to delete.
        #[serde(default)]
        on: ActOn,
    },
    /// `<target> scale <name> <to>` (`"2"` or `"+1"`).
    Scale {
        /// Target count, absolute or `+N`.
        to: String,
    },
    /// Polls `jlist` until `count` processes of the app are `online`.
    WaitOnline {
        /// How many.
        count: CountExpr,
        /// Deadline, ms.
        #[serde(default = "t15000")]
        timeout_ms: u64,
    },
    /// Polls the fixture record until `count` live processes of the app have listened.
    WaitListening {
        /// How many.
        count: CountExpr,
        /// Deadline, ms.
        #[serde(default = "t15000")]
        timeout_ms: u64,
    },
    /// Polls the fixture record until it holds `count` events named `event`.
    WaitRecord {
        /// Event name (`request-start`, `ready-sent`, ...).
        event: String,
        /// How many.
        #[serde(default = "one")]
        count: u32,
        /// Deadline, ms.
        #[serde(default = "t15000")]
        timeout_ms: u64,
    },
    /// Starts open-loop load in the background.
    Load {
        /// Name checks refer to.
        #[serde(default = "main_load")]
        name: String,
        /// Requests per second.
        rate: u32,
        /// Duration, ms.
        duration_ms: u64,
        /// `new-connection` or `keep-alive`.
        #[serde(default)]
        mode: Option<LoadMode>,
        /// Protocol; default from the fixture.
        #[serde(default)]
        protocol: Option<LoadProtocol>,
        /// Request path.
        #[serde(default = "slash")]
        path: String,
        /// Per-request timeout, ms (an unanswered request is a failure).
        #[serde(default = "t3000")]
        timeout_ms: u64,
        /// Upper bound on requests.
        max_requests: Option<u64>,
        /// keep-alive: client connections, each reused request after request (default 8).
        #[serde(default)]
        connections: Option<u32>,
    },
    /// Waits until a background load has run its course.
    LoadFinish {
        /// Which load.
        #[serde(default = "main_load")]
        name: String,
    },
    /// Stops a background load now (in-flight requests get their timeout).
    LoadStop {
        /// Which load.
        #[serde(default = "main_load")]
        name: String,
    },
    /// Starts one slow request (`GET /slow`) in the background.
    RequestSlow {
        /// Name checks refer to.
        #[serde(default = "slow")]
        name: String,
        /// Path.
        #[serde(default = "slow_path")]
        path: String,
        /// Deadline, ms.
        #[serde(default = "t10000")]
        timeout_ms: u64,
    },
    /// Runs `<target> stop <app>` while firing a slow request every `every_ms` until it returns, so
    /// that one request is always in flight when the app is told to stop (whatever the target's CLI latency).
    StopDuringRequests(Burst),
    /// Runs `<target> reload <app>` while firing a slow request every `every_ms` until it returns, so
    /// that requests are in flight on the old workers when each is told to stop.
    ReloadDuringRequests(Burst),
    /// Waits for a background slow request to end.
    AwaitRequest {
        /// Which request.
        #[serde(default = "slow")]
        name: String,
    },
    /// Sends `count` sequential `GET /` and keeps the answers (stateless demonstration).
    Requests {
        /// Name checks refer to.
        #[serde(default = "main_load")]
        name: String,
        /// How many.
        count: u32,
    },
    /// Waits a fixed time (scaled by `--time-scale`); for letting load run, never for synchronisation.
    Sleep {
        /// Milliseconds.
        ms: u64,
    },
    /// Replaces the app's script with another fixture (the next reload picks the new build).
    SwapFixture {
        /// Fixture name.
        to: String,
    },
    /// Takes a `jlist` snapshot under a label (checks compare snapshots).
    Snapshot {
        /// Label.
        label: String,
    },
    /// Starts sampling `jlist` in the background until the scenario ends or `sample-stop`.
    Sample {
        /// Interval, ms.
        #[serde(default = "t100")]
        every_ms: u64,
    },
    /// Stops the `jlist` sampler.
    SampleStop {},
    /// Polls `jlist` until every process of the app has `status` (faults suite).
    WaitStatus {
        /// Status name (`errored`).
        status: String,
        /// Deadline, ms.
        #[serde(default = "t15000")]
        timeout_ms: u64,
    },
    /// SIGKILLs the target's daemon (the parent of the app's live processes), then waits up to
    /// `settle_ms` and records which app processes outlived it (faults suite).
    KillDaemon {
        /// How long the app's processes get to die with it, ms.
        #[serde(default = "t3000")]
        settle_ms: u64,
    },
    /// Holds the app's port (0.0.0.0, TCP) until the scenario ends: the app cannot listen (faults suite).
    OccupyPort {},
    /// Captures `<target> logs <app> --nostream --lines N` for `logs-contain` (faults suite).
    CaptureLogs {
        /// Lines per log file.
        #[serde(default = "fifty")]
        lines: u32,
    },
}

fn fifty() -> u32 {
    50
}

impl Step {
    /// The step's kebab-case name (`reload`), as in the file.
    pub fn kind(&self) -> &'static str {
        match self {
            Step::Start { .. } => "start",
            Step::StartEcosystem { .. } => "start-ecosystem",
            Step::Reload { .. } => "reload",
            Step::Restart { .. } => "restart",
            Step::Stop { .. } => "stop",
            Step::Delete { .. } => "delete",
            Step::Scale { .. } => "scale",
            Step::WaitOnline { .. } => "wait-online",
            Step::WaitListening { .. } => "wait-listening",
            Step::WaitRecord { .. } => "wait-record",
            Step::Load { .. } => "load",
            Step::LoadFinish { .. } => "load-finish",
            Step::LoadStop { .. } => "load-stop",
            Step::RequestSlow { .. } => "request-slow",
            Step::StopDuringRequests(_) => "stop-during-requests",
            Step::ReloadDuringRequests(_) => "reload-during-requests",
            Step::AwaitRequest { .. } => "await-request",
            Step::Requests { .. } => "requests",
            Step::Sleep { .. } => "sleep",
            Step::SwapFixture { .. } => "swap-fixture",
            Step::Snapshot { .. } => "snapshot",
            Step::Sample { .. } => "sample",
            Step::SampleStop {} => "sample-stop",
            Step::WaitStatus { .. } => "wait-status",
            Step::KillDaemon { .. } => "kill-daemon",
            Step::OccupyPort {} => "occupy-port",
            Step::CaptureLogs { .. } => "capture-logs",
        }
    }
}
