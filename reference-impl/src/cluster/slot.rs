//! One listening key's socket as the balancer owns it ([`Slot`]): a TCP or Unix stream listener with its
//! round-robin dispatcher, or the address UDP workers each bind with `SO_REUSEPORT`.

use std::collections::HashSet;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde_json::Value;

use super::dispatch::Dispatcher;
use super::protocol::{Query, ServerKind};
use super::sockets;

/// What a key listens with.
pub(super) enum Kind {
    /// TCP or Unix stream listener, owned here for the key's whole life.
    Stream {
        listener: Arc<OwnedFd>,
        sockname: Option<SocketAddr>,
        disp: OnceLock<Arc<Dispatcher>>,
        /// A Unix socket's path, removed when the key closes (as libuv does).
        path: Option<PathBuf>,
    },
    /// UDP: each worker gets its own `SO_REUSEPORT` socket on this address.
    Udp { addr: SocketAddr, v6only: bool },
}

/// One listening key: its socket, the workers using it, and the server data replayed to each of them.
pub(super) struct Slot {
    pub(super) kind: Kind,
    pub(super) users: HashSet<u64>,
    /// The first worker's server `data` (TLS ticket keys), replayed in every reply for this key.
    pub(super) data: Value,
}

impl Slot {
    pub(super) fn close(&self) {
        if let Kind::Stream { disp, path, .. } = &self.kind {
            if let Some(d) = disp.get() {
                d.close();
            }
            if let Some(p) = path {
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

pub(super) fn parse_ip(s: &str) -> io::Result<IpAddr> {
    s.parse()
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

pub(super) fn open_slot(q: &Query, cwd: &Path) -> io::Result<(Kind, Option<OwnedFd>)> {
    let v6only = q.flags & 1 != 0;
    match q.kind {
        ServerKind::Tcp => {
            let ip = q.address.as_deref().map(parse_ip).transpose()?;
            let l = sockets::tcp_listener(ip, q.port, v6only)?;
            let sockname = Some(sockets::local_addr(l.as_raw_fd())?);
            Ok((
                Kind::Stream {
                    listener: Arc::new(l),
                    sockname,
                    disp: OnceLock::new(),
                    path: None,
                },
                None,
            ))
        }
        ServerKind::Pipe => {
            let path = q
                .address
                .as_deref()
                .ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))?;
            let path = cwd.join(path);
            let l = sockets::unix_listener(&path)?;
            Ok((
                Kind::Stream {
                    listener: Arc::new(l),
                    sockname: None,
                    disp: OnceLock::new(),
                    path: Some(path),
                },
                None,
            ))
        }
        ServerKind::Udp { v6 } => {
            let ip = match q.address.as_deref() {
                Some(a) => parse_ip(a)?,
                None if v6 => Ipv6Addr::UNSPECIFIED.into(),
                None => Ipv4Addr::UNSPECIFIED.into(),
            };
            let s = sockets::udp_socket(ip, q.port, v6only)?;
            let addr = sockets::local_addr(s.as_raw_fd())?;
            Ok((Kind::Udp { addr, v6only }, Some(s)))
        }
    }
}
