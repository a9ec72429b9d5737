//! The target contract (docs/target-contract.md) end to end, with real wrapper targets around refpm:
//! a manager without `scale` (rejected the way commander rejects an unknown command) gets
//! `unsupported` and exit 1 for an unsupported MUST, unless a baseline accepts it; a manager that
//! renames every verb and reshapes `jlist` passes the instances suite only through an adapter file;
//! `--cpus` sets the count `max` is checked against, and the report says which count the target used.

use crate::common::{
    assert_no_leftovers, conform_bin, one_scenario, results, run_conform, target, temp_tree,
    workspace,
};
use assert_cmd::Command;
use rstest::rstest;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Writes an executable script.
fn script(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write script");
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The built-in scenarios with a `scale` step.
const SCALE_SCENARIOS: [&str; 6] = [
    "instances/scale/absolute",
    "instances/scale/plus",
    "instances/scale/down",
    "env/instance-var/restart-then-scale",
    "env/instance-zero/scale-down",
    "env/scale/fills-lowest-gap",
];

#[test]
fn a_target_without_scale_gets_unsupported_for_the_scale_scenarios_and_exit_1() {
    let dir = temp_tree(&[]);
    let noscale = dir.path().join("noscale");
    // refpm, except that `scale` is an unknown command, worded and exiting as commander does
    script(
        &noscale,
        &format!(
            "#!/bin/sh\nif [ \"$1\" = scale ]; then\n  echo \"error: unknown command 'scale'\" >&2\n  exit 1\nfi\nexec {} \"$@\"\n",
            target().display()
        ),
    );
    let mut args: Vec<&str> = Vec::new();
    for id in SCALE_SCENARIOS {
        args.extend(["--scenario", id]);
    }
    let suites = workspace().join("suites");
    let out = run_conform(&noscale, &suites, &dir.path().join("r"), &args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "an unsupported MUST is not passed: {}",
        stderr(&out)
    );
    let res = results(&dir.path().join("r"));
    let rs = res["results"].as_array().expect("results");
    assert_eq!(rs.len(), SCALE_SCENARIOS.len(), "{res}");
    for r in rs {
        assert_eq!(r["verdict"], "unsupported", "{r}");
        let reason = r["reason"].as_str().unwrap_or("");
        assert!(
            reason.contains("unknown command 'scale'"),
            "{}: {reason}",
            r["id"]
        );
    }
    // instances/scale/{absolute,plus,down} and env/instance-var/restart-then-scale are MUSTs
    assert_eq!(res["summary"]["must_failures"], 4, "{}", res["summary"]);
    assert_no_leftovers(&res);

    // a baseline that says `unsupported` accepts it: exit 0
    let accepted: serde_json::Map<String, serde_json::Value> = SCALE_SCENARIOS
        .iter()
        .map(|id| (id.to_string(), serde_json::json!(["unsupported"])))
        .collect();
    let baseline = dir.path().join("noscale.json");
    std::fs::write(
        &baseline,
        serde_json::json!({"schema_version": 1, "target": "noscale", "scenarios": accepted})
            .to_string(),
    )
    .expect("write baseline");
    let b = baseline.display().to_string();
    args.extend(["--baseline", &b]);
    let out = run_conform(&noscale, &suites, &dir.path().join("r2"), &args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "the baseline accepts unsupported: {}",
        stderr(&out)
    );
}

fn renamed_pm(dir: &Path) -> PathBuf {
    let exe = dir.join("renamed-pm");
    let js = workspace().join("runner/tests/integration/targets/renamed-pm.js");
    script(
        &exe,
        &format!(
            "#!/bin/sh\nexec node {} {} \"$@\"\n",
            js.display(),
            target().display()
        ),
    );
    exe
}

fn adapter_file() -> PathBuf {
    workspace().join("runner/tests/integration/targets/renamed-pm.adapter.toml")
}

#[test]
fn a_renamed_manager_passes_the_instances_suite_only_through_its_adapter() {
    let dir = temp_tree(&[]);
    let exe = renamed_pm(dir.path());
    let suites = workspace().join("suites");
    let a = adapter_file().display().to_string();
    let out = run_conform(
        &exe,
        &suites,
        &dir.path().join("r"),
        &["--suite", "instances", "--adapter", &a],
    );
    let res = results(&dir.path().join("r"));
    assert_eq!(out.status.code(), Some(0), "{}\n{res}", stderr(&out));
    let rs = res["results"].as_array().expect("results");
    assert!(rs.len() >= 10, "the whole instances suite ran: {res}");
    for r in rs {
        assert_eq!(r["verdict"], "pass", "{r}");
    }
    assert_eq!(res["target"]["adapter"], a.as_str());
    assert!(
        res["target"]["label"]
            .as_str()
            .unwrap()
            .starts_with("renamed-pm-"),
        "the version came through the adapter's `version`: {}",
        res["target"]
    );
    assert_no_leftovers(&res);

    // scenarios that cross-check jlist's instance values (read from `slot`), a renamed variable included
    let out = run_conform(
        &exe,
        &suites,
        &dir.path().join("r3"),
        &[
            "--scenario",
            "env/node-app-instance/unique",
            "--scenario",
            "env/kept/restart",
            "--scenario",
            "env/instance-var/renamed",
            "--adapter",
            &a,
        ],
    );
    let res = results(&dir.path().join("r3"));
    assert_eq!(out.status.code(), Some(0), "{}\n{res}", stderr(&out));
    for r in res["results"].as_array().expect("results") {
        assert_eq!(r["verdict"], "pass", "{r}");
    }
    assert_no_leftovers(&res);

    // without the adapter the same manager knows none of PM2's verbs
    let out = run_conform(
        &exe,
        &suites,
        &dir.path().join("r2"),
        &["--scenario", "instances/cli/i-4"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let res = results(&dir.path().join("r2"));
    let r = &res["results"][0];
    assert_eq!(r["verdict"], "unsupported", "{r}");
    assert!(
        r["reason"]
            .as_str()
            .unwrap()
            .contains("unknown command 'start'"),
        "{r}"
    );
    assert_no_leftovers(&res);
}

#[rstest]
#[case::unknown_verb(
    "[verbs]\nresize = \"scale\"\n",
    "adapter.toml:2:1: key `verbs.resize`"
)]
#[case::bad_status("[status]\nup = \"running\"\n", "adapter.toml:2:6: key `status.up`")]
#[case::not_toml("[verbs\n", "adapter.toml:1:")]
fn a_bad_adapter_file_is_exit_2_naming_file_line_and_key(#[case] text: &str, #[case] says: &str) {
    let dir = temp_tree(&[("adapter.toml", text)]);
    let out = Command::new(conform_bin())
        .current_dir(dir.path())
        .args(["run", "--adapter", "adapter.toml", "--report-dir", "r"])
        .timeout(Duration::from_secs(60))
        .output()
        .expect("run conform");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains(says), "{}", stderr(&out));
    assert!(!dir.path().join("r").exists(), "nothing ran");
}

/// The CPUs conform may use (as it counts them without `--cpus`).
fn machine_cpus() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

#[rstest]
#[case::machine(None, "affinity/cgroup", 0)]
#[case::same_as_the_machine(Some(0), "--cpus", 0)]
#[case::one_more_than_the_target_uses(Some(1), "--cpus", 1)]
fn cpus_sets_the_count_max_is_checked_against(
    #[case] extra: Option<usize>,
    #[case] source: &str,
    #[case] code: i32,
) {
    let body = "app = { instances = \"max\" }\nsteps = [\n  { do = \"start\" },\n  { do = \"wait-online\", count = \"cpus\", timeout_ms = 5000 },\n  { do = \"wait-listening\", count = \"cpus\", timeout_ms = 5000 },\n]\nexpect = [\n  { check = \"instance-count\", equals = \"cpus\" },\n]\n";
    let dir = temp_tree(&[("s/t.toml", &one_scenario("t", "max", body))]);
    let n = extra.map(|e| (machine_cpus() + e).to_string());
    let mut args = Vec::new();
    if let Some(n) = &n {
        args.extend(["--cpus", n.as_str()]);
    }
    let out = run_conform(
        &target(),
        &dir.path().join("s"),
        &dir.path().join("r"),
        &args,
    );
    assert_eq!(out.status.code(), Some(code), "{}", stderr(&out));
    let res = results(&dir.path().join("r"));
    let cpus = &res["cpus"];
    let expected = machine_cpus() + extra.unwrap_or(0);
    assert_eq!(cpus["expected"], expected, "{cpus}");
    assert_eq!(cpus["source"], source, "{cpus}");
    // refpm starts one worker per CPU it may use, whatever conform was told
    assert_eq!(cpus["target_used"], machine_cpus(), "{cpus}");
    assert!(
        cpus["available_parallelism"].as_u64().is_some() && cpus["os_cpus"].as_u64().is_some(),
        "the fixtures' counts are in the report: {cpus}"
    );
    assert!(
        cpus["target_matches"]
            .as_str()
            .unwrap()
            .contains("availableParallelism()"),
        "refpm counts the CPUs it may use: {cpus}"
    );
    let html = std::fs::read_to_string(
        std::fs::read_dir(dir.path().join("r"))
            .expect("reports")
            .flatten()
            .map(|e| e.path().join("index.html"))
            .find(|p| p.is_file())
            .expect("index.html"),
    )
    .expect("read html");
    assert!(
        html.contains(&format!("checked against {expected} CPUs ({source})")),
        "the HTML summary says it"
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains(&format!("cpus: checked against {expected} CPUs ({source})")),
        "the terminal summary says it: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_no_leftovers(&res);
}

#[rstest]
#[case::missing_adapter(&["--adapter", "nope.toml"], "cannot read adapter file nope.toml")]
#[case::zero_cpus(&["--cpus", "0"], "--cpus")]
#[case::cpus_not_a_number(&["--cpus", "many"], "--cpus")]
fn adapter_and_cpus_usage_errors_exit_2(#[case] args: &[&str], #[case] says: &str) {
    let dir = temp_tree(&[]);
    let out = Command::new(conform_bin())
        .current_dir(dir.path())
        .arg("run")
        .args(args)
        .args(["--report-dir", "r"])
        .timeout(Duration::from_secs(60))
        .output()
        .expect("run conform");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains(says), "{}", stderr(&out));
    assert!(!dir.path().join("r").exists(), "nothing ran");
}

/// Online CPUs (`os.cpus().length`), from /proc/cpuinfo.
fn online_cpus() -> usize {
    std::fs::read_to_string("/proc/cpuinfo")
        .map(|t| t.lines().filter(|l| l.starts_with("processor")).count())
        .unwrap_or(1)
}

/// Under `taskset -c 0` conform and refpm may use one CPU while `os.cpus()` still counts every one:
/// the report tells the two apart, and `--cpus` moves the expectation (refpm keeps its one worker).
#[rstest]
#[case::affinity_only(false, 0)]
#[case::cpus_says_every_online_cpu(true, 1)]
fn under_a_one_cpu_affinity_the_report_tells_os_cpus_from_available_parallelism(
    #[case] every_cpu: bool,
    #[case] code: i32,
) {
    let online = online_cpus();
    let taskset = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join("taskset"))
        .find(|p| p.is_file());
    let is_refpm = target().file_name().is_some_and(|n| n == "refpm");
    let (Some(taskset), true, true) = (taskset, online >= 2, is_refpm) else {
        eprintln!("skipped: needs taskset, 2 online CPUs (have {online}) and refpm as the target");
        return;
    };
    let dir = temp_tree(&[]);
    let n = online.to_string();
    let mut args = vec!["--scenario", "instances/cli/max"];
    if every_cpu {
        args.extend(["--cpus", n.as_str()]);
    }
    let mut cmd = std::process::Command::new(taskset);
    cmd.args(["-c", "0"]).arg(conform_bin()).args(
        crate::common::conform_run_cmd(
            &target(),
            &workspace().join("suites"),
            &dir.path().join("r"),
            &args,
        )
        .get_args(),
    );
    let out = assert_cmd::Command::from_std(cmd)
        .timeout(Duration::from_secs(300))
        .output()
        .expect("run conform under taskset");
    assert_eq!(out.status.code(), Some(code), "{}", stderr(&out));
    let res = results(&dir.path().join("r"));
    let cpus = &res["cpus"];
    let (expected, source) = if every_cpu {
        (online, "--cpus")
    } else {
        (1, "affinity/cgroup")
    };
    assert_eq!(cpus["expected"], expected, "{cpus}");
    assert_eq!(cpus["source"], source, "{cpus}");
    assert_eq!(cpus["os_cpus"], online, "{cpus}");
    assert_eq!(cpus["available_parallelism"], 1, "{cpus}");
    assert_eq!(cpus["target_used"], 1, "{cpus}");
    assert_eq!(cpus["target_matches"], "availableParallelism()", "{cpus}");
    assert_no_leftovers(&res);
}
