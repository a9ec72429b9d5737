//! The reload and shutdown timelines: requests per bucket, each worker's lifetime as a lane, signals and
//! steps as markers.

use super::*;

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
