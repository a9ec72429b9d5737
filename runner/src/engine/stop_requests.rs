//! Requests fired while the app is being stopped or reloaded, so one is always in flight when a
//! process is told to stop.

use super::ctx::{Abort, Ctx};
use super::steps::fixture_protocol;
use crate::suite::Burst;
use crate::target::Verb;
use std::time::Duration;

impl Ctx {
    /// Runs `<target> <verb> <app>` (`stop`, `reload`) while a slow request is fired every `every_ms`
    /// until it returns; the burst's answers are kept under its name.
    pub(super) async fn act_during_requests(
        &mut self,
        burst: &Burst,
        verb: Verb,
    ) -> Result<(), Abort> {
        let (port, proto) = (self.port, fixture_protocol(&self.sc.fixture));
        let (path, timeout, every) = (
            burst.path.to_string(),
            Duration::from_millis(burst.timeout_ms),
            Duration::from_millis(burst.every_ms),
        );
        let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
        let firing = tokio::spawn(async move {
            let mut handles = Vec::new();
            loop {
                let path = path.clone();
                handles.push(tokio::spawn(async move {
                    crate::load::probe(proto, "127.0.0.1", port, &path, timeout).await
                }));
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = stop_rx.changed() => break,
                }
            }
            handles
        });
        // let the first request reach the app before the command is issued
        let _ = tokio::time::timeout(self.scaled(3000), async {
            while !super::record::read(&self.record, self.origin_epoch_ms)
                .iter()
                .any(|e| e.event == "request-start")
            {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        let v = vec![self.sc.app.name.clone()];
        let kind = match verb {
            Verb::Reload => "reload",
            _ => "stop",
        };
        let out = self.cli(kind, verb, &v, burst.command_timeout_ms).await;
        let _ = stop_tx.send(true);
        let handles = firing.await.unwrap_or_default();
        let mut results = Vec::new();
        for h in handles {
            if let Ok(r) = h.await {
                results.push(r);
            }
        }
        self.bursts.insert(burst.name.to_string(), results);
        out.map(|_| ())
    }
}
