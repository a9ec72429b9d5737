//! The suites and fixtures built into `conform`, so an installed binary works outside any checkout.
//!
//! `suites/` and `fixtures/` are embedded at build time (`build.rs` makes cargo rebuild when a file is
//! added there). At run time [`unpack`] writes them once to `<cache>/conform/builtin/<content-hash>/`
//! and reuses that copy: a new build with other files gets another directory, and concurrent runs are
//! safe because each unpacks into a private temporary directory that is renamed into place whole (the
//! loser of a race removes its copy and uses the winner's).

use include_dir::{Dir, DirEntry, include_dir};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

static SUITES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../suites");
static FIXTURES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../fixtures");

/// Errors while unpacking or exporting the built-in files.
#[derive(Debug, thiserror::Error)]
pub enum BuiltinError {
    /// A file-system operation failed on a path.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The path concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// `suites export` would overwrite a file.
    #[error("{0} already exists (use --force to overwrite)")]
    Exists(PathBuf),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BuiltinError + '_ {
    move |source| BuiltinError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The unpacked built-in directories.
#[derive(Debug, Clone)]
pub struct Builtin {
    /// The suites (`*.toml`, `README.md`).
    pub suites: PathBuf,
    /// The fixtures (`*.js`, `lib/`, `bench/`).
    pub fixtures: PathBuf,
}

/// Every embedded file as (path relative to the directory, contents), in a stable order.
fn files(dir: &'static Dir<'static>) -> Vec<(&'static Path, &'static [u8])> {
    fn walk(d: &'static Dir<'static>, out: &mut Vec<(&'static Path, &'static [u8])>) {
        for e in d.entries() {
            match e {
                DirEntry::Dir(sub) => walk(sub, out),
                DirEntry::File(f) => out.push((f.path(), f.contents())),
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.sort_by_key(|(p, _)| *p);
    out
}

/// The built-in suite files (path relative to `suites/`, contents).
pub fn suite_files() -> Vec<(&'static Path, &'static [u8])> {
    files(&SUITES)
}

/// A hash of every embedded path and content: the name of the cache directory.
pub fn content_hash() -> String {
    // SipHash with fixed keys: deterministic for this binary, which is all a cache key needs
    let mut h = std::hash::DefaultHasher::new();
    for (tag, dir) in [("suites", &SUITES), ("fixtures", &FIXTURES)] {
        for (p, c) in files(dir) {
            (tag, p, c).hash(&mut h);
        }
    }
    format!("{:016x}", h.finish())
}

/// `$XDG_CACHE_HOME/conform`, else `~/.cache/conform`, else `<tmp>/conform-cache`.
pub fn cache_root() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|x| !x.is_empty()) {
        return PathBuf::from(x).join("conform");
    }
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(h) => PathBuf::from(h).join(".cache/conform"),
        None => std::env::temp_dir().join("conform-cache"),
    }
}

/// Writes `files` under `root`; shell scripts get an execute bit.
fn write_files(root: &Path, files: &[(&Path, &[u8])]) -> Result<(), BuiltinError> {
    use std::os::unix::fs::PermissionsExt;
    for (rel, contents) in files {
        let p = root.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&p, contents).map_err(io(&p))?;
        if p.extension().is_some_and(|e| e == "sh") {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).map_err(io(&p))?;
        }
    }
    Ok(())
}

/// Whether `dir` holds every embedded file with its size (a copy someone trimmed is unpacked again).
fn complete(dir: &Path) -> bool {
    [("suites", &SUITES), ("fixtures", &FIXTURES)]
        .iter()
        .all(|(sub, d)| {
            files(d).iter().all(|(rel, c)| {
                std::fs::metadata(dir.join(sub).join(rel))
                    .is_ok_and(|m| m.is_file() && m.len() == c.len() as u64)
            })
        })
}

/// Unpacks the built-in suites and fixtures into the cache (once per content hash) and returns them.
pub fn unpack() -> Result<Builtin, BuiltinError> {
    unpack_in(&cache_root().join("builtin"))
}

/// [`unpack`] under an explicit parent directory.
pub fn unpack_in(parent: &Path) -> Result<Builtin, BuiltinError> {
    let dir = parent.join(content_hash());
    let found = |d: &Path| Builtin {
        suites: d.join("suites"),
        fixtures: d.join("fixtures"),
    };
    for _ in 0..3 {
        if complete(&dir) {
            return Ok(found(&dir));
        }
        std::fs::create_dir_all(parent).map_err(io(parent))?;
        if dir.exists() {
            // damaged copy: move it aside atomically, then remove it (a racing run may do the same)
            let aside = parent.join(format!(".stale-{}-{}", std::process::id(), content_hash()));
            if std::fs::rename(&dir, &aside).is_ok() {
                let _ = std::fs::remove_dir_all(&aside);
            }
            continue;
        }
        let tmp = tempfile::Builder::new()
            .prefix(".unpack-")
            .tempdir_in(parent)
            .map_err(io(parent))?;
        write_files(&tmp.path().join("suites"), &files(&SUITES))?;
        write_files(&tmp.path().join("fixtures"), &files(&FIXTURES))?;
        match std::fs::rename(tmp.path(), &dir) {
            Ok(()) => {
                // the directory now lives at `dir`; nothing left for the guard to remove
                let _ = tmp.keep();
                return Ok(found(&dir));
            }
            // another run renamed its copy first: ours is dropped, theirs is checked on the next turn
            Err(_) if dir.exists() => continue,
            Err(e) => return Err(io(&dir)(e)),
        }
    }
    if complete(&dir) {
        Ok(found(&dir))
    } else {
        Err(io(&dir)(std::io::Error::other(
            "the unpacked copy kept changing under concurrent runs",
        )))
    }
}

/// Writes the built-in suites into `dir` (created if needed); refuses to overwrite unless `force`.
/// Returns the files written.
pub fn export_suites(dir: &Path, force: bool) -> Result<Vec<PathBuf>, BuiltinError> {
    let files = suite_files();
    if !force {
        if let Some((rel, _)) = files.iter().find(|(rel, _)| dir.join(rel).exists()) {
            return Err(BuiltinError::Exists(dir.join(rel)));
        }
    }
    write_files(dir, &files)?;
    Ok(files.iter().map(|(rel, _)| dir.join(rel)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeds_every_suite_and_fixture_file_of_the_checkout() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for (name, d) in [("suites", &SUITES), ("fixtures", &FIXTURES)] {
            let mut on_disk = Vec::new();
            let mut stack = vec![root.join(name)];
            while let Some(p) = stack.pop() {
                for e in std::fs::read_dir(&p).unwrap() {
                    let e = e.unwrap().path();
                    if e.is_dir() {
                        stack.push(e);
                    } else {
                        on_disk.push(e.strip_prefix(root.join(name)).unwrap().to_path_buf());
                    }
                }
            }
            on_disk.sort();
            let embedded: Vec<PathBuf> = files(d).iter().map(|(p, _)| p.to_path_buf()).collect();
            assert_eq!(embedded, on_disk, "{name}");
        }
    }

    #[test]
    fn concurrent_unpacks_agree_and_leave_one_complete_copy() {
        let parent = tempfile::tempdir().unwrap();
        let got: Vec<Builtin> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..6)
                .map(|_| s.spawn(|| unpack_in(parent.path()).unwrap()))
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(got.iter().all(|b| b.suites == got[0].suites));
        assert!(complete(&parent.path().join(content_hash())));
        let names: Vec<_> = std::fs::read_dir(parent.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from(content_hash())]);
        assert!(got[0].fixtures.join("http.js").is_file());
    }

    #[test]
    fn a_damaged_copy_is_unpacked_again() {
        let parent = tempfile::tempdir().unwrap();
        let b = unpack_in(parent.path()).unwrap();
        std::fs::write(b.fixtures.join("http.js"), "x").unwrap();
        let b2 = unpack_in(parent.path()).unwrap();
        assert_eq!(
            std::fs::read(b2.fixtures.join("http.js")).unwrap(),
            std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/http.js"))
                .unwrap()
        );
    }

    #[test]
    fn export_refuses_to_overwrite_without_force() {
        let d = tempfile::tempdir().unwrap();
        let written = export_suites(d.path(), false).unwrap();
        assert!(written.iter().any(|p| p.ends_with("instances.toml")));
        assert!(matches!(
            export_suites(d.path(), false),
            Err(BuiltinError::Exists(_))
        ));
        assert!(export_suites(d.path(), true).is_ok());
    }
}
