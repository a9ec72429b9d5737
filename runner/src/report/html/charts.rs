//! Charts as inline SVG: requests per worker (bars) and the reload / shutdown timelines.
//!
//! Each chart's `<svg>` has the class `chart-workers`, `chart-reload` or `chart-shutdown`.

use super::svg::{Svg, ticks};
use crate::model::{Figures, WorkerSpan};
use crate::report::fmt;
use std::collections::BTreeMap;

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

/// Bar chart of successful requests per worker, with the fair share as a dashed line.
pub(crate) fn workers_bar(per_worker: &BTreeMap<String, u64>, workers: &[WorkerSpan]) -> String {
    let n = per_worker.len().max(1) as f64;
    let max = per_worker.values().copied().max().unwrap_or(0).max(1) as f64;
    let total: u64 = per_worker.values().sum();
    let (top, plot_h, bottom) = (20.0, 160.0, 40.0);
    let height = top + plot_h + bottom;
    let plot_w = WIDTH - LEFT - RIGHT;
    let slot = plot_w / n;
    let mut s = Svg::new(WIDTH, height, "chart-workers", "requests per worker");
    let y = |v: f64| top + plot_h - v / max * plot_h;
    for t in ticks(max) {
        s.line(LEFT, y(t), WIDTH - RIGHT, y(t), "#e0e0e0", false);
        s.text(LEFT - 6.0, y(t) + 4.0, "end", "axis", &fmt::num(t));
    }
    for (i, (pid, count)) in per_worker.iter().enumerate() {
        let x = LEFT + i as f64 * slot + slot * 0.15;
        let w = slot * 0.7;
        let label = worker_label(pid, workers);
        let share = if total > 0 {
            100.0 * *count as f64 / total as f64
        } else {
            0.0
        };
        let tip = format!("{label}: {count} requests ({share:.1}%)");
        s.rect(
            x,
            y(*count as f64),
            w,
            plot_h - (y(*count as f64) - top),
            OK,
            Some(&tip),
        );
        s.text(
            x + w / 2.0,
            y(*count as f64) - 4.0,
            "middle",
            "value",
            &count.to_string(),
        );
        s.text(x + w / 2.0, top + plot_h + 16.0, "middle", "label", &label);
    }
    if !per_worker.is_empty() {
        let fair = total as f64 / n;
        s.line(LEFT, y(fair), WIDTH - RIGHT, y(fair), STEP, true);
        s.text(WIDTH - RIGHT, y(fair) - 4.0, "end", "axis", "fair share");
    }
    s.text(12.0, top + plot_h / 2.0, "start", "axis", "requests");
    s.finish()
}

/// The time range a timeline must show, in ms: from min(0, earliest) to the latest point.
fn time_range(f: &Figures) -> (f64, f64) {
    let mut lo: f64 = 0.0;
    let mut hi: f64 = 1.0;
    let mut see = |t: f64| {
        if t.is_finite() {
            lo = lo.min(t);
            hi = hi.max(t);
        }
    };
    if let Some(t) = &f.throughput {
        see((t.ok.len().max(t.failed.len()) as u64 * t.bucket_ms) as f64);
    }
    for w in &f.workers {
        see(w.start_ms);
        w.listening_ms.map(&mut see);
        w.end_ms.map(&mut see);
    }
    for e in &f.timeline {
        see(e.t_ms);
    }
    (lo, hi)
}

/// A timeline: requests per bucket (failures in red, marked), each worker's lifetime as a bar
/// (light until it listens), signals and steps as markers and dashed lines.
pub(crate) fn timeline(f: &Figures, kind: TimelineKind) -> String {
    let (lo, hi) = time_range(f);
    let plot_w = WIDTH - LEFT - RIGHT;
    let x = |t: f64| LEFT + (t - lo) / (hi - lo) * plot_w;
    let top = 52.0;
    let req_h = if f.throughput.is_some() { 120.0 } else { 0.0 };
    let lane_h = 18.0;
    let mut workers: Vec<&WorkerSpan> = f.workers.iter().collect();
    workers.sort_by(|a, b| a.start_ms.total_cmp(&b.start_ms));
    let lanes_top = top + req_h + if req_h > 0.0 { 16.0 } else { 0.0 };
    let lanes_bottom = lanes_top + workers.len().max(1) as f64 * lane_h;
    let height = lanes_bottom + 36.0;
    let (class, title) = match kind {
        TimelineKind::Reload => ("chart-reload", "reload timeline"),
        TimelineKind::Shutdown => ("chart-shutdown", "shutdown timeline"),
    };
    let mut s = Svg::new(WIDTH, height, class, title);

    if let Some(t) = &f.throughput {
        let per: Vec<(u64, u64)> = (0..t.ok.len().max(t.failed.len()))
            .map(|i| {
                (
                    t.ok.get(i).copied().unwrap_or(0),
                    t.failed.get(i).copied().unwrap_or(0),
                )
            })
            .collect();
        let max = per.iter().map(|(o, e)| o + e).max().unwrap_or(0).max(1) as f64;
        let y = |v: f64| top + req_h - v / max * req_h;
        for tk in ticks(max) {
            s.line(LEFT, y(tk), WIDTH - RIGHT, y(tk), "#eeeeee", false);
            s.text(LEFT - 6.0, y(tk) + 4.0, "end", "axis", &fmt::num(tk));
        }
        s.text(8.0, top + req_h / 2.0, "start", "axis", "requests");
        s.text(
            8.0,
            top + req_h / 2.0 + 13.0,
            "start",
            "axis",
            &format!("per {} ms", t.bucket_ms),
        );
        for (i, (ok, failed)) in per.iter().enumerate() {
            let t0 = (i as u64 * t.bucket_ms) as f64;
            let bx = x(t0);
            let bw = (x(t0 + t.bucket_ms as f64) - bx - 0.3).max(0.5);
            // failures by class (reset-reused, timeout, ...) when the run recorded them
            let by: Vec<String> = t
                .failed_by
                .iter()
                .filter_map(|(k, v)| v.get(i).filter(|n| **n > 0).map(|n| format!("{k} {n}")))
                .collect();
            let tip = format!(
                "{}–{} ms: {ok} ok, {failed} failed{}",
                t0,
                t0 + t.bucket_ms as f64,
                if by.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", by.join(", "))
                }
            );
            s.rect(
                bx,
                y(*ok as f64),
                bw,
                top + req_h - y(*ok as f64),
                OK,
                Some(&tip),
            );
            if *failed > 0 {
                let yt = y((ok + failed) as f64);
                s.rect(bx, yt, bw, y(*ok as f64) - yt, FAILED, Some(&tip));
                s.marker(bx + bw / 2.0, yt - 2.0, FAILED, &tip);
            }
        }
    }

    for (i, w) in workers.iter().enumerate() {
        let ly = lanes_top + i as f64 * lane_h;
        let end = w.end_ms.unwrap_or(hi);
        let label = match &w.instance {
            Some(inst) => format!("pid {} (i={inst})", w.pid),
            None => format!("pid {}", w.pid),
        };
        s.text(LEFT - 6.0, ly + 13.0, "end", "label", &label);
        let listen = w.listening_ms.unwrap_or(end).clamp(w.start_ms, end);
        let tip = format!(
            "{label}: start {} ms, listening {}, end {}",
            fmt::num(w.start_ms),
            w.listening_ms
                .map(|v| format!("{} ms", fmt::num(v)))
                .unwrap_or("never".into()),
            w.end_ms
                .map(|v| format!("{} ms", fmt::num(v)))
                .unwrap_or("after the scenario".into())
        );
        s.rect(
            x(w.start_ms),
            ly + 3.0,
            x(listen) - x(w.start_ms),
            lane_h - 6.0,
            "#b9c9dd",
            Some(&tip),
        );
        s.rect(
            x(listen),
            ly + 3.0,
            x(end) - x(listen),
            lane_h - 6.0,
            "#5b8c5a",
            Some(&tip),
        );
    }

    let mut rows = LabelRows::default();
    for e in &f.timeline {
        let ex = x(e.t_ms);
        let lane = e.pid.and_then(|p| workers.iter().position(|w| w.pid == p));
        let tip = format!("{} ms: {} {}", fmt::num(e.t_ms), e.kind, e.detail);
        match (lane, lane_colour(&e.kind)) {
            (Some(i), Some(colour)) => {
                let ly = lanes_top + i as f64 * lane_h;
                s.marker(ex, ly + 9.0, colour, &tip);
            }
            (Some(_), None) => {}
            (None, _) => {
                let colour = if e.kind == "signal" { SIGNAL } else { STEP };
                s.line(ex, top - 8.0, ex, lanes_bottom, colour, true);
                let text = if e.detail.is_empty() {
                    &e.kind
                } else {
                    &e.detail
                };
                let short: String = text.chars().take(28).collect();
                let row = rows.place(ex + 3.0, &short);
                s.text(
                    ex + 3.0,
                    top - 10.0 - 11.0 * row as f64,
                    "start",
                    "event",
                    &short,
                );
            }
        }
    }

    for tk in ticks(hi - lo) {
        let t = lo + tk;
        s.line(
            x(t),
            lanes_bottom + 2.0,
            x(t),
            lanes_bottom + 6.0,
            "#333333",
            false,
        );
        s.text(
            x(t),
            lanes_bottom + 20.0,
            "middle",
            "axis",
            &format!("{}s", fmt::num(t / 1000.0)),
        );
    }
    s.line(
        LEFT,
        lanes_bottom + 2.0,
        WIDTH - RIGHT,
        lanes_bottom + 2.0,
        "#333333",
        false,
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
