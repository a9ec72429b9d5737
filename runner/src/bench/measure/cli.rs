//! CLI latency: wall time of the target's own commands in a fresh home, with one `-i 2` app.

use super::Out;
use crate::bench::figures::{CLI_FIRST, CLI_JLIST, CLI_RELOAD, CLI_START, CLI_STOP};
use crate::bench::knobs::Knobs;
use crate::bench::live::{self, timed};
use crate::target::Sandbox;
use std::path::Path;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(60);

/// First `jlist` (starts the daemon), `start -i 2`, `jlist` × N, `reload`, `stop`.
pub async fn measure(
    sb: &mut Sandbox,
    cmd: &Path,
    script: &Path,
    k: &Knobs,
    out: &mut Out,
) -> Result<(), String> {
    let port = crate::target::ports::free_port().map_err(|e| format!("no free port: {e}"))?;
    live::set_var(sb, "PORT", &port.to_string());
    out.push(CLI_FIRST, timed(sb, cmd, &["jlist"], DEADLINE).await?);
    let script = script.display().to_string();
    out.push(
        CLI_START,
        timed(
            sb,
            cmd,
            &["start", &script, "-i", "2", "--name", "cli"],
            DEADLINE,
        )
        .await?,
    );
    live::wait_online(sb, cmd, 2, Duration::from_secs(30)).await?;
    for _ in 0..k.jlist_samples {
        out.push(CLI_JLIST, timed(sb, cmd, &["jlist"], DEADLINE).await?);
    }
    out.push(
        CLI_RELOAD,
        timed(sb, cmd, &["reload", "cli"], DEADLINE).await?,
    );
    live::wait_online(sb, cmd, 2, Duration::from_secs(30)).await?;
    out.push(CLI_STOP, timed(sb, cmd, &["stop", "cli"], DEADLINE).await?);
    Ok(())
}
