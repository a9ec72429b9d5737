//! home (to be written).
