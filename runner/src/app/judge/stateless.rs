//! `stateless`: flows replayed by virtual clients with consecutive steps on different instances.

use crate::app::client::Exchange;
use crate::app::finding::{Finding, FindingVerdict as V};
use crate::app::observe::Observed;
use crate::model::Level;

/// One virtual client's pass through a flow.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientRun {
    /// Its exchanges, one per step (stops at the first failed step).
    pub exchanges: Vec<Exchange>,
    /// Index of the step that failed, if any.
    pub failed_step: Option<usize>,
}

/// A flow replayed by many clients on N instances, and on one instance when it failed on N.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowRound {
    /// Flow name.
    pub name: String,
    /// Step labels (`POST /login`).
    pub steps: Vec<String>,
    /// Runs on N instances.
    pub many: Vec<ClientRun>,
    /// Runs on one instance (only when some run failed on N).
    pub single: Option<Vec<ClientRun>>,
}

/// `stateless`: every flow passes on N instances with consecutive steps landing on different
/// instances; a flow that fails on N and passes on one shows internal state.
pub fn stateless(flows: &[FlowRound], obs: &Observed, instances: usize) -> Finding {
    if flows.is_empty() {
        return Finding::new(
            "stateless",
            Level::Must,
            V::Skipped,
            vec!["no flow given (--flow FILE): nothing to replay across instances".into()],
        )
        .advise("Write a flow (`[[step]]` tables: log in, then read the session) and pass it with --flow, so conform can replay it with consecutive requests on different instances.");
    }
    let mut ev = Vec::new();
    let mut verdict = V::Pass;
    let mut cross_total = 0u64;
    let mut failed_total = 0u64;
    for f in flows {
        let pid = |e: &Exchange| obs.requests.get(&e.id).map(|r| r.pid);
        let (mut cross, mut pairs) = (0u64, 0u64);
        for c in &f.many {
            for w in c.exchanges.windows(2) {
                if let (Some(a), Some(b)) = (pid(&w[0]), pid(&w[1])) {
                    pairs += 1;
                    cross += u64::from(a != b);
                }
            }
        }
        cross_total += cross;
        let failed: Vec<&ClientRun> = f.many.iter().filter(|c| c.failed_step.is_some()).collect();
        failed_total += failed.len() as u64;
        ev.push(format!(
            "flow `{}`: {} clients on {instances} instances, {} failed; {cross} of {pairs} consecutive steps crossed instances",
            f.name,
            f.many.len(),
            failed.len()
        ));
        if let Some(c) = failed.first() {
            let i = c.failed_step.unwrap_or(0);
            let e = &c.exchanges[i];
            let got = e
                .status
                .map(|s| format!("status {s}"))
                .unwrap_or_else(|| e.outcome.to_string());
            let here = pid(e)
                .map(|p| format!("pid {p}"))
                .unwrap_or_else(|| "no instance".into());
            let before = c.exchanges[..i]
                .iter()
                .zip(&f.steps)
                .map(|(e, s)| {
                    format!(
                        "{s} on {}",
                        pid(e)
                            .map(|p| format!("pid {p}"))
                            .unwrap_or_else(|| "?".into())
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            ev.push(format!(
                "first failure: step {} `{}` got {got} on {here}, after {}",
                i + 1,
                f.steps.get(i).cloned().unwrap_or_default(),
                if before.is_empty() {
                    "nothing".into()
                } else {
                    before
                }
            ));
            match &f.single {
                Some(single) if single.iter().all(|c| c.failed_step.is_none()) => {
                    ev.push(format!(
                        "with --instances 1 all {} clients passed: the app keeps state in its processes",
                        single.len()
                    ));
                    verdict = V::Fail;
                }
                Some(single) => {
                    ev.push(format!(
                        "with --instances 1, {} of {} clients failed too: the flow itself fails, not the cluster",
                        single.iter().filter(|c| c.failed_step.is_some()).count(),
                        single.len()
                    ));
                    if verdict == V::Pass {
                        verdict = V::Error;
                    }
                }
                None => verdict = V::Fail,
            }
        } else if instances > 1 && cross == 0 && verdict == V::Pass {
            ev.push("no consecutive steps landed on different instances: statelessness was not exercised".into());
            verdict = V::Error;
        }
    }
    let mut f = Finding::new("stateless", Level::Must, verdict, ev)
        .fig("flows", flows.len() as f64)
        .fig("clients_failed", failed_total as f64)
        .fig("steps_crossing_instances", cross_total as f64);
    f = match verdict {
        V::Fail => f.advise("Keep sessions, caches and per-process rooms out of the process: use Redis or a database (e.g. express-session with connect-redis, @fastify/session with a store, koa-session with an external store) so any instance can answer any request. The guide: \"In the context of clustering, you first need to be sure that your application has no internal state.\""),
        V::Error => f.advise("Fix the flow so it passes against a single instance (check paths, methods, bodies and expect_status)."),
        _ => f,
    };
    f
}
