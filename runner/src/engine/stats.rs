//! The statistics behind the fairness and zero-drop verdicts: exact binomial tails, the false-alarm
//! and detection probabilities of the fairness check, and what zero failures out of `n` requests or
//! `r` reloads let us claim. Pure functions; `suites/README.md` ("Sample sizes") explains the model.

/// The confidence every statistical verdict aims for: a conforming manager passes with at least this
/// probability, and the mutation the check exists for is caught with at least this probability.
pub const CONFIDENCE: f64 = 0.999;

/// The share of its fair share an unfair worker gets in the alternative the fairness sizes are chosen
/// against ("one worker gets half its fair share").
pub const UNFAIR_SHARE: f64 = 0.5;

/// `ln(x + y)` from `ln x` and `ln y`.
fn log_add(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY {
        return b;
    }
    if b == f64::NEG_INFINITY {
        return a;
    }
    let (hi, lo) = if a > b { (a, b) } else { (b, a) };
    hi + (lo - hi).exp().ln_1p()
}

/// The binomial probabilities `P(X = i)` for `i` in `0..=n`, `X ~ Bin(n, p)`, computed in log space
/// (exact for the sizes used here, no overflow for large `n`).
fn log_pmf(n: u64, p: f64) -> Vec<f64> {
    if p <= 0.0 {
        return (0..=n)
            .map(|i| if i == 0 { 0.0 } else { f64::NEG_INFINITY })
            .collect();
    }
    if p >= 1.0 {
        return (0..=n)
            .map(|i| if i == n { 0.0 } else { f64::NEG_INFINITY })
            .collect();
    }
    let (lp, lq) = (p.ln(), (1.0 - p).ln());
    let mut out = Vec::with_capacity(n as usize + 1);
    let mut cur = n as f64 * lq;
    out.push(cur);
    for i in 0..n {
        cur += ((n - i) as f64).ln() - ((i + 1) as f64).ln() + lp - lq;
        out.push(cur);
    }
    out
}

/// `P(X <= k)` for `X ~ Bin(n, p)`.
pub fn binom_cdf(k: u64, n: u64, p: f64) -> f64 {
    let pmf = log_pmf(n, p);
    let upto = k.min(n) as usize;
    pmf[..=upto]
        .iter()
        .fold(f64::NEG_INFINITY, |acc, &x| log_add(acc, x))
        .exp()
        .min(1.0)
}

/// `P(X >= k)` for `X ~ Bin(n, p)`.
pub fn binom_sf(k: u64, n: u64, p: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > n {
        return 0.0;
    }
    let pmf = log_pmf(n, p);
    pmf[k as usize..]
        .iter()
        .fold(f64::NEG_INFINITY, |acc, &x| log_add(acc, x))
        .exp()
        .min(1.0)
}

/// What a fairness verdict over `n` answered requests and `k` workers can claim at `tolerance`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FairnessPower {
    /// Requests the verdict is judged on.
    pub sample: u64,
    /// Workers sharing them.
    pub workers: usize,
    /// The deviation from the mean share the check allows, as a fraction: the scenario's tolerance,
    /// or the 99.9 % band of a fair manager when the sample is too small for the tolerance.
    pub allowed: f64,
    /// Upper bound of the probability that a fair manager (every request to a uniformly random
    /// worker) deviates more than `allowed`: the false-alarm rate (≤ 0.1 % by construction).
    pub false_alarm: f64,
    /// Probability that a manager giving one worker half its fair share fails the check.
    pub detection: f64,
}

impl std::fmt::Display for FairnessPower {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} requests over {} workers, ±{:.1}% allowed: a fair manager fails with p ≤ {:.1e}, half a share is caught with p = {:.4}{}",
            self.sample,
            self.workers,
            self.allowed * 100.0,
            self.false_alarm,
            self.detection,
            if self.sufficient() {
                ""
            } else {
                " (too few answered requests for 99.9% confidence: this pass proves little)"
            }
        )
    }
}

impl FairnessPower {
    /// Whether the sample catches half a share with probability [`CONFIDENCE`] (a fair manager passes
    /// with at least that probability at any sample size).
    pub fn sufficient(&self) -> bool {
        self.false_alarm <= 1.0 - CONFIDENCE && self.detection >= CONFIDENCE
    }

    /// The figures results.json carries for a fairness verdict.
    pub fn figures(&self) -> [(String, f64); 5] {
        [
            ("fairness_sample".into(), self.sample as f64),
            ("fairness_workers".into(), self.workers as f64),
            ("fairness_allowed_deviation".into(), self.allowed),
            ("fairness_false_alarm".into(), self.false_alarm),
            ("fairness_detection".into(), self.detection),
        ]
    }
}

/// Probability that a fair manager puts some worker's count more than `h` (counts) away from the
/// mean `n/k`: the union bound `k · P(|Bin(n, 1/k) − n/k| > h)`.
fn fair_outside(pmf: &[f64], n: u64, k: usize, h: f64) -> f64 {
    let mean = n as f64 / k as f64;
    let out: f64 = pmf
        .iter()
        .enumerate()
        .filter(|(x, _)| (*x as f64 - mean).abs() > h + 1e-9)
        .map(|(_, p)| p)
        .sum();
    (k as f64 * out).min(1.0)
}

/// The smallest deviation (a fraction of the mean) a fair manager exceeds with probability at most
/// `1 − CONFIDENCE` over `n` requests and `k` workers.
pub fn fairness_band(n: u64, k: usize) -> f64 {
    if k < 2 || n == 0 {
        return 0.0;
    }
    let pmf: Vec<f64> = log_pmf(n, 1.0 / k as f64)
        .into_iter()
        .map(f64::exp)
        .collect();
    let mean = n as f64 / k as f64;
    // bisect on whole counts: the tail shrinks as the band widens
    let (mut lo, mut hi) = (0u64, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if fair_outside(&pmf, n, k, mid as f64) <= 1.0 - CONFIDENCE {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo as f64 / mean
}

/// The check passes when every worker's count is within `allowed = max(tolerance, fairness_band)` of
/// the mean `n / k`, so a fair manager (each count `Bin(n, 1/k)`) fails with probability ≤ 0.1 % at
/// any sample size. Under the alternative one worker's count is `Bin(n, UNFAIR_SHARE / k)`, caught
/// when it falls below the allowed band; the suites send enough requests that this is ≥ 99.9 %.
pub fn fairness_power(n: u64, k: usize, tolerance: f64) -> FairnessPower {
    if k < 2 || n == 0 {
        return FairnessPower {
            sample: n,
            workers: k,
            allowed: tolerance,
            false_alarm: if k < 2 { 0.0 } else { 1.0 },
            detection: 0.0,
        };
    }
    let allowed = tolerance.max(fairness_band(n, k));
    let mean = n as f64 / k as f64;
    let pmf: Vec<f64> = log_pmf(n, 1.0 / k as f64)
        .into_iter()
        .map(f64::exp)
        .collect();
    let false_alarm = fair_outside(&pmf, n, k, allowed * mean);
    // smallest count inside the band
    let lo = (mean * (1.0 - allowed) - 1e-9).ceil();
    let detection = if lo >= 1.0 {
        binom_cdf(lo as u64 - 1, n, UNFAIR_SHARE / k as f64)
    } else {
        0.0
    };
    FairnessPower {
        sample: n,
        workers: k,
        allowed,
        false_alarm,
        detection,
    }
}

/// The smallest sample whose fairness verdict over `k` workers at `tolerance` is [`sufficient`]
/// (`None` when no sample up to `limit` is, e.g. a tolerance of 0.5 or more).
///
/// [`sufficient`]: FairnessPower::sufficient
pub fn fairness_min_sample(k: usize, tolerance: f64, limit: u64) -> Option<u64> {
    let ok = |n| fairness_power(n, k, tolerance).sufficient();
    if !ok(limit) {
        return None;
    }
    let (mut lo, mut hi) = (1u64, limit);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if ok(mid) { hi = mid } else { lo = mid + 1 }
    }
    // rounding of the band can make a slightly larger n fail again: return the n from which all pass
    let mut n = lo;
    while (n..n + 4 * k as u64).any(|m| !ok(m)) {
        n += 1;
    }
    Some(n)
}

/// The largest failure rate still consistent, at `confidence`, with zero failures in `n` requests:
/// `1 − (1 − confidence)^(1/n)` (the exact binomial bound; ≈ 6.9 / n at 99.9 %).
pub fn zero_failure_rate_bound(n: u64, confidence: f64) -> f64 {
    if n == 0 {
        return 1.0;
    }
    1.0 - (1.0 - confidence).powf(1.0 / n as f64)
}

/// The probability that a manager losing on average `loss_per_reload` requests per reload (a Poisson
/// count) loses none over `reloads` reloads: `exp(−loss × reloads)`, the chance it passes a zero-drop
/// check by luck.
pub fn zero_loss_by_luck(loss_per_reload: f64, reloads: u64) -> f64 {
    (-loss_per_reload * reloads as f64).exp()
}

/// The fewest reloads after which a manager losing `loss_per_reload` requests per reload on average
/// shows a loss with probability at least [`CONFIDENCE`].
pub fn reloads_needed(loss_per_reload: f64) -> u64 {
    if loss_per_reload <= 0.0 {
        return u64::MAX;
    }
    ((1.0 / (1.0 - CONFIDENCE)).ln() / loss_per_reload).ceil() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[test]
    fn binomial_tails_match_closed_forms() {
        // Bin(10, 0.5): P(X <= 2) = (1 + 10 + 45) / 1024
        assert!((binom_cdf(2, 10, 0.5) - 56.0 / 1024.0).abs() < 1e-12);
        assert!((binom_sf(8, 10, 0.5) - 56.0 / 1024.0).abs() < 1e-12);
        assert!((binom_cdf(10, 10, 0.3) - 1.0).abs() < 1e-12);
        assert_eq!(binom_sf(0, 10, 0.3), 1.0);
        assert_eq!(binom_sf(11, 10, 0.3), 0.0);
        // large n stays finite: Bin(100000, 0.25) has sd 136.9, so ±500 (3.65 sd) holds 99.97 %
        let inside = binom_cdf(25_500, 100_000, 0.25) - binom_cdf(24_499, 100_000, 0.25);
        assert!((inside - 0.99974).abs() < 1e-4, "{inside}");
    }

    #[test]
    fn four_hundred_requests_over_four_workers_are_not_enough() {
        // the old suite size: ±25 % alone gave a fair manager a 1.3 % chance of failing; the band
        // widens to keep that under 0.1 %, and half a share is then caught too rarely
        let p = fairness_power(400, 4, 0.25);
        assert!(p.allowed > 0.25 && p.false_alarm <= 0.001, "{p:?}");
        assert!(!p.sufficient());
        assert!(fairness_power(1000, 4, 0.25).sufficient());
        assert_eq!(fairness_power(1000, 4, 0.25).allowed, 0.25);
    }

    #[test]
    fn a_fair_manager_passes_at_any_sample_size() {
        for n in [10, 50, 91, 200, 400, 1000, 5000] {
            let p = fairness_power(n, 4, 0.25);
            assert!(p.false_alarm <= 0.001, "{n}: {p:?}");
        }
        // a tiny sample: the band is wide, the verdict says it proves little
        let p = fairness_power(61, 4, 0.25);
        assert!(p.allowed > 0.5 && !p.sufficient(), "{p:?}");
        assert!(p.to_string().contains("proves little"));
    }

    #[rstest]
    #[case(2, 0.25)]
    #[case(4, 0.25)]
    #[case(8, 0.25)]
    fn the_minimum_sample_gives_both_guarantees(#[case] k: usize, #[case] tol: f64) {
        let n = fairness_min_sample(k, tol, 200_000).expect("a size exists");
        let p = fairness_power(n, k, tol);
        assert!(p.false_alarm <= 0.001 && p.detection >= 0.999, "{p:?}");
        assert!(!fairness_power(n / 2, k, tol).sufficient());
    }

    #[test]
    fn four_workers_at_25_percent_need_about_five_hundred_requests() {
        let n = fairness_min_sample(4, 0.25, 200_000).expect("a size exists");
        assert!((420..=520).contains(&n), "{n}");
    }

    #[test]
    fn a_tolerance_of_half_can_never_detect_half_a_share() {
        assert_eq!(fairness_min_sample(4, 0.5, 20_000), None);
        // the unfair worker sits right on the band's edge: a coin flip
        let d = fairness_power(1000, 4, 0.5).detection;
        assert!((0.4..0.6).contains(&d), "{d}");
        // and a band of 0.5 or more never catches it
        assert_eq!(fairness_power(20, 4, 0.25).detection, 0.0);
    }

    #[test]
    fn degenerate_inputs() {
        assert!(!fairness_power(0, 4, 0.25).sufficient());
        assert!(!fairness_power(1000, 1, 0.25).sufficient());
        assert_eq!(zero_failure_rate_bound(0, CONFIDENCE), 1.0);
        assert_eq!(reloads_needed(0.0), u64::MAX);
    }

    #[test]
    fn zero_failures_bound_the_rate() {
        let b = zero_failure_rate_bound(10_000, CONFIDENCE);
        assert!((b - 6.9e-4).abs() < 1e-5, "{b}");
    }

    #[test]
    fn reloads_needed_against_a_loss_rate() {
        // one lost request per reload on average: 7 reloads leave e^-7 < 0.1 % to luck
        assert_eq!(reloads_needed(1.0), 7);
        assert!(zero_loss_by_luck(1.0, 7) < 0.001);
        assert!(zero_loss_by_luck(1.0, 6) > 0.001);
        assert_eq!(reloads_needed(0.5), 14);
    }
}
