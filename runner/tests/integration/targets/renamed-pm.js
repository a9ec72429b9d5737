'use strict';
// A PM2-compatible manager that spells everything differently: a real wrapper around refpm for the
// adapter test (`renamed-pm.adapter.toml` adapts it). Usage: node renamed-pm.js <refpm> <verb> [args…]
//
// verbs: launch, halt, bounce, refresh, remove, resize, ps --json, shutdown, version, logs; PM2's own
// names are rejected the way commander rejects an unknown command. `ps --json` prints
// {"procs": [{app, id, os: {pid}, state, mode, restarts, slot, vars}]} with its own status and mode
// words, the instance value in `slot`.
const { spawnSync } = require('child_process');

const [refpm, verb, ...rest] = process.argv.slice(2);
const VERBS = {
  launch: 'start',
  halt: 'stop',
  bounce: 'restart',
  refresh: 'reload',
  remove: 'delete',
  resize: 'scale',
  shutdown: 'kill',
  version: '--version',
  logs: 'logs',
};
const STATES = { online: 'up', stopped: 'down', errored: 'crashed' };
const MODES = { cluster_mode: 'workers', fork_mode: 'single' };

if (verb === 'ps') {
  if (rest[0] !== '--json') {
    console.error("error: ps needs '--json'");
    process.exit(1);
  }
  const r = spawnSync(refpm, ['jlist'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) process.exit(r.status === null ? 1 : r.status);
  const list = JSON.parse(r.stdout.slice(r.stdout.indexOf('[')));
  const procs = list.map((p) => {
    const env = Object.assign({}, p.pm2_env);
    const out = {
      app: p.name,
      id: p.pm_id,
      os: { pid: p.pid },
      state: STATES[env.status] || env.status,
      mode: MODES[env.exec_mode] || env.exec_mode,
      restarts: env.restart_time,
    };
    // the instance value lives in `slot`, whatever the variable is called
    const variable = env.instance_var || 'NODE_APP_INSTANCE';
    out.slot = env[variable] === undefined ? null : env[variable];
    // what PM2 keeps beside the variables lives only above
    for (const k of ['status', 'exec_mode', 'restart_time', 'name', variable]) delete env[k];
    out.vars = env;
    return out;
  });
  process.stdout.write('renamed-pm process table\n' + JSON.stringify({ procs }) + '\n');
  process.exit(0);
}

const real = VERBS[verb];
if (real === undefined) {
  console.error(`error: unknown command '${verb}'`);
  process.exit(1);
}
const r = spawnSync(refpm, [real, ...rest], { stdio: 'inherit' });
process.exit(r.status === null ? 1 : r.status);
