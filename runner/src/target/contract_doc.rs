//! Keeps `docs/target-contract.md` true: every verb, flag, ecosystem key, `jlist` field, status word,
//! environment variable, "unsupported" phrase and exit code the code uses is in the document's tables,
//! and every one the tables list is still used. Reads the sources as text (`runner/src/`, `suites/`).

use super::command::{UNKNOWN_COMMAND, UNKNOWN_OPTION};
use super::contract::{EXEC_MODES, JlistField, STATUS_WORDS, Verb};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf()
}

fn doc() -> String {
    std::fs::read_to_string(root().join("docs/target-contract.md"))
        .expect("docs/target-contract.md")
}

fn src(rel: &str) -> String {
    std::fs::read_to_string(root().join("runner/src").join(rel)).expect(rel)
}

/// The text of section `## title` (up to the next `## `).
fn section<'a>(doc: &'a str, title: &str) -> &'a str {
    let head = format!("\n## {title}\n");
    let start = doc
        .find(&head)
        .unwrap_or_else(|| panic!("no `## {title}` section"))
        + head.len();
    let end = doc[start..].find("\n## ").map_or(doc.len(), |i| start + i);
    &doc[start..end]
}

/// The backticked first cell of every table row of a section.
fn first_column(doc: &str, title: &str) -> BTreeSet<String> {
    section(doc, title)
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once("` |").map(|(k, _)| k.to_string()))
        .collect()
}

/// Every string literal right after each `marker` (whitespace skipped).
fn literals_after(text: &str, marker: &str) -> Vec<String> {
    text.match_indices(marker)
        .filter_map(|(i, _)| {
            let rest = text[i + marker.len()..].trim_start().strip_prefix('"')?;
            Some(rest[..rest.find('"')?].to_string())
        })
        .collect()
}

fn is_env_name(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn set<I: IntoIterator<Item = S>, S: ToString>(i: I) -> BTreeSet<String> {
    i.into_iter().map(|s| s.to_string()).collect()
}

fn assert_same(what: &str, in_code: &BTreeSet<String>, in_doc: &BTreeSet<String>) {
    let missing: Vec<_> = in_code.difference(in_doc).collect();
    let stale: Vec<_> = in_doc.difference(in_code).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "docs/target-contract.md is out of date for {what}: used but not documented {missing:?}; documented but not used {stale:?}"
    );
}

#[test]
fn contract_doc_lists_every_verb() {
    assert_same(
        "verbs",
        &set(Verb::ALL.map(Verb::pm2)),
        &first_column(&doc(), "Verbs"),
    );
}

#[test]
fn contract_doc_every_target_command_in_the_code_is_a_verb_and_every_verb_is_used() {
    let mut files = Vec::new();
    rust_files(&root().join("runner/src"), &mut files);
    let known = set(Verb::ALL.map(Verb::pm2));
    let mut used = BTreeSet::new();
    let mut seen = BTreeSet::new();
    let documented_flags = first_column(&doc(), "Flags");
    for f in &files {
        let text = std::fs::read_to_string(f).expect("read");
        // argv literals handed to a target: `.cmd(&["scale", …`, `timed(sb, cmd, &["jlist"]`, `.run(x, &["kill"]`
        for (i, _) in text.match_indices("&[\"") {
            let window = &text[i.saturating_sub(80)..i];
            let call = [".cmd(", "timed(", ".run("]
                .iter()
                .filter_map(|m| window.rfind(m))
                .max();
            if call.is_some_and(|c| !window[c..].contains(';')) {
                let word: String = text[i + 3..].chars().take_while(|c| *c != '"').collect();
                seen.insert(word.clone());
                // the flags in that argv must be documented too
                let array = &text[i..i + text[i..].find(']').unwrap_or(0)];
                for (j, _) in array.match_indices("\"-") {
                    let flag: String = array[j + 1..].chars().take_while(|c| *c != '"').collect();
                    assert!(
                        documented_flags.contains(&flag),
                        "{} passes `{flag}` to the target: add it to the Flags table",
                        f.display()
                    );
                }
                assert!(
                    known.contains(&word),
                    "{} runs the target with `{word}`, which is not a contract verb (add it to Verb and docs/target-contract.md)",
                    f.display()
                );
            }
        }
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
        // `jlist` is read through JlistField only (so an adapter can move every field it reads)
        let in_adapter = f.parent().is_some_and(|d| d.ends_with("target/adapter"));
        if !in_adapter && !["contract.rs", "contract_doc.rs", "jlist.rs"].contains(&name) {
            assert!(
                !text.contains("\"pm2_env\""),
                "{} reads `pm2_env` itself: read jlist through JlistField (and document the field)",
                f.display()
            );
        }
        if !in_adapter && !["contract.rs", "contract_doc.rs"].contains(&name) {
            for v in Verb::ALL {
                if text.contains(&format!("Verb::{v:?}")) {
                    used.insert(v);
                }
            }
        }
    }
    // the scan sees `conform app`'s and `conform bench`'s literal commands
    assert!(
        seen.contains("scale") && seen.contains("jlist"),
        "the scan found {seen:?}"
    );
    let unused: Vec<_> = Verb::ALL.iter().filter(|v| !used.contains(v)).collect();
    assert!(unused.is_empty(), "verbs no code runs: {unused:?}");
}

#[test]
fn contract_doc_lists_every_flag() {
    let mut flags = BTreeSet::new();
    for f in [
        "engine/app.rs",
        "engine/steps.rs",
        "engine/faults.rs",
        "engine/stop_requests.rs",
    ] {
        let text = src(f);
        for (i, _) in text.match_indices("\"-") {
            let lit: String = text[i + 1..].chars().take_while(|c| *c != '"').collect();
            if lit.len() > 1 && lit[1..].chars().all(|c| c.is_ascii_lowercase() || c == '-') {
                flags.insert(lit);
            }
        }
    }
    // arguments the built-in suites pass (`args = [...]` of start and reload steps)
    let fx = crate::engine::fixture_names(&root().join("fixtures"));
    let suites = crate::suite::load_dir(&root().join("suites"), Some(&fx)).expect("suites load");
    for sc in suites.iter().flat_map(|s| &s.scenarios) {
        for st in &sc.steps {
            if let crate::suite::Step::Start { args } | crate::suite::Step::Reload { args, .. } = st
            {
                flags.extend(args.iter().filter(|a| a.starts_with('-')).cloned());
            }
        }
    }
    assert!(flags.contains("--kill-timeout"), "the scan found {flags:?}");
    assert_same("flags", &flags, &first_column(&doc(), "Flags"));
}

#[test]
fn contract_doc_lists_every_ecosystem_key_and_variable() {
    let app = src("engine/app.rs");
    let mut keys = BTreeSet::new();
    let mut vars = BTreeSet::new();
    for lit in literals_after(&app, "insert(")
        .into_iter()
        .chain(literals_after(&app, "json!({"))
    {
        if is_env_name(&lit) {
            vars.insert(lit);
        } else if lit.chars().all(|c| c.is_ascii_lowercase() || c == '_') && !lit.is_empty() {
            keys.insert(lit);
        }
    }
    keys.extend(json_keys(&app));
    assert!(
        keys.contains("kill_timeout") && keys.contains("apps"),
        "{keys:?}"
    );
    assert_same(
        "ecosystem keys",
        &keys,
        &first_column(&doc(), "Ecosystem keys"),
    );

    for (f, marker) in [
        ("target/sandbox.rs", "(("),
        ("target/sandbox.rs", "("),
        ("engine/scenario.rs", "(("),
    ] {
        vars.extend(
            literals_after(&src(f), marker)
                .into_iter()
                .filter(|l| is_env_name(l)),
        );
    }
    assert!(
        vars.contains("PM2_HOME") && vars.contains("PORT"),
        "{vars:?}"
    );
    assert_same("environment", &vars, &first_column(&doc(), "Environment"));
}

/// `"name": …` keys inside `json!` (a lower-case literal followed by a colon).
fn json_keys(text: &str) -> BTreeSet<String> {
    text.match_indices("\":")
        .filter_map(|(i, _)| {
            let k = &text[text[..i].rfind('"')? + 1..i];
            (!k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
                .then(|| k.to_string())
        })
        .collect()
}

#[test]
fn contract_doc_lists_every_ecosystem_key_of_conform_app() {
    let setup = src("app/setup.rs");
    let start = setup.find("pub fn write_files").expect("write_files");
    let end = start + setup[start..].find("\n}\n").expect("its end");
    let keys = json_keys(&setup[start..end]);
    assert!(keys.contains("node_args"), "{keys:?}");
    assert_same(
        "conform app's ecosystem keys",
        &keys,
        &first_column(&doc(), "Ecosystem keys of conform app"),
    );
}

#[test]
fn contract_doc_lists_every_jlist_field_status_word_and_exec_mode() {
    let d = doc();
    assert_same(
        "jlist fields",
        &set(JlistField::ALL.map(JlistField::pm2_path)),
        &first_column(&d, "jlist fields"),
    );
    assert_same(
        "status words",
        &set(STATUS_WORDS),
        &first_column(&d, "Status words"),
    );
    let fields = section(&d, "jlist fields");
    for m in EXEC_MODES {
        assert!(fields.contains(&format!("`{m}`")), "exec mode `{m}`");
    }
    // the status words the checks compare with are the documented ones
    for f in [
        "engine/steps.rs",
        "engine/checks/procs.rs",
        "engine/checks/mod.rs",
        "engine/checks/samples.rs",
    ] {
        for w in [
            "\"launching\"",
            "\"stopping\"",
            "\"waiting restart\"",
            "\"one-launch-status\"",
        ] {
            assert!(
                !src(f).contains(w),
                "{f} reads status {w}: add it to STATUS_WORDS and the doc"
            );
        }
    }
}

#[test]
fn contract_doc_lists_the_unsupported_phrases_and_exit_codes() {
    let d = doc();
    assert_same(
        "unsupported phrases",
        &set(UNKNOWN_OPTION.iter().chain(UNKNOWN_COMMAND.iter())),
        &first_column(&d, "Messages and exit codes"),
    );
    use crate::exit;
    assert_same(
        "exit codes",
        &set([exit::OK, exit::FAILED, exit::USAGE, exit::INTERRUPTED]),
        &first_column(&d, "Exit codes"),
    );
    let verdicts = set(crate::model::Verdict::ALL.map(|v| v.as_str()));
    assert_same("verdicts", &verdicts, &first_column(&d, "Verdicts"));
}

#[test]
fn contract_doc_adapter_table_names_every_key() {
    let d = doc();
    let adapter = section(&d, "Adapter files");
    let row = |table: &str| -> BTreeSet<String> {
        let line = adapter
            .lines()
            .find(|l| l.starts_with(&format!("| `{table}` |")))
            .unwrap_or_else(|| panic!("no `{table}` row"));
        let cell = line.split('|').nth(2).unwrap_or("");
        cell.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    };
    assert_same(
        "[verbs] keys",
        &set(Verb::ALL.map(Verb::key)),
        &row("[verbs]"),
    );
    let mut fields = set(JlistField::ALL.map(JlistField::key));
    fields.insert("array".into());
    assert_same("[jlist] keys", &fields, &row("[jlist]"));
    // the example in the document is a valid adapter
    let example = adapter
        .split("```toml\n")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .expect("a toml example");
    super::adapter::Adapter::parse(Path::new("docs/target-contract.md"), example)
        .expect("the documented example loads");
}
