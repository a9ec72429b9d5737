//! The result model shared by the engine (which produces it) and the reporters (which only consume it).
//!
//! Everything here is plain data with serde, so `results.json` is a direct serialisation of [`RunReport`].

mod run;
mod scenario;
mod verdict;

pub use run::*;
pub use scenario::*;
pub use verdict::*;

/// Version of the `results.json` schema; bump on any incompatible change. 2 added
/// [`RunReport::runtime`]; version 1 files (without it) still load.
pub const RESULTS_SCHEMA_VERSION: u32 = 2;

#[cfg(test)]
mod tests {
    use super::Figures;

    #[test]
    fn a_nan_figure_round_trips_as_absent_instead_of_breaking_the_file() {
        let mut f = Figures::default();
        f.values.insert("ok".into(), 1.5);
        f.values.insert("undefined".into(), f64::NAN);
        let text = serde_json::to_string(&f).unwrap();
        assert!(text.contains("\"undefined\":null"), "{text}");
        let back: Figures = serde_json::from_str(&text).unwrap();
        assert_eq!(back.values.get("ok"), Some(&1.5));
        assert!(!back.values.contains_key("undefined"));
    }
}
