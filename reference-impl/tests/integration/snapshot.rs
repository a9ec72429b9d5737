//! The jlist shape, snapshotted with pids, times and paths redacted.

use crate::common::{Home, fixture};

#[test]
fn jlist_shape() {
    let h = Home::new();
    h.ok(&[
        "start",
        fixture("idle.sh").to_str().unwrap(),
        "--name",
        "shape",
        "-i",
        "2",
        "--kill-timeout",
        "800",
    ]);
    let l = h.jlist();
    let value = serde_json::Value::Array(l);
    insta::assert_json_snapshot!(value, {
        "[].pid" => "[pid]",
        "[].monit.memory" => "[memory]",
        "[].monit.cpu" => "[cpu]",
        "[].pm2_env.pm_uptime" => "[time]",
        "[].pm2_env.created_at" => "[time]",
        "[].pm2_env.unique_id" => "[uuid]",
        "[].pm2_env.pm_exec_path" => "[path]",
        "[].pm2_env.pm_cwd" => "[path]",
        "[].pm2_env.pm_out_log_path" => "[path]",
        "[].pm2_env.pm_err_log_path" => "[path]",
        "[].pm2_env.pm_pid_path" => "[path]",
        "[].pm2_env.exec_interpreter" => "[interpreter]",
    });
}
