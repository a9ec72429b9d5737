//! node_ipc (to be written).
