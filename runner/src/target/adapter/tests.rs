//! Unit tests of `adapter`.

use super::*;
use rstest::rstest;

fn parse(text: &str) -> Result<Adapter, AdapterError> {
    Adapter::parse(Path::new("a.toml"), text)
}

#[test]
fn a_full_adapter_renames_verbs_paths_and_words() {
    let a = parse(
        "[verbs]\nscale = \"resize\"\njlist = { name = \"ps\", args = [\"--json\"] }\nlogs = false\n\n[jlist]\narray = \"procs\"\npid = \"os.pid\"\n\n[status]\nup = \"online\"\n",
    )
    .unwrap();
    assert_eq!(
        a.argv(Verb::Scale, &["app", "3"]),
        Argv::Run(vec!["resize".into(), "app".into(), "3".into()])
    );
    assert_eq!(
        a.argv(Verb::Jlist, &[]),
        Argv::Run(vec!["ps".into(), "--json".into()])
    );
    assert_eq!(a.argv(Verb::Logs, &["x"]), Argv::Absent(Verb::Logs));
    assert_eq!(
        a.argv(Verb::Stop, &["all"]),
        Argv::Run(vec!["stop".into(), "all".into()])
    );
    assert_eq!(a.path(JlistField::Pid), vec!["os", "pid"]);
    assert_eq!(a.path(JlistField::Status), vec!["pm2_env", "status"]);
    assert_eq!(a.array_path(), Some(&["procs".to_string()][..]));
    assert_eq!(a.status("up"), "online");
    assert_eq!(a.status("online"), "online");
}

#[test]
fn the_default_is_pm2() {
    let a = Adapter::default();
    for v in Verb::ALL {
        assert_eq!(a.argv(v, &[]), Argv::Run(vec![v.pm2().to_string()]));
    }
}

#[rstest]
#[case("[verbs]\nresize = \"scale\"\n", 2, "verbs.resize", "unknown verb")]
#[case("[verbs]\nscale = 3\n", 2, "verbs.scale", "expected the target's name")]
#[case("\n[verbs]\njlist = false\n", 3, "verbs.jlist", "cannot be absent")]
#[case(
    "[verbs]\nscale = { nam = \"x\" }\n",
    2,
    "verbs.scale",
    "unknown key `nam`"
)]
#[case("[jlist]\npid = \"a..b\"\n", 2, "jlist.pid", "dotted path")]
#[case("[jlist]\nppid = \"x\"\n", 2, "jlist.ppid", "unknown field")]
#[case(
    "[status]\nup = \"running\"\n",
    2,
    "status.up",
    "online, stopped, errored"
)]
#[case(
    "[exec_mode]\ncluster = \"cluster\"\n",
    2,
    "exec_mode.cluster",
    "cluster_mode"
)]
#[case("\n\n[verb]\nscale = \"x\"\n", 3, "verb", "unknown field")]
#[case("[verbs\n", 1, "?", "")]
fn bad_files_name_line_and_key(
    #[case] text: &str,
    #[case] line: usize,
    #[case] key: &str,
    #[case] says: &str,
) {
    match parse(text) {
        Err(AdapterError::Invalid {
            file,
            line: l,
            key: k,
            message,
            ..
        }) => {
            assert_eq!(file, "a.toml");
            assert_eq!((l, k.as_str()), (line, key), "{message}");
            assert!(message.contains(says), "{message}");
        }
        other => panic!("expected a diagnostic, got {other:?}"),
    }
}
