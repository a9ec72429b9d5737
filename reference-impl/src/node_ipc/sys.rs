//! The few raw socket calls the channel needs: `socketpair`, `sendmsg` with one `SCM_RIGHTS` fd,
//! `recvmsg` collecting fds with `MSG_CMSG_CLOEXEC`.

use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::{AsFd, FromRawFd, OwnedFd, RawFd};

/// Most fds accepted from one `recvmsg` (Node sends one per message; extra room avoids `MSG_CTRUNC`).
const MAX_RECV_FDS: usize = 16;

/// Creates a connected `AF_UNIX` stream pair, both ends close-on-exec.
pub fn socketpair() -> io::Result<(OwnedFd, OwnedFd)> {
    use nix::sys::socket::{AddressFamily, SockFlag, SockType};
    Ok(nix::sys::socket::socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )?)
}

/// Sets or clears `O_NONBLOCK` on `fd`.
pub fn set_nonblocking(fd: impl AsFd, on: bool) -> io::Result<()> {
    use nix::fcntl::{FcntlArg, OFlag, fcntl};
    let flags = OFlag::from_bits_retain(fcntl(fd.as_fd(), FcntlArg::F_GETFL)?);
    let mut new = flags;
    new.set(OFlag::O_NONBLOCK, on);
    if new != flags {
        fcntl(fd.as_fd(), FcntlArg::F_SETFL(new))?;
    }
    Ok(())
}

#[repr(C, align(8))]
struct CmsgBuf([u8; 128]);

/// One `sendmsg` of `data`, with `fd` attached as `SCM_RIGHTS` when given. Returns the bytes written.
pub fn send_with_fd(sock: RawFd, data: &[u8], fd: Option<RawFd>) -> io::Result<usize> {
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    let mut cbuf = CmsgBuf([0; 128]);
    // SAFETY: an all-zero msghdr is a valid empty message.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if let Some(fd) = fd {
        // SAFETY: CMSG_* are pure arithmetic; the buffer is aligned and larger than CMSG_SPACE(4).
        unsafe {
            msg.msg_control = cbuf.0.as_mut_ptr().cast();
            msg.msg_controllen = libc::CMSG_SPACE(size_of::<libc::c_int>() as u32) as _;
            let cmsg = libc::CMSG_FIRSTHDR(&msg);
            (*cmsg).cmsg_level = libc::SOL_SOCKET;
            (*cmsg).cmsg_type = libc::SCM_RIGHTS;
            (*cmsg).cmsg_len = libc::CMSG_LEN(size_of::<libc::c_int>() as u32) as _;
            std::ptr::write_unaligned(libc::CMSG_DATA(cmsg) as *mut libc::c_int, fd);
        }
    }
    // SAFETY: msg points at live buffers for the duration of the call.
    let n = unsafe { libc::sendmsg(sock, &msg, libc::MSG_NOSIGNAL) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// One `recvmsg` into `buf`; received fds (close-on-exec) are appended to `fds`.
/// Returns the bytes read (0 = EOF) and whether control data was truncated (fds lost).
pub fn recv_with_fds(
    sock: RawFd,
    buf: &mut [u8],
    fds: &mut impl Extend<OwnedFd>,
) -> io::Result<(usize, bool)> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let mut cbuf = CmsgBuf([0; 128]);
    debug_assert!(
        // SAFETY: pure arithmetic.
        unsafe { libc::CMSG_SPACE((MAX_RECV_FDS * size_of::<libc::c_int>()) as u32) } as usize
            <= cbuf.0.len()
    );
    // SAFETY: an all-zero msghdr is a valid empty message.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.0.as_mut_ptr().cast();
    msg.msg_controllen = cbuf.0.len() as _;
    // SAFETY: msg points at live buffers for the duration of the call.
    let n = unsafe { libc::recvmsg(sock, &mut msg, libc::MSG_CMSG_CLOEXEC) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: walking the control buffer the kernel just filled, with the libc macros.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
                let data = libc::CMSG_DATA(cmsg) as *const libc::c_int;
                let bytes = (*cmsg).cmsg_len as usize - libc::CMSG_LEN(0) as usize;
                for i in 0..bytes / size_of::<libc::c_int>() {
                    let fd = std::ptr::read_unaligned(data.add(i));
                    fds.extend(Some(OwnedFd::from_raw_fd(fd)));
                }
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    Ok((n as usize, msg.msg_flags & libc::MSG_CTRUNC != 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn fd_travels_with_its_bytes() {
        let (a, b) = socketpair().unwrap();
        let (x, _y) = socketpair().unwrap();
        assert_eq!(send_with_fd(a.as_raw_fd(), b"one\n", None).unwrap(), 4);
        assert_eq!(
            send_with_fd(a.as_raw_fd(), b"two\n", Some(x.as_raw_fd())).unwrap(),
            4
        );
        let mut buf = [0u8; 64];
        let mut fds = Vec::new();
        let mut got = Vec::new();
        while got.len() < 8 {
            let (n, trunc) = recv_with_fds(b.as_raw_fd(), &mut buf, &mut fds).unwrap();
            assert!(!trunc);
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, b"one\ntwo\n");
        assert_eq!(fds.len(), 1);
        let fl = nix::fcntl::fcntl(&fds[0], nix::fcntl::FcntlArg::F_GETFD).unwrap();
        assert!(fl & libc::FD_CLOEXEC != 0);
    }
}
