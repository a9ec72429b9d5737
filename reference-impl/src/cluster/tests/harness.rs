//! Test helpers: app files, worker spawning with a kill-on-drop guard, event waiting, tiny HTTP client.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use nix::sys::signal::Signal;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc::UnboundedReceiver;

use crate::cluster::{Balancer, ClusterSpec, LbPolicy, Worker, WorkerEvent, WorkerSpec};

/// The Node binary the tests run: `REFPM_TEST_NODE` (a path, to test another Node line) or `node`.
pub fn node() -> String {
    std::env::var("REFPM_TEST_NODE").unwrap_or_else(|_| "node".into())
}

/// Generous per-step deadline for a slow shared 2-core machine.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// An HTTP app: answers its pid, `/slow` after argv[3] ms (announcing it first), reports `isWorker`,
/// echoes `shutdown`, reports listen errors and exits 3.
pub const HTTP_APP: &str = r#"
const cluster = require('cluster');
const http = require('http');
const port = +process.argv[2];
const srv = http.createServer((req, res) => {
  if (req.url === '/slow') {
    process.send({ slow: 'started' });
    setTimeout(() => res.end('slow ' + process.pid), +(process.argv[3] || 1500));
    return;
  }
  res.end(String(process.pid));
});
srv.on('error', (e) => { process.send({ error: e.code }); setTimeout(() => process.exit(3), 50); });
srv.listen(port, () => {
  process.send({ isWorker: cluster.isWorker, id: cluster.worker && cluster.worker.id, port: srv.address().port });
  process.send('ready');
});
process.on('message', (m) => { if (m === 'shutdown') process.send({ got: m }); });
"#;

/// A running test: a temp dir, a balancer, and every worker it spawned (SIGKILLed by group on drop).
pub struct Rig {
    pub dir: tempfile::TempDir,
    pub balancer: Arc<Balancer>,
    pub workers: Vec<Arc<Worker>>,
    next_id: u64,
}

impl Drop for Rig {
    fn drop(&mut self) {
        for w in &self.workers {
            let _ = w.signal_group(Signal::SIGKILL);
        }
    }
}

impl Rig {
    pub fn new() -> Self {
        Rig {
            dir: tempfile::tempdir().unwrap(),
            balancer: Balancer::new(),
            workers: Vec::new(),
            next_id: 1,
        }
    }

    pub fn write(&self, name: &str, text: &str) -> std::path::PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    /// Spawns `node <script> <args>` ([`node`]); `policy = None` runs it as a plain fork child with a
    /// channel.
    pub fn spawn(
        &mut self,
        script: &Path,
        args: &[String],
        group: &str,
        policy: Option<LbPolicy>,
    ) -> (Arc<Worker>, UnboundedReceiver<WorkerEvent>) {
        self.spawn_with(&node(), script, args, group, policy)
    }

    /// Like [`Rig::spawn`] with another interpreter (e.g. a python fake worker).
    pub fn spawn_with(
        &mut self,
        program: &str,
        script: &Path,
        args: &[String],
        group: &str,
        policy: Option<LbPolicy>,
    ) -> (Arc<Worker>, UnboundedReceiver<WorkerEvent>) {
        let id = self.next_id;
        self.next_id += 1;
        let log = |n: &str| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.dir.path().join(format!("{n}-{id}.log")))
                .unwrap()
        };
        let mut argv = vec![script.as_os_str().to_owned()];
        argv.extend(args.iter().map(Into::into));
        let spec = WorkerSpec {
            program: program.into(),
            args: argv,
            cwd: self.dir.path().to_owned(),
            env: vec![("PATH".into(), std::env::var("PATH").unwrap_or_default())],
            ipc: true,
            cluster: policy.map(|policy| ClusterSpec {
                worker_id: id,
                group: group.into(),
                policy,
            }),
            stdout: log("out"),
            stderr: log("err"),
        };
        let (w, rx) = Worker::spawn(spec, self.balancer.clone()).unwrap();
        self.workers.push(w.clone());
        (w, rx)
    }

    /// Everything the workers wrote to stderr (for assertion messages).
    pub fn stderr(&self) -> String {
        let mut out = String::new();
        for e in std::fs::read_dir(self.dir.path()).unwrap().flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n.starts_with("err-") {
                out += &format!(
                    "--- {n}\n{}",
                    std::fs::read_to_string(e.path()).unwrap_or_default()
                );
            }
        }
        out
    }
}

/// Waits for the first event matching `pred`, returning it and everything seen before it.
pub async fn wait_for(
    rx: &mut UnboundedReceiver<WorkerEvent>,
    what: &str,
    pred: impl Fn(&WorkerEvent) -> bool,
) -> (WorkerEvent, Vec<WorkerEvent>) {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(ev)) if pred(&ev) => return (ev, seen),
            Ok(Some(ev)) => seen.push(ev),
            Ok(None) => panic!("event stream ended before {what}; saw {seen:?}"),
            Err(_) => panic!("timed out waiting for {what}; saw {seen:?}"),
        }
    }
}

/// Waits for a user message satisfying `pred`.
pub async fn wait_msg(
    rx: &mut UnboundedReceiver<WorkerEvent>,
    what: &str,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    match wait_for(
        rx,
        what,
        |e| matches!(e, WorkerEvent::Message(v) if pred(v)),
    )
    .await
    .0
    {
        WorkerEvent::Message(v) => v,
        _ => unreachable!(),
    }
}

/// Waits for `Exited`, returning its code and signal.
pub async fn wait_exit(rx: &mut UnboundedReceiver<WorkerEvent>) -> (Option<i32>, Option<i32>) {
    match wait_for(rx, "exit", |e| matches!(e, WorkerEvent::Exited { .. }))
        .await
        .0
    {
        WorkerEvent::Exited { code, signal } => (code, signal),
        _ => unreachable!(),
    }
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP/1.1 GET on a fresh connection (`Connection: close`); returns the body.
pub async fn http_get(port: u16, path: &str) -> std::io::Result<String> {
    let fut = async {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        s.write_all(
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await?;
        let text = String::from_utf8_lossy(&buf).into_owned();
        match text.split_once("\r\n\r\n") {
            Some((head, body)) if head.starts_with("HTTP/1.1 200") => Ok(body.to_owned()),
            _ => Err(std::io::Error::other(format!("bad response: {text:?}"))),
        }
    };
    tokio::time::timeout(DEADLINE, fut)
        .await
        .map_err(|_| std::io::Error::other("http get timed out"))?
}
