//! Flow files: a user's journey through the app (`[[step]]` with `method`, `path`, `headers`, `body`,
//! `expect_status`), replayed by virtual clients that keep their cookies. A bad file is a diagnostic
//! naming the file, line and key (exit 2).

use crate::suite::SuiteError;
use miette::Diagnostic;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use toml::Spanned;

/// What a flow is, for the help line of a bad flow file.
const FLOW_HELP: &str = "a flow is `[[step]]` tables with `path` (required, starting with /), `method` (default GET), \
     `headers` (a table), `body` (a string) and `expect_status` (default: any 2xx)";

/// A problem with a flow file.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// Not valid TOML, or not a flow: the suite files' located diagnostic ([`SuiteError::Invalid`],
    /// naming file, line, column and key), with the flow's own code and help.
    #[error("{0}")]
    Invalid(Box<SuiteError>),
    /// The file could not be read.
    #[error("cannot read flow file {file}: {source}")]
    Io {
        /// File path.
        file: String,
        /// Cause.
        source: std::io::Error,
    },
}

impl Diagnostic for FlowError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new("conform::app::flow"))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        matches!(self, FlowError::Invalid(_))
            .then(|| Box::new(FLOW_HELP) as Box<dyn std::fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        match self {
            FlowError::Invalid(e) => e.source_code(),
            FlowError::Io { .. } => None,
        }
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        match self {
            FlowError::Invalid(e) => e.labels(),
            FlowError::Io { .. } => None,
        }
    }
}

/// One step of a flow.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// HTTP method, upper case.
    pub method: String,
    /// Path and query, starting with `/`.
    pub path: String,
    /// Extra request headers.
    pub headers: Vec<(String, String)>,
    /// Request body.
    pub body: Option<String>,
    /// The status expected; `None` = any 2xx.
    pub expect_status: Option<u16>,
}

impl Step {
    /// Whether `status` is what this step expects.
    pub fn accepts(&self, status: u16) -> bool {
        match self.expect_status {
            Some(s) => s == status,
            None => (200..300).contains(&status),
        }
    }

    /// `POST /login`.
    pub fn label(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// A parsed flow file.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    /// Its name: `name` in the file, else the file stem.
    pub name: String,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFlow {
    name: Option<String>,
    #[serde(default)]
    step: Vec<Spanned<RawStep>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    method: Option<Spanned<String>>,
    path: Spanned<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    body: Option<String>,
    expect_status: Option<Spanned<i64>>,
}

/// Reads and checks a flow file.
pub fn load(path: &Path) -> Result<Flow, FlowError> {
    let text = std::fs::read_to_string(path).map_err(|source| FlowError::Io {
        file: path.display().to_string(),
        source,
    })?;
    parse(path, &text)
}

/// Parses a flow file's text (`path` names it in diagnostics).
pub fn parse(path: &Path, text: &str) -> Result<Flow, FlowError> {
    let bad = |span: std::ops::Range<usize>, msg: &str, key: Option<&str>| {
        FlowError::Invalid(Box::new(crate::suite::diag::invalid(
            path,
            text,
            span,
            msg,
            key.map(str::to_string),
        )))
    };
    let raw: RawFlow =
        toml::from_str(text).map_err(|e| bad(e.span().unwrap_or(0..0), e.message(), None))?;
    if raw.step.is_empty() {
        return Err(bad(
            0..0,
            "a flow needs at least one [[step]]",
            Some("step"),
        ));
    }
    let mut steps = Vec::new();
    for s in raw.step {
        let s = s.into_inner();
        let method = match s.method {
            Some(m) => {
                let ok =
                    !m.get_ref().is_empty() && m.get_ref().chars().all(|c| c.is_ascii_alphabetic());
                if !ok {
                    return Err(bad(
                        m.span(),
                        "not an HTTP method (letters only, e.g. GET, POST)",
                        Some("method"),
                    ));
                }
                m.into_inner().to_ascii_uppercase()
            }
            None => "GET".to_string(),
        };
        let p = s.path.get_ref();
        if !p.starts_with('/') || p.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad(
                s.path.span(),
                "a path starts with / and holds no spaces",
                Some("path"),
            ));
        }
        let expect_status = match s.expect_status {
            Some(v) if (100..=599).contains(v.get_ref()) => Some(*v.get_ref() as u16),
            Some(v) => {
                return Err(bad(
                    v.span(),
                    "an HTTP status is a number from 100 to 599",
                    Some("expect_status"),
                ));
            }
            None => None,
        };
        let bad_header = s.headers.iter().find(|(k, v)| {
            k.is_empty() || k.contains([':', ' ', '\r', '\n']) || v.contains(['\r', '\n'])
        });
        if let Some((k, _)) = bad_header {
            let at = text.find(k.as_str()).unwrap_or(0);
            return Err(bad(
                at..at + k.len(),
                "not a valid header name or value",
                Some("headers"),
            ));
        }
        steps.push(Step {
            method,
            path: s.path.into_inner(),
            headers: s.headers.into_iter().collect(),
            body: s.body,
            expect_status,
        });
    }
    let name = raw.name.unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "flow".into())
    });
    Ok(Flow { name, steps })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[test]
    fn a_login_flow() {
        let f = parse(
            Path::new("login.toml"),
            "[[step]]\nmethod = \"post\"\npath = \"/login\"\nheaders = { content-type = \"application/json\" }\nbody = '{\"user\":\"a\"}'\n\n[[step]]\npath = \"/me\"\nexpect_status = 200\n",
        )
        .unwrap();
        assert_eq!(f.name, "login");
        assert_eq!(f.steps.len(), 2);
        assert_eq!(f.steps[0].label(), "POST /login");
        assert!(f.steps[0].accepts(204) && !f.steps[0].accepts(302));
        assert!(f.steps[1].accepts(200) && !f.steps[1].accepts(201));
    }

    #[rstest]
    #[case("[[step]]\npath = \"me\"\n", 2, "path")]
    #[case("[[step]]\npath = \"/\"\nexpect_status = 42\n", 3, "expect_status")]
    #[case("[[step]]\npath = \"/\"\nmethod = \"GE T\"\n", 3, "method")]
    #[case("[[step]]\npath = \"/\"\nmethd = \"GET\"\n", 3, "methd")]
    #[case("[[step]]\nmethod = \"GET\"\n", 1, "path")]
    #[case("name = \"x\"\n", 1, "step")]
    #[case("[[step]\n", 1, "step")]
    fn bad_flows_name_line_and_key(#[case] text: &str, #[case] line: usize, #[case] key: &str) {
        let err = parse(Path::new("f.toml"), text);
        match err.as_ref().map_err(|e| match e {
            FlowError::Invalid(inner) => Some(&**inner),
            FlowError::Io { .. } => None,
        }) {
            Err(Some(SuiteError::Invalid {
                line: l,
                key: k,
                file,
                ..
            })) => {
                assert_eq!(
                    (*l, k.as_str(), file.as_str()),
                    (line, key, "f.toml"),
                    "{text}"
                );
            }
            _ => panic!("{text}: {err:?}"),
        }
    }
}
