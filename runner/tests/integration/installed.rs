//! Installed, it just works: `conform` and `refpm` copied into an empty directory outside any checkout
//! (as `cargo install` leaves them) list and run the built-in suites, unpacked to a fresh cache.

use crate::common::{
    assert_no_debug_text, assert_no_leftovers, conform_bin, results, target, workspace,
};
use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// An empty directory outside the checkout holding copies of `conform` (and `refpm` when asked), plus
/// a private cache and home so nothing is found from earlier runs.
struct Installed {
    dir: tempfile::TempDir,
    home: tempfile::TempDir,
}

impl Installed {
    fn new(with_refpm: bool) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("cf-installed.")
            .tempdir()
            .expect("tempdir");
        assert!(
            !dir.path().starts_with(workspace()),
            "the temp dir must be outside the checkout"
        );
        std::fs::copy(conform_bin(), dir.path().join("conform")).expect("copy conform");
        if with_refpm {
            std::fs::copy(target(), dir.path().join("refpm")).expect("copy refpm");
        }
        let home = tempfile::Builder::new()
            .prefix("cf-home.")
            .tempdir()
            .expect("tempdir");
        Installed { dir, home }
    }

    fn bin(&self) -> PathBuf {
        self.dir.path().join("conform")
    }

    /// `conform ARGS` run from the install directory, with a fresh cache and PATH = `path` + node's.
    fn cmd(&self, args: &[&str], path: &[&Path]) -> Command {
        let mut c = Command::new(self.bin());
        c.args(args)
            .current_dir(self.dir.path())
            .env("HOME", self.home.path())
            .env("XDG_CACHE_HOME", self.home.path().join("cache"))
            .env("PATH", search_path(path))
            .timeout(Duration::from_secs(600));
        c
    }
}

/// `extra` first, then only the directory holding `node` (no checkout, no cargo target dir).
fn search_path(extra: &[&Path]) -> std::ffi::OsString {
    let node = std::env::var_os("PATH")
        .and_then(|p| {
            std::env::split_paths(&p)
                .find(|d| d.join("node").is_file())
                .map(|d| d.to_path_buf())
        })
        .expect("node on PATH");
    let mut dirs: Vec<PathBuf> = extra.iter().map(|p| p.to_path_buf()).collect();
    dirs.push(node);
    std::env::join_paths(dirs).expect("join PATH")
}

#[test]
fn installed_binaries_list_every_scenario_and_run_instances_against_refpm_beside_them() {
    let inst = Installed::new(true);
    let out = inst.cmd(&["list"], &[]).output().expect("run conform list");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // every scenario id of the checkout's suites is listed by the copy
    let mut ids = 0;
    for f in std::fs::read_dir(workspace().join("suites")).expect("suites") {
        let p = f.expect("entry").path();
        if p.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let v: toml::Value =
            toml::from_str(&std::fs::read_to_string(&p).expect("read")).expect("toml");
        for sc in v["scenario"].as_array().expect("scenarios") {
            let id = sc["id"].as_str().expect("id");
            ids += 1;
            assert!(
                stdout
                    .lines()
                    .any(|l| l.trim_start().starts_with(&format!("{id} "))),
                "{id} not listed by the installed conform:\n{stdout}"
            );
        }
    }
    assert!(
        stdout.contains(&format!("{ids} scenarios")),
        "count line: {stdout}"
    );

    let out = inst
        .cmd(&["run", "--suite", "instances"], &[])
        .output()
        .expect("run conform run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    // reports under the current directory, labelled by the refpm beside conform
    let reports = inst.dir.path().join("reports");
    assert!(reports.join("refpm/index.html").is_file());
    let res = results(&reports);
    assert_no_leftovers(&res);
    assert_no_debug_text(&reports);
    let rs = res["results"].as_array().expect("results");
    assert!(!rs.is_empty());
    for r in rs {
        assert_eq!(r["verdict"], "pass", "{}: {}", r["id"], r["reason"]);
    }
    let cmd = res["target"]["command"].as_str().expect("target command");
    assert!(
        Path::new(cmd).starts_with(inst.dir.path().canonicalize().expect("canon")),
        "target {cmd} is not the refpm beside conform"
    );
    // the built-in files were unpacked once into the private cache
    let cache = inst.home.path().join("cache/conform/builtin");
    let copies: Vec<_> = std::fs::read_dir(&cache)
        .expect("cache")
        .filter_map(|e| e.ok())
        .collect();
    assert_eq!(copies.len(), 1, "{copies:?}");
}

#[test]
fn without_refpm_beside_it_conform_uses_the_one_on_path_or_exits_2() {
    let inst = Installed::new(false);
    let out = inst
        .cmd(&["run", "--suite", "instances"], &[])
        .output()
        .expect("run conform");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no `refpm` beside conform"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!inst.dir.path().join("reports").exists());

    let bin_dir = target().parent().expect("refpm dir").to_path_buf();
    let out = inst
        .cmd(
            &[
                "run",
                "--suite",
                "instances",
                "--scenario",
                "instances/cli/i-4",
            ],
            &[&bin_dir],
        )
        .output()
        .expect("run conform");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let res = results(&inst.dir.path().join("reports"));
    assert_no_leftovers(&res);
    assert_eq!(res["results"][0]["verdict"], "pass");
}

#[test]
fn suites_export_writes_the_builtin_suites_and_they_run_with_suites_dir() {
    let inst = Installed::new(true);
    let out = inst
        .cmd(&["suites", "export", "mine"], &[])
        .output()
        .expect("export");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mine = inst.dir.path().join("mine");
    for f in std::fs::read_dir(workspace().join("suites")).expect("suites") {
        let p = f.expect("entry").path();
        let copy = mine.join(p.file_name().expect("name"));
        assert_eq!(
            std::fs::read(&copy).unwrap_or_default(),
            std::fs::read(&p).expect("read"),
            "{} differs",
            copy.display()
        );
    }
    // a second export refuses to overwrite, naming the file
    let out = inst
        .cmd(&["suites", "export", "mine"], &[])
        .output()
        .expect("export");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("already exists"), "{stderr}");
    // the exported copy is what `--suites` reads
    let out = inst
        .cmd(&["list", "--suites", "mine", "--suite", "env"], &[])
        .output()
        .expect("list");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("env/"));
}
