//! The findings judged on hand-made records: attribution of lost requests (app vs manager), the reload
//! rule for old instances, graceful shutdown, statelessness.

use super::*;
use crate::app::client::Exchange;
use crate::app::finding::FindingVerdict as V;
use crate::app::observe::Observed;
use crate::load::Outcome;

fn ex(id: &str, port: u16, sent: f64, outcome: Outcome, status: Option<u16>) -> Exchange {
    Exchange {
        id: id.into(),
        retried_id: None,
        outcome,
        status,
        set_cookies: Vec::new(),
        local_port: Some(port),
        retried_port: None,
        sent_ms: sent,
        latency_ms: 1.0,
    }
}

fn obs(lines: &[&str]) -> Observed {
    Observed::parse(&lines.join("\n"))
}

const WALL0: f64 = 1_000_000.0;

#[test]
fn a_request_the_app_never_saw_is_the_managers() {
    let o = obs(&[
        r#"{"ev":"start","pid":1,"t":1000000,"worker":true}"#,
        r#"{"ev":"conn","pid":1,"t":1000100,"rport":40001}"#,
        r#"{"ev":"req","pid":1,"t":1000101,"id":"a"}"#,
    ]);
    let started = ex("a", 40001, 100.0, Outcome::Reset, None);
    let accepted = ex("b", 40001, 100.0, Outcome::Reset, None);
    let never = ex("c", 40002, 100.0, Outcome::Refused, None);
    assert_eq!(blame(&started, &o, WALL0), Blame::AppStarted);
    assert_eq!(blame(&accepted, &o, WALL0), Blame::AppAccepted);
    assert_eq!(blame(&never, &o, WALL0), Blame::Manager);
}

fn round(new_conn: Vec<Exchange>) -> ReloadRound {
    ReloadRound {
        new_conn,
        keep_alive: Vec::new(),
        reload: (500.0, 900.0, Some(0)),
        old: Vec::new(),
        kill_timeout_ms: 1600.0,
    }
}

#[test]
fn reload_losses_by_cause() {
    // pid 1 is an old instance (started before the reload at 500 ms), pid 2 a new one
    let o = obs(&[
        r#"{"ev":"start","pid":1,"t":1000000,"worker":true}"#,
        r#"{"ev":"start","pid":2,"t":1000600,"worker":true}"#,
        r#"{"ev":"req","pid":1,"t":1000550,"id":"old"}"#,
        r#"{"ev":"req","pid":2,"t":1000700,"id":"new"}"#,
        r#"{"ev":"res","pid":2,"t":1000701,"id":"new","status":503}"#,
    ]);
    let ok = ex("ok", 1, 10.0, Outcome::Ok, Some(200));
    let lost_old = ex("old", 2, 550.0, Outcome::Reset, None);
    let manager = ex("gone", 3, 560.0, Outcome::Refused, None);
    // only the manager lost one: the app passes, the evidence names the manager
    let f = reload(
        &round(vec![ok.clone(), manager.clone()]),
        &o,
        WALL0,
        "pm2-7.0.4",
        false,
    );
    assert_eq!(f.verdict, V::Pass);
    assert!(
        f.evidence
            .iter()
            .any(|e| e.contains("the manager (pm2-7.0.4), not the app")),
        "{:?}",
        f.evidence
    );
    assert_eq!(f.figures.values["failed_manager"], 1.0);
    // an old instance ending with a request in flight: reload fails unless graceful-shutdown did
    let r = round(vec![ok.clone(), lost_old.clone()]);
    assert_eq!(reload(&r, &o, WALL0, "m", false).verdict, V::Fail);
    let f = reload(&r, &o, WALL0, "m", true);
    assert_eq!(f.verdict, V::Pass, "{:?}", f.evidence);
    assert_eq!(f.figures.values["failed_app_old_instance_ended"], 1.0);
    // a new instance answering 5xx is the reload's own failure either way
    let five = ex("new", 4, 700.0, Outcome::Status5xx, Some(503));
    assert_eq!(
        reload(&round(vec![ok, five]), &o, WALL0, "m", true).verdict,
        V::Fail
    );
    // a reload the manager could not finish leaves the app unjudged
    let mut r = round(Vec::new());
    r.reload.2 = Some(1);
    assert_eq!(reload(&r, &o, WALL0, "m", false).verdict, V::Error);
}

fn shutdown_round(in_flight: Vec<Exchange>, idle: Vec<u16>) -> ShutdownRound {
    ShutdownRound {
        in_flight,
        idle,
        stop: (1000.0, 2000.0),
        instances: vec![Stopped {
            pid: 1,
            gone_ms: Some(1900.0),
        }],
        kill_timeout_ms: 1600.0,
    }
}

#[test]
fn graceful_needs_answers_an_own_exit_and_closed_connections() {
    let good = obs(&[
        r#"{"ev":"start","pid":1,"t":1000000,"worker":true}"#,
        r#"{"ev":"handler","pid":1,"t":1000001,"on":"SIGINT"}"#,
        r#"{"ev":"conn","pid":1,"t":1000500,"rport":7}"#,
        r#"{"ev":"conn","pid":1,"t":1000900,"rport":8}"#,
        r#"{"ev":"req","pid":1,"t":1000901,"id":"s1"}"#,
        r#"{"ev":"signal","pid":1,"t":1001000,"signal":"SIGINT"}"#,
        r#"{"ev":"conn-end","pid":1,"t":1001001,"rport":7}"#,
        r#"{"ev":"res","pid":1,"t":1001500,"id":"s1","status":200}"#,
        r#"{"ev":"conn-end","pid":1,"t":1001501,"rport":8}"#,
        r#"{"ev":"exit","pid":1,"t":1001502,"code":0}"#,
    ]);
    let answered = ex("s1", 8, 900.0, Outcome::Ok, Some(200));
    let f = graceful(
        &shutdown_round(vec![answered.clone()], vec![7]),
        &good,
        WALL0,
    );
    assert_eq!(f.verdict, V::Pass, "{:?}", f.evidence);
    assert_eq!(f.figures.values["exit_after_sigint_ms_max"], 502.0);
    // exit at once: the request in flight is lost and the connections are cut
    let now = obs(&[
        r#"{"ev":"start","pid":1,"t":1000000,"worker":true}"#,
        r#"{"ev":"conn","pid":1,"t":1000500,"rport":7}"#,
        r#"{"ev":"req","pid":1,"t":1000901,"id":"s1"}"#,
        r#"{"ev":"signal","pid":1,"t":1001000,"signal":"SIGINT"}"#,
        r#"{"ev":"exit","pid":1,"t":1001001,"code":0}"#,
    ]);
    let lost = ex("s1", 8, 900.0, Outcome::Reset, None);
    let f = graceful(&shutdown_round(vec![lost], vec![7]), &now, WALL0);
    assert_eq!(f.verdict, V::Fail);
    assert_eq!(f.figures.values["in_flight_lost"], 1.0);
    // no exit of its own: killed at kill_timeout
    let killed = obs(&[
        r#"{"ev":"start","pid":1,"t":1000000,"worker":true}"#,
        r#"{"ev":"handler","pid":1,"t":1000001,"on":"SIGINT"}"#,
        r#"{"ev":"conn","pid":1,"t":1000500,"rport":7}"#,
        r#"{"ev":"signal","pid":1,"t":1001000,"signal":"SIGINT"}"#,
    ]);
    let f = graceful(&shutdown_round(Vec::new(), Vec::new()), &killed, WALL0);
    assert_eq!(f.verdict, V::Fail);
    assert!(
        f.evidence
            .iter()
            .any(|e| e.contains("did not exit by itself")),
        "{:?}",
        f.evidence
    );
}

#[test]
fn stateless_fails_only_when_one_instance_passes() {
    let o = obs(&[
        r#"{"ev":"req","pid":1,"t":1,"id":"l"}"#,
        r#"{"ev":"req","pid":2,"t":2,"id":"m"}"#,
    ]);
    let failed = ClientRun {
        exchanges: vec![
            ex("l", 1, 1.0, Outcome::Ok, Some(200)),
            ex("m", 2, 2.0, Outcome::Ok, Some(401)),
        ],
        failed_step: Some(1),
    };
    let passed = ClientRun {
        exchanges: Vec::new(),
        failed_step: None,
    };
    let flow = |single: Vec<ClientRun>| FlowRound {
        name: "login".into(),
        steps: vec!["POST /login".into(), "GET /me".into()],
        many: vec![failed.clone()],
        single: Some(single),
    };
    let f = stateless(&[flow(vec![passed.clone()])], &o, 2);
    assert_eq!(f.verdict, V::Fail);
    assert!(
        f.evidence
            .iter()
            .any(|e| e
                .contains("step 2 `GET /me` got status 401 on pid 2, after POST /login on pid 1")),
        "{:?}",
        f.evidence
    );
    assert_eq!(
        stateless(&[flow(vec![failed.clone()])], &o, 2).verdict,
        V::Error
    );
    assert_eq!(stateless(&[], &o, 2).verdict, V::Skipped);
}
