//! Sockets the balancer owns or hands out: TCP listeners (dual-stack `[::]` by default), per-worker
//! `SO_REUSEPORT` UDP sockets, Unix-path listeners, and `accept4`. All non-blocking and close-on-exec.

use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::path::Path;

use nix::sys::socket::{SockaddrStorage, setsockopt, sockopt};

/// Listen backlog for every listening socket (Node's default).
pub const BACKLOG: libc::c_int = 511;

fn new_socket(domain: libc::c_int, ty: libc::c_int) -> io::Result<OwnedFd> {
    use nix::sys::socket::{AddressFamily, SockFlag, SockType};
    let family = AddressFamily::from_i32(domain)
        .ok_or_else(|| io::Error::from_raw_os_error(libc::EAFNOSUPPORT))?;
    let ty = SockType::try_from(ty)?;
    let flags = SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC;
    Ok(nix::sys::socket::socket(family, ty, flags, None)?)
}

/// listen(2) with Node's backlog.
fn listen(fd: &OwnedFd) -> io::Result<()> {
    let backlog = nix::sys::socket::Backlog::new(BACKLOG)?;
    Ok(nix::sys::socket::listen(fd, backlog)?)
}

/// The address a socket is bound to.
pub fn local_addr(fd: RawFd) -> io::Result<SocketAddr> {
    let ss: SockaddrStorage = nix::sys::socket::getsockname(fd)?;
    if let Some(sin) = ss.as_sockaddr_in() {
        Ok(SocketAddr::V4((*sin).into()))
    } else if let Some(sin6) = ss.as_sockaddr_in6() {
        Ok(SocketAddr::new(sin6.ip().into(), sin6.port()))
    } else {
        Err(io::Error::from_raw_os_error(libc::EAFNOSUPPORT))
    }
}

fn bind_inet(
    ty: libc::c_int,
    ip: IpAddr,
    port: u16,
    v6only: bool,
    reuseport: bool,
) -> io::Result<OwnedFd> {
    let domain = if ip.is_ipv6() {
        libc::AF_INET6
    } else {
        libc::AF_INET
    };
    let fd = new_socket(domain, ty)?;
    setsockopt(&fd, sockopt::ReuseAddr, &true)?;
    if reuseport {
        setsockopt(&fd, sockopt::ReusePort, &true)?;
    }
    if ip.is_ipv6() {
        setsockopt(&fd, sockopt::Ipv6V6Only, &v6only)?;
    }
    let addr = SockaddrStorage::from(SocketAddr::new(ip, port));
    nix::sys::socket::bind(fd.as_raw_fd(), &addr)?;
    Ok(fd)
}

/// A listening TCP socket. `ip = None` binds dual-stack `[::]` (falling back to `0.0.0.0` without IPv6).
pub fn tcp_listener(ip: Option<IpAddr>, port: u16, v6only: bool) -> io::Result<OwnedFd> {
    let fd = match ip {
        Some(ip) => bind_inet(libc::SOCK_STREAM, ip, port, v6only, false)?,
        None => match bind_inet(
            libc::SOCK_STREAM,
            Ipv6Addr::UNSPECIFIED.into(),
            port,
            v6only,
            false,
        ) {
            Err(e) if e.raw_os_error() == Some(libc::EAFNOSUPPORT) => bind_inet(
                libc::SOCK_STREAM,
                std::net::Ipv4Addr::UNSPECIFIED.into(),
                port,
                false,
                false,
            )?,
            other => other?,
        },
    };
    listen(&fd)?;
    Ok(fd)
}

/// A bound UDP socket with `SO_REUSEPORT`, so one socket per worker on the same port spreads clients.
pub fn udp_socket(ip: IpAddr, port: u16, v6only: bool) -> io::Result<OwnedFd> {
    bind_inet(libc::SOCK_DGRAM, ip, port, v6only, true)
}

/// A listening Unix stream socket at `path`.
pub fn unix_listener(path: &Path) -> io::Result<OwnedFd> {
    let l = std::os::unix::net::UnixListener::bind(path)?;
    l.set_nonblocking(true)?;
    let fd = OwnedFd::from(l);
    // listen(2) again only raises the backlog to Node's value.
    listen(&fd)?;
    Ok(fd)
}

/// Accepts one connection as a non-blocking, close-on-exec fd.
pub fn accept(listener: impl AsFd) -> io::Result<OwnedFd> {
    use nix::sys::socket::SockFlag;
    let flags = SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC;
    Ok(nix::sys::socket::accept4(listener, flags)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dual_stack_listener_accepts_v4_and_v6() {
        let l = tcp_listener(None, 0, false).unwrap();
        let addr = local_addr(l.as_raw_fd()).unwrap();
        assert!(addr.ip().is_unspecified() && addr.is_ipv6());
        let port = addr.port();
        let _a = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let _b = std::net::TcpStream::connect(("::1", port)).unwrap();
        let mut got = 0;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while got < 2 && std::time::Instant::now() < deadline {
            match accept(&l) {
                Ok(_) => got += 1,
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
            }
        }
        assert_eq!(got, 2);
    }

    #[test]
    fn busy_port_is_eaddrinuse() {
        let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = other.local_addr().unwrap().port();
        let e = tcp_listener(None, port, false).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EADDRINUSE));
    }

    #[test]
    fn reuseport_udp_sockets_share_a_port() {
        let a = udp_socket("127.0.0.1".parse().unwrap(), 0, false).unwrap();
        let port = local_addr(a.as_raw_fd()).unwrap().port();
        let b = udp_socket("127.0.0.1".parse().unwrap(), port, false).unwrap();
        assert_eq!(local_addr(b.as_raw_fd()).unwrap().port(), port);
    }
}
