//! The throughput ramp and its knee: the highest rate a subject sustains.
//!
//! The ramp steps the open-loop rate up (×[`RAMP_FACTOR`] per step) until the achieved ok rate stops
//! growing ([`ramp_done`]). A step is *sustained* ([`sustained`]) when fewer than 0.1 % of its requests
//! failed, its p99 latency (from the intended send time, so a queue shows) stays at most
//! [`MAX_P99_MS`], and the ok replies kept up with the offered rate. The throughput figure is the
//! highest sustained rate ([`knee`]), refined by bisecting between it and the next ramp rate
//! ([`bisect`]). The best ok rate of any step ([`peak`]) is reported beside it with the share of its
//! requests that failed: a server can answer more per second while dropping some, and the old
//! "best ok rate" figure hid exactly that.

/// Rate multiplier between ramp steps.
pub const RAMP_FACTOR: f64 = 1.5;
/// Most steps of one ramp (the bisection steps come on top).
pub const RAMP_STEPS: usize = 10;
/// Bisection steps between the knee and the first rate above it that was not sustained.
pub const BISECT_STEPS: usize = 2;
/// Largest share of failed requests of a sustained step (0.1 %).
pub const MAX_FAILED_SHARE: f64 = 0.001;
/// Largest p99 latency of a sustained step, ms: a tenth of the ramp's request timeout, and far above
/// any subject's p99 below its capacity on the loaded test machine (≤ 35 ms at 1000 req/s).
pub const MAX_P99_MS: f64 = 100.0;
/// Smallest ok rate of a sustained step as a share of its offered rate.
pub const MIN_KEEP_UP: f64 = 0.95;

/// One step of a ramp.
#[derive(Debug, Clone, PartialEq)]
pub struct RampStep {
    /// Intended rate (req/s).
    pub rate: u32,
    /// Achieved ok replies per second (see `throughput::ok_rate`).
    pub ok_rate: f64,
    /// Requests issued.
    pub sent: u64,
    /// Requests that failed.
    pub failed: u64,
    /// p99 latency of the ok replies, ms (`None` when nothing succeeded).
    pub p99_ms: Option<f64>,
}

impl RampStep {
    /// Share of the step's requests that failed (0 when none was sent).
    pub fn failed_share(&self) -> f64 {
        if self.sent == 0 {
            0.0
        } else {
            self.failed as f64 / self.sent as f64
        }
    }
}

/// The rates of a ramp, [`RAMP_STEPS`] of them: `first` (the latency step), then from `2 × first`
/// ×[`RAMP_FACTOR`] each step.
pub fn ramp_rates(first: u32) -> Vec<u32> {
    let base = 2.0 * f64::from(first);
    std::iter::once(first)
        .chain((0..RAMP_STEPS - 1).map(|i| (base * RAMP_FACTOR.powi(i as i32)).round() as u32))
        .collect()
}

/// Whether the ramp stops after `steps`: neither of the last two steps raised the best ok rate of
/// the steps before it by 5 %. A hiccup of a shared machine costs one step, not the ramp; a server at
/// its limit stops improving whatever the offered rate.
pub fn ramp_done(steps: &[RampStep]) -> bool {
    let improves = |j: usize| {
        let best_before = steps[..j].iter().map(|s| s.ok_rate).fold(0.0, f64::max);
        steps[j].ok_rate >= best_before * 1.05
    };
    steps.len() >= 3 && !improves(steps.len() - 1) && !improves(steps.len() - 2)
}

/// Whether a step was sustained: < 0.1 % failed, p99 ≤ [`MAX_P99_MS`], ok rate ≥ 95 % of offered.
pub fn sustained(s: &RampStep) -> bool {
    s.sent > 0
        && s.failed_share() < MAX_FAILED_SHARE
        && s.p99_ms.is_some_and(|p| p <= MAX_P99_MS)
        && s.ok_rate >= MIN_KEEP_UP * f64::from(s.rate)
}

/// The knee: the sustained step with the highest rate (a hiccup that spoils a lower step does not
/// lower it), `None` when no step was sustained.
pub fn knee(steps: &[RampStep]) -> Option<&RampStep> {
    steps.iter().filter(|s| sustained(s)).max_by_key(|s| s.rate)
}

/// The next rate to try between the knee and the lowest higher rate that was not sustained
/// (their geometric mean), or `None` when there is no such bracket or it is already within 5 %.
pub fn bisect(steps: &[RampStep]) -> Option<u32> {
    let lo = knee(steps)?.rate;
    let hi = steps
        .iter()
        .filter(|s| s.rate > lo && !sustained(s))
        .map(|s| s.rate)
        .min()?;
    let mid = (f64::from(lo) * f64::from(hi)).sqrt().round() as u32;
    (f64::from(hi) > f64::from(lo) * 1.05 && mid > lo && mid < hi).then_some(mid)
}

/// How many halvings below the first rate the ramp tries when not even its first step was sustained.
pub const DESCEND_STEPS: usize = 3;

/// The next rate to try below the ramp when no step so far was sustained: half the lowest tried, at
/// most [`DESCEND_STEPS`] times (1000 → 500 → 250 → 125 req/s); `None` once a step is sustained or
/// the descent is spent. Without it a slow machine (or a debug build) reports a knee of 0 and no
/// ratio can be formed.
pub fn descend(steps: &[RampStep], first: u32) -> Option<u32> {
    if steps.is_empty() || knee(steps).is_some() {
        return None;
    }
    let lowest = steps.iter().map(|s| s.rate).min()?;
    let floor = first >> DESCEND_STEPS;
    let next = lowest / 2;
    (next >= floor.max(1) && next < lowest).then_some(next)
}

/// The step with the best ok rate, whatever its failures.
pub fn peak(steps: &[RampStep]) -> Option<&RampStep> {
    steps.iter().max_by(|a, b| a.ok_rate.total_cmp(&b.ok_rate))
}

/// One line per step for the notes: `4500/s→4490 ok/s, 0 failed (0.00 %), p99 12.3 ms, sustained`.
pub fn trace(steps: &[RampStep]) -> String {
    steps
        .iter()
        .map(|s| {
            format!(
                "{}/s→{:.0} ok/s, {} failed ({:.2} %), p99 {}, {}",
                s.rate,
                s.ok_rate,
                s.failed,
                s.failed_share() * 100.0,
                s.p99_ms.map_or("-".to_string(), |p| format!("{p:.1} ms")),
                if sustained(s) {
                    "sustained"
                } else {
                    "not sustained"
                }
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn descends_by_halves_until_a_step_is_sustained() {
        let failing = |r: u32| step(r, 10.0, 900, 900.0);
        assert_eq!(descend(&[failing(1000)], 1000), Some(500));
        assert_eq!(descend(&[failing(1000), failing(500)], 1000), Some(250));
        assert_eq!(
            descend(&[failing(1000), failing(500), failing(250)], 1000),
            Some(125)
        );
        assert_eq!(
            descend(
                &[failing(1000), failing(500), failing(250), failing(125)],
                1000
            ),
            None
        );
        assert_eq!(
            descend(&[failing(1000), step(500, 500.0, 0, 4.0)], 1000),
            None
        );
        assert_eq!(descend(&[step(1000, 1000.0, 0, 4.0)], 1000), None);
        assert_eq!(descend(&[], 1000), None);
    }

    use super::*;
    use rstest::rstest;

    fn step(rate: u32, ok_rate: f64, failed: u64, p99: f64) -> RampStep {
        RampStep {
            rate,
            ok_rate,
            sent: u64::from(rate),
            failed,
            p99_ms: Some(p99),
        }
    }

    #[test]
    fn ramp_rates_grow_geometrically() {
        let r = ramp_rates(1000);
        assert_eq!(r.len(), RAMP_STEPS);
        assert_eq!(&r[..5], &[1000, 2000, 3000, 4500, 6750]);
    }

    #[test]
    fn ramp_stops_when_two_steps_in_a_row_do_not_improve() {
        let mut s = vec![step(1000, 1000.0, 0, 5.0), step(2000, 1300.0, 0, 5.0)];
        assert!(!ramp_done(&s));
        // a hiccup (no gain) followed by a gain: the ramp goes on
        s.push(step(3000, 1310.0, 0, 5.0));
        assert!(!ramp_done(&s));
        s.push(step(4500, 4400.0, 0, 5.0));
        assert!(!ramp_done(&s));
        // saturated: late replies or failures, the ok rate no longer grows by 5 %
        s.push(step(6750, 4500.0, 0, 5.0));
        assert!(!ramp_done(&s));
        s.push(step(10125, 4300.0, 3000, 5.0));
        assert!(ramp_done(&s));
        assert!(!ramp_done(&[]));
        assert!(!ramp_done(&[
            step(1000, 10.0, 900, 5.0),
            step(2000, 5.0, 900, 5.0)
        ]));
    }

    #[rstest]
    #[case::clean(step(4500, 4490.0, 0, 12.0), true)]
    // 4 of 4500 is 0.089 %: under the bound; 5 is 0.11 %: over
    #[case::few_failures(step(4500, 4490.0, 4, 12.0), true)]
    #[case::failures_at_the_bound(step(4500, 4490.0, 5, 12.0), false)]
    #[case::p99_at_the_bound(step(4500, 4490.0, 0, MAX_P99_MS), true)]
    #[case::p99_over(step(4500, 4490.0, 0, MAX_P99_MS + 0.1), false)]
    #[case::falls_behind(step(4500, 4200.0, 0, 12.0), false)]
    #[case::nothing_answered(RampStep { p99_ms: None, ..step(4500, 0.0, 4500, 0.0) }, false)]
    #[case::nothing_sent(RampStep { sent: 0, ..step(4500, 0.0, 0, 1.0) }, false)]
    fn the_sustained_rule(#[case] s: RampStep, #[case] want: bool) {
        assert_eq!(sustained(&s), want, "{}", trace(std::slice::from_ref(&s)));
    }

    #[test]
    fn the_knee_is_the_highest_sustained_rate_not_the_best_ok_rate() {
        // the refpm `shared` shape of the issue: the best ok rate came with 2,544 failures
        let s = vec![
            step(1000, 1000.0, 0, 4.0),
            step(2000, 2000.0, 0, 5.0),
            step(3000, 2990.0, 0, 6.0),
            step(4500, 4480.0, 0, 20.0),
            step(6750, 6300.0, 2544, 400.0),
            step(10125, 6100.0, 5000, 900.0),
            step(15188, 5900.0, 9000, 990.0),
        ];
        assert_eq!(knee(&s).unwrap().rate, 4500);
        let p = peak(&s).unwrap();
        assert_eq!((p.rate, p.failed), (6750, 2544));
        // bisection: between 4500 and 6750
        assert_eq!(bisect(&s), Some(5511));
    }

    #[test]
    fn a_hiccup_below_the_knee_does_not_lower_it() {
        let s = vec![
            step(1000, 1000.0, 0, 4.0),
            step(2000, 2000.0, 0, 180.0), // the machine stalled for a moment
            step(3000, 3000.0, 0, 6.0),
            step(4500, 3100.0, 900, 700.0),
        ];
        assert_eq!(knee(&s).unwrap().rate, 3000);
        assert_eq!(bisect(&s), Some(3674));
    }

    #[test]
    fn bisection_narrows_the_bracket_and_stops_within_five_percent() {
        let mut s = vec![step(3000, 3000.0, 0, 6.0), step(4500, 3100.0, 900, 700.0)];
        let mid = bisect(&s).unwrap();
        s.push(step(mid, f64::from(mid), 0, 9.0)); // sustained: the knee moves up
        assert_eq!(knee(&s).unwrap().rate, mid);
        let mid2 = bisect(&s).unwrap();
        assert!(mid2 > mid && mid2 < 4500);
        s.push(step(mid2, 3200.0, 40, 300.0)); // not sustained: the bracket's top moves down
        let b = bisect(&s);
        assert!(b.is_none_or(|r| r > mid && r < mid2), "{b:?}");
        assert_eq!(
            bisect(&[step(1000, 1000.0, 0, 1.0), step(1040, 10.0, 900, 900.0)]),
            None
        );
    }

    #[test]
    fn no_sustained_step_means_no_knee() {
        let s = vec![
            step(1000, 600.0, 400, 900.0),
            step(2000, 650.0, 1350, 990.0),
        ];
        assert!(knee(&s).is_none());
        assert!(bisect(&s).is_none());
        assert_eq!(peak(&s).unwrap().rate, 2000);
        assert!(knee(&[]).is_none() && peak(&[]).is_none());
    }
}
