//! Number and duration formatting shared by the reporters.

/// A figure as text: integers without a fraction, others with up to three decimals, trailing zeros cut.
pub(crate) fn num(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return format!("{}", v as i64);
    }
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Milliseconds as seconds with one decimal: `12.3s`.
pub(crate) fn secs(ms: u64) -> String {
    format!("{:.1}s", ms as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers() {
        assert_eq!(super::num(3.0), "3");
        assert_eq!(super::num(2.5), "2.5");
        assert_eq!(super::num(0.12345), "0.123");
        assert_eq!(super::num(-1.0), "-1");
        assert_eq!(super::secs(12_345), "12.3s");
    }
}
