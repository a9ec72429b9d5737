//! Keep-alive resets judged on hand-made records: each cause, and who it is put on.

use super::keepalive::{KEEPALIVE_ADVICE, ResetCause as C, Resets, reset_cause};
use super::{ReloadRound, Stopped, reload};
use crate::app::client::Exchange;
use crate::app::finding::FindingVerdict as V;
use crate::app::observe::Observed;
use crate::load::Outcome;

const WALL0: f64 = 1_000_000.0;

/// A request whose first attempt (`first`, on reused port 9, sent at 1000 ms) was reset before any
/// answer and retried on a new connection with success.
fn retried(first: &str) -> Exchange {
    Exchange {
        id: format!("{first}-retry"),
        retried_id: Some(first.into()),
        outcome: Outcome::Ok,
        status: Some(200),
        set_cookies: Vec::new(),
        local_port: Some(10),
        retried_port: Some(9),
        sent_ms: 1000.0,
        latency_ms: 2.0,
    }
}

/// Worker 1 with a SIGINT handler and connection 9 accepted at 100 ms, plus `more` lines.
fn rec(more: &[&str]) -> Observed {
    let mut lines = vec![
        r#"{"ev":"start","pid":1,"t":1000000,"worker":true}"#,
        r#"{"ev":"handler","pid":1,"t":1000001,"on":"SIGINT"}"#,
        r#"{"ev":"conn","pid":1,"t":1000100,"rport":9}"#,
    ];
    lines.extend_from_slice(more);
    Observed::parse(&lines.join("\n"))
}

fn gone(ms: f64) -> Vec<Stopped> {
    vec![Stopped {
        pid: 1,
        gone_ms: Some(ms),
    }]
}

#[test]
fn each_cause_from_the_record() {
    let e = retried("a");
    let cause = |o: &Observed, old: &[Stopped]| reset_cause(&e, o, WALL0, old, 1600.0);
    // answered after SIGINT with keep-alive, then closed: the app's drain
    let o = rec(&[
        r#"{"ev":"signal","pid":1,"t":1000900,"signal":"SIGINT"}"#,
        r#"{"ev":"req","pid":1,"t":1000500,"id":"x","rport":9}"#,
        r#"{"ev":"res","pid":1,"t":1000990,"id":"x","status":200,"close":false}"#,
        r#"{"ev":"conn-end","pid":1,"t":1000995,"rport":9}"#,
    ]);
    assert_eq!(cause(&o, &[]), Some(C::AppClosedAfterKeepAlive));
    // idle since before SIGINT, closed at it: nobody's fault
    let o = rec(&[
        r#"{"ev":"req","pid":1,"t":1000500,"id":"x","rport":9}"#,
        r#"{"ev":"res","pid":1,"t":1000600,"id":"x","status":200,"close":false}"#,
        r#"{"ev":"signal","pid":1,"t":1000990,"signal":"SIGINT"}"#,
        r#"{"ev":"conn-end","pid":1,"t":1000995,"rport":9}"#,
    ]);
    assert_eq!(cause(&o, &[]), Some(C::IdleClosedAtStop));
    // closed without any signal by an instance that ended: the manager's cluster disconnect
    let o = rec(&[
        r#"{"ev":"conn-end","pid":1,"t":1000995,"rport":9}"#,
        r#"{"ev":"exit","pid":1,"t":1001200,"code":0}"#,
    ]);
    assert_eq!(cause(&o, &[]), Some(C::ManagerNoSignal));
    // the same on an instance that kept serving: its keep-alive timeout
    let o = rec(&[r#"{"ev":"conn-end","pid":1,"t":1000995,"rport":9}"#]);
    assert_eq!(cause(&o, &[]), Some(C::IdleTimeout));
    // the app read it and never answered
    let o = rec(&[r#"{"ev":"req","pid":1,"t":1000999,"id":"a","rport":9}"#]);
    assert_eq!(cause(&o, &[]), Some(C::AppDropped));
    // exited after SIGINT with the connection open
    let o = rec(&[
        r#"{"ev":"signal","pid":1,"t":1000990,"signal":"SIGINT"}"#,
        r#"{"ev":"exit","pid":1,"t":1000991,"code":0}"#,
    ]);
    assert_eq!(cause(&o, &[]), Some(C::AppExited));
    // killed 300 ms after SIGINT (kill_timeout 1600): the manager; at 1610 ms: the app's slow drain
    let o = rec(&[r#"{"ev":"signal","pid":1,"t":1000700,"signal":"SIGINT"}"#]);
    assert_eq!(cause(&o, &gone(1000.0)), Some(C::ManagerKilledEarly));
    assert_eq!(cause(&o, &gone(2310.0)), Some(C::AppDrainTooLong));
    // no SIGINT handler: the signal's default action
    let o = Observed::parse(
        r#"{"ev":"start","pid":1,"t":1000000,"worker":true}
{"ev":"conn","pid":1,"t":1000100,"rport":9}"#,
    );
    assert_eq!(cause(&o, &gone(1000.0)), Some(C::AppNoHandler));
    // never reached the app
    assert_eq!(
        cause(&Observed::default(), &[]),
        Some(C::ManagerNeverDelivered)
    );
    // not a reset at all
    let mut plain = retried("a");
    plain.retried_id = None;
    assert_eq!(reset_cause(&plain, &o, WALL0, &[], 1600.0), None);
}

fn round(keep_alive: Vec<Exchange>, old: Vec<Stopped>) -> ReloadRound {
    ReloadRound {
        new_conn: Vec::new(),
        keep_alive,
        reload: (500.0, 900.0, Some(0)),
        old,
        kill_timeout_ms: 1600.0,
    }
}

#[test]
fn a_manager_killing_a_draining_app_early_is_named_and_the_app_gets_no_advice() {
    // the app answered after SIGINT with `Connection: close` and was killed 300 ms later
    let o = rec(&[
        r#"{"ev":"signal","pid":1,"t":1000700,"signal":"SIGINT"}"#,
        r#"{"ev":"req","pid":1,"t":1000650,"id":"x","rport":8}"#,
        r#"{"ev":"res","pid":1,"t":1000800,"id":"x","status":200,"close":true}"#,
    ]);
    let f = reload(
        &round(vec![retried("a")], gone(1000.0)),
        &o,
        WALL0,
        "pm2-7.0.4",
        false,
    );
    assert_eq!(f.verdict, V::Pass, "{:?}", f.evidence);
    assert!(
        f.evidence.iter().any(|e| e.contains(
            "1 keep-alive reset(s) caused by the manager (pm2-7.0.4), not the app; the app drained correctly"
        )),
        "{:?}",
        f.evidence
    );
    assert_eq!(f.figures.values["keepalive_resets_manager"], 1.0);
    assert_eq!(f.advice, "");
}

#[test]
fn an_app_closing_after_keep_alive_answers_gets_the_advice_and_a_dropped_request_fails() {
    let o = rec(&[
        r#"{"ev":"signal","pid":1,"t":1000900,"signal":"SIGINT"}"#,
        r#"{"ev":"req","pid":1,"t":1000500,"id":"x","rport":9}"#,
        r#"{"ev":"res","pid":1,"t":1000990,"id":"x","status":200,"close":false}"#,
        r#"{"ev":"conn-end","pid":1,"t":1000995,"rport":9}"#,
    ]);
    let f = reload(
        &round(vec![retried("a")], Vec::new()),
        &o,
        WALL0,
        "m",
        false,
    );
    assert_eq!(f.verdict, V::Pass);
    assert_eq!(f.advice, KEEPALIVE_ADVICE);
    assert_eq!(f.figures.values["keepalive_resets_app"], 1.0);
    let r = Resets::count(&[retried("a")], &o, WALL0, &[], 1600.0);
    assert_eq!((r.by_app(), r.by_manager()), (1, 0));
    // a first attempt the app read and never answered is a lost request, retry or not
    let o = rec(&[r#"{"ev":"req","pid":1,"t":1000999,"id":"a","rport":9}"#]);
    let f = reload(
        &round(vec![retried("a")], Vec::new()),
        &o,
        WALL0,
        "m",
        false,
    );
    assert_eq!(f.verdict, V::Fail, "{:?}", f.evidence);
    assert_eq!(f.figures.values["failed_app"], 1.0);
}
