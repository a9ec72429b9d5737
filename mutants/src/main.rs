//! `conform-mutant`: the test-only binary behind the mutant wrappers (see the crate docs).
//!
//! ```text
//! conform-mutant <mutant> <refpm> [args…]    act as mutant <mutant> around refpm
//! conform-mutant wrappers <dir> <refpm>       write one wrapper script per mutant into <dir>
//! conform-mutant list                        the catalogue as JSON
//! conform-mutant node-shim <node> [args…]    (internal) the interpreter shim
//! ```
//! Exit codes: refpm's own, or 2 for a usage error or when refpm cannot be driven.

use conform_mutants::{act, catalogue, refpm::Error, refpm::Refpm, shim};
use std::path::{Path, PathBuf};

fn run(argv: &[String]) -> Result<i32, Error> {
    let usage = || {
        Error::Usage(
            "usage: conform-mutant <mutant> <refpm> [args…] | wrappers <dir> <refpm> | list".into(),
        )
    };
    let cmd = argv.first().ok_or_else(usage)?;
    match cmd.as_str() {
        "list" => {
            println!(
                "{}",
                serde_json::to_string_pretty(catalogue::CATALOGUE).unwrap_or_default()
            );
            Ok(0)
        }
        "wrappers" => {
            let (dir, refpm) = (
                argv.get(1).ok_or_else(usage)?,
                argv.get(2).ok_or_else(usage)?,
            );
            let exe = std::env::current_exe().map_err(|e| Error::Usage(e.to_string()))?;
            for p in shim::write_wrappers(Path::new(dir), &exe, Path::new(refpm))? {
                println!("{}", p.display());
            }
            Ok(0)
        }
        "node-shim" => {
            let node = argv.get(1).ok_or_else(usage)?;
            Err(shim::node_shim(Path::new(node), &argv[2..]))
        }
        name => {
            let spec = catalogue::find(name).ok_or_else(|| {
                Error::Usage(format!(
                    "unknown mutant `{name}` (conform-mutant list shows them)"
                ))
            })?;
            let refpm = argv.get(1).ok_or_else(usage)?;
            act::run(spec, &Refpm::new(PathBuf::from(refpm)), &argv[2..])
        }
    }
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    match run(&argv) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("conform-mutant: {e}");
            std::process::exit(2);
        }
    }
}
