//! Cross-references inside a scenario, typed and checked when the suite loads: a check names a load, a
//! snapshot, a step, a request or an app that some step of the same scenario must provide. A typo is a
//! diagnostic naming the file, line and key, never a run-time "not evaluated".

use super::{Check, Scenario, Step};
use std::collections::BTreeSet;

/// What a name refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    /// A `load` step's `name`.
    Load,
    /// A `snapshot` step's `label` (or `end`, taken automatically).
    Snapshot,
    /// A step kind that runs with a time span (`reload`, `stop`, `wait-status`, ...).
    Step,
    /// A `request-slow` step's `name`.
    Request,
    /// A `stop-during-requests` or `reload-during-requests` step's `name`.
    Burst,
    /// A `requests` step's `name`.
    Answers,
    /// The scenario's app or one of its `extra_apps`.
    App,
    /// A step of this kind must exist (`kill-daemon` for `no-orphans`).
    Needs,
}

impl RefKind {
    fn what(self) -> &'static str {
        match self {
            RefKind::Load => "load",
            RefKind::Snapshot => "snapshot",
            RefKind::Step => "step",
            RefKind::Request => "slow request",
            RefKind::Burst => "stop-during-requests or reload-during-requests burst",
            RefKind::Answers => "`requests` step",
            RefKind::App => "app",
            RefKind::Needs => "step",
        }
    }
}

/// One reference: the key it is written under, what it refers to, and the name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ref {
    /// The key in the file (`load`, `before`, `during`, ...).
    pub key: &'static str,
    /// What kind of thing it names.
    pub kind: RefKind,
    /// The name.
    pub name: String,
}

fn r(key: &'static str, kind: RefKind, name: &str) -> Ref {
    Ref {
        key,
        kind,
        name: name.to_string(),
    }
}

impl Step {
    /// The span kinds this step records (what `during`, `step` and `quiet_after` may name).
    pub fn span_kinds(&self) -> Vec<String> {
        match self {
            Step::Load { name, .. } => vec![format!("load:{name}")],
            Step::StopDuringRequests(_) => vec!["stop".into()],
            Step::ReloadDuringRequests(_) => vec!["reload".into()],
            Step::Start { .. }
            | Step::StartEcosystem { .. }
            | Step::Reload { .. }
            | Step::Restart { .. }
            | Step::Stop { .. }
            | Step::Delete { .. }
            | Step::Scale { .. }
            | Step::WaitOnline { .. }
            | Step::SwapFixture { .. }
            | Step::WaitStatus { .. }
            | Step::KillDaemon { .. }
            | Step::OccupyPort {}
            | Step::CaptureLogs { .. } => vec![self.kind().to_string()],
            _ => Vec::new(),
        }
    }

    /// The names this step refers to (a load it finishes, a request it awaits, an app it acts on).
    pub fn refs(&self) -> Vec<Ref> {
        match self {
            Step::LoadFinish { name } | Step::LoadStop { name } => {
                vec![r("name", RefKind::Load, name)]
            }
            Step::AwaitRequest { name } => vec![r("name", RefKind::Request, name)],
            Step::StartEcosystem { only: Some(o), .. } | Step::Reload { only: Some(o), .. } => {
                vec![r("only", RefKind::App, o)]
            }
            _ => Vec::new(),
        }
    }
}

impl Check {
    /// The names this check refers to.
    pub fn refs(&self) -> Vec<Ref> {
        use RefKind::*;
        match self {
            Check::EveryInstanceServes { load }
            | Check::Fairness { load, .. }
            | Check::FailedRequests { load, .. } => vec![r("load", Load, load)],
            Check::AllPidsReplaced { before, after, app }
            | Check::PidsUnchanged { before, after, app } => {
                let mut v = vec![r("before", Snapshot, before), r("after", Snapshot, after)];
                if let Some(a) = app {
                    v.push(r("app", App, a));
                }
                v
            }
            Check::InstanceValuesKept { before, after } => {
                vec![r("before", Snapshot, before), r("after", Snapshot, after)]
            }
            Check::AtLeastOneListening { during }
            | Check::OneAtATime { during }
            | Check::ReplacedAfterReady { during, .. } => vec![r("during", Step, during)],
            Check::ExitCode { step, .. } | Check::StepDuration { step, .. } => {
                vec![r("step", Step, step)]
            }
            Check::StartRate {
                quiet_after: Some(q),
                ..
            } => vec![r("quiet_after", Step, q)],
            Check::InFlightCompleted { name } => vec![r("name", Burst, name)],
            Check::PerInstanceState { name } => vec![r("name", Answers, name)],
            Check::NoOrphans {} => vec![r("check", Needs, "kill-daemon")],
            Check::LogsContain { .. } => vec![r("check", Needs, "capture-logs")],
            Check::ExactlyOneInstanceZero {} | Check::OnlineAfterReady { .. } => {
                vec![r("check", Needs, "sample")]
            }
            _ => Vec::new(),
        }
    }

    /// A problem with this check's own values (not its references), as (key, message).
    pub fn problem(&self) -> Option<(&'static str, String)> {
        match self {
            Check::ExitCode {
                equals: None,
                nonzero: false,
                ..
            } => Some((
                "equals",
                "`exit-code` needs an expectation: `equals = N` or `nonzero = true`".into(),
            )),
            Check::ExitCode {
                equals: Some(e),
                nonzero: true,
                ..
            } => Some((
                "nonzero",
                format!("`exit-code` has both `equals = {e}` and `nonzero = true`"),
            )),
            Check::ReplacedAfterReady { on, .. } if on != "ready" && on != "listening" => Some((
                "on",
                format!("`on` must be `ready` or `listening`, not `{on}`"),
            )),
            Check::StepDuration {
                min_ms: None,
                max_ms: None,
                ..
            } => Some((
                "step",
                "`step-duration` needs `min_ms`, `max_ms` or both".into(),
            )),
            _ => None,
        }
    }
}

/// What a scenario's steps provide, by kind.
#[derive(Debug, Default)]
struct Provided {
    loads: BTreeSet<String>,
    snapshots: BTreeSet<String>,
    spans: BTreeSet<String>,
    requests: BTreeSet<String>,
    bursts: BTreeSet<String>,
    answers: BTreeSet<String>,
    apps: BTreeSet<String>,
    steps: BTreeSet<String>,
}

impl Provided {
    fn of(sc: &Scenario) -> Self {
        let mut p = Provided {
            snapshots: ["end".to_string()].into(),
            apps: std::iter::once(sc.app.name.clone())
                .chain(sc.extra_apps.iter().map(|x| x.name.clone()))
                .collect(),
            ..Provided::default()
        };
        for s in &sc.steps {
            p.spans.extend(s.span_kinds());
            p.steps.insert(s.kind().to_string());
            match s {
                Step::Load { name, .. } => drop(p.loads.insert(name.clone())),
                Step::Snapshot { label } => drop(p.snapshots.insert(label.clone())),
                Step::RequestSlow { name, .. } => drop(p.requests.insert(name.clone())),
                Step::StopDuringRequests(b) | Step::ReloadDuringRequests(b) => {
                    p.bursts.insert(b.name.clone());
                }
                Step::Requests { name, .. } => drop(p.answers.insert(name.clone())),
                _ => {}
            }
        }
        p
    }

    fn set(&self, k: RefKind) -> &BTreeSet<String> {
        match k {
            RefKind::Load => &self.loads,
            RefKind::Snapshot => &self.snapshots,
            RefKind::Step => &self.spans,
            RefKind::Request => &self.requests,
            RefKind::Burst => &self.bursts,
            RefKind::Answers => &self.answers,
            RefKind::App => &self.apps,
            RefKind::Needs => &self.steps,
        }
    }
}

/// A broken reference or value: the key, the offending value (to point at) and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefError {
    /// The key at fault.
    pub key: &'static str,
    /// Where to point in the file: `key = "value"` as written.
    pub at: (&'static str, String),
    /// What is wrong.
    pub message: String,
}

/// Checks every cross-reference and check value of a scenario; the first problem found.
pub fn validate(sc: &Scenario) -> Result<(), RefError> {
    let p = Provided::of(sc);
    let known = |k: RefKind| {
        let s = p.set(k);
        if s.is_empty() {
            "none in this scenario".to_string()
        } else {
            format!(
                "known: {}",
                s.iter().cloned().collect::<Vec<_>>().join(", ")
            )
        }
    };
    let refs = sc
        .steps
        .iter()
        .map(|s| (s.kind(), s.refs()))
        .chain(sc.expect.iter().map(|c| (c.kind(), c.refs())));
    for (who, refs) in refs {
        for rf in refs {
            if p.set(rf.kind).contains(&rf.name) {
                continue;
            }
            let message = if rf.kind == RefKind::Needs {
                format!(
                    "`{who}` needs a `{}` step, and this scenario has none",
                    rf.name
                )
            } else {
                format!(
                    "`{who}` refers to {} `{}`, which no step of this scenario provides ({})",
                    rf.kind.what(),
                    rf.name,
                    known(rf.kind)
                )
            };
            return Err(RefError {
                key: rf.key,
                // a missing step is pointed at by the check that needs it
                at: if rf.kind == RefKind::Needs {
                    ("check", who.to_string())
                } else {
                    (rf.key, rf.name)
                },
                message,
            });
        }
    }
    for c in &sc.expect {
        if let Some((key, message)) = c.problem() {
            return Err(RefError {
                key,
                at: ("check", c.kind().to_string()),
                message,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn scenario(steps: &str, expect: &str) -> Scenario {
        let text = format!(
            "id = \"x/y\"\nquote = \"q\"\nsource = \"guide\"\nlevel = \"MUST\"\nfixture = \"http\"\nsteps = [{steps}]\nexpect = [{expect}]\n"
        );
        toml::from_str(&text).expect("valid scenario")
    }

    #[rstest]
    #[case(
        "{ do = \"reload\" }",
        "{ check = \"exit-code\", step = \"reload\", equals = 0 }"
    )]
    #[case(
        "{ do = \"load\", rate = 1, duration_ms = 1 }",
        "{ check = \"failed-requests\" }"
    )]
    #[case(
        "{ do = \"snapshot\", label = \"b\" }",
        "{ check = \"pids-unchanged\", before = \"b\", after = \"end\" }"
    )]
    #[case(
        "{ do = \"stop-during-requests\" }",
        "{ check = \"exit-code\", step = \"stop\", equals = 0 }"
    )]
    fn valid_references(#[case] steps: &str, #[case] expect: &str) {
        assert_eq!(validate(&scenario(steps, expect)), Ok(()));
    }

    #[rstest]
    #[case(
        "{ do = \"reload\" }",
        "{ check = \"exit-code\", step = \"relaod\", equals = 0 }",
        "step"
    )]
    #[case(
        "{ do = \"reload\" }",
        "{ check = \"exit-code\", step = \"reload\" }",
        "equals"
    )]
    #[case(
        "{ do = \"load\", rate = 1, duration_ms = 1 }",
        "{ check = \"fairness\", load = \"mian\" }",
        "load"
    )]
    #[case("{ do = \"load-stop\", name = \"x\" }", "", "name")]
    #[case(
        "{ do = \"snapshot\", label = \"b\" }",
        "{ check = \"all-pids-replaced\", before = \"b\", after = \"a\" }",
        "after"
    )]
    #[case(
        "{ do = \"snapshot\", label = \"b\" }",
        "{ check = \"all-pids-replaced\", before = \"b\", after = \"end\", app = \"nope\" }",
        "app"
    )]
    #[case("{ do = \"reload\", on = \"ecosystem\", only = \"nope\" }", "", "only")]
    #[case(
        "{ do = \"reload\" }",
        "{ check = \"at-least-one-listening\", during = \"restart\" }",
        "during"
    )]
    #[case("", "{ check = \"no-orphans\" }", "check")]
    #[case("", "{ check = \"in-flight-completed\" }", "name")]
    fn broken_references(#[case] steps: &str, #[case] expect: &str, #[case] key: &str) {
        let e = validate(&scenario(steps, expect)).expect_err("must be rejected");
        assert_eq!(e.key, key, "{}", e.message);
    }
}
