//! The control socket: bind (0600), accept, check the peer's uid, one request line → one response line.
//! Also the daemon's signal handling and the state writer.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::signal::unix::{SignalKind, signal};

use super::{Daemon, DaemonError, handlers};
use crate::protocol::{Reader, Reply, Request, RequestError, Response, check_version};

/// Largest request accepted (ecosystem specs with env maps fit easily).
const MAX_REQUEST: usize = 16 * 1024 * 1024;

/// Binds the socket and serves until `kill` or SIGTERM/SIGINT.
pub async fn serve(d: Arc<Daemon>) -> Result<(), DaemonError> {
    let sock = d.home.socket();
    let _ = std::fs::remove_file(&sock);
    let old = nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    let bound = UnixListener::bind(&sock);
    nix::sys::stat::umask(old);
    let listener = bound.map_err(|e| DaemonError::Io(sock.display().to_string(), e))?;
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o600));
    tracing::info!(
        "refpm daemon {} listening on {}",
        std::process::id(),
        sock.display()
    );
    tokio::spawn(state_writer(d.clone()));
    let mut term =
        signal(SignalKind::terminate()).map_err(|e| DaemonError::Io("signal".into(), e))?;
    let mut int =
        signal(SignalKind::interrupt()).map_err(|e| DaemonError::Io("signal".into(), e))?;
    let mut quit = signal(SignalKind::quit()).map_err(|e| DaemonError::Io("signal".into(), e))?;
    let _hup = signal(SignalKind::hangup()).map_err(|e| DaemonError::Io("signal".into(), e))?;
    let uid = nix::unistd::getuid().as_raw();
    loop {
        tokio::select! {
            acc = listener.accept() => {
                let Ok((stream, _)) = acc else { continue };
                match stream.peer_cred() {
                    Ok(c) if c.uid() == uid => {}
                    other => {
                        tracing::warn!("refused a connection from another user: {other:?}");
                        continue;
                    }
                }
                tokio::spawn(connection(d.clone(), stream));
            }
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = quit.recv() => break,
        }
    }
    tracing::info!("signal received: stopping every app");
    handlers::kill::stop_everything(&d).await;
    d.cleanup_files();
    tracing::info!("Exited peacefully");
    std::process::exit(0);
}

async fn connection(d: Arc<Daemon>, stream: UnixStream) {
    let (r, mut w) = stream.into_split();
    let mut reader = BufReader::new(r).take(MAX_REQUEST as u64);
    let mut line = String::new();
    let read = tokio::time::timeout(Duration::from_secs(30), reader.read_line(&mut line)).await;
    let (reply, exit_after) = match read {
        Ok(Ok(n)) if n > 0 => match check_version(&line, Reader::Daemon)
            .map_err(RequestError::from)
            .and_then(|()| {
                serde_json::from_str::<Request>(&line)
                    .map_err(|e| RequestError::Malformed(e.to_string()))
            }) {
            Ok(req) => handlers::dispatch(&d, req.cmd).await,
            Err(error) => (Reply::refused(error), false),
        },
        _ => return,
    };
    let mut out = serde_json::to_vec(&Response::new(reply)).unwrap_or_default();
    out.push(b'\n');
    let _ = w.write_all(&out).await;
    let _ = w.shutdown().await;
    if exit_after {
        d.cleanup_files();
        tracing::info!("daemon killed");
        std::process::exit(0);
    }
}

/// Writes `state.json` (temp + rename) after changes, at most every 200 ms.
async fn state_writer(d: Arc<Daemon>) {
    let mut rx = d.changed.subscribe();
    let path = d.home.state_file();
    loop {
        if rx.changed().await.is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        rx.borrow_and_update();
        let v = d.jlist();
        if let Err(e) = super::persist::write_atomic(&path, &v) {
            tracing::warn!("cannot write {}: {e}", path.display());
        }
    }
}
