//! Deliberately broken PM2-compatible managers for mutation-testing conform's checks.
//!
//! Each mutant is a wrapper script that runs `conform-mutant <name> <refpm> <args…>`: the binary
//! forwards the command to the real refpm CLI and breaks exactly one promise on the way — it rewrites
//! the arguments or the ecosystem file, rewrites `jlist`'s answer, signals worker pids it read from
//! `jlist`, or starts the app through an interpreter shim. refpm itself has no switch for any of it.
//! The catalogue names, for each mutant, the scenarios and checks that must catch it; the `matrix`
//! test runs them and writes the kill matrix.

pub mod act;
pub mod act_guide;
pub mod args;
pub mod catalogue;
pub mod jlist_lies;
pub mod refpm;
pub mod shim;
