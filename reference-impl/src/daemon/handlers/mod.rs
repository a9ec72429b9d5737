//! One handler per verb of [`crate::protocol::Command`], plus the shared target resolution and the
//! per-id action loop (PM2's `_operate`).

pub mod kill;
pub mod operate;
pub mod scale;
pub mod start;

use std::sync::Arc;

use super::Daemon;
use super::host::Host;
use crate::protocol::{Command, Response, Verb};

/// Runs one command; the bool asks the server to exit after replying (`kill`).
pub async fn dispatch(d: &Arc<Daemon>, cmd: Command) -> (Response, bool) {
    match cmd {
        Command::Ping => {
            let mut r = Response::ok();
            r.out("{ msg: 'pong' }");
            (r, false)
        }
        Command::Exists { target } => {
            let mut r = Response::ok();
            r.found = !d.table().resolve(&target).is_empty();
            (r, false)
        }
        Command::List => {
            let mut r = Response::ok();
            r.list = Some(d.jlist());
            (r, false)
        }
        Command::Start(req) => (start::start(d, req).await, false),
        Command::Stop(req) => (operate::operate(d, Verb::Stop, req).await, false),
        Command::Restart(req) => (operate::operate(d, Verb::Restart, req).await, false),
        Command::Reload(req) => (operate::operate(d, Verb::Reload, req).await, false),
        Command::Delete(req) => (operate::operate(d, Verb::Delete, req).await, false),
        Command::Scale(req) => (scale::scale(d, req).await, false),
        Command::Kill => (kill::kill(d).await, true),
    }
}
