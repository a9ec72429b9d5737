//! Requests fired while the app is being stopped, so one is always in flight when it is told to stop.

use super::ctx::{Abort, Ctx};
use super::steps::{CMD_MS, fixture_protocol};
use std::time::Duration;

impl Ctx {
    /// Runs `<target> stop <app>` while a slow request is fired every `every_ms` until it returns.
    pub(super) async fn stop_during_requests(
        &mut self,
        name: &str,
        every_ms: u64,
        path: &str,
        timeout_ms: u64,
    ) -> Result<(), Abort> {
        let (port, proto) = (self.port, fixture_protocol(&self.sc.fixture));
        let (path, timeout, every) = (
            path.to_string(),
            Duration::from_millis(timeout_ms),
            Duration::from_millis(every_ms),
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
        // let the first request reach the app before the stop is issued
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
        let out = self
            .cli("stop", crate::target::Verb::Stop, &v, CMD_MS)
            .await;
        let _ = stop_tx.send(true);
        let handles = firing.await.unwrap_or_default();
        let mut results = Vec::new();
        for h in handles {
            if let Ok(r) = h.await {
                results.push(r);
            }
        }
        self.bursts.insert(name.to_string(), results);
        out.map(|_| ())
    }
}
