//! The balancer's I/O thread: one current-thread tokio runtime that runs every accept loop and IPC
//! channel of cluster mode, so a connection's accept, hand-off and reply never cross threads.

/// The balancer's I/O thread; stopped when the balancer is dropped.
pub(super) struct IoThread {
    pub(super) handle: Option<tokio::runtime::Handle>,
    pub(super) stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl IoThread {
    pub(super) fn start() -> Self {
        let (htx, hrx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let spawned = std::thread::Builder::new()
            .name("refpm-balancer".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        tracing::warn!(
                            "balancer runtime: {e}; cluster i/o runs on the caller's runtime"
                        );
                        return;
                    }
                };
                let _ = htx.send(rt.handle().clone());
                rt.block_on(async {
                    let _ = stopped.await;
                });
            });
        let handle = spawned.ok().and_then(|_| hrx.recv().ok());
        IoThread {
            handle,
            stop: Some(stop),
        }
    }
}
