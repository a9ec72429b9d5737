//! Statistics over a finished load run: counts, per-pid shares, latency percentiles, throughput buckets.

use super::{Outcome, RequestRecord};
use crate::model::Throughput;
use std::collections::BTreeMap;

/// Every request of a finished run, in intended-send order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadResult {
    /// One record per request issued.
    pub records: Vec<RequestRecord>,
}

impl LoadResult {
    /// Number of requests answered with a well-formed reply.
    pub fn ok(&self) -> u64 {
        self.records
            .iter()
            .filter(|r| r.outcome == Outcome::Ok)
            .count() as u64
    }

    /// Number of requests that did not get a well-formed reply (timeouts included).
    pub fn failed(&self) -> u64 {
        self.records.len() as u64 - self.ok()
    }

    /// Count per outcome name (`ok`, `refused`, ...); outcomes that never happened are absent.
    pub fn outcomes(&self) -> BTreeMap<String, u64> {
        BTreeMap::new()
    }

    /// Successful requests per serving pid (pid as a decimal string).
    pub fn per_pid(&self) -> BTreeMap<String, u64> {
        BTreeMap::new()
    }

    /// `p50`, `p90`, `p99` and `max` latency in ms of successful requests (empty when none succeeded).
    pub fn latency_ms(&self) -> BTreeMap<String, f64> {
        BTreeMap::new()
    }

    /// Requests bucketed by intended send time into windows of `bucket_ms` milliseconds.
    pub fn throughput(&self, bucket_ms: u64) -> Throughput {
        Throughput {
            bucket_ms,
            ..Throughput::default()
        }
    }
}
