//! suite (to be written).
