//! The copy-paste CI jobs in `docs/ci/` stay true: each parses as YAML, every `conform` command in it
//! parses with today's command line, and the paths it relies on exist in this repository.

use clap::Parser;
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// Every shell script of a job: the strings under `run` (GitHub Actions) and `script` /
/// `before_script` (GitLab CI), wherever they sit.
fn scripts(v: &serde_json::Value, out: &mut Vec<String>) {
    fn all(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) => out.push(s.clone()),
            serde_json::Value::Array(a) => a.iter().for_each(|x| all(x, out)),
            _ => {}
        }
    }
    match v {
        serde_json::Value::Array(a) => a.iter().for_each(|x| scripts(x, out)),
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                if matches!(k.as_str(), "run" | "script" | "before_script") {
                    all(x, out);
                } else {
                    scripts(x, out);
                }
            }
        }
        _ => {}
    }
}

/// The `conform …` commands of a shell script: backslash continuations joined, a pipe cut off.
fn conform_commands(script: &str) -> Vec<Vec<String>> {
    script
        .replace("\\\n", " ")
        .lines()
        .filter_map(|l| {
            let l = l.split('|').next().unwrap_or("").trim();
            l.starts_with("conform ")
                .then(|| l.split_whitespace().map(str::to_owned).collect())
        })
        .collect()
}

#[rstest::rstest]
#[case::github_actions("docs/ci/github-actions.yml")]
#[case::gitlab_ci("docs/ci/gitlab-ci.yml")]
fn ci_job_runs_real_commands(#[case] file: &str) {
    let root = workspace();
    let text = std::fs::read_to_string(root.join(file)).expect("read the CI job");
    let doc: serde_json::Value =
        serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{file} is not YAML: {e}"));
    let mut all = Vec::new();
    scripts(&doc, &mut all);
    let commands: Vec<Vec<String>> = all.iter().flat_map(|s| conform_commands(s)).collect();
    assert!(!commands.is_empty(), "{file} runs no conform command");
    for argv in &commands {
        if let Err(e) = super::Cli::try_parse_from(argv) {
            panic!("{file}: `{}` does not parse: {e}", argv.join(" "));
        }
        for w in argv.windows(2).filter(|w| w[0] == "--baseline") {
            assert!(root.join(&w[1]).exists(), "{file}: no baseline at {}", w[1]);
        }
    }
    for path in all.iter().flat_map(|s| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .windows(2)
            .filter(|w| w[0] == "--path")
            .map(|w| w[1].to_owned())
            .collect::<Vec<_>>()
    }) {
        assert!(
            root.join(&path).join("Cargo.toml").is_file(),
            "{file}: cargo install --path {path}: no crate there"
        );
    }
    assert!(
        root.join("package-lock.json").is_file(),
        "{file} relies on npm ci"
    );
}
