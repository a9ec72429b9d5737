//! A finding about the user's app: id, level, verdict, evidence with figures, and advice quoting the guide.

use crate::model::{Figures, Level};
use serde::{Deserialize, Serialize};

/// How a finding came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingVerdict {
    /// The app keeps the promise.
    Pass,
    /// The app breaks it (a MUST finding: exit 1).
    Fail,
    /// Measured only (INFO findings).
    Info,
    /// Not judged: nothing to judge it on (no flow given) or an earlier finding failed.
    Skipped,
    /// Could not be judged (the flow fails even on one instance, the load could not run...).
    Error,
}

impl FindingVerdict {
    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingVerdict::Pass => "pass",
            FindingVerdict::Fail => "fail",
            FindingVerdict::Info => "info",
            FindingVerdict::Skipped => "skipped",
            FindingVerdict::Error => "error",
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// `cluster-start`, `distribution`, `stateless`, `reload`, `graceful-shutdown`, `wait-ready`,
    /// `instance-var`.
    pub id: String,
    /// `MUST` or `INFO`.
    pub level: Level,
    /// The verdict.
    pub verdict: FindingVerdict,
    /// What was seen, one sentence per fact, with figures.
    pub evidence: Vec<String>,
    /// The numbers, timelines and worker lifetimes behind the evidence.
    pub figures: Figures,
    /// What to change (quoting the guide); empty when there is nothing to change.
    pub advice: String,
    /// The guide's sentence this finding checks.
    pub quote: String,
}

impl Finding {
    /// A finding with the verdict and evidence; advice is attached only when it did not pass.
    pub fn new(id: &str, level: Level, verdict: FindingVerdict, evidence: Vec<String>) -> Finding {
        Finding {
            id: id.to_string(),
            level,
            verdict,
            evidence,
            figures: Figures::default(),
            advice: String::new(),
            quote: quote(id).to_string(),
        }
    }

    /// Sets a figure.
    pub fn fig(mut self, name: &str, v: f64) -> Finding {
        self.figures.values.insert(name.to_string(), v);
        self
    }

    /// Sets the advice.
    pub fn advise(mut self, advice: impl Into<String>) -> Finding {
        self.advice = advice.into();
        self
    }

    /// Whether this finding fails the run (exit 1): a MUST finding that failed or could not be judged.
    pub fn fails_run(&self) -> bool {
        self.level == Level::Must
            && matches!(self.verdict, FindingVerdict::Fail | FindingVerdict::Error)
    }
}

/// The guide's sentence behind each finding.
pub fn quote(id: &str) -> &'static str {
    match id {
        "cluster-start" => {
            "The built-in load-balancer provides networked Node.js applications (http(s)/tcp/udp server) to be scaled across all CPUs available, without any code modifications."
        }
        "distribution" => {
            "The built-in load-balancer provides networked Node.js applications (http(s)/tcp/udp server) to be scaled across all CPUs available, without any code modifications."
        }
        "stateless" => {
            "In the context of clustering, you first need to be sure that your application has no internal state. An internal state is typically some local data stored into its processes. It can be an array of websocket connections or a local session-memory for example. Use Redis or other databases instead to share the states between processes."
        }
        "reload" => {
            "To be sure that all requests are properly handled in a reload, you need to be sure that your application shutdown, not leaving unanswered requests."
        }
        "graceful-shutdown" => {
            "A graceful shutdown makes sure to handle all remaining queries before exiting the application and closes all external connections."
        }
        "wait-ready" => "Graceful Start & Shutdown",
        "instance-var" => {
            "For example, if you want to run a cronjob only on one cluster, you can check if process.env.NODE_APP_INSTANCE === '0'."
        }
        _ => "",
    }
}
