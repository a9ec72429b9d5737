//! Whether a worker has taken up a connection the primary handed to it, judged from the primary's own
//! copy of the socket (the same kernel socket the worker holds): the worker read bytes from it, or wrote
//! some. Used to keep that copy until then, so a worker that drops a connection unread does not close
//! it (see [`super::node_compat`]).

use std::mem::{size_of, zeroed};
use std::os::fd::RawFd;

/// What the primary's copy of a handed-off connection shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uptake {
    /// The worker read from it or wrote to it: it is the worker's now.
    Taken,
    /// The client closed it before sending anything: there is nothing to serve.
    PeerGone,
    /// Nothing read, nothing written yet.
    Waiting,
    /// Not a TCP socket (a Unix socket server): the kernel keeps no byte counts to judge by.
    Unknown,
}

/// `tcpi_state` values (`include/net/tcp_states.h`).
const TCP_ESTABLISHED: u8 = 1;
const TCP_CLOSE: u8 = 7;
const TCP_CLOSE_WAIT: u8 = 8;

fn ioctl_int(fd: RawFd, req: libc::c_ulong) -> Option<libc::c_int> {
    let mut n: libc::c_int = 0;
    // SAFETY: SIOCINQ/SIOCOUTQ write one int.
    let rc = unsafe { libc::ioctl(fd, req as _, &mut n) };
    (rc == 0).then_some(n)
}

/// Reads the socket's state; `fd` is the primary's copy of the connection.
pub fn uptake(fd: RawFd) -> Uptake {
    // SAFETY: TCP_INFO into a zeroed struct we own, with its size.
    let mut ti: libc::tcp_info = unsafe { zeroed() };
    let mut len = size_of::<libc::tcp_info>() as libc::socklen_t;
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&mut ti as *mut libc::tcp_info).cast(),
            &mut len,
        )
    };
    // tcpi_bytes_received/acked need Linux 4.1+ (a shorter struct means an older kernel).
    let needed = std::mem::offset_of!(libc::tcp_info, tcpi_bytes_received) + size_of::<u64>();
    if rc != 0 || (len as usize) < needed {
        return Uptake::Unknown;
    }
    let (Some(inq), Some(outq)) = (
        ioctl_int(fd, libc::FIONREAD as libc::c_ulong),
        ioctl_int(fd, libc::TIOCOUTQ as libc::c_ulong),
    ) else {
        return Uptake::Unknown;
    };
    let inq = u64::try_from(inq).unwrap_or(0);
    let wrote = ti.tcpi_bytes_acked > 0 || outq > 0;
    match ti.tcpi_state {
        TCP_ESTABLISHED if ti.tcpi_bytes_received > inq || wrote => Uptake::Taken,
        TCP_ESTABLISHED => Uptake::Waiting,
        // The client sent FIN (it counts one in bytes_received): a request may still wait in inq.
        TCP_CLOSE_WAIT if ti.tcpi_bytes_received.saturating_sub(1) > inq || wrote => Uptake::Taken,
        TCP_CLOSE_WAIT if inq == 0 => Uptake::PeerGone,
        TCP_CLOSE_WAIT => Uptake::Waiting,
        // Reset by the client.
        TCP_CLOSE => Uptake::PeerGone,
        // FIN_WAIT*, CLOSING, LAST_ACK, TIME_WAIT: the worker shut the connection down itself.
        _ => Uptake::Taken,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsRawFd;
    use std::time::{Duration, Instant};

    /// Polls `uptake` until it shows `want` (the kernel updates asynchronously on loopback).
    fn becomes(fd: RawFd, want: Uptake) -> Uptake {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let got = uptake(fd);
            if got == want || Instant::now() > deadline {
                return got;
            }
            std::thread::yield_now();
        }
    }

    #[test]
    fn read_write_and_peer_close_are_told_apart() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();

        let mut client = TcpStream::connect(addr).unwrap();
        let (mut server, _) = l.accept().unwrap();
        assert_eq!(uptake(server.as_raw_fd()), Uptake::Waiting);
        client.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
        // Bytes that arrived but were not read leave it waiting.
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut n: libc::c_int = 0;
        while n == 0 && Instant::now() < deadline {
            n = ioctl_int(server.as_raw_fd(), libc::FIONREAD as libc::c_ulong).unwrap();
        }
        assert_eq!(uptake(server.as_raw_fd()), Uptake::Waiting);
        let mut buf = [0u8; 4];
        server.read_exact(&mut buf).unwrap();
        assert_eq!(uptake(server.as_raw_fd()), Uptake::Taken);

        let mut client2 = TcpStream::connect(addr).unwrap();
        let (mut server2, _) = l.accept().unwrap();
        server2.write_all(b"hello\n").unwrap();
        assert_eq!(becomes(server2.as_raw_fd(), Uptake::Taken), Uptake::Taken);
        client2.read_exact(&mut [0u8; 6]).unwrap();

        let client3 = TcpStream::connect(addr).unwrap();
        let (server3, _) = l.accept().unwrap();
        drop(client3);
        assert_eq!(
            becomes(server3.as_raw_fd(), Uptake::PeerGone),
            Uptake::PeerGone
        );
    }

    #[test]
    fn unix_sockets_are_unknown() {
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        assert_eq!(uptake(a.as_raw_fd()), Uptake::Unknown);
    }
}
