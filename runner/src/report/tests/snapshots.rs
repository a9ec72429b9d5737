//! insta snapshots of `junit.xml` and of the terminal output (times redacted).

use super::fixture;
use crate::model::RunEvent;
use crate::report::{Reporter, TerminalReporter, render_junit, summary_text};
use std::io::Write;
use std::sync::{Arc, Mutex};

/// Replaces every `time="…"` attribute and every `12.3s` duration with a placeholder.
fn redact_times(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("time=\"") {
        out.push_str(&rest[..i + 6]);
        rest = &rest[i + 6..];
        let end = rest.find('"').unwrap_or(rest.len());
        out.push_str("[time]");
        rest = &rest[end..];
    }
    out.push_str(rest);
    redact_secs(&out)
}

/// Replaces every `<digits>.<digits>s` token (a duration) with `[secs]`.
fn redact_secs(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        let starts_token = b[i].is_ascii_digit()
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'.'));
        if starts_token {
            let mut j = i;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            if j < b.len() && b[j] == b'.' {
                let mut k = j + 1;
                while k < b.len() && b[k].is_ascii_digit() {
                    k += 1;
                }
                let ends = k > j + 1
                    && k < b.len()
                    && b[k] == b's'
                    && (k + 1 == b.len() || !b[k + 1].is_ascii_alphanumeric());
                if ends {
                    out.push_str("[secs]");
                    i = k + 1;
                    continue;
                }
            }
        }
        let ch = s[i..].chars().next().unwrap();
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

#[test]
fn junit_snapshot() {
    let xml = render_junit(&fixture::report("pm2-7.0.4")).unwrap();
    insta::assert_snapshot!("junit", redact_times(&xml));
}

#[test]
fn summary_snapshot() {
    insta::assert_snapshot!(
        "summary",
        redact_secs(&summary_text(&fixture::report("refpm")))
    );
}

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn plain_terminal_prints_lines_then_the_summary_last() {
    let report = fixture::report("refpm");
    let buf = Buf::default();
    let mut t = TerminalReporter::plain(Box::new(buf.clone()));
    t.on_event(&RunEvent::RunStarted {
        target: report.target.clone(),
        scenarios: report.results.len(),
    });
    for r in &report.results {
        t.on_event(&RunEvent::ScenarioStarted {
            target: "refpm".into(),
            id: r.id.clone(),
        });
        t.on_event(&RunEvent::ScenarioFinished {
            target: "refpm".into(),
            result: Box::new(r.clone()),
        });
    }
    t.on_event(&RunEvent::RunFinished {
        report: Box::new(report.clone()),
    });
    let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("PASS distribution/http-4 (1.2s)\n"), "{text}");
    assert!(text.ends_with(&summary_text(&report)), "{text}");
    insta::assert_snapshot!("terminal_plain", redact_secs(&text));
}

#[test]
fn redaction_only_touches_durations() {
    assert_eq!(
        redact_secs("PASS a/b (12.3s)\nin 98.8s\n"),
        "PASS a/b ([secs])\nin [secs]\n"
    );
    assert_eq!(
        redact_times(r#"<a time="1.234" n="x">"#),
        r#"<a time="[time]" n="x">"#
    );
}
