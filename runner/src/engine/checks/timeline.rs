//! Pure functions over worker lifetimes: how many listen / live at every moment of a window.

use crate::engine::record::Worker;

/// Counts intervals `[a, b)` covering `p`.
fn covering(spans: &[(f64, f64)], p: f64) -> usize {
    spans.iter().filter(|(a, b)| *a <= p && p < *b).count()
}

/// Points where the count can change inside `[from, to]`, plus `from`.
fn points(spans: &[(f64, f64)], from: f64, to: f64) -> Vec<f64> {
    let mut pts = vec![from];
    for &(a, b) in spans {
        for x in [a, b] {
            if x > from && x <= to {
                pts.push(x);
            }
        }
    }
    pts.sort_by(f64::total_cmp);
    pts.dedup();
    pts
}

/// The smallest number of listening workers at any moment of `[from, to]`, and when.
pub fn min_listening(workers: &[Worker], from: f64, to: f64) -> (usize, f64) {
    let spans: Vec<(f64, f64)> = workers.iter().filter_map(Worker::listening_span).collect();
    points(&spans, from, to)
        .into_iter()
        .map(|p| (covering(&spans, p), p))
        .min_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)))
        .unwrap_or((0, from))
}

/// The largest number of live workers at any moment of `[from, to]`, and when.
pub fn max_alive(workers: &[Worker], from: f64, to: f64) -> (usize, f64) {
    let spans: Vec<(f64, f64)> = workers.iter().map(Worker::alive_span).collect();
    points(&spans, from, to)
        .into_iter()
        .filter(|p| *p < to)
        .map(|p| (covering(&spans, p), p))
        .max_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)))
        .unwrap_or((0, from))
}

/// The smallest number of live workers at any moment of `[from, to]`, and when.
pub fn min_alive(workers: &[Worker], from: f64, to: f64) -> (usize, f64) {
    let spans: Vec<(f64, f64)> = workers.iter().map(Worker::alive_span).collect();
    points(&spans, from, to)
        .into_iter()
        .map(|p| (covering(&spans, p), p))
        .min_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)))
        .unwrap_or((0, from))
}

/// Live workers at `t`.
pub fn alive_at(workers: &[Worker], t: f64) -> usize {
    workers.iter().filter(|w| w.alive_at(t)).count()
}

/// Each worker's deviation from the mean share, as a fraction; `None` with no workers.
pub fn max_deviation(counts: &[u64]) -> Option<f64> {
    if counts.is_empty() {
        return None;
    }
    let mean = counts.iter().sum::<u64>() as f64 / counts.len() as f64;
    if mean == 0.0 {
        return Some(1.0);
    }
    Some(
        counts
            .iter()
            .map(|&c| (c as f64 - mean).abs() / mean)
            .fold(0.0, f64::max),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn w(pid: u32, start: f64, listening: f64, signal: Option<f64>, exit: Option<f64>) -> Worker {
        Worker {
            pid,
            start,
            listening: Some(listening),
            first_signal: signal.map(|t| (t, "SIGINT".to_string())),
            exit,
            ..Worker::default()
        }
    }

    #[rstest]
    // a clean one-by-one reload: the new one listens before the old one is signalled
    #[case(vec![w(1, 0.0, 5.0, Some(120.0), Some(121.0)), w(2, 100.0, 110.0, None, None)], 1)]
    // the old one is signalled before the new one listens: a gap with nobody listening
    #[case(vec![w(1, 0.0, 5.0, Some(100.0), Some(101.0)), w(2, 100.0, 150.0, None, None)], 0)]
    // two steady workers
    #[case(vec![w(1, 0.0, 5.0, None, None), w(2, 0.0, 6.0, None, None)], 2)]
    fn at_least_one_listening(#[case] ws: Vec<Worker>, #[case] expected: usize) {
        assert_eq!(min_listening(&ws, 50.0, 200.0).0, expected);
    }

    #[rstest]
    // 2 instances reloaded one at a time: never more than 3 alive
    #[case(vec![
        w(1, 0.0, 1.0, Some(150.0), Some(150.0)), w(2, 0.0, 1.0, Some(300.0), Some(300.0)),
        w(3, 100.0, 140.0, None, None), w(4, 200.0, 290.0, None, None)], 3)]
    // 4 instances reloaded two at a time (PM2's concurrency 2): 6 alive at once
    #[case(vec![
        w(1, 0.0, 1.0, Some(150.0), Some(150.0)), w(2, 0.0, 1.0, Some(150.0), Some(151.0)),
        w(3, 0.0, 1.0, None, None), w(4, 0.0, 1.0, None, None),
        w(5, 100.0, 140.0, None, None), w(6, 101.0, 140.0, None, None)], 6)]
    fn one_at_a_time(#[case] ws: Vec<Worker>, #[case] expected_max: usize) {
        assert_eq!(max_alive(&ws, 50.0, 400.0).0, expected_max);
    }

    #[rstest]
    #[case(&[100, 100, 100, 100], 0.0)]
    #[case(&[150, 50], 0.5)]
    #[case(&[200, 0], 1.0)]
    fn fairness_deviation(#[case] counts: &[u64], #[case] dev: f64) {
        assert!((max_deviation(counts).unwrap() - dev).abs() < 1e-9);
    }

    #[test]
    fn fairness_of_nothing() {
        assert_eq!(max_deviation(&[]), None);
        assert_eq!(max_deviation(&[0, 0]), Some(1.0));
    }
}
