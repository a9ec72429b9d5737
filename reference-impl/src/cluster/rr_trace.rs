//! `REFPM_TRACE_RR` (set in the daemon's environment): every 100 ms one log line per round-robin
//! listener with the kernel's accept queue (`backlog=queued/max`), the daemon's CPU time and its cluster
//! I/O thread's, and the dispatcher's state. For diagnosing overload: who holds the connections.

use std::os::fd::{AsRawFd, OwnedFd};

use nix::sys::resource::{UsageWho, getrusage};
use std::sync::{Arc, Weak};
use std::time::Duration;

use super::dispatch::Dispatcher;

/// CPU time (user + system) in ms of `who` (`RUSAGE_SELF` or `RUSAGE_THREAD`).
fn cpu_ms(who: UsageWho) -> u64 {
    let Ok(ru) = getrusage(who) else { return 0 };
    let ms = |v: nix::sys::time::TimeVal| v.tv_sec() as u64 * 1000 + v.tv_usec() as u64 / 1000;
    ms(ru.user_time()) + ms(ru.system_time())
}

/// (connections waiting in the listener's accept queue, its maximum); zeros when not TCP.
fn accept_queue(fd: &OwnedFd) -> (u32, u32) {
    // SAFETY: TCP_INFO into a zeroed struct we own; on a listener tcpi_unacked is the accept queue
    // length and tcpi_sacked its limit.
    let mut ti: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&mut ti as *mut libc::tcp_info).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return (0, 0);
    }
    (ti.tcpi_unacked, ti.tcpi_sacked)
}

/// Logs until the dispatcher is closed or dropped; runs on the balancer thread (`io-thread` is its CPU).
pub(super) async fn run(disp: Weak<Dispatcher>, listener: Arc<OwnedFd>) {
    let (mut proc0, mut thr0) = (
        cpu_ms(UsageWho::RUSAGE_SELF),
        cpu_ms(UsageWho::RUSAGE_THREAD),
    );
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let Some(line) = disp.upgrade().and_then(|d| d.trace_line()) else {
            return;
        };
        let (queued, max) = accept_queue(&listener);
        let (proc1, thr1) = (
            cpu_ms(UsageWho::RUSAGE_SELF),
            cpu_ms(UsageWho::RUSAGE_THREAD),
        );
        tracing::info!(
            "rr-trace backlog={queued}/{max} cpu={}ms io-thread={}ms {line}",
            proc1 - proc0,
            thr1 - thr0
        );
        (proc0, thr0) = (proc1, thr1);
    }
}
