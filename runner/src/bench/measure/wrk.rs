//! The `wrk` cross-check: `wrk -t2 -c64 -d<s>s -H 'Connection: close'` and its summary parsed.

use std::path::Path;
use std::time::Duration;

/// What wrk reported.
#[derive(Debug, Clone, PartialEq)]
pub struct WrkSummary {
    /// `Requests/sec:`.
    pub rps: f64,
    /// Socket errors (connect + read + write + timeout) plus non-2xx/3xx responses.
    pub errors: u64,
}

/// Parses wrk's text output; `None` without a `Requests/sec:` line.
pub fn parse(text: &str) -> Option<WrkSummary> {
    let rps = text.lines().find_map(|l| {
        l.trim()
            .strip_prefix("Requests/sec:")?
            .trim()
            .parse::<f64>()
            .ok()
    })?;
    let mut errors = 0;
    for l in text.lines().map(str::trim) {
        if let Some(rest) = l.strip_prefix("Socket errors:") {
            // "connect 0, read 12, write 0, timeout 3"
            errors += rest
                .split(',')
                .filter_map(|part| part.split_whitespace().nth(1)?.parse::<u64>().ok())
                .sum::<u64>();
        } else if let Some(rest) = l.strip_prefix("Non-2xx or 3xx responses:") {
            errors += rest.trim().parse::<u64>().unwrap_or(0);
        }
    }
    Some(WrkSummary { rps, errors })
}

/// Runs wrk against `GET /` on the port with a new connection per request, for `duration`.
pub async fn run(wrk: &Path, port: u16, duration: Duration) -> Result<WrkSummary, String> {
    let secs = duration.as_secs().max(1);
    let out = tokio::time::timeout(
        duration + Duration::from_secs(15),
        tokio::process::Command::new(wrk)
            .args([
                "-t2",
                "-c64",
                &format!("-d{secs}s"),
                "-H",
                "Connection: close",
            ])
            .arg(format!("http://127.0.0.1:{port}/"))
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .map_err(|_| "wrk did not finish in time".to_string())?
    .map_err(|e| format!("cannot run {}: {e}", wrk.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    parse(&text).ok_or_else(|| {
        format!(
            "wrk printed no Requests/sec: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_wrk_summary() {
        let text = "Running 5s test @ http://127.0.0.1:3000/\n  2 threads and 64 connections\n\
            Thread Stats   Avg      Stdev     Max   +/- Stdev\n    Latency    11.73ms    2.01ms  40.08ms   90.11%\n\
            26541 requests in 5.00s, 4.53MB read\n  Socket errors: connect 0, read 12, write 1, timeout 3\n\
            Non-2xx or 3xx responses: 2\nRequests/sec:   5306.81\nTransfer/sec:    927.59KB\n";
        assert_eq!(
            parse(text),
            Some(WrkSummary {
                rps: 5306.81,
                errors: 18
            })
        );
        let clean = "Requests/sec:  100.5\n";
        assert_eq!(
            parse(clean),
            Some(WrkSummary {
                rps: 100.5,
                errors: 0
            })
        );
        assert_eq!(
            parse("unable to connect to 127.0.0.1:1 Connection refused"),
            None
        );
    }
}
