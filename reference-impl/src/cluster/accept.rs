//! The accept loop of one round-robin listener: accepts in batches while the dispatcher can take
//! connections, and stops accepting (leaving the rest to the kernel's backlog) when it cannot.

use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::unix::AsyncFd;

use super::dispatch::Dispatcher;
use super::sockets;

/// Fewest accepted connections the daemon queues before it stops accepting.
const QUEUE_MIN: usize = 256;
/// Most accepted connections the daemon queues before it stops accepting.
const QUEUE_CAP: usize = 65536;

/// Accepted connections kept in the daemon before it stops accepting: half the fd limit (within
/// [`QUEUE_MIN`]..=[`QUEUE_CAP`]). Like Node's primary (which accepts until `EAGAIN`), the daemon drains
/// the kernel's accept queue while its workers are busy: a connection waiting here is served late, but
/// once the listen backlog (511) is full the kernel drops new SYNs and clients retry only after 1 s, 3 s,
/// 7 s, so a short overload would turn into connections that time out before they are even accepted.
pub(super) fn queue_max() -> usize {
    static MAX: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *MAX.get_or_init(|| {
        let soft = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
            .map(|(soft, _)| soft)
            .unwrap_or(0);
        usize::try_from(soft / 2)
            .unwrap_or(QUEUE_CAP)
            .clamp(QUEUE_MIN, QUEUE_CAP)
    })
}
/// Connections accepted per wake-up before dispatching them.
const ACCEPT_BATCH: usize = 64;

pub(super) async fn accept_loop(disp: Arc<Dispatcher>, afd: AsyncFd<Arc<OwnedFd>>) {
    let mut batch = Vec::with_capacity(ACCEPT_BATCH);
    loop {
        match disp.can_accept() {
            None => return,
            Some(false) => {
                disp.wake.notified().await;
                continue;
            }
            Some(true) => {}
        }
        let mut guard = tokio::select! {
            g = afd.readable() => match g {
                Ok(g) => g,
                Err(e) => {
                    tracing::warn!("accept loop stopped: {e}");
                    return;
                }
            },
            _ = disp.wake.notified() => continue,
        };
        let mut pause = false;
        while batch.len() < ACCEPT_BATCH {
            match guard.try_io(|l| sockets::accept(l.get_ref())) {
                Ok(Ok(fd)) => batch.push(fd),
                Ok(Err(e)) => match e.raw_os_error() {
                    Some(libc::ECONNABORTED | libc::EINTR | libc::EPROTO) => {}
                    _ => {
                        tracing::warn!("accept failed: {e}");
                        pause = true;
                        break;
                    }
                },
                Err(_would_block) => break,
            }
        }
        drop(guard);
        disp.submit_batch(&mut batch);
        if pause {
            // Out of fds or memory: back off instead of spinning on a readable listener.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
