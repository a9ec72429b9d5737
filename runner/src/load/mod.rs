//! load (to be written).
