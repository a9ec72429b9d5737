//! `conform bench`: performance of PM2-compatible managers side by side, in one run.
//!
//! Each figure is measured in several rounds that alternate between targets ([`schedule`]); a figure is
//! reported as median and spread ([`stats`]) with its ratio to the first target's median.

pub mod schedule;
pub mod stats;
