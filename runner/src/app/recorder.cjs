'use strict';
// conform's recorder preload for `conform app`: loaded with NODE_OPTIONS=--require into the user's app
// (CommonJS or ES modules; cluster workers inherit it), it appends one JSON line per event to the file
// named by CONFORM_RECORD and changes nothing the app can observe: no signal handler is installed, the
// servers' own `emit` is wrapped, not replaced in behaviour. Only processes started by a manager (pm_id
// set) record, so a manager's own Node daemon and CLI stay silent. It is loaded twice over, through
// NODE_OPTIONS and `node_args` (PM2's cluster workers only get the latter); Node loads it once.
(function conformRecorder() {
  // PM2's cluster workers start with the app's variables packed in `pm2_env` (its ProcessContainer
  // unpacks them later); refpm and fork mode put them in the environment directly
  let packed = {};
  try {
    packed = process.env.pm2_env ? JSON.parse(process.env.pm2_env) : {};
  } catch (e) {
    packed = {};
  }
  const file = process.env.CONFORM_RECORD || packed.CONFORM_RECORD;
  const pmId = process.env.pm_id !== undefined ? process.env.pm_id : packed.pm_id;
  if (!file || pmId === undefined) return;
  const fs = require('fs');
  const net = require('net');
  const cluster = require('cluster');
  const { performance } = require('perf_hooks');
  let fd;
  try {
    fd = fs.openSync(file, 'a');
  } catch (e) {
    return;
  }
  const now = () => performance.timeOrigin + performance.now();
  const rec = (ev, fields) => {
    const line = JSON.stringify(Object.assign({ ev, pid: process.pid, t: now() }, fields)) + '\n';
    try {
      fs.writeSync(fd, line);
    } catch (e) {
      /* the record is best effort: never break the app */
    }
  };
  rec('start', {
    ppid: process.ppid,
    worker: cluster.isWorker === true,
    pm_id: String(pmId),
    node: process.version,
  });

  const open = new Map();
  // servers: listening, connections (by the client's port), requests started and finished
  const origEmit = net.Server.prototype.emit;
  net.Server.prototype.emit = function emit(ev, a, b) {
    try {
      if (ev === 'listening') {
        const addr = this.address();
        if (addr && typeof addr === 'object') {
          rec('listen', { address: addr.address, port: addr.port, family: addr.family });
        }
      } else if (ev === 'connection' && a && a.remotePort) {
        const rport = a.remotePort;
        rec('conn', { rport });
        open.set(a, rport);
        a.once('close', () => {
          if (open.delete(a)) rec('conn-end', { rport });
        });
      } else if (ev === 'request' && a && b) {
        const h = a.headers || {};
        const id = h['x-conform-id'] === undefined ? null : String(h['x-conform-id']);
        const sock = a.socket || a.connection || {};
        rec('req', { id, method: a.method, url: a.url, rport: sock.remotePort || null });
        let done = false;
        b.once('finish', () => {
          done = true;
          // whether the answer closed its connection (`Connection: close`): how the app drains
          rec('res', { id, status: b.statusCode, close: b._last === true || /close/i.test(String(b.getHeader('connection') || '')) });
        });
        b.once('close', () => {
          if (!done) rec('abort', { id });
        });
      }
    } catch (e) {
      /* never break the app */
    }
    return origEmit.apply(this, arguments);
  };

  // signals and messages the app handles (emit only runs when it has listeners), handlers it installs
  const SIGNALS = new Set(['SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGHUP', 'SIGUSR2']);
  const origProcEmit = process.emit;
  process.emit = function emit(ev, arg) {
    try {
      if (SIGNALS.has(ev)) rec('signal', { signal: ev });
      else if (ev === 'message') {
        rec('message', { data: typeof arg === 'string' ? arg : JSON.stringify(arg).slice(0, 200) });
      }
    } catch (e) {
      /* never break the app */
    }
    return origProcEmit.apply(this, arguments);
  };
  process.on('newListener', (ev) => {
    if (SIGNALS.has(ev) || ev === 'message') rec('handler', { on: ev });
  });
  process.on('exit', (code) => {
    // a connection the app destroyed whose 'close' event had no turn before the exit (e.g. exit from
    // the server.close callback) was closed by the app; one still open was cut by the exit
    for (const [sock, rport] of open) {
      if (sock.destroyed) rec('conn-end', { rport });
    }
    rec('exit', { code });
  });

  // `ready` sent to the manager
  if (typeof process.send === 'function') {
    const origSend = process.send;
    process.send = function send(msg) {
      if (msg === 'ready') rec('ready', {});
      return origSend.apply(this, arguments);
    };
  }

  // reads of NODE_APP_INSTANCE by the app (not by this preload, node internals or the manager's code)
  try {
    const env = process.env;
    let seen = false;
    process.env = new Proxy(env, {
      get(target, key) {
        if (key === 'NODE_APP_INSTANCE' && !seen) {
          const stack = (new Error().stack || '').split('\n').slice(2);
          const frame = stack.find((l) => !l.includes('node:internal') && !l.includes('/node_modules/pm2/'));
          if (frame) {
            seen = true;
            rec('instance-read', { value: target[key] === undefined ? null : target[key], at: frame.trim() });
          }
        }
        return target[key];
      },
      // plain assignments and deletes, as on process.env itself (the default traps would define
      // properties, which process.env refuses for partial descriptors)
      set(target, key, value) {
        target[key] = value;
        return true;
      },
      deleteProperty(target, key) {
        delete target[key];
        return true;
      },
    });
  } catch (e) {
    /* process.env not replaceable: reads go unrecorded */
  }
})();
