//! Robust summary statistics for repeated measurements: median and spread, and ratios between targets.

use serde::{Deserialize, Serialize};

/// The summary of one figure measured several times on one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Number of samples.
    pub n: usize,
    /// Median of the samples.
    pub median: f64,
    /// Smallest sample.
    pub min: f64,
    /// Largest sample.
    pub max: f64,
    /// Spread as the half-width of the interquartile range relative to the median, in percent (0 for one sample).
    pub spread_pct: f64,
}

/// Summarises samples; `None` when there are none or any is not finite.
pub fn summarize(samples: &[f64]) -> Option<Summary> {
    if samples.is_empty() || samples.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let mut v = samples.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let median = quantile_sorted(&v, 0.5);
    let iqr = quantile_sorted(&v, 0.75) - quantile_sorted(&v, 0.25);
    let spread_pct = if median.abs() > f64::EPSILON {
        50.0 * iqr / median.abs()
    } else {
        0.0
    };
    Some(Summary {
        n: v.len(),
        median,
        min: v[0],
        max: v[v.len() - 1],
        spread_pct,
    })
}

/// Linear-interpolated quantile `q` in `[0, 1]` of an ascending, non-empty slice.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let q = q.clamp(0.0, 1.0);
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let frac = pos - lo as f64;
    sorted[lo] + (sorted[hi] - sorted[lo]) * frac
}

/// Ratio of `value` to `reference` (`value / reference`), `None` when the reference is zero or not finite.
pub fn ratio(value: f64, reference: f64) -> Option<f64> {
    if reference == 0.0 || !reference.is_finite() || !value.is_finite() {
        None
    } else {
        Some(value / reference)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(&[5.0], 5.0, 0.0)]
    #[case(&[1.0, 3.0], 2.0, 25.0)]
    #[case(&[3.0, 1.0, 2.0], 2.0, 25.0)]
    #[case(&[10.0, 10.0, 10.0, 10.0], 10.0, 0.0)]
    fn median_and_spread(#[case] samples: &[f64], #[case] median: f64, #[case] spread: f64) {
        let s = summarize(samples).unwrap();
        assert_eq!(s.median, median);
        assert!(
            (s.spread_pct - spread).abs() < 1e-9,
            "spread {} != {}",
            s.spread_pct,
            spread
        );
        assert_eq!(s.n, samples.len());
    }

    #[test]
    fn min_max_follow_sorting() {
        let s = summarize(&[4.0, -1.0, 9.0, 2.0]).unwrap();
        assert_eq!((s.min, s.max), (-1.0, 9.0));
        assert_eq!(s.median, 3.0);
    }

    #[rstest]
    #[case(&[])]
    #[case(&[1.0, f64::NAN])]
    #[case(&[f64::INFINITY])]
    fn refuses_empty_or_non_finite(#[case] samples: &[f64]) {
        assert!(summarize(samples).is_none());
    }

    #[rstest]
    #[case(10.0, 5.0, Some(2.0))]
    #[case(1.0, 0.0, None)]
    #[case(f64::NAN, 1.0, None)]
    fn ratios(#[case] v: f64, #[case] r: f64, #[case] expected: Option<f64>) {
        assert_eq!(ratio(v, r), expected);
    }
}
