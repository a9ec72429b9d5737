//! Statistics over a finished load run: counts, per-pid shares, latency percentiles, throughput buckets.

use super::{Outcome, RequestRecord};
use crate::model::Throughput;
use hdrhistogram::Histogram;
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
        let mut m = BTreeMap::new();
        for r in &self.records {
            *m.entry(r.outcome.as_str().to_string()).or_default() += 1;
        }
        m
    }

    /// Successful requests per serving pid (pid as a decimal string).
    pub fn per_pid(&self) -> BTreeMap<String, u64> {
        let mut m = BTreeMap::new();
        for r in &self.records {
            if let (Outcome::Ok, Some(pid)) = (r.outcome, r.pid) {
                *m.entry(pid.to_string()).or_default() += 1;
            }
        }
        m
    }

    /// `p50`, `p90`, `p99` and `max` latency in ms of the successful requests, from an HDR histogram
    /// (microsecond resolution, 3 significant digits); latency counts from the intended send time.
    /// Empty when no request succeeded.
    pub fn latency_ms(&self) -> BTreeMap<String, f64> {
        let mut m = BTreeMap::new();
        let Ok(mut h) = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3) else {
            return m;
        };
        for r in self.records.iter().filter(|r| r.outcome == Outcome::Ok) {
            h.saturating_record((r.latency_ms * 1000.0).round().max(1.0) as u64);
        }
        if h.is_empty() {
            return m;
        }
        for (name, q) in [("p50", 0.50), ("p90", 0.90), ("p99", 0.99)] {
            m.insert(name.to_string(), h.value_at_quantile(q) as f64 / 1000.0);
        }
        m.insert("max".to_string(), h.max() as f64 / 1000.0);
        m
    }

    /// Requests bucketed by *intended* send time into windows of `bucket_ms` ms starting at 0 (`t0`),
    /// so a failure shows at the moment the request was due; records before `t0` go to bucket 0.
    pub fn throughput(&self, bucket_ms: u64) -> Throughput {
        let bucket_ms = bucket_ms.max(1);
        let mut t = Throughput {
            bucket_ms,
            ..Throughput::default()
        };
        for r in &self.records {
            let i = (r.intended_ms.max(0.0) / bucket_ms as f64) as usize;
            if t.ok.len() <= i {
                t.ok.resize(i + 1, 0);
                t.failed.resize(i + 1, 0);
            }
            if r.outcome == Outcome::Ok {
                t.ok[i] += 1;
            } else {
                t.failed[i] += 1;
                let by = t
                    .failed_by
                    .entry(r.outcome.as_str().to_string())
                    .or_default();
                if by.len() <= i {
                    by.resize(i + 1, 0);
                }
                by[i] += 1;
            }
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(intended_ms: f64, latency_ms: f64, outcome: Outcome, pid: Option<u32>) -> RequestRecord {
        RequestRecord {
            intended_ms,
            sent_ms: intended_ms,
            latency_ms,
            outcome,
            pid,
            instance: None,
        }
    }

    #[test]
    fn counts_outcomes_and_pids() {
        let r = LoadResult {
            records: vec![
                rec(0.0, 1.0, Outcome::Ok, Some(7)),
                rec(1.0, 1.0, Outcome::Ok, Some(8)),
                rec(2.0, 1.0, Outcome::Ok, Some(7)),
                rec(3.0, 1.0, Outcome::Refused, None),
                rec(4.0, 1.0, Outcome::Status5xx, None),
            ],
        };
        assert_eq!((r.ok(), r.failed()), (3, 2));
        let o = r.outcomes();
        assert_eq!((o["ok"], o["refused"], o["5xx"], o.len()), (3, 1, 1, 3));
        let p = r.per_pid();
        assert_eq!((p["7"], p["8"], p.len()), (2, 1, 2));
    }

    #[test]
    fn percentiles_of_one_to_a_hundred_ms() {
        let mut records: Vec<_> = (1..=100)
            .map(|i| rec(i as f64, i as f64, Outcome::Ok, Some(1)))
            .collect();
        // failures never enter the histogram
        records.push(rec(0.0, 5000.0, Outcome::Timeout, None));
        let l = LoadResult { records }.latency_ms();
        let close = |k: &str, v: f64| (l[k] - v).abs() <= v * 0.002 + 0.001;
        assert!(close("p50", 50.0), "{l:?}");
        assert!(close("p90", 90.0), "{l:?}");
        assert!(close("p99", 99.0), "{l:?}");
        assert!(close("max", 100.0), "{l:?}");
        assert!(LoadResult::default().latency_ms().is_empty());
    }

    #[test]
    fn throughput_buckets_by_intended_time() {
        let r = LoadResult {
            records: vec![
                rec(5.0, 1.0, Outcome::Ok, Some(1)),
                rec(99.9, 1.0, Outcome::Ok, Some(1)),
                rec(100.0, 1.0, Outcome::Reset, None),
                rec(350.0, 1.0, Outcome::Ok, Some(1)),
                rec(-3.0, 1.0, Outcome::Ok, Some(1)),
            ],
        };
        let t = r.throughput(100);
        assert_eq!(t.bucket_ms, 100);
        assert_eq!(t.ok, vec![3, 0, 0, 1]);
        assert_eq!(t.failed, vec![0, 1, 0, 0]);
        assert_eq!(t.failed_by["reset"], vec![0, 1]);
        assert_eq!(t.failed_by.len(), 1);
        assert_eq!(LoadResult::default().throughput(0).bucket_ms, 1);
    }

    #[test]
    fn outcome_serialises_as_its_short_name() {
        use Outcome::*;
        for o in [
            Ok,
            Refused,
            Reset,
            ResetReused,
            ResetMidResponse,
            Timeout,
            Status5xx,
            Truncated,
            Other,
        ] {
            let json = serde_json::to_string(&o).unwrap();
            assert_eq!(json, format!("\"{}\"", o.as_str()));
            assert_eq!(serde_json::from_str::<Outcome>(&json).unwrap(), o);
        }
    }
}
