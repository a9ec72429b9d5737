//! Adapter files (`conform run --adapter FILE`): how to drive a manager that differs from PM2 —
//! its verb names and extra arguments, where `jlist`'s fields live, and its status and exec-mode
//! words. Validated when loaded; every problem names the file, line and key (exit 2).
//!
//! ```toml
//! [verbs]
//! scale = "resize"                               # PM2's `scale` is called `resize`
//! jlist = { name = "ps", args = ["--json"] }     # renamed, with arguments appended
//! logs = false                                   # no such verb: scenarios using it are `unsupported`
//!
//! [jlist]
//! array = "procs"            # the process array is at this path of the output (default: the first JSON array)
//! pid = "os.pid"             # dotted paths inside one entry
//! status = "state"
//! env = "vars"
//! instance = "slot"         # the instance value (default: pm2_env.<instance_var>)
//!
//! [status]                   # the target's word = PM2's word
//! up = "online"
//! ```

use super::contract::{EXEC_MODES, JlistField, STATUS_WORDS, Verb};
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A problem with an adapter file.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum AdapterError {
    /// The file could not be read.
    #[error("cannot read adapter file {file}: {source}")]
    Io {
        /// File path as given.
        file: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The file is not valid TOML or does not fit the adapter model.
    #[error("{file}:{line}:{col}: key `{key}`: {message}")]
    #[diagnostic(
        code(conform::adapter::invalid),
        help(
            "an adapter has [verbs], [jlist], [status] and [exec_mode]; see docs/target-contract.md"
        )
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
        src: std::sync::Arc<miette::NamedSource<String>>,
        /// Where.
        #[label("here")]
        span: miette::SourceSpan,
    },
}

/// How one verb is spelled on the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerbSpec {
    /// The target runs it under this name, with these arguments appended after conform's.
    Named {
        /// The target's name for the verb.
        name: String,
        /// Extra arguments, appended.
        args: Vec<String>,
    },
    /// The target has no such verb: a step needing it makes the scenario `unsupported`.
    Absent,
}

/// An adapter: PM2's names unless a file says otherwise ([`Adapter::default`] is PM2 itself).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Adapter {
    /// The file it came from (`None`: PM2's contract as is).
    pub file: Option<PathBuf>,
    verbs: BTreeMap<Verb, VerbSpec>,
    /// Path of the process array in `jlist`'s JSON output (`None`: the first JSON array).
    array: Option<Vec<String>>,
    fields: BTreeMap<JlistField, Vec<String>>,
    status: BTreeMap<String, String>,
    exec_mode: BTreeMap<String, String>,
}

/// The argv for a verb, or why there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Argv {
    /// Run the target with these arguments.
    Run(Vec<String>),
    /// The adapter says the target has no such verb.
    Absent(Verb),
}

impl Adapter {
    /// Loads and validates an adapter file.
    pub fn load(file: &Path) -> Result<Adapter, AdapterError> {
        let text = std::fs::read_to_string(file).map_err(|source| AdapterError::Io {
            file: file.display().to_string(),
            source,
        })?;
        Adapter::parse(file, &text)
    }

    /// Parses adapter text; `file` names it in diagnostics.
    pub fn parse(file: &Path, text: &str) -> Result<Adapter, AdapterError> {
        let bad = |span: Option<Range<usize>>, key: &str, message: String| {
            let span = span.unwrap_or(0..0);
            let (line, col) = crate::suite::diag::line_col(text, span.start);
            let name = file.display().to_string();
            AdapterError::Invalid {
                file: name.clone(),
                line,
                col,
                key: key.to_string(),
                message,
                src: std::sync::Arc::new(miette::NamedSource::new(name, text.to_string())),
                span: (span.start, span.end.saturating_sub(span.start)).into(),
            }
        };
        type Table = BTreeMap<toml::Spanned<String>, toml::Spanned<toml::Value>>;
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            #[serde(default)]
            verbs: Table,
            #[serde(default)]
            jlist: Table,
            #[serde(default)]
            status: Table,
            #[serde(default)]
            exec_mode: Table,
        }
        let raw: Raw = toml::from_str(text).map_err(|e| {
            let msg = e.message().trim().to_string();
            let key = msg
                .split('`')
                .nth(1)
                .filter(|_| msg.starts_with("unknown field"))
                .unwrap_or("?")
                .to_string();
            bad(e.span(), &key, msg)
        })?;
        let mut a = Adapter {
            file: Some(file.to_path_buf()),
            ..Adapter::default()
        };
        for (k, v) in &raw.verbs {
            let key = format!("verbs.{}", k.get_ref());
            let verb = Verb::from_key(k.get_ref()).ok_or_else(|| {
                let known: Vec<&str> = Verb::ALL.iter().map(|v| v.key()).collect();
                bad(
                    Some(k.span()),
                    &key,
                    format!("unknown verb (known: {})", known.join(", ")),
                )
            })?;
            let spec = verb_spec(v.get_ref()).map_err(|m| bad(Some(v.span()), &key, m))?;
            if spec == VerbSpec::Absent && !verb.optional() {
                return Err(bad(
                    Some(v.span()),
                    &key,
                    format!("`{}` cannot be absent: conform needs it", verb.key()),
                ));
            }
            a.verbs.insert(verb, spec);
        }
        for (k, v) in &raw.jlist {
            let key = format!("jlist.{}", k.get_ref());
            let path = match v.get_ref() {
                toml::Value::String(s) => parse_path(s),
                _ => None,
            }
            .ok_or_else(|| {
                bad(
                    Some(v.span()),
                    &key,
                    "expected a dotted path such as \"pm2_env.status\"".into(),
                )
            })?;
            if k.get_ref() == "array" {
                a.array = Some(path);
                continue;
            }
            let f = JlistField::from_key(k.get_ref()).ok_or_else(|| {
                let known: Vec<&str> = JlistField::ALL.iter().map(|f| f.key()).collect();
                bad(
                    Some(k.span()),
                    &key,
                    format!("unknown field (known: array, {})", known.join(", ")),
                )
            })?;
            a.fields.insert(f, path);
        }
        for (section, table, words, out) in [
            ("status", &raw.status, &STATUS_WORDS[..], &mut a.status),
            (
                "exec_mode",
                &raw.exec_mode,
                &EXEC_MODES[..],
                &mut a.exec_mode,
            ),
        ] {
            for (k, v) in table {
                let key = format!("{section}.{}", k.get_ref());
                match v.get_ref() {
                    toml::Value::String(s) if words.contains(&s.as_str()) => {
                        out.insert(k.get_ref().clone(), s.clone());
                    }
                    _ => {
                        return Err(bad(
                            Some(v.span()),
                            &key,
                            format!("expected one of PM2's words: {}", words.join(", ")),
                        ));
                    }
                }
            }
        }
        Ok(a)
    }

    /// The arguments for `verb` followed by `rest`, as this target spells them.
    pub fn argv(&self, verb: Verb, rest: &[&str]) -> Argv {
        let (name, extra) = match self.verbs.get(&verb) {
            Some(VerbSpec::Absent) => return Argv::Absent(verb),
            Some(VerbSpec::Named { name, args }) => (name.as_str(), args.as_slice()),
            None => (verb.pm2(), &[][..]),
        };
        let mut v = vec![name.to_string()];
        v.extend(rest.iter().map(|s| s.to_string()));
        v.extend(extra.iter().cloned());
        Argv::Run(v)
    }

    /// The target's name for a verb (for messages).
    pub fn name_of(&self, verb: Verb) -> &str {
        match self.verbs.get(&verb) {
            Some(VerbSpec::Named { name, .. }) => name,
            _ => verb.pm2(),
        }
    }

    /// Where a `jlist` field is read, as path segments.
    pub fn path(&self, f: JlistField) -> Vec<&str> {
        match self.fields.get(&f) {
            Some(p) => p.iter().map(String::as_str).collect(),
            None => f.pm2_path().split('.').collect(),
        }
    }

    /// Whether the `[jlist]` table moved this field.
    pub fn moved(&self, f: JlistField) -> bool {
        self.fields.contains_key(&f)
    }

    /// Path of the process array (`None`: the first JSON array of the output).
    pub fn array_path(&self) -> Option<&[String]> {
        self.array.as_deref()
    }

    /// PM2's status word for the target's `word`.
    pub fn status<'a>(&'a self, word: &'a str) -> &'a str {
        self.status.get(word).map_or(word, String::as_str)
    }

    /// PM2's exec-mode word for the target's `word`.
    pub fn exec_mode<'a>(&'a self, word: &'a str) -> &'a str {
        self.exec_mode.get(word).map_or(word, String::as_str)
    }
}

fn verb_spec(v: &toml::Value) -> Result<VerbSpec, String> {
    let name_ok = |s: &str| !s.trim().is_empty() && !s.contains(char::is_whitespace);
    match v {
        toml::Value::Boolean(false) => Ok(VerbSpec::Absent),
        toml::Value::String(s) if name_ok(s) => Ok(VerbSpec::Named {
            name: s.clone(),
            args: Vec::new(),
        }),
        toml::Value::Table(t) => {
            if let Some(k) = t.keys().find(|k| !["name", "args"].contains(&k.as_str())) {
                return Err(format!("unknown key `{k}` (expected `name` and `args`)"));
            }
            let name = match t.get("name") {
                None => None,
                Some(toml::Value::String(s)) if name_ok(s) => Some(s.clone()),
                Some(_) => return Err("`name` must be a word without spaces".into()),
            };
            let args = match t.get("args") {
                None => Vec::new(),
                Some(toml::Value::Array(a)) => a
                    .iter()
                    .map(|x| x.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
                    .ok_or("`args` must be an array of strings")?,
                Some(_) => return Err("`args` must be an array of strings".into()),
            };
            Ok(VerbSpec::Named {
                name: name.ok_or("missing `name`")?,
                args,
            })
        }
        _ => Err(
            "expected the target's name (\"resize\"), { name = \"…\", args = [\"…\"] }, or false"
                .into(),
        ),
    }
}

fn parse_path(s: &str) -> Option<Vec<String>> {
    let parts: Vec<String> = s.split('.').map(str::to_string).collect();
    (!s.is_empty()
        && parts
            .iter()
            .all(|p| !p.is_empty() && !p.contains(char::is_whitespace)))
    .then_some(parts)
}

#[cfg(test)]
mod tests;
