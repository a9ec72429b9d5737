//! Wall time of a full `conform run` against one target (this executable, reports to a temp dir).

use super::Out;
use crate::bench::figures::RUN_WALL;
use std::path::Path;
use std::time::{Duration, Instant};

/// Runs `conform run --target <cmd> [--node <node>] --report-dir <tmp>` and records its wall time and
/// exit code.
pub async fn measure(cmd: &Path, node: Option<&Path>, out: &mut Out) -> Result<(), String> {
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot find the conform executable: {e}"))?;
    let dir = tempfile::Builder::new()
        .prefix("cf-run.")
        .tempdir()
        .map_err(|e| format!("cannot create a report directory: {e}"))?;
    let start = Instant::now();
    let status = tokio::time::timeout(
        Duration::from_secs(30 * 60),
        tokio::process::Command::new(exe)
            .arg("run")
            .arg("--target")
            .arg(cmd)
            .args(
                node.iter()
                    .flat_map(|n| [std::ffi::OsStr::new("--node"), n.as_os_str()]),
            )
            .arg("--report-dir")
            .arg(dir.path())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .status(),
    )
    .await
    .map_err(|_| "conform run did not finish within 30 minutes".to_string())?
    .map_err(|e| format!("cannot run conform run: {e}"))?;
    out.push(RUN_WALL, start.elapsed().as_secs_f64());
    out.note(format!("conform run exited with {:?}", status.code()));
    Ok(())
}
