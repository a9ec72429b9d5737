//! Report tests on a synthetic run: snapshots (junit, terminal summary), HTML, baselines, matrix.

mod baseline;
mod browser;
mod fixture;
mod html;
mod snapshots;
