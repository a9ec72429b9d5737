//! The drain preload: unmodified apps (CommonJS, ES module, express) lose nothing on kept-alive
//! connections across reloads and scale-down; the preload is invisible to the app and can be turned
//! off; faults (unwritable or deleted preload, a crash during the drain, an app that never closes)
//! neither hang nor break the manager.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rstest::rstest;
use serde_json::Value;

use crate::common::{Home, free_port, http_pid, poll, status};

/// An app of `fixtures/drain/`.
fn app(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/drain")
        .join(name)
        .canonicalize()
        .expect("app exists")
}

/// What a keep-alive client saw.
#[derive(Debug, Default)]
struct Seen {
    ok: usize,
    /// Responses that said `Connection: close`.
    closes: usize,
    failures: Vec<String>,
}

/// One persistent connection, reused as a real agent does: a socket the server has closed (EOF seen
/// while idle) is not reused; a request sent on a reused socket is never retried.
struct Client {
    port: u16,
    conn: Option<TcpStream>,
}

impl Client {
    fn still_open(s: &TcpStream) -> bool {
        if s.set_nonblocking(true).is_err() {
            return false;
        }
        let open = matches!(s.peek(&mut [0u8; 1]), Err(e) if e.kind() == ErrorKind::WouldBlock);
        open && s.set_nonblocking(false).is_ok()
    }

    /// One `GET /`: Ok(true) when the response closed the connection.
    fn get(&mut self) -> Result<bool, String> {
        let reused = match self.conn.take() {
            Some(s) if Self::still_open(&s) => Some(s),
            _ => None,
        };
        let was_reused = reused.is_some();
        let mut s = match reused {
            Some(s) => s,
            None => {
                let s = TcpStream::connect(("127.0.0.1", self.port))
                    .map_err(|e| format!("connect: {e}"))?;
                s.set_read_timeout(Some(Duration::from_secs(10))).ok();
                s.set_nodelay(true).ok();
                s
            }
        };
        let tag = if was_reused { "reused" } else { "new" };
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .map_err(|e| format!("{tag}: write: {e}"))?;
        let mut buf = Vec::with_capacity(256);
        let mut chunk = [0u8; 512];
        loop {
            let n = s
                .read(&mut chunk)
                .map_err(|e| format!("{tag}: read after {} bytes: {e}", buf.len()))?;
            if n == 0 {
                return Err(format!("{tag}: eof after {} bytes", buf.len()));
            }
            buf.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buf).to_string();
            let Some(head_end) = text.find("\r\n\r\n") else {
                continue;
            };
            let head = text[..head_end].to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .ok_or_else(|| format!("{tag}: no content-length: {head}"))?;
            if buf.len() < head_end + 4 + len {
                continue;
            }
            if !head.starts_with("http/1.1 200") {
                return Err(format!("{tag}: {head}"));
            }
            let close = head
                .lines()
                .any(|l| l.starts_with("connection:") && l.contains("close"));
            if !close {
                self.conn = Some(s);
            }
            return Ok(close);
        }
    }
}

/// `clients` keep-alive clients in closed loops until `stop` (each at most `max` requests).
/// `clients` keep-alive clients until `stop` (at most `max` requests each); `done` counts the
/// requests answered or failed so far.
fn run_clients(
    port: u16,
    clients: usize,
    stop: Arc<AtomicBool>,
    done: Arc<AtomicUsize>,
    max: usize,
) -> std::thread::JoinHandle<Seen> {
    std::thread::spawn(move || {
        let threads: Vec<_> = (0..clients)
            .map(|_| {
                let (stop, done) = (stop.clone(), done.clone());
                std::thread::spawn(move || {
                    let mut c = Client { port, conn: None };
                    let mut seen = Seen::default();
                    for _ in 0..max {
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        match c.get() {
                            Ok(close) => {
                                seen.ok += 1;
                                seen.closes += usize::from(close);
                            }
                            Err(e) => seen.failures.push(e),
                        }
                        done.fetch_add(1, Ordering::SeqCst);
                    }
                    seen
                })
            })
            .collect();
        let mut all = Seen::default();
        for t in threads {
            let s = t.join().unwrap();
            all.ok += s.ok;
            all.closes += s.closes;
            all.failures.extend(s.failures);
        }
        all
    })
}

fn start(h: &Home, script: &Path, n: usize, port: u16, extra: &[&str]) {
    let mut args = vec!["start", script.to_str().unwrap(), "-i"];
    let n_s = n.to_string();
    args.push(&n_s);
    // a loaded 2-core machine boots an express worker beside 8 busy clients slowly
    args.extend(["--name", "web", "--listen-timeout", "15000"]);
    args.extend(extra);
    let (code, out, err) = h.run_env(&args, &[("PORT", &port.to_string())]);
    assert_eq!(code, 0, "{out}{err}");
    h.wait_list(30, "online", |l| {
        l.len() == n && l.iter().all(|p| status(p) == "online")
    });
    poll(20, || http_pid(port).ok()).expect("serving");
}

fn pids(l: &[Value]) -> Vec<i64> {
    l.iter().map(|p| p["pid"].as_i64().unwrap_or(0)).collect()
}

#[rstest]
#[case::cjs_2_rr("plain-http.js", 2, "rr")]
#[case::esm_4_shared("plain-http.mjs", 4, "shared")]
#[case::express_2_shared("express.js", 2, "shared")]
#[case::express_4_rr("express.js", 4, "rr")]
fn keep_alive_clients_lose_nothing_across_reloads(
    #[case] script: &str,
    #[case] n: usize,
    #[case] policy: &str,
) {
    let h = Home::new();
    let port = free_port();
    start(&h, &app(script), n, port, &["--lb-policy", policy]);
    let before = pids(&h.jlist());
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicUsize::new(0));
    let c = run_clients(port, 8, stop.clone(), done.clone(), 200_000);
    // let the clients settle on their connections (five requests each, on average)
    poll(20, || (done.load(Ordering::SeqCst) >= 40).then_some(()))
        .expect("the clients got 40 answers");
    for _ in 0..2 {
        let (code, out, err) = h.run(&["reload", "web"]);
        assert_eq!(code, 0, "{out}{err}");
    }
    // scale down too: the removed workers drain the same way
    let (code, out, err) = h.run(&["scale", "web", "1"]);
    assert_eq!(code, 0, "{out}{err}");
    stop.store(true, Ordering::SeqCst);
    let seen = c.join().unwrap();
    eprintln!(
        "{script} -i {n} {policy}: {} ok, {} closes, {} failed",
        seen.ok,
        seen.closes,
        seen.failures.len()
    );
    assert!(
        seen.failures.is_empty(),
        "{} failed of {}: {:?}",
        seen.failures.len(),
        seen.ok + seen.failures.len(),
        &seen.failures[..seen.failures.len().min(5)]
    );
    assert!(seen.ok > 100, "too few requests ({})", seen.ok);
    // the replaced workers said Connection: close on the connections they held
    assert!(seen.closes > 0, "no response said Connection: close");
    let after = h.jlist();
    assert_eq!(after.len(), 1);
    assert!(
        pids(&after).iter().all(|p| !before.contains(p)),
        "pids not replaced"
    );
}

#[test]
fn the_preload_is_invisible_to_the_app_and_can_be_turned_off() {
    for (extra, on) in [(&[][..], true), (&["--no-drain"][..], false)] {
        let h = Home::new();
        let port = free_port();
        let report = h.path().join("seen.json");
        let mut args = vec!["start", "--name", "env", "-i", "1"];
        let script = app("report-env.js");
        args.push(script.to_str().unwrap());
        args.extend(extra);
        let (code, out, err) = h.run_env(
            &args,
            &[
                ("PORT", &port.to_string()),
                ("REPORT", report.to_str().unwrap()),
                ("NODE_OPTIONS", "--max-old-space-size=100"),
            ],
        );
        assert_eq!(code, 0, "{out}{err}");
        let seen: Value = poll(20, || {
            std::fs::read_to_string(&report)
                .ok()
                .and_then(|s| serde_json::from_str(&s).ok())
        })
        .expect("the app wrote its report");
        assert_eq!(seen["node_options"], "--max-old-space-size=100", "{seen}");
        assert_eq!(seen["refpm_vars"], serde_json::json!([]), "{seen}");
        assert_eq!(
            seen["argv"],
            serde_json::json!([script.to_str().unwrap()]),
            "{seen}"
        );
        assert_eq!(seen["exec_argv"], serde_json::json!([]), "{seen}");
        assert_eq!(seen["globals"], serde_json::json!([]), "{seen}");
        assert_eq!(seen["preloaded"], on, "{seen}");
        // the only trace: the preload's SIGINT listener (the app keeps SIGINT's default effect)
        assert_eq!(seen["sigint_listeners"], u64::from(on), "{seen}");
    }
}

#[test]
fn an_unmodified_app_stopped_dies_by_sigint_as_without_the_preload() {
    let h = Home::new();
    let port = free_port();
    start(&h, &app("plain-http.js"), 1, port, &[]);
    let pid = pids(&h.jlist())[0];
    // a kept-alive connection open while it stops
    let mut c = Client { port, conn: None };
    c.get().expect("first request");
    let t = Instant::now();
    let (code, out, err) = h.run(&["stop", "web"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!crate::common::alive(pid as i32));
    // the idle connection was closed by the drain (grace 400 ms), well before kill_timeout's SIGKILL
    assert!(
        t.elapsed() < Duration::from_millis(1600 + 1500),
        "{:?}",
        t.elapsed()
    );
    let log = std::fs::read_to_string(h.path().join("refpm.log")).unwrap_or_default();
    assert!(
        log.contains("via signal [2]") || log.contains("via signal [SIGINT]"),
        "not killed by SIGINT: {log}"
    );
    assert!(!log.contains("SIGKILL"), "needed SIGKILL: {log}");
}

#[test]
fn an_unwritable_or_deleted_preload_never_stops_the_app() {
    let h = Home::new();
    // unwritable: `drain` is a file, the preload cannot be written; the app starts without it
    std::fs::write(h.path().join("drain"), "not a directory").unwrap();
    let port = free_port();
    start(&h, &app("plain-http.js"), 2, port, &[]);
    let log = std::fs::read_to_string(h.path().join("refpm.log")).unwrap_or_default();
    assert!(log.contains("drain preload not written"), "{log}");
    h.ok(&["delete", "all"]);
    // deleted after start: the next spawn writes it again, the reload succeeds
    std::fs::remove_file(h.path().join("drain")).unwrap();
    start(&h, &app("plain-http.js"), 2, port, &[]);
    let dir = h.path().join("drain");
    for f in std::fs::read_dir(&dir).unwrap() {
        std::fs::remove_file(f.unwrap().path()).unwrap();
    }
    let (code, out, err) = h.run(&["reload", "web"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        std::fs::read_dir(&dir).unwrap().count() == 1,
        "preload not rewritten"
    );
    http_pid(port).expect("serving after the reload");
}

#[rstest]
#[case::crash_during_drain("crash-on-close.js")]
#[case::never_closes("never-closes.js")]
fn a_faulty_app_is_still_replaced_within_kill_timeout(#[case] script: &str) {
    let h = Home::new();
    let port = free_port();
    start(&h, &app(script), 2, port, &["--kill-timeout", "800"]);
    let before = pids(&h.jlist());
    // a request that never ends holds a connection of the old worker (never-closes)
    let hang = std::thread::spawn(move || {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(15))).ok();
        let _ = s.write_all(b"GET /hang HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut sink = Vec::new();
        let _ = s.read_to_end(&mut sink);
    });
    let t = Instant::now();
    let (code, out, err) = h.run(&["reload", "web"]);
    assert_eq!(code, 0, "{out}{err}");
    // per worker: the disconnect wait (max(kill_timeout, 1600)) and kill_timeout, then SIGKILL
    assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
    let after = h.wait_list(20, "online", |l| {
        l.len() == 2 && l.iter().all(|p| status(p) == "online")
    });
    for p in &before {
        assert!(
            !crate::common::alive(*p as i32),
            "old worker {p} still alive"
        );
    }
    assert!(pids(&after).iter().all(|p| !before.contains(p)));
    http_pid(port).expect("serving after the reload");
    hang.join().unwrap();
}
