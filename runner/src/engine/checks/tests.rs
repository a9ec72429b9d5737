//! The checks are pure functions of an [`Observed`]: each broken promise below is built by hand and must
//! fail its check, and the kept promise beside it must pass (a check that cannot fail is a defect).

use super::evaluate;
use crate::engine::observed::{AppRecord, Observed, Sample, Snapshot, StepSpan};
use crate::engine::record::{RecEvent, Worker};
use crate::suite::Check;
use crate::target::Proc;
use rstest::rstest;
use serde_json::json;

fn w(pid: u32, inst: &str, start: f64, signal: Option<f64>, end: Option<f64>) -> Worker {
    Worker {
        pid,
        instance: Some(inst.to_string()),
        is_worker: true,
        start,
        listening: Some(start + 5.0),
        ready: Some(start + 5.0),
        first_signal: signal.map(|t| (t, "SIGINT".to_string())),
        signals: signal
            .map(|_| vec!["SIGINT".to_string()])
            .unwrap_or_default(),
        exit: end,
        ..Worker::default()
    }
}

fn p(pid: u32, pm_id: i64, inst: &str) -> Proc {
    Proc {
        name: "app".into(),
        pm_id: Some(pm_id),
        pid,
        status: "online".into(),
        exec_mode: "cluster_mode".into(),
        instance: Some(inst.into()),
        restart_time: 0,
        env: json!({}),
    }
}

fn snap(t: f64, procs: Vec<Proc>) -> Snapshot {
    Snapshot {
        t_start: t,
        t_end: t + 10.0,
        procs,
    }
}

fn span(kind: &str, start: f64, end: f64) -> StepSpan {
    StepSpan {
        kind: kind.into(),
        start,
        end,
        exit: Some(0),
    }
}

/// Two workers replaced by a restart at 100–200 ms, snapshots `before` (50) and `after` (300).
fn restarted() -> Observed {
    let workers = vec![
        w(1, "0", 0.0, Some(120.0), Some(121.0)),
        w(2, "1", 0.0, Some(120.0), Some(122.0)),
        w(3, "0", 130.0, None, None),
        w(4, "1", 131.0, None, None),
    ];
    Observed {
        app: "app".into(),
        expected_instances: 2,
        cpus: 2,
        scale: 1.0,
        record: AppRecord {
            events: Vec::new(),
            workers,
        },
        snapshots: [
            (
                "before".into(),
                snap(50.0, vec![p(1, 0, "0"), p(2, 1, "1")]),
            ),
            (
                "after".into(),
                snap(300.0, vec![p(3, 0, "0"), p(4, 1, "1")]),
            ),
            ("end".into(), snap(400.0, vec![p(3, 0, "0"), p(4, 1, "1")])),
        ]
        .into(),
        spans: vec![span("restart", 100.0, 200.0)],
        ..Observed::default()
    }
}

fn check(toml_line: &str) -> Check {
    #[derive(serde::Deserialize)]
    struct One {
        c: Check,
    }
    toml::from_str::<One>(&format!("c = {toml_line}"))
        .expect("a check")
        .c
}

fn passes(c: &str, obs: &Observed) -> bool {
    evaluate(&check(c), obs).result.passed
}

const REPLACED: &str = r#"{ check = "all-pids-replaced", before = "before", after = "after" }"#;
const KEPT: &str = r#"{ check = "instance-values-kept", before = "before", after = "after" }"#;
const VALUES: &str = r#"{ check = "instance-values" }"#;

#[test]
fn a_real_restart_passes() {
    let o = restarted();
    for c in [REPLACED, KEPT, VALUES] {
        let e = evaluate(&check(c), &o);
        assert!(e.result.passed, "{c}: {:?}", e.result);
    }
}

#[test]
fn a_restart_that_does_nothing_while_jlist_claims_new_pids_fails() {
    let mut o = restarted();
    // the processes were never told to stop and nothing new started: jlist invents pids 3 and 4
    o.record.workers = vec![w(1, "0", 0.0, None, None), w(2, "1", 0.0, None, None)];
    assert!(!passes(REPLACED, &o));
}

#[rstest]
#[case::duplicated_value(vec![w(3, "0", 130.0, None, None), w(4, "0", 131.0, None, None)])]
#[case::value_lost(vec![w(3, "0", 130.0, None, None), w(4, "2", 131.0, None, None)])]
fn instance_values_judged_by_the_record_even_when_jlist_is_right(#[case] new: Vec<Worker>) {
    let mut o = restarted();
    o.record.workers.truncate(2);
    o.record.workers.extend(new);
    assert!(!passes(KEPT, &o));
    assert!(!passes(VALUES, &o));
}

#[test]
fn a_jlist_lying_about_instance_values_fails() {
    let mut o = restarted();
    // the processes saw 0 and 1; jlist says 1 and 0 for them
    for l in ["after", "end"] {
        o.snapshots.get_mut(l).unwrap().procs = vec![p(3, 0, "1"), p(4, 1, "0")];
    }
    o.snapshots.get_mut("before").unwrap().procs = vec![p(1, 0, "1"), p(2, 1, "0")];
    assert!(!passes(KEPT, &o));
    assert!(!passes(VALUES, &o));
}

#[test]
fn instance_values_are_sized_by_the_scenario_not_by_jlist() {
    let mut o = restarted();
    o.expected_instances = 3;
    assert!(!passes(VALUES, &o));
}

#[test]
fn a_jlist_lying_about_status_fails() {
    let mut o = restarted();
    // jlist says online, but the record shows both processes gone
    for x in &mut o.record.workers[2..] {
        x.exit = Some(350.0);
    }
    assert!(!passes(
        r#"{ check = "status", equals = "online", count = 2 }"#,
        &o
    ));
}

fn stop_scene(second_signal_at: Option<f64>, end: f64) -> Observed {
    let mut x = w(1, "0", 0.0, Some(100.0), None);
    x.exit = None;
    x.death = Some(end);
    let mut events = vec![RecEvent {
        event: "signal".into(),
        t: 100.0,
        pid: 1,
        raw: json!({"signal": "SIGINT"}),
    }];
    if let Some(t) = second_signal_at {
        x.signals.push("SIGTERM".into());
        events.push(RecEvent {
            event: "signal".into(),
            t,
            pid: 1,
            raw: json!({"signal": "SIGTERM"}),
        });
    }
    // the second worker is stopped correctly: SIGINT, then SIGKILL at kill_timeout
    let mut y = w(2, "1", 0.0, Some(100.0), None);
    y.death = Some(3110.0);
    Observed {
        app: "app".into(),
        scale: 1.0,
        record: AppRecord {
            events,
            workers: vec![x, y],
        },
        spans: vec![span("stop", 90.0, 3200.0)],
        ..Observed::default()
    }
}

const SIGNALS: &str = r#"{ check = "signals", first = "SIGINT", kill_after_ms = 3000, tolerance_ms = 300, max_ms = 6000 }"#;

#[rstest]
#[case::sigint_then_sigkill_at_kill_timeout(None, 3100.0, true)]
// SIGTERM 50 ms after SIGINT
#[case::sigterm_soon_after_sigint(Some(150.0), 3100.0, false)]
// killed at once
#[case::sigkill_too_early(None, 200.0, false)]
fn signals_judge_every_worker_and_the_timing(
    #[case] second: Option<f64>,
    #[case] end: f64,
    #[case] ok: bool,
) {
    let o = stop_scene(second, end);
    assert_eq!(passes(SIGNALS, &o), ok);
}

#[test]
fn signals_judge_a_worker_that_never_got_one() {
    let mut o = stop_scene(None, 3100.0);
    // SIGKILL at kill_timeout, but without any SIGINT first
    o.record.workers[1].first_signal = None;
    o.record.workers[1].signals.clear();
    assert!(!passes(SIGNALS, &o));
}

#[test]
fn replaced_after_ready_never_matches_two_missing_instance_values() {
    let mut old = w(1, "0", 0.0, Some(150.0), Some(151.0));
    old.instance = None;
    let mut new = w(2, "0", 100.0, None, None);
    new.instance = None;
    let o = Observed {
        record: AppRecord {
            events: Vec::new(),
            workers: vec![old, new],
        },
        spans: vec![span("reload", 90.0, 200.0)],
        ..Observed::default()
    };
    assert!(!passes(r#"{ check = "replaced-after-ready" }"#, &o));
}

#[test]
fn instance_zero_missing_from_the_record_fails_even_if_every_sample_shows_one() {
    let mut o = restarted();
    // instance 0's old process died at 121 ms, its replacement started at 130 ms
    o.samples = (0..5)
        .map(|i| Sample {
            t_start: f64::from(i) * 50.0,
            t_end: f64::from(i) * 50.0 + 5.0,
            procs: Ok(vec![p(if i < 3 { 1 } else { 3 }, 0, "0")]),
        })
        .collect();
    let e = evaluate(&check(r#"{ check = "exactly-one-instance-zero" }"#), &o);
    assert!(!e.result.passed, "{:?}", e.result);
    assert!(e.result.observed.contains("no process with instance 0"));
}

#[test]
fn failed_samples_are_reported() {
    let mut o = restarted();
    o.samples = vec![
        Sample {
            t_start: 0.0,
            t_end: 5.0,
            procs: Ok(vec![p(1, 0, "0")]),
        },
        Sample {
            t_start: 10.0,
            t_end: 20.0,
            procs: Err("`jlist` did not answer within 10000 ms".into()),
        },
    ];
    let e = evaluate(&check(r#"{ check = "exactly-one-instance-zero" }"#), &o);
    assert!(
        e.result.observed.contains("1 samples failed"),
        "{:?}",
        e.result
    );
    assert_eq!(e.figures.get("samples_failed"), Some(&1.0));
}

#[test]
fn restarts_judged_by_the_record_and_cross_checked() {
    let mut o = restarted();
    // the record shows no restart (2 processes, 2 values); jlist claims one
    o.record.workers.truncate(2);
    for x in &mut o.record.workers {
        x.first_signal = None;
        x.exit = None;
    }
    o.snapshots.get_mut("end").unwrap().procs[0].restart_time = 1;
    assert!(!passes(r#"{ check = "restarts", min = 1, max = 1 }"#, &o));
    o.snapshots.get_mut("end").unwrap().procs[0].restart_time = 0;
    assert!(passes(r#"{ check = "restarts", min = 0, max = 0 }"#, &o));
}

#[test]
fn exit_code_without_an_expectation_never_passes() {
    let o = restarted();
    assert!(!passes(r#"{ check = "exit-code", step = "restart" }"#, &o));
    assert!(passes(
        r#"{ check = "exit-code", step = "restart", equals = 0 }"#,
        &o
    ));
}

fn ev(event: &str, t: f64, pid: u32) -> RecEvent {
    RecEvent {
        event: event.into(),
        t,
        pid,
        raw: json!({}),
    }
}

/// A reload at 100–900 ms while slow requests ran: three started before it on the old worker (pid 1),
/// `ended` of them finished, and the client got `answered` answers.
fn reload_burst(ended: usize, answered: usize, reload_at: f64) -> Observed {
    use crate::load::Outcome;
    let mut events = vec![
        ev("request-start", 10.0, 1),
        ev("request-start", 60.0, 1),
        ev("request-start", 90.0, 1),
    ];
    events.extend((0..ended).map(|i| ev("request-end", 2000.0 + i as f64, 1)));
    let results = (0..3)
        .map(|i| {
            if i < answered {
                Ok((1, None))
            } else {
                Err(Outcome::Reset)
            }
        })
        .collect();
    Observed {
        app: "app".into(),
        record: AppRecord {
            events,
            workers: vec![w(1, "0", 0.0, Some(2100.0), Some(2101.0))],
        },
        bursts: [("slow".to_string(), results)].into(),
        spans: vec![span("reload", reload_at, reload_at + 800.0)],
        ..Observed::default()
    }
}

#[rstest]
#[case::every_request_answered(3, 3, 100.0, true)]
#[case::old_worker_killed_mid_request(1, 1, 100.0, false)]
#[case::nothing_in_flight_when_told_to_stop(3, 3, 5.0, false)]
fn in_flight_completed_needs_every_started_request_answered_and_one_in_flight(
    #[case] ended: usize,
    #[case] answered: usize,
    #[case] reload_at: f64,
    #[case] pass: bool,
) {
    let obs = reload_burst(ended, answered, reload_at);
    assert_eq!(passes(r#"{ check = "in-flight-completed" }"#, &obs), pass);
}
