//! Scale: N idle fork-mode apps of 4 processes each (`fixtures/bench/idle.sh -i 4`): the wall time of
//! each `start` while the list grows, then `jlist` with everything up, and the supervisor's RSS.

use super::Out;
use crate::bench::figures::{SCALE_JLIST, SCALE_RSS, SCALE_START};
use crate::bench::knobs::Knobs;
use crate::bench::live::{self, timed};
use crate::bench::procinfo;
use crate::target::Sandbox;
use std::path::Path;
use std::time::Duration;

/// Starts `k.scale_apps` apps one by one, waits until all their processes are online, then times `jlist`.
pub async fn measure(
    sb: &Sandbox,
    cmd: &Path,
    idle: &Path,
    k: &Knobs,
    out: &mut Out,
) -> Result<(), String> {
    // the daemon is started first so that the first start is not charged with it
    timed(sb, cmd, &["jlist"], Duration::from_secs(60)).await?;
    let script = idle.display().to_string();
    for i in 0..k.scale_apps {
        let name = format!("idle-{i}");
        out.push(
            SCALE_START,
            timed(
                sb,
                cmd,
                &["start", &script, "-i", "4", "--name", &name],
                Duration::from_secs(60),
            )
            .await?,
        );
    }
    let want = k.scale_apps * 4;
    let apps = live::wait_online(sb, cmd, want, Duration::from_secs(120)).await?;
    for _ in 0..k.jlist_samples {
        out.push(
            SCALE_JLIST,
            timed(sb, cmd, &["jlist"], Duration::from_secs(60)).await?,
        );
    }
    if let Some(rss) = procinfo::find_daemon(sb.path(), &apps).and_then(procinfo::rss_mb) {
        out.push(SCALE_RSS, rss);
    }
    out.note(format!("{} processes online", apps.len()));
    Ok(())
}
