//! Shared helpers for the refpm integration tests: a temp home per test with a drop guard that kills
//! the daemon and every process the test saw, polling helpers, and small network clients.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;

/// The fixtures of these tests.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/refpm-test")
        .join(name)
        .canonicalize()
        .expect("fixture exists")
}

/// A temp home; on drop: `refpm kill`, then SIGKILL for any pid seen that is still alive, then an
/// assertion that none is left.
pub struct Home {
    pub dir: tempfile::TempDir,
    seen: Mutex<BTreeSet<i32>>,
}

impl Home {
    /// A fresh short home under /tmp.
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("rp.")
            .tempdir_in("/tmp")
            .unwrap();
        Home {
            dir,
            seen: Mutex::new(BTreeSet::new()),
        }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A `refpm` command with this home and a scrubbed environment.
    pub fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("refpm").unwrap();
        c.env("PM2_HOME", self.path())
            .env_remove("NODE_APP_INSTANCE")
            .env_remove("PM2_SILENT")
            .timeout(Duration::from_secs(120));
        c
    }

    /// Runs `refpm <args>` and returns (code, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        self.run_env(args, &[])
    }

    /// Same with extra env vars.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
        let mut c = self.cmd();
        c.args(args);
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        self.note_daemon();
        let r = (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
        if std::env::var("REFPM_TEST_TRACE").is_ok() {
            eprintln!("refpm {args:?} -> {} \n{}\n{}", r.0, r.1, r.2);
        }
        r
    }

    /// Runs and asserts exit 0.
    pub fn ok(&self, args: &[&str]) -> String {
        let (code, out, err) = self.run(args);
        assert_eq!(
            code, 0,
            "refpm {args:?} failed\nstdout: {out}\nstderr: {err}"
        );
        out
    }

    /// `refpm jlist` parsed; remembers every pid.
    pub fn jlist(&self) -> Vec<Value> {
        let (code, out, err) = self.run(&["jlist"]);
        assert_eq!(code, 0, "jlist failed: {err}");
        let v: Value = serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("jlist is not JSON ({e}): {out:?}"));
        let list = v.as_array().unwrap().clone();
        let mut seen = self.seen.lock().unwrap();
        for p in &list {
            if let Some(pid) = p["pid"].as_i64().filter(|&p| p > 0) {
                seen.insert(pid as i32);
            }
        }
        list
    }

    /// Records a pid to clean up.
    pub fn saw(&self, pid: i32) {
        self.seen.lock().unwrap().insert(pid);
    }

    fn note_daemon(&self) {
        if let Some(pid) = self.daemon_pid() {
            self.seen.lock().unwrap().insert(pid);
        }
    }

    /// The daemon pid from the pid file, if any.
    pub fn daemon_pid(&self) -> Option<i32> {
        std::fs::read_to_string(self.path().join("refpm.pid"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
    }

    /// Polls jlist until `cond` holds; panics with the last list after `secs`.
    pub fn wait_list(&self, secs: u64, what: &str, cond: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let l = self.jlist();
            if cond(&l) {
                return l;
            }
            if Instant::now() > deadline {
                panic!(
                    "timed out waiting for {what}; last jlist: {}",
                    serde_json::to_string_pretty(&l).unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = self
            .cmd()
            .arg("kill")
            .timeout(Duration::from_secs(60))
            .output();
        let seen: Vec<i32> = self.seen.lock().unwrap().iter().copied().collect();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && seen.iter().any(|p| alive(*p)) {
            std::thread::sleep(Duration::from_millis(50));
        }
        let left: Vec<i32> = seen.iter().copied().filter(|p| alive(*p)).collect();
        for p in &left {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(*p),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        if !std::thread::panicking() {
            assert!(left.is_empty(), "processes left after refpm kill: {left:?}");
        }
    }
}

/// True while the pid exists and is not a zombie.
pub fn alive(pid: i32) -> bool {
    pid > 0 && osfacts::alive(pid as u32)
}

/// A port free for TCP and UDP on 127.0.0.1.
pub fn free_port() -> u16 {
    osfacts::free_port().expect("a free port")
}

/// One HTTP GET on a new connection; the body.
pub fn http_get(port: u16) -> std::io::Result<String> {
    let mut s = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
    let mut buf = String::new();
    s.read_to_string(&mut buf)?;
    if !buf.starts_with("HTTP/1.1 200") {
        return Err(std::io::Error::other(format!("bad response: {buf:?}")));
    }
    Ok(buf.split("\r\n\r\n").nth(1).unwrap_or("").to_string())
}

/// The pid field of an http.js answer.
pub fn http_pid(port: u16) -> std::io::Result<(i64, String)> {
    let body = http_get(port)?;
    let v: Value = serde_json::from_str(&body).map_err(std::io::Error::other)?;
    Ok((
        v["pid"].as_i64().unwrap_or(0),
        v["instance"].as_str().unwrap_or("").to_string(),
    ))
}

/// One TCP exchange with tcp.js: its pid.
pub fn tcp_pid(port: u16) -> std::io::Result<i64> {
    let mut s = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut buf = String::new();
    s.read_to_string(&mut buf)?;
    buf.trim().parse().map_err(std::io::Error::other)
}

/// One UDP exchange from a fresh socket: the answering pid.
pub fn udp_pid(port: u16) -> std::io::Result<i64> {
    let s = UdpSocket::bind("127.0.0.1:0")?;
    s.set_read_timeout(Some(Duration::from_millis(500)))?;
    s.send_to(b"hi", ("127.0.0.1", port))?;
    let mut buf = [0u8; 64];
    let (n, _) = s.recv_from(&mut buf)?;
    String::from_utf8_lossy(&buf[..n])
        .trim()
        .parse()
        .map_err(std::io::Error::other)
}

/// Field helpers.
pub fn status(p: &Value) -> &str {
    p["pm2_env"]["status"].as_str().unwrap_or("")
}

/// Polls `f` until it returns Some or the deadline passes.
pub fn poll<T>(secs: u64, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
