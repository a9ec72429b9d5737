//! Free loopback ports.

/// A port free for both TCP and UDP on 127.0.0.1 right now (the OS picks it).
pub fn free_port() -> std::io::Result<u16> {
    for _ in 0..200 {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0")?;
        let port = tcp.local_addr()?.port();
        if std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    Err(std::io::Error::other(
        "no port free for both TCP and UDP on 127.0.0.1",
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_free_port_can_be_bound() {
        let p = super::free_port().unwrap();
        assert!(p > 0);
        std::net::TcpListener::bind(("127.0.0.1", p)).unwrap();
    }
}
