//! Goal evaluation: every goal of the issue listed, met / missed / not measured.

use super::*;
use crate::bench::figures::{Samples, TitleParams};
use crate::bench::table::build;

fn roles() -> Roles {
    Roles {
        pm2: Some("pm2-7.0.4".into()),
        refpm: Some("refpm".into()),
        refpm_policies: vec![
            ("rr".into(), "refpm (rr)".into()),
            ("shared".into(), "refpm (shared)".into()),
        ],
        node_none: Some("node cluster (none)".into()),
        node_rr: Some("node cluster (rr)".into()),
    }
}

fn subjects() -> Vec<String> {
    [
        "pm2-7.0.4",
        "refpm",
        "refpm (rr)",
        "refpm (shared)",
        "node cluster (rr)",
        "node cluster (none)",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn tables(s: &Samples) -> Vec<FigureTable> {
    let p = TitleParams {
        latency_rate: 1000,
        reload_rate: 2000,
        scale_apps: 100,
        sample_secs: 5.0,
    };
    build(s, &subjects(), &p)
}

fn find<'a>(r: &'a [GoalResult], id: &str) -> &'a GoalResult {
    r.iter()
        .find(|g| g.id == id)
        .unwrap_or_else(|| panic!("no goal {id}"))
}

#[test]
fn every_goal_of_the_issue_is_listed() {
    let ids: Vec<String> = specs(&roles()).into_iter().map(|g| g.id).collect();
    for id in [
        "newconn-vs-pm2",
        "newconn-vs-node-shared",
        "rr-vs-node-rr",
        "keepalive-vs-pm2-rr",
        "keepalive-vs-pm2-shared",
        "reload-zero-failed-rr",
        "reload-zero-failed-shared",
        "jlist-vs-pm2",
        "idle-rss-vs-pm2-rr",
        "idle-rss-vs-pm2-shared",
    ] {
        assert!(ids.contains(&id.to_string()), "missing {id}");
    }
    assert!(specs(&Roles::default()).is_empty());
}

#[test]
fn met_missed_and_not_measured() {
    let mut s = Samples::default();
    s.push(NEWCONN_MAX, "pm2-7.0.4", 5000.0);
    s.push(NEWCONN_MAX, "refpm (shared)", 15500.0);
    s.push(NEWCONN_MAX, "node cluster (none)", 20000.0);
    s.push(NEWCONN_MAX, "refpm (rr)", 10000.0);
    s.push(NEWCONN_MAX, "node cluster (rr)", 9000.0);
    s.push(NEWCONN_WRK, "refpm (shared)", 16000.0);
    s.push(NEWCONN_WRK, "pm2-7.0.4", 5000.0);
    s.push(CLI_JLIST, "pm2-7.0.4", 250.0);
    s.push(CLI_JLIST, "refpm", 12.5);
    s.push(RSS_IDLE, "pm2-7.0.4", 60.0);
    s.push(RSS_IDLE, "refpm (rr)", 6.1);
    for v in [0.0, 0.0, 0.0] {
        s.push(RELOAD_FAILED, "refpm (rr)", v);
    }
    for v in [0.0, 2.0, 0.0] {
        s.push(RELOAD_FAILED, "refpm (shared)", v);
        s.push(RELOAD_REQUESTS, "refpm (shared)", 1000.0);
    }
    let r = evaluate(&specs(&roles()), &tables(&s));
    let pm2 = find(&r, "newconn-vs-pm2");
    assert_eq!(pm2.status, Status::Met);
    assert_eq!(pm2.ratio, Some(3.1));
    assert!(
        pm2.cross_check.as_deref().unwrap().contains("3.20x"),
        "{:?}",
        pm2.cross_check
    );
    assert_eq!(find(&r, "newconn-vs-node-shared").status, Status::Missed); // 0.775 < 0.9
    assert_eq!(find(&r, "rr-vs-node-rr").status, Status::Missed); // 1.11 < 1.2
    assert_eq!(find(&r, "jlist-vs-pm2").status, Status::Met); // exactly 1/20
    assert_eq!(find(&r, "idle-rss-vs-pm2-rr").status, Status::Missed); // 6.1 > 6.0
    assert_eq!(find(&r, "reload-zero-failed-rr").status, Status::Met);
    let shared = find(&r, "reload-zero-failed-shared");
    assert_eq!(shared.status, Status::Missed);
    assert_eq!(shared.observed, "2 failed of 3000 requests over 3 reloads");
    // without a requests figure the count is left out
    assert_eq!(
        find(&r, "reload-zero-failed-rr").observed,
        "0 failed over 3 reloads"
    );
    assert_eq!(find(&r, "keepalive-vs-pm2-rr").status, Status::NotMeasured);
    assert_eq!(
        find(&r, "idle-rss-vs-pm2-shared").status,
        Status::NotMeasured
    );
    let text = render_text(&r);
    assert_eq!(text.lines().count(), r.len());
    assert!(text.contains("MISSED  0 failed requests during reloads (shared)"));
}

#[test]
fn missing_reference_is_not_measured() {
    let mut s = Samples::default();
    s.push(NEWCONN_MAX, "refpm (shared)", 15500.0);
    let mut ro = roles();
    ro.pm2 = None;
    let r = evaluate(&specs(&ro), &tables(&s));
    let g = find(&r, "newconn-vs-pm2");
    assert_eq!(g.status, Status::NotMeasured);
    assert_eq!(g.value, Some(15500.0));
    assert!(g.observed.contains("reference (none)"));
}
