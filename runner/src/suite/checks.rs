//! The check vocabulary: what must hold after the steps (`[[scenario.expect]]` with `check = "..."`).

use super::CountExpr;
use serde::Deserialize;

/// Where a count is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// The target's `jlist`.
    Jlist,
    /// The fixtures' ground-truth record.
    Record,
    /// Both must agree with the expectation.
    #[default]
    Both,
}

fn main_load() -> String {
    "main".to_string()
}
fn slow() -> String {
    "slow".to_string()
}
fn reload() -> String {
    "reload".to_string()
}
fn quarter() -> f64 {
    0.25
}
fn sigint() -> String {
    "SIGINT".to_string()
}
fn t300() -> u64 {
    300
}
fn online() -> String {
    "online".to_string()
}
fn t100() -> u64 {
    100
}

/// One expectation.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "check", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Check {
    /// The app has `equals` live processes (jlist: not stopped/errored; record: started, not exited).
    InstanceCount {
        /// Expected count.
        equals: CountExpr,
        /// Where to count.
        #[serde(default)]
        source: Source,
    },
    /// Every process runs in this mode: `cluster` or `fork` (jlist `exec_mode`, record `is_worker`).
    ExecMode {
        /// `cluster` or `fork`.
        equals: String,
    },
    /// Every process of the app has this status at the end (and there are `count` of them, if given).
    Status {
        /// Status name.
        #[serde(default = "online")]
        equals: String,
        /// How many.
        count: Option<CountExpr>,
    },
    /// Every worker listening during the load served at least one request.
    EveryInstanceServes {
        /// Which load.
        #[serde(default = "main_load")]
        load: String,
    },
    /// Each worker's share of the load is within `tolerance` (0.25 = ±25 %) of the mean.
    Fairness {
        /// Which load.
        #[serde(default = "main_load")]
        load: String,
        /// Allowed relative deviation from the mean.
        #[serde(default = "quarter")]
        tolerance: f64,
    },
    /// At most `max` requests of the load failed (refused, reset, timeout, 5xx, truncated).
    FailedRequests {
        /// Which load.
        #[serde(default = "main_load")]
        load: String,
        /// Maximum failures.
        #[serde(default)]
        max: u64,
    },
    /// No pid of snapshot `before` is in snapshot `after` (same pm_ids).
    AllPidsReplaced {
        /// Snapshot label.
        before: String,
        /// Snapshot label.
        after: String,
        /// App name (default: the scenario's app).
        app: Option<String>,
    },
    /// The pids of `app` are the same in both snapshots.
    PidsUnchanged {
        /// Snapshot label.
        before: String,
        /// Snapshot label.
        after: String,
        /// App name.
        app: Option<String>,
    },
    /// Each pm_id has the same instance value in both snapshots, and the record agrees for new pids.
    InstanceValuesKept {
        /// Snapshot label.
        before: String,
        /// Snapshot label.
        after: String,
    },
    /// The instance values of the live processes are `equals`, or 0..n-1 each exactly once.
    InstanceValues {
        /// Expected values (sorted); default 0..n-1.
        equals: Option<Vec<u32>>,
        /// Where to read.
        #[serde(default)]
        source: Source,
    },
    /// The variable is absent from every process (record), e.g. `NODE_APP_INSTANCE` once renamed.
    VarAbsent {
        /// Variable name (only `NODE_APP_INSTANCE` is recorded by the fixtures).
        var: String,
    },
    /// During the steps named `during`, at every moment at least one worker is listening (record).
    AtLeastOneListening {
        /// Step kind delimiting the window.
        #[serde(default = "reload")]
        during: String,
    },
    /// During the steps named `during`, at most one extra worker is alive at any moment (one at a time).
    OneAtATime {
        /// Step kind delimiting the window.
        #[serde(default = "reload")]
        during: String,
    },
    /// Every run of the step named `step` exited with `equals` (or non-zero if `nonzero`).
    ExitCode {
        /// Step kind.
        step: String,
        /// Expected code.
        equals: Option<i32>,
        /// Expect a non-zero code.
        #[serde(default)]
        nonzero: bool,
    },
    /// Every run of the step named `step` took between `min_ms` and `max_ms`.
    StepDuration {
        /// Step kind.
        step: String,
        /// Lower bound.
        min_ms: Option<u64>,
        /// Upper bound.
        max_ms: Option<u64>,
    },
    /// The first signal each stopped worker saw is `first`; with `kill_after_ms`, a worker that did not
    /// exit by itself died no earlier than that after it (minus `tolerance_ms`), and no later than `max_ms`.
    Signals {
        /// First signal (`SIGINT`, or `shutdown` for the message).
        #[serde(default = "sigint")]
        first: String,
        /// SIGKILL not before this many ms after the first signal.
        kill_after_ms: Option<u64>,
        /// Tolerance on `kill_after_ms`.
        #[serde(default = "t300")]
        tolerance_ms: u64,
        /// Death no later than this after the first signal.
        max_ms: Option<u64>,
    },
    /// Every request of a `stop-during-requests` / `reload-during-requests` burst that the app started
    /// (record `request-start`) was answered, and one was in flight when the stop or reload began;
    /// requests refused because the app had already closed its server do not count.
    InFlightCompleted {
        /// Which burst.
        #[serde(default = "slow")]
        name: String,
    },
    /// In every `jlist` sample, exactly one process of the app carries instance value 0.
    ExactlyOneInstanceZero {},
    /// No `jlist` sample shows a process `online` before its `ready` was sent (record).
    OnlineAfterReady {
        /// Tolerance, ms.
        #[serde(default = "t100")]
        tolerance_ms: u64,
    },
    /// Every worker told to stop (signal, or exit) during the steps named `during` was replaced first: a
    /// newer worker with the same instance value had sent `ready` (or listened, with `on = "listening"`) before.
    ReplacedAfterReady {
        /// Step kind delimiting the window.
        #[serde(default = "reload")]
        during: String,
        /// `ready` or `listening`.
        #[serde(default = "ready")]
        on: String,
    },
    /// The answers of a `requests` step show per-instance memory: no counter saw every request.
    PerInstanceState {
        /// Which `requests` step.
        #[serde(default = "main_load")]
        name: String,
    },
    /// The app's `restart_time` summed over its processes at the end is within `min`..=`max` (faults suite).
    Restarts {
        /// Lower bound.
        min: Option<i64>,
        /// Upper bound.
        max: Option<i64>,
    },
    /// Process starts in the record: at most `max_per_s` in any 1 s window, at most `max_total` in all,
    /// and none later than 1 s after the step named `quiet_after` ended (a crash loop that stops).
    StartRate {
        /// Starts allowed in any 1 s window.
        max_per_s: u32,
        /// Starts allowed in all.
        max_total: Option<u32>,
        /// Step kind after which no process may start.
        quiet_after: Option<String>,
    },
    /// No app process outlived the daemon `kill-daemon` killed (after its settle time).
    NoOrphans {},
    /// The logs `capture-logs` captured contain `text` (case-insensitive).
    LogsContain {
        /// The fragment.
        text: String,
    },
}

fn ready() -> String {
    "ready".to_string()
}

impl Check {
    /// The check's kebab-case name, as in the file.
    pub fn kind(&self) -> &'static str {
        match self {
            Check::InstanceCount { .. } => "instance-count",
            Check::ExecMode { .. } => "exec-mode",
            Check::Status { .. } => "status",
            Check::EveryInstanceServes { .. } => "every-instance-serves",
            Check::Fairness { .. } => "fairness",
            Check::FailedRequests { .. } => "failed-requests",
            Check::AllPidsReplaced { .. } => "all-pids-replaced",
            Check::PidsUnchanged { .. } => "pids-unchanged",
            Check::InstanceValuesKept { .. } => "instance-values-kept",
            Check::InstanceValues { .. } => "instance-values",
            Check::VarAbsent { .. } => "var-absent",
            Check::AtLeastOneListening { .. } => "at-least-one-listening",
            Check::OneAtATime { .. } => "one-at-a-time",
            Check::ExitCode { .. } => "exit-code",
            Check::StepDuration { .. } => "step-duration",
            Check::Signals { .. } => "signals",
            Check::InFlightCompleted { .. } => "in-flight-completed",
            Check::ExactlyOneInstanceZero {} => "exactly-one-instance-zero",
            Check::OnlineAfterReady { .. } => "online-after-ready",
            Check::PerInstanceState { .. } => "per-instance-state",
            Check::ReplacedAfterReady { .. } => "replaced-after-ready",
            Check::Restarts { .. } => "restarts",
            Check::StartRate { .. } => "start-rate",
            Check::NoOrphans {} => "no-orphans",
            Check::LogsContain { .. } => "logs-contain",
        }
    }
}
