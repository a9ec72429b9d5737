//! `conform run --node`: the fixtures really run on the chosen binary (it is first on the sandbox's
//! PATH), every report records the runtime it ran on, and several `--node` make a matrix.
//!
//! The chosen "node" is a wrapper script around the `node` on PATH that marks its processes with an
//! environment variable, so the fixture can tell it was started through it. With
//! `CONFORM_TEST_NODES=/a/node:/b/node` (CI sets it to the Node 22/24/26 it installed), the matrix test
//! also runs on those and checks each app saw its own `process.version`.

use crate::common::{assert_no_leftovers, conform_bin, one_scenario, target, temp_tree, workspace};
use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A fixture that appends `process.version`, the wrapper mark and Bun's version to `$VERSIONS_FILE`,
/// then serves like the `http` fixture.
fn whoami_fixture() -> String {
    let http = workspace().join("fixtures/http.js");
    format!(
        "require('fs').appendFileSync(process.env.VERSIONS_FILE, JSON.stringify({{v: process.version, via: process.env.CONFORM_VIA_WRAPPER || null}}) + '\\n');\nrequire({});\n",
        serde_json::to_string(&http.display().to_string()).unwrap()
    )
}

fn node_on_path() -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("node"))
                .find(|p| p.is_file())
        })
        .expect("node on PATH")
}

/// `<dir>/wrap/node`: marks the environment, then execs the real node.
fn wrapper(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join("wrap/node");
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(
        &p,
        format!(
            "#!/bin/sh\nCONFORM_VIA_WRAPPER=1 exec {} \"$@\"\n",
            node_on_path().display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

fn run_on(nodes: &[PathBuf], dir: &Path) -> std::process::Output {
    let body = format!(
        "app = {{ instances = 2, env = {{ VERSIONS_FILE = {:?} }} }}\nsteps = [\n  {{ do = \"start\" }},\n  {{ do = \"wait-online\", count = 2 }},\n  {{ do = \"wait-listening\", count = 2 }},\n]\nexpect = [\n  {{ check = \"instance-count\", equals = 2 }},\n]\n",
        dir.join("versions.jsonl").display().to_string()
    );
    let suite =
        one_scenario("t", "on-node", &body).replace("fixture = \"http\"", "fixture = \"whoami\"");
    std::fs::create_dir_all(dir.join("s")).unwrap();
    std::fs::write(dir.join("s/t.toml"), suite).unwrap();
    std::fs::create_dir_all(dir.join("fx")).unwrap();
    std::fs::write(dir.join("fx/whoami.js"), whoami_fixture()).unwrap();
    let mut cmd = Command::new(conform_bin());
    cmd.arg("run")
        .arg("--target")
        .arg(target())
        .arg("--suites")
        .arg(dir.join("s"))
        .arg("--fixtures")
        .arg(dir.join("fx"))
        .arg("--report-dir")
        .arg(dir.join("r"))
        .env("CONFORM_NODE_CACHE", dir.join("cache"))
        .timeout(Duration::from_secs(300));
    for n in nodes {
        cmd.arg("--node").arg(n);
    }
    cmd.output().expect("run conform")
}

fn versions(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("versions.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("versions line"))
        .collect()
}

fn report(dir: &Path, label: &str) -> serde_json::Value {
    let p = dir.join("r").join(label).join("results.json");
    serde_json::from_str(
        &std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())),
    )
    .unwrap()
}

#[test]
fn the_apps_run_on_the_node_given_and_the_report_says_which() {
    let dir = temp_tree(&[]);
    let node = wrapper(dir.path());
    let out = run_on(std::slice::from_ref(&node), dir.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen = versions(dir.path());
    assert!(seen.len() >= 2, "both instances recorded: {seen:?}");
    assert!(
        seen.iter().all(|s| s["via"] == "1"),
        "every app process was started through --node: {seen:?}"
    );
    let real = std::process::Command::new(node_on_path())
        .arg("--version")
        .output()
        .unwrap();
    let real = String::from_utf8_lossy(&real.stdout).trim().to_string();
    let label = format!(
        "{}@node-{}",
        target().file_name().unwrap().to_string_lossy(),
        &real[1..]
    );
    let label = if label.starts_with("refpm") {
        label
    } else {
        // pm2 labels carry their version: find the one directory written
        std::fs::read_dir(dir.path().join("r"))
            .unwrap()
            .find_map(|e| e.ok()?.file_name().into_string().ok())
            .unwrap()
    };
    let res = report(dir.path(), &label);
    assert_eq!(res["schema_version"], 2);
    assert_eq!(res["runtime"]["name"], "node");
    assert_eq!(res["runtime"]["version"], real[1..]);
    assert_eq!(res["runtime"]["command"], node.display().to_string());
    assert_eq!(res["runtime"]["requested"], node.display().to_string());
    assert_eq!(res["target"]["label"], label);
    let junit =
        std::fs::read_to_string(dir.path().join("r").join(&label).join("junit.xml")).unwrap();
    assert!(junit.contains(&format!("value=\"node {real}\"")), "{junit}");
    assert_no_leftovers(&res);
}

#[test]
fn two_nodes_of_one_version_are_refused_naming_the_second() {
    let dir = temp_tree(&[]);
    let nodes = vec![wrapper(dir.path()), node_on_path()];
    let out = run_on(&nodes, dir.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(
        err.contains(&format!(
            "--node `{}`: the same runtime",
            nodes[1].display()
        )),
        "{err}"
    );
    assert!(versions(dir.path()).is_empty(), "nothing ran");
}

/// Needs `CONFORM_TEST_NODES` (two or more node binaries of different versions; CI sets it).
#[test]
fn several_nodes_make_a_matrix_each_on_its_own_version() {
    let nodes: Vec<PathBuf> = std::env::var("CONFORM_TEST_NODES")
        .map(|v| std::env::split_paths(&v).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
    if nodes.len() < 2 {
        eprintln!("skipped: set CONFORM_TEST_NODES=/a/node:/b/node (two Node versions) to run it");
        return;
    }
    let dir = temp_tree(&[]);
    let out = run_on(&nodes, dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("differ between targets"),
        "matrix printed: {stdout}"
    );
    assert!(dir.path().join("r/matrix.html").is_file());
    let dirs: Vec<String> = std::fs::read_dir(dir.path().join("r"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.contains("@node-"))
        .collect();
    let seen: Vec<String> = versions(dir.path())
        .iter()
        .map(|s| s["v"].as_str().unwrap_or_default().to_string())
        .collect();
    for n in &nodes {
        let v = std::process::Command::new(n)
            .arg("--version")
            .output()
            .unwrap();
        let v = String::from_utf8_lossy(&v.stdout).trim().to_string();
        assert!(seen.contains(&v), "an app ran on {v}: {seen:?}");
        let d = dirs
            .iter()
            .find(|d| d.ends_with(&format!("@node-{}", &v[1..])))
            .unwrap_or_else(|| panic!("a report for {v}: {dirs:?}"));
        let res = report(dir.path(), d);
        assert_eq!(res["runtime"]["version"], v[1..]);
        assert_no_leftovers(&res);
    }
}
