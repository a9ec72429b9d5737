//! How binding a scenario is, where its promise is written, and what came of it.

use serde::{Deserialize, Serialize};

/// How binding a scenario is, as in RFC 2119 (`MUST`, `SHOULD`) plus `INFO` for measured-only scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    /// A failed check makes the run fail (exit 1).
    Must,
    /// A failed check gives `non-strict`; the run still passes.
    Should,
    /// Nothing is asserted; figures are recorded.
    Info,
}

/// Where the promise a scenario checks is written.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum PromiseSource {
    /// The cluster-mode guide's own sentence (the quote is from the guide).
    #[default]
    Guide,
    /// PM2's documented behaviour elsewhere: the graceful-shutdown tutorial the guide links, the
    /// ecosystem-file docs (the quote is from those pages).
    Pm2Docs,
    /// A policy of this kit where the docs are silent (the quote says what the kit expects and why).
    KitPolicy,
}

impl PromiseSource {
    /// Every source, in the order reports group them.
    pub const ALL: [PromiseSource; 3] = [
        PromiseSource::Guide,
        PromiseSource::Pm2Docs,
        PromiseSource::KitPolicy,
    ];

    /// The kebab-case name used in suites and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            PromiseSource::Guide => "guide",
            PromiseSource::Pm2Docs => "pm2-docs",
            PromiseSource::KitPolicy => "kit-policy",
        }
    }

    /// A heading for reports.
    pub fn title(self) -> &'static str {
        match self {
            PromiseSource::Guide => "the cluster-mode guide",
            PromiseSource::Pm2Docs => "PM2's documentation elsewhere",
            PromiseSource::KitPolicy => "kit policy",
        }
    }
}

/// The outcome of one scenario against one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Every check held.
    Pass,
    /// A check of a `MUST` scenario failed.
    Fail,
    /// A check of a `SHOULD` scenario failed.
    NonStrict,
    /// An `INFO` scenario ran; its figures are the result.
    Informational,
    /// The target lacks a feature the scenario needs (e.g. an unknown CLI option).
    Unsupported,
    /// The scenario could not run (infrastructure problem, not the target's behaviour).
    Error,
    /// The verdict varied across `--repeat` runs.
    Flaky,
}

impl Verdict {
    /// Every verdict, in the order reports list them.
    pub const ALL: [Verdict; 7] = [
        Verdict::Pass,
        Verdict::Fail,
        Verdict::NonStrict,
        Verdict::Informational,
        Verdict::Unsupported,
        Verdict::Error,
        Verdict::Flaky,
    ];

    /// The kebab-case name used in JSON, JUnit and the terminal.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::NonStrict => "non-strict",
            Verdict::Informational => "informational",
            Verdict::Unsupported => "unsupported",
            Verdict::Error => "error",
            Verdict::Flaky => "flaky",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
