//! The order in which benchmark rounds visit targets: alternating (A B A B …), so that slow drift of the
//! machine (thermal, other load) falls on every target alike instead of on whichever ran last.

/// One slot of the schedule: which round and which target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// Round number, from 0.
    pub round: usize,
    /// Index of the target in the order given on the command line.
    pub target: usize,
}

/// The alternating schedule: `rounds` rounds, each visiting every target once in command-line order.
pub fn alternating(targets: usize, rounds: usize) -> Vec<Slot> {
    (0..rounds)
        .flat_map(|round| (0..targets).map(move |target| Slot { round, target }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternates_targets_within_each_round() {
        let order: Vec<usize> = alternating(2, 3).iter().map(|s| s.target).collect();
        assert_eq!(order, vec![0, 1, 0, 1, 0, 1]);
    }

    #[test]
    fn every_target_gets_every_round() {
        let s = alternating(3, 4);
        assert_eq!(s.len(), 12);
        for t in 0..3 {
            let rounds: Vec<usize> = s
                .iter()
                .filter(|x| x.target == t)
                .map(|x| x.round)
                .collect();
            assert_eq!(rounds, vec![0, 1, 2, 3]);
        }
    }

    #[test]
    fn no_targets_or_rounds_gives_nothing() {
        assert!(alternating(0, 5).is_empty());
        assert!(alternating(2, 0).is_empty());
    }
}
