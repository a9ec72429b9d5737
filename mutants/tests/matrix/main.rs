//! The mutation matrix: every mutant of the catalogue runs against the scenarios that must catch it
//! (only those, so it stays quick), through the real `conform` CLI and the real refpm underneath.
//! The test fails when a mutant survives — a catching scenario passes, or fails without the check
//! that names the broken promise — or when a check kind of `suites/README.md` is caught by no mutant
//! and is not listed as uncatchable. It writes the kill matrix to `target/mutants/matrix.md`;
//! `CONFORM_UPDATE_README=1` also splices it into README.md. `CONFORM_MUTANTS=a,b` runs a subset
//! (no coverage check, no README update); `CONFORM_MUTANT_JOBS` (default 2) mutants run at once.
//! `CONFORM_MUTANT_CONFORM` and `CONFORM_MUTANT_KIT` (a directory with `suites/` and `fixtures/`) run the
//! matrix against another build of the kit (e.g. a branch's), without touching README.md.

mod table;

use conform_mutants::catalogue::{CATALOGUE, Spec, UNCATCHABLE};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use table::Row;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf()
}

/// The directory holding the `suites/` and `fixtures/` under test.
fn kit() -> PathBuf {
    std::env::var_os("CONFORM_MUTANT_KIT")
        .map(PathBuf::from)
        .unwrap_or_else(workspace)
}

/// `conform` and `refpm` built beside this package's binary (`cargo test --workspace` builds them).
fn sibling(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_BIN_EXE_conform-mutant"))
        .parent()
        .expect("bin dir")
        .join(name);
    assert!(
        p.is_file(),
        "{} missing: run `cargo build -p conform -p refpm` (or `cargo test --workspace`)",
        p.display()
    );
    p
}

fn alive(pid: u64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(')').map(|x| x.1.trim_start().chars().next()))
        .flatten()
        .is_some_and(|c| c != 'Z' && c != 'X')
}

/// Runs conform with the mutant's wrapper against its catching scenarios; the matrix row.
fn run_mutant(spec: &Spec, wrapper: &Path, conform: &Path, reports: &Path) -> Row {
    let dir = reports.join(spec.name);
    let mut cmd = Command::new(conform);
    cmd.arg("run")
        .arg("--target")
        .arg(wrapper)
        .arg("--suites")
        .arg(kit().join("suites"))
        .arg("--fixtures")
        .arg(kit().join("fixtures"))
        .arg("--report-dir")
        .arg(&dir);
    for c in spec.catches {
        cmd.arg("--scenario").arg(c.scenario);
    }
    let out = cmd.output().expect("run conform");
    let mut row = Row {
        name: spec.name.to_string(),
        breaks: spec.breaks.to_string(),
        mechanism: serde_json::to_value(spec.mechanism)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        scenarios: Vec::new(),
        expected: spec
            .catches
            .iter()
            .flat_map(|c| c.checks.iter().map(|s| s.to_string()))
            .collect(),
        survived: Vec::new(),
    };
    let results = std::fs::read_dir(&dir)
        .ok()
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("results.json"))
        .find(|p| p.is_file())
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok());
    let Some(results) = results else {
        row.survived.push(format!(
            "no results.json (exit {:?}): {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        ));
        return row;
    };
    let list = results["results"].as_array().cloned().unwrap_or_default();
    for r in &list {
        for w in r["figures"]["workers"].as_array().into_iter().flatten() {
            if let Some(pid) = w["pid"].as_u64() {
                assert!(!alive(pid), "{}: worker {pid} left running", spec.name);
            }
        }
    }
    for c in spec.catches {
        let Some(r) = list.iter().find(|r| r["id"] == c.scenario) else {
            row.survived.push(format!("{} did not run", c.scenario));
            continue;
        };
        let verdict = r["verdict"].as_str().unwrap_or("").to_string();
        let failed = table::failed_checks(r);
        if !matches!(verdict.as_str(), "fail" | "non-strict") {
            row.survived.push(format!(
                "{}: {verdict} ({})",
                c.scenario,
                r["reason"].as_str().unwrap_or("")
            ));
        } else {
            for want in c.checks {
                if !failed.iter().any(|f| f == want) {
                    row.survived.push(format!(
                        "{}: {verdict}, but `{want}` passed (failed: {failed:?})",
                        c.scenario
                    ));
                }
            }
        }
        row.scenarios
            .push((c.scenario.to_string(), verdict, failed));
    }
    row
}

#[test]
fn every_mutant_is_killed_by_the_check_naming_its_promise() {
    let conform = std::env::var_os("CONFORM_MUTANT_CONFORM")
        .map(PathBuf::from)
        .unwrap_or_else(|| sibling("conform"));
    let refpm = sibling("refpm");
    let only: Option<BTreeSet<String>> = std::env::var("CONFORM_MUTANTS")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.split(',').map(|x| x.trim().to_string()).collect());
    let specs: Vec<&Spec> = CATALOGUE
        .iter()
        .filter(|s| only.as_ref().is_none_or(|o| o.contains(s.name)))
        .collect();
    assert!(!specs.is_empty(), "CONFORM_MUTANTS matches no mutant");
    let tmp = tempfile::Builder::new()
        .prefix("cf-mutants.")
        .tempdir()
        .expect("tempdir");
    let wrappers = tmp.path().join("bin");
    conform_mutants::shim::write_wrappers(
        &wrappers,
        Path::new(env!("CARGO_BIN_EXE_conform-mutant")),
        &refpm,
    )
    .expect("wrappers");
    let jobs: usize = std::env::var("CONFORM_MUTANT_JOBS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2)
        .max(1);
    let t0 = Instant::now();
    let queue = Mutex::new(specs.iter().copied().enumerate());
    let rows: Mutex<Vec<(usize, Row, Duration)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| {
                loop {
                    let next = queue.lock().unwrap().next();
                    let Some((i, spec)) = next else { break };
                    let t = Instant::now();
                    let row = run_mutant(
                        spec,
                        &wrappers.join(spec.name),
                        &conform,
                        &tmp.path().join("reports"),
                    );
                    eprintln!(
                        "mutant {:<32} {} in {:.0} s",
                        spec.name,
                        if row.killed() { "killed" } else { "SURVIVED" },
                        t.elapsed().as_secs_f64()
                    );
                    rows.lock().unwrap().push((i, row, t.elapsed()));
                }
            });
        }
    });
    let mut rows = rows.into_inner().unwrap();
    rows.sort_by_key(|(i, _, _)| *i);
    let rows: Vec<Row> = rows.into_iter().map(|(_, r, _)| r).collect();

    let readme_suites = std::fs::read_to_string(kit().join("suites/README.md")).expect("read");
    let checks = table::documented_checks(&readme_suites);
    let md = table::render(&rows, &checks, UNCATCHABLE);
    let out_dir = workspace().join("target/mutants");
    std::fs::create_dir_all(&out_dir).expect("mkdir");
    std::fs::write(out_dir.join("matrix.md"), &md).expect("write matrix");
    println!("{md}");
    eprintln!(
        "{} mutants in {:.0} s with {jobs} at a time; scenario verdicts {:?}",
        rows.len(),
        t0.elapsed().as_secs_f64(),
        table::verdicts(&rows)
    );

    let full = only.is_none();
    let own_kit = std::env::var_os("CONFORM_MUTANT_KIT").is_none()
        && std::env::var_os("CONFORM_MUTANT_CONFORM").is_none();
    if full && own_kit && std::env::var("CONFORM_UPDATE_README").is_ok_and(|v| v == "1") {
        let path = workspace().join("README.md");
        let text = std::fs::read_to_string(&path).expect("read README");
        let new = table::splice(&text, "mutation-matrix", &md)
            .expect("README.md has no <!-- mutation-matrix:start/end --> markers");
        std::fs::write(&path, new).expect("write README");
    }

    let survivors: Vec<String> = rows
        .iter()
        .filter(|r| !r.killed())
        .map(|r| format!("{}: {}", r.name, r.survived.join("; ")))
        .collect();
    assert!(
        survivors.is_empty(),
        "{} of {} mutants survived:\n{}",
        survivors.len(),
        rows.len(),
        survivors.join("\n")
    );
    if full {
        let caught: BTreeSet<&str> = CATALOGUE
            .iter()
            .flat_map(|s| s.catches.iter().flat_map(|c| c.checks.iter().copied()))
            .collect();
        let listed: BTreeSet<&str> = UNCATCHABLE.iter().map(|(n, _)| *n).collect();
        let uncovered: Vec<&String> = checks
            .iter()
            .filter(|c| !caught.contains(c.as_str()) && !listed.contains(c.as_str()))
            .collect();
        assert!(
            uncovered.is_empty(),
            "check kinds of suites/README.md no mutant is caught by (add a mutant or list them in UNCATCHABLE): {uncovered:?}"
        );
        let stale: Vec<&&str> = listed.iter().filter(|n| !checks.contains(**n)).collect();
        assert!(
            stale.is_empty(),
            "UNCATCHABLE lists unknown checks: {stale:?}"
        );
    }
}
