//! `which`: an executable on a PATH.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Finds `bin` on `path_env` (or `$PATH`): the first regular file with an execute bit. A `bin`
/// containing `/` is returned as is.
pub fn which(bin: &str, path_env: Option<&str>) -> Option<PathBuf> {
    if bin.contains('/') {
        return Some(PathBuf::from(bin));
    }
    let path = path_env
        .map(str::to_string)
        .or_else(|| std::env::var("PATH").ok())?;
    path.split(':').filter(|d| !d.is_empty()).find_map(|d| {
        let p = Path::new(d).join(bin);
        let meta = std::fs::metadata(&p).ok()?;
        (meta.is_file() && meta.permissions().mode() & 0o111 != 0).then_some(p)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_executables_only() {
        let d = std::env::temp_dir().join(format!("osfacts-which-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let exe = d.join("tool");
        let data = d.join("data");
        std::fs::write(&exe, "#!/bin/sh\n").unwrap();
        std::fs::write(&data, "x").unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        let p = d.to_str().unwrap();
        assert_eq!(which("tool", Some(p)), Some(exe));
        assert_eq!(which("data", Some(p)), None);
        assert_eq!(which("a/b", Some(p)), Some(PathBuf::from("a/b")));
        std::fs::remove_dir_all(&d).unwrap();
    }
}
