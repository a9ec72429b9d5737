//! Ecosystem files: json/yaml/js, env_<name>, --only, instance_var renaming, validation errors.

use rstest::rstest;
use serde_json::Value;

use crate::common::{Home, fixture, poll};

fn write(h: &Home, name: &str, text: &str) -> String {
    let p = h.path().join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn env_line(p: &Value) -> Value {
    let path = p["pm2_env"]["pm_out_log_path"]
        .as_str()
        .unwrap()
        .to_string();
    let pid = p["pid"].as_i64().unwrap();
    poll(10, || {
        std::fs::read_to_string(&path)
            .ok()?
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|v| v["pid"].as_i64() == Some(pid))
    })
    .unwrap()["env"]
        .clone()
}

#[test]
fn instance_var_renames_the_variable_and_env_name_applies() {
    let h = Home::new();
    let idle = fixture("idle.js");
    let file = write(
        &h,
        "eco.json",
        &format!(
            r#"{{"apps":[{{"name":"ren","script":"{}","instances":2,"exec_mode":"fork","instance_var":"APP_ID",
                "env":{{"LEVEL":"dev"}},"env_production":{{"LEVEL":"prod"}}}}]}}"#,
            idle.display()
        ),
    );
    h.ok(&["start", &file, "--env", "production"]);
    let l = h.jlist();
    assert_eq!(l.len(), 2);
    let mut ids = vec![];
    for p in &l {
        assert_eq!(p["pm2_env"]["instance_var"], "APP_ID");
        assert!(p["pm2_env"].get("NODE_APP_INSTANCE").is_none());
        ids.push(p["pm2_env"]["APP_ID"].as_i64().unwrap());
        assert_eq!(p["pm2_env"]["env"], serde_json::json!({"LEVEL":"prod"}));
        let env = env_line(p);
        assert!(
            env.get("NODE_APP_INSTANCE").is_none(),
            "NODE_APP_INSTANCE set: {env}"
        );
        assert_eq!(env["APP_ID"], p["pm2_env"]["APP_ID"].to_string());
        assert_eq!(env["LEVEL"], "prod");
    }
    ids.sort();
    assert_eq!(ids, vec![0, 1]);
}

#[test]
fn yaml_and_js_files_with_only() {
    let h = Home::new();
    let idle = fixture("idle.js");
    let yaml = write(
        &h,
        "eco.yaml",
        &format!(
            "apps:\n  - name: a\n    script: {0}\n  - name: b\n    script: {0}\n",
            idle.display()
        ),
    );
    h.ok(&["start", &yaml, "--only", "b"]);
    let names: Vec<String> = h
        .jlist()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, vec!["b"]);
    let js = write(
        &h,
        "eco.config.js",
        &format!(
            "module.exports = {{ apps: [{{ name: 'c', script: {:?}, killTimeout: 500 }}] }};",
            idle.display()
        ),
    );
    h.ok(&["start", &js]);
    let l = h.jlist();
    let c = l.iter().find(|p| p["name"] == "c").unwrap();
    assert_eq!(c["pm2_env"]["kill_timeout"], 500);
    h.ok(&["delete", &js]);
    assert_eq!(h.jlist().len(), 1);
}

#[rstest]
#[case::bad_type(
    "e.json",
    r#"{"apps":[{"script":"SCRIPT","kill_timeout":"5s"}]}"#,
    "kill_timeout"
)]
#[case::negative(
    "e.json",
    r#"{"apps":[{"script":"SCRIPT","kill_timeout":-5}]}"#,
    "kill_timeout"
)]
#[case::missing_script("e.json", r#"{"apps":[{"name":"x"}]}"#, "script")]
#[case::bad_instances(
    "e.yaml",
    "apps:\n  - script: SCRIPT\n    instances: 1e9\n",
    "instances"
)]
#[case::yaml_bad_bool(
    "e.yml",
    "apps:\n  - script: SCRIPT\n    wait_ready: maybe\n",
    "wait_ready"
)]
#[case::malformed("e.json", "{ apps: [ ", "malformated")]
fn bad_ecosystem_files_start_nothing(
    #[case] name: &str,
    #[case] text: &str,
    #[case] fragment: &str,
) {
    let h = Home::new();
    let text = text.replace("SCRIPT", fixture("idle.js").to_str().unwrap());
    let file = write(&h, name, &text);
    let (code, _, err) = h.run(&["start", &file]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(fragment), "stderr lacks {fragment:?}: {err}");
    assert!(err.contains(name), "stderr does not name the file: {err}");
    assert!(h.daemon_pid().is_none(), "a daemon was started");
}

#[test]
fn unknown_keys_warn_and_start() {
    let h = Home::new();
    let file = write(
        &h,
        "e.json",
        &format!(
            r#"{{"apps":[{{"script":"{}","name":"w","colour":"blue"}}]}}"#,
            fixture("idle.js").display()
        ),
    );
    let (code, _, err) = h.run(&["start", &file]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("[PM2][WARN]") && err.contains("colour") && err.contains("e.json"),
        "{err}"
    );
    assert_eq!(h.jlist().len(), 1);
}
