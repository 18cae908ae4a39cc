// A private Mosquitto for one test run: free ports, a temporary config, its log in memory.
//
//   const broker = await startBroker();          // or startBroker({ wsPort: 12345 })
//   startBroker({ settings: { max_queued_messages: 50000 } })   // other limits
//   broker.wsUrl                                  // 'ws://127.0.0.1:<wsPort>' for the page
//   broker.tcpPort                                // plain MQTT for the witness
//   await broker.waitForLog(/New client connected .* as (\S+)/, 5000);
//   await broker.stop();

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

/** A TCP port that was free on 127.0.0.1 a moment ago (bound to port 0, then released). */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Resolves true if something accepts a TCP connection on 127.0.0.1:port, false otherwise. */
export function portAccepts(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

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

function configText({ tcpPort, wsPort, logAll, settings }) {
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
 */
export async function startBroker({ logAll = true, tcpPort, wsPort, settings = {} } = {}) {
  // Ports picked here can be taken by someone else before Mosquitto binds them; if the
  // broker then fails to start, try again with fresh ones (fixed ports are tried once).
  const attempts = tcpPort && wsPort ? 1 : 3;
  let lastError;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const tcp = tcpPort ?? (await freePort());
    let ws = wsPort ?? (await freePort());
    while (ws === tcp) ws = await freePort();
    try {
      return await startOnce({ logAll, tcpPort: tcp, wsPort: ws, settings });
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function startOnce({ logAll, tcpPort, wsPort, settings }) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'eda-mosquitto-'));
  const confPath = path.join(dir, 'mosquitto.conf');
  await writeFile(confPath, configText({ tcpPort, wsPort, logAll, settings }));

  // Mosquitto writes its log with stdio, block-buffered into a pipe: without stdbuf the log
  // would arrive in 4 KiB lumps (or only at exit), too late for waitForLog.
  const command = stdbufPath()
    ? [stdbufPath(), '-oL', '-eL', mosquittoPath(), '-c', confPath]
    : [mosquittoPath(), '-c', confPath];
  const child = spawn(command[0], command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });

  // Never leave a broker behind, even when the test process dies on an uncaught error.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  let logText = '';
  const logListeners = new Set();
  const onData = (chunk) => {
    logText += chunk.toString('utf8');
    for (const listener of logListeners) listener();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);

  let exitInfo = null;
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      process.removeListener('exit', killOnExit);
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
    child.once('error', (error) => {
      process.removeListener('exit', killOnExit);
      exitInfo = { code: null, signal: null, error };
      resolve(exitInfo);
    });
  });

  const cleanupDir = () => rm(dir, { recursive: true, force: true });

  // Wait until both ports accept connections, or the broker exits, or the deadline passes.
  const deadline = Date.now() + START_TIMEOUT_MS;
  let ready = false;
  while (!exitInfo && Date.now() < deadline) {
    const [tcpOk, wsOk] = await Promise.all([portAccepts(tcpPort), portAccepts(wsPort)]);
    if (tcpOk && wsOk) {
      ready = true;
      break;
    }
    // Re-probe on the next log line (Mosquitto logs each listener it opens) or after 100 ms.
    await Promise.race([exited, nextLogLine(logListeners), delay(100)]);
  }
  if (!ready) {
    if (!exitInfo) {
      child.kill('SIGKILL');
      await exited;
    }
    await cleanupDir();
    const why = exitInfo?.error
      ? `could not run mosquitto: ${exitInfo.error.message}`
      : `mosquitto did not listen on tcp ${tcpPort} and ws ${wsPort} within ${START_TIMEOUT_MS} ms` +
        ` (exit code ${exitInfo?.code}, signal ${exitInfo?.signal})`;
    throw new Error(`${why}\n--- mosquitto log ---\n${logText}`);
  }

  const log = () => logText;

  /**
   * Resolves once the whole log so far matches: `test` is a RegExp (resolves with its match)
   * or a function of the log text returning something truthy (resolves with that).
   */
  const waitForLog = (test, timeoutMs = 10_000) =>
    new Promise((resolve, reject) => {
      const evaluate =
        typeof test === 'function'
          ? () => test(logText)
          : () => {
              test.lastIndex = 0;
              return test.exec(logText);
            };
      const check = () => {
        const match = evaluate();
        if (match) {
          finish();
          resolve(match);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`broker log did not match ${test} within ${timeoutMs} ms`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        logListeners.delete(check);
      };
      if (!check()) logListeners.add(check);
    });

  let stopping = null;
  const stop = () => {
    stopping ??= (async () => {
      if (!exitInfo) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      await cleanupDir();
    })();
    return stopping;
  };

  return {
    tcpPort,
    wsPort,
    wsUrl: `ws://127.0.0.1:${wsPort}`,
    pid: child.pid,
    log,
    waitForLog,
    stop,
    /** True once the process has exited. */
    get exited() {
      return exitInfo !== null;
    },
  };
}

function nextLogLine(listeners) {
  return new Promise((resolve) => {
    const once = () => {
      listeners.delete(once);
      resolve();
    };
    listeners.add(once);
  });
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
