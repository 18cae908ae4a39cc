// A private Mosquitto for one test run: free ports, a temporary config, its log in memory.
//
//   const broker = await startBroker();          // or startBroker({ wsPort: 12345 })
//   startBroker({ settings: { max_queued_messages: 50000 } })   // other limits
//   startBroker({ acl: 'topic deny denied/#\ntopic readwrite #\n' })   // an acl_file
//   broker.wsUrl                                  // 'ws://127.0.0.1:<wsPort>' for the page
//   broker.tcpPort                                // plain MQTT for the witness
//   await broker.waitForLog(/New client connected .* as (\S+)/, 5000);
//   await broker.stop();

import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { freePort, portAccepts, spawnServer, withFreePorts } from './server-process.mjs';

// Kept here too: other modules import them from broker.mjs.
export { freePort, portAccepts };

/** The mosquitto executable: $EDA_MOSQUITTO, PATH, or Debian's /usr/sbin (not on users' PATH). */
export function mosquittoPath() {
  if (process.env.EDA_MOSQUITTO) return process.env.EDA_MOSQUITTO;
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const dir of [...dirs, '/usr/sbin', '/usr/local/sbin']) {
    const candidate = path.join(dir, 'mosquitto');
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(
    'mosquitto not found (PATH, /usr/sbin): install the Debian package "mosquitto" or set EDA_MOSQUITTO',
  );
}

function stdbufPath() {
  for (const candidate of ['/usr/bin/stdbuf', '/bin/stdbuf']) {
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

/** Limits written to every config unless `settings` overrides them. */
const DEFAULT_SETTINGS = {
  max_inflight_messages: 20,
  max_queued_messages: 10000,
};

function configText({ tcpPort, wsPort, logAll, settings, aclPath }) {
  const limits = Object.entries({ ...DEFAULT_SETTINGS, ...settings }).map(
    ([key, value]) => `${key} ${value}`,
  );
  return [
    '# Written by e2e/lib/broker.mjs for one test run.',
    `listener ${tcpPort} 127.0.0.1`,
    `listener ${wsPort}`,
    'protocol websockets',
    'allow_anonymous true',
    'persistence false',
    ...limits,
    ...(aclPath ? [`acl_file ${aclPath}`] : []),
    'log_dest stdout',
    logAll ? 'log_type all' : '# log_type all',
    '',
  ].join('\n');
}

/**
 * Starts Mosquitto on free ports (or the given ones) and resolves once both listeners accept
 * TCP connections.
 *
 * @param {object} [options]
 * @param {boolean} [options.logAll=true] log every packet (`log_type all`)
 * @param {number} [options.tcpPort] fixed port for the TCP listener (127.0.0.1)
 * @param {number} [options.wsPort] fixed port for the websockets listener
 * @param {Record<string, string | number>} [options.settings] general options of mosquitto.conf
 *   (e.g. `{ max_queued_messages: 50000 }`), written instead of the defaults of the same name
 * @param {string} [options.acl] the text of an ACL file (mosquitto.conf's `acl_file`), e.g.
 *   "topic deny denied/#\ntopic readwrite #\n"; without it every client may do anything
 */
export async function startBroker({ logAll = true, tcpPort, wsPort, settings = {}, acl } = {}) {
  return withFreePorts([tcpPort, wsPort], ([tcp, ws]) =>
    startOnce({ logAll, tcpPort: tcp, wsPort: ws, settings, acl }),
  );
}

async function startOnce({ logAll, tcpPort, wsPort, settings, acl }) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'eda-mosquitto-'));
  const confPath = path.join(dir, 'mosquitto.conf');
  const aclPath = acl === undefined ? undefined : path.join(dir, 'acl');
  if (aclPath) {
    // Started as root, Mosquitto reads the ACL only after dropping to its own user.
    await writeFile(aclPath, acl, { mode: 0o644 });
    await chmod(dir, 0o755);
  }
  await writeFile(confPath, configText({ tcpPort, wsPort, logAll, settings, aclPath }));

  // Mosquitto writes its log with stdio, block-buffered into a pipe: without stdbuf the log
  // would arrive in 4 KiB lumps (or only at exit), too late for waitForLog.
  const command = stdbufPath()
    ? [stdbufPath(), '-oL', '-eL', mosquittoPath(), '-c', confPath]
    : [mosquittoPath(), '-c', confPath];
  const server = await spawnServer({
    name: 'mosquitto',
    command,
    ready: async () => (await portAccepts(tcpPort)) && (await portAccepts(wsPort)),
    readyMeans: `listen on tcp ${tcpPort} and ws ${wsPort}`,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  });
  return {
    tcpPort,
    wsPort,
    wsUrl: `ws://127.0.0.1:${wsPort}`,
    pid: server.pid,
    log: server.log,
    waitForLog: server.waitForLog,
    stop: server.stop,
    /** True once the process has exited. */
    get exited() {
      return server.exited;
    },
  };
}
