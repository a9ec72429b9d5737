//! One handler per verb of [`crate::protocol::Command`], each returning typed data (a [`Reply`]);
//! the CLI turns it into PM2's text. `start` may restart existing apps through `operate`; apps a
//! config-file restart/reload finds missing are started here, so the two never call each other back.

pub mod kill;
pub mod operate;
pub mod scale;
pub mod start;

use std::sync::Arc;

use super::Daemon;
use super::host::Host;
use crate::protocol::{Command, Event, Reply, StartRequest, Verb};

/// Runs one command; the bool asks the server to exit after replying (`kill`).
pub async fn dispatch(d: &Arc<Daemon>, cmd: Command) -> (Reply, bool) {
    let reply = match cmd {
        Command::Ping => Reply::Pong,
        Command::Exists { target } => Reply::Exists {
            found: !d.table().resolve(&target).is_empty(),
        },
        Command::List => Reply::List {
            processes: d.jlist(),
        },
        Command::Start(req) => Reply::Report(start::start(d, req).await),
        Command::Operate { action, request } => {
            let caller_env = request.caller_env.clone();
            let operate::Operated {
                mut report,
                missing,
            } = operate::operate(d, action, request).await;
            if !missing.is_empty() {
                let names = missing.iter().map(|a| a.name.clone()).collect();
                report.push(Event::StartingMissing { names });
                let sub = start::start(
                    d,
                    StartRequest {
                        apps: missing,
                        force: false,
                        from_file: true,
                        caller_env,
                    },
                )
                .await;
                report.extend(sub);
            }
            if !report.failed && action != Verb::Reload {
                report.processes = Some(d.jlist());
            }
            Reply::Report(report)
        }
        Command::Scale(req) => Reply::Report(scale::scale(d, req).await),
        Command::Kill => {
            return (
                Reply::Killed {
                    stopped: kill::stop_everything(d).await,
                },
                true,
            );
        }
    };
    (reply, false)
}
