//! `conform list` and suite-file diagnostics: a bad file exits 2 naming file, line and key.

use crate::common::{conform_bin, temp_tree, workspace};
use assert_cmd::Command;
use rstest::rstest;

const GOOD_HEAD: &str = "suite = \"x\"\n\n[[scenario]]\nid = \"x/one\"\nquote = \"q\"\nsource = \"guide\"\nlevel = \"MUST\"\nfixture = \"http\"\n";

#[rstest]
#[case::toml_syntax("suite = \"x\"\n[[scenario]\nid = \"x/one\"\n", 2, "scenario")]
#[case::unknown_check(
    &format!("{GOOD_HEAD}steps = [ {{ do = \"start\" }} ]\nexpect = [\n  {{ check = \"no-such-check\" }},\n]\n"),
    11,
    "check"
)]
#[case::unknown_step(
    &format!("{GOOD_HEAD}steps = [\n  {{ do = \"teleport\" }},\n]\nexpect = []\n"),
    10,
    "do"
)]
#[case::wrong_type(&format!("{GOOD_HEAD}timeout_s = \"soon\"\nsteps = []\nexpect = []\n"), 9, "timeout_s")]
#[case::missing_quote(
    "suite = \"x\"\n\n[[scenario]]\nid = \"x/one\"\nlevel = \"MUST\"\nfixture = \"http\"\nsteps = []\nexpect = []\n",
    3,
    "quote"
)]
#[case::unknown_fixture(&format!("{}steps = []\nexpect = []\n", GOOD_HEAD.replace("\"http\"", "\"nope\"")), 8, "fixture")]
#[case::step_name_typo(
    &format!("{GOOD_HEAD}steps = [ {{ do = \"reload\" }} ]\nexpect = [\n  {{ check = \"one-at-a-time\", during = \"relaod\" }},\n]\n"),
    11,
    "during"
)]
#[case::snapshot_label_typo(
    &format!("{GOOD_HEAD}steps = [ {{ do = \"snapshot\", label = \"before\" }} ]\nexpect = [\n  {{ check = \"pids-unchanged\", before = \"befor\", after = \"end\" }},\n]\n"),
    11,
    "before"
)]
#[case::extra_app_typo(
    &format!("{GOOD_HEAD}extra_apps = [ {{ name = \"other\" }} ]\nsteps = [\n  {{ do = \"start-ecosystem\", only = \"othr\" }},\n]\nexpect = []\n"),
    11,
    "only"
)]
fn bad_suite_file_exits_2_naming_file_line_and_key(
    #[case] text: &str,
    #[case] line: usize,
    #[case] key: &str,
) {
    let dir = temp_tree(&[("s/x.toml", text)]);
    let out = Command::new(conform_bin())
        .args(["list", "--suites"])
        .arg(dir.path().join("s"))
        .arg("--fixtures")
        .arg(workspace().join("fixtures"))
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .expect("run conform");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(
        stderr.contains(&format!("x.toml:{line}:")),
        "no x.toml:{line}: in {stderr}"
    );
    assert!(
        stderr.contains(&format!("key `{key}`")),
        "no key `{key}` in {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn list_prints_every_suite_and_scenario() {
    let suites = workspace().join("suites");
    let out = Command::new(conform_bin())
        .args(["list", "--suites"])
        .arg(&suites)
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .expect("run conform");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut files = 0;
    for f in std::fs::read_dir(&suites).expect("suites dir") {
        let p = f.expect("entry").path();
        if p.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        files += 1;
        let text = std::fs::read_to_string(&p).expect("read");
        let v: toml::Value = toml::from_str(&text).expect("valid toml");
        let name = v["suite"].as_str().expect("suite name");
        assert!(
            stdout.lines().any(|l| l.starts_with(name)),
            "suite {name} not listed"
        );
        for sc in v["scenario"].as_array().expect("scenarios") {
            let id = sc["id"].as_str().expect("id");
            let line = stdout
                .lines()
                .find(|l| l.trim_start().starts_with(&format!("{id} ")))
                .unwrap_or_else(|| panic!("{id} not listed"));
            assert!(
                line.contains(sc["level"].as_str().expect("level")),
                "{line}"
            );
            assert!(
                line.contains(sc["quote"].as_str().expect("quote")),
                "{line}"
            );
        }
    }
    for s in ["instances", "distribution", "reload", "graceful", "env"] {
        assert!(
            stdout.lines().any(|l| l.starts_with(s)),
            "suite {s} missing"
        );
    }
    assert!(files >= 5);
}

#[test]
fn list_with_unknown_suite_exits_2() {
    let out = Command::new(conform_bin())
        .args(["list", "--suite", "nosuch", "--suites"])
        .arg(workspace().join("suites"))
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .expect("run conform");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nosuch"));
}
