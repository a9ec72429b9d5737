//! The ratio table: each figure's rows (one per subject) with median, spread and ratio to the first
//! subject that has the figure (the first `--target`), and its text and Markdown renderings.

use super::figures::{Better, FIGURES, Samples, TitleParams, title};
use super::stats::{Summary, ratio, summarize};
use serde::{Deserialize, Serialize};

/// One subject's summary of one figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Subject label (`pm2-7.0.4`, `refpm (shared)`, `node cluster (rr)`).
    pub subject: String,
    /// Median, spread, min, max and sample count.
    #[serde(flatten)]
    pub summary: Summary,
    /// Median divided by the reference row's median (`None` when the reference median is 0).
    pub ratio: Option<f64>,
    /// The raw samples, in measurement order.
    pub samples: Vec<f64>,
}

/// One figure with all its rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FigureTable {
    /// Stable id (`newconn.max_rps`).
    pub id: String,
    /// Human title with parameters.
    pub title: String,
    /// Section (`throughput`, `memory`, `reload`, `cli`, `scale`, `run`).
    pub section: String,
    /// Unit.
    pub unit: String,
    /// Which way is better.
    pub better: Better,
    /// The subject the ratios are relative to (the first row), when there is a row.
    pub ratio_to: Option<String>,
    /// One row per subject that has samples, in subject order.
    pub rows: Vec<Row>,
}

/// Builds every figure of the catalogue from the samples; `subjects` gives the row order (targets in
/// command-line order, then the reference rows). A figure without samples has no rows.
pub fn build(samples: &Samples, subjects: &[String], params: &TitleParams) -> Vec<FigureTable> {
    FIGURES
        .iter()
        .map(|f| {
            let summarized: Vec<(String, Summary, Vec<f64>)> = subjects
                .iter()
                .filter_map(|s| {
                    let v = samples.get(f.id, s);
                    summarize(v).map(|sum| (s.clone(), sum, v.to_vec()))
                })
                .collect();
            let reference = summarized
                .first()
                .map(|(s, sum, _)| (s.clone(), sum.median));
            let rows = summarized
                .into_iter()
                .map(|(subject, summary, samples)| Row {
                    ratio: reference
                        .as_ref()
                        .and_then(|(_, m)| ratio(summary.median, *m)),
                    subject,
                    summary,
                    samples,
                })
                .collect();
            FigureTable {
                id: f.id.to_string(),
                title: title(f.id, params),
                section: f.section.to_string(),
                unit: f.unit.to_string(),
                better: f.better,
                ratio_to: reference.map(|(s, _)| s),
                rows,
            }
        })
        .collect()
}

/// A value in its unit, rounded for reading: rates and counts as integers, times and sizes with
/// one or two decimals.
pub fn format_value(v: f64, unit: &str) -> String {
    match unit {
        "req/s" | "req" => format!("{v:.0}"),
        "CPU-s" => format!("{v:.3}"),
        _ if v.abs() < 10.0 => format!("{v:.2}"),
        _ => format!("{v:.1}"),
    }
}

/// `1.00x`, or `-` when there is no ratio.
pub fn format_ratio(r: Option<f64>) -> String {
    match r {
        Some(r) if r.abs() >= 100.0 => format!("{r:.0}x"),
        Some(r) if r.abs() >= 10.0 => format!("{r:.1}x"),
        Some(r) => format!("{r:.2}x"),
        None => "-".to_string(),
    }
}

fn cells(t: &FigureTable, r: &Row) -> [String; 4] {
    [
        r.subject.clone(),
        format!("{} {}", format_value(r.summary.median, &t.unit), t.unit),
        format!("±{:.1}% (n={})", r.summary.spread_pct, r.summary.n),
        format_ratio(r.ratio),
    ]
}

/// The terminal table: figure title on its first row, then subject, median, spread and ratio columns.
pub fn render_text(tables: &[FigureTable]) -> String {
    let mut lines: Vec<[String; 5]> = vec![[
        "figure".into(),
        "subject".into(),
        "median".into(),
        "spread".into(),
        "ratio".into(),
    ]];
    for t in tables.iter().filter(|t| !t.rows.is_empty()) {
        for (i, r) in t.rows.iter().enumerate() {
            let [s, m, sp, ra] = cells(t, r);
            let fig = if i == 0 {
                t.title.clone()
            } else {
                String::new()
            };
            lines.push([fig, s, m, sp, ra]);
        }
    }
    let width = |c: usize| {
        lines
            .iter()
            .map(|l| l[c].chars().count())
            .max()
            .unwrap_or(0)
    };
    let w: Vec<usize> = (0..5).map(width).collect();
    let mut out = String::new();
    for l in &lines {
        let mut line = String::new();
        for (c, cell) in l.iter().enumerate() {
            let pad = w[c].saturating_sub(cell.chars().count());
            // numbers right-aligned, text left-aligned
            if c == 2 || c == 4 {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            }
            line.push_str("  ");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The same table in Markdown (for the README).
pub fn render_markdown(tables: &[FigureTable]) -> String {
    let mut out = String::from(
        "| figure | subject | median | spread | ratio to first |\n|---|---|---:|---:|---:|\n",
    );
    for t in tables.iter().filter(|t| !t.rows.is_empty()) {
        for (i, r) in t.rows.iter().enumerate() {
            let [s, m, sp, ra] = cells(t, r);
            let fig = if i == 0 {
                t.title.replace('|', "\\|")
            } else {
                String::new()
            };
            out.push_str(&format!("| {fig} | {s} | {m} | {sp} | {ra} |\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::figures::{CLI_JLIST, NEWCONN_MAX, RUN_WALL};

    fn params() -> TitleParams {
        TitleParams {
            latency_rate: 1000,
            reload_rate: 2000,
            scale_apps: 100,
            sample_secs: 5.0,
        }
    }

    fn samples() -> Samples {
        let mut s = Samples::default();
        for v in [5000.0, 5400.0, 5200.0] {
            s.push(NEWCONN_MAX, "pm2", v);
        }
        for v in [15000.0, 16000.0, 15600.0] {
            s.push(NEWCONN_MAX, "refpm (shared)", v);
        }
        s.push(CLI_JLIST, "refpm (shared)", 10.0);
        s
    }

    #[test]
    fn ratios_are_to_the_first_subject_with_the_figure() {
        let subjects = ["pm2".to_string(), "refpm (shared)".to_string()];
        let t = build(&samples(), &subjects, &params());
        let nc = t.iter().find(|t| t.id == NEWCONN_MAX).unwrap();
        assert_eq!(nc.ratio_to.as_deref(), Some("pm2"));
        assert_eq!(nc.rows.len(), 2);
        assert_eq!(nc.rows[0].summary.median, 5200.0);
        assert_eq!(nc.rows[0].ratio, Some(1.0));
        assert_eq!(nc.rows[1].ratio, Some(3.0));
        assert_eq!(nc.rows[1].samples, vec![15000.0, 16000.0, 15600.0]);
        // pm2 has no jlist sample: refpm is its own reference
        let jl = t.iter().find(|t| t.id == CLI_JLIST).unwrap();
        assert_eq!(jl.ratio_to.as_deref(), Some("refpm (shared)"));
        assert!(t.iter().find(|t| t.id == RUN_WALL).unwrap().rows.is_empty());
        assert_eq!(t.len(), FIGURES.len());
    }

    #[test]
    fn rows_follow_subject_order_not_insertion_order() {
        let subjects = ["refpm (shared)".to_string(), "pm2".to_string()];
        let t = build(&samples(), &subjects, &params());
        let nc = t.iter().find(|t| t.id == NEWCONN_MAX).unwrap();
        assert_eq!(nc.rows[0].subject, "refpm (shared)");
        assert!((nc.rows[1].ratio.unwrap() - 5200.0 / 15600.0).abs() < 1e-12);
    }

    #[test]
    fn zero_reference_gives_no_ratio() {
        let mut s = Samples::default();
        s.push(NEWCONN_MAX, "a", 0.0);
        s.push(NEWCONN_MAX, "b", 3.0);
        let t = build(&s, &["a".into(), "b".into()], &params());
        let nc = t.iter().find(|t| t.id == NEWCONN_MAX).unwrap();
        assert_eq!(nc.rows[1].ratio, None);
        assert_eq!(format_ratio(None), "-");
    }

    #[test]
    fn text_and_markdown_render_every_row() {
        let subjects = ["pm2".to_string(), "refpm (shared)".to_string()];
        let t = build(&samples(), &subjects, &params());
        let text = render_text(&t);
        assert!(text.lines().next().unwrap().starts_with("figure"));
        assert!(text.contains("15600 req/s") && text.contains("3.00x"));
        assert_eq!(text.lines().count(), 1 + 3);
        let md = render_markdown(&t);
        assert_eq!(md.lines().count(), 2 + 3);
        assert!(md.contains("| refpm (shared) | 15600 req/s |"));
    }

    #[test]
    fn value_formatting() {
        assert_eq!(format_value(5312.4, "req/s"), "5312");
        assert_eq!(format_value(3.256, "ms"), "3.26");
        assert_eq!(format_value(63.27, "MB"), "63.3");
        assert_eq!(format_value(0.4512, "CPU-s"), "0.451");
        assert_eq!(format_ratio(Some(31.0)), "31.0x");
        assert_eq!(format_ratio(Some(0.05)), "0.05x");
    }
}
