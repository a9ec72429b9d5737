//! What is measured, on what, in which order: the subjects (targets, per-policy rows of refpm, and
//! the reference rows without a manager) and the ordered list of steps the runner executes.
//!
//! Every section visits its subjects in the alternating order of [`super::schedule::alternating`]
//! (A B A B …), so slow drift of the machine falls on every subject alike.

use super::schedule::alternating;

/// Label of the single plain node process reference row.
pub const NODE_PLAIN: &str = "node (1 process)";
/// Label of Node's cluster in round-robin mode.
pub const NODE_RR: &str = "node cluster (rr)";
/// Label of Node's cluster in shared-handle mode.
pub const NODE_NONE: &str = "node cluster (none)";

/// What runs the fixture app for a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectKind {
    /// A PM2-compatible target (index into the target list), with an optional `--lb-policy`.
    Manager {
        /// Index of the target.
        target: usize,
        /// `--lb-policy` value given on `start`, if any.
        policy: Option<String>,
    },
    /// `node fixtures/http.js`, one process.
    NodePlain,
    /// `node fixtures/bench/node-cluster.js` with `NODE_CLUSTER_SCHED_POLICY` set to this (`rr`, `none`).
    NodeCluster(&'static str),
}

/// One row of the throughput table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// Row label.
    pub label: String,
    /// What runs the app.
    pub kind: SubjectKind,
}

/// Whether a target takes refpm's `--lb-policy` (then each policy is a row of its own).
pub fn has_lb_policies(label: &str) -> bool {
    label.starts_with("refpm")
}

/// The throughput subjects: each target (each policy of refpm as its own row), then the reference rows.
pub fn subjects(target_labels: &[String]) -> Vec<Subject> {
    let mut v = Vec::new();
    for (i, label) in target_labels.iter().enumerate() {
        if has_lb_policies(label) {
            for p in ["rr", "shared"] {
                v.push(Subject {
                    label: format!("{label} ({p})"),
                    kind: SubjectKind::Manager {
                        target: i,
                        policy: Some(p.to_string()),
                    },
                });
            }
        } else {
            v.push(Subject {
                label: label.clone(),
                kind: SubjectKind::Manager {
                    target: i,
                    policy: None,
                },
            });
        }
    }
    v.push(Subject {
        label: NODE_PLAIN.into(),
        kind: SubjectKind::NodePlain,
    });
    v.push(Subject {
        label: NODE_RR.into(),
        kind: SubjectKind::NodeCluster("rr"),
    });
    v.push(Subject {
        label: NODE_NONE.into(),
        kind: SubjectKind::NodeCluster("none"),
    });
    v
}

/// A section of the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// Throughput, latency, supervisor memory and CPU on one subject (`-i 2`).
    Throughput,
    /// This many reloads under load (`-i 4`) on one manager subject.
    Reload(usize),
    /// CLI latency on one target.
    Cli,
    /// Scale (N apps × 4 processes) on one target.
    Scale,
    /// A full `conform run` against one target.
    FullRun,
}

/// One step the runner executes: a section on one subject (throughput/reload) or target (the others).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// What to measure.
    pub section: Section,
    /// Round number, from 0.
    pub round: usize,
    /// Index into [`subjects`] (throughput, reload) or into the target list (cli, scale, run).
    pub index: usize,
}

/// Knobs that shape the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanInput {
    /// Rounds of the throughput and CLI sections.
    pub rounds: usize,
    /// Reloads per manager subject in total (spread over the rounds).
    pub reloads: usize,
    /// Whether to add the full `conform run` section.
    pub with_run: bool,
}

/// Splits `total` into `parts` near-equal positive chunks (the first ones one larger); fewer parts when
/// `total < parts`.
pub fn split(total: usize, parts: usize) -> Vec<usize> {
    let parts = parts.min(total);
    (0..parts)
        .map(|i| total / parts + usize::from(i < total % parts))
        .collect()
}

/// The ordered steps: throughput rounds, reload rounds, CLI rounds, then scale and the full run once
/// per target; each section alternates over its subjects within every round.
pub fn plan(subjects: &[Subject], targets: usize, input: &PlanInput) -> Vec<Step> {
    let mut steps = Vec::new();
    for s in alternating(subjects.len(), input.rounds) {
        steps.push(Step {
            section: Section::Throughput,
            round: s.round,
            index: s.target,
        });
    }
    let managers: Vec<usize> = subjects
        .iter()
        .enumerate()
        .filter(|(_, s)| matches!(s.kind, SubjectKind::Manager { .. }))
        .map(|(i, _)| i)
        .collect();
    let chunks = split(input.reloads, input.rounds.max(1));
    for s in alternating(managers.len(), chunks.len()) {
        steps.push(Step {
            section: Section::Reload(chunks[s.round]),
            round: s.round,
            index: managers[s.target],
        });
    }
    for s in alternating(targets, input.rounds) {
        steps.push(Step {
            section: Section::Cli,
            round: s.round,
            index: s.target,
        });
    }
    for s in alternating(targets, 1) {
        steps.push(Step {
            section: Section::Scale,
            round: 0,
            index: s.target,
        });
    }
    if input.with_run {
        for s in alternating(targets, 1) {
            steps.push(Step {
                section: Section::FullRun,
                round: 0,
                index: s.target,
            });
        }
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Vec<String> {
        vec!["pm2-7.0.4".into(), "refpm".into()]
    }

    #[test]
    fn refpm_gets_a_row_per_policy_and_references_come_last() {
        let s = subjects(&labels());
        let names: Vec<&str> = s.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(
            names,
            [
                "pm2-7.0.4",
                "refpm (rr)",
                "refpm (shared)",
                NODE_PLAIN,
                NODE_RR,
                NODE_NONE
            ]
        );
        assert_eq!(
            s[2].kind,
            SubjectKind::Manager {
                target: 1,
                policy: Some("shared".into())
            }
        );
        assert_eq!(
            s[0].kind,
            SubjectKind::Manager {
                target: 0,
                policy: None
            }
        );
        assert_eq!(s[5].kind, SubjectKind::NodeCluster("none"));
    }

    #[test]
    fn splits_reloads_over_rounds() {
        assert_eq!(split(10, 3), vec![4, 3, 3]);
        assert_eq!(split(2, 3), vec![1, 1]);
        assert_eq!(split(0, 3), Vec::<usize>::new());
        assert_eq!(split(10, 1), vec![10]);
    }

    #[test]
    fn every_section_alternates_its_subjects() {
        let s = subjects(&labels());
        let steps = plan(
            &s,
            2,
            &PlanInput {
                rounds: 3,
                reloads: 10,
                with_run: true,
            },
        );
        let of = |want: fn(&Section) -> bool| -> Vec<(usize, usize)> {
            steps
                .iter()
                .filter(|x| want(&x.section))
                .map(|x| (x.round, x.index))
                .collect()
        };
        let tp = of(|s| *s == Section::Throughput);
        assert_eq!(tp.len(), 3 * 6);
        // A B C … A B C …: round r visits 0..6 in order before round r+1 starts
        for (i, (round, idx)) in tp.iter().enumerate() {
            assert_eq!((*round, *idx), (i / 6, i % 6));
        }
        let rl: Vec<(usize, usize, usize)> = steps
            .iter()
            .filter_map(|x| match x.section {
                Section::Reload(n) => Some((x.round, x.index, n)),
                _ => None,
            })
            .collect();
        // managers only (pm2, refpm rr, refpm shared), alternating, 4+3+3 reloads each
        assert_eq!(
            rl,
            vec![
                (0, 0, 4),
                (0, 1, 4),
                (0, 2, 4),
                (1, 0, 3),
                (1, 1, 3),
                (1, 2, 3),
                (2, 0, 3),
                (2, 1, 3),
                (2, 2, 3)
            ]
        );
        assert_eq!(
            of(|s| *s == Section::Cli),
            vec![(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1)]
        );
        assert_eq!(of(|s| *s == Section::Scale), vec![(0, 0), (0, 1)]);
        assert_eq!(of(|s| *s == Section::FullRun), vec![(0, 0), (0, 1)]);
        // sections come in order: throughput, reload, cli, scale, run
        let first =
            |want: fn(&Section) -> bool| steps.iter().position(|x| want(&x.section)).unwrap();
        assert!(first(|s| *s == Section::Throughput) < first(|s| matches!(s, Section::Reload(_))));
        assert!(first(|s| matches!(s, Section::Reload(_))) < first(|s| *s == Section::Cli));
        assert!(first(|s| *s == Section::Cli) < first(|s| *s == Section::Scale));
    }

    #[test]
    fn no_run_section_without_the_flag() {
        let s = subjects(&["refpm".to_string()]);
        let steps = plan(
            &s,
            1,
            &PlanInput {
                rounds: 1,
                reloads: 2,
                with_run: false,
            },
        );
        assert!(steps.iter().all(|x| x.section != Section::FullRun));
        assert_eq!(
            steps
                .iter()
                .filter(|x| x.section == Section::Reload(2))
                .count(),
            2
        );
    }
}
