//! The catalogue of figures `conform bench` measures, and the collector of their samples.

use std::collections::BTreeMap;

/// Which way a figure is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    /// More is better (throughput).
    Higher,
    /// Less is better (latency, memory, failures).
    Lower,
}

/// One figure of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FigureDef {
    /// Stable id used in the JSON (`newconn.max_rps`).
    pub id: &'static str,
    /// Section the figure belongs to (`throughput`, `reload`, `cli`, `memory`, `scale`, `run`).
    pub section: &'static str,
    /// Unit (`req/s`, `ms`, `MB`, ...).
    pub unit: &'static str,
    /// Which way is better.
    pub better: Better,
}

const fn fig(
    id: &'static str,
    section: &'static str,
    unit: &'static str,
    better: Better,
) -> FigureDef {
    FigureDef {
        id,
        section,
        unit,
        better,
    }
}

/// New-connection sustained throughput: the knee of the runner's open-loop ramp (req/s with < 0.1 %
/// failed and a bounded p99, see `measure::knee`).
pub const NEWCONN_MAX: &str = "newconn.max_rps";
/// New-connection peak: the best ok rate of any ramp step, whatever its failures (ok req/s).
pub const NEWCONN_PEAK: &str = "newconn.peak_rps";
/// Share of the requests that failed in the new-connection peak step (%).
pub const NEWCONN_FAILED: &str = "newconn.peak_failed_pct";
/// New-connection throughput measured by wrk (cross-check).
pub const NEWCONN_WRK: &str = "newconn.wrk_rps";
/// New-connection latency p50 at the fixed latency rate.
pub const NEWCONN_P50: &str = "newconn.p50_ms";
/// New-connection latency p99 at the fixed latency rate.
pub const NEWCONN_P99: &str = "newconn.p99_ms";
/// Keep-alive sustained throughput: the knee of the runner's ramp (req/s).
pub const KEEPALIVE_MAX: &str = "keepalive.max_rps";
/// Keep-alive peak: the best ok rate of any ramp step (ok req/s).
pub const KEEPALIVE_PEAK: &str = "keepalive.peak_rps";
/// Share of the requests that failed in the keep-alive peak step (%).
pub const KEEPALIVE_FAILED: &str = "keepalive.peak_failed_pct";
/// Keep-alive latency p50 at the fixed latency rate.
pub const KEEPALIVE_P50: &str = "keepalive.p50_ms";
/// Keep-alive latency p99 at the fixed latency rate.
pub const KEEPALIVE_P99: &str = "keepalive.p99_ms";
/// Supervisor RSS with the `-i 2` app idle.
pub const RSS_IDLE: &str = "memory.idle_rss_mb";
/// Supervisor RSS during the new-connection max-throughput sample.
pub const RSS_LOAD: &str = "memory.load_rss_mb";
/// Supervisor CPU-seconds per 10k new connections answered.
pub const CPU_PER_10K: &str = "memory.cpu_s_per_10k";
/// Failed requests per reload under fixed new-connection load, `-i 4`.
pub const RELOAD_FAILED: &str = "reload.failed_per_reload";
/// Requests issued during each reload's window (the denominator of the failures).
pub const RELOAD_REQUESTS: &str = "reload.requests_per_reload";
/// Failed requests per reload under fixed keep-alive load (16 reused client connections), `-i 4`.
pub const RELOAD_KA_FAILED: &str = "reload.keepalive_failed_per_reload";
/// Requests issued during each keep-alive reload's window.
pub const RELOAD_KA_REQUESTS: &str = "reload.keepalive_requests_per_reload";
/// Wall time of one `reload` command with `-i 4`.
pub const RELOAD_WALL: &str = "reload.wall_ms";
/// The first command in a fresh home (it starts the daemon): `jlist`.
pub const CLI_FIRST: &str = "cli.first_jlist_ms";
/// `jlist` with one `-i 2` app.
pub const CLI_JLIST: &str = "cli.jlist_ms";
/// `start -i 2`.
pub const CLI_START: &str = "cli.start_ms";
/// `reload` of the `-i 2` app.
pub const CLI_RELOAD: &str = "cli.reload_ms";
/// `stop` of the `-i 2` app.
pub const CLI_STOP: &str = "cli.stop_ms";
/// `start -i 4` of one more idle app, while 0..N apps are up.
pub const SCALE_START: &str = "scale.start_ms";
/// `jlist` with N apps / 4N processes up.
pub const SCALE_JLIST: &str = "scale.jlist_ms";
/// Supervisor RSS with N apps / 4N processes up.
pub const SCALE_RSS: &str = "scale.rss_mb";
/// Wall time of a full `conform run` against the target.
pub const RUN_WALL: &str = "run.wall_s";

/// Every figure, in report order.
pub const FIGURES: &[FigureDef] = &[
    fig(NEWCONN_MAX, "throughput", "req/s", Better::Higher),
    fig(NEWCONN_PEAK, "throughput", "req/s", Better::Higher),
    fig(NEWCONN_FAILED, "throughput", "%", Better::Lower),
    fig(NEWCONN_WRK, "throughput", "req/s", Better::Higher),
    fig(NEWCONN_P50, "throughput", "ms", Better::Lower),
    fig(NEWCONN_P99, "throughput", "ms", Better::Lower),
    fig(KEEPALIVE_MAX, "throughput", "req/s", Better::Higher),
    fig(KEEPALIVE_PEAK, "throughput", "req/s", Better::Higher),
    fig(KEEPALIVE_FAILED, "throughput", "%", Better::Lower),
    fig(KEEPALIVE_P50, "throughput", "ms", Better::Lower),
    fig(KEEPALIVE_P99, "throughput", "ms", Better::Lower),
    fig(RSS_IDLE, "memory", "MB", Better::Lower),
    fig(RSS_LOAD, "memory", "MB", Better::Lower),
    fig(CPU_PER_10K, "memory", "CPU-s", Better::Lower),
    fig(RELOAD_FAILED, "reload", "req", Better::Lower),
    fig(RELOAD_REQUESTS, "reload", "req", Better::Higher),
    fig(RELOAD_KA_FAILED, "reload", "req", Better::Lower),
    fig(RELOAD_KA_REQUESTS, "reload", "req", Better::Higher),
    fig(RELOAD_WALL, "reload", "ms", Better::Lower),
    fig(CLI_FIRST, "cli", "ms", Better::Lower),
    fig(CLI_JLIST, "cli", "ms", Better::Lower),
    fig(CLI_START, "cli", "ms", Better::Lower),
    fig(CLI_RELOAD, "cli", "ms", Better::Lower),
    fig(CLI_STOP, "cli", "ms", Better::Lower),
    fig(SCALE_START, "scale", "ms", Better::Lower),
    fig(SCALE_JLIST, "scale", "ms", Better::Lower),
    fig(SCALE_RSS, "scale", "MB", Better::Lower),
    fig(RUN_WALL, "run", "s", Better::Lower),
];

/// The catalogue entry of a figure id.
pub fn def(id: &str) -> Option<&'static FigureDef> {
    FIGURES.iter().find(|f| f.id == id)
}

/// Parameters that appear in figure titles.
#[derive(Debug, Clone, PartialEq)]
pub struct TitleParams {
    /// Rate of the fixed-rate latency samples (req/s).
    pub latency_rate: u32,
    /// Rate of the load during reloads (req/s).
    pub reload_rate: u32,
    /// Apps in the scale figure.
    pub scale_apps: usize,
    /// Sample length in seconds.
    pub sample_secs: f64,
}

/// The human title of a figure, with its parameters filled in.
pub fn title(id: &str, p: &TitleParams) -> String {
    let (n, procs) = (p.scale_apps, p.scale_apps * 4);
    match id {
        NEWCONN_MAX => "new-connection sustained throughput, -i 2 (knee of the runner's open-loop ramp: < 0.1 % failed, p99 ≤ 100 ms)".into(),
        NEWCONN_PEAK => "new-connection peak ok rate, -i 2 (best step of the ramp, failures allowed)".into(),
        NEWCONN_FAILED => "new-connection peak: failed requests in that step".into(),
        NEWCONN_WRK => format!("new-connection throughput, -i 2 (wrk -t2 -c64 -d{}s, Connection: close)", p.sample_secs),
        NEWCONN_P50 => format!("new-connection latency p50 at {} req/s", p.latency_rate),
        NEWCONN_P99 => format!("new-connection latency p99 at {} req/s", p.latency_rate),
        KEEPALIVE_MAX => "keep-alive sustained throughput, -i 2 (knee of the runner's open-loop ramp: < 0.1 % failed, p99 ≤ 100 ms)".into(),
        KEEPALIVE_PEAK => "keep-alive peak ok rate, -i 2 (best step of the ramp, failures allowed)".into(),
        KEEPALIVE_FAILED => "keep-alive peak: failed requests in that step".into(),
        KEEPALIVE_P50 => format!("keep-alive latency p50 at {} req/s", p.latency_rate),
        KEEPALIVE_P99 => format!("keep-alive latency p99 at {} req/s", p.latency_rate),
        RSS_IDLE => "supervisor RSS, -i 2 idle".into(),
        RSS_LOAD => "supervisor RSS under new-connection load".into(),
        CPU_PER_10K => "supervisor CPU-seconds per 10k new connections".into(),
        RELOAD_FAILED => format!("failed requests per reload, -i 4, {} req/s new-connection", p.reload_rate),
        RELOAD_REQUESTS => "requests per reload window (from one reload's start to the next)".into(),
        RELOAD_KA_FAILED => format!(
            "failed requests per reload, -i 4, {} req/s keep-alive ({} reused client connections)",
            p.reload_rate,
            crate::bench::measure::reload::KEEPALIVE_CONNECTIONS
        ),
        RELOAD_KA_REQUESTS => "keep-alive: requests per reload window".into(),
        RELOAD_WALL => "reload wall time, -i 4".into(),
        CLI_FIRST => "CLI: first jlist in a fresh home (starts the daemon)".into(),
        CLI_JLIST => "CLI: jlist (one -i 2 app)".into(),
        CLI_START => "CLI: start -i 2".into(),
        CLI_RELOAD => "CLI: reload (-i 2)".into(),
        CLI_STOP => "CLI: stop (-i 2)".into(),
        SCALE_START => format!("scale: start -i 4 of one more app (0..{n} apps up)"),
        SCALE_JLIST => format!("scale: jlist with {n} apps / {procs} processes"),
        SCALE_RSS => format!("scale: supervisor RSS with {n} apps / {procs} processes"),
        RUN_WALL => "wall time of a full `conform run`".into(),
        other => other.to_string(),
    }
}

/// Samples collected during a run: per figure, per subject, in the order they were first seen.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Samples {
    values: BTreeMap<(String, String), Vec<f64>>,
}

impl Samples {
    /// Adds one sample of `figure` for `subject`; non-finite values are ignored.
    pub fn push(&mut self, figure: &str, subject: &str, value: f64) {
        if value.is_finite() {
            self.values
                .entry((figure.to_string(), subject.to_string()))
                .or_default()
                .push(value);
        }
    }

    /// The samples of `figure` for `subject` (empty when none).
    pub fn get(&self, figure: &str, subject: &str) -> &[f64] {
        self.values
            .get(&(figure.to_string(), subject.to_string()))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Whether nothing was collected.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_titled() {
        let p = TitleParams {
            latency_rate: 1000,
            reload_rate: 2000,
            scale_apps: 100,
            sample_secs: 5.0,
        };
        for (i, f) in FIGURES.iter().enumerate() {
            assert!(
                FIGURES[i + 1..].iter().all(|g| g.id != f.id),
                "duplicate {}",
                f.id
            );
            assert_ne!(title(f.id, &p), f.id, "no title for {}", f.id);
        }
        assert!(title(SCALE_JLIST, &p).contains("400 processes"));
        assert_eq!(def(CLI_JLIST).unwrap().better, Better::Lower);
        assert!(def("nope").is_none());
    }

    #[test]
    fn samples_keep_order_and_drop_non_finite() {
        let mut s = Samples::default();
        s.push(CLI_JLIST, "a", 3.0);
        s.push(CLI_JLIST, "a", f64::NAN);
        s.push(CLI_JLIST, "a", 1.0);
        assert_eq!(s.get(CLI_JLIST, "a"), &[3.0, 1.0]);
        assert!(s.get(CLI_JLIST, "b").is_empty());
    }
}
