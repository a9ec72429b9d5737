//! Shared helpers for the refpm integration tests.
