//! Tests of the load generator against tiny in-process servers (and a real `node fixtures/http.js`).

mod bench;
mod classify;
mod node;
mod rate;
mod reload_keepalive;
mod servers;
