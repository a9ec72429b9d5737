//! Finding, reading and validating suite files, and selecting scenarios.

use super::diag::{SuiteError, invalid, line_col};
use super::{Scenario, Step, Suite};
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

/// Reads every `*.toml` of `dir`, sorted by file name. `fixtures` (names without `.js`) validates
/// the `fixture` keys when given.
pub fn load_dir(dir: &Path, fixtures: Option<&BTreeSet<String>>) -> Result<Vec<Suite>, SuiteError> {
    let rd = std::fs::read_dir(dir).map_err(|_| SuiteError::NoSuites(dir.display().to_string()))?;
    let mut files: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(SuiteError::NoSuites(dir.display().to_string()));
    }
    let mut seen = HashSet::new();
    let mut suites = Vec::new();
    for f in files {
        let s = load_file(&f, fixtures)?;
        for sc in &s.scenarios {
            if !seen.insert(sc.id.clone()) {
                let text = std::fs::read_to_string(&f).unwrap_or_default();
                let at = find_id(&text, &sc.id);
                return Err(invalid(
                    &f,
                    &text,
                    at,
                    &format!("duplicate scenario id `{}`", sc.id),
                    Some("id".into()),
                ));
            }
        }
        suites.push(s);
    }
    Ok(suites)
}

fn find_id(text: &str, id: &str) -> std::ops::Range<usize> {
    let needle = format!("\"{id}\"");
    text.find(&needle)
        .map(|i| i..i + needle.len())
        .unwrap_or(0..0)
}

/// Reads and validates one suite file.
pub fn load_file(path: &Path, fixtures: Option<&BTreeSet<String>>) -> Result<Suite, SuiteError> {
    let text = std::fs::read_to_string(path).map_err(|e| SuiteError::Io {
        file: path.display().to_string(),
        source: e,
    })?;
    let mut suite: Suite = toml::from_str(&text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        invalid(path, &text, span, e.message(), None)
    })?;
    suite.path = path.to_path_buf();
    for sc in &mut suite.scenarios {
        let at = find_id(&text, &sc.id);
        sc.suite = suite.suite.clone();
        sc.line = line_col(&text, at.start).0;
        let err =
            |msg: String, key: &str| invalid(path, &text, at.clone(), &msg, Some(key.to_string()));
        if !sc.id.starts_with(&format!("{}/", suite.suite)) {
            return Err(err(
                format!("scenario id `{}` must start with `{}/`", sc.id, suite.suite),
                "id",
            ));
        }
        if sc.quote.trim().is_empty() {
            return Err(err(
                "empty quote: give the guide's sentence".into(),
                "quote",
            ));
        }
        let mut names: Vec<String> = vec![sc.fixture.clone()];
        names.extend(sc.steps.iter().filter_map(|s| match s {
            Step::SwapFixture { to } => Some(to.clone()),
            _ => None,
        }));
        names.extend(sc.extra_apps.iter().filter_map(|a| a.fixture.clone()));
        if let Some(fx) = fixtures {
            if let Some(bad) = names.iter().find(|n| !fx.contains(*n)) {
                let needle = format!("\"{bad}\"");
                let at = text[at.start..]
                    .find(&needle)
                    .map(|i| at.start + i..at.start + i + needle.len())
                    .unwrap_or(at.clone());
                let err = |msg: String, key: &str| {
                    invalid(path, &text, at.clone(), &msg, Some(key.to_string()))
                };
                return Err(err(
                    format!(
                        "unknown fixture `{bad}` (known: {})",
                        fx.iter().cloned().collect::<Vec<_>>().join(", ")
                    ),
                    "fixture",
                ));
            }
        }
        if let Err(e) = super::refs::validate(sc) {
            let region_end = text[at.end..]
                .find("[[scenario]]")
                .map_or(text.len(), |i| at.end + i);
            let span = locate(&text, at.start..region_end, e.at.0, &e.at.1)
                .or_else(|| locate_key(&text, at.start..region_end, e.key))
                .unwrap_or(at.clone());
            return Err(invalid(
                path,
                &text,
                span,
                &e.message,
                Some(e.key.to_string()),
            ));
        }
    }
    Ok(suite)
}

/// Where `key = "value"` is written inside `region` of `text` (the value's span).
fn locate(
    text: &str,
    region: std::ops::Range<usize>,
    key: &str,
    value: &str,
) -> Option<std::ops::Range<usize>> {
    let r = &text[region.clone()];
    let needle = format!("\"{value}\"");
    r.match_indices(key).find_map(|(i, _)| {
        let rest = &r[i + key.len()..];
        let after_eq = rest.trim_start().strip_prefix('=')?.trim_start();
        after_eq.starts_with(&needle).then(|| {
            let at = region.start + i + key.len() + (rest.len() - after_eq.len());
            at..at + needle.len()
        })
    })
}

/// Where `key =` is first written inside `region` of `text`.
fn locate_key(
    text: &str,
    region: std::ops::Range<usize>,
    key: &str,
) -> Option<std::ops::Range<usize>> {
    let r = &text[region.clone()];
    r.match_indices(key).find_map(|(i, _)| {
        let rest = r[i + key.len()..].trim_start();
        rest.starts_with('=')
            .then(|| region.start + i..region.start + i + key.len())
    })
}

/// The scenarios selected by suite names (empty = all) and id prefixes (empty = all), in file order.
pub fn select(
    suites: &[Suite],
    names: &[String],
    prefixes: &[String],
) -> Result<Vec<Scenario>, SuiteError> {
    for n in names {
        if !suites.iter().any(|s| &s.suite == n) {
            let known: Vec<&str> = suites.iter().map(|s| s.suite.as_str()).collect();
            return Err(SuiteError::NoMatch(format!(
                "--suite {n} (known: {})",
                known.join(", ")
            )));
        }
    }
    let out: Vec<Scenario> = suites
        .iter()
        .filter(|s| names.is_empty() || names.contains(&s.suite))
        .flat_map(|s| s.scenarios.iter())
        .filter(|sc| prefixes.is_empty() || prefixes.iter().any(|p| sc.id.starts_with(p.as_str())))
        .cloned()
        .collect();
    if out.is_empty() && !prefixes.is_empty() {
        return Err(SuiteError::NoMatch(format!(
            "--scenario {}",
            prefixes.join(", ")
        )));
    }
    Ok(out)
}
