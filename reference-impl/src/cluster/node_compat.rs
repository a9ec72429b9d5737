//! What refpm's cluster primary does differently because of one Node (or Bun) version: the one place
//! that says which runtime needs what, and why. The cluster wire protocol itself (`queryServer`,
//! `newconn`, `disconnect`, handle ACKs) did not change in Node 26: the sources embedded in the 24.22.3
//! and 26.12.1 binaries have the same `lib/internal/cluster/child.js`, `round_robin_handle.js`,
//! `shared_handle.js`, `lib/net.js`, and a `lib/internal/child_process.js` that only drops the
//! deprecated `ChildProcess._channel`. What changed is `lib/_http_server.js`'s native connection list.
//!
//! # Node 26: `server.close()` destroys connections that have not sent a request yet
//!
//! Since nodejs/node#63470 (merged 2026-05, in Node 26; 18–24 behave as before),
//! `http.Server.prototype.closeIdleConnections()` — which `server.close()` calls first — also destroys
//! connections that were accepted but have not sent any HTTP bytes yet. Before, such a connection
//! counted as active from accept until its first request completed, and `close()` let it be served.
//!
//! A round-robin worker gets `disconnect` from the primary on reload, and closes its servers. A
//! connection the primary handed to it just before (`newconn`, accepted) whose request bytes the worker
//! has not read yet — they are in the socket, or still on the way from the client — is now destroyed
//! by that `close()`. Measured with refpm before the fix: about 1 request in 2,500 reset during
//! `reload/under-load` on 26.12.1, none on 18.20.8, 20, 22.23.5 and 24.22.3. Node's own primary
//! (and so PM2) has the same race: it hands connections out until the worker is gone.
//!
//! The fix (in [`super::route`]): the primary keeps its own copy of every connection it hands to a worker
//! until the worker has read from it or written to it ([`super::uptake`]). While the primary holds
//! that copy, a worker closing its fd does not close the socket (no FIN, no RST reaches the client).
//! When the worker process is gone, connections it never read are handed to another worker, which
//! serves them; the client only sees the old worker's exit time added to its latency. Connections the
//! worker took are released at once, so holding costs nothing once a request is being read.
//!
//! It is applied on every Node version: the primary does not know a worker's version before it runs,
//! the check costs two syscalls per connection, and on older versions it also saves connections
//! handed to a worker that crashes before reading them.
//!
//! Not covered: `shared` policy (workers accept themselves; the primary never sees the connections)
//! and Unix socket servers (the kernel keeps no byte counts for them: [`super::uptake::Uptake::Unknown`]
//! releases at once, as before).

//! # Bun (measured with 1.4.5, which reports `process.versions.node` 26.3.0)
//!
//! Bun implements the worker side of `node:cluster` with its own framing on the json channel
//! ([`super::protocol::Dialect::Bun`]): every internal message starts with the byte `0x02` (the
//! channel's reader strips it and marks the peer as Bun; internal messages without it are ignored by
//! Bun), and a message carrying an fd is the message itself with `"$hasHandle":true` instead of Node's
//! `NODE_HANDLE` wrapper (a `NODE_HANDLE` line of type `net.Native` makes Bun fail with "failed to parse
//! handle"; one without `$hasHandle` reaches `onClusterConnection` without its fd and crashes the
//! worker). `NODE_HANDLE_ACK` is the same as Node's. With that framing `node:net` servers work in both
//! policies: `queryServer`, `newconn`, `disconnect` and `close` behave as in Node.
//!
//! Where it stops: Bun's `node:http` (and `Bun.serve`) server never sends `queryServer`: in a cluster
//! worker it binds the port itself with `SO_REUSEPORT` and only reports `listening`. Connections are then
//! spread by the kernel, never pass through refpm, and the hold above cannot apply; connections queued on
//! a replaced worker's listener when it closes are reset by Linux (unless `net.ipv4.tcp_migrate_req`).
//! Fork mode needs nothing special: user messages are plain JSON lines as in Node.

use std::time::Duration;

/// How long a connection handed to a *routable* worker is held at most when the worker neither reads
/// nor writes (a client that connected and sends nothing yet). Long enough to cover the reload race,
/// short enough that a worker which drops such a connection on purpose closes it soon.
pub const HOLD_ROUTABLE_MAX: Duration = Duration::from_secs(2);

/// How long a connection of a draining or dead worker is held at most: normally until the worker
/// exits (reload waits for that, then kills), this only bounds a worker that closed its server and
/// keeps running.
pub const HOLD_DRAINING_MAX: Duration = Duration::from_secs(30);

/// How often held connections are checked for uptake while any are held.
pub const HOLD_CHECK_EVERY: Duration = Duration::from_millis(2);
