//! Charts as inline SVG: requests per worker (bars) and the reload / shutdown timelines.
//!
//! Each chart's `<svg>` has the class `chart-workers`, `chart-reload` or `chart-shutdown`.

use super::svg::{Svg, ticks};
use crate::model::{Figures, WorkerSpan};
use crate::report::fmt;
use std::collections::BTreeMap;

mod timeline;

pub(crate) use timeline::timeline;

const WIDTH: f64 = 900.0;
const LEFT: f64 = 130.0;
const RIGHT: f64 = 20.0;
const OK: &str = "#4a7ebb";
const FAILED: &str = "#d62728";
const SIGNAL: &str = "#e67e00";
const STEP: &str = "#777777";

/// Marker colour of an event drawn on its worker's lane; `None`: not drawn there (the bar shows it).
fn lane_colour(kind: &str) -> Option<&'static str> {
    match kind {
        "signal" => Some(SIGNAL),
        "exit" => Some("#222222"),
        "killed" => Some(FAILED),
        "request" => Some(OK),
        "ready" => Some("#2e7d32"),
        _ => None,
    }
}

/// Places event labels in up to four rows above the chart so that neighbours do not overlap.
#[derive(Default)]
struct LabelRows {
    /// Right end (px) of the last label in each row.
    ends: [f64; 4],
}

impl LabelRows {
    /// The row for a label starting at `x`: the first row free there, else the one freed earliest.
    fn place(&mut self, x: f64, text: &str) -> usize {
        let width = 6.0 * text.chars().count() as f64;
        let row = (0..self.ends.len())
            .find(|&r| self.ends[r] + 4.0 <= x)
            .unwrap_or_else(|| {
                (0..self.ends.len())
                    .min_by(|&a, &b| self.ends[a].total_cmp(&self.ends[b]))
                    .unwrap_or(0)
            });
        self.ends[row] = x + width;
        row
    }
}

/// Which timeline: reload (requests over time) or shutdown (a graceful-stop scenario).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimelineKind {
    /// Requests per bucket, worker lifetimes, signals.
    Reload,
    /// Worker lifetimes and signals around a stop (requests too, when measured).
    Shutdown,
}

fn worker_label(pid: &str, workers: &[WorkerSpan]) -> String {
    let inst = workers
        .iter()
        .find(|w| w.pid.to_string() == pid)
        .and_then(|w| w.instance.clone());
    match inst {
        Some(i) => format!("pid {pid} (i={i})"),
        None => format!("pid {pid}"),
    }
}

/// Width in px of `text` at the charts' 11 px font (an estimate: 6.2 px per character).
fn text_width(text: &str) -> f64 {
    6.2 * text.chars().count() as f64
}

/// The x-axis of the bar chart: one short label per worker — its instance number when every worker
/// has a distinct one (what a reader of PM2 knows), else its pid — in that order.
fn bar_labels(
    per_worker: &BTreeMap<String, u64>,
    workers: &[WorkerSpan],
) -> (&'static str, Vec<(String, String, u64)>) {
    let inst = |pid: &str| {
        workers
            .iter()
            .find(|w| w.pid.to_string() == pid)
            .and_then(|w| w.instance.clone())
    };
    let insts: Vec<Option<String>> = per_worker.keys().map(|p| inst(p)).collect();
    let distinct: std::collections::BTreeSet<&String> = insts.iter().flatten().collect();
    let by_instance = insts.iter().all(Option::is_some) && distinct.len() == insts.len();
    let mut rows: Vec<(String, String, u64)> = per_worker
        .iter()
        .zip(insts)
        .map(|((pid, n), i)| {
            let short = match (&i, by_instance) {
                (Some(i), true) => i.clone(),
                _ => pid.clone(),
            };
            (short, pid.clone(), *n)
        })
        .collect();
    if by_instance {
        rows.sort_by_key(|(i, _, _)| (i.parse::<i64>().unwrap_or(i64::MAX), i.clone()));
        ("instance (NODE_APP_INSTANCE)", rows)
    } else {
        rows.sort_by_key(|(p, _, _)| p.parse::<u64>().unwrap_or(u64::MAX));
        ("pid", rows)
    }
}

/// How the x labels of `n` slots of `slot` px fit: every `k`-th label, rotated or not.
fn label_layout(slot: f64, widest: f64) -> (usize, bool) {
    if widest + 4.0 <= slot {
        return (1, false);
    }
    // rotated by 45°, neighbours need about one line height (13 px) of horizontal room
    (((13.0 / slot).ceil() as usize).max(1), true)
}

/// Bar chart of successful requests per worker, with the fair share as a dashed line. Labels thin
/// out and turn 45° when the workers are many (2 to 64 stay legible); counts above the bars show only
/// where they fit (every bar's tooltip has them).
pub(crate) fn workers_bar(per_worker: &BTreeMap<String, u64>, workers: &[WorkerSpan]) -> String {
    let n = per_worker.len().max(1) as f64;
    let max = per_worker.values().copied().max().unwrap_or(0).max(1) as f64;
    let total: u64 = per_worker.values().sum();
    let plot_w = WIDTH - LEFT - RIGHT;
    let slot = plot_w / n;
    let (axis, rows) = bar_labels(per_worker, workers);
    let widest = rows
        .iter()
        .map(|(l, _, _)| text_width(l))
        .fold(0.0, f64::max);
    let (every, rotated) = label_layout(slot, widest);
    let label_h = if rotated { widest * 0.71 + 8.0 } else { 14.0 };
    let (top, plot_h) = (20.0, 160.0);
    let bottom = label_h + 34.0;
    let height = top + plot_h + bottom;
    let mut s = Svg::new(WIDTH, height, "chart-workers", "requests per worker");
    let y = |v: f64| top + plot_h - v / max * plot_h;
    for t in ticks(max) {
        s.line(LEFT, y(t), WIDTH - RIGHT, y(t), "#e0e0e0", false);
        s.text(LEFT - 6.0, y(t) + 4.0, "end", "axis", &fmt::num(t));
    }
    let counts_fit = rows
        .iter()
        .all(|(_, _, c)| text_width(&c.to_string()) + 2.0 <= slot);
    for (i, (short, pid, count)) in rows.iter().enumerate() {
        let x = LEFT + i as f64 * slot + slot * 0.15;
        let w = slot * 0.7;
        let share = if total > 0 {
            100.0 * *count as f64 / total as f64
        } else {
            0.0
        };
        let tip = format!(
            "{}: {count} requests ({share:.1}%)",
            worker_label(pid, workers)
        );
        s.rect(
            x,
            y(*count as f64),
            w,
            plot_h - (y(*count as f64) - top),
            OK,
            Some(&tip),
        );
        if counts_fit {
            s.text(
                x + w / 2.0,
                y(*count as f64) - 4.0,
                "middle",
                "value",
                &count.to_string(),
            );
        }
        if i % every == 0 {
            let cx = x + w / 2.0;
            if rotated {
                s.text_rotated(cx + 3.0, top + plot_h + 12.0, -45.0, "label", short);
            } else {
                s.text(cx, top + plot_h + 16.0, "middle", "label", short);
            }
        }
    }
    let fair = total as f64 / n;
    if !per_worker.is_empty() {
        s.line(LEFT, y(fair), WIDTH - RIGHT, y(fair), STEP, true);
    }
    s.text(12.0, top + plot_h / 2.0, "start", "axis", "requests");
    let thinned = if every > 1 {
        format!("; one label per {every} bars")
    } else {
        String::new()
    };
    s.text(
        LEFT + plot_w / 2.0,
        height - 8.0,
        "middle",
        "axis",
        &format!(
            "{axis}{thinned} · dashed line: fair share ({} requests)",
            fmt::num(fair.round())
        ),
    );
    s.finish()
}

#[cfg(test)]
mod tests {
    use super::LabelRows;

    #[test]
    fn labels_take_the_first_free_row() {
        let mut r = LabelRows::default();
        assert_eq!(r.place(100.0, "start (279 ms)"), 0);
        assert_eq!(r.place(110.0, "wait-online"), 1);
        assert_eq!(r.place(120.0, "load:main"), 2);
        assert_eq!(r.place(125.0, "reload"), 3);
        // every row busy: the one freed earliest
        assert_eq!(r.place(130.0, "x"), 3);
        assert_eq!(r.place(400.0, "reload"), 0);
    }
}
