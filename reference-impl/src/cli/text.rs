//! PM2's user-facing text for the daemon's typed replies: the only place that writes the `[PM2]`
//! lines of `start`, `stop`, `restart`, `reload`, `delete`, `scale`, `kill` and `ping`.

use crate::protocol::reply::ReloadWarning;
use crate::protocol::{Event, RequestError};

/// Where a line goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Line {
    /// To stdout.
    Out(String),
    /// To stderr.
    Err(String),
}

/// `ping`'s answer.
pub(crate) const PONG: &str = "{ msg: 'pong' }";

/// The line of one event.
pub(crate) fn event(ev: &Event) -> Line {
    match ev {
        Event::Applying { verb, label, ids } => {
            let shown: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
            Line::Out(format!(
                "[PM2] Applying action {} on app [{label}](ids: [ {} ])",
                verb.rpc(),
                shown.join(", ")
            ))
        }
        Event::Done { name, id } => Line::Out(format!("[PM2] [{name}]({id}) \u{2713}")),
        Event::Failed { message } => Line::Err(format!("[PM2][ERROR] {message}")),
        Event::ReloadWarning(w) => Line::Err(reload_warning(w)),
        Event::NotFound { target } => Line::Err(not_found(target)),
        Event::StartingMissing { names } => Line::Err(format!(
            "[PM2][WARN] Applications {} not running, starting...",
            names.join(", ")
        )),
        Event::Starting {
            script,
            exec_mode,
            instances,
        } => {
            let plural = if *instances == 1 { "" } else { "s" };
            Line::Out(format!(
                "[PM2] Starting {} in {} ({instances} instance{plural})",
                script.display(),
                exec_mode.as_str(),
            ))
        }
        Event::Started => Line::Out("[PM2] Done.".into()),
        Event::AlreadyLaunched => Line::Err(
            "[PM2][ERROR] Script already launched, add -f option to force re-execution".into(),
        ),
        Event::TooManyInstances {
            asked,
            limit,
            scale: false,
        } => Line::Err(format!(
            "[PM2][ERROR] -i/--instances: {asked} is more than the limit of {limit}"
        )),
        Event::TooManyInstances {
            asked,
            limit,
            scale: true,
        } => Line::Err(format!(
            "[PM2][ERROR] scale: {asked} instances is more than the limit of {limit}"
        )),
        Event::LaunchFailed { errors } => Line::Err(format!(
            "[PM2][ERROR] Process failed to launch: {}",
            errors.join("; ")
        )),
        Event::AppNotFound { name } => {
            Line::Err(format!("[PM2][ERROR] Application {name} not found"))
        }
        Event::NothingToDo => Line::Err("[PM2][ERROR] Nothing to do".into()),
        Event::ScalingUp => Line::Out("[PM2] Scaling up application".into()),
    }
}

/// PM2's "not found" for a target string.
fn not_found(target: &str) -> String {
    if target == "all" {
        return "[PM2][WARN] No process found".into();
    }
    if target.parse::<u32>().is_ok() {
        // PM2 7.0.4 prints the daemon's message for an unknown id.
        return format!("[PM2][ERROR] {target} : id unknown");
    }
    format!("[PM2][ERROR] Process or Namespace {target} not found")
}

fn reload_warning(w: &ReloadWarning) -> String {
    match w {
        ReloadWarning::NoReadyMessage {
            name,
            pm_id,
            listen_timeout,
        } => format!(
            "[PM2][WARN] {name} (id {pm_id}): no 'ready' message within listen_timeout ({listen_timeout}ms); it is listening, proceeding"
        ),
        ReloadWarning::NotReady {
            name,
            pm_id,
            listen_timeout,
        } => format!(
            "[PM2][WARN] {name} (id {pm_id}): not ready within listen_timeout ({listen_timeout}ms), proceeding as PM2 does (the old worker did not listen either)"
        ),
    }
}

/// `kill`'s lines, whether a daemon answered (`stopped` processes) or none ran (0).
pub(crate) fn killed(stopped: usize) -> Vec<Line> {
    let mut v = vec![];
    if stopped == 0 {
        v.push(Line::Err("[PM2][WARN] No process found".into()));
    }
    v.push(Line::Out("[PM2] [v] All Applications Stopped".into()));
    v.push(Line::Out("[PM2] [v] PM2 Daemon Stopped".into()));
    v
}

/// The line of a refused request.
pub(crate) fn refused(e: &RequestError) -> Line {
    Line::Err(format!("[PM2][ERROR] {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Verb;
    use rstest::rstest;

    #[rstest]
    #[case::all("all", "[PM2][WARN] No process found")]
    #[case::id("42", "[PM2][ERROR] 42 : id unknown")]
    #[case::name("web", "[PM2][ERROR] Process or Namespace web not found")]
    fn not_found_reads_as_pm2s(#[case] target: &str, #[case] want: &str) {
        let ev = Event::NotFound {
            target: target.into(),
        };
        assert_eq!(event(&ev), Line::Err(want.into()));
    }

    /// Each event reads exactly as the daemon wrote it before the replies were typed.
    #[rstest]
    #[case::done(Event::Done { name: "web".into(), id: 2 }, Line::Out("[PM2] [web](2) \u{2713}".into()))]
    #[case::failed(Event::Failed { message: "2 : id unknown".into() }, Line::Err("[PM2][ERROR] 2 : id unknown".into()))]
    #[case::missing(Event::StartingMissing { names: vec!["a".into(), "b".into()] }, Line::Err("[PM2][WARN] Applications a, b not running, starting...".into()))]
    #[case::starting_one(Event::Starting { script: "/s/app.js".into(), exec_mode: crate::config::ExecMode::ForkMode, instances: 1 }, Line::Out("[PM2] Starting /s/app.js in fork_mode (1 instance)".into()))]
    #[case::starting_max(Event::Starting { script: "/s/app.js".into(), exec_mode: crate::config::ExecMode::ClusterMode, instances: 0 }, Line::Out("[PM2] Starting /s/app.js in cluster_mode (0 instances)".into()))]
    #[case::started(Event::Started, Line::Out("[PM2] Done.".into()))]
    #[case::already(Event::AlreadyLaunched, Line::Err("[PM2][ERROR] Script already launched, add -f option to force re-execution".into()))]
    #[case::too_many_start(Event::TooManyInstances { asked: 5000, limit: 4096, scale: false }, Line::Err("[PM2][ERROR] -i/--instances: 5000 is more than the limit of 4096".into()))]
    #[case::too_many_scale(Event::TooManyInstances { asked: 5000, limit: 4096, scale: true }, Line::Err("[PM2][ERROR] scale: 5000 instances is more than the limit of 4096".into()))]
    #[case::launch_failed(Event::LaunchFailed { errors: vec!["id 0: x".into(), "id 1: y".into()] }, Line::Err("[PM2][ERROR] Process failed to launch: id 0: x; id 1: y".into()))]
    #[case::app_not_found(Event::AppNotFound { name: "web".into() }, Line::Err("[PM2][ERROR] Application web not found".into()))]
    #[case::nothing(Event::NothingToDo, Line::Err("[PM2][ERROR] Nothing to do".into()))]
    #[case::scaling(Event::ScalingUp, Line::Out("[PM2] Scaling up application".into()))]
    #[case::no_ready(Event::ReloadWarning(ReloadWarning::NoReadyMessage { name: "web".into(), pm_id: 1, listen_timeout: 3000 }), Line::Err("[PM2][WARN] web (id 1): no 'ready' message within listen_timeout (3000ms); it is listening, proceeding".into()))]
    #[case::not_ready(Event::ReloadWarning(ReloadWarning::NotReady { name: "web".into(), pm_id: 1, listen_timeout: 3000 }), Line::Err("[PM2][WARN] web (id 1): not ready within listen_timeout (3000ms), proceeding as PM2 does (the old worker did not listen either)".into()))]
    fn events_read_as_before(#[case] ev: Event, #[case] want: Line) {
        assert_eq!(event(&ev), want);
    }

    #[test]
    fn applying_lists_the_ids_as_pm2() {
        let ev = Event::Applying {
            verb: Verb::Restart,
            label: "web".into(),
            ids: vec![0, 1],
        };
        assert_eq!(
            event(&ev),
            Line::Out("[PM2] Applying action restartProcessId on app [web](ids: [ 0, 1 ])".into())
        );
    }

    #[test]
    fn kill_warns_only_when_nothing_ran() {
        assert_eq!(killed(0).len(), 3);
        assert_eq!(killed(2).len(), 2);
    }
}
