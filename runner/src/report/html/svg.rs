//! A tiny SVG builder: shapes and text appended to a string, every text escaped.

use super::escape;

/// An inline `<svg>` element under construction.
pub(crate) struct Svg {
    width: f64,
    height: f64,
    class: String,
    title: String,
    body: String,
}

/// Formats a coordinate with at most one decimal.
fn c(v: f64) -> String {
    let v = (v * 10.0).round() / 10.0;
    if v.fract() == 0.0 {
        format!("{}", v as i64)
    } else {
        format!("{v:.1}")
    }
}

impl Svg {
    /// A new drawing of `width` × `height` with a CSS class (the chart kind) and an accessible title.
    pub(crate) fn new(width: f64, height: f64, class: &str, title: &str) -> Self {
        Svg {
            width,
            height,
            class: class.to_string(),
            title: title.to_string(),
            body: String::new(),
        }
    }

    /// A filled rectangle, with an optional tooltip.
    pub(crate) fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str, tip: Option<&str>) {
        let tip = tip
            .map(|t| format!("<title>{}</title>", escape(t)))
            .unwrap_or_default();
        self.body.push_str(&format!(
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\">{tip}</rect>",
            c(x),
            c(y),
            c(w.max(0.0)),
            c(h.max(0.0)),
            escape(fill)
        ));
    }

    /// A straight line; `dashed` draws it dashed.
    pub(crate) fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, stroke: &str, dashed: bool) {
        let dash = if dashed {
            " stroke-dasharray=\"4 3\""
        } else {
            ""
        };
        self.body.push_str(&format!(
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\"{dash}/>",
            c(x1),
            c(y1),
            c(x2),
            c(y2),
            escape(stroke)
        ));
    }

    /// Text at a point; `anchor` is `start`, `middle` or `end`.
    pub(crate) fn text(&mut self, x: f64, y: f64, anchor: &str, class: &str, s: &str) {
        self.body.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"{}\" class=\"{}\">{}</text>",
            c(x),
            c(y),
            escape(anchor),
            escape(class),
            escape(s)
        ));
    }

    /// Text at a point, rotated by `deg` degrees around it (negative: counter-clockwise).
    pub(crate) fn text_rotated(&mut self, x: f64, y: f64, deg: f64, class: &str, s: &str) {
        self.body.push_str(&format!(
            "<text x=\"{0}\" y=\"{1}\" text-anchor=\"end\" class=\"{3}\" transform=\"rotate({2} {0} {1})\">{4}</text>",
            c(x),
            c(y),
            c(deg),
            escape(class),
            escape(s)
        ));
    }

    /// A small downward triangle marker centred on `x`, tip at `y`, with a tooltip.
    pub(crate) fn marker(&mut self, x: f64, y: f64, fill: &str, tip: &str) {
        self.body.push_str(&format!(
            "<path d=\"M{} {} L{} {} L{} {} Z\" fill=\"{}\"><title>{}</title></path>",
            c(x - 4.0),
            c(y - 7.0),
            c(x + 4.0),
            c(y - 7.0),
            c(x),
            c(y),
            escape(fill),
            escape(tip)
        ));
    }

    /// The finished element.
    pub(crate) fn finish(self) -> String {
        format!(
            "<svg class=\"chart {}\" role=\"img\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\"><title>{}</title>{}</svg>",
            escape(&self.class),
            c(self.width),
            c(self.height),
            c(self.width),
            c(self.height),
            escape(&self.title),
            self.body
        )
    }
}

/// Tick values from 0 to at least `max`: about five steps of 1, 2 or 5 × 10^k.
pub(crate) fn ticks(max: f64) -> Vec<f64> {
    if max <= 0.0 || !max.is_finite() {
        return vec![0.0];
    }
    let raw = max / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let mut v = Vec::new();
    let mut t = 0.0;
    while t <= max + step * 1e-9 {
        v.push(t);
        t += step;
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round() {
        assert_eq!(ticks(10.0), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(ticks(0.0), vec![0.0]);
        assert_eq!(ticks(7300.0)[1], 2000.0);
    }

    #[test]
    fn text_is_escaped() {
        let mut s = Svg::new(10.0, 10.0, "k", "a<b");
        s.text(0.0, 0.0, "start", "t", "<script>");
        let out = s.finish();
        assert!(out.contains("&lt;script&gt;") && out.contains("a&lt;b"));
        assert!(!out.contains("<script>"));
    }
}
