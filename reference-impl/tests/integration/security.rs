//! Security of refpm: a private home, a private control socket that refuses other users, no TCP control
//! port, and a `jlist` that never shows what the app was not given (the caller's shell secrets).

use crate::common::{Home, fixture, free_port, http_get, poll};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};

/// The uid/gid of `nobody` on Debian-like systems.
const NOBODY: u32 = 65534;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

/// Sends one `list` request over the control socket as `uid` (via a `node` client, so the uid switch
/// happens in a fresh process) and returns what came back: the response text, or `error:<code>`.
fn raw_list_as(sock: &Path, uid: Option<u32>) -> String {
    let line = serde_json::to_string(&refpm::protocol::Request {
        version: refpm::protocol::PROTOCOL_VERSION,
        cmd: refpm::protocol::Command::List,
    })
    .unwrap();
    let js = "const s = require('net').connect(process.argv[1]); let got = ''; \
              s.on('connect', () => s.write(process.argv[2] + '\\n')); \
              s.on('data', d => got += d); \
              s.on('error', e => { process.stdout.write('error:' + e.code); process.exit(0); }); \
              s.on('close', () => { process.stdout.write(got); process.exit(0); }); \
              setTimeout(() => { process.stdout.write('timeout'); process.exit(0); }, 10000);";
    let mut cmd = Command::new("node");
    cmd.args(["-e", js])
        .arg(sock)
        .arg(line)
        .stdin(Stdio::null());
    if let Some(u) = uid {
        use std::os::unix::process::CommandExt;
        cmd.uid(u).gid(u); // std drops supplementary groups when root sets a uid
    }
    let out = cmd.output().expect("node runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Inodes of the TCP sockets in LISTEN state (`/proc/net/tcp` and `tcp6`) with their local port.
fn tcp_listeners() -> Vec<(u64, u16)> {
    let mut v = Vec::new();
    for f in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        for l in text.lines().skip(1) {
            let cols: Vec<&str> = l.split_whitespace().collect();
            if cols.len() < 10 || cols[3] != "0A" {
                continue;
            }
            let port = cols[1]
                .rsplit(':')
                .next()
                .and_then(|p| u16::from_str_radix(p, 16).ok())
                .unwrap_or(0);
            if let Ok(inode) = cols[9].parse() {
                v.push((inode, port));
            }
        }
    }
    v
}

/// Socket inodes a process holds open.
fn socket_inodes(pid: i32) -> Vec<u64> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|rd| {
            rd.filter_map(|e| {
                let t = std::fs::read_link(e.ok()?.path()).ok()?;
                let t = t.to_str()?;
                t.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
            })
            .collect()
        })
        .unwrap_or_default()
}

/// TCP ports the process listens on.
fn listening_ports(pid: i32) -> Vec<u16> {
    let mine = socket_inodes(pid);
    let mut ports: Vec<u16> = tcp_listeners()
        .into_iter()
        .filter(|(i, _)| mine.contains(i))
        .map(|(_, p)| p)
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

#[test]
fn home_is_0700_and_socket_0600_even_under_a_loose_umask() {
    let h = Home::new();
    // a pre-existing home with loose permissions is tightened
    std::fs::set_permissions(h.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    h.ok(&["ping"]);
    assert_eq!(mode(h.path()), 0o700, "home mode");
    let sock = h.path().join("rpc.sock");
    assert_eq!(mode(&sock), 0o600, "control socket mode");
    assert_eq!(
        std::fs::metadata(&sock).unwrap().uid(),
        nix::unistd::getuid().as_raw()
    );
    assert_eq!(mode(&h.path().join("logs")), 0o700, "logs dir mode");
}

#[test]
fn connections_from_another_uid_are_refused() {
    assert!(
        nix::unistd::getuid().is_root(),
        "this test switches to nobody and needs root"
    );
    let h = Home::new();
    h.ok(&["ping"]);
    let sock = h.path().join("rpc.sock");
    // the same user is answered (so the client below can tell an answer from a refusal)
    let own = raw_list_as(&sock, None);
    assert!(
        own.starts_with('{') && own.contains("\"reply\":\"list\""),
        "own uid not answered: {own:?}"
    );
    // with file permissions alone, nobody cannot even reach the socket
    let denied = raw_list_as(&sock, Some(NOBODY));
    assert_eq!(
        denied, "error:EACCES",
        "nobody reached a 0600 socket in a 0700 home"
    );
    // open the file permissions up: the daemon's peer-credential check must still refuse
    std::fs::set_permissions(h.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o666)).unwrap();
    let other = raw_list_as(&sock, Some(NOBODY));
    // connected (no EACCES now), then dropped by the daemon without an answer
    assert!(
        ["", "error:ECONNRESET", "error:EPIPE"].contains(&other.as_str()),
        "another uid was not refused by the peer-credential check: {other:?}"
    );
    // and the daemon still serves its owner afterwards
    assert_eq!(h.jlist().len(), 0);
}

#[test]
fn the_daemon_listens_on_no_tcp_port_of_its_own() {
    let h = Home::new();
    h.ok(&["ping"]);
    let daemon = poll(10, || h.daemon_pid()).expect("daemon pid file");
    assert_eq!(
        listening_ports(daemon),
        Vec::<u16>::new(),
        "the bare daemon listens on TCP"
    );
    // with a cluster app, the only TCP port it holds is the app's (it is the cluster primary)
    let port = free_port();
    let app = fixture("http.js");
    h.run_env(
        &["start", app.to_str().unwrap(), "-i", "2", "--name", "web"],
        &[("PORT", &port.to_string())],
    );
    h.wait_list(30, "2 online", |l| {
        l.iter()
            .filter(|p| crate::common::status(p) == "online")
            .count()
            == 2
    });
    assert!(
        poll(10, || http_get(port).ok()).is_some(),
        "the app answers"
    );
    assert_eq!(
        listening_ports(daemon),
        vec![port],
        "the daemon's TCP listeners"
    );
}

#[test]
fn jlist_never_shows_the_callers_secret_but_the_app_gets_it() {
    let h = Home::new();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("env.json");
    let app = dir.path().join("envdump.js");
    std::fs::write(
        &app,
        "require('fs').writeFileSync(process.env.ENV_OUT, JSON.stringify(process.env)); setInterval(() => {}, 1000);\n",
    )
    .unwrap();
    let out_s = out.display().to_string();
    h.run_env(
        &["start", app.to_str().unwrap(), "--name", "envdump"],
        &[("CONFORM_SECRET", "s3cr3t"), ("ENV_OUT", &out_s)],
    );
    h.wait_list(30, "online", |l| {
        l.len() == 1 && crate::common::status(&l[0]) == "online"
    });
    let seen = poll(10, || {
        std::fs::read_to_string(&out).ok().filter(|s| !s.is_empty())
    })
    .expect("the app wrote its env");
    let env: serde_json::Value = serde_json::from_str(&seen).unwrap();
    // PM2 passes the caller's environment to the app (issue 2 keeps that)
    assert_eq!(
        env["CONFORM_SECRET"], "s3cr3t",
        "the app lacks the caller's variable"
    );
    let (code, text, _) = h.run(&["jlist"]);
    assert_eq!(code, 0);
    assert!(text.contains("envdump"), "jlist lists the app: {text}");
    assert!(
        !text.contains("s3cr3t"),
        "jlist leaks the caller's secret: {text}"
    );
    assert!(
        !text.contains("CONFORM_SECRET"),
        "jlist names the caller's variable: {text}"
    );
    let (_, desc, _) = h.run(&["describe", "envdump"]);
    assert!(
        !desc.contains("s3cr3t"),
        "describe leaks the caller's secret: {desc}"
    );
    let state = std::fs::read_to_string(h.path().join("state.json")).unwrap_or_default();
    assert!(
        !state.contains("s3cr3t"),
        "state.json leaks the caller's secret"
    );
}
