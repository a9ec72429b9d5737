//! `conform list`: every scenario's id, level and quoted guide sentence.

use super::{Dirs, diagnostic, resolve_dirs, usage_error};

/// Arguments of `conform list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only these suites.
    #[arg(long = "suite", id = "suite", value_name = "NAME")]
    pub suites: Vec<String>,
    /// Directories.
    #[command(flatten)]
    pub dirs: Dirs,
}

/// Prints the scenarios; exit 2 on a bad suite file.
pub fn list(args: ListArgs) -> i32 {
    let (suites_dir, fixtures_dir) = match resolve_dirs(&args.dirs) {
        Ok(d) => d,
        Err(e) => return usage_error(e),
    };
    let fx = crate::engine::fixture_names(&fixtures_dir);
    let suites = match crate::suite::load_dir(&suites_dir, (!fx.is_empty()).then_some(&fx)) {
        Ok(s) => s,
        Err(e) => return diagnostic(e),
    };
    let selected = match crate::suite::select(&suites, &args.suites, &[]) {
        Ok(s) => s,
        Err(e) => return diagnostic(e),
    };
    let mut current = String::new();
    for sc in &selected {
        if sc.suite != current {
            current = sc.suite.clone();
            let desc = suites
                .iter()
                .find(|s| s.suite == current)
                .map(|s| s.description.as_str())
                .unwrap_or("");
            println!(
                "{current}{}",
                if desc.is_empty() {
                    String::new()
                } else {
                    format!(" — {desc}")
                }
            );
        }
        let level = match sc.level {
            crate::model::Level::Must => "MUST",
            crate::model::Level::Should => "SHOULD",
            crate::model::Level::Info => "INFO",
        };
        println!("  {:<44} {:<6} \"{}\"", sc.id, level, sc.quote);
    }
    println!("{} scenarios in {} suites", selected.len(), suites.len());
    crate::exit::OK
}
