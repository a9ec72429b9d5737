//! Unit tests of `node`.

use super::*;
use rstest::rstest;

#[rstest]
#[case("26.12.1", Package::Node, &[26, 12, 1])]
#[case("v22.23.5", Package::Node, &[22, 23, 5])]
#[case("26", Package::Node, &[26])]
#[case("node@24.22", Package::Node, &[24, 22])]
#[case("bun", Package::Bun, &[])]
#[case("bun@1.4.5", Package::Bun, &[1, 4, 5])]
fn versions(#[case] arg: &str, #[case] package: Package, #[case] prefix: &[u64]) {
    assert_eq!(
        parse_spec(arg).unwrap(),
        Spec::Version {
            package,
            prefix: prefix.to_vec()
        }
    );
}

#[rstest]
#[case("/opt/node/bin/node", Spec::Path("/opt/node/bin/node".into()))]
#[case("./node", Spec::Path("./node".into()))]
#[case("nodejs", Spec::Command("nodejs".into()))]
fn paths_and_commands(#[case] arg: &str, #[case] want: Spec) {
    assert_eq!(parse_spec(arg).unwrap(), want);
}

#[rstest]
#[case("")]
#[case("26.x")]
#[case("1.2.3.4")]
#[case("node@")]
#[case("bun@one")]
#[case("a b")]
fn bad_specs_name_the_argument(#[case] arg: &str) {
    let e = parse_spec(arg).unwrap_err().to_string();
    assert!(e.contains(&format!("--node `{arg}`")), "{e}");
}

#[test]
fn probe_output() {
    assert_eq!(
        parse_probe("{\"node\":\"v26.12.1\",\"bun\":null}\n"),
        Some((RuntimeKind::Node, "26.12.1".into(), "v26.12.1".into()))
    );
    assert_eq!(
        parse_probe("{\"node\":\"v26.3.0\",\"bun\":\"1.4.5\"}"),
        Some((RuntimeKind::Bun, "1.4.5".into(), "v26.3.0".into()))
    );
    assert_eq!(parse_probe("hello\n"), None);
    assert_eq!(parse_probe("{\"node\":\"26\"}"), None);
}

#[test]
fn labels_and_lines() {
    let rt = Runtime {
        kind: RuntimeKind::Node,
        version: "26.12.1".into(),
        node_compat: "v26.12.1".into(),
        binary: "/x/node".into(),
        bin_dir: "/x".into(),
        requested: Some("26".into()),
    };
    assert_eq!(rt.label(), "node-26.12.1");
    assert_eq!(rt.line(), "node26");
    assert_eq!(rt.info().describe(), "node v26.12.1");
    let bun = Runtime {
        kind: RuntimeKind::Bun,
        version: "1.4.5".into(),
        node_compat: "v26.3.0".into(),
        ..rt
    };
    assert_eq!(bun.label(), "bun-1.4.5");
    assert_eq!(bun.line(), "bun");
    assert_eq!(bun.info().describe(), "bun 1.4.5 (node v26.3.0)");
}
