//! Durations, rates and counts of one bench run (defaults, and the `--quick` set for tests).

use std::path::PathBuf;
use std::time::Duration;

/// Every tunable of the measurements.
#[derive(Debug, Clone, PartialEq)]
pub struct Knobs {
    /// Length of wrk's `-d` sample.
    pub sample: Duration,
    /// Length of the fixed-rate latency sample (the first ramp step).
    pub latency_sample: Duration,
    /// Head of the latency sample left out of the latency figures (the keep-alive pool fills then);
    /// its own p50/p99 are kept as a note.
    pub warmup: Duration,
    /// Rate of the latency samples and first ramp step (req/s), well below every subject's capacity.
    pub latency_rate: u32,
    /// Length of each further ramp step.
    pub ramp_step: Duration,
    /// Per-request timeout of the ramp steps (short: an overloaded step must not wait long for its tail).
    pub ramp_timeout: Duration,
    /// Per-request timeout of the load during reloads.
    pub timeout: Duration,
    /// `wrk` executable for the cross-check, when installed.
    pub wrk: Option<PathBuf>,
    /// New-connection rate kept up during reloads (req/s).
    pub reload_rate: u32,
    /// Shortest time from one reload's start to the next.
    pub reload_window: Duration,
    /// Instances of the reload app.
    pub reload_instances: u32,
    /// Apps of the scale section (each `-i 4`).
    pub scale_apps: usize,
    /// `jlist` samples per CLI or scale step.
    pub jlist_samples: usize,
}

impl Knobs {
    /// Full-length defaults (5 s samples, 100 apps).
    pub fn full(wrk: Option<PathBuf>) -> Self {
        Knobs {
            sample: Duration::from_secs(5),
            latency_sample: Duration::from_secs(1),
            warmup: Duration::from_millis(500),
            latency_rate: 1000,
            ramp_step: Duration::from_millis(500),
            ramp_timeout: Duration::from_secs(1),
            timeout: Duration::from_secs(2),
            wrk,
            reload_rate: 2000,
            reload_window: Duration::from_secs(2),
            reload_instances: 4,
            scale_apps: 100,
            jlist_samples: 5,
        }
    }

    /// Short samples for tests (`--quick`): 1 s samples, 10 apps.
    pub fn quick(wrk: Option<PathBuf>) -> Self {
        Knobs {
            sample: Duration::from_secs(1),
            latency_sample: Duration::from_millis(500),
            warmup: Duration::from_millis(200),
            ramp_step: Duration::from_millis(300),
            reload_window: Duration::from_millis(500),
            scale_apps: 10,
            jlist_samples: 2,
            ..Knobs::full(wrk)
        }
    }
}

/// `wrk` on PATH (or at `/usr/bin/wrk`), if installed.
pub fn find_wrk() -> Option<PathBuf> {
    std::env::var_os("PATH")
        .and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("wrk"))
                .find(|p| p.is_file())
        })
        .or_else(|| Some(PathBuf::from("/usr/bin/wrk")).filter(|p| p.is_file()))
}
