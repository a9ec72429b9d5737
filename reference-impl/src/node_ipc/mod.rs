//! Node's IPC channel (json serialization) as a non-Node parent speaks it: line framing ([`codec`]),
//! fd passing with `SCM_RIGHTS` ([`sys`]), and an async channel with handle ACK/NACK ([`channel`]).
//! See `/work/shared/node-cluster-ipc.md`.

pub mod channel;
pub mod codec;
pub mod sys;
mod writer;

#[cfg(test)]
mod tests;

pub use channel::{Incoming, Reader, Sender, handle_line, open};
pub use codec::{DecodeError, LineDecoder, encode};
