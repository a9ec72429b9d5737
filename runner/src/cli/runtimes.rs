//! The targets × runtimes matrix of `run` and `bench` (`--target` × `--node`), and which baseline file
//! a run on a given runtime compares with.

use crate::target::{Runtime, Target};
use std::path::{Path, PathBuf};

/// Resolves the `--node` values (each named in its error); two giving the same runtime and version
/// (their reports would share a directory) are refused.
pub(crate) async fn resolve_runtimes(nodes: &[String]) -> Result<Vec<Runtime>, String> {
    let mut out: Vec<Runtime> = Vec::new();
    for spec in nodes {
        let rt = crate::target::node::resolve(spec)
            .await
            .map_err(|e| e.to_string())?;
        if let Some(first) = out.iter().find(|r| r.label() == rt.label()) {
            return Err(format!(
                "--node `{spec}`: the same runtime ({}) as --node `{}`",
                rt.label(),
                first.requested.as_deref().unwrap_or("")
            ));
        }
        out.push(rt);
    }
    Ok(out)
}

/// Every target on every runtime, target by target (no `--node`: the targets as they are).
pub(crate) fn matrix(targets: Vec<Target>, runtimes: &[Runtime]) -> Vec<Target> {
    if runtimes.is_empty() {
        return targets;
    }
    targets
        .iter()
        .flat_map(|t| runtimes.iter().map(move |rt| t.on(rt)))
        .collect()
}

/// The baseline a run compares with (and `--update-baseline` writes). For `--baseline FILE.json`:
/// `FILE.<line>.json` beside it when that exists (`pm2-7.0.4.node26.json`), else `FILE.json`. For
/// `--baseline DIR`: `DIR/<target>.<line>.json` when it exists, else `DIR/<target>.json`. The line is
/// `node<major>` (`node22`) or `bun`, of the runtime the run really used.
pub(crate) fn baseline_for(base: &Path, target: &Target) -> PathBuf {
    let shared = if base.is_dir() {
        base.join(format!("{}.json", target.base_label))
    } else {
        base.to_path_buf()
    };
    let Some(rt) = &target.runtime else {
        return shared;
    };
    let stem = shared
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let per_line = shared.with_file_name(format!("{stem}.{}.json", rt.line()));
    if per_line.is_file() { per_line } else { shared }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::RuntimeKind;

    fn target(rt: Option<(&str, RuntimeKind)>) -> Target {
        let base = Target {
            label: "pm2-7.0.4".into(),
            base_label: "pm2-7.0.4".into(),
            command: "/x/pm2".into(),
            version: "7.0.4".into(),
            runtime: None,
            adapter: Default::default(),
        };
        match rt {
            None => base,
            Some((v, kind)) => base.on(&Runtime {
                kind,
                version: v.into(),
                node_compat: String::new(),
                binary: "/n/node".into(),
                bin_dir: "/n".into(),
                requested: Some(v.into()),
            }),
        }
    }

    #[test]
    fn the_per_line_file_wins_when_it_exists() {
        let dir = tempfile::tempdir().unwrap();
        let shared = dir.path().join("pm2-7.0.4.json");
        std::fs::write(&shared, "{}").unwrap();
        std::fs::write(dir.path().join("pm2-7.0.4.node26.json"), "{}").unwrap();
        let on = |v, k| baseline_for(&shared, &target(Some((v, k))));
        assert_eq!(
            on("26.12.1", RuntimeKind::Node),
            dir.path().join("pm2-7.0.4.node26.json")
        );
        assert_eq!(on("22.23.5", RuntimeKind::Node), shared);
        assert_eq!(on("1.4.5", RuntimeKind::Bun), shared);
        assert_eq!(baseline_for(&shared, &target(None)), shared);
        // a directory: <dir>/<target>.<line>.json, else <dir>/<target>.json
        let t26 = target(Some(("26.12.1", RuntimeKind::Node)));
        assert_eq!(t26.label, "pm2-7.0.4@node-26.12.1");
        assert_eq!(
            baseline_for(dir.path(), &t26),
            dir.path().join("pm2-7.0.4.node26.json")
        );
        let t24 = target(Some(("24.22.3", RuntimeKind::Node)));
        assert_eq!(baseline_for(dir.path(), &t24), shared);
    }

    #[test]
    fn matrix_is_target_by_target() {
        let rts: Vec<Runtime> = ["22.23.5", "26.12.1"]
            .iter()
            .map(|v| target(Some((v, RuntimeKind::Node))).runtime.unwrap())
            .collect();
        let mut refpm = target(None);
        refpm.label = "refpm".into();
        refpm.base_label = "refpm".into();
        let labels: Vec<String> = matrix(vec![refpm, target(None)], &rts)
            .into_iter()
            .map(|t| t.label)
            .collect();
        assert_eq!(
            labels,
            [
                "refpm@node-22.23.5",
                "refpm@node-26.12.1",
                "pm2-7.0.4@node-22.23.5",
                "pm2-7.0.4@node-26.12.1"
            ]
        );
    }
}
