//! Sockets the balancer owns or hands out: TCP listeners (dual-stack `[::]` by default), per-worker
//! `SO_REUSEPORT` UDP sockets, Unix-path listeners, and `accept4`. All non-blocking and close-on-exec.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::path::Path;

/// Listen backlog for every listening socket (Node's default).
pub const BACKLOG: libc::c_int = 511;

fn cvt(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

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

fn set_opt(fd: RawFd, level: libc::c_int, name: libc::c_int, val: libc::c_int) -> io::Result<()> {
    // SAFETY: passes a pointer to a live c_int and its size.
    cvt(unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&val as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    })
    .map(drop)
}

fn sockaddr(addr: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: all-zero is a valid sockaddr_storage.
    let mut ss: libc::sockaddr_storage = unsafe { zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in.
            let sin = unsafe { &mut *(&mut ss as *mut _ as *mut libc::sockaddr_in) };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_port = a.port().to_be();
            sin.sin_addr.s_addr = u32::from_ne_bytes(a.ip().octets());
            size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in6.
            let sin6 = unsafe { &mut *(&mut ss as *mut _ as *mut libc::sockaddr_in6) };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = a.port().to_be();
            sin6.sin6_addr.s6_addr = a.ip().octets();
            sin6.sin6_scope_id = a.scope_id();
            size_of::<libc::sockaddr_in6>()
        }
    };
    (ss, len as libc::socklen_t)
}

/// The address a socket is bound to.
pub fn local_addr(fd: RawFd) -> io::Result<SocketAddr> {
    // SAFETY: all-zero is a valid sockaddr_storage; getsockname writes at most `len` bytes.
    let mut ss: libc::sockaddr_storage = unsafe { zeroed() };
    let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    cvt(unsafe {
        libc::getsockname(
            fd,
            (&mut ss as *mut libc::sockaddr_storage).cast(),
            &mut len,
        )
    })?;
    match ss.ss_family as libc::c_int {
        libc::AF_INET => {
            // SAFETY: the kernel filled a sockaddr_in.
            let sin = unsafe { &*(&ss as *const _ as *const libc::sockaddr_in) };
            let ip = std::net::Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
            Ok(SocketAddr::new(ip.into(), u16::from_be(sin.sin_port)))
        }
        libc::AF_INET6 => {
            // SAFETY: the kernel filled a sockaddr_in6.
            let sin6 = unsafe { &*(&ss as *const _ as *const libc::sockaddr_in6) };
            let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
            Ok(SocketAddr::new(ip.into(), u16::from_be(sin6.sin6_port)))
        }
        _ => Err(io::Error::from_raw_os_error(libc::EAFNOSUPPORT)),
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
    let raw = fd.as_raw_fd();
    set_opt(raw, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
    if reuseport {
        set_opt(raw, libc::SOL_SOCKET, libc::SO_REUSEPORT, 1)?;
    }
    if ip.is_ipv6() {
        set_opt(
            raw,
            libc::IPPROTO_IPV6,
            libc::IPV6_V6ONLY,
            v6only as libc::c_int,
        )?;
    }
    let (ss, len) = sockaddr(SocketAddr::new(ip, port));
    // SAFETY: `ss` holds a valid sockaddr of length `len`.
    cvt(unsafe { libc::bind(raw, (&ss as *const libc::sockaddr_storage).cast(), len) })?;
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
