'use strict';
// refpm's drain preload (refpm writes this file into its home and loads it with
// NODE_OPTIONS=--require; `--no-drain` or `drain: false` turns it off).
//
// A worker being replaced must not reset its clients' kept-alive connections. When one of the app's
// http/https servers is closed (Node's cluster `disconnect` on reload, or the app's own close) or the
// worker gets SIGINT:
//   * every response not yet started, and every request still arriving on a kept-alive connection, is
//     answered with `Connection: close`, after which Node ends that connection;
//   * a connection is closed by the server only when it has been idle (no request in progress, not a
//     byte read) for GRACE ms since the drain began or its last response, whichever is later;
//   * with no SIGINT listener of the app's own, the worker dies by SIGINT, as it would have, once its
//     connections are done (the manager's kill_timeout still bounds it).
// http2 sessions are closed with GOAWAY (session.close()), which lets open streams finish.
// Nothing else changes: no globals, process.argv untouched, the app's NODE_OPTIONS restored.
(function refpmDrain() {
  const env = process.env;
  const grace = Math.max(0, Number(env.REFPM_DRAIN_GRACE_MS) || 400);
  if ('REFPM_DRAIN_NODE_OPTIONS' in env) env.NODE_OPTIONS = env.REFPM_DRAIN_NODE_OPTIONS;
  else delete env.NODE_OPTIONS;
  delete env.REFPM_DRAIN_NODE_OPTIONS;
  delete env.REFPM_DRAIN_GRACE_MS;

  const dc = require('diagnostics_channel');
  const http = require('http');
  const https = require('https');
  const http2 = require('http2');

  /** server -> Set of its sockets seen with a request */
  const socketsOf = new Map();
  /** socket -> { active, idleAt, readAt } */
  const stateOf = new WeakMap();
  /** server -> drain start (ms) */
  const drainStart = new Map();
  /** http2 sessions still open */
  const sessions = new Set();
  let sweeper = null;
  let dying = false;

  const now = () => performance.now();

  function track(server, socket) {
    let set = socketsOf.get(server);
    if (!set) socketsOf.set(server, (set = new Set()));
    if (set.has(socket)) return;
    set.add(socket);
    socket.once('close', () => set.delete(socket));
  }

  function stateFor(socket) {
    let st = stateOf.get(socket);
    if (!st) stateOf.set(socket, (st = { active: 0, idleAt: now(), readAt: socket.bytesRead }));
    return st;
  }

  dc.subscribe('http.server.request.start', (m) => {
    track(m.server, m.socket);
    stateFor(m.socket).active += 1;
    // before the app's handler runs: the response will say `Connection: close`
    if (drainStart.has(m.server)) m.response.shouldKeepAlive = false;
  });
  dc.subscribe('http.server.response.finish', (m) => {
    const st = stateOf.get(m.socket);
    if (!st) return;
    st.active = Math.max(0, st.active - 1);
    st.idleAt = now();
    st.readAt = m.socket.bytesRead;
  });

  // Node's own connection list, for sockets that never carried a request we saw.
  function nodeConnections(server) {
    const sym = Object.getOwnPropertySymbols(server).find(
      (s) => s.description === 'http.server.connections',
    );
    const list = sym && server[sym];
    if (!list || typeof list.all !== 'function') return [];
    try {
      return list.all().map((c) => c.socket).filter(Boolean);
    } catch {
      return [];
    }
  }

  function drain(server) {
    if (drainStart.has(server)) return;
    const t0 = now();
    drainStart.set(server, t0);
    for (const socket of nodeConnections(server)) {
      track(server, socket);
      stateFor(socket);
    }
    for (const socket of socketsOf.get(server) || []) {
      const res = socket._httpMessage;
      if (res && !res.headersSent) res.shouldKeepAlive = false;
    }
    if (!sweeper) {
      sweeper = setInterval(sweep, Math.max(10, Math.min(50, grace / 4)));
      sweeper.unref();
    }
  }

  // Closes the sockets no request can be on: idle for `grace` since the drain and since their last
  // response, with nothing read since.
  function sweep() {
    const t = now();
    let left = 0;
    for (const [server, t0] of drainStart) {
      const set = socketsOf.get(server);
      if (!set) continue;
      for (const socket of set) {
        if (socket.destroyed) {
          set.delete(socket);
          continue;
        }
        left += 1;
        const st = stateFor(socket);
        const busy = st.active > 0 || socket._httpMessage || socket.bytesRead !== st.readAt;
        if (!busy && t - Math.max(t0, st.idleAt) >= grace && socket.readableLength === 0) {
          socket.destroy();
        }
      }
    }
    if (left === 0 && sweeper) {
      clearInterval(sweeper);
      sweeper = null;
    }
  }

  // Node's close() and the app's closeIdleConnections() start the drain instead of closing idle
  // connections at once (a request may already be on the wire on any of them).
  for (const S of [http.Server, https.Server]) {
    const proto = S && S.prototype;
    if (!proto || typeof proto.closeIdleConnections !== 'function') continue;
    Object.defineProperty(proto, 'closeIdleConnections', {
      configurable: true,
      writable: true,
      enumerable: false,
      value: { closeIdleConnections() { drain(this); } }.closeIdleConnections,
    });
  }

  // http2: track sessions of the servers the app creates; a drain sends GOAWAY to each.
  for (const name of ['createServer', 'createSecureServer']) {
    const orig = http2[name];
    if (typeof orig !== 'function') continue;
    const wrapped = {
      [name](...args) {
        const server = orig.apply(this, args);
        server.prependListener('session', (session) => {
          sessions.add(session);
          session.once('close', () => sessions.delete(session));
          if (dying) session.close();
        });
        server.prependOnceListener('close', () => closeSessions());
        const close = server.close;
        server.close = function close2(...a) {
          closeSessions();
          return close.apply(this, a);
        };
        return server;
      },
    }[name];
    Object.defineProperty(http2, name, { value: wrapped, writable: true, configurable: true, enumerable: true });
  }

  function closeSessions() {
    for (const s of sessions) {
      try {
        if (!s.closed && !s.destroyed) s.close();
      } catch {}
    }
  }

  function openSockets() {
    let n = 0;
    for (const set of socketsOf.values()) for (const s of set) if (!s.destroyed) n += 1;
    return n + sessions.size;
  }

  function onSigint() {
    dying = true;
    for (const server of socketsOf.keys()) drain(server);
    closeSessions();
    // the app handles SIGINT itself: it decides when to exit; responses now say Connection: close
    if (process.listenerCount('SIGINT') > 1) return;
    // the app relies on the default action: close what it serves, then die by SIGINT as it would have
    for (const server of socketsOf.keys()) {
      if (server.listening) server.close();
    }
    const die = () => {
      process.removeListener('SIGINT', onSigint);
      process.kill(process.pid, 'SIGINT');
    };
    if (openSockets() === 0) return die();
    const wait = setInterval(() => {
      sweep();
      if (openSockets() === 0) {
        clearInterval(wait);
        die();
      }
    }, 10);
  }
  process.on('SIGINT', onSigint);
})();
