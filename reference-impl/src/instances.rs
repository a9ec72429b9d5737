//! Resolving the `instances` option (`N`, `max`, `0`, `-N`) to a process count and an exec mode.

/// Upper bound on instances per app; more is treated as a mistake.
pub const MAX_INSTANCES: i64 = 1024;

/// Errors for an invalid instance count.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum InstancesError {
    /// Not an integer nor `max`.
    #[error("invalid value for -i/--instances: {0:?} (expected an integer, max, 0 or -N)")]
    Invalid(String),
    /// Larger than [`MAX_INSTANCES`].
    #[error("invalid value for -i/--instances: {0} is more than the limit of {MAX_INSTANCES}")]
    TooMany(String),
}

/// Parses the raw option: `max` → 0 (all CPUs), an integer → itself.
/// Unlike PM2 (`parseInt(s) || 0`), garbage and absurd values are errors.
pub fn parse(raw: &str) -> Result<i64, InstancesError> {
    let t = raw.trim();
    if t.eq_ignore_ascii_case("max") {
        return Ok(0);
    }
    let n: i64 = t
        .parse()
        .map_err(|_| InstancesError::Invalid(raw.to_string()))?;
    if n > MAX_INSTANCES {
        return Err(InstancesError::TooMany(raw.to_string()));
    }
    Ok(n)
}

/// Resolves a parsed value against a CPU count: 0 → cpus, negative → cpus + n, min 1.
pub fn resolve(n: i64, cpus: usize) -> usize {
    let cpus = cpus as i64;
    let v = if n == 0 {
        cpus
    } else if n < 0 {
        cpus + n
    } else {
        n
    };
    v.max(1) as usize
}

/// CPUs this process may use: the affinity mask, capped by a cgroup v2 `cpu.max` quota; at least 1.
pub fn usable_cpus() -> usize {
    let affinity = affinity_cpus().unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let quota = cgroup_quota_cpus();
    let n = match quota {
        Some(q) => affinity.min(q),
        None => affinity,
    };
    n.max(1)
}

fn affinity_cpus() -> Option<usize> {
    let set = nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0)).ok()?;
    let count = (0..nix::sched::CpuSet::count())
        .filter(|&i| set.is_set(i).unwrap_or(false))
        .count();
    (count > 0).then_some(count)
}

fn cgroup_quota_cpus() -> Option<usize> {
    let cg = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    // cgroup v2 line: "0::/path"
    let rel = cg.lines().find_map(|l| l.strip_prefix("0::"))?;
    let mut dir = std::path::PathBuf::from("/sys/fs/cgroup").join(rel.trim_start_matches('/'));
    let mut best: Option<usize> = None;
    // Walk up: every ancestor's quota applies.
    loop {
        if let Ok(text) = std::fs::read_to_string(dir.join("cpu.max"))
            && let Some(n) = parse_cpu_max(&text)
        {
            best = Some(best.map_or(n, |b| b.min(n)));
        }
        if dir == std::path::Path::new("/sys/fs/cgroup") || !dir.pop() {
            break;
        }
    }
    best
}

/// Parses `cpu.max` (`"<quota> <period>"` or `"max <period>"`) into whole CPUs (rounded up, min 1).
pub fn parse_cpu_max(text: &str) -> Option<usize> {
    let mut it = text.split_whitespace();
    let quota = it.next()?;
    let period: u64 = it.next()?.parse().ok()?;
    if quota == "max" || period == 0 {
        return None;
    }
    let q: u64 = quota.parse().ok()?;
    Some((q.div_ceil(period) as usize).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_values() {
        assert_eq!(parse("max"), Ok(0));
        assert_eq!(parse("4"), Ok(4));
        assert_eq!(parse("-1"), Ok(-1));
        assert!(parse("1e9").is_err());
        assert!(parse("foo").is_err());
        assert!(matches!(parse("5000"), Err(InstancesError::TooMany(_))));
    }

    #[test]
    fn resolves_against_cpus() {
        assert_eq!(resolve(0, 2), 2);
        assert_eq!(resolve(-1, 2), 1);
        assert_eq!(resolve(-1000, 2), 1);
        assert_eq!(resolve(4, 2), 4);
        assert_eq!(resolve(-1, 8), 7);
    }

    #[test]
    fn cpu_max_is_rounded_up() {
        assert_eq!(parse_cpu_max("150000 100000"), Some(2));
        assert_eq!(parse_cpu_max("max 100000"), None);
        assert_eq!(parse_cpu_max("50000 100000"), Some(1));
    }

    #[test]
    fn usable_cpus_is_positive() {
        assert!(usable_cpus() >= 1);
    }
}
