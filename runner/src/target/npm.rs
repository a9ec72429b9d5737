//! `npm:PACKAGE@VERSION` targets: installed once into a cache directory and reused.

use super::TargetError;
use std::path::PathBuf;
use std::time::Duration;

/// `$XDG_CACHE_HOME/conform/<sub>`, else `~/.cache/conform/<sub>` (see [`crate::builtin::cache_root`]).
pub(super) fn cache_dir(sub: &str) -> PathBuf {
    crate::builtin::cache_root().join(sub)
}

/// The environment npm runs with: PATH, HOME and npm's cache and registry settings.
pub(super) fn npm_env() -> Vec<(String, String)> {
    ["PATH", "HOME", "npm_config_cache", "NPM_CONFIG_REGISTRY"]
        .iter()
        .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
        .collect()
}

/// The `npm` first on PATH.
pub(super) fn find_npm() -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("npm"))
            .find(|p| p.is_file())
    })
}

/// The last non-empty line of npm's stderr (its error), or `fallback`.
pub(super) fn last_line(stderr: &str, fallback: &str) -> String {
    stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(fallback)
        .trim()
        .to_string()
}

/// Installs `spec` (`pm2@7.0.4`) unless already cached; returns the path of its binary.
pub async fn install(spec: &str) -> Result<PathBuf, TargetError> {
    let (pkg, ver) = match spec.rsplit_once('@') {
        Some((p, v)) if !p.is_empty() && !v.is_empty() => (p, v),
        _ => return Err(TargetError::BadSpec(format!("npm:{spec}"))),
    };
    if pkg.contains("..") || ver.contains('/') {
        return Err(TargetError::BadSpec(format!("npm:{spec}")));
    }
    let dir = cache_dir("npm").join(format!("{}@{ver}", pkg.replace('/', "+")));
    let bin_name = pkg.rsplit('/').next().unwrap_or(pkg);
    let bin = dir.join("node_modules/.bin").join(bin_name);
    if bin.is_file() {
        return Ok(bin);
    }
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("package.json"), "{\"private\":true}\n")?;
    let env = npm_env();
    let npm = find_npm().ok_or_else(|| TargetError::Npm {
        spec: spec.into(),
        detail: "npm not found on PATH".into(),
    })?;
    let out = super::run_command(
        &npm,
        &[
            "install",
            "--no-audit",
            "--no-fund",
            "--silent",
            &format!("{pkg}@{ver}"),
        ],
        &dir,
        &env,
        Duration::from_secs(600),
    )
    .await?;
    if out.code != Some(0) || !bin.is_file() {
        let detail = last_line(&out.stderr, "no binary installed");
        return Err(TargetError::Npm {
            spec: spec.into(),
            detail,
        });
    }
    Ok(bin)
}
