//! Node's IPC channel (json serialization) as a non-Node parent speaks it: line framing, fd passing with
//! `SCM_RIGHTS`, handle ACK/NACK. See `/work/shared/node-cluster-ipc.md`.
