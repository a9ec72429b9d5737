'use strict';
// refpm's drain preload (refpm writes this file into its home and loads it with
// NODE_OPTIONS=--require; `--no-drain` or `drain: false` turns it off).
//
// A worker being replaced must not reset its clients' kept-alive connections. When one of the app's
// http/https servers is closed (Node's cluster `disconnect` on reload, or the app's own close) or the
// worker gets SIGINT:
//   * every response not yet started, and every request still arriving on a kept-alive connection, is
//     answered with `Connection: close`, after which Node ends that connection;
//   * a connection is closed by the server only when it has been idle (no response in progress, not a
//     byte read) for GRACE ms since the drain began;
//   * with no SIGINT listener of the app's own, the worker dies by SIGINT, as it would have, once its
//     connections are done (the manager's kill_timeout still bounds it);
//   * after a reload's cluster `disconnect` (the primary's, not the app's own) the worker stays up until
//     refpm's SIGINT comes, so the app's SIGINT handler runs as under PM2 (without this, a worker with
//     nothing else to do would end by itself once disconnected and its shutdown code would never run).
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

  /** http/https servers that have served a request */
  const servers = new Set();
  /** server -> { t0: drain start, sockets: Map socket -> { busyAt, readAt } } */
  const draining = new Map();
  /** http2 sessions still open */
  const sessions = new Set();
  let sweeper = null;
  let dying = false;
  /** a ref'd timer holding a disconnected worker up until SIGINT comes (see the end) */
  let awaitSigint = null;

  const now = () => performance.now();

  // The only per-request work: remember the server; once it drains, the response says close.
  dc.subscribe('http.server.request.start', (m) => {
    servers.add(m.server);
    if (draining.size !== 0 && draining.has(m.server)) m.response.shouldKeepAlive = false;
  });

  // Node's own connection list of an http/https server.
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
    if (draining.has(server)) return;
    const t0 = now();
    const sockets = new Map();
    draining.set(server, { t0, sockets });
    for (const socket of nodeConnections(server)) {
      sockets.set(socket, { busyAt: t0, readAt: socket.bytesRead });
      const res = socket._httpMessage;
      if (res && !res.headersSent) res.shouldKeepAlive = false;
    }
    if (!sweeper) {
      sweeper = setInterval(sweep, Math.max(5, Math.min(25, grace / 8)));
      sweeper.unref();
    }
  }

  // Closes the connections no request can be on: no response in progress and not a byte read for
  // `grace` ms, counted from the drain's start. Sampled every tick: a request that came and went
  // between two ticks moved bytesRead, so the connection counts as busy.
  function sweep() {
    const t = now();
    let left = 0;
    for (const [server, d] of draining) {
      for (const socket of nodeConnections(server)) {
        if (!d.sockets.has(socket)) d.sockets.set(socket, { busyAt: t, readAt: socket.bytesRead });
      }
      for (const [socket, st] of d.sockets) {
        if (socket.destroyed) {
          d.sockets.delete(socket);
          continue;
        }
        left += 1;
        if (socket._httpMessage || socket.bytesRead !== st.readAt || socket.readableLength !== 0) {
          st.busyAt = t;
          st.readAt = socket.bytesRead;
        } else if (t - st.busyAt >= grace) {
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
    for (const server of servers) n += nodeConnections(server).filter((s) => !s.destroyed).length;
    return n + sessions.size;
  }

  function onSigint() {
    dying = true;
    if (awaitSigint) clearTimeout(awaitSigint);
    awaitSigint = null;
    for (const server of servers) drain(server);
    closeSessions();
    // the app handles SIGINT itself: it decides when to exit; responses now say Connection: close
    if (process.listenerCount('SIGINT') > 1) return;
    // the app relies on the default action: close what it serves, then die by SIGINT as it would have
    for (const server of servers) {
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

  // The primary's `disconnect` (a reload) is an internal cluster message; once the channel is gone
  // Node would let a worker with nothing left to do end by itself, before refpm's SIGINT.
  let primaryDisconnect = false;
  process.on('internalMessage', (m) => {
    if (m && m.cmd === 'NODE_CLUSTER' && m.act === 'disconnect') primaryDisconnect = true;
  });
  process.on('disconnect', () => {
    if (!primaryDisconnect || awaitSigint) return;
    // bounded: refpm signals at once, and SIGKILLs at kill_timeout anyway
    awaitSigint = setTimeout(() => {}, 30000);
  });
})();
