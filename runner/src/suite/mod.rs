//! Suites are data: `suites/*.toml`, one file per suite, each a list of scenarios made of steps and
//! checks whose vocabulary ([`Step`], [`Check`]) is Rust. Parse errors name the file, line and key
//! through a miette diagnostic ([`SuiteError`]).

mod checks;
mod count;
pub(crate) mod diag;
mod load;
mod model;
mod refs;
mod steps;

pub use checks::{Check, Source};
pub use count::CountExpr;
pub use diag::SuiteError;
pub use load::{load_dir, load_file, select};
pub use model::{AppConfig, ExtraApp, Instances, Scenario, Suite};
pub use refs::{Ref, RefError, RefKind};
pub use steps::{ActOn, Burst, EcosystemFormat, LoadMode, LoadProtocol, Step};
