//! Instance counts written in suites: `4`, `"cpus"`, `"cpus-1"`, `"cpus-2"` (never below 1).

use serde::{Deserialize, Deserializer};

/// An expected number, possibly relative to the machine's CPU count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountExpr {
    /// A fixed number.
    Fixed(u32),
    /// CPUs minus this many, at least 1.
    CpusMinus(u32),
}

impl CountExpr {
    /// The number on a machine with `cpus` CPUs.
    pub fn resolve(self, cpus: usize) -> u32 {
        match self {
            CountExpr::Fixed(n) => n,
            CountExpr::CpusMinus(k) => (cpus as i64 - k as i64).max(1) as u32,
        }
    }

    /// Parses the text form (`cpus`, `cpus-2`, `3`).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        if let Ok(n) = s.parse::<u32>() {
            return Some(CountExpr::Fixed(n));
        }
        let rest = s.strip_prefix("cpus")?.trim();
        if rest.is_empty() {
            return Some(CountExpr::CpusMinus(0));
        }
        rest.strip_prefix('-')?
            .trim()
            .parse()
            .ok()
            .map(CountExpr::CpusMinus)
    }
}

impl<'de> Deserialize<'de> for CountExpr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(u32),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::N(n) => Ok(CountExpr::Fixed(n)),
            Raw::S(s) => CountExpr::parse(&s).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "bad count `{s}`: expected a number, `cpus` or `cpus-N`"
                ))
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_with_min_one() {
        assert_eq!(CountExpr::parse("cpus-2").unwrap().resolve(2), 1);
        assert_eq!(CountExpr::parse("cpus-1").unwrap().resolve(4), 3);
        assert_eq!(CountExpr::parse("cpus").unwrap().resolve(2), 2);
        assert_eq!(CountExpr::parse("4").unwrap().resolve(2), 4);
        assert!(CountExpr::parse("many").is_none());
    }
}
