//! Shared helpers for the runner integration tests.
