//! Suite-file diagnostics: every error names the file, line and key, rendered by miette.

use miette::{Diagnostic, NamedSource, SourceSpan};
use std::ops::Range;
use std::path::Path;

/// A problem with a suite file or directory.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum SuiteError {
    /// The file is not valid TOML, or does not fit the suite model.
    #[error("{file}:{line}:{col}: key `{key}`: {message}")]
    #[diagnostic(
        code(conform::suite::invalid),
        help("see `conform list` and suites/README for the vocabulary")
    )]
    Invalid {
        /// File path as given.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
        /// The key at fault.
        key: String,
        /// What is wrong.
        message: String,
        /// The file's text.
        #[source_code]
        src: std::sync::Arc<NamedSource<String>>,
        /// Where.
        #[label("here")]
        span: SourceSpan,
    },
    /// The file could not be read.
    #[error("cannot read suite file {file}: {source}")]
    Io {
        /// File path.
        file: String,
        /// Cause.
        source: std::io::Error,
    },
    /// No suite directory, or no `*.toml` in it.
    #[error("no suite files found in {0}")]
    NoSuites(String),
    /// A `--suite` or `--scenario` selection matched nothing.
    #[error("nothing matches {0}")]
    NoMatch(String),
}

/// 1-based (line, column) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

/// The key written on the line holding `offset` (`check = "x"` or `{ do = "x" }` → the key just
/// before the `=` that precedes `offset`; a table header → its name).
fn key_on_line(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let end = text[offset..]
        .find('\n')
        .map(|i| offset + i)
        .unwrap_or(text.len());
    let line = &text[start..end];
    let at = offset - start;
    if line.trim_start().starts_with('[') {
        return Some(
            line.trim()
                .trim_matches(|c| c == '[' || c == ']')
                .to_string(),
        );
    }
    let is_key = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '"';
    let key_before = |upto: usize| -> Option<String> {
        let eq = line[..upto].rfind('=')?;
        let k: String = line[..eq]
            .trim_end()
            .chars()
            .rev()
            .take_while(|c| is_key(*c))
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let k = k.trim_matches('"').to_string();
        (!k.is_empty()).then_some(k)
    };
    key_before(at).or_else(|| {
        // the span starts at a key: take it
        let k: String = line[at..].chars().take_while(|c| is_key(*c)).collect();
        let k = k.trim_matches('"').to_string();
        if k.is_empty() {
            key_before(line.len())
        } else {
            Some(k)
        }
    })
}

fn backticked(message: &str) -> Option<&str> {
    let a = message.find('`')?;
    let b = message[a + 1..].find('`')?;
    Some(&message[a + 1..a + 1 + b])
}

/// Builds the diagnostic for `message` at `span` of `text`.
pub fn invalid(
    file: &Path,
    text: &str,
    span: Range<usize>,
    message: &str,
    key: Option<String>,
) -> SuiteError {
    let mut span = span;
    // serde errors inside tagged tables point at the whole table: narrow to the offending value
    if let (Some(word), true) = (backticked(message), message.starts_with("unknown variant")) {
        let needle = format!("\"{word}\"");
        if let Some(i) = text.get(span.clone()).and_then(|s| s.find(&needle)) {
            span = span.start + i..span.start + i + needle.len();
        }
    }
    let key = key
        .or_else(|| {
            if message.starts_with("missing field") || message.starts_with("unknown field") {
                backticked(message).map(str::to_string)
            } else {
                None
            }
        })
        .or_else(|| key_on_line(text, span.start))
        .unwrap_or_else(|| "?".to_string());
    if message.starts_with("unknown field") {
        // point at the key itself
        if let Some(i) = text.get(span.clone()).and_then(|s| s.find(&key)) {
            span = span.start + i..span.start + i + key.len();
        }
    }
    let (line, col) = line_col(text, span.start);
    let file_s = file.display().to_string();
    SuiteError::Invalid {
        file: file_s.clone(),
        line,
        col,
        key,
        message: message.trim().to_string(),
        src: std::sync::Arc::new(NamedSource::new(file_s, text.to_string())),
        span: (span.start, span.end.saturating_sub(span.start)).into(),
    }
}
