//! `conform bench`: performance of PM2-compatible managers side by side, in one run.
//!
//! Each figure is measured in several rounds that alternate between targets ([`schedule`]); a figure is
//! reported as median and spread ([`stats`]) with its ratio to the first target's median.
//!
//! Design note. [`plan`] lists the subjects (each target; refpm once per `--lb-policy`; the reference
//! rows: one plain `node`, Node's cluster in `rr` and `none` mode) and the ordered steps of every
//! section. [`runner`] executes the steps, each in a fresh sandbox home cleaned up after it whatever
//! happens; [`measure`] holds one file per section and writes plain `(figure, value)` samples.
//! [`table`] turns samples into median/spread/ratio rows, [`goals`] evaluates refpm's goals against
//! them, [`report`] and [`html`] write `reports/bench/<date>.json|.md` and `index.html`.
//! [`command`] is the `conform bench` entry point; every process the bench starts carries
//! `CONFORM_BENCH=<pid>` ([`procinfo::MARKER_VAR`]) so that a final sweep can kill by pid whatever a
//! step left behind, even after Ctrl-C.

pub mod command;
pub mod figures;
pub mod goals;
pub mod html;
pub mod knobs;
pub mod live;
pub mod measure;
pub mod plan;
pub mod procinfo;
pub mod report;
pub mod runner;
pub mod schedule;
pub mod stats;
pub mod table;

pub use command::{BenchArgs, run};

#[cfg(test)]
mod tests;
