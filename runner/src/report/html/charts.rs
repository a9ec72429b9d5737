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
    // 18 px lanes up to 16 workers, then thinner ones so 64 workers stay on one screen
    let lane_h: f64 = if f.workers.len() > 16 { 9.0 } else { 18.0 };
    let lane_every = (13.0 / lane_h).ceil() as usize;
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
        if i % lane_every == 0 {
            s.text(LEFT - 6.0, ly + lane_h / 2.0 + 4.0, "end", "label", &label);
        }
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
            ly + lane_h * 0.17,
            x(listen) - x(w.start_ms),
            lane_h * 0.66,
            "#b9c9dd",
            Some(&tip),
        );
        s.rect(
            x(listen),
            ly + lane_h * 0.17,
            x(end) - x(listen),
            lane_h * 0.66,
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
                s.marker(ex, ly + lane_h / 2.0, colour, &tip);
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
                let short: String = text.chars().take(40).collect();
                // a label that would run past the right edge ends at its line instead
                let w = text_width(&short);
                let (lx, anchor) = if ex + 3.0 + w > WIDTH {
                    (ex - 3.0, "end")
                } else {
                    (ex + 3.0, "start")
                };
                let row = rows.place(if anchor == "end" { lx - w } else { lx }, &short);
                s.text(lx, top - 10.0 - 11.0 * row as f64, anchor, "event", &short);
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
